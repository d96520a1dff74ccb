//! Retrying parked events (see [`super::parked`]) between polls: each due event is rebuilt
//! (its one-time code fetched from the relay again), its effect tried once more, and then it is
//! applied and removed, rescheduled with a longer delay, or given up and recorded.

use crate::error::{Error, Msg, Result};
use crate::relay::RawEvent;
use crate::store::{audit, now};

use super::parked::{self, Failure, ParkedEvent};
use super::{Applied, AuthActions, FeedEvent, FeedFollower, FeedNotice, is_permanent, secs_until};

/// Parked events retried per pass, so one pass cannot hold the feed for long.
const PER_PASS: u32 = 20;

/// Why a parked event cannot be rebuilt.
fn gone_from_relay() -> Msg {
    Msg::new(
        "中继已不再保留该事件（或其序号已属于另一事件），其中的一次性授权码无法再取回",
        "The relay no longer keeps this event (or its number now belongs to another event), so \
         the one-time authorization code in it cannot be fetched again",
    )
}

impl<A: AuthActions> FeedFollower<A> {
    /// Retries every parked event that is due now. Returns how many were settled (applied or
    /// given up); the others are rescheduled.
    pub async fn retry_parked(&self) -> Result<usize> {
        let at = now();
        let due = self
            .store
            .call(move |c| parked::due(c, at, PER_PASS))
            .await?;
        let mut settled = 0;
        for p in due {
            if self.retry_one(p).await? {
                settled += 1;
            }
        }
        Ok(settled)
    }

    async fn retry_one(&self, p: ParkedEvent) -> Result<bool> {
        let ev = match self.rebuild(&p).await {
            Ok(Some(ev)) => ev,
            Ok(None) => {
                self.give_up(&p, gone_from_relay()).await?;
                return Ok(true);
            }
            // The relay cannot be asked now: try again later, like any failure.
            Err(e) => return self.failed_again(&p, &e).await,
        };
        match self.effect(&ev).await {
            Ok(notice) => {
                let seq = ev.seq;
                let kind = ev.kind.name().to_string();
                let appid = ev.appid.clone();
                if !self.commit(ev, &notice, Applied::Retried).await? {
                    return Ok(true);
                }
                tracing::info!(seq, kind, "parked event retried");
                let given_up = match &notice {
                    FeedNotice::AuthorizationFailed { message, .. } => Some(message.clone()),
                    _ => None,
                };
                self.notify(notice);
                self.notify(match given_up {
                    // Permanently impossible now (the code expired meanwhile…): the commit
                    // recorded why in the audit log and removed it.
                    Some(message) => FeedNotice::ParkedGivenUp {
                        seq,
                        appid,
                        kind,
                        message,
                    },
                    None => FeedNotice::ParkedApplied { seq, appid, kind },
                });
                Ok(true)
            }
            Err(e) => self.failed_again(&p, &e).await,
        }
    }

    /// The event as the live feed would have seen it. Kinds carrying a one-time code are read
    /// from the relay again (the code was never stored), and only accepted if the seq still
    /// holds the same event; `None` when it does not any more.
    async fn rebuild(&self, p: &ParkedEvent) -> Result<Option<FeedEvent>> {
        if !parked::needs_refetch(&p.kind) {
            if p.data.is_null() {
                return Ok(None);
            }
            return Ok(Some(FeedEvent::from_raw(RawEvent {
                seq: p.seq,
                kind: p.kind.clone(),
                appid: p.appid.clone(),
                received_at: p.received_at,
                data: p.data.clone(),
            })));
        }
        let batch = self.relay.events(p.seq.saturating_sub(1), 0, 1).await?;
        Ok(batch
            .events
            .into_iter()
            .find(|r| r.seq == p.seq && r.kind == p.kind && r.received_at == p.received_at)
            .map(FeedEvent::from_raw))
    }

    /// Another failure: rescheduled, or given up when it can never pass or has been failing
    /// for [`parked::GIVE_UP_AFTER_SECS`].
    async fn failed_again(&self, p: &ParkedEvent, e: &Error) -> Result<bool> {
        if is_permanent(e) || now() - p.parked_at >= parked::GIVE_UP_AFTER_SECS {
            self.give_up(p, Msg::of_error(e)).await?;
            return Ok(true);
        }
        let failure = Failure::of(e);
        let message = failure.message.clone();
        let seq = p.seq;
        let (attempts, next) = self
            .store
            .call(move |c| parked::retry_failed(c, seq, &failure))
            .await?;
        tracing::warn!(seq, attempts, error = %e, "parked event failed again");
        self.notify(FeedNotice::EventParked {
            seq,
            appid: p.appid.clone(),
            kind: p.kind.clone(),
            message,
            errcode: e.wechat_errcode(),
            attempts,
            retry_in_secs: secs_until(next),
        });
        Ok(false)
    }

    /// Drops a parked event for good, recording why.
    async fn give_up(&self, p: &ParkedEvent, message: Msg) -> Result<()> {
        let seq = p.seq;
        let appid = p.appid.clone();
        let detail = format!(
            "暂缓的事件 #{seq}（{}）已放弃，不再重试：{}",
            p.kind, message.zh
        );
        let removed = self
            .store
            .call(move |c| {
                let tx = c.transaction()?;
                if !parked::remove(&tx, seq)? {
                    return Ok(false);
                }
                audit::record(&tx, "parked_given_up", appid.as_deref(), &detail)?;
                tx.commit()?;
                Ok(true)
            })
            .await?;
        if removed {
            tracing::warn!(seq, kind = p.kind, "parked event given up");
            self.notify(FeedNotice::ParkedGivenUp {
                seq,
                appid: p.appid.clone(),
                kind: p.kind.clone(),
                message,
            });
        }
        Ok(())
    }
}
