//! The job model: what a send job is, the states of its recipients, and the progress report.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::reason::PauseReason;
use crate::error::{Error, Result};

/// Per-recipient variables, by name (`订单号` → `A1001`), from the list's CSV columns.
pub type Vars = BTreeMap<String, String>;

macro_rules! str_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "specta", derive(specta::Type))]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vm])* $v),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$v),+];

            /// The spelling stored in SQLite.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$v => $s),+ }
            }

            pub fn parse(s: &str) -> Result<$name> {
                match s {
                    $($s => Ok($name::$v),)+
                    other => Err(Error::input(
                        format!(concat!(stringify!($name), " 取值无效：{}"), other),
                        format!(concat!("Not a valid ", stringify!($name), ": {}"), other),
                    )),
                }
            }
        }

        impl rusqlite::types::FromSql for $name {
            fn column_result(v: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
                let s = v.as_str()?;
                $name::parse(s).map_err(|e| rusqlite::types::FromSqlError::Other(Box::new(e)))
            }
        }

        impl rusqlite::types::ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
                Ok(self.as_str().into())
            }
        }
    };
}

str_enum! {
    /// What a job sends; decides the API and the payload shape.
    JobKind {
        /// 公众号模板消息 `message/template/send`.
        Template = "template",
        /// 客服消息 text.
        CustomText = "custom_text",
        /// 客服消息 news (one external-link article).
        CustomNews = "custom_news",
        /// 客服消息 miniprogrampage.
        CustomMini = "custom_mini",
        /// 公众号订阅通知 `message/subscribe/bizsend`.
        Subscribe = "subscribe",
        /// 小程序统一服务消息 `uniform_send` — withdrawn by WeChat on 2023-09-20 (45109).
        Uniform = "uniform",
    }
}

impl JobKind {
    /// WeChat withdrew the API; sends are expected to fail with 45109.
    pub fn is_withdrawn(self) -> bool {
        self == JobKind::Uniform
    }

    /// The API honours `client_msg_id`, so resending the same row cannot duplicate (within
    /// WeChat's 10-minute window).
    pub fn is_idempotent(self) -> bool {
        self == JobKind::Template
    }

    /// WeChat reports delivery for this kind (TEMPLATESENDJOBFINISH for template messages,
    /// subscribe_msg_sent_event for subscription notices).
    pub fn has_delivery_report(self) -> bool {
        matches!(self, JobKind::Template | JobKind::Subscribe)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            JobKind::Template => "模板消息",
            JobKind::CustomText => "客服消息（文本）",
            JobKind::CustomNews => "客服消息（图文链接）",
            JobKind::CustomMini => "客服消息（小程序卡片）",
            JobKind::Subscribe => "订阅通知",
            JobKind::Uniform => "统一服务消息（已被微信下线）",
        }
    }
}

str_enum! {
    /// Why a job exists, when wxdesk made it rather than the operator naming it: the faces put
    /// the words around the stored title in their language (测试：X / Test: X), so the title
    /// holds only what the operator typed.
    JobPurpose {
        /// The operator's job; its title is all there is.
        Plain = "plain",
        /// 先发给自己: a test send of the draft titled `title`.
        Test = "test",
        /// A customer-service message (客服消息) sent from the composer.
        Custom = "custom",
        /// A unified message (统一服务消息) sent from the composer.
        Uniform = "uniform",
    }
}

impl JobPurpose {
    /// The title as the Chinese faces show it (the CLI, 发送记录's export): 测试：X, 客服消息.
    pub fn title_zh(self, title: &str) -> String {
        let title = title.trim();
        let named = |what: &str| {
            if title.is_empty() {
                what.to_string()
            } else {
                format!("{what}：{title}")
            }
        };
        match self {
            JobPurpose::Plain => title.to_string(),
            JobPurpose::Test => named("测试"),
            JobPurpose::Custom => named("客服消息"),
            JobPurpose::Uniform => named("统一服务消息"),
        }
    }
}

str_enum! {
    JobStatus {
        /// Written (possibly still receiving recipients); not started.
        Draft = "draft",
        Running = "running",
        /// Paused by the operator, or by the engine for a reason in `pause_reason`.
        Paused = "paused",
        /// 45009: the account's daily quota is used up; resume after it resets or is cleared.
        PausedQuota = "paused_quota",
        Cancelled = "cancelled",
        Completed = "completed",
    }
}

