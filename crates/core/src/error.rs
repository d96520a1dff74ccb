//! The one error type of wxdesk-core. Every error has a stable `code()`, and a message and a
//! hint in each language the UI speaks (`message(Lang)`, `hint(Lang)`); `Display` is the Chinese
//! message (logs and the CLI). No message ever carries a secret: keychain and HTTP errors are
//! reduced to what is safe to show.

use std::fmt;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The language a face renders messages in. The desktop UI chooses (zh-CN by default); the CLI
/// speaks Chinese.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Lang {
    #[default]
    Zh,
    En,
}

/// A message written in both languages (the words of an [`Error::Input`]; the UI picks one).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Msg {
    pub zh: String,
    pub en: String,
}

impl Msg {
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> Msg {
        Msg {
            zh: zh.into(),
            en: en.into(),
        }
    }

    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh => &self.zh,
            Lang::En => &self.en,
        }
    }
}

impl fmt::Display for Msg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.zh)
    }
}

impl Msg {
    /// An error's message in both languages (a notice that reports a failure).
    pub fn of_error(e: &Error) -> Msg {
        Msg::new(e.message(Lang::Zh), e.message(Lang::En))
    }

    /// Whether either language mentions `pat` (an errcode, a name the message must carry).
    pub fn contains(&self, pat: &str) -> bool {
        self.zh.contains(pat) || self.en.contains(pat)
    }
}

/// The stable kinds of failure a face branches on: every [`Error::code`] plus the desktop
/// shell's own (`invalid_config`, `internal`). Serialized as the same snake_case strings the CLI
/// prints, so the UI switches on the names users see in `--json` output. New variants are
/// additive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// A setting (environment, config file) has a value the app cannot use.
    InvalidConfig,
    /// The data directory cannot be created, read or written.
    DataDir,
    /// The local database failed or a migration did not apply.
    Db,
    /// The data directory was written by a newer wxdesk.
    SchemaTooNew,
    /// The OS keychain is locked or unavailable.
    Keychain,
    /// The platform (or the relay) is not set up yet.
    NotConfigured,
    /// The relay could not be reached or answered with an error.
    Relay,
    /// The relay refused the API key.
    RelayUnauthorized,
    /// WeChat answered with an error (see `errcode`).
    Wechat,
    /// The account is not (or no longer) authorized here.
    AccountNotFound,
    /// The input was refused.
    Invalid,
    /// The built-in sandbox could not start.
    Sandbox,
    /// A bug or an unexpected condition; the log in the data directory has details.
    Internal,
}

impl ErrorCode {
    /// Maps an [`Error::code`] string; an unknown code is a bug, so `Internal`.
    pub fn of(code: &str) -> Self {
        match code {
            "data_dir" => ErrorCode::DataDir,
            "db" => ErrorCode::Db,
            "schema_too_new" => ErrorCode::SchemaTooNew,
            "keychain" => ErrorCode::Keychain,
            "not_configured" => ErrorCode::NotConfigured,
            "relay" => ErrorCode::Relay,
            "relay_unauthorized" => ErrorCode::RelayUnauthorized,
            "wechat" => ErrorCode::Wechat,
            "account_not_found" => ErrorCode::AccountNotFound,
            "invalid" => ErrorCode::Invalid,
            "sandbox" => ErrorCode::Sandbox,
            // 小程序代码's own refusals (crate::code::CodeError): the operator's input or a
            // rollout's state, except for its lock file and damaged rows.
            "code_lock" => ErrorCode::DataDir,
            "code_corrupt" => ErrorCode::Db,
            c if c.starts_with("code_") => ErrorCode::Invalid,
            _ => ErrorCode::Internal,
        }
    }
}

/// An error that is part of a result rather than its failure (a failed step of 检测连接, a token
/// check): its code, WeChat's errcode, and the message and hint in both languages, so the window
/// shows them in its language.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ErrorReport {
    /// As [`Error::code`].
    pub code: String,
    #[cfg_attr(feature = "specta", specta(type = Option<specta_typescript::Number>))]
    pub errcode: Option<i64>,
    pub message: Msg,
    pub hint: Option<Msg>,
}

