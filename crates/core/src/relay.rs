//! The client side of the relay's private API (`/api/v1/*`, Bearer key): the latest ticket and
//! the event log. The JSON shapes are the contract in DESIGN.md / contracts.md.

use std::time::Duration;

use serde::Deserialize;
use url::Url;

use crate::error::{Error, Result};
use crate::secrets::Secret;

/// The longest `wait` the relay honours.
pub const MAX_WAIT_SECS: u32 = 30;

#[derive(Clone)]
pub struct RelayClient {
    http: reqwest::Client,
    base: Url,
    key: Secret,
}

impl std::fmt::Debug for RelayClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelayClient")
            .field("base", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

/// The latest component_verify_ticket as the relay reports it.
#[derive(Debug, Clone, Deserialize)]
pub struct TicketInfo {
    pub ticket: Secret,
    pub create_time: i64,
    pub received_at: i64,
    pub age_secs: i64,
}

/// The relay's platform AppID and the keyed fingerprints of its message secrets for one nonce
/// (`GET /api/v1/keys`; see `wxdesk_wechat::crypto::fingerprint`).
#[derive(Debug, Clone, Deserialize)]
pub struct RelayKeys {
    pub component_appid: String,
    pub token: String,
    pub aes_key: String,
    #[serde(default)]
    pub aes_key_previous: Option<String>,
}

/// One entry of the relay's event log, as sent; `data` depends on `kind`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RawEvent {
    pub seq: i64,
    pub kind: String,
    #[serde(default)]
    pub appid: Option<String>,
    #[serde(default)]
    pub received_at: i64,
    #[serde(default)]
    pub data: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct EventBatch {
    pub events: Vec<RawEvent>,
    pub last_seq: i64,
    /// The oldest seq the relay still holds (head + 1 when its log is empty); older relays do
    /// not send it. Past the cursor + 1, the events in between were pruned unseen.
    #[serde(default)]
    pub first_seq: Option<i64>,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    error: String,
    #[serde(default)]
    message: String,
}

impl RelayClient {
    /// `base_url` is the relay's public base (`https://relay.example.com`), without `/api/v1`.
    pub fn new(base_url: &str, key: Secret) -> Result<Self> {
        let mut base = Url::parse(base_url.trim()).map_err(|e| {
            Error::input(
                format!("中继地址 {base_url} 无效：{e}"),
                format!("The relay URL {base_url} is not valid: {e}"),
            )
        })?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(Error::input(
                format!("中继地址必须以 http:// 或 https:// 开头：{base_url}"),
                format!("The relay URL must start with http:// or https://: {base_url}"),
            ));
        }
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            // The relay closes a keep-alive connection left idle for its header_read_timeout
            // (15 s by default). A pooled connection kept longer can be picked for a request
            // just as the relay closes it, and a POST that fails that way is not retried: drop
            // idle connections first.
            .pool_idle_timeout(Duration::from_secs(10))
            .build()
            .map_err(Error::from)?;
        Ok(RelayClient { http, base, key })
    }

    pub fn base_url(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    /// Where API calls go in relay egress mode: `{base}/api/v1/wechat`.
    pub fn egress_base(&self) -> String {
        format!("{}/api/v1/wechat", self.base_url())
    }

    /// The bearer key, for the egress route.
    pub fn key(&self) -> &Secret {
        &self.key
    }

    fn url(&self, path: &str) -> Result<Url> {
        self.base.join(path).map_err(|e| {
            Error::input(
                format!("中继地址无法拼接 {path}：{e}"),
                format!("{path} cannot be joined to the relay URL: {e}"),
            )
        })
    }

    async fn get(&self, url: Url, timeout: Duration) -> Result<reqwest::Response> {
        Ok(self
            .http
            .get(url)
            .bearer_auth(self.key.expose())
            .timeout(timeout)
            .send()
            .await?)
    }

    /// The latest ticket, or `None` when the relay has not received one yet (404 `no_ticket`).
    pub async fn fetch_ticket(&self) -> Result<Option<TicketInfo>> {
        let resp = self
            .get(self.url("api/v1/ticket")?, Duration::from_secs(15))
            .await?;
        match resp.status().as_u16() {
            200 => {
                Ok(Some(resp.json().await.map_err(|e| {
                    Error::RelayBody(e.without_url().to_string())
                })?))
            }
            404 => {
                let body: Option<ErrorBody> = resp.json().await.ok();
                match body {
                    Some(b) if b.error == "no_ticket" => Ok(None),
                    _ => Err(Error::RelayStatus {
                        status: 404,
                        message: "找不到 /api/v1/ticket，地址可能不是 wxdesk-relay".into(),
                    }),
                }
            }
            _ => Err(status_error(resp).await),
        }
    }

    /// The relay's platform AppID and its secrets' fingerprints for `nonce`; `None` from a relay
    /// that predates the route (a 404 that is not one of its JSON errors).
    pub async fn key_fingerprints(&self, nonce: &str) -> Result<Option<RelayKeys>> {
        let mut url = self.url("api/v1/keys")?;
        url.query_pairs_mut().append_pair("nonce", nonce);
        let resp = self.get(url, Duration::from_secs(15)).await?;
        match resp.status().as_u16() {
            200 => {
                Ok(Some(resp.json().await.map_err(|e| {
                    Error::RelayBody(e.without_url().to_string())
                })?))
            }
            404 => Ok(None),
            _ => Err(status_error(resp).await),
        }
    }

    /// Events after `after`, waiting up to `wait_secs` (≤ 30) for the first one.
    pub async fn events(&self, after: i64, wait_secs: u32, limit: u32) -> Result<EventBatch> {
        let wait = wait_secs.min(MAX_WAIT_SECS);
        let mut url = self.url("api/v1/events")?;
        url.query_pairs_mut()
            .append_pair("after", &after.to_string())
            .append_pair("wait", &wait.to_string())
            .append_pair("limit", &limit.clamp(1, 1000).to_string());
        let resp = self
            .get(url, Duration::from_secs(u64::from(wait) + 15))
            .await?;
        if !resp.status().is_success() {
            return Err(status_error(resp).await);
        }
        resp.json()
            .await
            .map_err(|e| Error::RelayBody(e.without_url().to_string()))
    }
}

impl RelayClient {
    /// A call to the team server's API (`path` under the base, with its query) with the member
    /// key; a refusal becomes its explained error, the answer `T`.
    pub(crate) async fn team_call<B: serde::Serialize, T: serde::de::DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&B>,
        timeout: Duration,
    ) -> Result<T> {
        let mut req = self
            .http
            .request(method, self.url(path)?)
            .bearer_auth(self.key.expose())
            .timeout(timeout);
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await?;
        if !resp.status().is_success() {
            return Err(crate::team::refusal_error(resp).await);
        }
        resp.json()
            .await
            .map_err(|e| Error::RelayBody(e.without_url().to_string()))
    }
}

