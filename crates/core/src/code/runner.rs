//! The rollout runner: takes the due rows of one rollout, a few at a time, and moves each one
//! step along its state machine against WeChat. Every move is a compare-and-set on the row's
//! state, so the feed (audit pushes), a cancel and the runner never overwrite each other.
//!
//! Restart safety — what a row found in an `-ing` state means and what the runner does:
//! * `committing`: commit may have reached WeChat. Committing again only replaces the 体验版
//!   with the same code and ext.json, which WeChat does not mind: commit again.
//! * `submitting`: an audit may exist. Ask get_latest_auditstatus first; an audit of this
//!   version submitted since is adopted (its auditid stored), so the quota is not spent twice.
//!   A second submit would be refused anyway (85009), and is then adopted the same way.
//! * `releasing`: release may have gone through. Release again: WeChat answers 85052 "already
//!   released" for the approved version it published, which is taken as released — nothing is
//!   released twice.

use std::sync::Mutex;
use std::time::Duration;

use wxdesk_wechat::api::{self as wx, CommitRequest, LatestAudit, SubmitAudit};
use wxdesk_wechat::errcode::ErrKind;

use super::db::{self, Move, RunRow, now, now_ms};
use super::model::{AuditQuota, Pause, PauseCode, Rollout, RowState};
use crate::error::{Error, Msg, Result};
use crate::platform::WxApi;
use crate::store::Store;

/// How a rollout is driven.
#[derive(Debug, Clone)]
pub struct RolloutConfig {
    /// Mini programs worked on at the same time.
    pub concurrency: usize,
    /// How often an audit's status is asked when no push has answered it (the pushes through
    /// the relay usually come first).
    pub poll_every: Duration,
    /// First retry delay of a transient failure; doubles per attempt up to `retry_max`.
    pub retry_base: Duration,
    pub retry_max: Duration,
    /// Attempts of one step before the row fails.
    pub max_attempts: i64,
    /// Wait after 61039 (WeChat's privacy-API check runs about a minute after a commit).
    pub privacy_wait: Duration,
    /// 61039 answers tolerated before the row fails.
    pub privacy_attempts: i64,
}

impl RolloutConfig {
    /// How a step that failed for now is tried again (the numbers are this config's).
    pub fn retry(&self) -> crate::retry::RetryPolicy {
        crate::retry::RetryPolicy {
            base: self.retry_base,
            max: self.retry_max,
            attempts: u32::try_from(self.max_attempts).unwrap_or(u32::MAX),
            factor: 2,
            jitter: 0.0,
            steps: &[],
        }
    }
}

impl Default for RolloutConfig {
    fn default() -> Self {
        RolloutConfig {
            concurrency: 4,
            poll_every: Duration::from_secs(60),
            retry_base: Duration::from_secs(2),
            retry_max: Duration::from_secs(300),
            max_attempts: 6,
            privacy_wait: Duration::from_secs(20),
            privacy_attempts: 15,
        }
    }
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4)
}

/// What one step asks of the loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StepOutcome {
    Done,
    /// Stop the rollout with this reason (the row stays where a resume picks it up).
    Pause(Pause),
}

/// What a step needs, shared by the rows of one pass.
pub(crate) struct StepCtx {
    pub api: std::sync::Arc<WxApi>,
    pub store: Store,
    pub rollout: Rollout,
    pub audit: SubmitAudit,
    pub cfg: RolloutConfig,
    /// The platform's audit quota as last known (decremented locally per submit).
    pub quota: Mutex<Option<AuditQuota>>,
}

/// How a failure is handled.
enum Handling {
    Retry,
    RowFails,
    PauseJob,
}

fn handling(e: &Error) -> Handling {
    match e {
        Error::WeChat(w) => match (w.wechat(), w.kind()) {
            (_, Some(ErrKind::Retryable | ErrKind::RateLimited | ErrKind::TokenInvalid)) => {
                Handling::Retry
            }
            // 45009: the account's daily API quota; tomorrow it works.
            (Some(x), Some(ErrKind::Quota)) if x.errcode == 45009 => Handling::Retry,
            (Some(_), _) => Handling::RowFails,
            // The account's refresh token is gone: only this mini program is affected.
            (None, _) if matches!(w, wxdesk_wechat::Error::NoRefreshToken { .. }) => {
                Handling::RowFails
            }
            (None, _) => Handling::PauseJob,
        },
        Error::Code(_) => Handling::RowFails,
        _ => Handling::PauseJob,
    }
}

fn errcode_of(e: &Error) -> Option<i64> {
    e.wechat_errcode()
}

impl StepCtx {
    fn id(&self) -> i64 {
        self.rollout.id
    }

