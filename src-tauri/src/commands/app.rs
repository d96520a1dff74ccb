//! The app itself: version, data directory, which platform it talks to, and the window's
//! language.

use tauri::{Runtime, Webview};
use wxdesk_core::app_info::AppInfo;

use super::{CmdResult, ctx};

/// The window's language: errors from now on are rendered in it and the window's title is in it
/// (the UI calls this at start and on every switch).
#[tauri::command]
#[specta::specta]
pub fn set_language<R: Runtime>(webview: Webview<R>, lang: wxdesk_core::Lang) {
    crate::speak(&webview.window(), lang);
}

/// Version, data directory and sandbox/production mode of the running app.
#[tauri::command]
#[specta::specta]
pub async fn app_info<R: Runtime>(app: tauri::AppHandle<R>) -> CmdResult<AppInfo> {
    let version = app.package_info().version.to_string();
    Ok(ctx(&app).app_info(&version).await?)
}

/// The relay's deployment guide (docs/deploy/README.md, bilingual), bundled so 设置 can show it
/// beside the fields it explains.
#[tauri::command]
#[specta::specta]
pub fn deploy_guide() -> String {
    include_str!("../../../docs/deploy/README.md").to_owned()
}

/// Shows the main window, which starts hidden until its page has a first frame to show, titled
/// in the frame's language (the saved one). Called by index.html's first-frame script
/// (ui/src/layout/firstFrame.ts) once that frame is in the document; idempotent.
#[tauri::command]
#[specta::specta]
pub fn show_window<R: Runtime>(webview: Webview<R>, lang: wxdesk_core::Lang) {
    let window = webview.window();
    crate::speak(&window, lang);
    crate::show_main(&window, crate::ShownBy::FirstFrame);
}
