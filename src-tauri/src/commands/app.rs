//! Tauri commands: one- or two-line adapters over wxdesk-core. Each one is listed in build.rs and
//! granted in capabilities/, and exported to `ui/src/bindings.ts` by [`crate::specta_builder`].

use serde::Serialize;
use tauri::{Manager, Runtime};
use wxdesk_core::app_info as core;

use crate::error::{Error, ShellError};
use crate::state::AppState;

/// Which platform the app talks to (see the header badge: 沙箱 / 正式).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "lowercase")]
pub enum AppMode {
    Sandbox,
    Production,
}

/// What the window needs to know about the running app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct AppInfo {
    pub version: String,
    pub data_dir: String,
    pub mode: AppMode,
    pub platform_appid: Option<String>,
}

impl From<core::AppInfo> for AppInfo {
    fn from(i: core::AppInfo) -> Self {
        AppInfo {
            version: i.version,
            data_dir: i.data_dir.to_string_lossy().into_owned(),
            mode: match i.mode {
                core::Mode::Sandbox => AppMode::Sandbox,
                core::Mode::Production => AppMode::Production,
            },
            platform_appid: i.platform_appid,
        }
    }
}

/// Version, data directory and sandbox/production mode of the running app.
#[tauri::command]
#[specta::specta]
pub fn app_info<R: Runtime>(app: tauri::AppHandle<R>) -> Result<AppInfo, ShellError> {
    let state = app.state::<AppState>();
    let mode_env = std::env::var(core::MODE_ENV).ok();
    Ok(read_app_info(
        &app.package_info().version.to_string(),
        &state,
        mode_env.as_deref(),
    )?)
}

/// The command's logic without a window, so it is testable as a plain function.
pub(crate) fn read_app_info(
    version: &str,
    state: &AppState,
    mode_env: Option<&str>,
) -> crate::error::Result<AppInfo> {
    let mode = core::Mode::from_env_value(mode_env).ok_or_else(|| Error::InvalidMode {
        value: mode_env.unwrap_or_default().to_owned(),
    })?;
    Ok(core::app_info(version, state.data_dir.clone(), mode).into())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn state() -> AppState {
        AppState {
            data_dir: PathBuf::from("/data/wxdesk"),
        }
    }

    #[test]
    fn default_mode_is_sandbox_with_the_sandbox_appid() {
        let info = read_app_info("0.1.0", &state(), None).ok();
        assert_eq!(
            info,
            Some(AppInfo {
                version: "0.1.0".into(),
                data_dir: "/data/wxdesk".into(),
                mode: AppMode::Sandbox,
                platform_appid: Some("wx5a9d0c0e7f3b1a2c".into()),
            })
        );
    }

    #[test]
    fn production_mode_serializes_lowercase_for_the_ui() {
        let info = read_app_info("0.1.0", &state(), Some("production"));
        let json = info
            .map(|i| serde_json::to_value(i).unwrap_or_default())
            .ok();
        assert_eq!(
            json,
            Some(serde_json::json!({
                "version": "0.1.0",
                "data_dir": "/data/wxdesk",
                "mode": "production",
                "platform_appid": null
            }))
        );
    }

    #[test]
    fn unknown_mode_is_an_invalid_config_error() {
        let err = read_app_info("0.1.0", &state(), Some("staging")).map_err(ShellError::from);
        assert_eq!(
            err.err().map(|e| e.code),
            Some(crate::error::ErrorCode::InvalidConfig)
        );
    }
}
