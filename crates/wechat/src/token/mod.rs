//! Token cache for the three kinds of access token (component, authorizer, client_credential).
//!
//! * Refreshed before expiry: a token counts as stale `refresh_margin` before WeChat's
//!   `expires_in` runs out.
//! * Single-flight: each token has an async mutex held across the refresh, so a hundred callers
//!   arriving at expiry cause one refresh and all receive its result.
//! * `call_*` helpers invalidate and retry once on 40001/42001/40014 (and 41001), dropping the
//!   token only if it is still the one that failed, so a token another caller has just
//!   refreshed is not thrown away.
//! * Tokens are [`Secret`]s and are never logged.

mod store;
#[cfg(test)]
mod tests;

pub use store::{
    BoxFuture, MemoryRefreshTokenStore, MemoryTicketSource, RefreshTokenStore, TicketSource,
};

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex as StdMutex};
use std::time::{Duration, Instant};

use tokio::sync::Mutex;

use crate::api::{AuthorizationInfo, Client};
use crate::error::{Error, Result};
use crate::secret::Secret;

/// Time source, so expiry can be tested without waiting.
pub trait Clock: Send + Sync {
    fn now(&self) -> Instant;
}

/// The real monotonic clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// A clock that only moves when told to (tests).
#[derive(Debug)]
pub struct ManualClock {
    start: Instant,
    offset_ms: AtomicU64,
}

impl Default for ManualClock {
    fn default() -> Self {
        Self {
            start: Instant::now(),
            offset_ms: AtomicU64::new(0),
        }
    }
}

impl ManualClock {
    pub fn advance(&self, by: Duration) {
        let ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        self.offset_ms.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.start + Duration::from_millis(self.offset_ms.load(Ordering::SeqCst))
    }
}

/// The platform's own credentials.
#[derive(Debug, Clone)]
pub struct ComponentCredentials {
    pub component_appid: String,
    pub component_appsecret: Secret,
}

#[derive(Debug, Clone)]
pub struct TokenCacheConfig {
    /// Refresh this long before WeChat's expiry. The docs suggest refreshing a 2-hour token at
    /// about 1 h 50 min, hence 10 minutes.
    pub refresh_margin: Duration,
}

impl Default for TokenCacheConfig {
    fn default() -> Self {
        Self {
            refresh_margin: Duration::from_secs(600),
        }
    }
}

#[derive(Clone)]
struct Cached {
    value: Secret,
    /// When we stop using it (WeChat's expiry minus the margin).
    refresh_at: Instant,
}

type Slot = Arc<Mutex<Option<Cached>>>;

/// The cache. Share it as `Arc<TokenCache>`.
pub struct TokenCache {
    client: Client,
    component: ComponentCredentials,
    tickets: Arc<dyn TicketSource>,
    refresh_tokens: Arc<dyn RefreshTokenStore>,
    clock: Arc<dyn Clock>,
    margin: Duration,
    component_slot: Slot,
    authorizer_slots: StdMutex<HashMap<String, Slot>>,
    client_slots: StdMutex<HashMap<String, Slot>>,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache")
            .field("component_appid", &self.component.component_appid)
            .field("margin", &self.margin)
            .finish_non_exhaustive()
    }
}

fn slot_for(map: &StdMutex<HashMap<String, Slot>>, key: &str) -> Slot {
    // A poisoned map only means another thread panicked mid-insert; the map is still usable.
    let mut m = map
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    m.entry(key.to_owned()).or_default().clone()
}

impl TokenCache {
    pub fn new(
        client: Client,
        component: ComponentCredentials,
        tickets: Arc<dyn TicketSource>,
        refresh_tokens: Arc<dyn RefreshTokenStore>,
        config: TokenCacheConfig,
    ) -> Self {
        Self::with_clock(
            client,
            component,
            tickets,
            refresh_tokens,
            config,
            Arc::new(SystemClock),
        )
    }

    pub fn with_clock(
        client: Client,
        component: ComponentCredentials,
        tickets: Arc<dyn TicketSource>,
        refresh_tokens: Arc<dyn RefreshTokenStore>,
        config: TokenCacheConfig,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            client,
            component,
            tickets,
            refresh_tokens,
            clock,
            margin: config.refresh_margin,
            component_slot: Slot::default(),
            authorizer_slots: StdMutex::default(),
            client_slots: StdMutex::default(),
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    fn cached(&self, value: Secret, expires_in: i64) -> Cached {
        let life = Duration::from_secs(u64::try_from(expires_in).unwrap_or(0));
        // A token shorter-lived than twice the margin is still used for half its life.
        let margin = self.margin.min(life / 2);
        Cached {
            value,
            refresh_at: self.clock.now() + (life - margin),
        }
    }

    /// The single-flight core: return the cached token if fresh, else run `refresh` while
    /// holding the slot's lock.
    async fn get_or_refresh<F, Fut>(&self, slot: &Slot, refresh: F) -> Result<Secret>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(Secret, i64)>>,
    {
        let mut guard = slot.lock().await;
        if let Some(c) = guard.as_ref()
            && self.clock.now() < c.refresh_at
        {
            return Ok(c.value.clone());
        }
        let (value, expires_in) = refresh().await?;
        *guard = Some(self.cached(value.clone(), expires_in));
        Ok(value)
    }

    /// Drop `slot`'s token if it is still `used` (someone may have refreshed it meanwhile).
    async fn invalidate_if(slot: &Slot, used: &Secret) {
        let mut guard = slot.lock().await;
        if guard.as_ref().is_some_and(|c| &c.value == used) {
            *guard = None;
        }
    }

    // ---------------- component_access_token ----------------

    pub async fn component_token(&self) -> Result<Secret> {
        self.get_or_refresh(&self.component_slot, || async {
            let ticket = self.tickets.ticket().await?.ok_or(Error::NoTicket)?;
            let t = self
                .client
                .api_component_token(
                    &self.component.component_appid,
                    &self.component.component_appsecret,
                    &ticket,
                )
                .await?;
            tracing::info!(component_appid = %self.component.component_appid, expires_in = t.expires_in, "component_access_token refreshed");
            Ok((t.component_access_token, t.expires_in))
        })
        .await
    }

    pub async fn invalidate_component_token(&self, used: &Secret) {
        Self::invalidate_if(&self.component_slot, used).await;
    }

    /// Run `f` with the component token; on a token error drop it and run `f` once more.
    pub async fn call_with_component_token<T, F, Fut>(&self, f: F) -> Result<T>
    where
        F: Fn(Secret) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let token = self.component_token().await?;
        match f(token.clone()).await {
            Err(e) if e.wechat().is_some_and(|w| w.is_token_invalid()) => {
                self.invalidate_component_token(&token).await;
                f(self.component_token().await?).await
            }
            other => other,
        }
    }

