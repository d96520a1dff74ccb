//! The relay feed follower: long-polls `GET /api/v1/events` after the durable cursor, applies
//! each event, and moves the cursor past it. It catches up on start (the relay keeps the log
//! while the app is closed), backs off while the relay or WeChat is unreachable, and stops when
//! its cancellation token fires.
//!
//! Ordering: the cursor moves only after an event's effect is stored, and in the same SQLite
//! transaction whenever the effect is local (status changes, the [`EventHandler`] hooks). Effects
//! that call WeChat (exchanging an authorization code) cannot share that transaction; they are
//! idempotent instead, so an event re-applied after a crash does no harm.
//!
//! An effect that fails in a way that may pass later (quota, WeChat or the relay unreachable, no
//! ticket yet) does not hold up the events behind it: the event is parked ([`parked`]) in the
//! transaction that moves the cursor past it and retried between polls ([`retry`]). Events the
//! relay pruned before the app saw them are recorded as lost and skipped ([`gap`]).

pub mod events;
mod gap;
pub mod parked;
mod retry;
pub mod window;

use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

pub use events::{EventKind, FeedEvent};

use crate::error::{Error, Msg, Result};
use crate::relay::{RawEvent, RelayClient};
use crate::secrets::Secret;
use crate::store::accounts::AccountStatus;
use crate::store::{Store, accounts, audit, cursor};

/// Events asked for per poll.
const BATCH: u32 = 500;

/// WeChat pushes a component_verify_ticket every 10 minutes: a newest one older than this means
/// three pushes in a row did not arrive (the callback URL, the relay's keys or the platform's
/// review), long before the 12-hour ticket itself expires.
pub const TICKET_STALE_SECS: i64 = 30 * 60;

/// How often the follower asks the relay for the newest ticket's age.
pub const TICKET_CHECK_EVERY: std::time::Duration = std::time::Duration::from_secs(5 * 60);

/// The parts of authorization the feed triggers; implemented by [`crate::auth::Authorizer`]
/// (and by fakes in tests).
pub trait AuthActions: Send + Sync + 'static {
    /// Exchanges an authorization code and stores the account; returns its appid. Must be
    /// idempotent: the same code arrives by redirect and by push.
    fn complete_authorization(&self, code: Secret) -> impl Future<Output = Result<String>> + Send;
    /// Whether this desk redeems authorization codes itself. A team desk does not: the team
    /// server redeems them and the desk adopts the account the server lists.
    fn redeems_codes(&self) -> bool {
        true
    }
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
    AuthorizationFailed { appid: Option<String>, message: Msg },
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
    /// The feed is failing and will retry. `code` is the core's error code (`relay`,
    /// `relay_unauthorized`, …) so the window can say what to do.
    Retrying {
        message: Msg,
        code: String,
        retry_in_secs: u64,
    },
    /// Everything the relay had is applied (also sent when polling works again after failures).
    CaughtUp { cursor: i64 },
    /// An event's effect failed in a way that may pass later: it is parked and retried in
    /// `retry_in_secs`, and the events behind it go on. `attempts` is 1 when it was just parked.
    EventParked {
        seq: i64,
        appid: Option<String>,
        kind: String,
        message: Msg,
        errcode: Option<i64>,
        attempts: u32,
        retry_in_secs: u64,
    },
    /// A parked event finally applied (its own notice, e.g. `AccountAuthorized`, came first).
    ParkedApplied {
        seq: i64,
        appid: Option<String>,
        kind: String,
    },
    /// A parked event can never apply (expired code, too old, gone from the relay): it is
    /// recorded in the audit log and dropped.
    ParkedGivenUp {
        seq: i64,
        appid: Option<String>,
        kind: String,
        message: Msg,
    },
    /// The relay pruned events `from_seq..=to_seq` before this app applied them; the cursor
    /// moved past them and the audit log says so.
    EventsLost { from_seq: i64, to_seq: i64 },
    /// WeChat's component_verify_ticket has stopped arriving at the relay: the newest is
    /// `age_secs` old (`None`: the relay has none at all). Tokens cannot be renewed without it.
    TicketStale { age_secs: Option<i64> },
    /// Tickets arrive again (the newest is `age_secs` old): whoever shows the trouble clears it.
    TicketFresh { age_secs: i64 },
    /// An account call could not reach WeChat (no connection, timeout, or the relay's egress
    /// could not reach it); `message` says where and why. Sent by the services, not the
    /// follower, from [`crate::health::WeChatHealth`].
    WechatUnreachable { message: Msg },
    /// A call reached WeChat again.
    WechatReachable,
}

