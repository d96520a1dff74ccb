//! Mini-program code management (protocol section L): the platform's template library (草稿箱 and
//! 模板库), each mini program's code (体验版, audits, the online version and the versions a
//! rollback may return to), the monthly audit quota, the platform's registered domains — and the
//! audit clock that settles audits after `audit_secs` and pushes `weapp_audit_*` to the mini
//! program's message URL.
//!
//! The rules are methods of [`CodeState`] in [`rules`], pure functions of the state and `now`;
//! the HTTP shapes are in `api::code`.

pub mod rules;

use std::collections::{BTreeMap, HashMap};

use serde_json::{Value, json};

use crate::push::{Push, Target, cdata};
use crate::sim::Sim;

/// Templates the library holds (L.1: 200).
pub const MAX_TEMPLATES: usize = 200;
/// Online versions kept for rollback (L.8).
pub const MAX_HISTORY: usize = 5;
/// Withdrawals per mini program (L.3 undocodeaudit).
pub const UNDO_PER_DAY: u32 = 5;
pub const UNDO_PER_MONTH: u32 = 10;
/// Speed-ups per platform per month (`speedup_limit`).
pub const SPEEDUP_LIMIT: u32 = 10;
/// The system sender of audit pushes (FromUserName), as in the official example.
pub const SYSTEM_OPENID: &str = "od1P50M-fNQI5Gcq-trm4a7apsU8";
/// Rejection reason of an ext.json asking for `"sim_audit": "fail"` (the official example's).
pub const FAIL_REASON: &str = "1:账号信息不符合规范:<br>(1):包含色情因素<br>2:服务类目\"金融业-保险_\"与你提交代码审核时设置的功能页面内容不一致:<br>(1):功能页面设置的部分标签不属于所选的服务类目范围。<br>";
pub const FAIL_SCREENSHOT: &str = "sim_media_shot1|sim_media_shot2";
pub const DELAY_REASON: &str =
    "为了更好的服务小程序，您的服务商正在进行提审系统的优化，可能会导致审核时效的增长，请耐心等待";

/// Pages every seeded template has (ext.json `pages` may only name these).
pub const TEMPLATE_PAGES: &[&str] = &[
    "pages/index/index",
    "pages/shop/detail",
    "pages/order/list",
    "pages/member/card",
];

/// Categories `get_category` offers: (first_class, second_class, first_id, second_id).
pub const CATEGORIES: &[(&str, &str, i64, i64)] = &[
    ("商业服务", "企业管理", 150, 627),
    ("工具", "效率", 287, 616),
    ("餐饮", "点评与推荐", 220, 221),
];

/// Server domains registered on the platform (小程序服务器域名), by list name.
pub const PLATFORM_DOMAINS: &[(&str, &[&str])] = &[
    (
        "requestdomain",
        &["https://api.wxdesk-demo.com", "https://pay.wxdesk-demo.com"],
    ),
    ("wsrequestdomain", &["wss://ws.wxdesk-demo.com"]),
    ("uploaddomain", &["https://files.wxdesk-demo.com"]),
    ("downloaddomain", &["https://files.wxdesk-demo.com"]),
    ("udpdomain", &["udp://udp.wxdesk-demo.com"]),
    ("tcpdomain", &["tcp://tcp.wxdesk-demo.com"]),
];
/// Webview (业务) domains registered on the platform.
pub const PLATFORM_WEBVIEW: &[&str] = &["https://m.wxdesk-demo.com", "https://h5.wxdesk-demo.com"];

#[derive(Debug, Clone)]
pub struct Draft {
    pub draft_id: i64,
    pub user_version: String,
    pub user_desc: String,
    pub create_time: i64,
    pub source_appid: String,
    pub source_name: String,
}

#[derive(Debug, Clone)]
pub struct Template {
    pub template_id: i64,
    pub draft_id: i64,
    pub user_version: String,
    pub user_desc: String,
    pub create_time: i64,
    pub template_type: i64,
    pub source_appid: String,
    pub source_name: String,
}

/// The 体验版: what `commit` uploaded.
#[derive(Debug, Clone)]
pub struct Exp {
    pub template_id: i64,
    pub user_version: String,
    pub user_desc: String,
    /// ext.json as committed (a JSON object).
    pub ext: Value,
    pub pages: Vec<String>,
    pub committed_at: i64,
    /// submit_audit answers 61039 before this.
    pub privacy_ready_at: i64,
}

