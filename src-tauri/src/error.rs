//! The shell's one error enum, and the `{code, message, hint}` shape it takes at the IPC boundary.
//!
//! The window never sees a Rust error's Debug text or a stack trace: only a stable `code` the UI
//! can switch on (exported to TypeScript), a Chinese message, and a hint of what to do next.

use std::path::PathBuf;

use serde::Serialize;

/// Everything that can go wrong in the shell itself (core errors will be mapped here too).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("WXDESK_MODE 的值「{value}」无效")]
    InvalidMode { value: String },
    #[error("无法使用数据目录 {path}")]
    DataDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("无法确定系统的应用数据目录")]
    NoDefaultDataDir(#[source] tauri::Error),
}

pub type Result<T> = std::result::Result<T, Error>;

/// A small, stable set of error kinds the UI can branch on. New variants are additive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// A setting (environment, config file) has a value the app cannot use.
    InvalidConfig,
    /// The data directory cannot be created, read or written.
    DataDir,
    /// A bug or an unexpected condition; the log in the data directory has details.
    Internal,
}

/// What a failed command returns to the window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct ShellError {
    pub code: ErrorCode,
    /// One line in Chinese saying what failed (no secrets, no internals).
    pub message: String,
    /// What the user can do about it, when there is something to do.
    pub hint: Option<String>,
}

impl From<Error> for ShellError {
    fn from(e: Error) -> Self {
        let message = e.to_string();
        let (code, hint) = match &e {
            Error::InvalidMode { .. } => (
                ErrorCode::InvalidConfig,
                "把环境变量 WXDESK_MODE 设为 sandbox 或 production，或删除它后重启。",
            ),
            Error::DataDir { .. } => (
                ErrorCode::DataDir,
                "检查该目录是否存在且可写，或用环境变量 WXDESK_DATA_DIR 指定另一个目录。",
            ),
            Error::NoDefaultDataDir(_) => (
                ErrorCode::DataDir,
                "用环境变量 WXDESK_DATA_DIR 指定一个可写的数据目录。",
            ),
        };
        ShellError {
            code,
            message,
            hint: Some(hint.to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_mode_serializes_to_the_documented_json_shape() {
        let e = ShellError::from(Error::InvalidMode {
            value: "prod".into(),
        });
        let json = serde_json::to_string(&e).unwrap_or_default();
        assert_eq!(
            json,
            r#"{"code":"invalid_config","message":"WXDESK_MODE 的值「prod」无效","hint":"把环境变量 WXDESK_MODE 设为 sandbox 或 production，或删除它后重启。"}"#
        );
    }

    #[test]
    fn data_dir_error_names_the_path_but_not_the_os_error_text() {
        let e = ShellError::from(Error::DataDir {
            path: PathBuf::from("/nope"),
            source: std::io::Error::new(std::io::ErrorKind::PermissionDenied, "secret detail"),
        });
        assert_eq!(e.code, ErrorCode::DataDir);
        assert_eq!(e.message, "无法使用数据目录 /nope");
    }
}
