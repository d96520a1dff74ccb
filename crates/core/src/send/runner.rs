//! One running job: claims due rows as rate and concurrency allow, sends each on its own task, and
//! records outcomes in batches — each batch in one transaction that also claims the next rows.
//!
//! A row is `in_flight` in the database only from the claim (made when a rate permit and a
//! concurrency slot are already held, so the request starts at once) until its outcome is
//! committed. A crash therefore leaves at most `concurrency` rows ambiguous.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use rand::Rng;
use tokio::sync::{mpsc, watch};

use super::api::{Action, SendFailure, classify};
use super::db::{self, Claimed, Outcome, RowResult, now_ms, now_secs};
use super::engine::{AccountState, Control, Inner, Limiter, new_limiter};
use super::model::{Job, JobProgress, JobStatus, RecipientState, client_msg_id};
use super::render::build_request;
use crate::error::Result;

/// What a send task reports: the row's outcome, and whether the job must pause.
struct Done {
    outcome: Outcome,
    pause: Option<(JobStatus, String)>,
}

pub(crate) async fn run(inner: Arc<Inner>, job_id: i64, ctl: watch::Receiver<Control>) {
    if let Err(e) = run_inner(&inner, job_id, ctl).await {
        tracing::error!(job_id, error = %e, "send job runner stopped on an error");
        let reason = format!("内部错误，任务已暂停：{e}");
        let _ = inner
            .store
            .call(move |c| db::set_status(c, job_id, JobStatus::Paused, &reason, now_secs()))
            .await;
        inner.runners_remove(job_id);
    }
    inner.publish_from_db(job_id).await;
}

async fn run_inner(
    inner: &Arc<Inner>,
    job_id: i64,
    mut ctl: watch::Receiver<Control>,
) -> Result<()> {
    let job = Arc::new(inner.store.call(move |c| db::load_job(c, job_id)).await?);
    let job_limiter = new_limiter(job.rate_per_sec, job.concurrency);
    let account = inner.account(&job.appid);
    let (tx, mut rx) = mpsc::unbounded_channel::<Done>();
    let concurrency = job.concurrency as usize;
    let mut outstanding = 0usize;
    let mut permits = 0usize;
    let mut batch: Vec<Done> = Vec::new();
    let mut next_due: Option<i64> = Some(0);
    let mut meter = RateMeter::default();
    let mut last_publish = Instant::now() - Duration::from_secs(1);

    loop {
        let run = *ctl.borrow_and_update() == Control::Run;
        let want = if run { permits } else { 0 };
        if !batch.is_empty() || want > 0 {
            let done = std::mem::take(&mut batch);
            let recorded = done.len();
            let pause = done.iter().find_map(|d| d.pause.clone());
            let outcomes: Vec<Outcome> = done.into_iter().map(|d| d.outcome).collect();
            let j = Arc::clone(&job);
            let claim_n = if pause.is_some() { 0 } else { want };
            let pause_db = pause.clone();
            let (claimed, due, progress) = inner
                .store
                .call(move |c| {
                    let now = now_secs();
                    let tx = c.transaction()?;
                    db::apply_outcomes(&tx, &j, &outcomes, now)?;
                    if let Some((status, reason)) = &pause_db {
                        db::set_status(&tx, j.id, *status, reason, now)?;
                    }
                    let claimed = db::claim(&tx, j.id, claim_n, now_ms())?;
                    let due = db::next_due(&tx, j.id)?;
                    let fresh = db::load_job(&tx, j.id)?;
                    tx.commit()?;
                    Ok((claimed, due, JobProgress::from_job(&fresh)))
                })
                .await?;
            permits = 0;
            outstanding = outstanding.saturating_sub(recorded) + claimed.len();
            next_due = due;
            meter.record(progress.total - progress.pending);
            if let Some((status, reason)) = pause {
                tracing::warn!(job_id, status = status.as_str(), %reason, "send job paused by the engine");
                inner.stop_runner(job_id);
            }
            for row in claimed {
                let (inner, job, account, tx) = (
                    Arc::clone(inner),
                    Arc::clone(&job),
                    Arc::clone(&account),
                    tx.clone(),
                );
                tokio::spawn(async move {
                    let done = attempt(&inner, &job, &account, row).await;
                    // The runner outlives its tasks (it waits for `outstanding`), so this only
                    // fails if the runner itself failed; the row then stays in flight → uncertain.
                    let _ = tx.send(done);
                });
            }
            if last_publish.elapsed() >= Duration::from_millis(100) || outstanding == 0 {
                last_publish = Instant::now();
                inner.publish(meter.decorate(progress));
            }
        }

        if outstanding == 0 {
            let run = *ctl.borrow() == Control::Run;
            if run && next_due.is_none() {
                let id = job.id;
                let completed = inner.store.call(move |c| complete_if_done(c, id)).await?;
                if completed && inner.try_exit(job_id, &mut ctl) {
                    return Ok(());
                }
                if !completed {
                    next_due = Some(0);
                }
                continue;
            }
            if !run {
                let id = job.id;
                // In-flight rows that came back retryable while cancelling are cancelled too.
                inner
                    .store
                    .call(move |c| {
                        if db::load_job(c, id)?.status == JobStatus::Cancelled {
                            let tx = c.transaction()?;
                            db::cancel_pending(&tx, id, now_secs())?;
                            tx.commit()?;
                        }
                        Ok(())
                    })
                    .await?;
                if inner.try_exit(job_id, &mut ctl) {
                    return Ok(());
                }
                continue;
            }
        }

        let run = *ctl.borrow() == Control::Run;
        let now = now_ms();
        let free = concurrency.saturating_sub(outstanding + permits);
        let due_now = next_due.is_some_and(|t| t <= now);
        let can_claim = run && free > 0 && due_now;
        let sleep_for = match next_due {
            Some(t) if run && free > 0 && t > now => Duration::from_millis((t - now) as u64),
            _ => Duration::from_secs(3600),
        };
        tokio::select! {
            Some(d) = rx.recv() => {
                batch.push(d);
                while let Ok(d) = rx.try_recv() {
                    batch.push(d);
                }
            }
            () = acquire(&job_limiter, &account.limiter), if can_claim => {
                permits += 1;
                let cap = free.min(inner.cfg.claim_batch);
                while permits < cap && job_limiter.check().is_ok() {
                    if account.limiter.check().is_err() {
                        break;
                    }
                    permits += 1;
                }
            }
            _ = ctl.changed() => {}
            () = tokio::time::sleep(sleep_for) => {}
        }
    }
}

