//! The app itself: version, data directory, which platform it talks to, and the window's
//! language.

use tauri::{Manager, Runtime};
use wxdesk_core::app_info::AppInfo;

use crate::error::ShellError;
use crate::state::AppState;

/// The window's language: errors from now on are rendered in it (the UI calls this at start and
/// on every switch).
#[tauri::command]
#[specta::specta]
pub fn set_language(lang: wxdesk_core::Lang) {
    crate::error::set_lang(lang);
}

/// Version, data directory and sandbox/production mode of the running app.
#[tauri::command]
#[specta::specta]
pub async fn app_info<R: Runtime>(app: tauri::AppHandle<R>) -> Result<AppInfo, ShellError> {
    let version = app.package_info().version.to_string();
    Ok(app.state::<AppState>().ctx.app_info(&version).await?)
}
