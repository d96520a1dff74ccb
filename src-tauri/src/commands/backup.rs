//! 备份与恢复: the encrypted workspace backup (database + keychain secrets) from 设置, and the
//! restore into an empty workspace (first start on a new computer), after which the app
//! restarts so every service starts from the restored state — `ctx.backup`.
//!
//! The passphrase crosses the IPC as a plain string; it is wrapped in the redacting `Secret` at
//! once, never logged, never returned, and these commands take no Debug-printed argument struct.

use std::path::Path;

use tauri::Runtime;
use wxdesk_core::backup::{BackupReport, BackupStatus};
use wxdesk_core::secrets::Secret;

use super::{CmdResult, ctx};

/// The data dir's contents and whether a restore may replace them.
#[tauri::command]
#[specta::specta]
pub async fn backup_status<R: Runtime>(app: tauri::AppHandle<R>) -> CmdResult<BackupStatus> {
    Ok(ctx(&app).backup.status().await?)
}

/// 导出加密备份 to `path` (chosen in the save dialog).
#[tauri::command]
#[specta::specta]
pub async fn backup_export<R: Runtime>(
    app: tauri::AppHandle<R>,
    passphrase: String,
    path: String,
) -> CmdResult<BackupReport> {
    let pass = Secret::new(passphrase);
    let backup = &ctx(&app).backup;
    Ok(backup.export(&pass, Path::new(&path)).await?)
}

/// 从备份恢复 into this (empty) workspace. The window then tells the user and calls
/// [`backup_restart`].
#[tauri::command]
#[specta::specta]
pub async fn backup_restore<R: Runtime>(
    app: tauri::AppHandle<R>,
    passphrase: String,
    path: String,
) -> CmdResult<BackupReport> {
    let pass = Secret::new(passphrase);
    let backup = &ctx(&app).backup;
    Ok(backup.restore(&pass, Path::new(&path)).await?)
}

/// Restarts the app, so the feed follower, the sandbox and the send engine start from the
/// restored workspace instead of the empty one they saw at start-up.
#[tauri::command]
#[specta::specta]
pub async fn backup_restart<R: Runtime>(app: tauri::AppHandle<R>) -> CmdResult<()> {
    tracing::info!("restarting after a restore");
    app.request_restart();
    Ok(())
}
