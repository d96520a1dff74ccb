//! The send engine against a scripted fake API: durable creation, error classes, pause/resume,
//! cancel, retries, crash recovery and resend of uncertain rows.
#![allow(clippy::unwrap_used)]

use crate::send_support;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use send_support::*;
use wxdesk_core::send::{
    FieldRule, JobStatus, LockWait, PauseReason, Recipient, RecipientState, RowNote, SendEngine,
    SendFailure, Sends,
};
use wxdesk_core::store::Store;
use wxdesk_core::templates::keywords::KeywordType;

fn engine(api: Arc<FakeApi>) -> SendEngine {
    SendEngine::new(Store::open_in_memory().unwrap(), api, fast_config())
}

async fn states(engine: &SendEngine, job: i64) -> Vec<(String, RecipientState, i64)> {
    engine
        .store()
        .call(move |c| {
            let mut s = c.prepare(
                "SELECT openid, state, attempts FROM send_recipients WHERE job_id = ? ORDER BY seq",
            )?;
            let rows = s
                .query_map([job], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
        .await
        .unwrap()
}

fn count(rows: &[(String, RecipientState, i64)], s: RecipientState) -> usize {
    rows.iter().filter(|r| r.1 == s).count()
}

#[tokio::test]
async fn create_job_writes_every_row_before_any_request_and_skips_bad_ones() {
    let api = FakeApi::ok();
    let engine = engine(Arc::clone(&api));
    let mut spec = template_spec("wxA");
    spec.field_rules = vec![FieldRule {
        key: "thing1".into(),
        title: Some("商品名称".into()),
        kind: KeywordType::Thing,
        allowed: None,
    }];
    let mut list: Vec<Recipient> = recipients(12_345).collect();
    list.push(Recipient::new("oUser0000001")); // duplicate
    list.push(Recipient::new("oNoVars")); // {{订单号}} missing
    list.push(Recipient {
        openid: "oTooLong".into(),
        vars: [(
            "订单号".to_string(),
            "一二三四五六七八九十一二三四五六七八九十".to_string(),
        )]
        .into(),
    });
    let job_id = engine.create_job(spec, list).await.unwrap();

    assert_eq!(api.calls(), 0, "nothing is sent before start");
    let job = engine.job(job_id).await.unwrap();
    assert_eq!(job.status, JobStatus::Draft);
    assert_eq!(job.counts.total, 12_348);
    assert_eq!(job.counts.skipped, 3);
    let rows = states(&engine, job_id).await;
    assert_eq!(rows.len(), 12_348);
    assert_eq!(count(&rows, RecipientState::Pending), 12_345);
    let reasons: Vec<String> = engine
        .store()
        .call(move |c| {
            let mut s = c.prepare("SELECT errmsg FROM send_recipients WHERE job_id = ? AND state = 'skipped' ORDER BY seq")?;
            let v = s.query_map([job_id], |r| r.get(0))?.collect::<rusqlite::Result<Vec<String>>>()?;
            Ok(v)
        })
        .await
        .unwrap();
    // Stored as codes the faces name in their language.
    let notes: Vec<RowNote> = reasons
        .iter()
        .map(|r| serde_json::from_str(r).unwrap())
        .collect();
    assert_eq!(notes[0], RowNote::Duplicate, "{reasons:?}");
    assert_eq!(
        notes[1],
        RowNote::MissingVar {
            name: "订单号".into()
        }
    );
    assert!(
        matches!(&notes[2], RowNote::InvalidValue { key, title, .. }
            if key == "thing1" && title.as_deref() == Some("商品名称")),
        "the stored note keeps the keyword's title: {reasons:?}"
    );
}

#[tokio::test]
async fn a_job_with_busy_and_reset_faults_ends_with_every_row_sent_exactly_once() {
    // Every 7th call answers -1 (busy), every 11th is a reset after WeChat accepted it.
    let api = FakeApi::new(|n, _| match n {
        n if n % 7 == 3 => Some(api_err(-1)),
        n if n % 11 == 5 => Some(SendFailure::Transport {
            maybe_sent: true,
            detail: "connection reset".into(),
        }),
        _ => None,
    });
    let engine = engine(Arc::clone(&api));
    let mut spec = template_spec("wxA");
    // Enough attempts that no row can draw a fault every time from this script.
    spec.max_attempts = Some(10);
    let job_id = engine
        .create_and_start(spec, recipients(500))
        .await
        .unwrap();
    let job = engine.wait_idle(job_id).await.unwrap();

    assert_eq!(job.status, JobStatus::Completed);
    assert_eq!(job.counts.sent, 500);
    let accepted = api.accepted();
    assert_eq!(accepted.len(), 500, "every recipient reached the fake");
    assert!(
        accepted.values().all(|&n| n == 1),
        "a retried reset was deduplicated by client_msg_id"
    );
    let rows = states(&engine, job_id).await;
    assert_eq!(count(&rows, RecipientState::Sent), 500);
    assert!(
        rows.iter().any(|r| r.2 > 1),
        "some rows needed more than one attempt"
    );
}

#[tokio::test]
async fn permanent_errors_are_recorded_once_and_retryable_ones_give_up_after_max_attempts() {
    let api = FakeApi::new(|_, openid| match openid {
        "oUser0000003" => Some(api_err(43004)),
        "oUser0000004" => Some(api_err(-1)),
        _ => None,
    });
    let engine = engine(Arc::clone(&api));
    let job_id = engine
        .create_and_start(template_spec("wxA"), recipients(10))
        .await
        .unwrap();
    let job = engine.wait_idle(job_id).await.unwrap();

    assert_eq!(job.status, JobStatus::Completed);
    assert_eq!(
        (
            job.counts.sent,
            job.counts.failed_permanent,
            job.counts.failed_retryable
        ),
        (8, 1, 1)
    );
    let rows = states(&engine, job_id).await;
    assert_eq!(
        rows[3],
        ("oUser0000003".into(), RecipientState::FailedPermanent, 1)
    );
    assert_eq!(
        rows[4],
        ("oUser0000004".into(), RecipientState::FailedRetryable, 4)
    );
    assert_eq!(api.calls(), 8 + 1 + 4);
}

#[tokio::test]
async fn retry_failed_resends_only_retryable_rows_unless_asked_for_all() {
    let fail = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let f = Arc::clone(&fail);
    let api = FakeApi::new(move |_, openid| {
        if !f.load(Ordering::SeqCst) {
            return None;
        }
        match openid {
            "oUser0000001" => Some(api_err(40003)),
            "oUser0000002" => Some(api_err(-1)),
            _ => None,
        }
    });
    let engine = engine(Arc::clone(&api));
    let job_id = engine
        .create_and_start(template_spec("wxA"), recipients(5))
        .await
        .unwrap();
    engine.wait_idle(job_id).await.unwrap();
    fail.store(false, Ordering::SeqCst);

    assert_eq!(engine.retry_failed(job_id, false).await.unwrap(), 1);
    let job = engine.wait_idle(job_id).await.unwrap();
    assert_eq!(
        (job.status, job.counts.sent, job.counts.failed_permanent),
        (JobStatus::Completed, 4, 1)
    );

    assert_eq!(engine.retry_failed(job_id, true).await.unwrap(), 1);
    let job = engine.wait_idle(job_id).await.unwrap();
    assert_eq!((job.counts.sent, job.counts.failed()), (5, 0));
}

#[tokio::test]
async fn quota_exhausted_mid_job_pauses_it_without_failing_anyone_and_resume_finishes() {
    let quota_open = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let q = Arc::clone(&quota_open);
    let api =
        FakeApi::new(move |n, _| (n >= 30 && !q.load(Ordering::SeqCst)).then(|| api_err(45009)));
    let engine = engine(Arc::clone(&api));
    let job_id = engine
        .create_and_start(template_spec("wxA"), recipients(100))
        .await
        .unwrap();
    let job = engine.wait_idle(job_id).await.unwrap();

    assert_eq!(job.status, JobStatus::PausedQuota);
    assert!(reason(&job).contains("45009"), "{}", reason(&job));
    assert_eq!(job.counts.sent, 30);
    assert_eq!(job.counts.failed(), 0);
    assert_eq!(job.counts.pending(), 70);
    let rows = states(&engine, job_id).await;
    assert_eq!(count(&rows, RecipientState::Pending), 70);
    assert!(
        rows.iter()
            .filter(|r| r.1 == RecipientState::Pending)
            .all(|r| r.2 == 0),
        "quota refusals do not count as attempts"
    );

    quota_open.store(true, Ordering::SeqCst);
    engine.resume(job_id).await.unwrap();
    let job = engine.wait_idle(job_id).await.unwrap();
    assert_eq!((job.status, job.counts.sent), (JobStatus::Completed, 100));
    assert!(api.accepted().values().all(|&n| n == 1));
}

#[tokio::test]
async fn an_expired_token_mid_job_is_refreshed_once_for_all_requests_that_saw_it() {
    let api_ref: Arc<std::sync::OnceLock<Arc<FakeApi>>> = Arc::new(std::sync::OnceLock::new());
    let r = Arc::clone(&api_ref);
    // From call 20 until the first refresh, every request gets 42001.
    let api = FakeApi::new(move |n, _| {
        let refreshed = r
            .get()
            .is_some_and(|a| a.refreshes.load(Ordering::SeqCst) > 0);
        (n >= 20 && !refreshed).then(|| api_err(42001))
    });
    let _ = api_ref.set(Arc::clone(&api));
    let engine = engine(Arc::clone(&api));
    let job_id = engine
        .create_and_start(template_spec("wxA"), recipients(200))
        .await
        .unwrap();
    let job = engine.wait_idle(job_id).await.unwrap();

    assert_eq!((job.status, job.counts.sent), (JobStatus::Completed, 200));
    assert_eq!(api.refreshes.load(Ordering::SeqCst), 1);
    let rows = states(&engine, job_id).await;
    assert!(
        rows.iter().all(|r| r.2 == 1),
        "a token retry is part of the same attempt"
    );
}

#[tokio::test]
async fn a_token_still_refused_after_refresh_pauses_the_job() {
    let api = FakeApi::new(|n, _| (n >= 5).then(|| api_err(40001)));
    let engine = engine(Arc::clone(&api));
    let job_id = engine
        .create_and_start(template_spec("wxA"), recipients(50))
        .await
        .unwrap();
    let job = engine.wait_idle(job_id).await.unwrap();
    assert_eq!(job.status, JobStatus::Paused);
    assert!(reason(&job).contains("40001"), "{}", reason(&job));
    assert_eq!(job.counts.failed(), 0);
    assert_eq!(job.counts.sent + job.counts.pending(), 50);
}

#[tokio::test]
async fn after_a_crash_in_flight_rows_become_uncertain_and_are_only_resent_when_asked() {
    let api = FakeApi::ok();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in_dir(dir.path()).await.unwrap();
    let engine = SendEngine::new(store.clone(), Arc::clone(&api) as _, fast_config());
    let job_id = engine
        .create_job(template_spec("wxA"), recipients(20))
        .await
        .unwrap();
    // What a kill leaves behind: a running job with three rows claimed and never recorded.
    store
        .call(move |c| {
            c.execute("UPDATE send_jobs SET status = 'running' WHERE id = ?", [job_id])?;
            c.execute(
                "UPDATE send_recipients SET state = 'in_flight', attempts = 1, attempted_at = unixepoch() \
                 WHERE job_id = ? AND seq IN (0, 1, 2)",
                [job_id],
            )?;
            Ok(())
        })
        .await
        .unwrap();

    // The next sender takes the lock and recovers: the job waits for the operator.
    let sends = Sends::with_api(dir.path(), store, Arc::clone(&api) as _, fast_config());
    let report = sends
        .acquire(LockWait::Up(Duration::ZERO), |_| {})
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report.uncertain_rows, 3);
    assert_eq!(report.interrupted_jobs, vec![job_id]);
    let job = sends.job(job_id).await.unwrap();
    assert_eq!(
        (job.status, job.pause_reason),
        (JobStatus::Paused, Some(PauseReason::Interrupted))
    );
    sends.resume(job_id).await.unwrap();
    let job = sends.wait_idle(job_id).await.unwrap();
    assert_eq!(
        (job.status, job.counts.sent, job.counts.uncertain),
        (JobStatus::Completed, 17, 3)
    );
    assert!(
        !api.accepted().contains_key("oUser0000000"),
        "uncertain rows are not resent on their own"
    );

    let resend = sends.resend_uncertain(job_id).await.unwrap();
    assert_eq!((resend.rows, resend.outside_dedup_window), (3, 0));
    let job = sends.wait_idle(job_id).await.unwrap();
    assert_eq!(
        (job.status, job.counts.sent, job.counts.uncertain),
        (JobStatus::Completed, 20, 0)
    );
    let rows = states(&engine, job_id).await;
    assert_eq!(rows[0].2, 2, "the resend is the row's second attempt");
}

#[tokio::test]
async fn pause_stops_claiming_and_cancel_cancels_what_is_left() {
    let api = FakeApi::ok();
    let mut cfg = fast_config();
    cfg.rate_per_sec = 200;
    cfg.account_rate_per_sec = 200;
    let engine = SendEngine::new(Store::open_in_memory().unwrap(), Arc::clone(&api) as _, cfg);
    let mut spec = template_spec("wxA");
    spec.rate_per_sec = Some(200);
    let job_id = engine
        .create_and_start(spec, recipients(2_000))
        .await
        .unwrap();
    let mut progress = engine.subscribe(job_id).await.unwrap();
    while progress.borrow_and_update().sent < 10 {
        progress.changed().await.unwrap();
    }
    engine.pause(job_id).await.unwrap();
    let job = engine.wait_idle(job_id).await.unwrap();
    assert_eq!(job.status, JobStatus::Paused);
    let sent_at_pause = job.counts.sent;
    assert!(sent_at_pause < 2_000);
    assert_eq!(
        api.accepted_total(),
        sent_at_pause,
        "in-flight rows finished and were recorded"
    );

    engine.cancel(job_id).await.unwrap();
    let job = engine.wait_idle(job_id).await.unwrap();
    assert_eq!(job.status, JobStatus::Cancelled);
    assert_eq!(job.counts.cancelled, 2_000 - sent_at_pause);
    assert_eq!(job.counts.pending(), 0);
    assert!(engine.resume(job_id).await.is_err());
}

#[tokio::test]
async fn copy_as_new_job_keeps_the_message_and_list_as_a_fresh_draft() {
    let api = FakeApi::ok();
    let engine = engine(Arc::clone(&api));
    let mut list: Vec<Recipient> = recipients(4).collect();
    list.push(Recipient::new("oUser0000000"));
    let first = engine
        .create_and_start(template_spec("wxA"), list)
        .await
        .unwrap();
    engine.wait_idle(first).await.unwrap();

    let copy = engine.copy_as_new_job(first).await.unwrap();
    let job = engine.job(copy).await.unwrap();
    assert_eq!(job.status, JobStatus::Draft);
    assert_eq!(job.copied_from, Some(first));
    assert_eq!(
        (job.counts.total, job.counts.skipped, job.counts.pending()),
        (5, 1, 4)
    );
    assert_eq!(job.payload, engine.job(first).await.unwrap().payload);
    engine.start(copy).await.unwrap();
    let job = engine.wait_idle(copy).await.unwrap();
    assert_eq!(job.counts.sent, 4);
    assert!(
        api.accepted().values().all(|&n| n == 2),
        "a copy is a new message (new client_msg_id)"
    );
}

#[tokio::test]
async fn customer_service_resets_become_uncertain_because_that_api_has_no_idempotency_key() {
    let api = FakeApi::new(|_, openid| {
        (openid == "oUser0000001").then(|| SendFailure::Transport {
            maybe_sent: true,
            detail: "reset".into(),
        })
    });
    let engine = engine(Arc::clone(&api));
    let mut spec = template_spec("wxA");
    spec.payload = wxdesk_core::send::Payload::CustomText {
        content: "您的订单 {{订单号}} 已发货".into(),
    };
    let job_id = engine.create_and_start(spec, recipients(3)).await.unwrap();
    let job = engine.wait_idle(job_id).await.unwrap();
    assert_eq!((job.counts.sent, job.counts.uncertain), (2, 1));
    assert_eq!(api.calls(), 3, "never retried on its own");
    let rows = states(&engine, job_id).await;
    assert_eq!(rows[1].1, RecipientState::Uncertain);
}

#[tokio::test]
async fn a_job_paused_for_quota_yesterday_resumes_after_the_beijing_midnight_reset() {
    let open = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let o = Arc::clone(&open);
    let api =
        FakeApi::new(move |n, _| (n >= 5 && !o.load(Ordering::SeqCst)).then(|| api_err(45009)));
    let engine = engine(Arc::clone(&api));
    let job_id = engine
        .create_and_start(template_spec("wxA"), recipients(20))
        .await
        .unwrap();
    assert_eq!(
        engine.wait_idle(job_id).await.unwrap().status,
        JobStatus::PausedQuota
    );

    assert_eq!(
        engine.resume_after_quota_reset().await.unwrap(),
        Vec::<i64>::new(),
        "same day: still paused"
    );
    engine
        .store()
        .call(move |c| {
            c.execute(
                "UPDATE send_jobs SET updated_at = unixepoch() - 86400 WHERE id = ?",
                [job_id],
            )?;
            Ok(())
        })
        .await
        .unwrap();
    open.store(true, Ordering::SeqCst);
    assert_eq!(
        engine.resume_after_quota_reset().await.unwrap(),
        vec![job_id]
    );
    let job = engine.wait_idle(job_id).await.unwrap();
    assert_eq!((job.status, job.counts.sent), (JobStatus::Completed, 20));
}
