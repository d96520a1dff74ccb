//! The sim's mutable state (tokens, codes, authorizations, quotas, sends) and the rules that
//! read it. One mutex guards it: every operation is a few map lookups, far below the cost of the
//! HTTP around it, so one lock is both simplest and fast enough for thousands of calls a second.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use serde_json::{Value, json};

use crate::ids;

/// Tokens live two hours; after a newer one is issued the old one still works five minutes.
pub const TOKEN_TTL: i64 = 7200;
pub const OVERLAP_SECS: i64 = 300;
pub const TICKET_TTL: i64 = 12 * 3600;
pub const CODE_TTL: i64 = 600;
pub const IDEMPOTENCY_SECS: i64 = 600;
/// The customer-service window a user's message opens: 5 messages within 48 hours.
pub const WINDOW_SECS: i64 = 48 * 3600;
pub const WINDOW_QUOTA: u32 = 5;
/// The window a push-menu click, a follow or a QR scan opens: 3 messages within 1 minute.
pub const EVENT_WINDOW_SECS: i64 = 60;
pub const EVENT_WINDOW_QUOTA: u32 = 3;
pub const CLEARS_PER_MONTH: u32 = 10;
/// Quota key of the platform's own (component) calls.
pub const COMPONENT: u16 = u16::MAX;

/// A WeChat error answer: HTTP 200 with `{"errcode","errmsg"}`; errmsg gets a `rid:` suffix.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiErr {
    pub code: i64,
    pub msg: String,
}

impl ApiErr {
    pub fn new(code: i64, msg: impl Into<String>) -> Self {
        ApiErr {
            code,
            msg: msg.into(),
        }
    }
    pub fn to_json(&self) -> Value {
        json!({"errcode": self.code, "errmsg": format!("{}{}", self.msg, ids::rid())})
    }
    pub fn missing_token() -> Self {
        ApiErr::new(41001, "access_token missing")
    }
    pub fn invalid_token() -> Self {
        ApiErr::new(
            40001,
            "invalid credential, access_token is invalid or not latest",
        )
    }
    pub fn expired_token() -> Self {
        ApiErr::new(42001, "access_token expired")
    }
    pub fn data_format() -> Self {
        ApiErr::new(47001, "data format error")
    }
    pub fn invalid_appid() -> Self {
        ApiErr::new(40013, "invalid appid")
    }
    pub fn invalid_openid() -> Self {
        ApiErr::new(40003, "invalid openid")
    }
    pub fn require_subscribe() -> Self {
        ApiErr::new(43004, "require subscribe")
    }
    pub fn unauthorized_api() -> Self {
        ApiErr::new(48001, "api unauthorized")
    }
    pub fn quota() -> Self {
        ApiErr::new(45009, "reach max api daily quota limit")
    }
}

pub type ApiResult<T> = std::result::Result<T, ApiErr>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    Component,
    Authorizer,
    Client,
}

#[derive(Debug, Clone)]
pub struct TokenRec {
    pub kind: TokenKind,
    /// Account index (authorizer/client tokens).
    pub account: Option<u16>,
    pub expires_at: i64,
    pub superseded_at: Option<i64>,
}

#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Issued {
    pub component: u64,
    pub authorizer: u64,
    pub pre_auth_code: u64,
    pub client: u64,
}

#[derive(Debug, Clone)]
pub struct PreAuth {
    pub expires_at: i64,
    pub used: bool,
    pub redirect_uri: Option<String>,
}

#[derive(Debug, Clone)]
pub struct AuthCode {
    pub account: u16,
    pub expires_at: i64,
    pub used: bool,
}

#[derive(Debug, Clone)]
pub struct Authz {
    pub refresh_token: String,
    pub auth_time: i64,
}

#[derive(Debug, Clone)]
pub struct PrivTemplate {
    pub template_id: String,
    /// Index into `templates::LIBRARY`.
    pub lib: usize,
    /// Selected keywords (indexes into the library template's keywords), in order.
    pub keywords: Vec<usize>,
}

#[derive(Debug, Default)]
pub struct Sends {
    pub accepted: u64,
    pub per_account: BTreeMap<u16, u64>,
    /// (account << 32 | follower index) → messages accepted for that recipient.
    pub per_recipient: HashMap<u64, u16>,
    pub max_per_recipient: u16,
    pub by_status: BTreeMap<String, u64>,
    pub custom_accepted: u64,
    pub bizsend_accepted: u64,
}

#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub opened_at: i64,
    pub used: u32,
    /// How long it stays open and how many messages it allows.
    pub secs: i64,
    pub quota: u32,
}

