//! The relay feed follower: long-polls `GET /api/v1/events` after the durable cursor, applies
//! each event, and moves the cursor past it. It catches up on start (the relay keeps the log
//! while the app is closed), backs off while the relay or WeChat is unreachable, and stops when
//! its cancellation token fires.
//!
//! Ordering: the cursor moves only after an event's effect is stored, and in the same SQLite
//! transaction whenever the effect is local (status changes, the [`EventHandler`] hooks). Effects
//! that call WeChat (exchanging an authorization code) cannot share that transaction; they are
//! idempotent instead, so an event re-applied after a crash does no harm.

pub mod events;

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

pub use events::{EventKind, FeedEvent};

use crate::error::{Error, Result};
use crate::relay::RelayClient;
use crate::secrets::Secret;
use crate::store::accounts::AccountStatus;
use crate::store::{Store, accounts, audit, cursor};

/// Events asked for per poll.
const BATCH: u32 = 500;
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// The parts of authorization the feed triggers; implemented by [`crate::auth::Authorizer`]
/// (and by fakes in tests).
pub trait AuthActions: Send + Sync + 'static {
    /// Exchanges an authorization code and stores the account; returns its appid. Must be
    /// idempotent: the same code arrives by redirect and by push.
    fn complete_authorization(&self, code: Secret) -> impl Future<Output = Result<String>> + Send;
    /// The 全网发布 API half: api_query_auth, then custom/send `<code>_from_api` to `openid`.
    fn answer_release_test(
        &self,
        appid: Option<&str>,
        openid: &str,
        query_auth_code: Secret,
    ) -> impl Future<Output = Result<()>> + Send;
    /// An `authorized` event's code could not be exchanged (it expired while the app was
    /// closed): store the account from api_get_authorizer_list instead; returns its appid.
    fn adopt_authorizer(&self, appid: &str) -> impl Future<Output = Result<String>> + Send;
    /// The account cancelled its authorization: drop its refresh token and cached tokens.
    fn forget_authorizer(&self, appid: &str) -> impl Future<Output = Result<()>> + Send;
}

/// A consumer of feed events (the send engine joins delivery reports, the audience code tracks
/// follows). `apply` runs inside the transaction that moves the cursor past the event, so what
/// it writes and the cursor land together. An error stops the feed and retries the event.
pub trait EventHandler: Send + Sync {
    fn apply(&self, tx: &rusqlite::Transaction<'_>, event: &FeedEvent) -> Result<()>;
}

/// What the UI hears about, live. Sent after the effect is committed.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FeedNotice {
    /// An account was authorized (or its authorization updated) and stored. `pre_auth_code`
    /// and `state` let the wizard match it to the attempt it started.
    AccountAuthorized {
        appid: String,
        pre_auth_code: Option<String>,
        state: Option<String>,
    },
    AccountStatusChanged {
        appid: String,
        status: AccountStatus,
    },
    /// An authorization event could not be completed and was skipped (expired code…).
    AuthorizationFailed {
        appid: Option<String>,
        message: String,
    },
    ReleaseTestAnswered {
        appid: Option<String>,
        openid: String,
    },
    /// Any other event, after the handlers have applied it.
    Event {
        seq: i64,
        appid: Option<String>,
        kind: String,
    },
    /// The feed is failing and will retry.
    Retrying { message: String, retry_in_secs: u64 },
    /// Everything the relay had is applied.
    CaughtUp { cursor: i64 },
}

pub struct FeedFollower<A> {
    relay: RelayClient,
    store: Store,
    actions: Arc<A>,
    handlers: Vec<Arc<dyn EventHandler>>,
    notices: broadcast::Sender<FeedNotice>,
    wait_secs: u32,
}

impl<A: AuthActions> FeedFollower<A> {
    pub fn new(relay: RelayClient, store: Store, actions: Arc<A>) -> Self {
        FeedFollower {
            relay,
            store,
            actions,
            handlers: Vec::new(),
            notices: broadcast::channel(256).0,
            wait_secs: crate::relay::MAX_WAIT_SECS,
        }
    }

    pub fn with_handler(mut self, handler: Arc<dyn EventHandler>) -> Self {
        self.handlers.push(handler);
        self
    }

