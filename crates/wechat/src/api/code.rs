//! Mini-program code management by the platform (protocol section L): the platform's template
//! library (草稿箱 / 模板库, component token), and per authorized mini program (authorizer token,
//! permission set 18) domains, commit, the trial QR code, categories and pages, audits, release,
//! rollback, visit status and the audit quota. Also the `weapp_audit_*` pushes (L.4).
//!
//! Every call passes the token as `?access_token=` (L: never in the body). Ids that the
//! documentation types both as number and string (draft_id, template_id) are read either way.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::json;

use super::{Ack, Client, redirect_error};
use crate::error::{Error, Result, WeChatError};
use crate::secret::Secret;

const AT: &str = "access_token";

/// A number or a numeric string (`"0"`), as the older pages type ids.
fn de_id<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<i64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        N(i64),
        S(String),
    }
    match Id::deserialize(d)? {
        Id::N(n) => Ok(n),
        Id::S(s) => s
            .trim()
            .parse()
            .map_err(|_| serde::de::Error::custom("id is not a number")),
    }
}

fn de_opt_id<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<i64>, D::Error> {
    de_id(d).map(Some)
}

// ---- template library (L.1) ----------------------------------------------------------------

/// One upload in the platform's 草稿箱 (from DevTools / miniprogram-ci; no API creates one).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CodeDraft {
    #[serde(deserialize_with = "de_id")]
    pub draft_id: i64,
    #[serde(default)]
    pub user_version: String,
    #[serde(default)]
    pub user_desc: String,
    /// Upload time, unix seconds.
    #[serde(default)]
    pub create_time: i64,
}

/// One template of the platform's 模板库.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CodeTemplate {
    #[serde(deserialize_with = "de_id")]
    pub template_id: i64,
    /// Only on the newer documentation page.
    #[serde(default, deserialize_with = "de_opt_id")]
    pub draft_id: Option<i64>,
    #[serde(default)]
    pub user_version: String,
    #[serde(default)]
    pub user_desc: String,
    /// Time it was added as a template, unix seconds.
    #[serde(default)]
    pub create_time: i64,
    /// 0 普通模板, 1 标准模板 (legacy).
    #[serde(default)]
    pub template_type: i64,
    #[serde(default)]
    pub source_miniprogram_appid: String,
    #[serde(default)]
    pub source_miniprogram: String,
    /// Standard templates only: 0 未提审核, 1 审核中, 2 审核驳回, 3 审核通过, 4 提审中, 5 提审失败.
    #[serde(default)]
    pub audit_status: Option<i64>,
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Deserialize)]
struct DraftList {
    #[serde(default)]
    draft_list: Vec<CodeDraft>,
}

#[derive(Deserialize)]
struct TemplateList {
    #[serde(default)]
    template_list: Vec<CodeTemplate>,
}

// ---- domains (L.2) -------------------------------------------------------------------------

/// `action` of modify_domain / setwebviewdomain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DomainAction {
    Add,
    Delete,
    /// Overwrite with exactly the given lists.
    Set,
    Get,
}

/// The six server-domain lists; each value carries its scheme (`https://`, `wss://`, `udp://`,
/// `tcp://`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServerDomains {
    pub requestdomain: Vec<String>,
    pub wsrequestdomain: Vec<String>,
    pub uploaddomain: Vec<String>,
    pub downloaddomain: Vec<String>,
    pub udpdomain: Vec<String>,
    pub tcpdomain: Vec<String>,
}

/// modify_domain's answer: the lists now in effect, and what was filtered out (a success may
/// still list invalid entries: the change is partial).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct ModifyDomainResult {
    #[serde(flatten)]
    pub current: ServerDomains,
    pub invalid_requestdomain: Vec<String>,
    pub invalid_wsrequestdomain: Vec<String>,
    pub invalid_uploaddomain: Vec<String>,
    pub invalid_downloaddomain: Vec<String>,
    pub invalid_udpdomain: Vec<String>,
    pub invalid_tcpdomain: Vec<String>,
    pub no_icp_domain: Vec<String>,
}

impl ModifyDomainResult {
    /// Every entry WeChat refused, whatever its list.
    pub fn invalid(&self) -> Vec<&str> {
        [
            &self.invalid_requestdomain,
            &self.invalid_wsrequestdomain,
            &self.invalid_uploaddomain,
            &self.invalid_downloaddomain,
            &self.invalid_udpdomain,
            &self.invalid_tcpdomain,
        ]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect()
    }
}

