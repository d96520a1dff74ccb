//! The fault mix of issue #10 item 8 in one job: 10 % `-1` busy, 2 % connection resets, jitter,
//! and the daily quota running out mid-job (45009). After the quota is cleared and the job
//! resumed, every recipient is in exactly one final state and the rows agree with wxdesk-sim:
//! each row marked sent carries a msgid and the sim accepted exactly those recipients, once.
//! (send_sim.rs tests the faults and the quota pause separately; this is them together.)
#![allow(clippy::unwrap_used)]

use crate::send_support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use send_support::sim::*;
use wxdesk_core::send::http::{Endpoint, HttpSendApi};
use wxdesk_core::send::{EngineConfig, JobStatus, SendEngine};
use wxdesk_core::store::Store;
use wxdesk_sim::SimConfig;

const N: usize = 1_000;
const QUOTA: u64 = 600;

async fn states(store: &Store, job: i64) -> BTreeMap<String, (usize, usize)> {
    store
        .call(move |c| {
            let mut s = c.prepare(
                "SELECT state, COUNT(*), COUNT(msgid) FROM send_recipients WHERE job_id = ? GROUP BY state",
            )?;
            let v = s
                .query_map([job], |r| {
                    Ok((r.get::<_, String>(0)?, (r.get::<_, i64>(1)? as usize, r.get::<_, i64>(2)? as usize)))
                })?
                .collect::<rusqlite::Result<_>>()?;
            Ok(v)
        })
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busy_resets_jitter_and_a_mid_job_45009_end_with_every_recipient_sent_once_per_the_sim() {
    let mut cfg = SimConfig {
        latency_ms: 1,
        jitter_ms: 8,
        busy_rate: 0.1,
        reset_rate: 0.02,
        seed: 8,
        followers: N as u32 + 100,
        ..quiet_config()
    };
    cfg.quotas
        .insert("/cgi-bin/message/template/send".into(), QUOTA);
    let env = SimEnv::start(cfg).await;
    let tokens = Arc::new(SimTokens::new(&env));
    let api = HttpSendApi::new(
        Endpoint {
            base_url: env.sim.base_url.clone(),
            bearer: None,
        },
        tokens.clone(),
    )
    .unwrap();
    let store = Store::open_in_memory().unwrap();
    let engine = SendEngine::new(
        store.clone(),
        Arc::new(api),
        EngineConfig {
            backoff_base: Duration::from_millis(2),
            backoff_max: Duration::from_millis(20),
            ..EngineConfig::default()
        },
    );
    let mut spec = env.spec();
    spec.concurrency = Some(16);
    spec.max_attempts = Some(20);
    let job_id = engine
        .create_and_start(spec, env.recipients(N).await)
        .await
        .unwrap();
    let job = engine.wait_idle(job_id).await.unwrap();
    assert_eq!(job.status, JobStatus::PausedQuota, "{job:?}");
    // A reset can cut an answer the sim already counted, so the quota can be spent by rows the
    // engine holds as retryable; the sim's count is the truth.
    let (accepted, distinct, max_per) = json_sends(&env.sends());
    assert_eq!((accepted, distinct, max_per), (QUOTA, QUOTA, 1));
    assert_eq!(job.counts.failed(), 0, "{job:?}");

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
    assert_eq!(job.status, JobStatus::Completed, "{job:?}");

    let by_state = states(&store, job_id).await;
    let total: usize = by_state.values().map(|(n, _)| n).sum();
    assert_eq!(total, N, "one row per recipient");
    assert_eq!(
        by_state.keys().map(String::as_str).collect::<Vec<_>>(),
        vec!["sent"],
        "every recipient ended sent: {by_state:?}"
    );
    assert_eq!(by_state["sent"], (N, N), "every sent row has its msgid");
    assert_eq!(
        json_sends(&env.sends()),
        (N as u64, N as u64, 1),
        "the sim accepted each recipient exactly once"
    );
}