    /// One authorizer call with the gateway's retries and token refresh.
    async fn call<T, F, Fut>(&self, appid: &str, f: F) -> Result<T>
    where
        F: FnMut(wx::Client, crate::secrets::Secret) -> Fut,
        Fut: Future<Output = wxdesk_wechat::Result<T>>,
    {
        crate::gateway::call(&*self.api, appid, f).await
    }

    async fn mv(&self, appid: &str, from: RowState, to: RowState, m: Move) -> Result<bool> {
        let (id, appid) = (self.id(), appid.to_string());
        self.store
            .call(move |c| db::move_row(c, id, &appid, from, to, &m))
            .await
    }

    /// As `mv`, committed with the WAL fsynced: the move records or announces a WeChat effect.
    async fn mv_durable(&self, appid: &str, from: RowState, to: RowState, m: Move) -> Result<bool> {
        let (id, appid) = (self.id(), appid.to_string());
        self.store
            .call(move |c| db::durable(c, |tx| db::move_row(tx, id, &appid, from, to, &m)))
            .await
    }

    /// The delay after a step's `attempts`-th failure (0 when it failed the first time).
    fn backoff(&self, attempts: i64) -> i64 {
        let failures = u32::try_from(attempts.clamp(0, 20)).unwrap_or(20) + 1;
        ms(self.cfg.retry().backoff(failures))
    }

    /// A failed call: retry later from `retry_state`, fail the row, or pause the rollout.
    async fn failed(
        &self,
        r: &RunRow,
        from: RowState,
        retry_state: RowState,
        e: Error,
    ) -> Result<StepOutcome> {
        let appid = &r.row.appid;
        let message = e.to_string();
        let failure = Msg::of_error(&e);
        let errcode = errcode_of(&e);
        match handling(&e) {
            Handling::Retry if r.row.attempts + 1 < self.cfg.max_attempts => {
                tracing::info!(appid, %message, "rollout step will be retried");
                self.mv(
                    appid,
                    from,
                    retry_state,
                    Move {
                        error: Some((failure.clone(), errcode)),
                        attempt: true,
                        next_at: now_ms() + self.backoff(r.row.attempts),
                        ..Move::default()
                    },
                )
                .await?;
                Ok(StepOutcome::Done)
            }
            Handling::Retry | Handling::RowFails => {
                self.mv(
                    appid,
                    from,
                    RowState::Failed,
                    Move {
                        error: Some((failure, errcode)),
                        attempt: true,
                        ..Move::default()
                    },
                )
                .await?;
                Ok(StepOutcome::Done)
            }
            Handling::PauseJob => Ok(StepOutcome::Pause(Pause {
                code: PauseCode::Error,
                detail: message,
            })),
        }
    }

    /// One step of one row.
    pub(crate) async fn step(&self, r: &RunRow) -> Result<StepOutcome> {
        match r.row.state {
            RowState::Pending | RowState::Committing => self.commit(r).await,
            RowState::Committed | RowState::Submitting => self.submit(r).await,
            RowState::Auditing | RowState::AuditDelayed => self.poll(r).await,
            RowState::AuditPassed | RowState::Releasing => self.release(r).await,
            _ => Ok(StepOutcome::Done),
        }
    }

    async fn commit(&self, r: &RunRow) -> Result<StepOutcome> {
        let appid = r.row.appid.as_str();
        if r.row.state == RowState::Pending
            && !self
                .mv(
                    appid,
                    RowState::Pending,
                    RowState::Committing,
                    Move::default(),
                )
                .await?
        {
            return Ok(StepOutcome::Done);
        }
        let req = CommitRequest {
            template_id: self.rollout.template_id,
            ext_json: r.row.ext_json.clone(),
            user_version: self.rollout.user_version.clone(),
            user_desc: self.rollout.user_desc.clone(),
        };
        let req = &req;
        match self
            .call(appid, |c, t| async move { c.wxa_commit(&t, req).await })
            .await
        {
            Ok(()) => {
                self.mv_durable(
                    appid,
                    RowState::Committing,
                    RowState::Committed,
                    Move {
                        clear_error: true,
                        reset_attempts: true,
                        ..Move::default()
                    },
                )
                .await?;
                Ok(StepOutcome::Done)
            }
            Err(e) => {
                self.failed(r, RowState::Committing, RowState::Committing, e)
                    .await
            }
        }
    }

    fn quota_left(&self) -> Option<i64> {
        self.quota
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .map(|q| q.rest)
    }

    fn quota_pause(&self) -> StepOutcome {
        let q = *self.quota.lock().unwrap_or_else(|p| p.into_inner());
        StepOutcome::Pause(Pause {
            code: PauseCode::AuditQuota,
            detail: match q {
                Some(q) => format!(
                    "本月审核额度剩余 {}/{} / audit quota left {}/{}",
                    q.rest, q.limit, q.rest, q.limit
                ),
                None => "本月审核额度已用完 / the monthly audit quota is used up".into(),
            },
        })
    }