#[derive(Deserialize)]
struct WebviewDomains {
    #[serde(default)]
    webviewdomain: Vec<String>,
}

// ---- code, audit, release (L.3) ------------------------------------------------------------

/// Body of `wxa/commit`. `ext_json` is a string holding JSON (double-encoded, L.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommitRequest {
    pub template_id: i64,
    pub ext_json: String,
    /// At most 64 characters.
    pub user_version: String,
    pub user_desc: String,
}

/// The trial version's QR code (`get_qrcode`): image bytes as WeChat sent them.
#[derive(Clone, PartialEq, Eq)]
pub struct QrImage {
    pub content_type: String,
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for QrImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QrImage")
            .field("content_type", &self.content_type)
            .field("len", &self.bytes.len())
            .finish()
    }
}

/// One category the mini program may be audited under (`get_category`); these names and ids
/// are what `submit_audit`'s `item_list` expects.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CodeCategory {
    pub first_class: String,
    pub second_class: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub third_class: Option<String>,
    pub first_id: i64,
    pub second_id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub third_id: Option<i64>,
}

#[derive(Deserialize)]
struct CategoryList {
    #[serde(default)]
    category_list: Vec<CodeCategory>,
}

#[derive(Deserialize)]
struct PageList {
    #[serde(default)]
    page_list: Vec<String>,
}

/// One 审核项 of `submit_audit` (L.3.1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditItem {
    /// A page from `get_page`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub address: String,
    /// Space-separated, at most 10 tags of at most 20 characters.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub tag: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub title: String,
    /// Names and ids from `get_category`; left out when `None`.
    #[serde(default, flatten, skip_serializing_if = "Option::is_none")]
    pub category: Option<CodeCategory>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviewInfo {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub video_id_list: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pic_id_list: Vec<String>,
}

/// UGC declaration, required on a first submission under some social categories.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UgcDeclare {
    #[serde(default)]
    pub scene: Vec<i64>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub other_scene_desc: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub method: Vec<i64>,
    #[serde(default)]
    pub has_audit_team: i64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub audit_desc: String,
}

/// Body of `submit_audit` (L.3.1); every field may be left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SubmitAudit {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub item_list: Vec<AuditItem>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub feedback_info: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub feedback_stuff: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preview_info: Option<PreviewInfo>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub version_desc: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ugc_declare: Option<UgcDeclare>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub privacy_api_not_use: Option<bool>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub order_path: String,
}

#[derive(Deserialize)]
struct AuditIdResponse {
    auditid: i64,
}

/// Audit status codes of both query APIs.
pub mod audit_status {
    pub const SUCCESS: i64 = 0;
    pub const REJECTED: i64 = 1;
    pub const AUDITING: i64 = 2;
    pub const WITHDRAWN: i64 = 3;
    pub const DELAYED: i64 = 4;
}

/// `get_auditstatus`: `reason` is the rejection reason (status 1) or the delay reason (4);
/// `screenshot` is `|`-separated media ids.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AuditStatus {
    pub status: i64,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default, alias = "ScreenShot")]
    pub screenshot: Option<String>,
}

/// `get_latest_auditstatus`. The official example spells `ScreenShot`; both are read.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct LatestAudit {
    pub auditid: i64,
    pub status: i64,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default, alias = "ScreenShot")]
    pub screenshot: Option<String>,
    #[serde(default)]
    pub user_version: String,
    #[serde(default)]
    pub user_desc: String,
    #[serde(default)]
    pub submit_audit_time: i64,
}

/// One entry of `revertcoderelease?action=get_history_version`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct HistoryVersion {
    pub app_version: i64,
    #[serde(default)]
    pub user_version: String,
    #[serde(default)]
    pub user_desc: String,
    #[serde(default)]
    pub commit_time: i64,
}

