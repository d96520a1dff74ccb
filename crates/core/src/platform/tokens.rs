//! The API connection: the wechat client plus the two token providers. The component token
//! comes from the ticket at the relay and the appsecret in the keychain; authorizer tokens from
//! the refresh tokens in the keychain. Both are cached in memory only, refreshed ahead of
//! expiry, fetched by one caller at a time, and dropped and fetched again once when WeChat
//! calls them invalid (40001/42001/40014).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Mutex;
use wxdesk_wechat::api::{AuthorizationInfo, Client, CustomMessage, PreAuthCode};

use crate::error::{Error, Missing, Result};
use crate::relay::RelayClient;
use crate::secrets::{Secret, SecretKey, Secrets};

/// Refresh this long before WeChat's expiry (the docs suggest ~10 minutes early).
const EARLY: Duration = Duration::from_secs(600);
/// api_get_authorizer_list's largest page.
const LIST_PAGE: u32 = 500;

struct Cached {
    token: Secret,
    refresh_at: Instant,
}

impl Cached {
    fn new(token: Secret, expires_in: i64) -> Self {
        let life = Duration::from_secs(u64::try_from(expires_in).unwrap_or(0));
        Cached {
            token,
            refresh_at: Instant::now() + life.saturating_sub(EARLY),
        }
    }
    fn fresh(&self) -> bool {
        Instant::now() < self.refresh_at
    }
}

type Slot = Arc<Mutex<Option<Cached>>>;

/// api_query_auth's answer, as the core uses it.
pub type QueryAuth = AuthorizationInfo;

/// api_get_authorizer_info flattened to what the accounts table keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizerInfo {
    pub nickname: String,
    pub head_img: String,
    pub user_name: String,
    pub principal_name: String,
    pub service_type: Option<i64>,
    pub verify_type: Option<i64>,
    pub is_mini_program: bool,
    pub func_info: Vec<i64>,
}

/// One entry of api_get_authorizer_list.
#[derive(Debug, Clone)]
pub struct ListedAuthorizer {
    pub appid: String,
    pub refresh_token: Option<Secret>,
    pub auth_time: i64,
}

pub struct WxApi {
    client: Client,
    component_appid: String,
    relay: RelayClient,
    secrets: Secrets,
    component: Slot,
    authorizers: Mutex<HashMap<String, Slot>>,
}

fn token_invalid(e: &wxdesk_wechat::Error) -> bool {
    e.wechat().is_some_and(|w| w.is_token_invalid())
}

/// Runs a component API call with `$cat` bound to the component token, retrying once with a
/// new token if WeChat rejects it. (A macro: async closures borrowing `self` are not `Send`.)
macro_rules! with_cat {
    ($api:expr, |$cat:ident| $call:expr) => {{
        let $cat = $api.component_token().await?;
        match $call.await {
            Err(e) if token_invalid(&e) => {
                $api.drop_component(&$cat).await;
                let $cat = $api.component_token().await?;
                $call.await.map_err(Error::from)
            }
            r => r.map_err(Error::from),
        }
    }};
}