    /// How long one poll may wait at the relay (≤ 30 s); 0 makes `poll_once` return at once.
    pub fn with_wait_secs(mut self, secs: u32) -> Self {
        self.wait_secs = secs;
        self
    }

    pub fn subscribe(&self) -> broadcast::Receiver<FeedNotice> {
        self.notices.subscribe()
    }

    fn notify(&self, n: FeedNotice) {
        // No receiver is fine: nobody is watching.
        let _ = self.notices.send(n);
    }

    /// One long-poll and the application of everything it returned. Returns how many events
    /// were applied; on error the cursor stays before the failing event.
    pub async fn poll_once(&self) -> Result<usize> {
        let after = self.store.call(|c| cursor::get(c)).await?;
        let batch = self.relay.events(after, self.wait_secs, BATCH).await?;
        if batch.events.is_empty() && batch.last_seq < after {
            // The relay's log starts below our cursor: a new relay (or its data was wiped).
            // Follow it from its start rather than wait forever for seq > after.
            let last = batch.last_seq.max(0);
            let detail = format!("中继事件序号从 {after} 回到 {last}，已从头跟随新的中继");
            self.store
                .call(move |c| {
                    let tx = c.transaction()?;
                    cursor::reset(&tx, 0)?;
                    audit::record(&tx, "relay_reset", None, &detail)?;
                    Ok(tx.commit()?)
                })
                .await?;
            tracing::warn!(after, last, "relay log restarted; cursor reset");
            return Ok(0);
        }
        let mut applied = 0;
        for raw in batch.events {
            if raw.seq <= after {
                continue;
            }
            self.apply(FeedEvent::from_raw(raw)).await?;
            applied += 1;
        }
        if applied > 0 {
            let now = self.store.call(|c| cursor::get(c)).await?;
            if now >= batch.last_seq {
                self.notify(FeedNotice::CaughtUp { cursor: now });
            }
        }
        Ok(applied)
    }

