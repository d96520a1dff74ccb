//! The API connection: the wechat client and its token cache, wired to this app's storage.
//! The component token's ticket comes from the relay and its appsecret from the keychain;
//! authorizer tokens come from refresh tokens in the keychain (the cache's `RefreshTokenStore`).
//! Access tokens stay in the cache's memory: refreshed ahead of expiry by one caller at a time,
//! and dropped and fetched again once when WeChat calls them invalid. With a shared hook (a
//! platform opened on a data dir) one caller across all processes on that dir refreshes.

use std::collections::HashSet;
use std::sync::Arc;

use wxdesk_wechat::api::{AuthorizationInfo, Client, CustomMessage, PreAuthCode};
use wxdesk_wechat::token::{
    BoxFuture, ComponentCredentials, RefreshTokenStore, SharedTokens, TicketSource, TokenCache,
    TokenCacheConfig,
};

use crate::error::Result;
use crate::relay::RelayClient;
use crate::secrets::{Secret, SecretKey, Secrets};
use crate::store::Store;

/// api_get_authorizer_list's largest page.
const LIST_PAGE: u32 = 500;

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

/// Refresh tokens in the keychain (`refresh_token:<appid>`).
struct KeychainRefreshTokens(Secrets);

fn store_err(e: crate::Error) -> wxdesk_wechat::Error {
    // Keychain errors carry no secret (see `Error::Keychain`).
    wxdesk_wechat::Error::Store(e.to_string())
}

impl RefreshTokenStore for KeychainRefreshTokens {
    fn get<'a>(&'a self, appid: &'a str) -> BoxFuture<'a, wxdesk_wechat::Result<Option<Secret>>> {
        Box::pin(async move {
            let t = self
                .0
                .get(SecretKey::RefreshToken(appid.to_string()))
                .await
                .map_err(store_err)?;
            Ok(t.filter(|t| !t.is_empty()))
        })
    }
    fn put<'a>(
        &'a self,
        appid: &'a str,
        token: &'a Secret,
    ) -> BoxFuture<'a, wxdesk_wechat::Result<()>> {
        Box::pin(async move {
            self.0
                .set(SecretKey::RefreshToken(appid.to_string()), token.clone())
                .await
                .map_err(store_err)
        })
    }
    fn delete<'a>(&'a self, appid: &'a str) -> BoxFuture<'a, wxdesk_wechat::Result<()>> {
        Box::pin(async move {
            self.0
                .delete(SecretKey::RefreshToken(appid.to_string()))
                .await
                .map_err(store_err)
        })
    }
}

/// The latest ticket, asked of the relay each time the component token is refreshed.
struct RelayTickets(RelayClient);

impl TicketSource for RelayTickets {
    fn ticket(&self) -> BoxFuture<'_, wxdesk_wechat::Result<Option<Secret>>> {
        Box::pin(async move {
            let t = self
                .0
                .fetch_ticket()
                .await
                .map_err(|e| wxdesk_wechat::Error::Store(e.to_string()))?;
            Ok(t.map(|t| t.ticket))
        })
    }
}

pub struct WxApi {
    tokens: TokenCache,
    component_appid: String,
    appsecret: Secret,
    relay: RelayClient,
    /// Where the accounts are recorded with their platform: set, every call for an account
    /// first checks that it belongs to this platform.
    accounts: Option<Store>,
    /// Accounts found to be this platform's. An account only ever changes platform by being
    /// authorized again under the current one (or is deleted), so a yes stays true while this
    /// connection lives; the settings changing builds a new one.
    checked: std::sync::Mutex<HashSet<String>>,
    /// Told how every account call went (see [`crate::health`]).
    health: crate::health::WeChatHealth,
}

impl WxApi {
    pub(crate) fn new(
        client: Client,
        component_appid: String,
        appsecret: Secret,
        relay: RelayClient,
        secrets: Secrets,
        shared: Option<Arc<dyn SharedTokens>>,
    ) -> Self {
        let tokens = TokenCache::new(
            client,
            ComponentCredentials {
                component_appid: component_appid.clone(),
                component_appsecret: appsecret.clone(),
            },
            Arc::new(RelayTickets(relay.clone())),
            Arc::new(KeychainRefreshTokens(secrets)),
            TokenCacheConfig::default(),
        );
        let tokens = match shared {
            Some(s) => tokens.with_shared_tokens(s),
            None => tokens,
        };
        WxApi {
            tokens,
            component_appid,
            appsecret,
            relay,
            accounts: None,
            checked: std::sync::Mutex::default(),
            health: crate::health::WeChatHealth::default(),
        }
    }

    /// Tells `health` how every account call went (the platform's, which outlives connections).
    #[must_use]
    pub(crate) fn telling(mut self, health: crate::health::WeChatHealth) -> Self {
        self.health = health;
        self
    }

    /// Where account calls say whether WeChat could be reached.
    pub fn health(&self) -> &crate::health::WeChatHealth {
        &self.health
    }

    /// Checks every account call against the accounts in `store`: an account authorized under
    /// another platform (the sandbox's, or a real one used before) is refused before any
    /// request is made.
    #[must_use]
    pub(crate) fn checking_accounts_in(mut self, store: Store) -> Self {
        self.accounts = Some(store);
        self
    }

    /// Refuses `appid` when it was authorized under another platform than this connection's.
    pub async fn ensure_platform(&self, appid: &str) -> Result<()> {
        let Some(store) = &self.accounts else {
            return Ok(());
        };
        if self
            .checked
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(appid)
        {
            return Ok(());
        }
        let (id, current) = (appid.to_string(), self.component_appid.clone());
        store
            .call(move |c| crate::accounts::archive::check_platform(c, &id, &current))
            .await?;
        self.checked
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(appid.to_string());
        Ok(())
    }

