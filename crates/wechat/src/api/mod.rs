//! Typed async client for the WeChat HTTP APIs (protocol section C). One file per family; this
//! file holds the transport: base URL (real WeChat, the relay's egress route, or the simulator),
//! timeouts on every call, the optional relay bearer header, and the errcode check.

mod account;
mod auth_url;
mod code;
mod component;
mod media;
mod message;
mod mini;
mod newtmpl;
mod template;
mod user;

pub use account::{
    AccessToken, QR_MAX_EXPIRE_SECS, QR_SCENE_MAX_LEN, QrTicket, QuotaInfo, QuotaStatus, RateLimit,
};
pub use auth_url::{
    AuthType, AuthUrlParams, MOBILE_AUTH_BASE, MOBILE_AUTH_BASE_LEGACY, PC_AUTH_BASE,
    mobile_auth_url, pc_auth_url,
};
pub use code::{
    AuditEvent, AuditItem, AuditPush, AuditQuota, AuditStatus, CodeCategory, CodeDraft,
    CodeTemplate, CommitRequest, DomainAction, ExpInfo, HistoryVersion, LatestAudit,
    ModifyDomainResult, NO_AUDIT_ERRCODE, PreviewInfo, QrImage, ReleaseInfo, ServerDomains,
    SubmitAudit, UgcDeclare, VersionInfo, audit_status, parse_audit_push,
};
pub use component::{
    AuthorizationInfo, AuthorizerDetails, AuthorizerInfo, AuthorizerList, AuthorizerListItem,
    AuthorizerToken, ComponentToken, FuncInfo, IdInfo, PreAuthCode,
};
pub use media::{
    IMAGE_MAX_BYTES, ImageFormat, ImageRefusal, MEDIA_TTL_SECS, UploadedMedia, check_image,
    multipart_body,
};
pub use message::{Article, CustomMessage, MpTemplateMsg, SubscribeMessage, UniformMessage};
pub use mini::Session;
pub use newtmpl::{
    PubTemplateKeyword, PubTemplateTitle, PubTemplateTitles, SubscribeCategory, SubscribeTemplate,
    TYPE_LONG_TERM, TYPE_ONE_TIME,
};
pub use template::{
    Industry, IndustryClass, MiniProgramLink, PrivateTemplate, TemplateMessage, TemplateValue,
};
pub use user::{BATCHGET_MAX, FollowerPage, Tag, UserInfo};

use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result, WeChatError};
use crate::secret::Secret;

/// The real API host.
pub const WECHAT_API_BASE: &str = "https://api.weixin.qq.com";

/// How to reach the API.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// `https://api.weixin.qq.com`, `https://relay.example.com/api/v1/wechat`, or the simulator's
    /// `http://127.0.0.1:PORT`. Paths like `/cgi-bin/token` are appended.
    pub base_url: String,
    /// Whole-request timeout, applied to every call.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// An extra header on every request, e.g. `Authorization: Bearer <relay key>`.
    pub extra_header: Option<(String, Secret)>,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            base_url: WECHAT_API_BASE.to_owned(),
            timeout: Duration::from_secs(15),
            connect_timeout: Duration::from_secs(5),
            extra_header: None,
        }
    }
}

impl ClientConfig {
    pub fn with_base_url(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            ..Self::default()
        }
    }

    /// Through the relay's egress route (`{relay}/api/v1/wechat`), authenticated with its key.
    pub fn via_relay(relay_base_url: &str, api_key: &Secret) -> Self {
        Self {
            base_url: format!("{}/api/v1/wechat", relay_base_url.trim_end_matches('/')),
            extra_header: Some((
                "Authorization".to_owned(),
                Secret::new(format!("Bearer {}", api_key.expose())),
            )),
            ..Self::default()
        }
    }
}

/// The API client. Cheap to clone (reqwest's client is an `Arc` inside).
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base: url::Url,
    extra_header: Option<(reqwest::header::HeaderName, reqwest::header::HeaderValue)>,
}

/// `{"errcode":0,"errmsg":"ok"}` of action APIs.
#[derive(Debug, serde::Deserialize)]
struct Ack {}

