//! Numbers are one truth (#16): a job's counts are its rows' counts, and its progress channel, the
//! job list, 发送记录 and 概览 say the same after every transition (pause, resume, cancel, retry,
//! the end); a job whose rows failed is never shown as completed.
#![allow(clippy::unwrap_used)]

use crate::send_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use send_support::*;
use tokio::sync::Semaphore;
use wxdesk_core::send::http::{Endpoint, HttpSendApi, TokenSource};
use wxdesk_core::send::{
    ApiRequest, BoxFuture, History, HistoryFilter, HistoryStatus, Job, JobCounts, JobProgress,
    JobShown, JobStatus, RecipientState, SendApi, SendEngine, SendFailure, SendOk,
};
use wxdesk_core::store::Store;
use wxdesk_wechat::Secret;

/// The job's rows per state, counted in SQL (what 发送记录 lists).
async fn rows_per_state(engine: &SendEngine, job: i64) -> Vec<(RecipientState, u64)> {
    engine
        .store()
        .call(move |c| {
            let mut s = c.prepare(
                "SELECT state, count(*) FROM send_recipients WHERE job_id = ? GROUP BY state \
                 ORDER BY state",
            )?;
            let v = s
                .query_map([job], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(v)
        })
        .await
        .unwrap()
}

fn n_of(rows: &[(RecipientState, u64)], s: RecipientState) -> u64 {
    rows.iter().find(|r| r.0 == s).map_or(0, |r| r.1)
}

/// The job's counters agree with its rows, state by state.
fn assert_counts_are_the_rows(c: &JobCounts, rows: &[(RecipientState, u64)]) {
    use RecipientState as R;
    assert_eq!(c.total, rows.iter().map(|r| r.1).sum::<u64>(), "total");
    assert_eq!(c.sent, n_of(rows, R::Sent), "sent");
    assert_eq!(c.failed_retryable, n_of(rows, R::FailedRetryable));
    assert_eq!(c.failed_permanent, n_of(rows, R::FailedPermanent));
    assert_eq!(c.uncertain, n_of(rows, R::Uncertain), "uncertain");
    assert_eq!(c.skipped, n_of(rows, R::Skipped), "skipped");
    assert_eq!(c.cancelled, n_of(rows, R::Cancelled), "cancelled");
    assert_eq!(
        c.pending(),
        n_of(rows, R::Pending) + n_of(rows, R::InFlight),
        "pending"
    );
}

/// What the progress channel says equals the stored job, field by field.
fn assert_progress_is_the_job(p: &JobProgress, job: &Job) {
    let c = &job.counts;
    assert_eq!(
        (p.status, p.shown),
        (Some(job.status), Some(job.shown)),
        "state"
    );
    assert_eq!(
        (
            p.total,
            p.sent,
            p.failed,
            p.pending,
            p.uncertain,
            p.skipped,
            p.cancelled
        ),
        (
            c.total,
            c.sent,
            c.failed(),
            c.pending(),
            c.uncertain,
            c.skipped,
            c.cancelled
        ),
        "the channel's numbers are the job's"
    );
}

/// Rows of the job in 发送记录 with the given state, every page.
async fn history_count(history: &History, job: i64, status: HistoryStatus) -> u64 {
    let filter = HistoryFilter {
        job_id: Some(job),
        status: Some(status),
        ..Default::default()
    };
    let (mut n, mut before) = (0u64, None);
    loop {
        let page = history
            .list(filter.clone(), before, Some(1000))
            .await
            .unwrap();
        n += page.rows.len() as u64;
        match page.next_before {
            Some(b) => before = Some(b),
            None => return n,
        }
    }
}

/// Accepts the first `free` requests at once; the later ones wait for the gate, then (with
/// `then_fail`) fail on the network without having left (the relay went away while they
/// waited), or are accepted.
struct Gated {
    free: u64,
    then_fail: bool,
    gate: Semaphore,
    calls: AtomicU64,
    msgid: AtomicU64,
}

impl Gated {
    fn new(free: u64, then_fail: bool) -> Arc<Gated> {
        Arc::new(Gated {
            free,
            then_fail,
            gate: Semaphore::new(0),
            calls: AtomicU64::new(0),
            msgid: AtomicU64::new(1000),
        })
    }

    fn accept(&self) -> Result<SendOk, SendFailure> {
        let msgid = self.msgid.fetch_add(1, Ordering::SeqCst) as i64;
        Ok(SendOk {
            msgid: Some(msgid),
            response: serde_json::json!({"errcode": 0, "msgid": msgid}),
        })
    }
}

impl SendApi for Gated {
    fn send<'a>(
        &'a self,
        _appid: &'a str,
        _req: &'a ApiRequest,
    ) -> BoxFuture<'a, Result<SendOk, SendFailure>> {
        Box::pin(async move {
            let n = self.calls.fetch_add(1, Ordering::SeqCst);
            if n < self.free {
                return self.accept();
            }
            let _permit = self.gate.acquire().await;
            if !self.then_fail {
                return self.accept();
            }
            Err(SendFailure::Transport {
                maybe_sent: false,
                detail: "connection refused".into(),
            })
        })
    }

    fn refresh_token<'a>(&'a self, _appid: &'a str) -> BoxFuture<'a, Result<(), SendFailure>> {
        Box::pin(async { Ok(()) })
    }
}

