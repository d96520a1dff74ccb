//! Token storm (issue #10, item 7): 200 sends in flight when the authorizer token dies at
//! WeChat's side (the sim's clock jumps past its two hours) all get 42001 at once; the platform's
//! token cache must refresh it exactly once at the simulator, and the job still completes.
//! The same across two processes on one data dir: `reliability_tokens_processes.rs`.
#![allow(clippy::unwrap_used)]

use crate::reliability_support;
use crate::support;

use serde_json::Value;
use wxdesk_core::send::{JobStatus, Recipient};

use reliability_support::{storm_engine, storm_job, template_and_followers};
use support::World;

const STORM: usize = 200;

fn authorizer_issued(s: &Value) -> u64 {
    s["tokens_issued"]["authorizer"].as_u64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_sends_hitting_an_expired_authorizer_token_cause_exactly_one_refresh() {
    let w = World::start().await;
    let oa = w.authorize_first_oa().await;
    let (payload, openids) = template_and_followers(&w, &oa, STORM + 1).await;
    let engine = storm_engine(&w.platform, STORM).await;
    let spec = |title: &str| storm_job(&oa, title, payload.clone(), STORM);
    // A first send caches the authorizer token.
    let warm = engine
        .create_and_start(spec("预热"), vec![Recipient::new(openids[0].clone())])
        .await
        .unwrap();
    assert_eq!(engine.wait_idle(warm).await.unwrap().counts.sent, 1);

    // Two hours and a bit later at WeChat: every cached token is dead (the ticket stays).
    w.advance_sim_clock(7300).await;
    let before = authorizer_issued(&w.sandbox.sim_state());

    let job = engine
        .create_and_start(
            spec("令牌风暴"),
            openids[1..]
                .iter()
                .cloned()
                .map(Recipient::new)
                .collect::<Vec<_>>(),
        )
        .await
        .unwrap();
    let done = engine.wait_idle(job).await.unwrap();
    assert_eq!(
        (done.status, done.counts.sent),
        (JobStatus::Completed, STORM as u64),
        "{done:?}"
    );
    assert_eq!(
        authorizer_issued(&w.sandbox.sim_state()),
        before + 1,
        "exactly one authorizer token refresh at the sim"
    );
    w.sandbox.shutdown().await;
}