impl From<&Error> for ErrorReport {
    fn from(e: &Error) -> Self {
        let hint = match (e.hint(Lang::Zh), e.hint(Lang::En)) {
            (Some(zh), Some(en)) => Some(Msg { zh, en }),
            (Some(zh), None) => Some(Msg { en: zh.clone(), zh }),
            (None, Some(en)) => Some(Msg { zh: en.clone(), en }),
            (None, None) => None,
        };
        ErrorReport {
            code: e.code().to_string(),
            errcode: e.wechat_errcode(),
            message: Msg::new(e.message(Lang::Zh), e.message(Lang::En)),
            hint,
        }
    }
}

/// Which part of the platform configuration is missing; shown to the user as a next step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    ComponentAppid,
    ComponentAppsecret,
    RelayUrl,
    RelayKey,
    Ticket,
}

impl Missing {
    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Missing::ComponentAppid, Lang::Zh) => "第三方平台 AppID（component appid）",
            (Missing::ComponentAppid, Lang::En) => "the platform's AppID (component appid)",
            (Missing::ComponentAppsecret, Lang::Zh) => "第三方平台 AppSecret",
            (Missing::ComponentAppsecret, Lang::En) => "the platform's AppSecret",
            (Missing::RelayUrl, Lang::Zh) => "中继地址（relay URL）",
            (Missing::RelayUrl, Lang::En) => "the relay URL",
            (Missing::RelayKey, Lang::Zh) => "中继密钥（relay key）",
            (Missing::RelayKey, Lang::En) => "the relay key",
            (Missing::Ticket, Lang::Zh) => "component_verify_ticket（中继尚未收到）",
            (Missing::Ticket, Lang::En) => {
                "the component_verify_ticket (the relay has not received one yet)"
            }
        }
    }
}

impl fmt::Display for Missing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label(Lang::Zh))
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

    /// Legacy: a refusal worded in Chinese only. New code uses [`Error::input`]; the remaining
    /// uses are being converted, and English screens show the Chinese until they are.
    #[error("{0}")]
    Invalid(String),

    /// The input was refused, in both languages (build with [`Error::input`]).
    #[error("{0}")]
    Input(Msg),

    #[error("沙箱启动失败：{0}")]
    Sandbox(String),

    #[error("后台任务异常结束")]
    TaskPanicked,

    /// Mini-program code management (its own zh/en messages and hints).
    #[error("{0}")]
    Code(crate::code::CodeError),
}