/// How an audit will end, chosen from the committed ext.json (`sim_audit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    Fail,
    /// 审核延后 at `due_at`, then passes `audit_secs` later.
    Delay,
}

#[derive(Debug, Clone)]
pub struct Audit {
    pub auditid: i64,
    /// The 体验版 submitted (a later commit does not change what is under audit).
    pub version: Exp,
    pub submitted_at: i64,
    pub due_at: i64,
    pub outcome: Outcome,
    /// 0 成功, 1 被拒绝, 2 审核中, 3 已撤回, 4 审核延后.
    pub status: i64,
    pub reason: Option<String>,
    pub screenshot: Option<String>,
    pub sped_up: bool,
    pub released: bool,
}

impl Audit {
    pub fn pending(&self) -> bool {
        matches!(self.status, 2 | 4)
    }
}

/// One online version.
#[derive(Debug, Clone)]
pub struct Release {
    pub app_version: i64,
    pub template_id: i64,
    pub user_version: String,
    pub user_desc: String,
    pub released_at: i64,
}

/// One mini program's code.
#[derive(Debug, Clone)]
pub struct MiniCode {
    pub exp: Option<Exp>,
    /// Every audit, oldest first; the last is the latest.
    pub audits: Vec<Audit>,
    pub release: Option<Release>,
    /// Earlier online versions a rollback may return to, oldest first (at most 5).
    pub history: Vec<Release>,
    /// The online version came from a rollback: it cannot be rolled back again.
    pub reverted: bool,
    /// Successful `release` calls per user_version: "released exactly once" is provable.
    pub releases: BTreeMap<String, u64>,
    pub commits: u64,
    pub reverts: u64,
    pub next_app_version: i64,
    /// (day, count) and (month, count) of withdrawals.
    pub undo_day: (i64, u32),
    pub undo_month: (i64, u32),
    pub visit_open: bool,
    pub domains: BTreeMap<&'static str, Vec<String>>,
    pub webview: Vec<String>,
}

impl Default for MiniCode {
    fn default() -> Self {
        MiniCode {
            exp: None,
            audits: Vec::new(),
            release: None,
            history: Vec::new(),
            reverted: false,
            releases: BTreeMap::new(),
            commits: 0,
            reverts: 0,
            next_app_version: 1,
            undo_day: (0, 0),
            undo_month: (0, 0),
            visit_open: true,
            domains: PLATFORM_DOMAINS
                .iter()
                .map(|(k, _)| (*k, Vec::new()))
                .collect(),
            webview: Vec::new(),
        }
    }
}

impl MiniCode {
    pub fn latest_audit(&self) -> Option<&Audit> {
        self.audits.last()
    }
}

/// The code-management part of the sim's state (inside `state::Inner`, under its one lock).
#[derive(Debug, Clone, Default)]
pub struct CodeState {
    pub drafts: Vec<Draft>,
    pub templates: Vec<Template>,
    pub next_draft_id: i64,
    pub next_template_id: i64,
    pub next_auditid: i64,
    /// By account index.
    pub minis: HashMap<u16, MiniCode>,
    /// auditid → account index (85012 for someone else's).
    pub audit_owner: HashMap<i64, u16>,
    /// (30-day month, audits submitted) of the platform.
    pub quota: (i64, u32),
    pub speedups: (i64, u32),
}

/// The library a new platform starts with: three drafts uploaded from a development mini
/// program, the first two of them already templates.
pub fn seeded(epoch: i64) -> CodeState {
    let day = 86_400;
    let source = (
        "wxd0e5dev0000000001".to_string(),
        "门店模板开发版".to_string(),
    );
    let drafts: Vec<Draft> = [
        (1, "1.0.0", "门店小程序首版", 40),
        (2, "1.1.0", "增加会员卡", 20),
        (3, "2.0.0", "新版首页（尚未加入模板库）", 2),
    ]
    .into_iter()
    .map(|(id, v, d, ago)| Draft {
        draft_id: id,
        user_version: v.into(),
        user_desc: d.into(),
        create_time: epoch - ago * day,
        source_appid: source.0.clone(),
        source_name: source.1.clone(),
    })
    .collect();
    let templates = drafts
        .iter()
        .take(2)
        .map(|d| Template {
            template_id: d.draft_id,
            draft_id: d.draft_id,
            user_version: d.user_version.clone(),
            user_desc: d.user_desc.clone(),
            create_time: d.create_time + day,
            template_type: 0,
            source_appid: d.source_appid.clone(),
            source_name: d.source_name.clone(),
        })
        .collect();
    CodeState {
        drafts,
        templates,
        next_draft_id: 4,
        next_template_id: 3,
        next_auditid: 400_000_000 + epoch.rem_euclid(1_000_000),
        ..CodeState::default()
    }
}

