//! `mini session`: a mini program's `wx.login` code → the user's openid and unionid, through the
//! platform (component jscode2session) over `ctx.mini`. The session_key is never printed.

use std::path::Path;

use clap::Subcommand;

use crate::error::Result;
use crate::out::Out;
use crate::session;

#[derive(Subcommand, Debug)]
pub enum MiniCmd {
    /// 用小程序 wx.login 得到的 code 换取用户的 openid 与 unionid（第三方平台代小程序调用；不显示 session_key）
    #[command(
        after_help = "code 只能用一次，约 5 分钟内有效（40029 无效、40163 已被使用）。
有 unionid 时，可用它在同主体公众号的粉丝中找到同一个人（lists create --bridge）。

示例 / Examples:
  wxdesk-cli mini session wx0123456789abcdef --code 0a3Xy…
  wxdesk-cli --json mini session wx0123456789abcdef --code 0a3Xy…"
    )]
    Session {
        /// 小程序 AppID（已授权给本平台）
        mini_appid: String,
        /// wx.login 返回的 code
        #[arg(long = "code", value_name = "JS_CODE")]
        code: String,
    },
}

pub async fn run(c: MiniCmd, dir: &Path, out: Out) -> Result<()> {
    let ctx = session::open(dir).await?;
    match c {
        MiniCmd::Session { mini_appid, code } => {
            let s = ctx.mini.session(&mini_appid, &code).await?;
            out.emit(&s, || {
                crate::outln!("openid   {}", s.openid);
                match &s.unionid {
                    Some(u) => crate::outln!("unionid  {u}"),
                    None => crate::outln!(
                        "unionid  （无：该小程序未绑定到微信开放平台帐号，微信不返回 unionid）"
                    ),
                }
            })
        }
    }
}
