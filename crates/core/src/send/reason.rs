//! Why a job paused and why a row ended where it did, as codes with parameters: the UI names
//! them in its language, the CLI prints the Chinese `message(Lang::Zh)`. Both are stored as JSON
//! in the text columns they always lived in (`send_jobs.pause_reason`, `send_recipients.errmsg`),
//! so rows written before the codes still read: free text becomes [`PauseReason::Other`], and a
//! row's text stays its `errmsg`.

use serde::{Deserialize, Serialize};

use crate::error::Lang;

/// What WeChat's errcode means and what to do, in both languages (from the errcode table).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Explanation {
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub errcode: i64,
    pub zh: String,
    pub en: String,
    pub hint_zh: String,
    pub hint_en: String,
}

impl Explanation {
    /// The errcode table's entry, when it has one (0 has none: it is success).
    pub fn of(errcode: i64) -> Option<Explanation> {
        (errcode != 0)
            .then(|| wxdesk_wechat::explain(errcode))
            .flatten()
            .map(|i| Explanation {
                errcode: i.errcode,
                zh: i.zh.into(),
                en: i.en.into(),
                hint_zh: i.hint_zh.into(),
                hint_en: i.hint_en.into(),
            })
    }

    /// `meaning：hint` (zh) or `meaning. hint` (en).
    pub fn text(&self, lang: Lang) -> String {
        match lang {
            Lang::Zh => format!("{}：{}", self.zh, self.hint_zh),
            Lang::En => format!("{}. {}", self.en, self.hint_en),
        }
    }
}

/// Why a job is paused (or was, until it was resumed). `None` on a job means no reason given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum PauseReason {
    /// The operator paused it (任务 page, `jobs pause`, Ctrl-C).
    Operator,
    /// The process sending it stopped while it ran (app closed, crash, kill): the next process
    /// to take the send lock paused it. One action continues it.
    Interrupted,
    /// 45009: the account's daily quota is used up. Continues after the Beijing-midnight reset
    /// while the desktop app runs, or by hand once the quota was cleared.
    Quota,
    /// `failures` requests in a row failed on the network (`detail`: the last one).
    Transport { failures: u32, detail: String },
    /// The relay refused our key (HTTP 401/403): nothing reached WeChat.
    RelayKey { status: u16, detail: String },
    /// Something before WeChat refused the request (another 4xx, a redirect).
    Refused { status: u16, detail: String },
    /// The account cannot send now (revoked, IP not whitelisted, permission missing…).
    Account {
        #[cfg_attr(feature = "specta", specta(type = Option<specta_typescript::Number>))]
        errcode: Option<i64>,
        detail: String,
        explanation: Option<Explanation>,
    },
    /// The account's access token could not be refreshed.
    TokenRefresh { detail: String },
    /// WeChat still refused the token after a refresh: the authorization needs a look.
    TokenRejected {
        #[cfg_attr(feature = "specta", specta(type = Option<specta_typescript::Number>))]
        errcode: Option<i64>,
    },
    /// The job's runner stopped on an internal error; its in-flight rows are uncertain.
    Internal { detail: String },
    /// A send task or the runner panicked; the affected rows are uncertain.
    Panic,
    /// A reason stored as free text before reasons were codes.
    Other { detail: String },
}

