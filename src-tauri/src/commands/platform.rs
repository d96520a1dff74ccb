//! 设置 and 体验沙箱: the platform settings (secrets write-only), 检测连接, the start-up ticket
//! check and the in-process sandbox.

use serde::{Deserialize, Serialize};
use tauri::ipc::Channel;
use tauri::{Manager, Runtime};
use wxdesk_core::platform::{SettingsInput, SettingsView};
use wxdesk_core::secrets::Secret;
use wxdesk_core::store::settings::{Egress, Mode};

use crate::error::ShellError;
use crate::state::AppState;

/// How API calls reach WeChat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum EgressMode {
    /// Straight from this machine (its IP must be whitelisted).
    Direct,
    /// Through the relay (only the relay's IP is whitelisted).
    Relay,
}

impl From<Egress> for EgressMode {
    fn from(e: Egress) -> Self {
        match e {
            Egress::Direct => EgressMode::Direct,
            Egress::Relay => EgressMode::Relay,
        }
    }
}

impl From<EgressMode> for Egress {
    fn from(e: EgressMode) -> Self {
        match e {
            EgressMode::Direct => Egress::Direct,
            EgressMode::Relay => Egress::Relay,
        }
    }
}

/// The settings as the form shows them. Secrets are never sent back: only whether the keychain
/// holds one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct PlatformSettingsView {
    pub mode: crate::commands::app::AppMode,
    pub component_appid: String,
    pub relay_url: String,
    pub egress: EgressMode,
    pub appsecret_saved: bool,
    pub token_saved: bool,
    pub aes_key_saved: bool,
    pub relay_key_saved: bool,
}

impl From<SettingsView> for PlatformSettingsView {
    fn from(v: SettingsView) -> Self {
        let s = v.settings;
        PlatformSettingsView {
            mode: s.as_ref().map(|s| s.mode).into(),
            component_appid: s
                .as_ref()
                .map(|s| s.component_appid.clone())
                .unwrap_or_default(),
            relay_url: s.as_ref().map(|s| s.relay_url.clone()).unwrap_or_default(),
            egress: s.map(|s| s.egress).unwrap_or(Egress::Relay).into(),
            appsecret_saved: v.appsecret_saved,
            token_saved: v.token_saved,
            aes_key_saved: v.aes_key_saved,
            relay_key_saved: v.relay_key_saved,
        }
    }
}

/// What 保存 sends. A secret left `null` (or blank) keeps the one in the keychain.
#[derive(Debug, Clone, Deserialize, specta::Type)]
pub struct PlatformSettingsForm {
    pub component_appid: String,
    pub relay_url: String,
    pub egress: EgressMode,
    pub component_appsecret: Option<String>,
    pub component_token: Option<String>,
    pub component_aes_key: Option<String>,
    pub relay_key: Option<String>,
}

fn secret(v: Option<String>) -> Option<Secret> {
    v.filter(|s| !s.trim().is_empty())
        .map(|s| Secret::new(s.trim().to_owned()))
}

/// The platform settings (secrets masked).
#[tauri::command]
#[specta::specta]
pub async fn get_settings<R: Runtime>(
    app: tauri::AppHandle<R>,
) -> Result<PlatformSettingsView, ShellError> {
    let state = app.state::<AppState>();
    Ok(state
        .ctx
        .platform
        .load_settings()
        .await
        .map_err(crate::Error::from)?
        .into())
}

/// Saves a real platform's settings (mode 正式): stops the sandbox if it ran, and follows the
/// new relay.
#[tauri::command]
#[specta::specta]
pub async fn save_settings<R: Runtime>(
    app: tauri::AppHandle<R>,
    form: PlatformSettingsForm,
) -> Result<PlatformSettingsView, ShellError> {
    let state = app.state::<AppState>();
    let sending = app.state::<super::send::SendState>();
    let change = sending.begin_settings_change().await?;
    let view = state
        .ctx
        .platform
        .save_settings(SettingsInput {
            mode: Mode::Production,
            component_appid: form.component_appid,
            relay_url: form.relay_url,
            egress: form.egress.into(),
            api_base: None,
            component_appsecret: secret(form.component_appsecret),
            component_token: secret(form.component_token),
            component_aes_key: secret(form.component_aes_key),
            relay_key: secret(form.relay_key),
        })
        .await
        .map_err(crate::Error::from)?;
    state.stop_sandbox().await;
    drop(change);
    state.restart_feed(&app).await.map_err(crate::Error::from)?;
    Ok(view.into())
}