    // ---------------- authorizer_access_token ----------------

    pub async fn authorizer_token(&self, authorizer_appid: &str) -> Result<Secret> {
        let slot = slot_for(&self.authorizer_slots, authorizer_appid);
        self.get_or_refresh(&slot, || self.refresh_authorizer(authorizer_appid))
            .await
    }

    async fn refresh_authorizer(&self, authorizer_appid: &str) -> Result<(Secret, i64)> {
        let refresh_token = self
            .refresh_tokens
            .get(authorizer_appid)
            .await?
            .ok_or_else(|| Error::NoRefreshToken {
                appid: authorizer_appid.to_owned(),
            })?;
        let appid = self.component.component_appid.as_str();
        let t = self
            .call_with_component_token(|cat| {
                let client = &self.client;
                let refresh_token = &refresh_token;
                async move {
                    client
                        .api_authorizer_token(&cat, appid, authorizer_appid, refresh_token)
                        .await
                }
            })
            .await?;
        if let Some(new_rt) = &t.authorizer_refresh_token
            && !new_rt.is_empty()
            && new_rt != &refresh_token
        {
            self.refresh_tokens.put(authorizer_appid, new_rt).await?;
        }
        tracing::info!(
            authorizer_appid,
            expires_in = t.expires_in,
            "authorizer_access_token refreshed"
        );
        Ok((t.authorizer_access_token, t.expires_in))
    }

    pub async fn invalidate_authorizer_token(&self, authorizer_appid: &str, used: &Secret) {
        let slot = slot_for(&self.authorizer_slots, authorizer_appid);
        Self::invalidate_if(&slot, used).await;
    }

    /// Run `f` with the authorizer's token; on a token error drop it and run `f` once more.
    pub async fn call_with_authorizer_token<T, F, Fut>(
        &self,
        authorizer_appid: &str,
        f: F,
    ) -> Result<T>
    where
        F: Fn(Secret) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let token = self.authorizer_token(authorizer_appid).await?;
        match f(token.clone()).await {
            Err(e) if e.wechat().is_some_and(|w| w.is_token_invalid()) => {
                self.invalidate_authorizer_token(authorizer_appid, &token)
                    .await;
                f(self.authorizer_token(authorizer_appid).await?).await
            }
            other => other,
        }
    }

    /// After api_query_auth: keep the refresh token durably and use the returned access token
    /// right away instead of refreshing.
    pub async fn store_authorization(&self, info: &AuthorizationInfo) -> Result<()> {
        if let Some(rt) = &info.authorizer_refresh_token {
            self.refresh_tokens.put(&info.authorizer_appid, rt).await?;
        }
        if let (Some(at), Some(expires_in)) = (&info.authorizer_access_token, info.expires_in) {
            let slot = slot_for(&self.authorizer_slots, &info.authorizer_appid);
            *slot.lock().await = Some(self.cached(at.clone(), expires_in));
        }
        Ok(())
    }

    /// After an `unauthorized` push: the tokens are dead; forget them.
    pub async fn forget_authorizer(&self, authorizer_appid: &str) -> Result<()> {
        let slot = slot_for(&self.authorizer_slots, authorizer_appid);
        *slot.lock().await = None;
        self.refresh_tokens.delete(authorizer_appid).await
    }

    // ---------------- client_credential (an account's own token) ----------------

    pub async fn client_credential_token(&self, appid: &str, secret: &Secret) -> Result<Secret> {
        let slot = slot_for(&self.client_slots, appid);
        self.get_or_refresh(&slot, || async {
            let t = self.client.client_credential_token(appid, secret).await?;
            tracing::info!(appid, expires_in = t.expires_in, "access_token refreshed");
            Ok((t.access_token, t.expires_in))
        })
        .await
    }

    /// Run `f` with the account's own token; on a token error drop it and run `f` once more.
    pub async fn call_with_client_token<T, F, Fut>(
        &self,
        appid: &str,
        secret: &Secret,
        f: F,
    ) -> Result<T>
    where
        F: Fn(Secret) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let token = self.client_credential_token(appid, secret).await?;
        match f(token.clone()).await {
            Err(e) if e.wechat().is_some_and(|w| w.is_token_invalid()) => {
                let slot = slot_for(&self.client_slots, appid);
                Self::invalidate_if(&slot, &token).await;
                f(self.client_credential_token(appid, secret).await?).await
            }
            other => other,
        }
    }
}