impl Window {
    /// Opened by a message from the user.
    pub fn message(at: i64) -> Window {
        Window {
            opened_at: at,
            used: 0,
            secs: WINDOW_SECS,
            quota: WINDOW_QUOTA,
        }
    }

    /// Opened by a push-menu click, a follow or a QR scan.
    pub fn event(at: i64) -> Window {
        Window {
            opened_at: at,
            used: 0,
            secs: EVENT_WINDOW_SECS,
            quota: EVENT_WINDOW_QUOTA,
        }
    }

    pub fn is_open(&self, now: i64) -> bool {
        now - self.opened_at < self.secs
    }

    /// What a new action leaves open (protocol I.3, its recommendation for the UNCERTAIN merge):
    /// a short event window does not shorten a message window that is still open (its 48 hours
    /// stay), and the allowance becomes the larger of what was left and what the event allows.
    pub fn renewed_by(old: Option<&Window>, new: Window) -> Window {
        match old {
            Some(o) if o.is_open(new.opened_at) && o.secs > new.secs => {
                let left = o.quota.saturating_sub(o.used).max(new.quota);
                Window {
                    used: o.quota.saturating_sub(left),
                    quota: o.quota.max(left),
                    ..*o
                }
            }
            _ => new,
        }
    }
}

#[derive(Debug, Default)]
pub struct Inner {
    pub tokens: HashMap<String, TokenRec>,
    /// The newest token per (kind, account), the one a new issue supersedes.
    pub newest: HashMap<(TokenKind, Option<u16>), String>,
    pub issued: Issued,
    /// (ticket, created_at) of the latest pushed component_verify_ticket.
    pub ticket: Option<(String, i64)>,
    pub tickets_pushed: u64,
    /// Login pages served, and how many of those requests still carried a login session
    /// cookie from an earlier page (a browser that keeps WeChat's login between authorizations).
    pub login_pages: u64,
    pub login_pages_with_session: u64,
    pub pre_auth: HashMap<String, PreAuth>,
    pub auth_codes: HashMap<String, AuthCode>,
    pub authz: BTreeMap<u16, Authz>,
    pub templates: HashMap<u16, Vec<PrivTemplate>>,
    pub template_serial: u64,
    pub industry: HashMap<u16, (String, String)>,
    /// (account, api path) → (sim day, calls).
    pub quota_used: HashMap<(u16, &'static str), (i64, u64)>,
    /// account → (sim month, clears).
    pub clears: HashMap<u16, (i64, u32)>,
    pub sends: Sends,
    /// (account, follower, client_msg_id) → (msgid, accepted at).
    pub idempotency: HashMap<(u16, u32, String), (i64, i64)>,
    pub windows: HashMap<u64, Window>,
    /// 订阅通知: each official account's chosen templates, and what each user granted.
    pub sub_templates: HashMap<u16, Vec<crate::subscribe::SubTemplate>>,
    pub sub_serial: u64,
    pub grants: crate::subscribe::Grants,
    /// Messages that carried a jump (web page or mini program), newest last, at most
    /// [`MAX_JUMPS`]: what a recipient opens when they tap the message.
    pub jumps: VecDeque<Jump>,
    /// API calls by caller IP (what WeChat's whitelist sees).
    pub callers: BTreeMap<String, u64>,
    pub used_js_codes: HashSet<String>,
    pub next_msgid: i64,
    /// Followers who unfollowed (false) and former followers who followed again (true) since
    /// the start, by recipient key; everyone else is as the world generated them.
    pub follow_overrides: HashMap<u64, bool>,
    /// Customer-service texts sent to the release-test accounts: (account, touser, content).
    pub release_custom: Vec<(u16, String, String)>,
    /// Mini-program code management: template library, code, audits, releases (protocol L).
    pub code: crate::code::CodeState,
    /// Temporary media uploaded (card covers), oldest first.
    pub media: VecDeque<crate::api::media::Media>,
    /// Temporary parametric QR codes by what they encode (`url`), oldest first in `qr_order`
    /// so that at most [`crate::api::qrcode::MAX_CODES`] are kept.
    pub qr_codes: HashMap<String, crate::api::qrcode::QrCode>,
    pub qr_order: VecDeque<String>,
}

/// How many jump records `/__sim/state` keeps.
pub const MAX_JUMPS: usize = 10_000;

/// One message with a jump, as a recipient would see it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Jump {
    /// The official account that sent it.
    pub appid: String,
    pub openid: String,
    /// `template` or `subscribe`.
    pub kind: &'static str,
    pub template_id: String,
    pub msgid: i64,
    pub url: Option<String>,
    /// `{appid, pagepath}` of the mini program the message opens (before `url` when both).
    pub miniprogram: Option<Value>,
}

