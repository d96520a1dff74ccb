//! 上传封面: the cover image of a customer-service mini-program card (小程序卡片). WeChat wants it
//! as a temporary media id (`thumb_media_id`), which staff never have: the composer picks an
//! image file and this uploads it for the account, through the account's gateway (so through
//! the relay when egress goes there, with the same token refresh and retries as other calls).
//! WeChat keeps the id 3 days; after that a card using it is refused with 40007 (explained as
//! "upload the cover again").

use std::path::Path;
use std::sync::Arc;

use serde::Serialize;
use wxdesk_wechat::api::{IMAGE_MAX_BYTES, ImageRefusal, MEDIA_TTL_SECS, check_image};

use super::Compose;
use crate::error::{Error, Result};

/// An uploaded cover.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CardCover {
    /// The `thumb_media_id` for the card.
    pub media_id: String,
    /// The picked file's name (for the form to show).
    pub file_name: String,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub size: u64,
    /// Unix seconds, as WeChat answered (now when it gave none).
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub created_at: i64,
    /// When WeChat forgets it (3 days later): upload again after this.
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub expires_at: i64,
}

fn refused(r: ImageRefusal) -> Error {
    Error::input(
        format!("{}。{}", r.zh(), r.hint_zh()),
        format!("{}. {}", r.en(), r.hint_en()),
    )
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The image at `path`, refused before any request when WeChat would refuse it. The size is
/// checked before reading, so a huge file picked by mistake is not read into memory.
async fn read_image(path: &Path) -> Result<Vec<u8>> {
    let unreadable = |e: std::io::Error| {
        Error::input(
            format!("无法读取图片文件 {}：{e}", path.display()),
            format!("Cannot read the image file {}: {e}", path.display()),
        )
    };
    let meta = tokio::fs::metadata(path).await.map_err(unreadable)?;
    if !meta.is_file() {
        return Err(Error::input(
            format!("{} 不是文件：请选择一张 JPG 或 PNG 图片", path.display()),
            format!(
                "{} is not a file: choose a JPG or PNG image",
                path.display()
            ),
        ));
    }
    let len = usize::try_from(meta.len()).unwrap_or(usize::MAX);
    if len > IMAGE_MAX_BYTES {
        return Err(refused(ImageRefusal::TooLarge { len }));
    }
    let bytes = tokio::fs::read(path).await.map_err(unreadable)?;
    check_image(&bytes).map_err(refused)?;
    Ok(bytes)
}

impl Compose {
    /// Uploads the image at `path` as account `appid`'s temporary media and returns its media
    /// id for a mini-program card's cover, with when it expires.
    pub async fn upload_card_cover(&self, appid: &str, path: &str) -> Result<CardCover> {
        let path = Path::new(path.trim());
        let bytes = Arc::new(read_image(path).await?);
        let api = self.platform.api().await?;
        let m = crate::gateway::call(&api, appid, |c, t| {
            let bytes = Arc::clone(&bytes);
            async move { c.upload_image(&t, &bytes).await }
        })
        .await?;
        let created_at = if m.created_at > 0 {
            m.created_at
        } else {
            now()
        };
        Ok(CardCover {
            media_id: m.media_id,
            file_name: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            size: bytes.len() as u64,
            created_at,
            expires_at: created_at + MEDIA_TTL_SECS,
        })
    }
}

#[cfg(test)]
mod tests;