impl JobStatus {
    pub fn is_finished(self) -> bool {
        matches!(self, JobStatus::Cancelled | JobStatus::Completed)
    }
}

str_enum! {
    /// How every face shows a job (任务's tag, the progress bar, 概览, the CLI): its stored
    /// status, except that a completed job whose rows did not all get through says so. A job
    /// stored `completed` only means no row is left to send; shown as a green 已完成 with
    /// failed rows it hid the failures (the relay-down report of #16).
    JobShown {
        Draft = "draft",
        Running = "running",
        Paused = "paused",
        PausedQuota = "paused_quota",
        Cancelled = "cancelled",
        /// Completed, and every row that was to be sent was sent.
        Completed = "completed",
        /// Completed with some rows sent and some failed or of unknown outcome (部分失败).
        PartlyFailed = "partly_failed",
        /// Completed with rows failed or of unknown outcome and none sent (失败).
        Failed = "failed",
    }
}

impl JobShown {
    /// The one place a job's shown state is decided, from its status and the counts of its rows.
    /// An `uncertain` row counts as not got through: the operator has to decide about it.
    pub fn of(status: JobStatus, c: &JobCounts) -> JobShown {
        match status {
            JobStatus::Draft => JobShown::Draft,
            JobStatus::Running => JobShown::Running,
            JobStatus::Paused => JobShown::Paused,
            JobStatus::PausedQuota => JobShown::PausedQuota,
            JobStatus::Cancelled => JobShown::Cancelled,
            JobStatus::Completed if c.failed() + c.uncertain == 0 => JobShown::Completed,
            JobStatus::Completed if c.sent == 0 => JobShown::Failed,
            JobStatus::Completed => JobShown::PartlyFailed,
        }
    }

    /// Whether 概览 lists the job under 需要关注: it waits for the operator (paused), or it ended
    /// with rows that failed or whose outcome is unknown (also a cancelled one).
    pub fn needs_attention(self, c: &JobCounts) -> bool {
        match self {
            JobShown::Paused | JobShown::PausedQuota => true,
            JobShown::PartlyFailed | JobShown::Failed => true,
            JobShown::Cancelled => c.failed() + c.uncertain > 0,
            JobShown::Draft | JobShown::Running | JobShown::Completed => false,
        }
    }
}

str_enum! {
    RecipientState {
        Pending = "pending",
        /// A request is (or was, before a crash) on the wire.
        InFlight = "in_flight",
        Sent = "sent",
        /// Retryable errors outlasted the attempts; "retry failed" may try again.
        FailedRetryable = "failed_retryable",
        /// WeChat refused this one for good (bad openid, not a follower, bad value…).
        FailedPermanent = "failed_permanent",
        /// The request may or may not have reached WeChat (crash mid-request, or a transport
        /// error on a non-idempotent API). Never resent without the operator.
        Uncertain = "uncertain",
        /// Not sent: duplicate openid, missing variable or a value WeChat would refuse (47003).
        Skipped = "skipped",
        Cancelled = "cancelled",
    }
}

impl RecipientState {
    pub fn label_zh(self) -> &'static str {
        match self {
            RecipientState::Pending => "待发送",
            RecipientState::InFlight => "发送中",
            RecipientState::Sent => "已发送",
            RecipientState::FailedRetryable => "失败（可重试）",
            RecipientState::FailedPermanent => "失败",
            RecipientState::Uncertain => "结果未知",
            RecipientState::Skipped => "已跳过",
            RecipientState::Cancelled => "已取消",
        }
    }
}

str_enum! {
    Delivery {
        /// Sent; WeChat's report has not arrived yet.
        Pending = "pending",
        Delivered = "delivered",
        /// `failed:user block` — the user refuses messages from this account.
        UserBlock = "user_block",
        /// Any other `failed…` status (kept raw in `delivery_raw`).
        SystemFailed = "system_failed",
        /// A status that does not start with `success` or `failed`.
        Unknown = "unknown",
    }
}

