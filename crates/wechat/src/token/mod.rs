//! Token cache for the three kinds of access token (component, authorizer, client_credential).
//!
//! * Refreshed before expiry: a token counts as stale `refresh_margin` before WeChat's
//!   `expires_in` runs out.
//! * Single-flight: each token has an async mutex held across the refresh, so a hundred callers
//!   arriving at expiry cause one refresh and all receive its result.
//! * `call_*` helpers invalidate and retry once on 40001/42001/40014 (and 41001), dropping the
//!   token only if it is still the one that failed, so a token another caller has just
//!   refreshed is not thrown away.
//! * Across processes (the app and the CLI on one data dir), with a [`SharedTokens`] hook set:
//!   the refreshing caller takes the cross-process lock, adopts a token a peer stored meanwhile
//!   (unless it is the very token this process saw rejected), and otherwise refreshes and stores
//!   the new token for the peers. The refresh token is read only after the lock is taken, so a
//!   peer's rotation is never refreshed with a stale copy.
//! * Tokens are [`Secret`]s and are never logged.

mod shared;
#[cfg(test)]
mod shared_tests;
mod store;
#[cfg(test)]
mod tests;

pub use shared::{MemorySharedTokens, SharedLockGuard, SharedToken, SharedTokens, TokenKey};
pub use store::{
    BoxFuture, MemoryRefreshTokenStore, MemoryTicketSource, RefreshTokenStore, TicketSource,
};

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex as StdMutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::Mutex;

use crate::api::{AuthorizationInfo, Client};
use crate::error::{Error, Result};
use crate::secret::Secret;

/// Time source, so expiry can be tested without waiting.
pub trait Clock: Send + Sync {
    fn now(&self) -> Instant;

    /// Wall-clock Unix seconds, for expiries shared with other processes.
    fn unix_now(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
    }
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

    /// A fixed epoch plus the offset, so caches sharing one `ManualClock` agree on wall time.
    fn unix_now(&self) -> i64 {
        1_700_000_000 + i64::try_from(self.offset_ms.load(Ordering::SeqCst) / 1000).unwrap_or(0)
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

#[derive(Default)]
struct SlotState {
    cached: Option<Cached>,
    /// The last token a caller here saw WeChat reject: never adopted from the peers again.
    rejected: Option<Secret>,
    /// Why the cross-process lock could not be taken the last time.
    lock_error: Option<String>,
}

/// Whether a cached (or a peer's) token will do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fetch {
    Cached,
    Now,
}

#[derive(Default)]
struct SlotCell {
    state: Mutex<SlotState>,
    /// Counts failures to take the cross-process lock. A caller that queued before a failure
    /// shares its error instead of waiting out the same timeout again (a hundred callers behind
    /// a hung peer would otherwise wait a hundred timeouts, one after another).
    lock_failures: AtomicU64,
}

impl SlotCell {
    async fn lock(&self) -> tokio::sync::MutexGuard<'_, SlotState> {
        self.state.lock().await
    }
}

type Slot = Arc<SlotCell>;