/// Settles every audit due by now and pushes its result to the mini program's message URL.
/// Called by a timer and before every code API answer, so an advanced clock is seen at once.
pub fn settle(sim: &Sim) {
    let audit_secs = sim.cfg.audit_secs as i64;
    let now = sim.now();
    let settled = sim.lock().code.settle(now, audit_secs);
    for (account, push) in settled {
        let Some(a) = sim.world.accounts.get(usize::from(account)) else {
            continue;
        };
        sim.pusher.push(Push {
            target: Target::Account {
                appid: a.appid.clone(),
                user_name: a.user_name.clone(),
                openid: None,
            },
            xml: audit_xml(&a.user_name, &push),
        });
    }
}

/// One audit push to send.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditPush {
    pub event: &'static str,
    pub at: i64,
    pub reason: Option<String>,
    pub screenshot: Option<String>,
}

/// The decrypted XML of a `weapp_audit_*` push (protocol L.4).
pub fn audit_xml(user_name: &str, p: &AuditPush) -> String {
    let time_tag = match p.event {
        "weapp_audit_success" => "SuccTime",
        "weapp_audit_fail" => "FailTime",
        _ => "DelayTime",
    };
    let mut x = format!(
        "<xml><ToUserName>{}</ToUserName><FromUserName>{}</FromUserName><CreateTime>{}</CreateTime><MsgType>{}</MsgType><Event>{}</Event>",
        cdata(user_name),
        cdata(SYSTEM_OPENID),
        p.at,
        cdata("event"),
        cdata(p.event)
    );
    if let Some(r) = &p.reason {
        x.push_str(&format!("<Reason>{}</Reason>", cdata(r)));
    }
    x.push_str(&format!("<{time_tag}>{}</{time_tag}>", p.at));
    if let Some(s) = &p.screenshot {
        x.push_str(&format!("<ScreenShot>{s}</ScreenShot>"));
    }
    x.push_str("</xml>");
    x
}

/// `code` of one mini program in `/__sim/state`.
pub fn state_json(code: &CodeState, account: u16) -> Value {
    let Some(m) = code.minis.get(&account) else {
        return json!({"committed": null, "under_review": null, "latest_audit": null,
            "released": null, "releases": {}, "commits": 0, "audits_submitted": 0, "reverts": 0,
            "visit_status": 1});
    };
    let committed = m.exp.as_ref().map(|e| {
        json!({"template_id": e.template_id, "user_version": e.user_version,
               "user_desc": e.user_desc, "ext": e.ext, "committed_at": e.committed_at})
    });
    let under_review = m.audits.iter().rev().find(|a| a.pending()).map(|a| {
        json!({"auditid": a.auditid, "user_version": a.version.user_version, "status": a.status})
    });
    let latest = m.latest_audit().map(|a| {
        json!({"auditid": a.auditid, "user_version": a.version.user_version, "status": a.status,
               "reason": a.reason, "released": a.released})
    });
    let released = m.release.as_ref().map(|r| {
        json!({"user_version": r.user_version, "user_desc": r.user_desc,
               "template_id": r.template_id, "released_at": r.released_at,
               "from_rollback": m.reverted})
    });
    json!({
        "committed": committed,
        "under_review": under_review,
        "latest_audit": latest,
        "released": released,
        "releases": m.releases,
        "commits": m.commits,
        "audits_submitted": m.audits.len(),
        "reverts": m.reverts,
        "visit_status": i64::from(m.visit_open),
    })
}

/// The platform-wide part of `code` in `/__sim/state`.
pub fn platform_json(code: &CodeState, limit: u32, now: i64) -> Value {
    json!({
        "audit_quota": {"used": code.quota_used(now), "limit": limit},
        "drafts": code.drafts.len(),
        "templates": code.templates.iter().map(|t| t.template_id).collect::<Vec<_>>(),
    })
}
