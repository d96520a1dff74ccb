//! The types code management hands to the faces (Serialize; codes, never labels: the faces
//! translate states and reasons).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use wxdesk_wechat::api as wx;

use crate::error::Msg;

/// One upload in the platform's 草稿箱.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Draft {
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub draft_id: i64,
    pub user_version: String,
    pub user_desc: String,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub create_time: i64,
}

/// One template of the platform's 模板库 (`CodeTemplate` in TypeScript, beside the message
/// templates' `Template`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
// The container name reaches only the TypeScript type (JSON has no struct names).
#[serde(rename = "CodeTemplate")]
pub struct Template {
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub template_id: i64,
    #[cfg_attr(feature = "specta", specta(type = Option<specta_typescript::Number>))]
    pub draft_id: Option<i64>,
    pub user_version: String,
    pub user_desc: String,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub create_time: i64,
    /// 0 普通模板, 1 标准模板.
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub template_type: i64,
    pub source_miniprogram_appid: String,
    pub source_miniprogram: String,
}

/// The 草稿箱 and the 模板库 together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Library {
    pub drafts: Vec<Draft>,
    pub templates: Vec<Template>,
}

impl From<wx::CodeDraft> for Draft {
    fn from(d: wx::CodeDraft) -> Self {
        Draft {
            draft_id: d.draft_id,
            user_version: d.user_version,
            user_desc: d.user_desc,
            create_time: d.create_time,
        }
    }
}

impl From<wx::CodeTemplate> for Template {
    fn from(t: wx::CodeTemplate) -> Self {
        Template {
            template_id: t.template_id,
            draft_id: t.draft_id,
            user_version: t.user_version,
            user_desc: t.user_desc,
            create_time: t.create_time,
            template_type: t.template_type,
            source_miniprogram_appid: t.source_miniprogram_appid,
            source_miniprogram: t.source_miniprogram,
        }
    }
}

/// The six server-domain lists of a mini program (scheme included: `https://`, `wss://`…), as
/// read and as a change sends them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ServerLists {
    pub requestdomain: Vec<String>,
    pub wsrequestdomain: Vec<String>,
    pub uploaddomain: Vec<String>,
    pub downloaddomain: Vec<String>,
    pub udpdomain: Vec<String>,
    pub tcpdomain: Vec<String>,
}

impl From<wx::ServerDomains> for ServerLists {
    fn from(d: wx::ServerDomains) -> Self {
        ServerLists {
            requestdomain: d.requestdomain,
            wsrequestdomain: d.wsrequestdomain,
            uploaddomain: d.uploaddomain,
            downloaddomain: d.downloaddomain,
            udpdomain: d.udpdomain,
            tcpdomain: d.tcpdomain,
        }
    }
}

/// A mini program's server domains after a change, and what WeChat filtered out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Domains {
    pub current: ServerLists,
    pub invalid: Vec<String>,
}

/// A category the mini program may be audited under (names and ids for submit_audit; the
/// faces send a chosen one back, hence Deserialize).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Category {
    pub first_class: String,
    pub second_class: String,
    pub third_class: Option<String>,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub first_id: i64,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub second_id: i64,
    #[cfg_attr(feature = "specta", specta(type = Option<specta_typescript::Number>))]
    pub third_id: Option<i64>,
}

impl From<wx::CodeCategory> for Category {
    fn from(c: wx::CodeCategory) -> Self {
        Category {
            first_class: c.first_class,
            second_class: c.second_class,
            third_class: c.third_class,
            first_id: c.first_id,
            second_id: c.second_id,
            third_id: c.third_id,
        }
    }
}

impl From<Category> for wx::CodeCategory {
    fn from(c: Category) -> Self {
        wx::CodeCategory {
            first_class: c.first_class,
            second_class: c.second_class,
            third_class: c.third_class,
            first_id: c.first_id,
            second_id: c.second_id,
            third_id: c.third_id,
        }
    }
}

/// What `commit` uploads for one mini program.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CommitInput {
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub template_id: i64,
    pub user_version: String,
    pub user_desc: String,
    /// ext.json text (a JSON object); `None` commits `{}`.
    pub ext_json: Option<String>,
}

/// An audit's state as a code (WeChat's numbers 0–4 in `status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum AuditState {
    Approved,
    Rejected,
    Auditing,
    Withdrawn,
    Delayed,
    /// A status number this build does not know.
    Unknown,
}

impl AuditState {
    pub fn from_status(status: i64) -> AuditState {
        match status {
            wx::audit_status::SUCCESS => AuditState::Approved,
            wx::audit_status::REJECTED => AuditState::Rejected,
            wx::audit_status::AUDITING => AuditState::Auditing,
            wx::audit_status::WITHDRAWN => AuditState::Withdrawn,
            wx::audit_status::DELAYED => AuditState::Delayed,
            _ => AuditState::Unknown,
        }
    }
}

