//! The send engine against the real wxdesk-sim over loopback HTTP: faults, the daily quota, token
//! expiry mid-job, delivery reports pushed by the sim and joined by msgid. The simulator's
//! /__sim/state is the judge of what WeChat accepted.
#![allow(clippy::unwrap_used)]

use crate::send_support;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use send_support::sim::*;
use serde_json::json;
use wxdesk_core::send::http::{Endpoint, HttpSendApi};
use wxdesk_core::send::{Delivery, EngineConfig, JobStatus, RecipientState, SendEngine, delivery};
use wxdesk_core::store::Store;
use wxdesk_sim::SimConfig;

fn engine_for(env: &SimEnv, tokens: Arc<SimTokens>, store: Store) -> SendEngine {
    let api = HttpSendApi::new(
        Endpoint {
            base_url: env.sim.base_url.clone(),
            bearer: None,
        },
        tokens,
    )
    .unwrap();
    let cfg = EngineConfig {
        backoff_base: Duration::from_millis(2),
        backoff_max: Duration::from_millis(20),
        ..EngineConfig::default()
    };
    SendEngine::new(store, Arc::new(api), cfg)
}

async fn row_states(engine: &SendEngine, job: i64) -> Vec<(RecipientState, Option<i64>)> {
    engine
        .store()
        .call(move |c| {
            let mut s = c.prepare(
                "SELECT state, msgid FROM send_recipients WHERE job_id = ? ORDER BY seq",
            )?;
            let v = s
                .query_map([job], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(v)
        })
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_latency_busy_and_resets_every_recipient_is_sent_exactly_once_per_the_sim() {
    let env = SimEnv::start(SimConfig {
        latency_ms: 1,
        jitter_ms: 3,
        busy_rate: 0.1,
        reset_rate: 0.02,
        http5xx_rate: 0.02,
        seed: 11,
        ..quiet_config()
    })
    .await;
    let tokens = Arc::new(SimTokens::new(&env));
    let engine = engine_for(&env, tokens, Store::open_in_memory().unwrap());
    let before = json_sends(&env.sends());
    assert_eq!(before.0, 0);

    let job_id = engine
        .create_and_start(env.spec(), env.recipients(400).await)
        .await
        .unwrap();
    let job = engine.wait_idle(job_id).await.unwrap();

    assert_eq!(job.status, JobStatus::Completed);
    assert_eq!(
        (job.counts.sent, job.counts.failed(), job.counts.uncertain),
        (400, 0, 0)
    );
    let rows = row_states(&engine, job_id).await;
    assert!(
        rows.iter()
            .all(|(s, m)| *s == RecipientState::Sent && m.is_some())
    );
    let (accepted, distinct, max_per) = json_sends(&env.sends());
    assert_eq!(
        (accepted, distinct, max_per),
        (400, 400, 1),
        "the sim accepted each recipient once"
    );
    let retried: i64 = engine
        .store()
        .call(move |c| {
            Ok(c.query_row(
                "SELECT count(*) FROM send_recipients WHERE job_id = ? AND attempts > 1",
                [job_id],
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap();
    assert!(retried > 0, "the faults made some rows retry");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daily_quota_running_out_pauses_the_job_and_clearing_it_lets_resume_finish() {
    let mut cfg = quiet_config();
    cfg.quotas
        .insert("/cgi-bin/message/template/send".into(), 60);
    let env = SimEnv::start(cfg).await;
    let tokens = Arc::new(SimTokens::new(&env));
    let engine = engine_for(&env, Arc::clone(&tokens), Store::open_in_memory().unwrap());

    let job_id = engine
        .create_and_start(env.spec(), env.recipients(100).await)
        .await
        .unwrap();
    let job = engine.wait_idle(job_id).await.unwrap();
    assert_eq!(job.status, JobStatus::PausedQuota);
    assert_eq!(
        (job.counts.sent, job.counts.failed(), job.counts.pending()),
        (60, 0, 40)
    );
    assert_eq!(json_sends(&env.sends()).0, 60);

    let token = env.fresh_token().await;
    let cleared = env
        .post_api(
            &format!("/cgi-bin/clear_quota?access_token={token}"),
            clear_quota_body(&env.appid),
        )
        .await;
    assert_eq!(cleared["errcode"], 0, "{cleared}");
    *tokens.current.lock().unwrap() = None;
    engine.resume(job_id).await.unwrap();
    let job = engine.wait_idle(job_id).await.unwrap();
    assert_eq!((job.status, job.counts.sent), (JobStatus::Completed, 100));
    assert_eq!(json_sends(&env.sends()), (100, 100, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_expiring_mid_job_is_refreshed_once_and_the_job_completes() {
    let env = SimEnv::start(SimConfig {
        latency_ms: 3,
        ..quiet_config()
    })
    .await;
    let tokens = Arc::new(SimTokens::new(&env));
    let engine = engine_for(&env, Arc::clone(&tokens), Store::open_in_memory().unwrap());
    let mut spec = env.spec();
    spec.concurrency = Some(4);
    let recipients = env.recipients(200).await;
    let issued_before = env.tokens_issued()["client"].as_u64().unwrap();
    let job_id = engine.create_and_start(spec, recipients).await.unwrap();

    let mut progress = engine.subscribe(job_id).await.unwrap();
    while progress.borrow_and_update().sent < 50 {
        progress.changed().await.unwrap();
    }
    // Two hours and a bit later on the sim's clock: the token is dead.
    env.post_api(
        "/__sim/advance-clock",
        json!({"secs": 7300, "tickets": false}),
    )
    .await;
    let job = engine.wait_idle(job_id).await.unwrap();

    assert_eq!((job.status, job.counts.sent), (JobStatus::Completed, 200));
    assert_eq!(tokens.refreshes.load(Ordering::SeqCst), 1);
    // The job's first token, and the one refresh.
    assert_eq!(
        env.tokens_issued()["client"].as_u64().unwrap(),
        issued_before + 2
    );
    assert_eq!(json_sends(&env.sends()), (200, 200, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_reports_pushed_by_the_sim_are_joined_to_rows_by_msgid() {
    let (relay_url, pushes) = push_receiver().await;
    let env = SimEnv::start(SimConfig {
        relay_url,
        push_retries: 2,
        push_retry_interval_ms: 20,
        delivery_fail_rate: 0.3,
        seed: 5,
        ..quiet_config()
    })
    .await;
    let tokens = Arc::new(SimTokens::new(&env));
    let engine = engine_for(&env, tokens, Store::open_in_memory().unwrap());
    let job_id = engine
        .create_and_start(env.spec(), env.recipients(60).await)
        .await
        .unwrap();
    engine.wait_idle(job_id).await.unwrap();

    let reports = wait_reports(&pushes, 60).await;
    let appid = env.appid.clone();
    let applied = engine
        .store()
        .call(move |c| {
            let mut out = Vec::new();
            for (msgid, status) in &reports {
                out.push(delivery::apply_report(
                    c,
                    &appid,
                    *msgid,
                    status,
                    1_700_000_000,
                )?);
            }
            Ok(out)
        })
        .await
        .unwrap();
    assert!(
        applied
            .iter()
            .all(|a| matches!(a, delivery::DeliveryApplied::Matched(_))),
        "{applied:?}"
    );

    let job = engine.job(job_id).await.unwrap();
    let by_status = env.sends()["by_status"].clone();
    let n = |k: &str| by_status[k].as_u64().unwrap_or(0);
    assert_eq!(job.counts.delivered, n("success"));
    assert_eq!(job.counts.user_block, n("failed:user block"));
    assert_eq!(job.counts.system_failed, n("failed: system failed"));
    assert_eq!(
        job.counts.delivered + job.counts.user_block + job.counts.system_failed,
        60
    );
    assert!(
        job.counts.delivered < 60,
        "delivery_fail_rate made some fail"
    );
    let pending: i64 = engine
        .store()
        .call(move |c| {
            Ok(c.query_row(
                "SELECT count(*) FROM send_recipients WHERE job_id = ? AND delivery = ?",
                rusqlite::params![job_id, Delivery::Pending],
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap();
    assert_eq!(pending, 0);
}

type Pushes = Arc<std::sync::Mutex<Vec<(String, String)>>>;

/// A stand-in for the relay's message URL: keeps each push's query string and body.
async fn push_receiver() -> (String, Pushes) {
    use axum::extract::{RawQuery, State};
    let got: Pushes = Arc::default();
    let app = axum::Router::new()
        .fallback(
            |State(g): State<Pushes>, RawQuery(q): RawQuery, body: String| async move {
                g.lock().unwrap().push((q.unwrap_or_default(), body));
                "success"
            },
        )
        .with_state(Arc::clone(&got));
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(l, app).await;
    });
    (url, got)
}

/// Decrypts the pushes (as the relay does) and returns the TEMPLATESENDJOBFINISH reports.
async fn wait_reports(pushes: &Pushes, n: usize) -> Vec<(i64, String)> {
    let crypt = wxdesk_wechat::crypto::MsgCrypt::new(
        wxdesk_sim::SANDBOX_COMPONENT_TOKEN,
        wxdesk_sim::SANDBOX_COMPONENT_AES_KEY,
        wxdesk_sim::SANDBOX_COMPONENT_APPID,
    )
    .unwrap();
    for _ in 0..500 {
        let got = pushes.lock().unwrap().clone();
        let mut reports = Vec::new();
        for (q, body) in &got {
            let q: std::collections::HashMap<String, String> =
                url::form_urlencoded::parse(q.as_bytes())
                    .into_owned()
                    .collect();
            let get = |k: &str| q.get(k).cloned().unwrap_or_default();
            let Ok(xml) = crypt.decrypt_push(
                &get("msg_signature"),
                &get("timestamp"),
                &get("nonce"),
                body.as_bytes(),
            ) else {
                continue;
            };
            if let Ok(wxdesk_wechat::callback::Callback::TemplateSendJobFinish {
                msg_id,
                status,
                ..
            }) = wxdesk_wechat::callback::parse(&xml)
            {
                reports.push((msg_id, status));
            }
        }
        if reports.len() >= n {
            return reports;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the sim did not push {n} delivery reports");
}