    /// A team workspace's connection: `client` points at the team server's
    /// `/api/v1/team/wechat` with the member key; the token cache hands out the placeholders the
    /// server replaces (see `TokenCache::delegated`). No AppSecret, no refresh token here.
    pub(crate) fn team(client: Client, component_appid: String, relay: RelayClient) -> Self {
        WxApi {
            tokens: TokenCache::delegated(client, component_appid.clone()),
            component_appid,
            appsecret: Secret::new(""),
            relay,
            accounts: None,
            checked: std::sync::Mutex::default(),
            health: crate::health::WeChatHealth::default(),
        }
    }

    /// Whether calls go through a team server (a team workspace).
    pub fn is_team(&self) -> bool {
        self.tokens.is_delegated()
    }

    pub fn client(&self) -> &Client {
        self.tokens.client()
    }

    /// The token cache, for features that call account APIs (templates, audience, sending):
    /// `call_with_authorizer_token(appid, |aat| …)` retries once on a token error.
    pub fn tokens(&self) -> &TokenCache {
        &self.tokens
    }

    pub fn component_appid(&self) -> &str {
        &self.component_appid
    }

    pub fn relay(&self) -> &RelayClient {
        &self.relay
    }

    /// Asks WeChat to push a component_verify_ticket to the relay now.
    pub async fn start_push_ticket(&self) -> Result<()> {
        Ok(self
            .client()
            .api_start_push_ticket(&self.component_appid, &self.appsecret)
            .await?)
    }

    /// The component_access_token, from the cache or freshly fetched.
    pub async fn component_token(&self) -> Result<Secret> {
        Ok(self.tokens.component_token().await?)
    }

    /// A component token fetched now, not from the cache: the connection check must prove a
    /// token is obtainable (ticket, secret, whitelist) at this moment.
    pub async fn fresh_component_token(&self) -> Result<Secret> {
        Ok(self.tokens.fetch_component_token().await?)
    }

    pub async fn create_pre_auth_code(&self) -> Result<PreAuthCode> {
        let (client, appid) = (self.client(), self.component_appid.as_str());
        Ok(self
            .tokens
            .call_with_component_token(|cat| async move {
                client.api_create_preauthcode(&cat, appid).await
            })
            .await?)
    }

    pub async fn query_auth(&self, code: &Secret) -> Result<QueryAuth> {
        let (client, appid) = (self.client(), self.component_appid.as_str());
        Ok(self
            .tokens
            .call_with_component_token(|cat| async move {
                client.api_query_auth(&cat, appid, code.expose()).await
            })
            .await?)
    }

    /// Not checked against the account's platform: the authorization flow asks it about an
    /// account WeChat has just authorized under this platform, whatever an older row says.
    pub async fn authorizer_info(&self, authorizer_appid: &str) -> Result<AuthorizerInfo> {
        let (client, appid) = (self.client(), self.component_appid.as_str());
        let d = self
            .tokens
            .call_with_component_token(|cat| async move {
                client
                    .api_get_authorizer_info(&cat, appid, authorizer_appid)
                    .await
            })
            .await?;
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
        let (client, appid) = (self.client(), self.component_appid.as_str());
        let mut out = Vec::new();
        let mut offset = 0u32;
        loop {
            let page = self
                .tokens
                .call_with_component_token(|cat| async move {
                    client
                        .api_get_authorizer_list(&cat, appid, offset, LIST_PAGE)
                        .await
                })
                .await?;
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

    /// An authorizer_access_token for `appid`, from the cache or via its refresh token.
    pub async fn authorizer_token(&self, appid: &str) -> Result<Secret> {
        self.ensure_platform(appid).await?;
        Ok(self.tokens.authorizer_token(appid).await?)
    }

    /// After api_query_auth: the refresh token into the keychain, the access token into the
    /// cache (saving a call).
    pub async fn store_authorization(&self, q: &QueryAuth) -> Result<()> {
        Ok(self.tokens.store_authorization(q).await?)
    }

    /// WeChat refused this account's access token: drop the cached one so the next call gets a
    /// fresh one. The refresh token stays. (Prefer `invalidate_authorizer_token` when the refused
    /// token is at hand: it leaves a token another caller just refreshed alone.)
    pub async fn forget_authorizer(&self, appid: &str) {
        if let Ok(current) = self.tokens.authorizer_token(appid).await {
            self.tokens
                .invalidate_authorizer_token(appid, &current)
                .await;
        }
    }

    /// Drops `used` from the cache if it is still the cached token.
    pub async fn invalidate_authorizer_token(&self, appid: &str, used: &Secret) {
        self.tokens.invalidate_authorizer_token(appid, used).await;
    }

    /// The authorization is gone: drop the cached token AND delete the refresh token.
    pub async fn revoke_authorizer(&self, appid: &str) -> Result<()> {
        Ok(self.tokens.forget_authorizer(appid).await?)
    }

    /// A text customer-service message with a given token (the release test uses the token
    /// api_query_auth returned for the test account).
    pub async fn send_text_with(&self, token: &Secret, touser: &str, content: &str) -> Result<()> {
        let msg = CustomMessage::Text {
            touser: touser.to_string(),
            content: content.to_string(),
        };
        Ok(self.client().custom_send(token, &msg).await?)
    }
}