impl Delivery {
    /// The TEMPLATESENDJOBFINISH `Status` (protocol B.4) as a delivery outcome.
    pub fn from_report(status: &str) -> Delivery {
        let s = status.trim();
        if s.eq_ignore_ascii_case("success") {
            Delivery::Delivered
        } else if let Some(rest) = s.strip_prefix("failed") {
            let why: String = rest
                .trim_start_matches(':')
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            if why.eq_ignore_ascii_case("userblock") {
                Delivery::UserBlock
            } else {
                Delivery::SystemFailed
            }
        } else {
            Delivery::Unknown
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Delivery::Pending => "等待回执",
            Delivery::Delivered => "已送达",
            Delivery::UserBlock => "用户拒收",
            Delivery::SystemFailed => "系统失败",
            Delivery::Unknown => "未知",
        }
    }
}

/// A mini-program jump target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct MiniProgram {
    pub appid: String,
    pub pagepath: String,
}

/// The message of a job. String values may contain `{{变量}}` placeholders, filled per recipient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Payload {
    Template {
        template_id: String,
        /// keyword key (`thing1`) → value template.
        data: BTreeMap<String, String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        url: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        miniprogram: Option<MiniProgram>,
    },
    CustomText {
        content: String,
    },
    CustomNews {
        title: String,
        description: String,
        url: String,
        picurl: String,
    },
    CustomMini {
        title: String,
        appid: String,
        pagepath: String,
        thumb_media_id: String,
    },
    Subscribe {
        template_id: String,
        data: BTreeMap<String, String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        page: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        miniprogram: Option<MiniProgram>,
    },
    /// `uniform_send`'s `mp_template_msg` (the official account linked to the mini program).
    Uniform {
        mp_appid: String,
        template_id: String,
        data: BTreeMap<String, String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        url: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        miniprogram: Option<MiniProgram>,
    },
}

/// Where tapping a message takes the recipient: a web page, a mini program (first when both;
/// the page is the fallback for old clients), or nowhere.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct MessageJump {
    pub url: Option<String>,
    pub miniprogram: Option<MiniProgram>,
}

impl Payload {
    /// The jump of a template message, subscription notice or unified message (`None` when it
    /// has none, and for customer-service messages).
    pub fn jump(&self) -> Option<MessageJump> {
        let (url, miniprogram) = match self {
            Payload::Template {
                url, miniprogram, ..
            }
            | Payload::Uniform {
                url, miniprogram, ..
            } => (url, miniprogram),
            Payload::Subscribe {
                page, miniprogram, ..
            } => (page, miniprogram),
            _ => return None,
        };
        (url.is_some() || miniprogram.is_some()).then(|| MessageJump {
            url: url.clone(),
            miniprogram: miniprogram.clone(),
        })
    }

    pub fn kind(&self) -> JobKind {
        match self {
            Payload::Template { .. } => JobKind::Template,
            Payload::CustomText { .. } => JobKind::CustomText,
            Payload::CustomNews { .. } => JobKind::CustomNews,
            Payload::CustomMini { .. } => JobKind::CustomMini,
            Payload::Subscribe { .. } => JobKind::Subscribe,
            Payload::Uniform { .. } => JobKind::Uniform,
        }
    }

    pub fn template_id(&self) -> &str {
        match self {
            Payload::Template { template_id, .. }
            | Payload::Subscribe { template_id, .. }
            | Payload::Uniform { template_id, .. } => template_id,
            _ => "",
        }
    }
}

/// Everything needed to create a job, except its recipients.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobSpec {
    /// The authorizer account that sends.
    pub appid: String,
    /// A name for the operator (e.g. "11月发货通知").
    #[serde(default)]
    pub title: String,
    pub payload: Payload,
    /// Keyword types of the template's fields (from the templates module), so values WeChat
    /// would refuse with 47003 are caught and skipped before sending. Empty: no checks.
    #[serde(default)]
    pub field_rules: Vec<FieldRule>,
    /// `None` takes the engine's default.
    #[serde(default)]
    pub concurrency: Option<u32>,
    #[serde(default)]
    pub rate_per_sec: Option<u32>,
    #[serde(default)]
    pub max_attempts: Option<u32>,
}

/// One keyword's rule: its key, type and (for const/enum) the approved values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldRule {
    pub key: String,
    /// The keyword's title in the synced template (`订单金额` for `amount5`), so a row skipped
    /// for this keyword names what the operator sees in the template, not its key. Rules built
    /// before titles (and `first`/`remark`, which have none) fall back to the key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub kind: crate::templates::keywords::KeywordType,
    #[serde(default)]
    pub allowed: Option<Vec<String>>,
}