    fn spend_quota(&self, exhausted: bool) {
        let mut q = self.quota.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(q) = q.as_mut() {
            q.rest = if exhausted { 0 } else { (q.rest - 1).max(0) };
        }
    }

    /// The latest audit, when it is of this rollout's version and submitted since `since`.
    async fn ours(&self, appid: &str, since: Option<i64>) -> Result<Option<LatestAudit>> {
        let latest = self
            .call(
                appid,
                |c, t| async move { c.wxa_latest_audit_status(&t).await },
            )
            .await?;
        let since = since.unwrap_or(0) - 120;
        Ok(latest.filter(|l| {
            l.user_version == self.rollout.user_version && l.submit_audit_time >= since
        }))
    }

    /// Takes over an audit that exists at WeChat (submitted by an earlier attempt).
    async fn adopt(&self, r: &RunRow, from: RowState, l: LatestAudit) -> Result<StepOutcome> {
        let (to, m) = audit_move(l.status, l.reason, l.screenshot, &self.cfg);
        self.mv_durable(
            &r.row.appid,
            from,
            to,
            Move {
                auditid: Some(l.auditid),
                clear_error: to != RowState::Failed,
                reset_attempts: true,
                ..m
            },
        )
        .await?;
        Ok(StepOutcome::Done)
    }

    async fn submit(&self, r: &RunRow) -> Result<StepOutcome> {
        let appid = r.row.appid.as_str();
        if r.row.state == RowState::Submitting {
            // A submit may have reached WeChat (a crash, or an answer lost on the way).
            match self.ours(appid, r.submitted_at).await {
                Ok(Some(l)) => return self.adopt(r, RowState::Submitting, l).await,
                Ok(None) => {}
                Err(e) => {
                    return self
                        .failed(r, RowState::Submitting, RowState::Submitting, e)
                        .await;
                }
            }
        } else {
            if self.quota_left().is_some_and(|n| n <= 0) {
                return Ok(self.quota_pause());
            }
            let moved = self
                .mv_durable(
                    appid,
                    RowState::Committed,
                    RowState::Submitting,
                    Move {
                        submitted_at: Some(now()),
                        ..Move::default()
                    },
                )
                .await?;
            if !moved {
                return Ok(StepOutcome::Done);
            }
        }
        let body = &self.audit;
        match self
            .call(
                appid,
                |c, t| async move { c.wxa_submit_audit(&t, body).await },
            )
            .await
        {
            Ok(auditid) => {
                self.spend_quota(false);
                self.mv_durable(
                    appid,
                    RowState::Submitting,
                    RowState::Auditing,
                    Move {
                        auditid: Some(auditid),
                        clear_error: true,
                        reset_attempts: true,
                        next_at: now_ms() + ms(self.cfg.poll_every),
                        ..Move::default()
                    },
                )
                .await?;
                Ok(StepOutcome::Done)
            }
            Err(e) => match errcode_of(&e) {
                Some(85009) => match self.ours(appid, None).await? {
                    Some(l) => self.adopt(r, RowState::Submitting, l).await,
                    None => {
                        self.failed(r, RowState::Submitting, RowState::Submitting, e)
                            .await
                    }
                },
                Some(85085) => {
                    self.spend_quota(true);
                    self.mv(
                        appid,
                        RowState::Submitting,
                        RowState::Committed,
                        Move {
                            error: Some((Msg::of_error(&e), Some(85085))),
                            ..Move::default()
                        },
                    )
                    .await?;
                    Ok(self.quota_pause())
                }
                Some(61039) if r.row.attempts + 1 < self.cfg.privacy_attempts => {
                    self.mv(
                        appid,
                        RowState::Submitting,
                        RowState::Committed,
                        Move {
                            error: Some((Msg::of_error(&e), Some(61039))),
                            attempt: true,
                            next_at: now_ms() + ms(self.cfg.privacy_wait),
                            ..Move::default()
                        },
                    )
                    .await?;
                    Ok(StepOutcome::Done)
                }
                _ => {
                    self.failed(r, RowState::Submitting, RowState::Submitting, e)
                        .await
                }
            },
        }
    }

    async fn poll(&self, r: &RunRow) -> Result<StepOutcome> {
        let appid = r.row.appid.as_str();
        let Some(auditid) = r.row.auditid else {
            // Cannot happen (auditing is only entered with an auditid); ask for the latest.
            return match self.ours(appid, r.submitted_at).await? {
                Some(l) => self.adopt(r, r.row.state, l).await,
                None => {
                    self.mv(
                        appid,
                        r.row.state,
                        RowState::Failed,
                        Move {
                            error: Some((
                                Msg::new("没有审核单号", "WeChat gave no audit id"),
                                None,
                            )),
                            ..Move::default()
                        },
                    )
                    .await?;
                    Ok(StepOutcome::Done)
                }
            };
        };
        match self
            .call(appid, |c, t| async move {
                c.wxa_audit_status(&t, auditid).await
            })
            .await
        {
            Ok(s) => {
                let (to, m) = audit_move(s.status, s.reason, s.screenshot, &self.cfg);
                self.mv(
                    appid,
                    r.row.state,
                    to,
                    Move {
                        clear_error: to != RowState::Failed,
                        ..m
                    },
                )
                .await?;
                Ok(StepOutcome::Done)
            }
            Err(e) => self.failed(r, r.row.state, r.row.state, e).await,
        }
    }