/// One audit as WeChat reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Audit {
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub auditid: i64,
    pub state: AuditState,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub status: i64,
    /// Rejection or delay reason (may contain `<br>`).
    pub reason: Option<String>,
    pub screenshot: Option<String>,
    pub user_version: String,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub submitted_at: i64,
}

/// One version line (体验版 or 线上版).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct VersionLine {
    pub version: String,
    pub desc: String,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub time: i64,
}

/// Which audit push (`weapp_audit_success` / `_fail` / `_delay`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum AuditPushEvent {
    Success,
    Fail,
    Delay,
}

impl AuditPushEvent {
    /// The push's `Event`.
    pub fn event_name(self) -> &'static str {
        match self {
            AuditPushEvent::Success => "weapp_audit_success",
            AuditPushEvent::Fail => "weapp_audit_fail",
            AuditPushEvent::Delay => "weapp_audit_delay",
        }
    }
}

impl From<wx::AuditEvent> for AuditPushEvent {
    fn from(e: wx::AuditEvent) -> Self {
        match e {
            wx::AuditEvent::Success => AuditPushEvent::Success,
            wx::AuditEvent::Fail => AuditPushEvent::Fail,
            wx::AuditEvent::Delay => AuditPushEvent::Delay,
        }
    }
}

/// An audit push recorded from the relay feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AuditPushRecord {
    pub event: AuditPushEvent,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub at: i64,
    pub reason: Option<String>,
    pub screenshot: Option<String>,
    /// The relay's sequence number of the push.
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub seq: i64,
}

/// Where one mini program's code stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CodeStatus {
    pub appid: String,
    pub trial: Option<VersionLine>,
    pub online: Option<VersionLine>,
    pub latest_audit: Option<Audit>,
    /// The newest audit push the feed recorded for it.
    pub last_push: Option<AuditPushRecord>,
    /// Whether the online version is open to users (None: could not ask).
    pub visit_open: Option<bool>,
}

/// The platform's audit quota this month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AuditQuota {
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub rest: i64,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub limit: i64,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub speedup_rest: i64,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub speedup_limit: i64,
}

impl From<wx::AuditQuota> for AuditQuota {
    fn from(q: wx::AuditQuota) -> Self {
        AuditQuota {
            rest: q.rest,
            limit: q.limit,
            speedup_rest: q.speedup_rest,
            speedup_limit: q.speedup_limit,
        }
    }
}

// ---- rollouts ----------------------------------------------------------------------------

/// How far a rollout takes each mini program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum RolloutTarget {
    /// Commit only (体验版).
    Committed,
    /// Commit and pass the audit; release later by hand.
    Audited,
    /// Commit, audit, release.
    Released,
}

impl RolloutTarget {
    pub fn as_str(self) -> &'static str {
        match self {
            RolloutTarget::Committed => "committed",
            RolloutTarget::Audited => "audited",
            RolloutTarget::Released => "released",
        }
    }

    pub fn parse(s: &str) -> Option<RolloutTarget> {
        Some(match s {
            "committed" => RolloutTarget::Committed,
            "audited" => RolloutTarget::Audited,
            "released" => RolloutTarget::Released,
            _ => return None,
        })
    }

    /// The row state that means "done" for this target.
    pub fn done_state(self) -> RowState {
        match self {
            RolloutTarget::Committed => RowState::Committed,
            RolloutTarget::Audited => RowState::AuditPassed,
            RolloutTarget::Released => RowState::Released,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum RolloutStatus {
    Draft,
    Running,
    Paused,
    Cancelled,
    Completed,
}

impl RolloutStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RolloutStatus::Draft => "draft",
            RolloutStatus::Running => "running",
            RolloutStatus::Paused => "paused",
            RolloutStatus::Cancelled => "cancelled",
            RolloutStatus::Completed => "completed",
        }
    }

    pub fn parse(s: &str) -> Option<RolloutStatus> {
        Some(match s {
            "draft" => RolloutStatus::Draft,
            "running" => RolloutStatus::Running,
            "paused" => RolloutStatus::Paused,
            "cancelled" => RolloutStatus::Cancelled,
            "completed" => RolloutStatus::Completed,
            _ => return None,
        })
    }
}

/// One mini program's place in a rollout. `committing`, `submitting` and `releasing` are
/// written before the call they name, so a restart knows a call may have reached WeChat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum RowState {
    Pending,
    Committing,
    Committed,
    Submitting,
    Auditing,
    AuditDelayed,
    AuditPassed,
    Releasing,
    Released,
    AuditFailed,
    Failed,
    Cancelled,
}

