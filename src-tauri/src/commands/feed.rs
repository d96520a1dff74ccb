//! The relay feed's parked events (an authorization, a cancellation or a 全网发布 test the app
//! could not apply yet, retried in the background) for the window's banner.

use tauri::Runtime;
use wxdesk_core::feed::parked::ParkedEvent;

use super::{CmdResult, ctx};

/// The events the feed parked, oldest first.
#[tauri::command]
#[specta::specta]
pub async fn feed_parked<R: Runtime>(app: tauri::AppHandle<R>) -> CmdResult<Vec<ParkedEvent>> {
    Ok(ctx(&app).services.parked_events().await?)
}
