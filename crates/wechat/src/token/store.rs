//! The two things the token cache needs from its host: where authorizer refresh tokens live
//! (the app: the OS keychain; tests: memory) and where the latest component_verify_ticket comes
//! from (the app: the relay's `/api/v1/ticket`; tests: memory). Object-safe so the host can pass
//! `Arc<dyn …>`.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

use crate::error::{Error, Result};
use crate::secret::Secret;

/// A boxed `Send` future, so the traits stay usable as `dyn`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Durable storage of `authorizer_refresh_token`s, one per authorizer appid.
pub trait RefreshTokenStore: Send + Sync {
    fn get<'a>(&'a self, authorizer_appid: &'a str) -> BoxFuture<'a, Result<Option<Secret>>>;
    fn put<'a>(
        &'a self,
        authorizer_appid: &'a str,
        refresh_token: &'a Secret,
    ) -> BoxFuture<'a, Result<()>>;
    fn delete<'a>(&'a self, authorizer_appid: &'a str) -> BoxFuture<'a, Result<()>>;
}

/// The latest component_verify_ticket (None until the first push arrived).
pub trait TicketSource: Send + Sync {
    fn ticket(&self) -> BoxFuture<'_, Result<Option<Secret>>>;
}

fn poisoned() -> Error {
    Error::Store("内存存储锁已损坏 (in-memory store lock poisoned)".into())
}

/// In-memory [`RefreshTokenStore`] for tests and the sandbox.
#[derive(Debug, Default)]
pub struct MemoryRefreshTokenStore {
    tokens: Mutex<HashMap<String, Secret>>,
}

impl MemoryRefreshTokenStore {
    pub fn new() -> Self {
        Self::default()
    }
}

impl RefreshTokenStore for MemoryRefreshTokenStore {
    fn get<'a>(&'a self, authorizer_appid: &'a str) -> BoxFuture<'a, Result<Option<Secret>>> {
        let r = self
            .tokens
            .lock()
            .map(|m| m.get(authorizer_appid).cloned())
            .map_err(|_| poisoned());
        Box::pin(async move { r })
    }

    fn put<'a>(
        &'a self,
        authorizer_appid: &'a str,
        refresh_token: &'a Secret,
    ) -> BoxFuture<'a, Result<()>> {
        let r = self
            .tokens
            .lock()
            .map(|mut m| {
                m.insert(authorizer_appid.to_owned(), refresh_token.clone());
            })
            .map_err(|_| poisoned());
        Box::pin(async move { r })
    }

    fn delete<'a>(&'a self, authorizer_appid: &'a str) -> BoxFuture<'a, Result<()>> {
        let r = self
            .tokens
            .lock()
            .map(|mut m| {
                m.remove(authorizer_appid);
            })
            .map_err(|_| poisoned());
        Box::pin(async move { r })
    }
}

/// In-memory [`TicketSource`]; `set` plays the role of a ticket push.
#[derive(Debug, Default)]
pub struct MemoryTicketSource {
    ticket: Mutex<Option<Secret>>,
}

impl MemoryTicketSource {
    pub fn new(ticket: Option<Secret>) -> Self {
        Self {
            ticket: Mutex::new(ticket),
        }
    }

    pub fn set(&self, ticket: Secret) {
        if let Ok(mut t) = self.ticket.lock() {
            *t = Some(ticket);
        }
    }
}

impl TicketSource for MemoryTicketSource {
    fn ticket(&self) -> BoxFuture<'_, Result<Option<Secret>>> {
        let r = self
            .ticket
            .lock()
            .map(|t| t.clone())
            .map_err(|_| poisoned());
        Box::pin(async move { r })
    }
}