/// One recipient as given to `create_job`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipient {
    pub openid: String,
    #[serde(default)]
    pub vars: Vars,
}

impl Recipient {
    pub fn new(openid: impl Into<String>) -> Recipient {
        Recipient {
            openid: openid.into(),
            vars: Vars::new(),
        }
    }
}

/// A job as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Job {
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub id: i64,
    pub appid: String,
    pub kind: JobKind,
    pub template_id: String,
    /// What the operator typed (or the template's title); the faces render it with `purpose`.
    pub title: String,
    pub purpose: JobPurpose,
    pub payload: Payload,
    pub status: JobStatus,
    /// Why the job is paused (or last was): a code the faces name in their language.
    pub pause_reason: Option<PauseReason>,
    pub concurrency: u32,
    pub rate_per_sec: u32,
    pub max_attempts: u32,
    #[cfg_attr(feature = "specta", specta(type = Option<specta_typescript::Number>))]
    pub copied_from: Option<i64>,
    pub counts: JobCounts,
    /// How the faces show it ([`JobShown::of`] over `status` and `counts`).
    pub shown: JobShown,
    /// Whether 概览 lists it under 需要关注 ([`JobShown::needs_attention`]).
    pub attention: bool,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub created_at: i64,
    #[cfg_attr(feature = "specta", specta(type = Option<specta_typescript::Number>))]
    pub started_at: Option<i64>,
    #[cfg_attr(feature = "specta", specta(type = Option<specta_typescript::Number>))]
    pub finished_at: Option<i64>,
    /// The team member who created it (a team workspace's jobs); `None` at a single desk.
    pub created_by: Option<String>,
    #[serde(skip)]
    #[cfg_attr(feature = "specta", specta(skip))]
    pub(crate) nonce: String,
}

impl Job {
    /// The job's title in Chinese, as the CLI prints it.
    pub fn title_zh(&self) -> String {
        self.purpose.title_zh(&self.title)
    }
}

/// Where a job's recipients are: the rows per state, kept in the job row by the same
/// transactions that move rows, and recounted from the rows at every transition (pause, cancel,
/// retry, completion), so the job, its progress reports, 概览 and 发送记录 agree.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct JobCounts {
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub total: u64,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub sent: u64,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub failed_retryable: u64,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub failed_permanent: u64,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub uncertain: u64,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub skipped: u64,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub cancelled: u64,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub delivered: u64,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub user_block: u64,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub system_failed: u64,
}

impl JobCounts {
    pub fn failed(&self) -> u64 {
        self.failed_retryable + self.failed_permanent
    }

    /// Pending or in flight.
    pub fn pending(&self) -> u64 {
        self.total.saturating_sub(
            self.sent + self.failed() + self.uncertain + self.skipped + self.cancelled,
        )
    }
}

/// A progress report for the Tauri channel and the CLI progress bar.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct JobProgress {
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub job_id: i64,
    pub status: Option<JobStatus>,
    /// How the faces show the job now (the same as its [`Job::shown`]).
    pub shown: Option<JobShown>,
    pub pause_reason: Option<PauseReason>,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub total: u64,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub sent: u64,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub failed: u64,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub pending: u64,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub uncertain: u64,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub skipped: u64,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub cancelled: u64,
    /// Outcomes recorded per second, over the last few seconds (always finite).
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub rate_per_sec: f64,
    /// Seconds until the pending rows are done at the current rate; `None` when idle.
    #[cfg_attr(feature = "specta", specta(type = Option<specta_typescript::Number>))]
    pub eta_secs: Option<u64>,
    /// Whether a runner of this process still works on the job (a watch ends when it stops).
    pub active: bool,
}

impl JobProgress {
    pub fn from_job(job: &Job) -> JobProgress {
        let c = &job.counts;
        JobProgress {
            job_id: job.id,
            status: Some(job.status),
            shown: Some(job.shown),
            pause_reason: job.pause_reason.clone(),
            total: c.total,
            sent: c.sent,
            failed: c.failed(),
            pending: c.pending(),
            uncertain: c.uncertain,
            skipped: c.skipped,
            cancelled: c.cancelled,
            rate_per_sec: 0.0,
            eta_secs: None,
            active: false,
        }
    }
}

