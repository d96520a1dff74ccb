//! One running job: claims due rows as rate and concurrency allow, sends each on its own task, and
//! records outcomes in batches — each batch in one transaction that also claims the next rows.
//!
//! A row is `in_flight` in the database only from the claim (made when a rate permit and a
//! concurrency slot are already held, so the request starts at once) until its outcome is
//! committed. A crash therefore leaves at most `concurrency` rows ambiguous. The claim's commit
//! is fsync'd before any of its requests starts (`db::durable_transaction`), so a power loss
//! cannot bring claimed rows back as `pending` either.
//!
//! Failures stay visible and bounded: a run of transport failures pauses the job with the reason
//! instead of draining every row to failed; 45011 holds claiming until the next minute; a panic in
//! a send task or in the runner itself pauses the job with the affected rows `uncertain`.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::FutureExt;
use tokio::sync::{mpsc, watch};

use super::attempt::{Done, Link, attempt, panicked};
use super::db::{self, Outcome, now_ms, now_secs};
use super::model::{JobProgress, JobStatus};
use super::reason::{PauseReason, RowNote};
use super::state::{Control, Inner, Limiter, new_limiter};
use crate::error::Result;

/// Transport failures (connection refused or reset, timeout, relay unreachable) in a row, with no
/// answer in between, after which the job pauses itself. At the default concurrency of 20 this is
/// half of one round of requests: enough that a few unlucky resets never pause a healthy job, few
/// enough that a dead network or relay costs ten attempts, not every row's attempts.
pub(crate) const MAX_CONSECUTIVE_TRANSPORT_FAILURES: u32 = 10;

pub(crate) async fn run(inner: Arc<Inner>, job_id: i64, ctl: watch::Receiver<Control>) {
    let work = run_inner(&inner, job_id, ctl);
    supervise(&inner, job_id, work).await;
}