impl RelayClient {
    /// As [`RelayClient::team_call`], with the server's "no such …" (404 `no_such_*`) as
    /// `None`: the thing was deleted, perhaps at another desk.
    pub(crate) async fn team_call_opt<B: serde::Serialize, T: serde::de::DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&B>,
        timeout: Duration,
    ) -> Result<Option<T>> {
        let mut req = self
            .http
            .request(method, self.url(path)?)
            .bearer_auth(self.key.expose())
            .timeout(timeout);
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await?;
        let status = resp.status();
        if status.is_success() {
            return resp
                .json()
                .await
                .map(Some)
                .map_err(|e| Error::RelayBody(e.without_url().to_string()));
        }
        let body = resp.bytes().await?;
        if status == reqwest::StatusCode::NOT_FOUND
            && crate::team::refusal_code(&body).is_some_and(|c| c.starts_with("no_such_"))
        {
            return Ok(None);
        }
        Err(crate::team::refusal_from(status.as_u16(), &body))
    }
}

/// An account as the team server lists it.
#[derive(Debug, Clone, Deserialize)]
pub struct TeamAccount {
    pub appid: String,
    pub authorized: bool,
    #[serde(default)]
    pub func_info: Vec<i64>,
    #[serde(default)]
    pub authorized_at: i64,
    #[serde(default)]
    pub updated_by: Option<String>,
}

#[derive(Deserialize)]
struct TeamAccounts {
    accounts: Vec<TeamAccount>,
}

#[derive(Deserialize)]
struct TeamState {
    state: String,
}

impl RelayClient {
    /// Team server: a signed authorization `state` for this desk's link (the desk holds no
    /// relay key to sign it with).
    pub async fn team_auth_state(&self) -> Result<String> {
        let resp = self
            .http
            .post(self.url("api/v1/team/auth/state")?)
            .bearer_auth(self.key.expose())
            .timeout(Duration::from_secs(15))
            .send()
            .await?;
        if !resp.status().is_success() {
            return Err(crate::team::refusal_error(resp).await);
        }
        let s: TeamState = resp
            .json()
            .await
            .map_err(|e| Error::RelayBody(e.without_url().to_string()))?;
        Ok(s.state)
    }

    /// Team server: the shared workspace's accounts.
    pub async fn team_accounts(&self) -> Result<Vec<TeamAccount>> {
        let resp = self
            .get(self.url("api/v1/team/accounts")?, Duration::from_secs(15))
            .await?;
        if !resp.status().is_success() {
            return Err(crate::team::refusal_error(resp).await);
        }
        let list: TeamAccounts = resp
            .json()
            .await
            .map_err(|e| Error::RelayBody(e.without_url().to_string()))?;
        Ok(list.accounts)
    }
}

async fn status_error(resp: reqwest::Response) -> Error {
    let status = resp.status().as_u16();
    if status == 401 {
        return Error::RelayUnauthorized;
    }
    let message = match resp.json::<ErrorBody>().await {
        Ok(b) if !b.message.is_empty() => b.message,
        Ok(b) if !b.error.is_empty() => b.error,
        _ => "（无说明）".into(),
    };
    Error::RelayStatus { status, message }
}
