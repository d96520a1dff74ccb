//! 客服消息 recipients: the users whose customer-service window is open now, newest first, in
//! keyset pages (`ctx.interactions`, which the relay feed keeps current).

use tauri::Runtime;
use wxdesk_core::interactions::{WindowCursor, WindowPage};

use super::{CmdResult, ctx};

/// The users of `appid` whose customer-service window is open now, newest action first;
/// `limit` rows (1–500, default 200) after `after`.
#[tauri::command]
#[specta::specta]
pub async fn interactions_open<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
    after: Option<WindowCursor>,
    limit: Option<u32>,
) -> CmdResult<WindowPage> {
    let ctx = &ctx(&app);
    Ok(ctx.interactions.open(&appid, after, limit).await?)
}
