//! `media upload`: a customer-service mini-program card's cover (小程序卡片封面) as the account's
//! temporary media, over `ctx.compose.upload_card_cover`: the media id to use as
//! `thumb_media_id`, valid 3 days.

use std::path::{Path, PathBuf};

use clap::Subcommand;

use crate::error::Result;
use crate::out::Out;
use crate::session;

#[derive(Subcommand, Debug)]
pub enum MediaCmd {
    /// 上传小程序卡片的封面图片（临时素材，3 天有效），输出 media_id（即卡片的 thumb_media_id）
    #[command(
        after_help = "JPG 或 PNG，不超过 10 MB，建议 520×416。文件在发给微信前检查（空文件、过大、不是图片时退出码 1，一行说明，不上传）。
微信只保存临时素材 3 天：之后使用它的卡片会被拒绝（40007），请重新上传。

示例 / Examples:
  wxdesk-cli media upload wx0123456789abcdef ./cover.png
  wxdesk-cli --json media upload wx0123456789abcdef ./cover.png"
    )]
    Upload {
        /// 公众号或小程序 AppID（已授权给本平台）
        appid: String,
        /// 图片文件（JPG/PNG）
        file: PathBuf,
    },
}

pub async fn run(c: MediaCmd, dir: &Path, out: Out) -> Result<()> {
    let ctx = session::open(dir).await?;
    match c {
        MediaCmd::Upload { appid, file } => {
            let cover = ctx
                .compose
                .upload_card_cover(&appid, &file.to_string_lossy())
                .await?;
            out.emit(&cover, || {
                crate::outln!("media_id    {}", cover.media_id);
                crate::outln!("file        {}（{} 字节）", cover.file_name, cover.size);
                crate::outln!(
                    "expires_at  {}（3 天后失效，之后请重新上传）",
                    cover.expires_at
                );
            })
        }
    }
}
