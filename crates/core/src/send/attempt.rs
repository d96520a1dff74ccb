//! One request for one row, and what the row becomes: the error policy of `api::classify` turned
//! into row outcomes, job pauses (with the reason the operator reads) and the signals the runner
//! needs to keep failures bounded (transport health, the 45011 minute).

use std::sync::atomic::Ordering;

use super::api::{Action, SendFailure, classify};
use super::db::{Claimed, Outcome, RowResult, now_ms};
use super::model::{Job, JobStatus, RecipientState, client_msg_id};
use super::reason::{Explanation, PauseReason, RowNote};
use super::render::build_request;
use super::state::{AccountState, Inner};

/// What a send task reports to its runner.
pub(crate) struct Done {
    pub outcome: Outcome,
    /// The job must pause, and why.
    pub pause: Option<(JobStatus, PauseReason)>,
    pub link: Link,
    /// 45011: claim nothing for this account's job before this time (unix ms).
    pub hold_until_ms: Option<i64>,
}

/// What the attempt says about the way to WeChat (or the relay).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Link {
    /// An answer came back (success or an errcode): the network works.
    Answered,
    /// No usable answer: connect refused, reset, timeout… (the failure's message).
    Failed(String),
    /// Nothing to say (no request made, or refused for a reason of its own).
    Unknown,
}

/// Sends one row and decides what the row becomes.
pub(crate) async fn attempt(
    inner: &Inner,
    job: &Job,
    account: &AccountState,
    row: Claimed,
) -> Done {
    let cmid = client_msg_id(job.id, &job.nonce, row.seq);
    let req = match build_request(&job.payload, &[], &row.openid, &row.vars, &cmid) {
        Ok(r) => r,
        Err(p) => {
            return done(
                row.id,
                RowResult::Final {
                    state: RecipientState::FailedPermanent,
                    errcode: None,
                    errmsg: RowNote::from(p).to_stored(),
                    response: String::new(),
                },
            );
        }
    };
    let generation = account.token_generation.load(Ordering::Acquire);
    let mut result = inner.api.send(&job.appid, &req).await;
    let idempotent = job.kind.is_idempotent();
    if let Err(f) = &result
        && classify(f, idempotent) == Action::RefreshToken
    {
        if let Err(e) = inner.refresh_token(&job.appid, account, generation).await {
            return pause_row(
                row.id,
                JobStatus::Paused,
                PauseReason::TokenRefresh {
                    detail: e.message(),
                },
                &e,
            );
        }
        result = inner.api.send(&job.appid, &req).await;
        if let Err(f) = &result
            && classify(f, idempotent) == Action::RefreshToken
        {
            let reason = PauseReason::TokenRejected {
                errcode: f.errcode(),
            };
            return pause_row(row.id, JobStatus::Paused, reason, f);
        }
    }
    let f = match result {
        Ok(ok) => {
            let mut d = done(
                row.id,
                RowResult::Sent {
                    msgid: ok.msgid,
                    response: ok.response.to_string(),
                },
            );
            d.link = Link::Answered;
            return d;
        }
        Err(f) => f,
    };
    let response = failure_response(&f);
    let mut d = match classify(&f, idempotent) {
        Action::Retry | Action::RefreshToken if row.attempts < job.max_attempts => {
            let delay = inner.cfg.retry().backoff(row.attempts);
            done(
                row.id,
                RowResult::Again {
                    next_at_ms: now_ms() + delay.as_millis() as i64,
                    errcode: f.errcode(),
                    errmsg: stored_errmsg(&f),
                    response,
                    refund: false,
                },
            )
        }
        Action::Retry | Action::RefreshToken => done(
            row.id,
            RowResult::Final {
                state: RecipientState::FailedRetryable,
                errcode: f.errcode(),
                errmsg: stored_errmsg(&f),
                response,
            },
        ),
        Action::WaitNextMinute => {
            // WeChat counts 45011's limit per calendar minute: sending again before the minute
            // turns only earns another 45011. The row waits (its attempt refunded: it is not
            // failing) and the runner claims nothing until then.
            let at = next_minute_ms(now_ms());
            let mut d = done(
                row.id,
                RowResult::Again {
                    next_at_ms: at,
                    errcode: f.errcode(),
                    errmsg: stored_errmsg(&f),
                    response,
                    refund: true,
                },
            );
            d.hold_until_ms = Some(at);
            d
        }
        Action::PauseQuota => pause_row(row.id, JobStatus::PausedQuota, PauseReason::Quota, &f),
        Action::PauseAccount => {
            let reason = PauseReason::Account {
                errcode: f.errcode(),
                detail: f.message(),
                explanation: f.errcode().and_then(Explanation::of),
            };
            pause_row(row.id, JobStatus::Paused, reason, &f)
        }
        Action::PauseRefused => pause_row(row.id, JobStatus::Paused, refused_reason(&f), &f),
        Action::Permanent => done(
            row.id,
            RowResult::Final {
                state: RecipientState::FailedPermanent,
                errcode: f.errcode(),
                errmsg: stored_errmsg(&f),
                response,
            },
        ),
        Action::Uncertain => done(
            row.id,
            RowResult::Final {
                state: RecipientState::Uncertain,
                errcode: None,
                errmsg: RowNote::NoIdempotency {
                    detail: f.message(),
                }
                .to_stored(),
                response,
            },
        ),
    };
    d.link = match &f {
        SendFailure::Api { .. } => Link::Answered,
        SendFailure::Transport { .. } => Link::Failed(f.message()),
        SendFailure::Token { .. } | SendFailure::Refused { .. } => Link::Unknown,
    };
    d
}