    /// Follows the feed until `cancel` fires. Errors are retried with a doubling delay (1 s up
    /// to 60 s) and reported as [`FeedNotice::Retrying`].
    pub async fn run(self, cancel: CancellationToken) {
        let mut backoff = Duration::from_secs(1);
        loop {
            let result = tokio::select! {
                () = cancel.cancelled() => return,
                r = self.poll_once() => r,
            };
            match result {
                Ok(_) => backoff = Duration::from_secs(1),
                Err(e) => {
                    tracing::warn!(error = %e, retry_in = backoff.as_secs(), "relay feed failed");
                    self.notify(FeedNotice::Retrying {
                        message: e.to_string(),
                        retry_in_secs: backoff.as_secs(),
                    });
                    tokio::select! {
                        () = cancel.cancelled() => return,
                        () = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }

    async fn apply(&self, ev: FeedEvent) -> Result<()> {
        let notice = match &ev.kind {
            EventKind::Authorized {
                authorizer_appid, ..
            } if crate::auth::is_release_test_account(authorizer_appid) => {
                // 全网发布: WeChat authorizes its test account first and reuses that code as the
                // query_auth_code; exchanging it here would spend it before the test needs it.
                FeedNotice::Event {
                    seq: ev.seq,
                    appid: ev.appid.clone(),
                    kind: ev.kind.name().to_string(),
                }
            }
            EventKind::Authorized {
                authorization_code,
                pre_auth_code,
                authorizer_appid,
                ..
            } => {
                let pre = Some(pre_auth_code.clone()).filter(|p| !p.is_empty());
                match self
                    .actions
                    .complete_authorization(authorization_code.clone())
                    .await
                {
                    Ok(appid) => FeedNotice::AccountAuthorized {
                        appid,
                        pre_auth_code: pre,
                        state: None,
                    },
                    // The code expired while the app was closed: the account is authorized
                    // all the same, so take it from api_get_authorizer_list instead.
                    Err(e) if is_permanent(&e) => {
                        match self.actions.adopt_authorizer(authorizer_appid).await {
                            Ok(appid) => FeedNotice::AccountAuthorized {
                                appid,
                                pre_auth_code: pre,
                                state: None,
                            },
                            Err(adopt) if is_permanent(&adopt) => {
                                self.skip_or_fail(Some(authorizer_appid), e)?
                            }
                            Err(adopt) => return Err(adopt),
                        }
                    }
                    Err(e) => return Err(e),
                }
            }
            EventKind::AuthCallback {
                auth_code, state, ..
            } => match self.actions.complete_authorization(auth_code.clone()).await {
                Ok(appid) => FeedNotice::AccountAuthorized {
                    appid,
                    pre_auth_code: None,
                    state: state.clone(),
                },
                Err(e) => self.skip_or_fail(None, e)?,
            },
            EventKind::QueryAuthCode {
                openid,
                query_auth_code,
                ..
            } => {
                let appid = ev.appid.as_deref();
                match self
                    .actions
                    .answer_release_test(appid, openid, query_auth_code.clone())
                    .await
                {
                    Ok(()) => FeedNotice::ReleaseTestAnswered {
                        appid: ev.appid.clone(),
                        openid: openid.clone(),
                    },
                    Err(e) => self.skip_or_fail(appid, e)?,
                }
            }
            EventKind::Unauthorized {
                authorizer_appid, ..
            } => {
                // Tokens are dead after this; forgetting them first is harmless on a retry.
                self.actions.forget_authorizer(authorizer_appid).await?;
                FeedNotice::AccountStatusChanged {
                    appid: authorizer_appid.clone(),
                    status: AccountStatus::Unauthorized,
                }
            }
            _ => FeedNotice::Event {
                seq: ev.seq,
                appid: ev.appid.clone(),
                kind: ev.kind.name().to_string(),
            },
        };
        self.commit(ev, &notice).await?;
        self.notify(notice);
        Ok(())
    }

    /// A permanent failure (expired or used code, revoked account…) is recorded and the event
    /// skipped; anything that may pass later (network, ticket, whitelist) stops the feed.
    fn skip_or_fail(&self, appid: Option<&str>, e: Error) -> Result<FeedNotice> {
        if !is_permanent(&e) {
            return Err(e);
        }
        tracing::warn!(appid, error = %e, "feed event skipped");
        Ok(FeedNotice::AuthorizationFailed {
            appid: appid.map(str::to_string),
            message: e.to_string(),
        })
    }

    /// The local effect, the handlers and the cursor, in one transaction.
    async fn commit(&self, ev: FeedEvent, notice: &FeedNotice) -> Result<()> {
        let handlers = self.handlers.clone();
        let notice = notice.clone();
        self.store
            .call(move |c| {
                let tx = c.transaction()?;
                match &notice {
                    FeedNotice::AccountStatusChanged { appid, status } => {
                        accounts::set_status(&tx, appid, *status)?;
                        audit::record(
                            &tx,
                            "unauthorized",
                            Some(appid),
                            "公众号/小程序管理员取消了授权",
                        )?;
                    }
                    FeedNotice::AuthorizationFailed { appid, message } => {
                        audit::record(&tx, "authorization_failed", appid.as_deref(), message)?;
                    }
                    FeedNotice::ReleaseTestAnswered { appid, .. } => {
                        audit::record(
                            &tx,
                            "release_test",
                            appid.as_deref(),
                            "全网发布测试：已通过客服消息回复",
                        )?;
                    }
                    _ => {}
                }
                for h in &handlers {
                    h.apply(&tx, &ev)?;
                }
                cursor::advance(&tx, ev.seq)?;
                Ok(tx.commit()?)
            })
            .await
    }
}

/// Whether retrying the same event can never succeed.
pub(crate) fn is_permanent(e: &Error) -> bool {
    use wxdesk_wechat::ErrKind as K;
    match e {
        Error::WeChat(w) => match w.wechat() {
            Some(we) => !matches!(
                we.kind,
                K::Retryable
                    | K::RateLimited
                    | K::TokenInvalid
                    | K::IpNotWhitelisted
                    | K::BadCredentials
                    | K::TicketInvalid
                    | K::Quota
            ),
            None => matches!(
                w,
                wxdesk_wechat::Error::Json(_)
                    | wxdesk_wechat::Error::InvalidArgument(_)
                    | wxdesk_wechat::Error::MissingField(_)
            ),
        },
        Error::Invalid(_) | Error::AccountNotFound(_) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests;