impl PauseReason {
    /// The stored spelling: JSON in the `pause_reason` column.
    pub(crate) fn to_stored(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads the column: empty is no reason, JSON is a code, anything else is old free text.
    pub(crate) fn from_stored(s: &str) -> Option<PauseReason> {
        let s = s.trim();
        if s.is_empty() {
            return None;
        }
        if s.starts_with('{')
            && let Ok(r) = serde_json::from_str(s)
        {
            return Some(r);
        }
        Some(PauseReason::Other { detail: s.into() })
    }

    /// What the operator reads (the CLI prints Chinese; the UI translates the code itself).
    pub fn message(&self, lang: Lang) -> String {
        let zh = lang == Lang::Zh;
        let said = |d: &str| {
            if d.is_empty() {
                String::new()
            } else if zh {
                format!("（{d}）")
            } else {
                format!(" ({d})")
            }
        };
        match self {
            PauseReason::Operator if zh => "操作员暂停".into(),
            PauseReason::Operator => "Paused by the operator".into(),
            PauseReason::Interrupted if zh => {
                "已中断：发送进程在任务进行中停止；在途的接收者标记为「结果未知」，继续任务即可发送其余接收者".into()
            }
            PauseReason::Interrupted => "Interrupted — the sending process stopped; recipients in flight are marked uncertain, resume to send the rest".into(),
            PauseReason::Quota if zh => {
                "公众号今日调用额度已用完（45009）。额度每日零点重置，或在「设置」中清零额度后继续。".into()
            }
            PauseReason::Quota => "Today's quota of the account is used up (45009). It resets at midnight Beijing time; or clear the quota, then resume.".into(),
            PauseReason::Transport { failures, detail } if zh => format!(
                "连续 {failures} 次请求都因网络失败（最后一次：{detail}），任务已自动暂停，其余接收者仍为待发送。请检查本机网络，经中继发送时检查中继是否在运行、地址是否正确，然后继续任务。"
            ),
            PauseReason::Transport { failures, detail } => format!(
                "{failures} requests in a row failed on the network (last: {detail}); the job paused itself and the other recipients are still pending. Check the network (and the relay, when sending through it), then resume the job."
            ),
            PauseReason::RelayKey { status, detail } if zh => format!(
                "中继拒绝了请求（HTTP {status}）{}，请求未到达微信：中继密钥不对或已更换。请在「设置」中检查中继密钥（relay key），然后继续任务。",
                said(detail)
            ),
            PauseReason::RelayKey { status, detail } => format!(
                "The relay refused the request (HTTP {status}){}; nothing reached WeChat: the relay key is wrong or was changed. Check the relay key in Settings, then resume the job.",
                said(detail)
            ),
            PauseReason::Refused { status, detail } if zh => format!(
                "请求被拒绝（HTTP {status}）{}，未到达微信。请检查「设置」中的中继地址或接口地址，以及中继的版本，然后继续任务。",
                said(detail)
            ),
            PauseReason::Refused { status, detail } => format!(
                "The request was refused (HTTP {status}){} before it reached WeChat. Check the relay or API address in Settings and the relay's version, then resume the job.",
                said(detail)
            ),
            PauseReason::Account {
                explanation: Some(x),
                ..
            } if zh => format!("账号暂时无法发送：{}（{}）：{}", x.zh, x.errcode, x.hint_zh),
            PauseReason::Account {
                explanation: Some(x),
                ..
            } => format!("The account cannot send now: {} ({}). {}", x.en, x.errcode, x.hint_en),
            PauseReason::Account { detail, .. } if zh => format!("账号暂时无法发送：{detail}"),
            PauseReason::Account { detail, .. } => format!("The account cannot send now: {detail}"),
            PauseReason::TokenRefresh { detail } if zh => format!("接口令牌刷新失败：{detail}"),
            PauseReason::TokenRefresh { detail } => {
                format!("The account's access token could not be refreshed: {detail}")
            }
            PauseReason::TokenRejected { errcode } if zh => format!(
                "刷新令牌后仍被拒绝（{}），请检查账号授权",
                errcode.unwrap_or_default()
            ),
            PauseReason::TokenRejected { errcode } => format!(
                "Still refused after refreshing the token ({}): check the account's authorization",
                errcode.unwrap_or_default()
            ),
            PauseReason::Internal { detail } if zh => format!(
                "内部错误，任务已暂停：{detail}。正在发送中的接收者标记为「结果未知」。"
            ),
            PauseReason::Internal { detail } => format!(
                "Internal error ({detail}): the job is paused and the recipients in flight are marked uncertain."
            ),
            PauseReason::Panic if zh => "发送任务内部错误（panic），任务已暂停；正在发送中的接收者标记为「结果未知」。请确认后继续任务或「重发结果未知」，并把日志反馈给开发者。".into(),
            PauseReason::Panic => "A send task failed with an internal error (panic): the job is paused and the recipients in flight are marked uncertain. Check, then resume or resend the uncertain rows, and report the log.".into(),
            PauseReason::Other { detail } => detail.clone(),
        }
    }
}

/// Why a row was skipped, failed without a WeChat answer, or is uncertain — written by wxdesk,
/// not by WeChat (WeChat's own `errmsg` is kept as it came).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum RowNote {
    /// The recipient had no openid.
    EmptyOpenid,
    /// The openid is in the job already.
    Duplicate,
    /// A `{{name}}` placeholder names a variable the recipient does not have.
    MissingVar { name: String },
    /// A value breaks its keyword's rule (WeChat would answer 47003). `title` is the keyword's
    /// title in the template (`订单金额`); notes stored before titles have none and name the key.
    InvalidValue {
        key: String,
        #[serde(default)]
        title: Option<String>,
        zh: String,
        en: String,
    },
    /// No answer: the network failed (`detail` as the client said it).
    Network { detail: String },
    /// The access token could not be had.
    Token { detail: String },
    /// Refused before WeChat (relay key, allowlist, redirect).
    Refused { status: u16, detail: String },
    /// A network failure after the request left, on an API without an idempotency key: whether
    /// WeChat received it is unknown.
    NoIdempotency { detail: String },
    /// The sending process stopped while the request was on the wire.
    Interrupted,
    /// The send task panicked.
    TaskPanic,
    /// The job's runner stopped on an internal error while the request was on the wire.
    RunnerFailed,
}