pub struct FeedFollower<A> {
    relay: RelayClient,
    store: Store,
    actions: Arc<A>,
    handlers: Vec<Arc<dyn EventHandler>>,
    notices: broadcast::Sender<FeedNotice>,
    wait_secs: u32,
    /// How often to check that tickets still arrive; `None`: not this desk's concern (a team
    /// desk: the team server receives them).
    ticket_every: Option<std::time::Duration>,
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
            ticket_every: Some(TICKET_CHECK_EVERY),
        }
    }

    /// How often `run` checks that WeChat's tickets still arrive at the relay (`None`: never,
    /// as on a team desk, whose server receives them).
    #[must_use]
    pub fn watching_tickets(mut self, every: Option<std::time::Duration>) -> Self {
        self.ticket_every = every;
        self
    }

    /// Asks the relay for its newest ticket and says whether tickets have stopped arriving
    /// (`Some(notice)` only when the answer differs from `was_stale`). A relay that cannot be
    /// asked says nothing here: the poll's own failure reports it.
    async fn check_ticket(&self, was_stale: Option<bool>) -> Option<(bool, FeedNotice)> {
        let age = match self.relay.fetch_ticket().await {
            Ok(t) => t.map(|t| t.age_secs),
            Err(e) => {
                tracing::debug!(error = %e, "ticket check skipped");
                return None;
            }
        };
        match age {
            Some(a) if a <= TICKET_STALE_SECS => (was_stale != Some(false))
                .then_some((false, FeedNotice::TicketFresh { age_secs: a })),
            _ => {
                tracing::warn!(age_secs = ?age, "no fresh component_verify_ticket at the relay");
                (was_stale != Some(true))
                    .then_some((true, FeedNotice::TicketStale { age_secs: age }))
            }
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
    /// were applied (parked ones included: the cursor moved past them); on error the cursor
    /// stays before the failing event.
    pub async fn poll_once(&self) -> Result<usize> {
        Ok(self.poll(self.wait_secs).await?.applied)
    }

    async fn poll(&self, wait_secs: u32) -> Result<Polled> {
        let after = self.store.call(|c| cursor::get(c)).await?;
        let mut batch = self.relay.events(after, wait_secs, BATCH).await?;
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
            return Ok(Polled::default());
        }
        if gap::maybe_pruned_without_first_seq(after, &batch) {
            // An older relay says nothing of what it pruned: an empty answer with a head past
            // the cursor is how pruning looks, but so is a long-poll that timed out just as an
            // event landed. Ask once more without waiting before believing it.
            batch = self.relay.events(after, 0, BATCH).await?;
        }
        let mut from = after;
        let mut notified = false;
        if let Some(lost) = gap::lost_range(after, &batch) {
            self.skip_lost(lost).await?;
            from = lost.to_seq;
            notified = true;
        }
        let mut applied = 0;
        for raw in batch.events {
            if raw.seq <= from {
                continue;
            }
            self.apply(raw).await?;
            applied += 1;
        }
        if applied > 0 || notified {
            let now = self.store.call(|c| cursor::get(c)).await?;
            if now >= batch.last_seq {
                self.notify(FeedNotice::CaughtUp { cursor: now });
                notified = true;
            }
        }
        Ok(Polled {
            applied,
            caught_up_notified: notified,
        })
    }

    /// Follows the feed until `cancel` fires. Between polls, parked events that are due are
    /// retried, and a poll waits at the relay no longer than until the next one is due. Poll
    /// errors are retried as [`crate::retry::FEED_POLL`] says and reported as
    /// [`FeedNotice::Retrying`]; the first poll that works again reports
    /// [`FeedNotice::CaughtUp`], so whoever shows the trouble can clear it.
    pub async fn run(self, cancel: CancellationToken) {
        // Polls failed in a row.
        let mut failures: u32 = 0;
        // Whether tickets had stopped arriving at the last check, and when to check again.
        let mut ticket_stale: Option<bool> = None;
        let mut ticket_due = tokio::time::Instant::now();
        loop {
            if let Some(every) = self.ticket_every
                && tokio::time::Instant::now() >= ticket_due
            {
                ticket_due = tokio::time::Instant::now() + every;
                let checked = tokio::select! {
                    () = cancel.cancelled() => return,
                    c = self.check_ticket(ticket_stale) => c,
                };
                if let Some((stale, notice)) = checked {
                    // The first check says nothing when all is well (there is nothing to clear).
                    if stale || ticket_stale.is_some() {
                        self.notify(notice);
                    }
                    ticket_stale = Some(stale);
                }
            }
            let retried = tokio::select! {
                () = cancel.cancelled() => return,
                r = self.retry_parked() => r,
            };
            let wait = match retried {
                // Whatever failed (the database, most likely) would fail again at once: wait
                // the full poll rather than spin on due events that cannot be rescheduled.
                Err(e) => {
                    tracing::warn!(error = %e, "retrying parked events failed");
                    self.wait_secs
                }
                Ok(_) => match self.store.call(|c| parked::next_due(c)).await {
                    Ok(Some(due)) => {
                        let secs = (due - crate::store::now()).clamp(0, i64::from(self.wait_secs));
                        u32::try_from(secs).unwrap_or(self.wait_secs)
                    }
                    _ => self.wait_secs,
                },
            };
            let result = tokio::select! {
                () = cancel.cancelled() => return,
                r = self.poll(wait) => r,
            };
            match result {
                Ok(polled) => {
                    if failures > 0 && !polled.caught_up_notified {
                        let cursor = self.store.call(|c| cursor::get(c)).await.unwrap_or(-1);
                        self.notify(FeedNotice::CaughtUp { cursor });
                    }
                    failures = 0;
                }
                Err(e) => {
                    failures = failures.saturating_add(1);
                    let backoff = crate::retry::FEED_POLL.backoff(failures);
                    tracing::warn!(error = %e, retry_in = backoff.as_secs(), "relay feed failed");
                    self.notify(FeedNotice::Retrying {
                        message: Msg::of_error(&e),
                        code: e.code().to_string(),
                        retry_in_secs: backoff.as_secs(),
                    });
                    tokio::select! {
                        () = cancel.cancelled() => return,
                        () = tokio::time::sleep(backoff) => {}
                    }
                }
            }
        }
    }

    /// Applies one live event: its effect, the handlers and the cursor together, or, when the
    /// effect may work later, the handlers, the cursor and a parked copy together.
    async fn apply(&self, raw: RawEvent) -> Result<()> {
        // Only the kinds with a WeChat effect can be parked; keep their data (without codes)
        // for that before the typed event takes it apart.
        let stored = parked::PARKABLE
            .contains(&raw.kind.as_str())
            .then(|| parked::redact(&raw.data));
        let ev = FeedEvent::from_raw(raw);
        match self.effect(&ev).await {
            Ok(notice) => {
                self.commit(ev, &notice, Applied::Live).await?;
                self.notify(notice);
            }
            Err(e) => {
                let notice = self.park(ev, stored.unwrap_or_default(), &e).await?;
                self.notify(notice);
            }
        }
        Ok(())
    }

    /// What an event does outside the database, and the notice that says so. `Err` only for a
    /// failure that may pass later; a permanent one is recorded and skipped
    /// ([`FeedNotice::AuthorizationFailed`]).
    async fn effect(&self, ev: &FeedEvent) -> Result<FeedNotice> {
        Ok(match &ev.kind {
            EventKind::Authorized {
                authorizer_appid, ..
            } if crate::auth::is_release_test_account(authorizer_appid) => {
                // 全网发布: WeChat authorizes its test account first and reuses that code as the
                // query_auth_code; exchanging it here would spend it before the test needs it.
                event_notice(ev)
            }
            EventKind::Authorized {
                pre_auth_code,
                authorizer_appid,
                ..
            } if !self.actions.redeems_codes() => {
                // A team desk: the server redeemed the code; take the account it lists (not
                // listed yet is an error that parks the event and retries it).
                let appid = self.actions.adopt_authorizer(authorizer_appid).await?;
                FeedNotice::AccountAuthorized {
                    appid,
                    pre_auth_code: Some(pre_auth_code.clone()).filter(|p| !p.is_empty()),
                    state: None,
                }
            }
            EventKind::AuthCallback { .. } if !self.actions.redeems_codes() => {
                // The same authorization arrives as an `authorized` push, handled above.
                event_notice(ev)
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
                                skip_or_fail(Some(authorizer_appid), e)?
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
                Err(e) => skip_or_fail(None, e)?,
            },
            EventKind::QueryAuthCode { .. }
                if !ev
                    .appid
                    .as_deref()
                    .is_some_and(crate::auth::is_release_test_account) =>
            {
                // Only WeChat's 全网发布 test accounts send QUERY_AUTH_CODE. The relay checks
                // that too; checking again here means a forged or misrouted one can never make
                // this app spend an api_query_auth or a customer-service message.
                tracing::warn!(appid = ?ev.appid, seq = ev.seq, "query_auth_code from an account that is not a release-test account ignored");
                event_notice(ev)
            }
            EventKind::QueryAuthCode { .. } if !self.actions.redeems_codes() => {
                // A team desk: the team server answers the release test itself.
                event_notice(ev)
            }
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
                    Err(e) => skip_or_fail(appid, e)?,
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
            _ => event_notice(ev),
        })
    }

    /// The local effect of `notice` and, for a live event, the handlers and the cursor; for a
    /// parked one, its removal from the parked table instead (the handlers saw it when it was
    /// parked). All in one transaction. Returns false when a parked event was already gone
    /// (another process on this data dir applied it first): nothing is written then.
    async fn commit(&self, ev: FeedEvent, notice: &FeedNotice, how: Applied) -> Result<bool> {
        let handlers = self.handlers.clone();
        let notice = notice.clone();
        self.store
            .call(move |c| {
                let tx = c.transaction()?;
                if how == Applied::Retried && !parked::remove(&tx, ev.seq)? {
                    return Ok(false);
                }
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
                        audit::record(&tx, "authorization_failed", appid.as_deref(), &message.zh)?;
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
                match how {
                    Applied::Live => {
                        for h in &handlers {
                            h.apply(&tx, &ev)?;
                        }
                        cursor::advance(&tx, ev.seq)?;
                    }
                    Applied::Retried => audit::record(
                        &tx,
                        "parked_applied",
                        ev.appid.as_deref(),
                        &format!("暂缓的事件 #{}（{}）重试成功", ev.seq, ev.kind.name()),
                    )?,
                }
                tx.commit()?;
                Ok(true)
            })
            .await
    }

    /// Parks a live event whose effect failed for now: the handlers, the cursor and the parked
    /// row land together, so the next event is applied next and this one is not lost.
    async fn park(&self, ev: FeedEvent, data: Value, e: &Error) -> Result<FeedNotice> {
        let failure = parked::Failure::of(e);
        tracing::warn!(seq = ev.seq, kind = ev.kind.name(), error = %e, "feed event parked");
        let handlers = self.handlers.clone();
        let message = failure.message.clone();
        let (ev, next) = self
            .store
            .call(move |c| {
                let tx = c.transaction()?;
                let next = parked::park(
                    &tx,
                    ev.seq,
                    ev.kind.name(),
                    ev.appid.as_deref(),
                    ev.received_at,
                    &data,
                    &failure,
                )?;
                audit::record(
                    &tx,
                    "event_parked",
                    ev.appid.as_deref(),
                    &format!(
                        "事件 #{}（{}）暂时无法处理，稍后自动重试：{}",
                        ev.seq,
                        ev.kind.name(),
                        failure.message.zh
                    ),
                )?;
                for h in &handlers {
                    h.apply(&tx, &ev)?;
                }
                cursor::advance(&tx, ev.seq)?;
                tx.commit()?;
                Ok((ev, next))
            })
            .await?;
        Ok(FeedNotice::EventParked {
            seq: ev.seq,
            appid: ev.appid.clone(),
            kind: ev.kind.name().to_string(),
            message,
            errcode: e.wechat_errcode(),
            attempts: 1,
            retry_in_secs: secs_until(next),
        })
    }
}

