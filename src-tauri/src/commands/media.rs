//! 上传封面: the customer-service mini-program card's cover, uploaded as the account's
//! temporary media (3 days) through core.

use tauri::Runtime;
use wxdesk_core::compose::CardCover;

use super::{CmdResult, ctx};

/// Uploads the image at `path` (picked in the file dialog) for `appid`; the card's
/// `thumb_media_id` and when it expires.
#[tauri::command]
#[specta::specta]
pub async fn media_upload_card_cover<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
    path: String,
) -> CmdResult<CardCover> {
    Ok(ctx(&app).compose.upload_card_cover(&appid, &path).await?)
}
