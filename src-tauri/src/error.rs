//! The shell's one error enum, and the `{code, message, hint, errcode}` shape every failed
//! command takes at the IPC boundary (core's errors convert straight into it with `?`).
//!
//! The window never sees a Rust error's Debug text or a stack trace: only a stable `code` the UI
//! can switch on (exported to TypeScript), a message and a hint of what to do next, in the
//! language the window speaks (set by the `set_language` command).

use std::path::PathBuf;
use std::sync::atomic::{AtomicU8, Ordering};

use serde::Serialize;
use wxdesk_core::{ErrorCode, Lang};

/// The window's language. One window per process, so one language: a process-wide setting is
/// the honest shape, and it lets `?` render core errors without threading state through.
static LANG: AtomicU8 = AtomicU8::new(0);

/// Messages from now on are rendered in `lang`.
pub fn set_lang(lang: Lang) {
    LANG.store(
        match lang {
            Lang::Zh => 0,
            Lang::En => 1,
        },
        Ordering::Relaxed,
    );
}

/// The language the window speaks now.
pub fn lang() -> Lang {
    match LANG.load(Ordering::Relaxed) {
        1 => Lang::En,
        _ => Lang::Zh,
    }
}

/// Everything that can go wrong in the shell itself (core errors will be mapped here too).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("无法使用数据目录 {path}")]
    DataDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("无法确定系统的应用数据目录")]
    NoDefaultDataDir(#[source] tauri::Error),
    /// The embedded authorization window could not be opened.
    #[error("无法打开授权窗口")]
    AuthWindow(#[source] tauri::Error),
    #[error("无法生成二维码：{0}")]
    Qr(String),
    /// Anything the core reports keeps the core's code, message and hint.
    #[error(transparent)]
    Core(#[from] wxdesk_core::Error),
}

pub type Result<T> = std::result::Result<T, Error>;

/// What a failed command returns to the window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct ShellError {
    pub code: ErrorCode,
    /// One line saying what failed, in the window's language (no secrets, no internals).
    pub message: String,
    /// What the user can do about it, when there is something to do.
    pub hint: Option<String>,
    /// WeChat's errcode when the error came from a WeChat answer (they all fit in 32 bits).
    pub errcode: Option<i32>,
}

impl Error {
    /// The shell's own failures in `lang` (core's render themselves).
    fn texts(&self, lang: Lang) -> (String, &'static str) {
        let en = lang == Lang::En;
        match self {
            Error::DataDir { path, .. } if en => (
                format!("Cannot use the data directory {}", path.display()),
                "Check that the directory exists and is writable, or name another one with WXDESK_DATA_DIR.",
            ),
            Error::DataDir { .. } => (
                self.to_string(),
                "检查该目录是否存在且可写，或用环境变量 WXDESK_DATA_DIR 指定另一个目录。",
            ),
            Error::NoDefaultDataDir(_) if en => (
                "The system's application data directory cannot be determined".into(),
                "Name a writable data directory with WXDESK_DATA_DIR.",
            ),
            Error::NoDefaultDataDir(_) => (
                self.to_string(),
                "用环境变量 WXDESK_DATA_DIR 指定一个可写的数据目录。",
            ),
            Error::AuthWindow(_) if en => (
                "The authorization window could not be opened".into(),
                "Authorize by QR code on a phone instead; the log in the data directory has details.",
            ),
            Error::AuthWindow(_) => (
                self.to_string(),
                "改用「发送到手机」扫码授权；数据目录中的日志有详情。",
            ),
            Error::Qr(detail) if en => (
                format!("The QR code could not be made: {detail}"),
                "Authorize in the window on this computer instead; the log in the data directory has details.",
            ),
            Error::Qr(_) => (
                self.to_string(),
                "改用「在本机扫码」授权；数据目录中的日志有详情。",
            ),
            // Rendered by `ShellError::from_core`.
            Error::Core(_) => (self.to_string(), ""),
        }
    }
}

impl ShellError {
    /// A core error in the window's language.
    pub fn from_core(e: &wxdesk_core::Error, lang: Lang) -> ShellError {
        ShellError {
            code: ErrorCode::of(e.code()),
            message: e.message(lang),
            hint: e.hint(lang),
            errcode: e.wechat_errcode().and_then(|c| i32::try_from(c).ok()),
        }
    }

    fn from_shell(e: &Error, lang: Lang) -> ShellError {
        if let Error::Core(core) = e {
            return ShellError::from_core(core, lang);
        }
        let code = match e {
            Error::DataDir { .. } | Error::NoDefaultDataDir(_) => ErrorCode::DataDir,
            _ => ErrorCode::Internal,
        };
        let (message, hint) = e.texts(lang);
        ShellError {
            code,
            message,
            hint: Some(hint.to_owned()),
            errcode: None,
        }
    }
}

impl From<Error> for ShellError {
    fn from(e: Error) -> Self {
        ShellError::from_shell(&e, lang())
    }
}

impl From<wxdesk_core::Error> for ShellError {
    fn from(e: wxdesk_core::Error) -> Self {
        ShellError::from_core(&e, lang())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_dir_error_names_the_path_but_not_the_os_error_text() {
        let e = ShellError::from_shell(
            &Error::DataDir {
                path: PathBuf::from("/nope"),
                source: std::io::Error::new(std::io::ErrorKind::PermissionDenied, "secret detail"),
            },
            Lang::Zh,
        );
        let json = serde_json::to_string(&e).unwrap_or_default();
        assert_eq!(
            json,
            r#"{"code":"data_dir","message":"无法使用数据目录 /nope","hint":"检查该目录是否存在且可写，或用环境变量 WXDESK_DATA_DIR 指定另一个目录。","errcode":null}"#
        );
    }

    #[test]
    fn core_errors_keep_their_code_message_and_hint_in_the_windows_language() {
        let core = wxdesk_core::Error::RelayUnauthorized;
        let zh = ShellError::from_core(&core, Lang::Zh);
        let json = serde_json::to_value(&zh).unwrap_or_default();
        assert_eq!(json["code"], "relay_unauthorized");
        assert_eq!(json["message"], core.to_string().as_str());
        assert_eq!(
            zh.hint,
            core.hint(Lang::Zh),
            "the core's hint is passed through"
        );
        assert_eq!(zh.errcode, None);

        let en = ShellError::from_core(&core, Lang::En);
        assert_eq!(en.code, ErrorCode::RelayUnauthorized);
        assert_eq!(en.message, core.message(Lang::En));
        assert!(
            en.message.contains("relay refused the key"),
            "{}",
            en.message
        );
        assert_eq!(en.hint, core.hint(Lang::En));
    }

    #[test]
    fn the_shells_own_errors_speak_english_too() {
        for e in [
            Error::DataDir {
                path: PathBuf::from("/nope"),
                source: std::io::Error::other("denied"),
            },
            Error::Qr("too long".into()),
        ] {
            let en = ShellError::from_shell(&e, Lang::En);
            let text = format!("{} {}", en.message, en.hint.unwrap_or_default());
            assert!(
                !text.chars().any(|c| ('\u{3000}'..='\u{9fff}').contains(&c)),
                "{text}"
            );
        }
    }
}
