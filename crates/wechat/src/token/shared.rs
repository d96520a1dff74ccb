//! Sharing access tokens between processes on one data dir (the app and the CLI).
//!
//! Without this each process refreshes on its own: two fetches where one would do, and for
//! authorizer tokens a second refresh can rotate the refresh token out from under the other
//! process. The host (wxdesk-core: the OS keychain and a lock file) implements
//! [`SharedTokens`]; the cache, when it must refresh, takes the cross-process lock, adopts a
//! token a peer stored meanwhile, and otherwise refreshes and stores the result for the peers.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex as StdMutex};

use tokio::sync::Mutex;

use super::store::BoxFuture;
use crate::error::{Error, Result};
use crate::secret::Secret;

/// Which token: its kind and the appid it belongs to. Appids are public identifiers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TokenKey {
    /// component_access_token of the platform `component_appid`.
    Component(String),
    /// authorizer_access_token of an authorized account.
    Authorizer(String),
    /// An account's own access_token (client_credential).
    Client(String),
}

impl TokenKey {
    /// `component`, `authorizer` or `client`: stable, usable in file and keychain names.
    pub fn kind(&self) -> &'static str {
        match self {
            TokenKey::Component(_) => "component",
            TokenKey::Authorizer(_) => "authorizer",
            TokenKey::Client(_) => "client",
        }
    }

    pub fn appid(&self) -> &str {
        match self {
            TokenKey::Component(a) | TokenKey::Authorizer(a) | TokenKey::Client(a) => a,
        }
    }
}

/// A token as the peers share it. Times are Unix seconds (wall clock), since `Instant`s do not
/// cross processes; `expires_in` is the lifetime WeChat granted, so every process derives the
/// same refresh point from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedToken {
    pub value: Secret,
    /// WeChat's expiry (issue time + `expires_in`).
    pub expires_at: i64,
    pub expires_in: i64,
}

/// Held while a process refreshes a token; dropping it lets the next process in.
pub struct SharedLockGuard(#[allow(dead_code)] Box<dyn Any + Send>);

impl SharedLockGuard {
    /// Wraps whatever releases the lock on drop (a locked file, a mutex guard).
    pub fn new(inner: impl Any + Send) -> Self {
        SharedLockGuard(Box::new(inner))
    }
}

impl std::fmt::Debug for SharedLockGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedLockGuard")
    }
}

/// Storage and mutual exclusion shared by every process of one workspace.
pub trait SharedTokens: Send + Sync {
    /// The token a process stored last, if any (expired ones too: the cache decides).
    fn load<'a>(&'a self, key: &'a TokenKey) -> BoxFuture<'a, Result<Option<SharedToken>>>;
    fn store<'a>(&'a self, key: &'a TokenKey, token: &'a SharedToken) -> BoxFuture<'a, Result<()>>;
    /// Forgets the token (the authorization is gone).
    fn remove<'a>(&'a self, key: &'a TokenKey) -> BoxFuture<'a, Result<()>>;
    /// Waits for the exclusive right to refresh `key` across processes. Implementations bound
    /// the wait and fail with a clear error, so a hung peer cannot wedge the caller.
    fn lock<'a>(&'a self, key: &'a TokenKey) -> BoxFuture<'a, Result<SharedLockGuard>>;
    /// WeChat refused `used` (40001/42001): expire the shared copy if it is still `used`, and
    /// only then (compare-and-expire: a newer token a peer stored meanwhile stays). The default
    /// does nothing; the cache never adopts a token it saw refused either way.
    fn expire_if<'a>(&'a self, key: &'a TokenKey, used: &'a Secret) -> BoxFuture<'a, Result<()>> {
        let _ = (key, used);
        Box::pin(async { Ok(()) })
    }
}

/// In-memory [`SharedTokens`]: two caches in one process sharing it behave like two processes
/// sharing a workspace (tests).
#[derive(Default)]
pub struct MemorySharedTokens {
    tokens: StdMutex<HashMap<TokenKey, SharedToken>>,
    locks: StdMutex<HashMap<TokenKey, Arc<Mutex<()>>>>,
}

impl std::fmt::Debug for MemorySharedTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MemorySharedTokens")
    }
}

impl MemorySharedTokens {
    pub fn new() -> Self {
        Self::default()
    }
}

fn poisoned() -> Error {
    Error::Store("内存令牌共享锁已损坏 (in-memory shared token lock poisoned)".into())
}

impl SharedTokens for MemorySharedTokens {
    fn load<'a>(&'a self, key: &'a TokenKey) -> BoxFuture<'a, Result<Option<SharedToken>>> {
        let r = self
            .tokens
            .lock()
            .map(|m| m.get(key).cloned())
            .map_err(|_| poisoned());
        Box::pin(async move { r })
    }

    fn store<'a>(&'a self, key: &'a TokenKey, token: &'a SharedToken) -> BoxFuture<'a, Result<()>> {
        let r = self
            .tokens
            .lock()
            .map(|mut m| {
                m.insert(key.clone(), token.clone());
            })
            .map_err(|_| poisoned());
        Box::pin(async move { r })
    }

    fn remove<'a>(&'a self, key: &'a TokenKey) -> BoxFuture<'a, Result<()>> {
        let r = self
            .tokens
            .lock()
            .map(|mut m| {
                m.remove(key);
            })
            .map_err(|_| poisoned());
        Box::pin(async move { r })
    }

    fn lock<'a>(&'a self, key: &'a TokenKey) -> BoxFuture<'a, Result<SharedLockGuard>> {
        let m = self
            .locks
            .lock()
            .map(|mut m| m.entry(key.clone()).or_default().clone())
            .map_err(|_| poisoned());
        Box::pin(async move { Ok(SharedLockGuard::new(m?.lock_owned().await)) })
    }
}