/// The start of the next calendar minute after `ms`.
pub(crate) fn next_minute_ms(ms: i64) -> i64 {
    (ms.div_euclid(60_000) + 1) * 60_000
}

/// What a send task that panicked reports: its request may have left, so the row is `uncertain`
/// (never resent without the operator), and the job pauses so someone looks.
///
/// The panic's text is not stored or shown: it could quote anything the task held (the default
/// hook has printed it already).
pub(crate) fn panicked(row_id: i64) -> Done {
    Done {
        outcome: Outcome {
            row_id,
            result: RowResult::Final {
                state: RecipientState::Uncertain,
                errcode: None,
                errmsg: RowNote::TaskPanic.to_stored(),
                response: String::new(),
            },
        },
        pause: Some((JobStatus::Paused, PauseReason::Panic)),
        link: Link::Unknown,
        hold_until_ms: None,
    }
}

/// Why the job paused after a refusal: nothing reached WeChat; a 401/403 is the relay's key.
pub(crate) fn refused_reason(f: &SendFailure) -> PauseReason {
    let (status, detail) = match f {
        SendFailure::Refused { status, detail } => (*status, detail.clone()),
        _ => (0, String::new()),
    };
    match status {
        401 | 403 => PauseReason::RelayKey { status, detail },
        _ => PauseReason::Refused { status, detail },
    }
}

/// What a failure leaves in the row's `errmsg`: WeChat's own errmsg as it came, or wxdesk's
/// note (network, token, refusal) as a code.
fn stored_errmsg(f: &SendFailure) -> String {
    match f {
        SendFailure::Api { errmsg, .. } => errmsg.clone(),
        SendFailure::Transport { detail, .. } => RowNote::Network {
            detail: detail.clone(),
        }
        .to_stored(),
        SendFailure::Token { detail } => RowNote::Token {
            detail: detail.clone(),
        }
        .to_stored(),
        SendFailure::Refused { status, detail } => RowNote::Refused {
            status: *status,
            detail: detail.clone(),
        }
        .to_stored(),
    }
}

fn done(row_id: i64, result: RowResult) -> Done {
    Done {
        outcome: Outcome { row_id, result },
        pause: None,
        link: Link::Unknown,
        hold_until_ms: None,
    }
}

/// The row goes back to pending untouched (nothing was sent) and the job pauses.
fn pause_row(row_id: i64, status: JobStatus, reason: PauseReason, f: &SendFailure) -> Done {
    Done {
        outcome: Outcome {
            row_id,
            result: RowResult::Again {
                next_at_ms: 0,
                errcode: f.errcode(),
                errmsg: stored_errmsg(f),
                response: failure_response(f),
                refund: true,
            },
        },
        pause: Some((status, reason)),
        link: Link::Unknown,
        hold_until_ms: None,
    }
}

fn failure_response(f: &SendFailure) -> String {
    match f {
        SendFailure::Api { errcode, errmsg } => {
            serde_json::json!({ "errcode": errcode, "errmsg": errmsg }).to_string()
        }
        other => serde_json::json!({ "error": other.message() }).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_minute_is_the_next_calendar_minute_boundary() {
        assert_eq!(next_minute_ms(0), 60_000);
        assert_eq!(next_minute_ms(59_999), 60_000);
        assert_eq!(next_minute_ms(60_000), 120_000);
        assert_eq!(next_minute_ms(1_700_000_012_345), 1_700_000_040_000);
    }

    #[test]
    fn a_relay_key_refusal_is_the_relay_key_code_and_other_refusals_keep_their_detail() {
        for status in [401, 403] {
            let r = refused_reason(&SendFailure::Refused {
                status,
                detail: String::new(),
            });
            assert_eq!(
                r,
                PauseReason::RelayKey {
                    status,
                    detail: String::new()
                }
            );
            let zh = r.message(crate::Lang::Zh);
            assert!(zh.contains("中继密钥") && zh.contains("设置"), "{zh}");
            let en = r.message(crate::Lang::En);
            assert!(en.contains("relay key") && en.contains("Settings"), "{en}");
        }
        let r = refused_reason(&SendFailure::Refused {
            status: 400,
            detail: "转发路径无效".into(),
        });
        assert_eq!(
            r,
            PauseReason::Refused {
                status: 400,
                detail: "转发路径无效".into()
            }
        );
        assert!(
            r.message(crate::Lang::En)
                .contains("before it reached WeChat")
        );
    }

    #[test]
    fn wechats_errmsg_is_kept_and_wxdesks_own_failures_are_notes() {
        assert_eq!(
            stored_errmsg(&SendFailure::Api {
                errcode: 40003,
                errmsg: "invalid openid".into()
            }),
            "invalid openid"
        );
        let s = stored_errmsg(&SendFailure::Transport {
            maybe_sent: true,
            detail: "reset".into(),
        });
        assert_eq!(
            RowNote::from_stored(&s),
            Some(RowNote::Network {
                detail: "reset".into()
            })
        );
    }
}