/// One line of 检测连接.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct CheckStep {
    pub name: String,
    pub ok: bool,
    /// Not run because an earlier step failed.
    pub skipped: bool,
    pub detail: String,
    pub hint: Option<String>,
}

/// 检测连接: relay + key, ticket and its age, component_access_token, IP whitelist.
#[tauri::command]
#[specta::specta]
pub async fn check_connection<R: Runtime>(app: tauri::AppHandle<R>) -> Vec<CheckStep> {
    let state = app.state::<AppState>();
    state
        .ctx
        .platform
        .check_connection()
        .await
        .into_iter()
        .map(|s| CheckStep {
            name: s.name,
            ok: s.ok,
            skipped: s.skipped,
            detail: s.detail,
            hint: s.hint,
        })
        .collect()
}

/// The relay's ticket state; when it has none, WeChat has just been asked to push one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct TicketStatus {
    pub present: bool,
    /// Seconds since the relay received it (fits easily in 32 bits: a ticket lives 12 h).
    pub age_secs: Option<i32>,
    pub push_requested: bool,
    pub message: String,
}

/// On start (and from 设置): make sure a component_verify_ticket is at the relay.
#[tauri::command]
#[specta::specta]
pub async fn ensure_ticket<R: Runtime>(
    app: tauri::AppHandle<R>,
) -> Result<TicketStatus, ShellError> {
    let state = app.state::<AppState>();
    let t = state
        .ctx
        .platform
        .ensure_ticket()
        .await
        .map_err(crate::Error::from)?;
    Ok(TicketStatus {
        present: t.present,
        age_secs: t.age_secs.and_then(|a| i32::try_from(a).ok()),
        push_requested: t.push_requested,
        message: t.message,
    })
}

/// Steps of 体验沙箱, streamed to the welcome screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum SandboxStep {
    /// Starting the simulator and the relay.
    Starting,
    /// Both run; waiting for the first component_verify_ticket.
    WaitingTicket,
    /// Ready: the ticket is at the relay.
    Ready,
}

/// Where the sandbox's servers listen (loopback).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct SandboxInfo {
    pub sim_url: String,
    pub relay_url: String,
}

/// 体验沙箱: starts the simulator and relay in-process, configures everything for them, and
/// waits (up to ~10 s) for the first ticket so 授权账号 works right away.
#[tauri::command]
#[specta::specta]
pub async fn start_sandbox<R: Runtime>(
    app: tauri::AppHandle<R>,
    progress: Channel<SandboxStep>,
) -> Result<SandboxInfo, ShellError> {
    let state = app.state::<AppState>();
    // A closed window is no reason to stop: progress is best effort.
    let _ = progress.send(SandboxStep::Starting);
    // Starting the sandbox switches the settings to it; one already running changes nothing.
    let sending = app.state::<super::send::SendState>();
    let change = if state.sandbox_urls().await.is_none() {
        Some(sending.begin_settings_change().await?)
    } else {
        None
    };
    let urls = state
        .start_sandbox(&app)
        .await
        .map_err(crate::Error::from)?;
    drop(change);
    let _ = progress.send(SandboxStep::WaitingTicket);
    state.wait_for_ticket().await;
    let _ = progress.send(SandboxStep::Ready);
    Ok(SandboxInfo {
        sim_url: urls.sim_url,
        relay_url: urls.relay_url,
    })
}

/// The running sandbox's addresses, `null` when it does not run.
#[tauri::command]
#[specta::specta]
pub async fn sandbox_info<R: Runtime>(app: tauri::AppHandle<R>) -> Option<SandboxInfo> {
    let state = app.state::<AppState>();
    state.sandbox_urls().await.map(|u| SandboxInfo {
        sim_url: u.sim_url,
        relay_url: u.relay_url,
    })
}