impl Inner {
    pub fn record_jump(&mut self, j: Jump) {
        if self.jumps.len() >= MAX_JUMPS {
            self.jumps.pop_front();
        }
        self.jumps.push_back(j);
    }
}

pub fn recipient_key(account: u16, index: u32) -> u64 {
    (u64::from(account) << 32) | u64::from(index)
}

impl Inner {
    /// Issue a token of `kind`; the previous newest one of the same (kind, account) keeps
    /// working for five minutes.
    pub fn issue_token(&mut self, kind: TokenKind, account: Option<u16>, now: i64) -> String {
        let prefix = match kind {
            TokenKind::Component => "cat_",
            TokenKind::Authorizer => "aat_",
            TokenKind::Client => "at_",
        };
        let token = ids::random_token(prefix, 120);
        if let Some(old) = self.newest.insert((kind, account), token.clone())
            && let Some(rec) = self.tokens.get_mut(&old)
            && rec.superseded_at.is_none()
        {
            rec.superseded_at = Some(now);
        }
        self.tokens.insert(
            token.clone(),
            TokenRec {
                kind,
                account,
                expires_at: now + TOKEN_TTL,
                superseded_at: None,
            },
        );
        match kind {
            TokenKind::Component => self.issued.component += 1,
            TokenKind::Authorizer => self.issued.authorizer += 1,
            TokenKind::Client => self.issued.client += 1,
        }
        // Forget tokens that can never be valid again (bounded memory under token churn).
        if self.tokens.len() > 256 {
            self.tokens.retain(|_, r| {
                r.expires_at > now && r.superseded_at.is_none_or(|s| s + OVERLAP_SECS > now)
            });
        }
        token
    }

    /// Check a token and return what it is.
    pub fn check_token(&self, token: Option<&str>, now: i64) -> ApiResult<TokenRec> {
        let token = token
            .filter(|t| !t.is_empty())
            .ok_or_else(ApiErr::missing_token)?;
        let rec = self.tokens.get(token).ok_or_else(ApiErr::invalid_token)?;
        if rec.superseded_at.is_some_and(|s| now >= s + OVERLAP_SECS) {
            return Err(ApiErr::invalid_token());
        }
        if now >= rec.expires_at {
            return Err(ApiErr::expired_token());
        }
        Ok(rec.clone())
    }

    /// Drop every token of an account (the account revoked the platform).
    pub fn drop_authorizer_tokens(&mut self, account: u16) {
        self.tokens
            .retain(|_, r| !(r.kind == TokenKind::Authorizer && r.account == Some(account)));
        self.newest.remove(&(TokenKind::Authorizer, Some(account)));
    }

    /// Count one call against the daily quota of `path` for `account`; 45009 past the limit.
    pub fn take_quota(
        &mut self,
        account: u16,
        path: &'static str,
        limit: u64,
        now: i64,
    ) -> ApiResult<()> {
        let day = now.div_euclid(86_400);
        let e = self.quota_used.entry((account, path)).or_insert((day, 0));
        if e.0 != day {
            *e = (day, 0);
        }
        if e.1 >= limit {
            return Err(ApiErr::quota());
        }
        e.1 += 1;
        Ok(())
    }

    pub fn quota_used(&self, account: u16, path: &'static str, now: i64) -> u64 {
        let day = now.div_euclid(86_400);
        match self.quota_used.get(&(account, path)) {
            Some((d, n)) if *d == day => *n,
            _ => 0,
        }
    }

    /// clear_quota: reset every daily counter of the account; 10 times per (30-day) month.
    pub fn clear_quota(&mut self, account: u16, now: i64) -> ApiResult<()> {
        let month = now.div_euclid(30 * 86_400);
        let e = self.clears.entry(account).or_insert((month, 0));
        if e.0 != month {
            *e = (month, 0);
        }
        if e.1 >= CLEARS_PER_MONTH {
            return Err(ApiErr::new(
                48006,
                "forbid to clear quota because of reaching the limit",
            ));
        }
        e.1 += 1;
        self.quota_used.retain(|(a, _), _| *a != account);
        Ok(())
    }

    /// Record one accepted message for a recipient.
    pub fn count_send(&mut self, account: u16, index: u32) {
        self.sends.accepted += 1;
        *self.sends.per_account.entry(account).or_insert(0) += 1;
        let n = self
            .sends
            .per_recipient
            .entry(recipient_key(account, index))
            .or_insert(0);
        *n = n.saturating_add(1);
        self.sends.max_per_recipient = self.sends.max_per_recipient.max(*n);
    }