/// Waits until no runner works on the job and returns what its progress channel says at that
/// very moment (nothing else runs in between on this runtime): a watcher that sees the runner
/// gone must already have the job's last numbers.
async fn when_gone(
    engine: &SendEngine,
    id: i64,
    progress: &mut tokio::sync::watch::Receiver<JobProgress>,
) -> (JobProgress, Job) {
    let wait = async {
        while engine.is_active(id) {
            tokio::task::yield_now().await;
        }
        progress.borrow_and_update().clone()
    };
    let seen = tokio::time::timeout(Duration::from_secs(20), wait)
        .await
        .expect("the runner ends");
    (seen, engine.job(id).await.unwrap())
}

/// Waits (bounded) until `f` holds: a condition, not a time.
async fn until(what: &str, f: impl Fn() -> bool) {
    let wait = async {
        while !f() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(20), wait)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"));
}

#[tokio::test]
async fn cancelling_mid_job_leaves_every_face_with_the_rows_own_numbers() {
    const N: usize = 40;
    const FREE: u64 = 6;
    const CONCURRENCY: u64 = 4;
    let api = Gated::new(FREE, true);
    let store = Store::open_in_memory().unwrap();
    let engine = SendEngine::new(store.clone(), api.clone(), fast_config());
    let mut spec = template_spec("wxA");
    spec.concurrency = Some(CONCURRENCY as u32);
    let id = engine.create_and_start(spec, recipients(N)).await.unwrap();
    let mut progress = engine.subscribe(id).await.unwrap();

    // Six sent, four on the wire, the rest pending: the operator cancels now.
    until("four requests in flight", || {
        api.calls.load(Ordering::SeqCst) == FREE + CONCURRENCY
    })
    .await;
    engine.cancel(id).await.unwrap();
    // The requests that were on the wire come back failed for now: their rows go back to
    // pending, and the runner cancels them too.
    api.gate.add_permits(100);
    let (last, job) = when_gone(&engine, id, &mut progress).await;

    let rows = rows_per_state(&engine, id).await;
    assert_eq!(job.status, JobStatus::Cancelled);
    assert_eq!(job.shown, JobShown::Cancelled);
    assert_eq!(
        (job.counts.sent, job.counts.cancelled, job.counts.pending()),
        (FREE, N as u64 - FREE, 0),
        "what was not sent is cancelled, nothing is left pending: {rows:?}"
    );
    assert_counts_are_the_rows(&job.counts, &rows);

    // The progress channel's last word is the stored job — not the numbers of the moment the
    // operator pressed 取消, nor those before the rows that came back after it were cancelled.
    assert_progress_is_the_job(&last, &job);

    // 发送记录 lists the same rows per state, and 概览's today the same sends.
    let history = History::new(store);
    assert_eq!(
        history_count(&history, id, HistoryStatus::Cancelled).await,
        job.counts.cancelled
    );
    assert_eq!(
        history_count(&history, id, HistoryStatus::Sent).await,
        job.counts.sent
    );
    assert_eq!(history_count(&history, id, HistoryStatus::Pending).await, 0);
    let today = history.today(None).await.unwrap();
    assert_eq!(
        (today.sent as u64, today.failed, today.uncertain),
        (job.counts.sent, 0, 0)
    );
}