#[derive(Deserialize)]
struct HistoryList {
    #[serde(default)]
    version_list: Vec<HistoryVersion>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ExpInfo {
    #[serde(default)]
    pub exp_time: i64,
    #[serde(default)]
    pub exp_version: String,
    #[serde(default)]
    pub exp_desc: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ReleaseInfo {
    #[serde(default)]
    pub release_time: i64,
    #[serde(default)]
    pub release_version: String,
    #[serde(default)]
    pub release_desc: String,
}

/// `getversioninfo`: each part is absent when there is no such version.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct VersionInfo {
    #[serde(default)]
    pub exp_info: Option<ExpInfo>,
    #[serde(default)]
    pub release_info: Option<ReleaseInfo>,
}

#[derive(Deserialize)]
struct VisitStatus {
    status: i64,
}

/// `queryquota`: the platform's monthly audit quota (shared by all its mini programs) and
/// speed-ups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditQuota {
    pub rest: i64,
    pub limit: i64,
    #[serde(default)]
    pub speedup_rest: i64,
    #[serde(default)]
    pub speedup_limit: i64,
}

/// 85058 `no valid audit_id exist`: the account never submitted an audit.
pub const NO_AUDIT_ERRCODE: i64 = 85058;

impl Client {
    // ---- template library: component_access_token -----------------------------------------

    /// 草稿箱: the platform's code drafts.
    pub async fn wxa_template_drafts(&self, cat: &Secret) -> Result<Vec<CodeDraft>> {
        let r: DraftList = self
            .get("/wxa/gettemplatedraftlist", &[(AT, cat.expose())])
            .await?;
        Ok(r.draft_list)
    }

    /// Adds a draft to the template library. WeChat returns no template id: list again to
    /// find it.
    pub async fn wxa_add_to_template(
        &self,
        cat: &Secret,
        draft_id: i64,
        template_type: i64,
    ) -> Result<()> {
        let _: Ack = self
            .post(
                "/wxa/addtotemplate",
                &[(AT, cat.expose())],
                &json!({"draft_id": draft_id, "template_type": template_type}),
            )
            .await?;
        Ok(())
    }

    /// 模板库; `template_type` narrows to 0 (普通) or 1 (标准), `None` lists all.
    pub async fn wxa_templates(
        &self,
        cat: &Secret,
        template_type: Option<i64>,
    ) -> Result<Vec<CodeTemplate>> {
        let t = template_type.map(|t| t.to_string());
        let mut q = vec![(AT, cat.expose())];
        if let Some(t) = &t {
            q.push(("template_type", t.as_str()));
        }
        let r: TemplateList = self.get("/wxa/gettemplatelist", &q).await?;
        Ok(r.template_list)
    }

    pub async fn wxa_delete_template(&self, cat: &Secret, template_id: i64) -> Result<()> {
        let _: Ack = self
            .post(
                "/wxa/deletetemplate",
                &[(AT, cat.expose())],
                &json!({"template_id": template_id}),
            )
            .await?;
        Ok(())
    }

    // ---- per mini program: authorizer_access_token -----------------------------------------

    /// 配置服务器域名. For `Get` the lists are not sent.
    pub async fn wxa_modify_domain(
        &self,
        aat: &Secret,
        action: DomainAction,
        domains: &ServerDomains,
    ) -> Result<ModifyDomainResult> {
        let body = if action == DomainAction::Get {
            json!({"action": action})
        } else {
            let mut v = serde_json::to_value(domains).map_err(|e| Error::Json(e.to_string()))?;
            if let Some(m) = v.as_object_mut() {
                m.insert("action".into(), json!(action));
            }
            v
        };
        self.post("/wxa/modify_domain", &[(AT, aat.expose())], &body)
            .await
    }

    /// 配置业务域名 (web-view). `action: None` adds every webview domain registered on the
    /// platform (WeChat's rule when `action` is left out). Returns the list in effect.
    pub async fn wxa_set_webview_domain(
        &self,
        aat: &Secret,
        action: Option<DomainAction>,
        domains: &[String],
    ) -> Result<Vec<String>> {
        let body = match action {
            None => json!({}),
            Some(DomainAction::Get) => json!({"action": "get"}),
            Some(a) => json!({"action": a, "webviewdomain": domains}),
        };
        let r: WebviewDomains = self
            .post("/wxa/setwebviewdomain", &[(AT, aat.expose())], &body)
            .await?;
        Ok(r.webviewdomain)
    }

    /// Uploads the template's code with this mini program's ext.json as its 体验版.
    pub async fn wxa_commit(&self, aat: &Secret, req: &CommitRequest) -> Result<()> {
        let _: Ack = self.post("/wxa/commit", &[(AT, aat.expose())], req).await?;
        Ok(())
    }

