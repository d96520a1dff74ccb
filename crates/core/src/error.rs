//! The one error type of wxdesk-core. Messages are Chinese first (the UI shows them as they are)
//! and never carry a secret: keychain and HTTP errors are reduced to what is safe to show.

use std::fmt;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Which part of the platform configuration is missing; shown to the user as a next step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    ComponentAppid,
    ComponentAppsecret,
    RelayUrl,
    RelayKey,
    Ticket,
}

impl fmt::Display for Missing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Missing::ComponentAppid => "第三方平台 AppID（component appid）",
            Missing::ComponentAppsecret => "第三方平台 AppSecret",
            Missing::RelayUrl => "中继地址（relay URL）",
            Missing::RelayKey => "中继密钥（relay key）",
            Missing::Ticket => "component_verify_ticket（中继尚未收到）",
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("数据库错误：{0}")]
    Db(#[from] rusqlite::Error),

    #[error(
        "数据库由更新版本的 wxdesk 写入（架构版本 {found}，本程序最高支持 {supported}）。为避免损坏数据，拒绝打开；请升级 wxdesk。"
    )]
    SchemaTooNew { found: i64, supported: i64 },

    #[error("数据库迁移 {version}（{name}）失败：{source}")]
    Migration {
        version: i64,
        name: &'static str,
        source: rusqlite::Error,
    },

    #[error("无法创建数据目录 {path}：{source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },

    /// Only the keyring error's kind is kept: some of its variants carry the stored bytes.
    #[error("系统钥匙串不可用：{0}")]
    Keychain(String),

    #[error("尚未配置：{0}")]
    NotConfigured(Missing),

    #[error("中继请求失败：{0}")]
    RelayHttp(String),

    #[error("中继拒绝了密钥（HTTP 401），请检查设置中的中继密钥")]
    RelayUnauthorized,

    #[error("中继返回错误 HTTP {status}：{message}")]
    RelayStatus { status: u16, message: String },

    #[error("中继返回的数据无法解析：{0}")]
    RelayBody(String),

    #[error(transparent)]
    WeChat(#[from] wxdesk_wechat::Error),

    #[error("账号 {0} 不存在")]
    AccountNotFound(String),

    #[error("{0}")]
    Invalid(String),

    #[error("沙箱启动失败：{0}")]
    Sandbox(String),

    #[error("后台任务异常结束")]
    TaskPanicked,

    /// Mini-program code management (its own zh/en messages and hints).
    #[error("{0}")]
    Code(crate::code::CodeError),
}

/// What the shell and the CLI show for an error: `{ code, message, hint, errcode }`. The
/// message is the Chinese `Display`; no secret is ever part of it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ErrorDto {
    pub code: &'static str,
    pub message: String,
    pub hint: Option<String>,
    /// WeChat's errcode when the error came from a WeChat answer.
    pub errcode: Option<i64>,
}

impl From<&Error> for ErrorDto {
    fn from(e: &Error) -> Self {
        ErrorDto {
            code: e.code(),
            message: e.to_string(),
            hint: e.hint(),
            errcode: e.wechat_errcode(),
        }
    }
}