impl Error {
    /// An input refusal worded in both languages.
    pub fn input(zh: impl Into<String>, en: impl Into<String>) -> Error {
        Error::Input(Msg::new(zh, en))
    }

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
            Error::Invalid(_) | Error::Input(_) => "invalid",
            Error::Sandbox(_) => "sandbox",
            Error::TaskPanicked => "internal",
            Error::Code(e) => e.code(),
        }
    }

    /// The message in `lang`. No secret is ever part of it.
    pub fn message(&self, lang: Lang) -> String {
        if lang == Lang::Zh {
            return self.to_string();
        }
        match self {
            Error::Db(e) => format!("Database error: {e}"),
            Error::SchemaTooNew { found, supported } => format!(
                "This data directory was written by a newer wxdesk (schema {found}; this build \
                 supports up to {supported}). It is not opened, so nothing is damaged: update wxdesk."
            ),
            Error::Migration {
                version,
                name,
                source,
            } => format!("Database migration {version} ({name}) failed: {source}"),
            Error::DataDir { path, source } => {
                format!("Cannot create the data directory {path}: {source}")
            }
            Error::Keychain(what) => format!("The system keychain is unavailable: {what}"),
            Error::NotConfigured(m) => format!("Not set up yet: {}", m.label(Lang::En)),
            Error::RelayHttp(e) => format!("The relay request failed: {e}"),
            Error::RelayUnauthorized => {
                "The relay refused the key (HTTP 401): check the relay key in Settings".into()
            }
            Error::RelayStatus { status, message } => {
                format!("The relay answered HTTP {status}: {message}")
            }
            Error::RelayBody(e) => format!("The relay's answer could not be read: {e}"),
            Error::WeChat(e) => wechat_message_en(e),
            Error::AccountNotFound(appid) => format!("There is no account {appid}"),
            Error::Invalid(zh) => zh.clone(),
            Error::Input(m) => m.en.clone(),
            Error::Sandbox(e) => format!("The sandbox did not start: {e}"),
            Error::TaskPanicked => "A background task ended unexpectedly".into(),
            Error::Code(e) => e.message_en(),
        }
    }

    /// What the user can do about it, in `lang`; `None` when the message says it all.
    pub fn hint(&self, lang: Lang) -> Option<String> {
        let (zh, en): (&str, &str) = match self {
            Error::SchemaTooNew { .. } => (
                "升级到最新版本的 wxdesk 后再打开此数据目录。",
                "Update to the latest wxdesk, then open this data directory again.",
            ),
            Error::Keychain(_) => (
                "请确认系统钥匙串已解锁（Linux：gnome-keyring 或 KWallet 的 Secret Service 正在运行）。",
                "Make sure the system keychain is unlocked (Linux: a Secret Service such as \
                 gnome-keyring or KWallet is running).",
            ),
            Error::NotConfigured(_) => (
                "在「设置」中填写并保存平台信息，或选择「体验沙箱」。",
                "Fill in and save the platform in Settings, or choose Try the sandbox.",
            ),
            Error::RelayHttp(_) => (
                "检查中继地址是否正确、中继是否在运行、本机网络是否可达。",
                "Check the relay URL, that the relay is running, and that this computer can reach it.",
            ),
            Error::RelayUnauthorized => (
                "在「设置」中重新填写中继密钥（与中继配置的 api_key 一致）。",
                "Enter the relay key again in Settings (the api_key in the relay's configuration).",
            ),
            Error::WeChat(e) => {
                let info = e.wechat().and_then(|w| w.info())?;
                (info.hint_zh, info.hint_en)
            }
            Error::Code(e) => (e.hint_zh(), e.hint_en()),
            _ => return None,
        };
        Some(match lang {
            Lang::Zh => zh.to_string(),
            Lang::En => en.to_string(),
        })
    }

    /// The WeChat errcode when this error came from a WeChat API answer.
    pub fn wechat_errcode(&self) -> Option<i64> {
        match self {
            Error::WeChat(e) => e.wechat().map(|w| w.errcode),
            _ => None,
        }
    }
}

/// A WeChat error in English: the errcode's explanation when the table knows it, with WeChat's
/// own errmsg (English already) beside it.
fn wechat_message_en(e: &wxdesk_wechat::Error) -> String {
    match e.wechat() {
        Some(w) => match w.info() {
            Some(i) => format!("WeChat error {}: {} ({})", w.errcode, i.en, w.errmsg),
            None => format!("WeChat error {}: {}", w.errcode, w.errmsg),
        },
        None => e.message_en(),
    }
}