    /// The 体验版 QR code. Success is an image body; failures are JSON (any content type that
    /// is not an image is read as a WeChat answer).
    pub async fn wxa_qrcode(&self, aat: &Secret, path: Option<&str>) -> Result<QrImage> {
        let mut q = vec![(AT, aat.expose())];
        if let Some(p) = path.filter(|p| !p.is_empty()) {
            // `query_pairs_mut` encodes it once, as WeChat wants (`page%2Findex%3Fa%3D1`).
            q.push(("path", p));
        }
        let mut req = self.http.get(self.url("/wxa/get_qrcode", &q));
        if let Some((name, value)) = &self.extra_header {
            req = req.header(name.clone(), value.clone());
        }
        tracing::debug!(path = "/wxa/get_qrcode", "wechat api call");
        let resp = req.send().await?;
        let status = resp.status();
        if status.is_redirection() {
            return Err(redirect_error(&resp));
        }
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        let body = resp.bytes().await?;
        if status.is_success() && content_type.starts_with("image/") {
            return Ok(QrImage {
                content_type,
                bytes: body.to_vec(),
            });
        }
        // An errcode answer becomes the WeChat error; a JSON body without one is still not
        // an image.
        let _: serde_json::Value = super::parse_body(status.as_u16(), &body)?;
        Err(Error::Json(format!(
            "get_qrcode 没有返回图片（Content-Type: {content_type}） (no image in the answer)"
        )))
    }

    pub async fn wxa_categories(&self, aat: &Secret) -> Result<Vec<CodeCategory>> {
        let r: CategoryList = self.get("/wxa/get_category", &[(AT, aat.expose())]).await?;
        Ok(r.category_list)
    }

    /// Pages of the 体验版, duplicates removed (they have been observed), order kept.
    pub async fn wxa_pages(&self, aat: &Secret) -> Result<Vec<String>> {
        let r: PageList = self.get("/wxa/get_page", &[(AT, aat.expose())]).await?;
        let mut seen = std::collections::HashSet::new();
        Ok(r.page_list
            .into_iter()
            .filter(|p| seen.insert(p.clone()))
            .collect())
    }

    /// Submits the 体验版 for audit; returns the auditid.
    pub async fn wxa_submit_audit(&self, aat: &Secret, req: &SubmitAudit) -> Result<i64> {
        let r: AuditIdResponse = self
            .post("/wxa/submit_audit", &[(AT, aat.expose())], req)
            .await?;
        Ok(r.auditid)
    }

    pub async fn wxa_audit_status(&self, aat: &Secret, auditid: i64) -> Result<AuditStatus> {
        self.post(
            "/wxa/get_auditstatus",
            &[(AT, aat.expose())],
            &json!({"auditid": auditid}),
        )
        .await
    }

