//! What the app tells its window about itself: version, data directory, and whether it runs on
//! the built-in sandbox or on a real third-party platform.
//!
//! For now the mode comes from the environment (`WXDESK_MODE`); once the store exists, the
//! platform settings saved in the data directory decide it and this module reads them instead.

use std::ffi::OsString;
use std::path::PathBuf;

/// Environment variable that chooses the data directory (tests and portable installs use it).
pub const DATA_DIR_ENV: &str = "WXDESK_DATA_DIR";
/// Environment variable that forces the mode: `sandbox` or `production`.
pub const MODE_ENV: &str = "WXDESK_MODE";
/// The sandbox platform's component appid (shared with wxdesk-sim and the relay's sandbox).
pub const SANDBOX_COMPONENT_APPID: &str = "wx5a9d0c0e7f3b1a2c";

/// Which platform the app talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The embedded simulator with sandbox credentials: nothing leaves the machine.
    Sandbox,
    /// A real WeChat third-party platform.
    Production,
}

impl Mode {
    /// Reads a `WXDESK_MODE` value. Unset or blank means sandbox, because a new user starts
    /// there; any other value that names no mode is `None`, so the caller can refuse it rather
    /// than guess which platform the user meant.
    pub fn from_env_value(value: Option<&str>) -> Option<Mode> {
        match value.map(str::trim) {
            None | Some("") => Some(Mode::Sandbox),
            Some(v) if v.eq_ignore_ascii_case("sandbox") => Some(Mode::Sandbox),
            Some(v) if v.eq_ignore_ascii_case("production") => Some(Mode::Production),
            Some(_) => None,
        }
    }
}

/// The facts the shell reports through its `app_info` command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppInfo {
    pub version: String,
    pub data_dir: PathBuf,
    pub mode: Mode,
    /// The component appid of the platform in use; `None` while a real platform is not set up.
    pub platform_appid: Option<String>,
}

/// The data directory: `WXDESK_DATA_DIR` when it is set and not blank, else the OS default the
/// shell passes in (e.g. the per-user application data folder).
pub fn data_dir(env_value: Option<OsString>, os_default: PathBuf) -> PathBuf {
    match env_value {
        Some(v) if !v.to_string_lossy().trim().is_empty() => PathBuf::from(v),
        _ => os_default,
    }
}

/// Assembles [`AppInfo`]. The sandbox always has its fixed appid; a real platform has none until
/// the store can hold its settings.
pub fn app_info(version: &str, data_dir: PathBuf, mode: Mode) -> AppInfo {
    let platform_appid = match mode {
        Mode::Sandbox => Some(SANDBOX_COMPONENT_APPID.to_owned()),
        Mode::Production => None,
    };
    AppInfo {
        version: version.to_owned(),
        data_dir,
        mode,
        platform_appid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_or_blank_mode_means_sandbox() {
        assert_eq!(Mode::from_env_value(None), Some(Mode::Sandbox));
        assert_eq!(Mode::from_env_value(Some("  ")), Some(Mode::Sandbox));
    }

    #[test]
    fn mode_names_are_case_insensitive() {
        assert_eq!(
            Mode::from_env_value(Some("Production")),
            Some(Mode::Production)
        );
        assert_eq!(Mode::from_env_value(Some("SANDBOX")), Some(Mode::Sandbox));
    }

    #[test]
    fn unknown_mode_is_refused_not_guessed() {
        assert_eq!(Mode::from_env_value(Some("prod")), None);
    }

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

    #[test]
    fn sandbox_reports_the_sandbox_appid_and_production_none_yet() {
        let s = app_info("1.2.3", PathBuf::from("/d"), Mode::Sandbox);
        assert_eq!(s.platform_appid.as_deref(), Some("wx5a9d0c0e7f3b1a2c"));
        assert_eq!(s.version, "1.2.3");
        let p = app_info("1.2.3", PathBuf::from("/d"), Mode::Production);
        assert_eq!(p.platform_appid, None);
        assert_eq!(p.mode, Mode::Production);
    }
}
