//! The app itself: version, data directory, which platform it talks to.

use serde::Serialize;
use tauri::{Manager, Runtime};
use wxdesk_core::store::settings::Mode;

use crate::error::ShellError;
use crate::state::AppState;

/// Which platform the app talks to (the header badge: 沙箱 / 正式; nothing yet → 体验沙箱 offer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "lowercase")]
pub enum AppMode {
    Sandbox,
    Production,
    /// First start: no platform settings saved yet.
    Unconfigured,
}

impl From<Option<Mode>> for AppMode {
    fn from(m: Option<Mode>) -> Self {
        match m {
            Some(Mode::Sandbox) => AppMode::Sandbox,
            Some(Mode::Production) => AppMode::Production,
            None => AppMode::Unconfigured,
        }
    }
}

/// What the window needs to know about the running app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct AppInfo {
    pub version: String,
    pub data_dir: String,
    pub mode: AppMode,
    /// The configured component appid; `None` until a platform is set up.
    pub platform_appid: Option<String>,
}

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
    let state = app.state::<AppState>();
    let version = app.package_info().version.to_string();
    Ok(read_app_info(&version, &state).await?)
}

/// The command's logic without a window, so it is testable as a plain function.
pub(crate) async fn read_app_info(
    version: &str,
    state: &AppState,
) -> crate::error::Result<AppInfo> {
    let settings = state.ctx.platform.load_settings().await?.settings;
    Ok(AppInfo {
        version: version.to_owned(),
        data_dir: state.data_dir.to_string_lossy().into_owned(),
        mode: settings.as_ref().map(|s| s.mode).into(),
        platform_appid: settings.map(|s| s.component_appid),
    })
}

#[cfg(test)]
mod tests {
    use wxdesk_core::context::Context;
    use wxdesk_core::platform::SettingsInput;
    use wxdesk_core::secrets::{Secret, Secrets};
    use wxdesk_core::store::settings::Egress;

    use super::*;

    async fn state(dir: &std::path::Path) -> AppState {
        let ctx = Context::open_with_secrets(dir, Secrets::memory())
            .await
            .unwrap();
        AppState::new(dir.to_path_buf(), ctx)
    }

    #[tokio::test]
    async fn a_fresh_data_dir_is_unconfigured_without_an_appid() {
        let dir = tempfile::tempdir().unwrap();
        let info = read_app_info("0.1.0", &state(dir.path()).await)
            .await
            .unwrap();
        assert_eq!(
            info,
            AppInfo {
                version: "0.1.0".into(),
                data_dir: dir.path().to_string_lossy().into_owned(),
                mode: AppMode::Unconfigured,
                platform_appid: None,
            }
        );
        assert_eq!(serde_json::to_value(info.mode).unwrap(), "unconfigured");
    }

    #[tokio::test]
    async fn saved_production_settings_report_production_and_their_appid() {
        let dir = tempfile::tempdir().unwrap();
        let st = state(dir.path()).await;
        st.ctx
            .platform
            .save_settings(SettingsInput {
                mode: Mode::Production,
                component_appid: "wx0123456789abcdef".into(),
                relay_url: "https://relay.example.com".into(),
                egress: Egress::Relay,
                api_base: None,
                component_appsecret: Some(Secret::new("s")),
                component_token: None,
                component_aes_key: None,
                relay_key: None,
            })
            .await
            .unwrap();
        let info = read_app_info("0.1.0", &st).await.unwrap();
        assert_eq!(info.mode, AppMode::Production);
        assert_eq!(info.platform_appid.as_deref(), Some("wx0123456789abcdef"));
        assert_eq!(serde_json::to_value(info.mode).unwrap(), "production");
    }
}
