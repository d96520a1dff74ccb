//! One request for one row, and what the row becomes: the error policy of `api::classify` turned
//! into row outcomes, job pauses (with the reason the operator reads) and the signals the runner
//! needs to keep failures bounded (transport health, the 45011 minute).

use std::sync::atomic::Ordering;
use std::time::Duration;

use rand::Rng;

use super::api::{Action, SendFailure, classify};
use super::db::{Claimed, Outcome, RowResult, now_ms};
use super::engine::{AccountState, Inner};
use super::model::{Job, JobStatus, RecipientState, client_msg_id};
use super::render::build_request;

/// What a send task reports to its runner.
pub(crate) struct Done {
    pub outcome: Outcome,
    /// The job must pause, and why.
    pub pause: Option<(JobStatus, String)>,
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
                    errmsg: p.message(),
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
                format!("接口令牌刷新失败：{}", e.message()),
                &e,
            );
        }
        result = inner.api.send(&job.appid, &req).await;
        if let Err(f) = &result
            && classify(f, idempotent) == Action::RefreshToken
        {
            let reason = format!(
                "刷新令牌后仍被拒绝（{}），请检查账号授权",
                f.errcode().unwrap_or_default()
            );
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
            let delay = backoff(&inner.cfg, row.attempts);
            done(
                row.id,
                RowResult::Again {
                    next_at_ms: now_ms() + delay.as_millis() as i64,
                    errcode: f.errcode(),
                    errmsg: f.message(),
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
                errmsg: f.message(),
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
                    errmsg: f.message(),
                    response,
                    refund: true,
                },
            );
            d.hold_until_ms = Some(at);
            d
        }
        Action::PauseQuota => pause_row(
            row.id,
            JobStatus::PausedQuota,
            "公众号今日调用额度已用完（45009）。额度每日零点重置，或在「设置」中清零额度后继续。"
                .into(),
            &f,
        ),
        Action::PauseAccount => {
            let why = f.errcode().and_then(wxdesk_wechat::explain).map_or_else(
                || f.message(),
                |i| format!("{}（{}）：{}", i.zh, i.errcode, i.hint_zh),
            );
            pause_row(
                row.id,
                JobStatus::Paused,
                format!("账号暂时无法发送：{why}"),
                &f,
            )
        }
        Action::PauseRefused => pause_row(row.id, JobStatus::Paused, refused_reason(&f), &f),
        Action::Permanent => done(
            row.id,
            RowResult::Final {
                state: RecipientState::FailedPermanent,
                errcode: f.errcode(),
                errmsg: f.message(),
                response,
            },
        ),
        Action::Uncertain => done(
            row.id,
            RowResult::Final {
                state: RecipientState::Uncertain,
                errcode: None,
                errmsg: format!("{}；此接口无幂等键，微信是否收到未知", f.message()),
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
                errmsg: "发送任务内部错误（panic），微信是否收到未知；确认后可由操作员选择重发"
                    .into(),
                response: String::new(),
            },
        },
        pause: Some((JobStatus::Paused, TASK_PANIC_REASON.into())),
        link: Link::Unknown,
        hold_until_ms: None,
    }
}

pub(crate) const TASK_PANIC_REASON: &str = "发送任务内部错误（panic），任务已暂停；该接收者标记为「结果未知」。请确认后选择「重发结果未知」或继续任务，并把日志反馈给开发者。/ A send task failed with an internal error (panic): the job is paused and its recipient is marked uncertain. Check, then resend the uncertain rows or resume, and report the log.";

/// Why the job paused after a refusal: nothing reached WeChat, and what to fix.
pub(crate) fn refused_reason(f: &SendFailure) -> String {
    let (status, detail) = match f {
        SendFailure::Refused { status, detail } => (*status, detail.as_str()),
        _ => (0, ""),
    };
    let said = if detail.is_empty() {
        String::new()
    } else {
        format!("（{detail}）")
    };
    match status {
        401 | 403 => format!(
            "中继拒绝了请求（HTTP {status}）{said}，请求未到达微信：中继密钥不对或已更换。请在「设置」中检查中继密钥（relay key），然后继续任务。/ The relay refused the request (HTTP {status}); nothing reached WeChat: the relay key is wrong or was changed. Check the relay key in 设置 (Settings), then resume the job."
        ),
        _ => format!(
            "请求被拒绝（HTTP {status}）{said}，未到达微信。请检查「设置」中的中继地址或接口地址，以及中继的版本，然后继续任务。/ The request was refused (HTTP {status}) before it reached WeChat. Check the relay or API address in 设置 (Settings) and the relay's version, then resume the job."
        ),
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
fn pause_row(row_id: i64, status: JobStatus, reason: String, f: &SendFailure) -> Done {
    Done {
        outcome: Outcome {
            row_id,
            result: RowResult::Again {
                next_at_ms: 0,
                errcode: f.errcode(),
                errmsg: f.message(),
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

/// Exponential backoff with ±50 % jitter, capped.
pub(crate) fn backoff(cfg: &super::EngineConfig, attempts: u32) -> Duration {
    let exp = cfg
        .backoff_base
        .saturating_mul(1u32 << attempts.saturating_sub(1).min(16));
    let capped = exp.min(cfg.backoff_max);
    let factor = rand::rng().random_range(0.5..1.5);
    capped.mul_f64(factor)
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
    fn a_relay_key_refusal_says_what_to_do_in_both_languages() {
        for status in [401, 403] {
            let r = refused_reason(&SendFailure::Refused {
                status,
                detail: String::new(),
            });
            assert!(r.contains("中继密钥") && r.contains("设置"), "{r}");
            assert!(r.contains("relay key") && r.contains("Settings"), "{r}");
            assert!(r.contains(&format!("HTTP {status}")), "{r}");
        }
        let r = refused_reason(&SendFailure::Refused {
            status: 400,
            detail: "转发路径无效".into(),
        });
        assert!(
            r.contains("转发路径无效") && r.contains("before it reached WeChat"),
            "{r}"
        );
    }
}