    pub fn next_msgid(&mut self) -> i64 {
        self.next_msgid += 1;
        self.next_msgid
    }

    /// Forget idempotency keys older than ten sim-minutes, now and then.
    pub fn prune_idempotency(&mut self, now: i64) {
        if self.idempotency.len() > 4096 && self.idempotency.len().is_power_of_two() {
            self.idempotency
                .retain(|_, (_, at)| now - *at < IDEMPOTENCY_SECS);
        }
    }
}

/// Default daily quotas by API path (protocol C.6/C.7); `SimConfig::quotas` overrides.
pub fn default_quota(path: &str) -> u64 {
    match path {
        "/cgi-bin/message/template/send" => 100_000,
        "/cgi-bin/message/custom/send" => 500_000,
        "/cgi-bin/user/get" => 500,
        "/cgi-bin/user/info/batchget" => 500_000,
        "/cgi-bin/token" => 2000,
        "/cgi-bin/component/api_component_token" => 2000,
        "/cgi-bin/component/api_authorizer_token" => 2000,
        "/cgi-bin/component/api_create_preauthcode" => 2000,
        _ => 100_000,
    }
}

/// API paths `quota/get` knows (others: 76021).
pub const QUOTA_PATHS: &[&str] = &[
    "/cgi-bin/message/template/send",
    "/cgi-bin/message/custom/send",
    "/cgi-bin/message/subscribe/bizsend",
    "/cgi-bin/user/get",
    "/cgi-bin/user/info/batchget",
    "/cgi-bin/tags/get",
    "/cgi-bin/token",
    "/cgi-bin/template/get_all_private_template",
    "/cgi-bin/template/api_add_template",
    "/cgi-bin/template/del_private_template",
    "/cgi-bin/template/get_industry",
    "/cgi-bin/template/api_set_industry",
    "/cgi-bin/component/api_component_token",
    "/cgi-bin/component/api_authorizer_token",
    "/cgi-bin/component/api_create_preauthcode",
    "/cgi-bin/component/api_query_auth",
    "/cgi-bin/component/api_get_authorizer_info",
    "/cgi-bin/component/api_get_authorizer_list",
    "/sns/component/jscode2session",
    "/wxaapi/newtmpl/getcategory",
    "/wxaapi/newtmpl/getpubtemplatetitles",
    "/wxaapi/newtmpl/getpubtemplatekeywords",
    "/wxaapi/newtmpl/addtemplate",
    "/wxaapi/newtmpl/gettemplate",
    "/wxaapi/newtmpl/deltemplate",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_superseded_token_works_five_minutes_then_stops() {
        let mut s = Inner::default();
        let old = s.issue_token(TokenKind::Client, Some(0), 1000);
        let new = s.issue_token(TokenKind::Client, Some(0), 2000);
        assert!(s.check_token(Some(&old), 2000 + OVERLAP_SECS - 1).is_ok());
        assert_eq!(
            s.check_token(Some(&old), 2000 + OVERLAP_SECS).map(|_| ()),
            Err(ApiErr::invalid_token())
        );
        assert!(s.check_token(Some(&new), 2000 + OVERLAP_SECS).is_ok());
        assert_eq!(
            s.check_token(Some(&new), 2000 + TOKEN_TTL).map(|_| ()),
            Err(ApiErr::expired_token())
        );
        assert_eq!(
            s.check_token(None, 0).map(|_| ()),
            Err(ApiErr::missing_token())
        );
    }

    #[test]
    fn quota_runs_out_resets_daily_and_clears_ten_times_a_month() {
        let mut s = Inner::default();
        let p = "/cgi-bin/user/get";
        assert!(s.take_quota(0, p, 2, 10).is_ok());
        assert!(s.take_quota(0, p, 2, 10).is_ok());
        assert_eq!(s.take_quota(0, p, 2, 10), Err(ApiErr::quota()));
        assert!(s.take_quota(0, p, 2, 86_400 + 10).is_ok());
        for _ in 0..CLEARS_PER_MONTH {
            assert!(s.clear_quota(0, 100).is_ok());
        }
        assert_eq!(s.clear_quota(0, 100).map_err(|e| e.code), Err(48006));
    }

    #[test]
    fn per_recipient_counts_track_the_maximum() {
        let mut s = Inner::default();
        s.count_send(1, 5);
        s.count_send(1, 5);
        s.count_send(1, 6);
        s.count_send(2, 5);
        assert_eq!(s.sends.accepted, 4);
        assert_eq!(s.sends.per_recipient.len(), 3);
        assert_eq!(s.sends.max_per_recipient, 2);
    }
}