/// Marks the job completed if it is running and no row is open; false when rows reappeared (a
/// retry was requested meanwhile).
fn complete_if_done(c: &mut rusqlite::Connection, job_id: i64) -> Result<bool> {
    let n = c.execute(
        "UPDATE send_jobs SET status = 'completed', finished_at = ?2, updated_at = ?2, pause_reason = '' \
         WHERE id = ?1 AND status = 'running' AND NOT EXISTS \
         (SELECT 1 FROM send_recipients WHERE job_id = ?1 AND state IN ('pending', 'in_flight'))",
        rusqlite::params![job_id, now_secs()],
    )?;
    Ok(n == 1 || !db::has_open_rows(c, job_id)?)
}

async fn acquire(job: &Limiter, account: &Limiter) {
    job.until_ready().await;
    account.until_ready().await;
}

/// Sends one row and decides what the row becomes.
async fn attempt(inner: &Inner, job: &Job, account: &AccountState, row: Claimed) -> Done {
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
    match result {
        Ok(ok) => done(
            row.id,
            RowResult::Sent {
                msgid: ok.msgid,
                response: ok.response.to_string(),
            },
        ),
        Err(f) => {
            let response = failure_response(&f);
            match classify(&f, idempotent) {
                Action::Retry | Action::RefreshToken if row.attempts < job.max_attempts => {
                    let delay = backoff(&inner.cfg, row.attempts);
                    done(row.id, RowResult::Again {
                        next_at_ms: now_ms() + delay.as_millis() as i64,
                        errcode: f.errcode(),
                        errmsg: f.message(),
                        response,
                        refund: false,
                    })
                }
                Action::Retry | Action::RefreshToken => done(row.id, RowResult::Final {
                    state: RecipientState::FailedRetryable,
                    errcode: f.errcode(),
                    errmsg: f.message(),
                    response,
                }),
                Action::PauseQuota => pause_row(
                    row.id,
                    JobStatus::PausedQuota,
                    "公众号今日调用额度已用完（45009）。额度每日零点重置，或在「设置」中清零额度后继续。".into(),
                    &f,
                ),
                Action::PauseAccount => {
                    let why = f
                        .errcode()
                        .and_then(wxdesk_wechat::explain)
                        .map_or_else(|| f.message(), |i| format!("{}（{}）：{}", i.zh, i.errcode, i.hint_zh));
                    pause_row(row.id, JobStatus::Paused, format!("账号暂时无法发送：{why}"), &f)
                }
                Action::Permanent => done(row.id, RowResult::Final {
                    state: RecipientState::FailedPermanent,
                    errcode: f.errcode(),
                    errmsg: f.message(),
                    response,
                }),
                Action::Uncertain => done(row.id, RowResult::Final {
                    state: RecipientState::Uncertain,
                    errcode: None,
                    errmsg: format!("{}；此接口无幂等键，微信是否收到未知", f.message()),
                    response,
                }),
            }
        }
    }
}

fn done(row_id: i64, result: RowResult) -> Done {
    Done {
        outcome: Outcome { row_id, result },
        pause: None,
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

/// Outcomes per second over the last few seconds.
#[derive(Default)]
struct RateMeter {
    samples: std::collections::VecDeque<(Instant, u64)>,
}

impl RateMeter {
    const WINDOW: Duration = Duration::from_secs(5);

    fn record(&mut self, done: u64) {
        let now = Instant::now();
        self.samples.push_back((now, done));
        while self.samples.len() > 2
            && self
                .samples
                .front()
                .is_some_and(|(t, _)| now.duration_since(*t) > Self::WINDOW)
        {
            self.samples.pop_front();
        }
    }

    fn decorate(&self, mut p: JobProgress) -> JobProgress {
        if let (Some((t0, d0)), Some((t1, d1))) = (self.samples.front(), self.samples.back()) {
            let secs = t1.duration_since(*t0).as_secs_f64();
            if secs > 0.2 && d1 > d0 {
                p.rate_per_sec = (d1 - d0) as f64 / secs;
                p.eta_secs = Some((p.pending as f64 / p.rate_per_sec).ceil() as u64);
            }
        }
        p
    }
}