/// Runs a job's loop and, when it ends on an error or a panic, leaves the job in a state someone
/// can act on: its in-flight rows `uncertain` (their outcomes will never be recorded: the tasks
/// report to the loop that is gone), the job paused with the reason, no runner registered, and
/// the new progress published. Never a job shown as running with nobody running it.
async fn supervise(inner: &Arc<Inner>, job_id: i64, work: impl Future<Output = Result<()>>) {
    let reason = match AssertUnwindSafe(work).catch_unwind().await {
        Ok(Ok(())) => None,
        Ok(Err(e)) => {
            tracing::error!(job_id, error = %e, "send job runner stopped on an error");
            Some(PauseReason::Internal {
                detail: e.message(crate::Lang::En),
            })
        }
        Err(_) => {
            // The panic's text is not kept (it could quote anything); the default hook printed it.
            tracing::error!(job_id, "send job runner panicked");
            Some(PauseReason::Panic)
        }
    };
    if let Some(reason) = reason {
        let why = RowNote::RunnerFailed;
        let stored = inner
            .store
            .call(move |c| {
                let now = now_secs();
                let tx = c.transaction()?;
                let n = db::job_in_flight_to_uncertain(&tx, job_id, &why, now)?;
                db::pause_if_running(&tx, job_id, JobStatus::Paused, &reason, now)?;
                tx.commit()?;
                Ok(n)
            })
            .await;
        match stored {
            Ok(n) if n > 0 => {
                tracing::warn!(
                    job_id,
                    rows = n,
                    "rows in flight when the runner stopped are now uncertain"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::error!(job_id, error = %e, "could not record the stopped runner"),
        }
        inner.runners_remove(job_id);
    }
    inner.publish_from_db(job_id).await;
}

/// Counts transport failures in a row across the outcomes as they are recorded.
#[derive(Default)]
struct TransportStreak {
    failures: u32,
}

impl TransportStreak {
    /// Feeds one outcome; the pause reason once the run reaches the limit.
    fn see(&mut self, link: &Link) -> Option<PauseReason> {
        match link {
            Link::Answered => self.failures = 0,
            Link::Unknown => {}
            Link::Failed(last) => {
                self.failures += 1;
                if self.failures >= MAX_CONSECUTIVE_TRANSPORT_FAILURES {
                    return Some(PauseReason::Transport {
                        failures: self.failures,
                        detail: last.clone(),
                    });
                }
            }
        }
        None
    }
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
    let mut streak = TransportStreak::default();
    // 45011: nothing is claimed before this time (unix ms).
    let mut hold_until = 0i64;

    loop {
        let run = *ctl.borrow_and_update() == Control::Run;
        let want = if run { permits } else { 0 };
        if !batch.is_empty() || want > 0 {
            let done = std::mem::take(&mut batch);
            let recorded = done.len();
            let mut pause = done.iter().find_map(|d| d.pause.clone());
            for d in &done {
                if let Some(reason) = streak.see(&d.link)
                    && pause.is_none()
                {
                    pause = Some((JobStatus::Paused, reason));
                }
                hold_until = hold_until.max(d.hold_until_ms.unwrap_or(0));
            }
            let outcomes: Vec<Outcome> = done.into_iter().map(|d| d.outcome).collect();
            let j = Arc::clone(&job);
            let claim_n = if pause.is_some() || hold_until > now_ms() {
                0
            } else {
                want
            };
            let pause_db = pause.clone();
            let (claimed, due, progress) = inner
                .store
                .call(move |c| {
                    let now = now_secs();
                    let work = |tx: &rusqlite::Transaction<'_>| {
                        db::apply_outcomes(tx, &j, &outcomes, now)?;
                        if let Some((status, reason)) = &pause_db {
                            db::pause_if_running(tx, j.id, *status, reason, now)?;
                        }
                        let claimed = db::claim(tx, j.id, claim_n, now_ms())?;
                        let due = db::next_due(tx, j.id)?;
                        let fresh = db::load_job(tx, j.id)?;
                        Ok((claimed, due, JobProgress::from_job(&fresh)))
                    };
                    if claim_n > 0 {
                        // Requests start from the claimed rows as soon as this returns: the
                        // claim must be on disk first (power loss must not resend them).
                        db::durable_transaction(c, work)
                    } else {
                        let tx = c.transaction()?;
                        let r = work(&tx)?;
                        tx.commit()?;
                        Ok(r)
                    }
                })
                .await?;
            permits = 0;
            outstanding = outstanding.saturating_sub(recorded) + claimed.len();
            next_due = due;
            meter.record(progress.total - progress.pending);
            if let Some((status, reason)) = pause {
                tracing::warn!(
                    job_id,
                    status = status.as_str(),
                    ?reason,
                    "send job paused by the engine"
                );
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
                    let row_id = row.id;
                    // A panic must still report the row, or the runner would wait for it forever.
                    let done = AssertUnwindSafe(attempt(&inner, &job, &account, row))
                        .catch_unwind()
                        .await
                        .unwrap_or_else(|_| panicked(row_id));
                    // The runner outlives its tasks (it waits for `outstanding`), so this only
                    // fails if the runner itself failed; `supervise` then made the row uncertain.
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
                if completed {
                    // The end is a transition watchers must see (已完成 / 部分失败 / 失败).
                    inner.publish_from_db(job_id).await;
                }
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
                // Their outcomes (and these cancellations) landed after the pause or cancel was
                // published: the rows are counted once more and published, or a watcher keeps
                // the numbers of the moment the operator pressed the button.
                inner
                    .store
                    .call(move |c| {
                        let tx = c.transaction()?;
                        if db::load_job(&tx, id)?.status == JobStatus::Cancelled {
                            db::cancel_pending(&tx, id, now_secs())?;
                        }
                        db::recount(&tx, id)?;
                        tx.commit()?;
                        Ok(())
                    })
                    .await?;
                inner.publish_from_db(job_id).await;
                if inner.try_exit(job_id, &mut ctl) {
                    return Ok(());
                }
                continue;
            }
        }

        let run = *ctl.borrow() == Control::Run;
        let now = now_ms();
        let free = concurrency.saturating_sub(outstanding + permits);
        // Rows due, but not before a 45011 hold ends.
        let due_at = next_due.map(|t| t.max(hold_until));
        let due_now = due_at.is_some_and(|t| t <= now);
        let can_claim = run && free > 0 && due_now;
        let sleep_for = match due_at {
            Some(t) if run && free > 0 && t > now => Duration::from_millis((t - now) as u64),
            _ => Duration::from_secs(3600),
        };
        tokio::select! {
            Some(d) = rx.recv() => {
                batch.push(d);
                while let Ok(d) = rx.try_recv() {
                    batch.push(d);
                }
                // The slots these outcomes free are refilled by the transaction that records
                // them (one durable commit per round instead of a plain one to record and a
                // durable one to claim): a slot waits one commit, not two, between requests.
                if run && due_now {
                    let freed = concurrency
                        .saturating_sub(outstanding.saturating_sub(batch.len()) + permits);
                    let n = freed.min(inner.cfg.claim_batch);
                    permits += take_ready(&job_limiter, &account.limiter, n);
                }
            }
            () = acquire(&job_limiter, &account.limiter), if can_claim => {
                permits += 1;
                let cap = free.min(inner.cfg.claim_batch);
                permits += take_ready(&job_limiter, &account.limiter, cap.saturating_sub(permits));
            }
            _ = ctl.changed() => {}
            () = tokio::time::sleep(sleep_for) => {}
        }
    }
}

/// Marks the job completed if it is running and no row is open; false when rows reappeared (a
/// retry was requested meanwhile).
fn complete_if_done(c: &mut rusqlite::Connection, job_id: i64) -> Result<bool> {
    let tx = c.transaction()?;
    let n = tx.execute(
        "UPDATE send_jobs SET status = 'completed', finished_at = ?2, updated_at = ?2, pause_reason = '' \
         WHERE id = ?1 AND status = 'running' AND NOT EXISTS \
         (SELECT 1 FROM send_recipients WHERE job_id = ?1 AND state IN ('pending', 'in_flight'))",
        rusqlite::params![job_id, now_secs()],
    )?;
    if n == 1 {
        // The final numbers are the rows' own count.
        db::recount(&tx, job_id)?;
    }
    let done = n == 1 || !db::has_open_rows(&tx, job_id)?;
    tx.commit()?;
    Ok(done)
}

/// Takes up to `n` permits that both limiters grant now, without waiting.
fn take_ready(job: &Limiter, account: &Limiter, n: usize) -> usize {
    let mut taken = 0;
    while taken < n && job.check().is_ok() {
        if account.check().is_err() {
            break;
        }
        taken += 1;
    }
    taken
}

async fn acquire(job: &Limiter, account: &Limiter) {
    job.until_ready().await;
    account.until_ready().await;
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

#[cfg(test)]
mod tests {
    use super::super::engine::tests::{engine, spec};
    use super::super::model::Recipient;
    use super::*;

    /// A job as a runner leaves it mid-flight: running, two of its three rows claimed.
    async fn running_with_two_in_flight() -> (super::super::SendEngine, i64) {
        let engine = engine();
        let id = engine
            .create_job(spec(), ["o1", "o2", "o3"].map(Recipient::new))
            .await
            .unwrap();
        let claimed = engine
            .store()
            .call(move |c| {
                db::set_status(c, id, JobStatus::Running, None, 0)?;
                let tx = c.transaction()?;
                let n = db::claim(&tx, id, 2, i64::MAX)?.len();
                tx.commit()?;
                Ok(n)
            })
            .await
            .unwrap();
        assert_eq!(claimed, 2);
        (engine, id)
    }

    #[tokio::test]
    async fn a_runner_that_panics_leaves_the_job_paused_with_its_in_flight_rows_uncertain() {
        let (engine, id) = running_with_two_in_flight().await;
        let _ctl = engine.inner().register_or_wake(id).unwrap();
        let mut progress = engine.subscribe(id).await.unwrap();
        assert!(engine.is_active(id));

        supervise(engine.inner(), id, async { panic!("a bug in the loop") }).await;

        let job = engine.job(id).await.unwrap();
        assert_eq!(
            (job.status, job.pause_reason),
            (JobStatus::Paused, Some(PauseReason::Panic))
        );
        assert_eq!((job.counts.uncertain, job.counts.pending()), (2, 1));
        assert!(!engine.is_active(id), "no runner is registered any more");
        let p = progress.borrow_and_update().clone();
        assert_eq!(
            (p.status, p.uncertain, p.pending),
            (Some(JobStatus::Paused), 2, 1)
        );
        // The rows say why, and the day's totals count them.
        let (why, daily): (String, i64) = engine
            .store()
            .call(move |c| {
                let why = c.query_row(
                    "SELECT errmsg FROM send_recipients WHERE job_id = ? AND state = 'uncertain' LIMIT 1",
                    [id],
                    |r| r.get(0),
                )?;
                let daily = c.query_row(
                    "SELECT coalesce(sum(n), 0) FROM send_daily WHERE outcome = 'uncertain'",
                    [],
                    |r| r.get(0),
                )?;
                Ok((why, daily))
            })
            .await
            .unwrap();
        assert_eq!(
            RowNote::from_stored(&why),
            Some(RowNote::RunnerFailed),
            "{why}"
        );
        assert_eq!(daily, 2);
    }

    #[tokio::test]
    async fn a_runner_that_fails_on_an_error_does_the_same_with_the_error_as_the_reason() {
        let (engine, id) = running_with_two_in_flight().await;
        let _ctl = engine.inner().register_or_wake(id).unwrap();
        supervise(engine.inner(), id, async {
            Err(crate::Error::input("磁盘已满", "disk full"))
        })
        .await;
        let job = engine.job(id).await.unwrap();
        assert_eq!(job.status, JobStatus::Paused);
        assert_eq!(
            job.pause_reason,
            Some(PauseReason::Internal {
                detail: "disk full".into()
            })
        );
        assert_eq!(job.counts.uncertain, 2);
        assert!(!engine.is_active(id));
    }

    #[tokio::test]
    async fn a_runner_that_ends_normally_changes_nothing() {
        let (engine, id) = running_with_two_in_flight().await;
        supervise(engine.inner(), id, async { Ok(()) }).await;
        let job = engine.job(id).await.unwrap();
        assert_eq!((job.status, job.counts.uncertain), (JobStatus::Running, 0));
    }

    #[tokio::test]
    async fn a_pause_by_the_engine_never_overrides_the_operators_cancel() {
        let (engine, id) = running_with_two_in_flight().await;
        engine
            .store()
            .call(move |c| {
                db::set_status(c, id, JobStatus::Cancelled, None, 1)?;
                db::pause_if_running(c, id, JobStatus::Paused, &PauseReason::Panic, 2)
            })
            .await
            .unwrap();
        assert_eq!(engine.job(id).await.unwrap().status, JobStatus::Cancelled);
    }
}