impl Client {
    pub fn new(cfg: ClientConfig) -> Result<Self> {
        let mut base = url::Url::parse(cfg.base_url.trim_end_matches('/'))
            .map_err(|_| Error::InvalidArgument(format!("base_url 无效: {}", cfg.base_url)))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(Error::InvalidArgument(format!(
                "base_url 必须是 http(s) 地址: {}",
                cfg.base_url
            )));
        }
        // Keep a trailing slash off so path joining is plain concatenation.
        let trimmed = base.path().trim_end_matches('/').to_owned();
        base.set_path(&trimmed);
        let extra_header = match cfg.extra_header {
            None => None,
            Some((name, value)) => {
                let name = reqwest::header::HeaderName::from_bytes(name.as_bytes())
                    .map_err(|_| Error::InvalidArgument(format!("请求头名称无效: {name}")))?;
                let mut value =
                    reqwest::header::HeaderValue::from_str(value.expose()).map_err(|_| {
                        Error::InvalidArgument("请求头值无效 (invalid header value)".into())
                    })?;
                value.set_sensitive(true);
                Some((name, value))
            }
        };
        let http = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .connect_timeout(cfg.connect_timeout)
            // Through a relay, a keep-alive connection idle for its header_read_timeout (15 s by
            // default) is closed by the relay; reusing one then can fail a request that is not
            // retried. Drop idle connections before that.
            .pool_idle_timeout(Duration::from_secs(10))
            // Every request carries a token or the relay key: a redirect is an error, never a
            // second request to wherever it points.
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            http,
            base,
            extra_header,
        })
    }

    /// The configured base URL (no trailing slash).
    pub fn base_url(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    fn url(&self, path: &str, query: &[(&str, &str)]) -> url::Url {
        let mut url = self.base.clone();
        let joined = format!("{}{}", self.base.path().trim_end_matches('/'), path);
        url.set_path(&joined);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    async fn send<T: DeserializeOwned>(
        &self,
        req: reqwest::RequestBuilder,
        path: &str,
    ) -> Result<T> {
        let req = match &self.extra_header {
            Some((name, value)) => req.header(name.clone(), value.clone()),
            None => req,
        };
        // Only the path is logged: the query carries the access token.
        tracing::debug!(path, "wechat api call");
        let resp = req.send().await?;
        let status = resp.status();
        if status.is_redirection() {
            return Err(redirect_error(&resp));
        }
        let body = resp.bytes().await?;
        parse_body(status.as_u16(), &body)
    }

    pub(crate) async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<T> {
        let req = self.http.get(self.url(path, query));
        self.send(req, path).await
    }

    pub(crate) async fn post<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
        body: &B,
    ) -> Result<T> {
        let req = self.http.post(self.url(path, query)).json(body);
        self.send(req, path).await
    }
}

/// A 3xx answer as an error naming only the host it pointed to (a relative location is the
/// host that answered).
pub fn redirect_error(resp: &reqwest::Response) -> Error {
    let host = resp
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|loc| resp.url().join(loc).ok())
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| "（未给出地址 / no location）".to_owned());
    Error::Redirect {
        status: resp.status().as_u16(),
        host,
    }
}

/// Parse any response: JSON regardless of Content-Type (jscode2session answers `text/plain`),
/// `errcode != 0` → [`WeChatError`] whatever the status, otherwise the typed body.
///
/// The errcode is read by a small pass that skips every other field, then the body is
/// deserialized straight into `T`: no intermediate `Value` tree (a batchget answer of 100 users
/// would otherwise be built twice).
pub(crate) fn parse_body<T: DeserializeOwned>(status: u16, body: &[u8]) -> Result<T> {
    /// Only the error fields; any JSON value is accepted for them so a non-integer errcode is
    /// "no errcode", as before.
    #[derive(serde::Deserialize)]
    struct Head {
        #[serde(default)]
        errcode: Option<serde_json::Value>,
        #[serde(default)]
        errmsg: Option<serde_json::Value>,
    }
    // serde reads a struct from a JSON array too (by position): only an object has fields.
    let is_object = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    let head = match serde_json::from_slice::<Head>(body) {
        Ok(h) if is_object => Some(h),
        Ok(_) => None,
        // Not an object (or not JSON at all): decided below by the full parse.
        Err(e) if e.is_data() => None,
        Err(_) if !(200..300).contains(&status) => return Err(Error::HttpStatus { status }),
        Err(e) => return Err(json_error(&e)),
    };
    if let Some(h) = &head
        && let Some(code) = h.errcode.as_ref().and_then(serde_json::Value::as_i64)
        && code != 0
    {
        let msg = h
            .errmsg
            .as_ref()
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default();
        return Err(WeChatError::new(code, msg).into());
    }
    if !(200..300).contains(&status) {
        return Err(Error::HttpStatus { status });
    }
    serde_json::from_slice(body).map_err(|e| json_error(&e))
}

/// serde_json messages may quote the offending value (which could be a token); keep only
/// "missing field `x`" verbatim and otherwise the category and position.
fn json_error(e: &serde_json::Error) -> Error {
    let text = e.to_string();
    if text.starts_with("missing field") {
        Error::Json(text)
    } else {
        Error::Json(format!(
            "{:?} error at line {} column {}",
            e.classify(),
            e.line(),
            e.column()
        ))
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod transport_tests;