impl From<super::render::RenderProblem> for RowNote {
    fn from(p: super::render::RenderProblem) -> RowNote {
        use super::render::RenderProblem as P;
        match p {
            P::MissingVar { name } => RowNote::MissingVar { name },
            P::Invalid { key, title, zh, en } => RowNote::InvalidValue { key, title, zh, en },
        }
    }
}

impl RowNote {
    /// The stored spelling: JSON in the `errmsg` column.
    pub(crate) fn to_stored(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A note wxdesk wrote, or `None` for WeChat's errmsg and text from before the codes.
    pub(crate) fn from_stored(s: &str) -> Option<RowNote> {
        if !s.starts_with("{\"code\"") {
            return None;
        }
        serde_json::from_str(s).ok()
    }

    /// A row's stored `errmsg` read as the faces show it: wxdesk's note, or else WeChat's own
    /// errmsg (or old free text) as it came. Desk and team history read rows with this.
    pub(crate) fn split_stored(stored: Option<String>) -> (Option<RowNote>, Option<String>) {
        match stored.as_deref().and_then(RowNote::from_stored) {
            Some(note) => (Some(note), None),
            None => (None, stored),
        }
    }

    pub fn message(&self, lang: Lang) -> String {
        let zh = lang == Lang::Zh;
        match self {
            RowNote::EmptyOpenid if zh => "openid 为空".into(),
            RowNote::EmptyOpenid => "Empty openid".into(),
            RowNote::Duplicate if zh => "重复的接收者，已在本任务中".into(),
            RowNote::Duplicate => "Duplicate recipient: already in this job".into(),
            RowNote::MissingVar { name } if zh => format!("缺少变量「{name}」"),
            RowNote::MissingVar { name } => format!("Missing variable {name}"),
            RowNote::InvalidValue {
                key, title, zh: z, ..
            } if zh => format!("{}：{z}", title.as_deref().unwrap_or(key)),
            RowNote::InvalidValue { key, title, en, .. } => {
                format!("{}: {en}", title.as_deref().unwrap_or(key))
            }
            RowNote::Network { detail } if zh => format!("网络错误：{detail}"),
            RowNote::Network { detail } => format!("Network error: {detail}"),
            RowNote::Token { detail } if zh => format!("无法取得接口令牌：{detail}"),
            RowNote::Token { detail } => format!("No access token: {detail}"),
            RowNote::Refused { status, detail } if zh => {
                format!("请求被拒绝（HTTP {status}），未到达微信 {detail}")
                    .trim_end()
                    .into()
            }
            RowNote::Refused { status, detail } => {
                format!("Refused (HTTP {status}) before WeChat {detail}")
                    .trim_end()
                    .into()
            }
            RowNote::NoIdempotency { detail } if zh => {
                format!("{detail}；此接口无幂等键，微信是否收到未知")
            }
            RowNote::NoIdempotency { detail } => format!(
                "{detail}; this API has no idempotency key, so whether WeChat received it is unknown"
            ),
            RowNote::Interrupted if zh => {
                "程序在请求进行中退出，微信是否收到未知；确认后可由操作员选择重发".into()
            }
            RowNote::Interrupted => "The process stopped during the request; whether WeChat received it is unknown. The operator may resend.".into(),
            RowNote::TaskPanic if zh => {
                "发送任务内部错误（panic），微信是否收到未知；确认后可由操作员选择重发".into()
            }
            RowNote::TaskPanic => "The send task failed (panic); whether WeChat received it is unknown. The operator may resend.".into(),
            RowNote::RunnerFailed if zh => {
                "发送过程中任务内部出错，微信是否收到未知；确认后可由操作员选择重发".into()
            }
            RowNote::RunnerFailed => "The job failed internally during the request; whether WeChat received it is unknown. The operator may resend.".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_free_text_reason_from_before_the_codes_reads_as_other() {
        assert_eq!(PauseReason::from_stored(""), None);
        assert_eq!(
            PauseReason::from_stored("公众号今日调用额度已用完（45009）"),
            Some(PauseReason::Other {
                detail: "公众号今日调用额度已用完（45009）".into()
            })
        );
        // Text that merely starts with a brace is still text.
        assert!(matches!(
            PauseReason::from_stored("{oops"),
            Some(PauseReason::Other { .. })
        ));
        for r in [
            PauseReason::Interrupted,
            PauseReason::Quota,
            PauseReason::Transport {
                failures: 10,
                detail: "reset".into(),
            },
            PauseReason::Account {
                errcode: Some(61004),
                detail: "x".into(),
                explanation: Explanation::of(61004),
            },
        ] {
            assert_eq!(PauseReason::from_stored(&r.to_stored()), Some(r));
        }
        assert_eq!(
            serde_json::to_value(PauseReason::RelayKey {
                status: 401,
                detail: String::new()
            })
            .unwrap(),
            serde_json::json!({"code": "relay_key", "status": 401, "detail": ""})
        );
    }

    #[test]
    fn row_notes_round_trip_and_wechats_own_errmsg_is_not_a_note() {
        let n = RowNote::MissingVar {
            name: "订单号".into(),
        };
        assert_eq!(RowNote::from_stored(&n.to_stored()), Some(n));
        assert_eq!(RowNote::from_stored("invalid openid rid: 1"), None);
        assert_eq!(RowNote::from_stored("缺少变量「x」"), None);
    }

    #[test]
    fn a_note_and_a_field_rule_stored_before_titles_still_read_and_name_the_key() {
        // Rows skipped before notes carried the keyword's title.
        let old =
            r#"{"code":"invalid_value","key":"amount5","zh":"须为金额","en":"must be an amount"}"#;
        let n = RowNote::from_stored(old).expect("an old invalid_value note still decodes");
        assert_eq!(
            n,
            RowNote::InvalidValue {
                key: "amount5".into(),
                title: None,
                zh: "须为金额".into(),
                en: "must be an amount".into(),
            }
        );
        assert_eq!(n.message(Lang::Zh), "amount5：须为金额");
        assert_eq!(n.message(Lang::En), "amount5: must be an amount");

        // A job spec's rules as written by an older app or script (no `title`).
        let rule: super::super::FieldRule =
            serde_json::from_str(r#"{"key":"amount5","kind":"amount","allowed":null}"#).unwrap();
        assert_eq!(
            (rule.key.as_str(), rule.title.as_deref()),
            ("amount5", None)
        );
        let back = serde_json::to_value(&rule).unwrap();
        assert!(back.get("title").is_none(), "{back}");
    }

    #[test]
    fn english_messages_carry_no_chinese_of_their_own() {
        let cjk = |s: &str| s.chars().any(|c| ('\u{3000}'..='\u{9fff}').contains(&c));
        let reasons = [
            PauseReason::Operator,
            PauseReason::Interrupted,
            PauseReason::Quota,
            PauseReason::Transport {
                failures: 3,
                detail: "reset".into(),
            },
            PauseReason::RelayKey {
                status: 401,
                detail: String::new(),
            },
            PauseReason::Refused {
                status: 400,
                detail: "bad path".into(),
            },
            PauseReason::Account {
                errcode: Some(61004),
                detail: String::new(),
                explanation: Explanation::of(61004),
            },
            PauseReason::TokenRefresh { detail: "x".into() },
            PauseReason::TokenRejected {
                errcode: Some(40001),
            },
            PauseReason::Internal {
                detail: "db".into(),
            },
            PauseReason::Panic,
        ];
        for r in reasons {
            assert!(!cjk(&r.message(Lang::En)), "{r:?}");
            assert!(cjk(&r.message(Lang::Zh)), "{r:?}");
        }
        for n in [
            RowNote::EmptyOpenid,
            RowNote::Duplicate,
            RowNote::Interrupted,
            RowNote::TaskPanic,
            RowNote::RunnerFailed,
        ] {
            assert!(!cjk(&n.message(Lang::En)), "{n:?}");
        }
    }
}
