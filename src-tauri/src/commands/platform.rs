//! 设置 and 体验沙箱: the platform settings (secrets write-only), 检测连接 (of the saved settings
//! and of a form before it is saved) and the in-process sandbox — `ctx.platform` and `ctx.services`.

use tauri::Runtime;
use tauri::ipc::Channel;
use wxdesk_core::platform::{CheckStep, SettingsForm, SettingsView};
use wxdesk_core::services::{SandboxInfo, SandboxStep};

use super::{CmdResult, ctx};

/// The platform settings (secrets masked).
#[tauri::command]
#[specta::specta]
pub async fn get_settings<R: Runtime>(app: tauri::AppHandle<R>) -> CmdResult<SettingsView> {
    Ok(ctx(&app).platform.load_settings().await?)
}

/// Saves a real platform's settings (mode 正式): refused while a job is sending; stops the
/// sandbox if it ran, and follows the new relay.
#[tauri::command]
#[specta::specta]
pub async fn save_settings<R: Runtime>(
    app: tauri::AppHandle<R>,
    form: SettingsForm,
) -> CmdResult<SettingsView> {
    Ok(ctx(&app).services.save_settings(form).await?)
}

/// 检测连接: relay + key, ticket and its age, component_access_token, IP whitelist.
#[tauri::command]
#[specta::specta]
pub async fn check_connection<R: Runtime>(app: tauri::AppHandle<R>) -> Vec<CheckStep> {
    ctx(&app).platform.check_connection().await
}

/// 检测连接 for the settings form before it is saved: 保存 runs it first and says what failed
/// before the mode changes. Secrets left empty are the saved ones.
#[tauri::command]
#[specta::specta]
pub async fn check_settings<R: Runtime>(
    app: tauri::AppHandle<R>,
    form: SettingsForm,
) -> CmdResult<Vec<CheckStep>> {
    Ok(ctx(&app).platform.check_candidate(form.into()).await?)
}

/// 体验沙箱: starts the simulator and relay in-process, configures everything for them, and
/// waits (up to ~10 s) for the first ticket so 授权账号 works right away.
#[tauri::command]
#[specta::specta]
pub async fn start_sandbox<R: Runtime>(
    app: tauri::AppHandle<R>,
    progress: Channel<SandboxStep>,
) -> CmdResult<SandboxInfo> {
    // A closed window is no reason to stop: progress is best effort.
    let progress = move |s| drop(progress.send(s));
    Ok(ctx(&app).services.use_sandbox(&progress).await?)
}

/// The running sandbox's addresses, `null` when it does not run.
#[tauri::command]
#[specta::specta]
pub async fn sandbox_info<R: Runtime>(app: tauri::AppHandle<R>) -> Option<SandboxInfo> {
    ctx(&app).services.sandbox().await
}