/// `client_msg_id` of one recipient: deterministic per (job, seq), so an operator-approved resend
/// within WeChat's 10-minute window is dropped by WeChat if the first one did arrive. The job's
/// random nonce keeps two data dirs (or a rebuilt one) from ever producing the same id.
pub fn client_msg_id(job_id: i64, nonce: &str, seq: i64) -> String {
    format!("wxd-{job_id}-{nonce}-{seq}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_report_statuses_map_as_protocol_b4_lists_them() {
        assert_eq!(Delivery::from_report("success"), Delivery::Delivered);
        assert_eq!(
            Delivery::from_report("failed:user block"),
            Delivery::UserBlock
        );
        assert_eq!(
            Delivery::from_report("failed: user block"),
            Delivery::UserBlock
        );
        assert_eq!(
            Delivery::from_report("failed: system failed"),
            Delivery::SystemFailed
        );
        assert_eq!(
            Delivery::from_report("failed:freq limit"),
            Delivery::SystemFailed
        );
        assert_eq!(Delivery::from_report("queued"), Delivery::Unknown);
    }

    #[test]
    fn every_enum_spelling_round_trips() {
        for s in JobStatus::ALL {
            assert_eq!(JobStatus::parse(s.as_str()).ok(), Some(*s));
        }
        for s in RecipientState::ALL {
            assert_eq!(RecipientState::parse(s.as_str()).ok(), Some(*s));
        }
        for s in JobKind::ALL {
            assert_eq!(JobKind::parse(s.as_str()).ok(), Some(*s));
        }
        assert!(JobStatus::parse("done").is_err());
    }

    #[test]
    fn pending_is_what_no_final_state_holds() {
        let c = JobCounts {
            total: 10,
            sent: 3,
            failed_permanent: 1,
            uncertain: 1,
            skipped: 2,
            ..Default::default()
        };
        assert_eq!(c.pending(), 3);
    }

    #[test]
    fn a_completed_job_is_shown_completed_only_when_every_row_got_through() {
        let c = |sent, failed_permanent, uncertain, cancelled| JobCounts {
            total: 10,
            sent,
            failed_permanent,
            uncertain,
            skipped: 10 - sent - failed_permanent - uncertain - cancelled,
            cancelled,
            ..Default::default()
        };
        let of = |s, c: JobCounts| {
            let shown = JobShown::of(s, &c);
            (shown, shown.needs_attention(&c))
        };
        use JobShown as S;
        use JobStatus as J;
        assert_eq!(of(J::Completed, c(9, 0, 0, 0)), (S::Completed, false));
        assert_eq!(of(J::Completed, c(8, 1, 0, 0)), (S::PartlyFailed, true));
        assert_eq!(of(J::Completed, c(8, 0, 1, 0)), (S::PartlyFailed, true));
        assert_eq!(of(J::Completed, c(0, 1, 0, 0)), (S::Failed, true));
        assert_eq!(of(J::Completed, c(0, 0, 2, 0)), (S::Failed, true));
        // Nothing to send (every row skipped) is not a failure.
        assert_eq!(of(J::Completed, c(0, 0, 0, 0)), (S::Completed, false));
        assert_eq!(of(J::Cancelled, c(3, 0, 0, 7)), (S::Cancelled, false));
        assert_eq!(of(J::Cancelled, c(3, 1, 0, 6)), (S::Cancelled, true));
        assert_eq!(of(J::Paused, c(3, 0, 0, 0)), (S::Paused, true));
        assert_eq!(of(J::PausedQuota, c(3, 0, 0, 0)), (S::PausedQuota, true));
        assert_eq!(of(J::Running, c(3, 1, 0, 0)), (S::Running, false));
        assert_eq!(of(J::Draft, c(0, 0, 0, 0)), (S::Draft, false));
        for s in JobShown::ALL {
            assert_eq!(JobShown::parse(s.as_str()).ok(), Some(*s));
        }
    }

    #[test]
    fn client_msg_id_depends_on_job_nonce_and_seq_only() {
        assert_eq!(client_msg_id(7, "a1b2c3", 42), "wxd-7-a1b2c3-42");
        assert_eq!(
            client_msg_id(7, "a1b2c3", 42),
            client_msg_id(7, "a1b2c3", 42)
        );
        assert_ne!(
            client_msg_id(7, "a1b2c3", 42),
            client_msg_id(7, "ffffff", 42)
        );
    }
}