impl WxApi {
    pub(crate) fn new(
        client: Client,
        component_appid: String,
        relay: RelayClient,
        secrets: Secrets,
    ) -> Self {
        WxApi {
            client,
            component_appid,
            relay,
            secrets,
            component: Arc::new(Mutex::new(None)),
            authorizers: Mutex::new(HashMap::new()),
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn component_appid(&self) -> &str {
        &self.component_appid
    }

    pub fn relay(&self) -> &RelayClient {
        &self.relay
    }

    async fn appsecret(&self) -> Result<Secret> {
        self.secrets
            .get(SecretKey::ComponentAppsecret)
            .await?
            .ok_or(Error::NotConfigured(Missing::ComponentAppsecret))
    }

    /// Asks WeChat to push a component_verify_ticket to the relay now.
    pub async fn start_push_ticket(&self) -> Result<()> {
        let secret = self.appsecret().await?;
        Ok(self
            .client
            .api_start_push_ticket(&self.component_appid, &secret)
            .await?)
    }

    /// The component_access_token, from the cache or freshly fetched.
    pub async fn component_token(&self) -> Result<Secret> {
        let mut slot = self.component.lock().await;
        if let Some(c) = slot.as_ref().filter(|c| c.fresh()) {
            return Ok(c.token.clone());
        }
        let secret = self.appsecret().await?;
        let ticket = self
            .relay
            .fetch_ticket()
            .await?
            .ok_or(Error::NotConfigured(Missing::Ticket))?;
        let t = self
            .client
            .api_component_token(&self.component_appid, &secret, &ticket.ticket)
            .await?;
        let token = t.component_access_token.clone();
        *slot = Some(Cached::new(t.component_access_token, t.expires_in));
        Ok(token)
    }

    /// Forgets the cached component token, so the next call fetches one (the connection check
    /// must prove a token is obtainable now, not an hour ago).
    pub async fn drop_component_token(&self) {
        *self.component.lock().await = None;
    }

    /// Drops the cached component token if it is still the one that failed.
    async fn drop_component(&self, failed: &Secret) {
        let mut slot = self.component.lock().await;
        if slot.as_ref().is_some_and(|c| &c.token == failed) {
            *slot = None;
        }
    }

    pub async fn create_pre_auth_code(&self) -> Result<PreAuthCode> {
        with_cat!(self, |cat| self
            .client
            .api_create_preauthcode(&cat, &self.component_appid))
    }

    pub async fn query_auth(&self, code: &Secret) -> Result<QueryAuth> {
        with_cat!(self, |cat| self.client.api_query_auth(
            &cat,
            &self.component_appid,
            code.expose()
        ))
    }

    pub async fn authorizer_info(&self, appid: &str) -> Result<AuthorizerInfo> {
        let d = with_cat!(self, |cat| self.client.api_get_authorizer_info(
            &cat,
            &self.component_appid,
            appid
        ))?;
        let i = d.authorizer_info;
        Ok(AuthorizerInfo {
            is_mini_program: i.is_mini_program(),
            nickname: i.nick_name,
            head_img: i.head_img,
            user_name: i.user_name,
            principal_name: i.principal_name,
            service_type: i.service_type_info.map(|x| x.id),
            verify_type: i.verify_type_info.map(|x| x.id),
            func_info: d.authorization_info.granted_ids(),
        })
    }

    /// Every authorized account, all pages.
    pub async fn authorizer_list(&self) -> Result<Vec<ListedAuthorizer>> {
        let mut out = Vec::new();
        let mut offset = 0u32;
        loop {
            let page = with_cat!(self, |cat| self.client.api_get_authorizer_list(
                &cat,
                &self.component_appid,
                offset,
                LIST_PAGE
            ))?;
            let n = page.list.len() as u32;
            out.extend(page.list.into_iter().map(|i| ListedAuthorizer {
                appid: i.authorizer_appid,
                refresh_token: i.refresh_token.filter(|t| !t.is_empty()),
                auth_time: i.auth_time,
            }));
            offset += n;
            if n == 0 || i64::from(offset) >= page.total_count {
                return Ok(out);
            }
        }
    }

    async fn slot(&self, appid: &str) -> Slot {
        Arc::clone(
            self.authorizers
                .lock()
                .await
                .entry(appid.to_string())
                .or_default(),
        )
    }

    /// An authorizer_access_token for `appid`, from the cache or via its refresh token.
    pub async fn authorizer_token(&self, appid: &str) -> Result<Secret> {
        let slot = self.slot(appid).await;
        let mut guard = slot.lock().await;
        if let Some(c) = guard.as_ref().filter(|c| c.fresh()) {
            return Ok(c.token.clone());
        }
        let key = SecretKey::RefreshToken(appid.to_string());
        let refresh = self.secrets.get(key.clone()).await?.ok_or_else(|| {
            Error::WeChat(wxdesk_wechat::Error::NoRefreshToken {
                appid: appid.to_string(),
            })
        })?;
        let t = with_cat!(self, |cat| self.client.api_authorizer_token(
            &cat,
            &self.component_appid,
            appid,
            &refresh
        ))?;
        if let Some(rt) = t
            .authorizer_refresh_token
            .filter(|rt| !rt.is_empty() && *rt != refresh)
        {
            self.secrets.set(key, rt).await?;
        }
        let token = t.authorizer_access_token.clone();
        *guard = Some(Cached::new(t.authorizer_access_token, t.expires_in));
        Ok(token)
    }

    /// Keeps the token api_query_auth just returned, saving a call.
    pub async fn prime_authorizer(&self, appid: &str, token: Secret, expires_in: i64) {
        *self.slot(appid).await.lock().await = Some(Cached::new(token, expires_in));
    }

    pub async fn forget_authorizer(&self, appid: &str) {
        self.authorizers.lock().await.remove(appid);
    }

    /// Runs an account API call with the authorizer's token, retrying once with a new token if
    /// WeChat rejects it. For other features (templates, audience, sending):
    /// `api.with_authorizer(appid, |aat| { let c = api.client().clone(); async move { c.x(&aat).await } })`.
    pub async fn with_authorizer<T, F, Fut>(&self, appid: &str, f: F) -> Result<T>
    where
        F: Fn(Secret) -> Fut,
        Fut: Future<Output = wxdesk_wechat::Result<T>>,
    {
        let aat = self.authorizer_token(appid).await?;
        match f(aat.clone()).await {
            Err(e) if token_invalid(&e) => {
                let slot = self.slot(appid).await;
                {
                    let mut g = slot.lock().await;
                    if g.as_ref().is_some_and(|c| c.token == aat) {
                        *g = None;
                    }
                }
                let aat = self.authorizer_token(appid).await?;
                Ok(f(aat).await?)
            }
            r => Ok(r?),
        }
    }

    /// A text customer-service message with a given token (the release test uses the token
    /// api_query_auth returned for the test account).
    pub async fn send_text_with(&self, token: &Secret, touser: &str, content: &str) -> Result<()> {
        let msg = CustomMessage::Text {
            touser: touser.to_string(),
            content: content.to_string(),
        };
        Ok(self.client.custom_send(token, &msg).await?)
    }
}