/// What one poll did, for the loop's notices.
#[derive(Debug, Default)]
struct Polled {
    applied: usize,
    caught_up_notified: bool,
}

/// Whether [`FeedFollower::commit`] applies a live event or a parked one's retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Applied {
    Live,
    Retried,
}

/// The notice for an event with no effect of its own.
fn event_notice(ev: &FeedEvent) -> FeedNotice {
    FeedNotice::Event {
        seq: ev.seq,
        appid: ev.appid.clone(),
        kind: ev.kind.name().to_string(),
    }
}

/// A permanent failure (expired or used code, revoked account…) is recorded and the event
/// skipped; anything that may pass later (network, ticket, whitelist) is returned, to park it.
fn skip_or_fail(appid: Option<&str>, e: Error) -> Result<FeedNotice> {
    if !is_permanent(&e) {
        return Err(e);
    }
    tracing::warn!(appid, error = %e, "feed event skipped");
    Ok(FeedNotice::AuthorizationFailed {
        appid: appid.map(str::to_string),
        message: Msg::of_error(&e),
    })
}

/// Seconds from now until the Unix time `at` (0 when past).
fn secs_until(at: i64) -> u64 {
    u64::try_from(at - crate::store::now()).unwrap_or(0)
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
#[cfg(test)]
mod tests_gap;
#[cfg(test)]
mod tests_parked;