#[tokio::test]
async fn every_transition_is_published_at_once() {
    // Every request waits for the gate: the job cannot end before the test lets it.
    let api = Gated::new(0, false);
    let engine = SendEngine::new(Store::open_in_memory().unwrap(), api.clone(), fast_config());
    let id = engine
        .create_job(template_spec("wxA"), recipients(30))
        .await
        .unwrap();
    let mut progress = engine.subscribe(id).await.unwrap();
    assert_eq!(progress.borrow_and_update().shown, Some(JobShown::Draft));

    // Started: 发送中 before the runner's first batch (nothing ran in between on this runtime).
    engine.start(id).await.unwrap();
    assert_eq!(
        progress.borrow_and_update().status,
        Some(JobStatus::Running)
    );
    engine.pause(id).await.unwrap();
    assert_eq!(progress.borrow_and_update().status, Some(JobStatus::Paused));
    // The requests on the wire at the pause finish and are recorded.
    api.gate.add_permits(1000);
    let (seen, paused) = when_gone(&engine, id, &mut progress).await;
    assert_progress_is_the_job(&seen, &paused);
    assert_counts_are_the_rows(&paused.counts, &rows_per_state(&engine, id).await);

    engine.resume(id).await.unwrap();
    assert_eq!(
        progress.borrow_and_update().status,
        Some(JobStatus::Running),
        "a resumed job reads 发送中 at once"
    );
    api.gate.add_permits(1000);

    // The end is published too: the channel says 已完成 once the job is, with its numbers.
    let (seen, done) = when_gone(&engine, id, &mut progress).await;
    assert_eq!(
        (done.status, done.shown),
        (JobStatus::Completed, JobShown::Completed)
    );
    assert_progress_is_the_job(&seen, &done);
    assert!(!done.attention);
}

/// The token the relay-down test sends with (it never gets that far).
struct StaticToken;

impl TokenSource for StaticToken {
    fn token<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<Secret, SendFailure>> {
        Box::pin(async { Ok(Secret::new("STATIC-TOKEN")) })
    }
    fn refresh<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<(), SendFailure>> {
        Box::pin(async { Ok(()) })
    }
}

#[tokio::test]
async fn a_send_that_failed_with_the_relay_down_is_shown_failed_never_completed() {
    // Nothing listens on this port (bound, then dropped): the relay is down.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base_url = format!("http://{}/api/v1/wechat", closed.local_addr().unwrap());
    drop(closed);
    let api = HttpSendApi::new(
        Endpoint {
            base_url,
            bearer: None,
        },
        Arc::new(StaticToken),
    )
    .unwrap();
    let engine = SendEngine::new(
        Store::open_in_memory().unwrap(),
        Arc::new(api),
        fast_config(),
    );
    let mut spec = template_spec("wxA");
    spec.max_attempts = Some(2);
    let id = engine.create_and_start(spec, recipients(1)).await.unwrap();
    let mut progress = engine.subscribe(id).await.unwrap();
    let (seen, job) = when_gone(&engine, id, &mut progress).await;

    // Stored `completed` only says no row is left to send; what every face shows is 失败.
    assert_eq!(job.status, JobStatus::Completed, "{}", reason(&job));
    assert_eq!(job.shown, JobShown::Failed);
    assert!(job.attention, "概览 lists it under 需要关注");
    assert_eq!(
        (job.counts.sent, job.counts.failed(), job.counts.pending()),
        (0, 1, 0),
        "0/1, failed 1, nothing pending"
    );
    assert_counts_are_the_rows(&job.counts, &rows_per_state(&engine, id).await);
    assert_progress_is_the_job(&seen, &job);
}

#[tokio::test]
async fn a_job_with_some_rows_refused_is_partly_failed_until_a_retry_gets_them_through() {
    // WeChat refuses one recipient the first time (e.g. not following yet), then accepts.
    let refused_once = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&refused_once);
    let api = FakeApi::new(move |_, openid| {
        (openid == "oUser0000001" && !flag.swap(true, Ordering::SeqCst)).then(|| api_err(43004))
    });
    let engine = SendEngine::new(Store::open_in_memory().unwrap(), api, fast_config());
    let id = engine
        .create_and_start(template_spec("wxA"), recipients(5))
        .await
        .unwrap();
    let mut progress = engine.subscribe(id).await.unwrap();
    let (seen, job) = when_gone(&engine, id, &mut progress).await;
    assert!(refused_once.load(Ordering::SeqCst));
    assert_eq!((job.counts.sent, job.counts.failed()), (4, 1));
    assert_eq!(
        (job.status, job.shown),
        (JobStatus::Completed, JobShown::PartlyFailed)
    );
    assert!(job.attention);
    assert_progress_is_the_job(&seen, &job);

    // 重试全部失败: the job runs again and, all through now, is 已完成 and needs nobody.
    assert_eq!(engine.retry_failed(id, true).await.unwrap(), 1);
    let (seen, job) = when_gone(&engine, id, &mut progress).await;
    assert_eq!((job.counts.sent, job.counts.failed()), (5, 0));
    assert_eq!(
        (job.status, job.shown),
        (JobStatus::Completed, JobShown::Completed)
    );
    assert!(!job.attention);
    assert_counts_are_the_rows(&job.counts, &rows_per_state(&engine, id).await);
    assert_progress_is_the_job(&seen, &job);
}