impl From<reqwest::Error> for Error {
    fn from(e: reqwest::Error) -> Self {
        // Where and why (host:port and the innermost cause), never the URL's path or query.
        Error::RelayHttp(wxdesk_wechat::error::transport_detail(&e))
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
    fn a_whitelist_error_has_its_code_errcode_and_the_fix_in_both_languages() {
        let e = Error::WeChat(wxdesk_wechat::Error::WeChat(
            wxdesk_wechat::WeChatError::new(
                61004,
                "access clientip is not registered requestIP: 1.2.3.4 rid: 1-2-3",
            ),
        ));
        assert_eq!(e.code(), "wechat");
        assert_eq!(e.wechat_errcode(), Some(61004));
        assert!(
            e.message(Lang::Zh).contains("61004"),
            "{}",
            e.message(Lang::Zh)
        );
        assert!(e.hint(Lang::Zh).unwrap().contains("白名单"));
        let en = e.message(Lang::En);
        assert!(en.contains("61004") && !has_cjk(&en), "{en}");
        let hint = e.hint(Lang::En).unwrap();
        assert!(hint.contains("whitelist") && !has_cjk(&hint), "{hint}");
    }

    #[test]
    fn a_newer_schema_error_says_what_to_do() {
        let e = Error::SchemaTooNew {
            found: 9,
            supported: 3,
        };
        assert_eq!(e.code(), "schema_too_new");
        let zh = e.message(Lang::Zh);
        assert!(zh.contains('9') && zh.contains('3'));
        assert!(e.hint(Lang::Zh).unwrap().contains("升级"));
        assert!(e.hint(Lang::En).unwrap().contains("Update"));
        assert_eq!(e.wechat_errcode(), None);
    }

    fn has_cjk(s: &str) -> bool {
        s.chars().any(|c| {
            ('\u{3000}'..='\u{9fff}').contains(&c) || ('\u{ff00}'..='\u{ffef}').contains(&c)
        })
    }

    #[test]
    fn english_messages_and_hints_hold_no_chinese() {
        let errors = [
            Error::SchemaTooNew {
                found: 2,
                supported: 1,
            },
            Error::DataDir {
                path: "/x".into(),
                source: std::io::Error::other("denied"),
            },
            Error::Keychain("locked".into()),
            Error::NotConfigured(Missing::ComponentAppid),
            Error::NotConfigured(Missing::ComponentAppsecret),
            Error::NotConfigured(Missing::RelayUrl),
            Error::NotConfigured(Missing::RelayKey),
            Error::NotConfigured(Missing::Ticket),
            Error::RelayHttp("connection refused".into()),
            Error::RelayUnauthorized,
            Error::RelayStatus {
                status: 502,
                message: "bad gateway".into(),
            },
            Error::RelayBody("eof".into()),
            Error::AccountNotFound("wx1".into()),
            Error::input("名单不存在", "The list does not exist"),
            Error::Sandbox("port in use".into()),
            Error::TaskPanicked,
        ];
        for e in errors {
            let m = e.message(Lang::En);
            assert!(!has_cjk(&m), "{m}");
            if let Some(h) = e.hint(Lang::En) {
                assert!(!has_cjk(&h), "{h}");
            }
            assert!(has_cjk(&e.message(Lang::Zh)), "{}", e.message(Lang::Zh));
        }
    }

    #[test]
    fn every_core_code_has_its_own_variant() {
        // Serializing the variant must give back the core's code string, so the UI can switch
        // on the same names the CLI prints.
        for code in [
            "data_dir",
            "db",
            "schema_too_new",
            "keychain",
            "not_configured",
            "relay",
            "relay_unauthorized",
            "wechat",
            "account_not_found",
            "invalid",
            "sandbox",
        ] {
            let variant = ErrorCode::of(code);
            assert_eq!(serde_json::to_value(variant).unwrap_or_default(), code);
        }
        assert_eq!(ErrorCode::of("no_such_code"), ErrorCode::Internal);
    }

    #[test]
    fn code_management_refusals_are_not_internal_errors() {
        use crate::code::CodeError;
        let ext = Error::from(CodeError::ExtJsonNotObject);
        assert_eq!(ErrorCode::of(ext.code()), ErrorCode::Invalid);
        assert!(
            ext.hint(Lang::En)
                .is_some_and(|h| h.contains("JSON object"))
        );
        let busy = Error::from(CodeError::RolloutBusy { id: 3 });
        assert_eq!(ErrorCode::of(busy.code()), ErrorCode::Invalid);
        let lock = Error::from(CodeError::Lock { detail: "x".into() });
        assert_eq!(ErrorCode::of(lock.code()), ErrorCode::DataDir);
    }
}
