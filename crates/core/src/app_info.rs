//! What a face tells about itself: version, data directory, and whether it runs on the built-in
//! sandbox, on a real third-party platform, or on nothing yet (the platform settings saved in
//! the data dir decide).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::Result;
use crate::platform::{Mode, Platform};

/// Environment variable that chooses the data directory (tests and portable installs use it).
pub const DATA_DIR_ENV: &str = "WXDESK_DATA_DIR";

/// Which platform the app talks to (the header badge: 沙箱 / 正式; nothing yet → 体验沙箱 offer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AppInfo {
    pub version: String,
    pub data_dir: String,
    pub mode: AppMode,
    /// The configured component appid; `None` until a platform is set up.
    pub platform_appid: Option<String>,
}

/// The app's facts: `version` is the face's own, the rest comes from the data dir.
pub async fn read(platform: &Platform, data_dir: &Path, version: &str) -> Result<AppInfo> {
    let settings = platform.load_settings().await?.settings;
    Ok(AppInfo {
        version: version.to_owned(),
        data_dir: data_dir.to_string_lossy().into_owned(),
        mode: settings.as_ref().map(|s| s.mode).into(),
        platform_appid: settings.map(|s| s.component_appid),
    })
}

/// The data directory: `WXDESK_DATA_DIR` when it is set and not blank, else the OS default the
/// face passes in (e.g. the per-user application data folder).
pub fn data_dir(env_value: Option<OsString>, os_default: PathBuf) -> PathBuf {
    match env_value {
        Some(v) if !v.to_string_lossy().trim().is_empty() => PathBuf::from(v),
        _ => os_default,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::{Egress, SettingsInput};
    use crate::secrets::{Secret, Secrets};
    use crate::store::Store;

    #[test]
    fn env_data_dir_wins_over_os_default_unless_blank() {
        let os = PathBuf::from("/os/default");
        assert_eq!(
            data_dir(Some(OsString::from("/tmp/x")), os.clone()),
            PathBuf::from("/tmp/x")
        );
        assert_eq!(data_dir(Some(OsString::from(" ")), os.clone()), os);
        assert_eq!(data_dir(None, os.clone()), os);
    }

    #[tokio::test]
    async fn a_fresh_data_dir_is_unconfigured_and_saved_settings_say_production_and_the_appid() {
        let platform = Platform::new(Store::open_in_memory().unwrap(), Secrets::memory());
        let dir = Path::new("/data/wxdesk");
        let info = read(&platform, dir, "0.1.0").await.unwrap();
        assert_eq!(
            info,
            AppInfo {
                version: "0.1.0".into(),
                data_dir: "/data/wxdesk".into(),
                mode: AppMode::Unconfigured,
                platform_appid: None,
            }
        );
        assert_eq!(serde_json::to_value(info.mode).unwrap(), "unconfigured");

        platform
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
        let info = read(&platform, dir, "0.1.0").await.unwrap();
        assert_eq!(info.mode, AppMode::Production);
        assert_eq!(info.platform_appid.as_deref(), Some("wx0123456789abcdef"));
        assert_eq!(serde_json::to_value(info.mode).unwrap(), "production");
    }
}