impl RowState {
    pub const ALL: [RowState; 12] = [
        RowState::Pending,
        RowState::Committing,
        RowState::Committed,
        RowState::Submitting,
        RowState::Auditing,
        RowState::AuditDelayed,
        RowState::AuditPassed,
        RowState::Releasing,
        RowState::Released,
        RowState::AuditFailed,
        RowState::Failed,
        RowState::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RowState::Pending => "pending",
            RowState::Committing => "committing",
            RowState::Committed => "committed",
            RowState::Submitting => "submitting",
            RowState::Auditing => "auditing",
            RowState::AuditDelayed => "audit_delayed",
            RowState::AuditPassed => "audit_passed",
            RowState::Releasing => "releasing",
            RowState::Released => "released",
            RowState::AuditFailed => "audit_failed",
            RowState::Failed => "failed",
            RowState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<RowState> {
        RowState::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// No further step, whatever the target.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            RowState::Released | RowState::AuditFailed | RowState::Failed | RowState::Cancelled
        )
    }

    /// No further step for a rollout with `target`.
    pub fn is_terminal_for(self, target: RolloutTarget) -> bool {
        self.is_final() || self == target.done_state()
    }
}

/// Why a rollout is paused (a code; the faces word it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum PauseCode {
    /// The operator paused it (Ctrl-C in the CLI).
    Operator,
    /// The platform's monthly audit quota is used up.
    AuditQuota,
    /// The process running it stopped (a crash, a kill).
    Interrupted,
    /// Something outside WeChat's answers failed (settings, keychain, relay): see `detail`.
    Error,
}

impl PauseCode {
    pub fn as_str(self) -> &'static str {
        match self {
            PauseCode::Operator => "operator",
            PauseCode::AuditQuota => "audit_quota",
            PauseCode::Interrupted => "interrupted",
            PauseCode::Error => "error",
        }
    }

    pub fn parse(s: &str) -> Option<PauseCode> {
        Some(match s {
            "operator" => PauseCode::Operator,
            "audit_quota" => PauseCode::AuditQuota,
            "interrupted" => PauseCode::Interrupted,
            "error" => PauseCode::Error,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Pause {
    pub code: PauseCode,
    /// Details (the failure's message; empty for `operator`).
    pub detail: String,
}

/// Rows per state, and the totals the faces show.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RowCounts {
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub total: u64,
    /// Rows that reached the rollout's target.
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub done: u64,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub audit_failed: u64,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub failed: u64,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub cancelled: u64,
    /// Rows with steps left.
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub remaining: u64,
    #[cfg_attr(feature = "specta", specta(type = std::collections::BTreeMap<RowState, specta_typescript::Number>))]
    pub by_state: BTreeMap<RowState, u64>,
}

/// A rollout job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Rollout {
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub id: i64,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub template_id: i64,
    pub user_version: String,
    pub user_desc: String,
    pub target: RolloutTarget,
    pub status: RolloutStatus,
    pub pause: Option<Pause>,
    /// The client table's file name, when there was one.
    pub source: String,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub created_at: i64,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub updated_at: i64,
    #[cfg_attr(feature = "specta", specta(type = Option<specta_typescript::Number>))]
    pub finished_at: Option<i64>,
    pub counts: RowCounts,
}

/// One mini program of a rollout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RolloutRow {
    pub appid: String,
    /// Line of the client table (0 when the appid was given directly).
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub line: i64,
    pub state: RowState,
    #[cfg_attr(feature = "specta", specta(type = Option<specta_typescript::Number>))]
    pub auditid: Option<i64>,
    /// Rejection or delay reason.
    pub reason: Option<String>,
    pub screenshot: Option<String>,
    /// The last failure in both languages (no secrets) and WeChat's errcode when WeChat
    /// answered; the window shows the one it speaks.
    pub error: Option<Msg>,
    #[cfg_attr(feature = "specta", specta(type = Option<specta_typescript::Number>))]
    pub errcode: Option<i64>,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub attempts: i64,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub updated_at: i64,
    pub ext_json: String,
}

/// What a running rollout streams.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RolloutProgress {
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub rollout_id: i64,
    pub status: RolloutStatus,
    pub pause: Option<Pause>,
    pub counts: RowCounts,
    /// The audit quota as last asked (None until asked, or when asking failed).
    pub quota: Option<AuditQuota>,
}

/// Mini programs grouped by their online version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct VersionGroup {
    /// `None`: nothing online; `Some("?")` is never used — see `unknown`.
    pub version: Option<String>,
    pub appids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct VersionSummary {
    pub groups: Vec<VersionGroup>,
    /// Mini programs whose version could not be read, with why.
    pub unknown: Vec<(String, String)>,
}
