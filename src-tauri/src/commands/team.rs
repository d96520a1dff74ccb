//! 设置 → 团队: this desk joins a team server, shows its membership, leaves — `core::team`.
//!
//! core::team works on the BASE data dir (the team workspace is `<base>/team`), not on
//! `ctx.data_dir`, which is the team workspace itself while joined. The context the app opened
//! at start stays on the workspace it was opened for: after a join or a leave the window tells
//! the user and calls [`team_restart`], so every service starts on the other workspace.
//!
//! The member key crosses the IPC as a plain string; it is wrapped in the redacting `Secret` at
//! once, goes to the team workspace's keychain, and is never logged or returned.

use tauri::{Manager, Runtime};
use wxdesk_core::secrets::Secret;
use wxdesk_core::team::{AuditPage, Membership, TeamStatus};

use super::{CmdResult, ctx};
use crate::state::AppState;

/// The team this desk belongs to, checked with the server now (`accepted` false and `problem`
/// when it refuses the key or cannot be reached); `None` when not joined.
#[tauri::command]
#[specta::specta]
pub async fn team_status<R: Runtime>(app: tauri::AppHandle<R>) -> CmdResult<Option<TeamStatus>> {
    let state = app.state::<AppState>();
    let secrets = state.team_secrets()?;
    Ok(wxdesk_core::team::status_with_secrets(&state.base_dir, secrets).await?)
}

/// The membership of the workspace this session works on (read from disk, no network): the
/// frame's header shows it on every page. `None` in the local workspace — also right after a
/// join, until the restart switches workspace.
#[tauri::command]
#[specta::specta]
pub async fn team_membership<R: Runtime>(
    app: tauri::AppHandle<R>,
) -> CmdResult<Option<Membership>> {
    Ok(wxdesk_core::team::membership_of(&ctx(&app).data_dir)?)
}

/// 加入团队: the server says who the key belongs to (a refused key changes nothing), then the
/// team workspace is set up beside the local one, which stays untouched.
#[tauri::command]
#[specta::specta]
pub async fn team_join<R: Runtime>(
    app: tauri::AppHandle<R>,
    server_url: String,
    member_key: String,
) -> CmdResult<Membership> {
    let key = Secret::new(member_key);
    let state = app.state::<AppState>();
    let secrets = state.team_secrets()?;
    Ok(wxdesk_core::team::join_with_secrets(&state.base_dir, &server_url, key, secrets).await?)
}

/// 离开团队: back to the local workspace; the team cache and the member key are removed (the
/// shared data stays on the server). `false` when the desk was not joined.
#[tauri::command]
#[specta::specta]
pub async fn team_leave<R: Runtime>(app: tauri::AppHandle<R>) -> CmdResult<bool> {
    let state = app.state::<AppState>();
    let secrets = state.team_secrets()?;
    Ok(wxdesk_core::team::leave_with_secrets(&state.base_dir, secrets).await?)
}

/// Restarts the app after a join or a leave, so the next start opens the other workspace.
#[tauri::command]
#[specta::specta]
pub async fn team_restart<R: Runtime>(app: tauri::AppHandle<R>) -> CmdResult<()> {
    tracing::info!("restarting to switch workspace");
    app.request_restart();
    Ok(())
}

/// 操作记录 (admins): the team's audit log, newest first, `limit` (1–500, default 100) entries
/// before `before`.
#[tauri::command]
#[specta::specta]
pub async fn team_audit<R: Runtime>(
    app: tauri::AppHandle<R>,
    before: Option<f64>,
    limit: Option<u32>,
) -> CmdResult<AuditPage> {
    // Ids cross the IPC as JS numbers; audit ids stay far below 2^53.
    let before = before.map(|b| b as i64);
    Ok(wxdesk_core::team::audit(&ctx(&app).platform, before, limit.unwrap_or(100)).await?)
}