impl Error {
    /// A stable machine-readable code for the shell's `{ code, message, hint }` JSON.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Db(_) | Error::Migration { .. } => "db",
            Error::SchemaTooNew { .. } => "schema_too_new",
            Error::DataDir { .. } => "data_dir",
            Error::Keychain(_) => "keychain",
            Error::NotConfigured(_) => "not_configured",
            Error::RelayHttp(_) | Error::RelayStatus { .. } | Error::RelayBody(_) => "relay",
            Error::RelayUnauthorized => "relay_unauthorized",
            Error::WeChat(_) => "wechat",
            Error::AccountNotFound(_) => "account_not_found",
            Error::Invalid(_) => "invalid",
            Error::Sandbox(_) => "sandbox",
            Error::TaskPanicked => "internal",
            Error::Code(e) => e.code(),
        }
    }

    /// What the user can do about it, in Chinese; `None` when the message says it all.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::SchemaTooNew { .. } => Some("升级到最新版本的 wxdesk 后再打开此数据目录。".into()),
            Error::Keychain(_) => Some(
                "请确认系统钥匙串已解锁（Linux：gnome-keyring 或 KWallet 的 Secret Service 正在运行）。".into(),
            ),
            Error::NotConfigured(_) => Some("在「设置」中填写并保存平台信息，或选择「体验沙箱」。".into()),
            Error::RelayHttp(_) => Some("检查中继地址是否正确、中继是否在运行、本机网络是否可达。".into()),
            Error::RelayUnauthorized => Some("在「设置」中重新填写中继密钥（与中继配置的 api_key 一致）。".into()),
            Error::WeChat(e) => wechat_hint(e),
            Error::Code(e) => Some(e.hint_zh().into()),
            _ => None,
        }
    }

    /// The WeChat errcode when this error came from a WeChat API answer.
    pub fn wechat_errcode(&self) -> Option<i64> {
        match self {
            Error::WeChat(e) => e.wechat().map(|w| w.errcode),
            _ => None,
        }
    }
}

fn wechat_hint(e: &wxdesk_wechat::Error) -> Option<String> {
    e.wechat()
        .and_then(|w| w.info())
        .map(|i| i.hint_zh.to_string())
}

impl From<reqwest::Error> for Error {
    fn from(e: reqwest::Error) -> Self {
        // The relay's URLs carry no secret, but strip them anyway so no query string ever reaches
        // a message.
        Error::RelayHttp(e.without_url().to_string())
    }
}

impl From<keyring_core::Error> for Error {
    fn from(e: keyring_core::Error) -> Self {
        use keyring_core::Error as K;
        // BadEncoding/BadDataFormat hold the stored bytes; Ambiguous holds entries. Keep kinds only.
        let what = match e {
            K::PlatformFailure(inner) => format!("平台错误（{inner}）"),
            K::NoStorageAccess(inner) => format!("无法访问钥匙串（{inner}）"),
            K::NoEntry => "条目不存在".to_string(),
            K::BadEncoding(_) => "已存储的值不是有效的 UTF-8".to_string(),
            K::BadDataFormat(_, _) => "已存储的值格式错误".to_string(),
            K::BadStoreFormat(_) => "钥匙串数据格式错误".to_string(),
            K::TooLong(field, max) => format!("{field} 过长（上限 {max}）"),
            K::Invalid(field, why) => format!("{field} 无效：{why}"),
            K::Ambiguous(entries) => format!("存在 {} 个同名条目", entries.len()),
            K::NoDefaultStore => "没有可用的钥匙串".to_string(),
            K::NotSupportedByStore(what) => format!("钥匙串不支持：{what}"),
            _ => "未知错误".to_string(),
        };
        Error::Keychain(what)
    }
}

impl From<tokio::task::JoinError> for Error {
    fn from(_: tokio::task::JoinError) -> Self {
        Error::TaskPanicked
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_whitelist_error_serializes_with_its_code_errcode_and_the_fix() {
        let e = Error::WeChat(wxdesk_wechat::Error::WeChat(
            wxdesk_wechat::WeChatError::new(
                61004,
                "access clientip is not registered requestIP: 1.2.3.4 rid: 1-2-3",
            ),
        ));
        let dto = ErrorDto::from(&e);
        assert_eq!(dto.code, "wechat");
        assert_eq!(dto.errcode, Some(61004));
        assert!(dto.message.contains("61004"), "{}", dto.message);
        let hint = dto.hint.unwrap();
        assert!(hint.contains("白名单"), "{hint}");
    }

    #[test]
    fn a_newer_schema_error_says_what_to_do() {
        let dto = ErrorDto::from(&Error::SchemaTooNew {
            found: 9,
            supported: 3,
        });
        assert_eq!(dto.code, "schema_too_new");
        assert!(dto.message.contains("9") && dto.message.contains("3"));
        assert!(dto.hint.unwrap().contains("升级"));
        assert_eq!(dto.errcode, None);
    }
}
