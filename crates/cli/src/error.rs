//! The CLI's one error type. Every failure ends as ONE line on stderr: the Chinese message, the
//! WeChat errcode when there is one, and the hint of what to do.

use serde::Serialize;

pub type Result<T, E = CliError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Core(#[from] wxdesk_core::Error),

    #[error(transparent)]
    WeChat(#[from] wxdesk_wechat::Error),

    /// Bad input the parser could not catch (a malformed `--data`, an unknown list…).
    #[error("{0}")]
    Usage(String),

    #[error("{what}：{source}")]
    Io {
        what: String,
        source: std::io::Error,
    },

    /// The command ran but its result is a failure (a connection check step failed, a job
    /// ended with failed rows…); the details were printed.
    #[error("{0}")]
    Failed(String),

    /// A send job stopped short of a clean finish: failed or uncertain rows, or paused (exit 3,
    /// so a script can tell "the command failed" from "the job needs a look").
    #[error("{0}")]
    JobIncomplete(String),

    /// Another process (the desktop app, another send) held the data dir's send lock for longer
    /// than `--wait`; nothing was created or changed (exit 4, so a script can retry later).
    #[error("{0}")]
    SendBusy(String),

    /// Recipients of a subscription notice were refused before sending: they have no live
    /// subscription (WeChat would answer 43101), and nothing was sent to them (exit 5).
    #[error("{0}")]
    NotSubscribed(String),
}

impl CliError {
    pub fn io(what: impl Into<String>, source: std::io::Error) -> CliError {
        CliError::Io {
            what: what.into(),
            source,
        }
    }

    pub fn errcode(&self) -> Option<i64> {
        match self {
            CliError::Core(e) => e.wechat_errcode(),
            CliError::WeChat(e) => e.wechat().map(|w| w.errcode),
            _ => self.implied_errcode(),
        }
    }

    pub fn hint(&self) -> Option<String> {
        match self {
            CliError::Core(e) => e.hint(wxdesk_core::error::Lang::Zh),
            CliError::WeChat(e) => e
                .wechat()
                .and_then(|w| w.info())
                .map(|i| i.hint_zh.to_string()),
            _ => self
                .implied_errcode()
                .and_then(wxdesk_wechat::explain)
                .map(|i| i.hint_zh.to_string()),
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            CliError::Core(e) => e.code(),
            CliError::WeChat(_) => "wechat",
            CliError::Usage(_) => "usage",
            CliError::Io { .. } => "io",
            CliError::Failed(_) => "failed",
            CliError::JobIncomplete(_) => "job_incomplete",
            CliError::SendBusy(_) => "send_busy",
            CliError::NotSubscribed(_) => "not_subscribed",
        }
    }

    /// Exit status: 2 for bad usage (as clap), 3 for a job that needs a look, 4 for a send
    /// lock that stayed taken, 5 for notice recipients refused as not subscribed, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Usage(_) => 2,
            CliError::JobIncomplete(_) => 3,
            CliError::SendBusy(_) => 4,
            CliError::NotSubscribed(_) => 5,
            _ => 1,
        }
    }

    /// The errcode a refusal stands for (43101 for the not subscribed).
    fn implied_errcode(&self) -> Option<i64> {
        matches!(self, CliError::NotSubscribed(_)).then_some(43101)
    }

    /// The single stderr line: message, errcode (when WeChat gave one, and the message does not
    /// already carry it) and the hint. Newlines inside are folded so it stays one line.
    pub fn one_line(&self) -> String {
        let mut line = format!("错误：{self}");
        if let Some(code) = self.errcode()
            && !line.contains(&code.to_string())
        {
            line.push_str(&format!("（errcode {code}）"));
        }
        if let Some(h) = self.hint().filter(|h| !h.is_empty()) {
            line.push_str(" 提示：");
            line.push_str(&h);
        }
        line.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    pub fn to_json(&self) -> ErrorJson {
        ErrorJson {
            error: ErrorBody {
                code: self.code(),
                message: self.to_string(),
                errcode: self.errcode(),
                hint: self.hint(),
            },
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ErrorJson {
    pub error: ErrorBody,
}

#[derive(Debug, Serialize)]
pub struct ErrorBody {
    pub code: &'static str,
    pub message: String,
    pub errcode: Option<i64>,
    pub hint: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wechat_error_line_carries_its_errcode_and_the_chinese_hint_on_one_line() {
        let e = CliError::Core(wxdesk_core::Error::WeChat(wxdesk_wechat::Error::WeChat(
            wxdesk_wechat::WeChatError::new(61004, "access clientip is not registered\nrid: 1"),
        )));
        let line = e.one_line();
        assert!(!line.contains('\n'), "{line}");
        assert!(line.starts_with("错误：微信接口错误 61004"), "{line}");
        assert!(line.contains("提示："), "{line}");
        assert!(line.contains("白名单"), "{line}");
        assert_eq!(e.errcode(), Some(61004));
    }

    #[test]
    fn usage_errors_exit_2_a_busy_send_lock_4_and_others_1() {
        assert_eq!(CliError::Usage("x".into()).exit_code(), 2);
        assert_eq!(CliError::SendBusy("x".into()).exit_code(), 4);
        assert_eq!(CliError::Failed("x".into()).exit_code(), 1);
        assert_eq!(CliError::NotSubscribed("x".into()).exit_code(), 5);
        assert_eq!(CliError::NotSubscribed("x".into()).errcode(), Some(43101));
    }
}