    async fn release(&self, r: &RunRow) -> Result<StepOutcome> {
        let appid = r.row.appid.as_str();
        if r.row.state == RowState::AuditPassed
            && !self
                .mv_durable(
                    appid,
                    RowState::AuditPassed,
                    RowState::Releasing,
                    Move::default(),
                )
                .await?
        {
            return Ok(StepOutcome::Done);
        }
        let released = Move {
            clear_error: true,
            reset_attempts: true,
            ..Move::default()
        };
        match self
            .call(appid, |c, t| async move { c.wxa_release(&t).await })
            .await
        {
            Ok(()) => {
                self.mv_durable(appid, RowState::Releasing, RowState::Released, released)
                    .await?;
                Ok(StepOutcome::Done)
            }
            // The approved version is online already: an earlier release of ours went through.
            Err(e) if errcode_of(&e) == Some(85052) => {
                tracing::info!(appid, "release answered 85052: already released");
                self.mv_durable(appid, RowState::Releasing, RowState::Released, released)
                    .await?;
                Ok(StepOutcome::Done)
            }
            Err(e) => {
                self.failed(r, RowState::Releasing, RowState::Releasing, e)
                    .await
            }
        }
    }
}

/// Where an audit status takes a row.
fn audit_move(
    status: i64,
    reason: Option<String>,
    screenshot: Option<String>,
    cfg: &RolloutConfig,
) -> (RowState, Move) {
    let reason = reason.filter(|r| !r.is_empty());
    let screenshot = screenshot.filter(|s| !s.is_empty());
    let later = now_ms() + ms(cfg.poll_every);
    match status {
        wx::audit_status::SUCCESS => (RowState::AuditPassed, Move::default()),
        wx::audit_status::REJECTED => (
            RowState::AuditFailed,
            Move {
                reason,
                screenshot,
                ..Move::default()
            },
        ),
        wx::audit_status::DELAYED => (
            RowState::AuditDelayed,
            Move {
                reason,
                next_at: later,
                ..Move::default()
            },
        ),
        wx::audit_status::WITHDRAWN => (
            RowState::Failed,
            Move {
                error: Some((Msg::new("审核已被撤回", "The audit was withdrawn"), None)),
                ..Move::default()
            },
        ),
        // 2 审核中, and anything unknown: ask again later.
        _ => (
            RowState::Auditing,
            Move {
                next_at: later,
                ..Move::default()
            },
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_statuses_map_to_row_states() {
        let cfg = RolloutConfig::default();
        assert_eq!(audit_move(0, None, None, &cfg).0, RowState::AuditPassed);
        let (s, m) = audit_move(1, Some("不符".into()), Some("a|b".into()), &cfg);
        assert_eq!(
            (s, m.reason.as_deref(), m.screenshot.as_deref()),
            (RowState::AuditFailed, Some("不符"), Some("a|b"))
        );
        assert_eq!(audit_move(2, None, None, &cfg).0, RowState::Auditing);
        assert_eq!(audit_move(3, None, None, &cfg).0, RowState::Failed);
        assert_eq!(
            audit_move(4, Some("延后".into()), None, &cfg).0,
            RowState::AuditDelayed
        );
        assert!(audit_move(2, None, None, &cfg).1.next_at > now_ms());
    }

    #[test]
    fn transient_failures_retry_wechat_refusals_fail_the_row_and_setup_failures_pause() {
        let we = |code| {
            Error::WeChat(wxdesk_wechat::Error::WeChat(
                wxdesk_wechat::WeChatError::new(code, "x"),
            ))
        };
        assert!(matches!(handling(&we(-1)), Handling::Retry));
        assert!(matches!(handling(&we(61039)), Handling::Retry));
        assert!(matches!(handling(&we(45009)), Handling::Retry));
        assert!(matches!(handling(&we(85014)), Handling::RowFails));
        assert!(matches!(handling(&we(61007)), Handling::RowFails));
        assert!(matches!(
            handling(&Error::WeChat(wxdesk_wechat::Error::NoRefreshToken {
                appid: "wx".into()
            })),
            Handling::RowFails
        ));
        assert!(matches!(
            handling(&Error::NotConfigured(crate::error::Missing::RelayKey)),
            Handling::PauseJob
        ));
    }
}
