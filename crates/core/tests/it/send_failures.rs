//! Failures stay visible and bounded: a run of transport failures pauses the job with the reason
//! instead of draining every row to failed; 45011 waits for the next minute (and the job claims
//! nothing meanwhile) without failing anyone; a send task that panics leaves the job paused with
//! that row `uncertain`, never a job stuck in 运行中.
#![allow(clippy::unwrap_used)]

use crate::send_support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use send_support::*;
use wxdesk_core::send::http::{Endpoint, HttpSendApi, TokenSource};
use wxdesk_core::send::{
    ApiRequest, BoxFuture, JobStatus, PauseReason, Recipient, RecipientState, RowNote, SendApi,
    SendEngine, SendFailure, SendOk,
};
use wxdesk_core::store::Store;
use wxdesk_wechat::Secret;

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// (openid, state, attempts, errcode, next_at, errmsg) in seq order.
type Row = (
    String,
    RecipientState,
    i64,
    Option<i64>,
    i64,
    Option<String>,
);

async fn rows(engine: &SendEngine, job: i64) -> Vec<Row> {
    engine
        .store()
        .call(move |c| {
            let mut s = c.prepare(
                "SELECT openid, state, attempts, errcode, next_at, errmsg FROM send_recipients \
                 WHERE job_id = ? ORDER BY seq",
            )?;
            let v = s
                .query_map([job], |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<Row>>>()?;
            Ok(v)
        })
        .await
        .unwrap()
}

/// Polls the job's rows until `done` holds (10 s at most).
async fn rows_until(engine: &SendEngine, job: i64, done: impl Fn(&[Row]) -> bool) -> Vec<Row> {
    for _ in 0..1000 {
        let r = rows(engine, job).await;
        if done(&r) {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!(
        "rows never reached the expected state: {:?}",
        rows(engine, job).await
    );
}

/// `wait_idle`, failing instead of hanging when the job is stuck with nobody running it.
async fn idle(engine: &SendEngine, job: i64) -> wxdesk_core::send::Job {
    tokio::time::timeout(Duration::from_secs(30), engine.wait_idle(job))
        .await
        .unwrap_or_else(|_| panic!("job {job} never became idle: stuck running"))
        .unwrap()
}

/// A token that is always there: these tests are about the send request.
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
async fn a_run_of_transport_failures_pauses_the_job_with_the_reason_and_the_rest_stays_pending() {
    // Nothing listens on this port (bound, then dropped): every connect is refused.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base_url = format!("http://{}", closed.local_addr().unwrap());
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
    spec.concurrency = Some(4);
    spec.max_attempts = Some(3);
    let job_id = engine
        .create_and_start(spec, recipients(200))
        .await
        .unwrap();
    let job = idle(&engine, job_id).await;

    assert_eq!(job.status, JobStatus::Paused, "{}", reason(&job));
    assert!(
        reason(&job).contains("连续 10 次请求都因网络失败")
            && reason(&job).contains("其余接收者仍为待发送")
            && reason(&job).contains("in a row failed on the network"),
        "{}",
        reason(&job)
    );
    assert_eq!(
        (job.counts.sent, job.counts.failed(), job.counts.uncertain),
        (0, 0, 0),
        "nothing drained to failed"
    );
    assert_eq!(job.counts.pending(), 200, "every row is still pending");
    let tried: i64 = rows(&engine, job_id).await.iter().map(|r| r.2).sum();
    assert!(
        (10..10 + 2 * 4).contains(&tried),
        "the pause came after about 10 attempts, not every row's: {tried}"
    );
    let progress = engine.subscribe(job_id).await.unwrap().borrow().clone();
    assert_eq!(progress.status, Some(JobStatus::Paused));
    assert_eq!(
        progress.pause_reason, job.pause_reason,
        "the reason is published"
    );
}

#[tokio::test]
async fn transport_failures_with_answers_in_between_never_pause_the_job() {
    // Every other call fails on the network; the job must still finish.
    let api = FakeApi::new(|n, _| {
        (n % 2 == 0).then(|| SendFailure::Transport {
            maybe_sent: false,
            detail: "connection refused".into(),
        })
    });
    let engine = SendEngine::new(Store::open_in_memory().unwrap(), api.clone(), fast_config());
    let mut spec = template_spec("wxA");
    spec.concurrency = Some(1);
    spec.max_attempts = Some(20);
    let job_id = engine.create_and_start(spec, recipients(60)).await.unwrap();
    let job = idle(&engine, job_id).await;
    assert_eq!(
        (job.status, job.counts.sent),
        (JobStatus::Completed, 60),
        "{}",
        reason(&job)
    );
    assert!(
        api.calls() >= 60 + 59,
        "half the calls failed: {}",
        api.calls()
    );
}

/// Answers 45011 at once for `limited`, holds `held` until released, accepts everyone else;
/// records every call.
struct MinuteLimited {
    calls: Mutex<HashMap<String, u64>>,
    release: tokio::sync::Semaphore,
}

impl SendApi for MinuteLimited {
    fn send<'a>(
        &'a self,
        _appid: &'a str,
        req: &'a ApiRequest,
    ) -> BoxFuture<'a, Result<SendOk, SendFailure>> {
        Box::pin(async move {
            let openid = req.body["touser"].as_str().unwrap().to_string();
            *self
                .calls
                .lock()
                .unwrap()
                .entry(openid.clone())
                .or_default() += 1;
            match openid.as_str() {
                "oLimited" => return Err(api_err(45011)),
                "oHeld" => drop(self.release.acquire().await.unwrap()),
                _ => {}
            }
            Ok(SendOk {
                msgid: Some(1),
                response: serde_json::json!({"errcode": 0, "errmsg": "ok", "msgid": 1}),
            })
        })
    }
    fn refresh_token<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<(), SendFailure>> {
        Box::pin(async { Ok(()) })
    }
}

#[tokio::test]
async fn a_45011_row_waits_for_the_next_minute_unfailed_and_nothing_is_claimed_meanwhile() {
    // The checks below must all fall in one calendar minute.
    let into_minute = now_ms().rem_euclid(60_000);
    if into_minute > 50_000 {
        tokio::time::sleep(Duration::from_millis((60_000 - into_minute + 100) as u64)).await;
    }
    let api = Arc::new(MinuteLimited {
        calls: Mutex::new(HashMap::new()),
        release: tokio::sync::Semaphore::new(0),
    });
    let engine = SendEngine::new(Store::open_in_memory().unwrap(), api.clone(), fast_config());
    let mut spec = template_spec("wxA");
    spec.concurrency = Some(2);
    let list = ["oLimited", "oHeld", "oLater1", "oLater2"].map(|o| Recipient {
        openid: o.into(),
        vars: [("订单号".to_string(), "A1".to_string())].into(),
    });
    let before = now_ms();
    let job_id = engine.create_and_start(spec, list).await.unwrap();

    // oLimited and oHeld go out together; oLimited's 45011 comes back while oHeld is on the wire.
    let r = rows_until(&engine, job_id, |r| r[0].3 == Some(45011)).await;
    let after = now_ms();
    let next_minute = (before.div_euclid(60_000) + 1) * 60_000;
    assert_eq!(
        (r[0].1, r[0].2, r[0].4),
        (RecipientState::Pending, 0, next_minute),
        "pending, its attempt given back, due at the next minute ({before}..{after})"
    );
    assert_eq!(next_minute, (after.div_euclid(60_000) + 1) * 60_000);

    // oHeld's answer is recorded; without the hold the free slot would have claimed oLater1 as
    // soon as the 45011 was recorded, long before this.
    api.release.add_permits(1);
    let r = rows_until(&engine, job_id, |r| r[1].1 == RecipientState::Sent).await;
    for later in &r[2..] {
        assert_eq!(
            (later.1, later.2),
            (RecipientState::Pending, 0),
            "{} was claimed during the 45011 minute",
            later.0
        );
    }
    assert_eq!(
        api.calls.lock().unwrap().clone(),
        HashMap::from([("oLimited".to_string(), 1), ("oHeld".to_string(), 1)])
    );
    let job = engine.job(job_id).await.unwrap();
    assert_eq!(
        (job.status, job.counts.failed()),
        (JobStatus::Running, 0),
        "the job waits, nobody failed"
    );
    engine.cancel(job_id).await.unwrap();
    idle(&engine, job_id).await;
}

#[tokio::test]
async fn a_send_task_that_panics_leaves_the_job_paused_with_that_row_uncertain() {
    let api = FakeApi::new(|_, openid| {
        if openid == "oUser0000002" {
            panic!("a bug in the send path");
        }
        None
    });
    let engine = SendEngine::new(Store::open_in_memory().unwrap(), api.clone(), fast_config());
    let mut spec = template_spec("wxA");
    spec.concurrency = Some(1);
    let job_id = engine.create_and_start(spec, recipients(5)).await.unwrap();
    let mut progress = engine.subscribe(job_id).await.unwrap();
    let job = idle(&engine, job_id).await;

    assert_eq!(job.status, JobStatus::Paused);
    assert!(
        reason(&job).contains("panic") && reason(&job).contains("结果未知"),
        "{}",
        reason(&job)
    );
    assert!(!engine.is_active(job_id), "no runner left behind");
    let r = rows(&engine, job_id).await;
    let states: Vec<RecipientState> = r.iter().map(|r| r.1).collect();
    assert_eq!(
        states,
        [
            RecipientState::Sent,
            RecipientState::Sent,
            RecipientState::Uncertain,
            RecipientState::Pending,
            RecipientState::Pending,
        ]
    );
    let note: RowNote = serde_json::from_str(r[2].5.as_deref().unwrap()).unwrap();
    assert_eq!(note, RowNote::TaskPanic, "the row says why, as a code");
    assert_eq!(job.pause_reason, Some(PauseReason::Panic));
    assert_eq!((job.counts.sent, job.counts.uncertain), (2, 1));
    let p = progress.borrow_and_update().clone();
    assert_eq!(
        (p.status, p.uncertain, p.pending),
        (Some(JobStatus::Paused), 1, 2),
        "the new state is published"
    );

    // The operator looks, then resumes: the rest go out, the uncertain row waits for them.
    engine.resume(job_id).await.unwrap();
    let job = idle(&engine, job_id).await;
    assert_eq!(
        (job.status, job.counts.sent, job.counts.uncertain),
        (JobStatus::Completed, 4, 1)
    );
}