/// What a team desk sends where a token goes (see [`TokenCache::delegated`]).
pub const DELEGATED_PLACEHOLDER: &str = "team";

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
    shared: Option<Arc<dyn SharedTokens>>,
    /// A desk of a team: see [`TokenCache::delegated`].
    delegated: bool,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache")
            .field("component_appid", &self.component.component_appid)
            .field("margin", &self.margin)
            .field("shared", &self.shared.is_some())
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
            shared: None,
            delegated: false,
        }
    }

    /// The cache of a desk in a team: the team server holds every token and puts the real one
    /// into each call it forwards. This cache holds no secret and never calls a token endpoint;
    /// it hands out placeholders that name the token wanted — `team` for the component token,
    /// `team.<appid>` for an authorizer's — which `client` (pointed at the server's
    /// `/api/v1/team/wechat`) sends where the token goes.
    pub fn delegated(client: Client, component_appid: String) -> Self {
        let mut cache = Self::new(
            client,
            ComponentCredentials {
                component_appid,
                component_appsecret: Secret::new(""),
            },
            Arc::new(store::MemoryTicketSource::default()),
            Arc::new(store::MemoryRefreshTokenStore::new()),
            TokenCacheConfig::default(),
        );
        cache.delegated = true;
        cache
    }

    /// Whether this is a team desk's cache ([`TokenCache::delegated`]).
    pub fn is_delegated(&self) -> bool {
        self.delegated
    }

    fn placeholder(key: &TokenKey) -> Result<Secret> {
        match key {
            TokenKey::Component(_) => Ok(Secret::new(DELEGATED_PLACEHOLDER)),
            TokenKey::Authorizer(appid) => {
                Ok(Secret::new(format!("{DELEGATED_PLACEHOLDER}.{appid}")))
            }
            TokenKey::Client(_) => Err(Error::InvalidArgument(
                "团队模式下不能直接使用公众号自己的 AppSecret / an account's own AppSecret is not \
                 used in team mode"
                    .into(),
            )),
        }
    }

    /// Coordinates refreshes with the other processes sharing `shared` (see the module docs).
    #[must_use]
    pub fn with_shared_tokens(mut self, shared: Arc<dyn SharedTokens>) -> Self {
        self.shared = Some(shared);
        self
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// How long before WeChat's expiry a token of this lifetime stops being used. A token
    /// shorter-lived than twice the margin is still used for half its life.
    fn margin_for(&self, expires_in: i64) -> Duration {
        let life = Duration::from_secs(u64::try_from(expires_in).unwrap_or(0));
        self.margin.min(life / 2)
    }

    fn cached(&self, value: Secret, expires_in: i64) -> Cached {
        let life = Duration::from_secs(u64::try_from(expires_in).unwrap_or(0));
        Cached {
            value,
            refresh_at: self.clock.now() + (life - self.margin_for(expires_in)),
        }
    }

    /// A peer's token as a cache entry, or `None` when it is within the margin of its expiry.
    fn adoptable(&self, t: &SharedToken) -> Option<Cached> {
        let margin = i64::try_from(self.margin_for(t.expires_in).as_secs()).unwrap_or(i64::MAX);
        let left = t
            .expires_at
            .saturating_sub(margin)
            .saturating_sub(self.clock.unix_now());
        let left = u64::try_from(left).ok().filter(|s| *s > 0)?;
        Some(Cached {
            value: t.value.clone(),
            refresh_at: self.clock.now() + Duration::from_secs(left),
        })
    }

    /// The single-flight core: return the cached token if fresh, else run `refresh` while
    /// holding the slot's lock (and, with a shared hook, the cross-process lock). `Fetch::Now`
    /// skips both caches: the token must come from WeChat.
    async fn get_or_refresh<F, Fut>(
        &self,
        key: TokenKey,
        slot: &Slot,
        fetch: Fetch,
        refresh: F,
    ) -> Result<Secret>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(Secret, i64)>>,
    {
        if self.delegated {
            return Self::placeholder(&key);
        }
        let failures_before = slot.lock_failures.load(Ordering::SeqCst);
        let mut guard = slot.lock().await;
        if fetch == Fetch::Cached
            && let Some(c) = guard.cached.as_ref()
            && self.clock.now() < c.refresh_at
        {
            return Ok(c.value.clone());
        }
        let Some(shared) = &self.shared else {
            let (value, expires_in) = refresh().await?;
            guard.cached = Some(self.cached(value.clone(), expires_in));
            return Ok(value);
        };
        if slot.lock_failures.load(Ordering::SeqCst) != failures_before
            && let Some(why) = &guard.lock_error
        {
            return Err(Error::Store(why.clone()));
        }
        let _peers = match shared.lock(&key).await {
            Ok(g) => g,
            Err(e) => {
                guard.lock_error = Some(match &e {
                    Error::Store(why) => why.clone(),
                    other => other.to_string(),
                });
                slot.lock_failures.fetch_add(1, Ordering::SeqCst);
                return Err(e);
            }
        };
        match shared.load(&key).await {
            Ok(_) if fetch == Fetch::Now => {}
            Ok(Some(t)) if guard.rejected.as_ref() != Some(&t.value) => {
                if let Some(c) = self.adoptable(&t) {
                    tracing::debug!(
                        kind = key.kind(),
                        appid = key.appid(),
                        "adopted a token another process refreshed"
                    );
                    guard.cached = Some(c);
                    return Ok(t.value);
                }
            }
            Ok(_) => {}
            // Unreadable shared state costs one refresh, not the call.
            Err(e) => {
                tracing::warn!(kind = key.kind(), appid = key.appid(), error = %e, "shared token unreadable; refreshing");
            }
        }
        let (value, expires_in) = refresh().await?;
        guard.cached = Some(self.cached(value.clone(), expires_in));
        let t = SharedToken {
            value: value.clone(),
            expires_at: self.clock.unix_now().saturating_add(expires_in),
            expires_in,
        };
        if let Err(e) = shared.store(&key, &t).await {
            // The token is good; the peers will refresh on their own this once.
            tracing::warn!(kind = key.kind(), appid = key.appid(), error = %e, "could not share the refreshed token");
        }
        Ok(value)
    }

    /// Drop `slot`'s token if it is still `used` (someone may have refreshed it meanwhile), and
    /// remember `used` so a peer's copy of it is not adopted.
    async fn invalidate_if(slot: &Slot, used: &Secret) {
        let mut guard = slot.lock().await;
        if guard.cached.as_ref().is_some_and(|c| &c.value == used) {
            guard.cached = None;
        }
        guard.rejected = Some(used.clone());
    }

    /// Seeds `slot` with a token WeChat just handed us (and the peers, through the hook).
    async fn seed(&self, key: TokenKey, slot: &Slot, value: &Secret, expires_in: i64) {
        slot.lock().await.cached = Some(self.cached(value.clone(), expires_in));
        if let Some(shared) = &self.shared {
            let t = SharedToken {
                value: value.clone(),
                expires_at: self.clock.unix_now().saturating_add(expires_in),
                expires_in,
            };
            if let Err(e) = shared.store(&key, &t).await {
                tracing::warn!(kind = key.kind(), appid = key.appid(), error = %e, "could not share the token");
            }
        }
    }

    // ---------------- component_access_token ----------------

    pub async fn component_token(&self) -> Result<Secret> {
        self.component_token_from(Fetch::Cached).await
    }

    /// A component token fetched from WeChat now, never from the cache or a peer: proves the
    /// ticket and the appsecret work at this moment (the connection check). It replaces the
    /// cached one, here and for the peers.
    pub async fn fetch_component_token(&self) -> Result<Secret> {
        self.component_token_from(Fetch::Now).await
    }

    async fn component_token_from(&self, fetch: Fetch) -> Result<Secret> {
        let key = TokenKey::Component(self.component.component_appid.clone());
        self.get_or_refresh(key, &self.component_slot, fetch, || async {
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
        self.expire_shared(
            &TokenKey::Component(self.component.component_appid.clone()),
            used,
        )
        .await;
    }

    /// Compare-and-expire the peers' copy of a refused token (see [`SharedTokens::expire_if`]).
    async fn expire_shared(&self, key: &TokenKey, used: &Secret) {
        if let Some(shared) = &self.shared
            && let Err(e) = shared.expire_if(key, used).await
        {
            tracing::warn!(kind = key.kind(), appid = key.appid(), error = %e, "could not expire the shared token");
        }
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
        let key = TokenKey::Authorizer(authorizer_appid.to_owned());
        self.get_or_refresh(key, &slot, Fetch::Cached, || {
            self.refresh_authorizer(authorizer_appid)
        })
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
        self.expire_shared(&TokenKey::Authorizer(authorizer_appid.to_owned()), used)
            .await;
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
        if self.delegated {
            // The team server keeps authorizations; a desk holds none.
            return Ok(());
        }
        if let Some(rt) = &info.authorizer_refresh_token {
            self.refresh_tokens.put(&info.authorizer_appid, rt).await?;
        }
        if let (Some(at), Some(expires_in)) = (&info.authorizer_access_token, info.expires_in) {
            let slot = slot_for(&self.authorizer_slots, &info.authorizer_appid);
            let key = TokenKey::Authorizer(info.authorizer_appid.clone());
            self.seed(key, &slot, at, expires_in).await;
        }
        Ok(())
    }

    /// After an `unauthorized` push: the tokens are dead; forget them.
    pub async fn forget_authorizer(&self, authorizer_appid: &str) -> Result<()> {
        if self.delegated {
            return Ok(());
        }
        let slot = slot_for(&self.authorizer_slots, authorizer_appid);
        slot.lock().await.cached = None;
        if let Some(shared) = &self.shared {
            shared
                .remove(&TokenKey::Authorizer(authorizer_appid.to_owned()))
                .await?;
        }
        self.refresh_tokens.delete(authorizer_appid).await
    }

    // ---------------- client_credential (an account's own token) ----------------

    pub async fn client_credential_token(&self, appid: &str, secret: &Secret) -> Result<Secret> {
        let slot = slot_for(&self.client_slots, appid);
        let key = TokenKey::Client(appid.to_owned());
        self.get_or_refresh(key, &slot, Fetch::Cached, || async {
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