    /// The latest audit, or `None` when the mini program never submitted one (85058).
    pub async fn wxa_latest_audit_status(&self, aat: &Secret) -> Result<Option<LatestAudit>> {
        match self
            .get("/wxa/get_latest_auditstatus", &[(AT, aat.expose())])
            .await
        {
            Ok(a) => Ok(Some(a)),
            Err(Error::WeChat(WeChatError { errcode, .. })) if errcode == NO_AUDIT_ERRCODE => {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// 撤回代码审核 (5 a day, 10 a month per mini program).
    pub async fn wxa_undo_code_audit(&self, aat: &Secret) -> Result<()> {
        let _: Ack = self
            .get("/wxa/undocodeaudit", &[(AT, aat.expose())])
            .await?;
        Ok(())
    }

    pub async fn wxa_speedup_audit(&self, aat: &Secret, auditid: i64) -> Result<()> {
        let _: Ack = self
            .post(
                "/wxa/speedupaudit",
                &[(AT, aat.expose())],
                &json!({"auditid": auditid}),
            )
            .await?;
        Ok(())
    }

    /// Publishes the last approved version. The body `{}` is required (an empty body is 44002).
    pub async fn wxa_release(&self, aat: &Secret) -> Result<()> {
        let _: Ack = self
            .post("/wxa/release", &[(AT, aat.expose())], &json!({}))
            .await?;
        Ok(())
    }

    /// 版本回退: to `app_version` (from the history list) or else the previous version. No
    /// `action` is sent: with one, WeChat only lists.
    pub async fn wxa_revert_code_release(
        &self,
        aat: &Secret,
        app_version: Option<i64>,
    ) -> Result<()> {
        let v = app_version.map(|v| v.to_string());
        let mut q = vec![(AT, aat.expose())];
        if let Some(v) = &v {
            q.push(("app_version", v.as_str()));
        }
        let _: Ack = self.get("/wxa/revertcoderelease", &q).await?;
        Ok(())
    }

    /// The versions a rollback may go to.
    pub async fn wxa_history_versions(&self, aat: &Secret) -> Result<Vec<HistoryVersion>> {
        let r: HistoryList = self
            .get(
                "/wxa/revertcoderelease",
                &[(AT, aat.expose()), ("action", "get_history_version")],
            )
            .await?;
        Ok(r.version_list)
    }

    /// 服务状态: 1 正常, 0 暂停服务 (also when punished).
    pub async fn wxa_visit_status(&self, aat: &Secret) -> Result<i64> {
        let r: VisitStatus = self
            .post("/wxa/getvisitstatus", &[(AT, aat.expose())], &json!({}))
            .await?;
        Ok(r.status)
    }

    /// Opens (`true`) or closes the online version to users.
    pub async fn wxa_change_visit_status(&self, aat: &Secret, open: bool) -> Result<()> {
        let action = if open { "open" } else { "close" };
        let _: Ack = self
            .post(
                "/wxa/change_visitstatus",
                &[(AT, aat.expose())],
                &json!({"action": action}),
            )
            .await?;
        Ok(())
    }

    /// The 体验版 and the online version.
    pub async fn wxa_version_info(&self, aat: &Secret) -> Result<VersionInfo> {
        self.post("/wxa/getversioninfo", &[(AT, aat.expose())], &json!({}))
            .await
    }

    /// The platform's audit quota; any authorized mini program's token will do.
    pub async fn wxa_query_quota(&self, aat: &Secret) -> Result<AuditQuota> {
        self.get("/wxa/queryquota", &[(AT, aat.expose())]).await
    }
}

// ---- pushes (L.4) --------------------------------------------------------------------------

/// Which audit push.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditEvent {
    /// `weapp_audit_success`
    Success,
    /// `weapp_audit_fail`
    Fail,
    /// `weapp_audit_delay`: the audit goes on; a success or fail push follows.
    Delay,
}

impl AuditEvent {
    pub fn event_name(self) -> &'static str {
        match self {
            AuditEvent::Success => "weapp_audit_success",
            AuditEvent::Fail => "weapp_audit_fail",
            AuditEvent::Delay => "weapp_audit_delay",
        }
    }
}

/// A decrypted `weapp_audit_*` push from the mini program's message URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditPush {
    pub event: AuditEvent,
    /// The mini program's original id (gh_…).
    pub to_user_name: String,
    pub create_time: i64,
    /// SuccTime / FailTime / DelayTime; CreateTime when absent.
    pub at: i64,
    /// Rejection or delay reason (may contain `<br>`).
    pub reason: Option<String>,
    /// `|`-separated media ids of the rejection screenshots.
    pub screenshot: Option<String>,
}

/// Reads an audit push; `None` for any other push or a malformed one (never an error: the feed
/// must not stall on a body it does not understand).
pub fn parse_audit_push(xml: &str) -> Option<AuditPush> {
    let f = crate::xml::parse_flat(xml).ok()?;
    let get = |n: &str| f.get(n).map(|v| v.trim().to_owned());
    if !get("MsgType")?.eq_ignore_ascii_case("event") {
        return None;
    }
    let (event, time_field) = match get("Event")?.as_str() {
        "weapp_audit_success" => (AuditEvent::Success, "SuccTime"),
        "weapp_audit_fail" => (AuditEvent::Fail, "FailTime"),
        "weapp_audit_delay" => (AuditEvent::Delay, "DelayTime"),
        _ => return None,
    };
    let create_time = get("CreateTime")?.parse().ok()?;
    let at = get(time_field)
        .and_then(|t| t.parse().ok())
        .unwrap_or(create_time);
    Some(AuditPush {
        event,
        to_user_name: get("ToUserName").unwrap_or_default(),
        create_time,
        at,
        reason: f.get("Reason").map(str::to_owned).filter(|r| !r.is_empty()),
        screenshot: get("ScreenShot").filter(|s| !s.is_empty()),
    })
}

#[cfg(test)]
#[path = "code_tests.rs"]
mod tests;
