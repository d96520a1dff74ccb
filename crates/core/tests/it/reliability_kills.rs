//! Ten kill -9s during one 5,000-recipient job with the simulator's faults on (issue #10, item 6).
//! Each round a fresh sender process (this test binary re-executed) recovers the data dir and
//! resumes the job until it is SIGKILLed. Judged by wxdesk-sim's own counts: nobody received the
//! message twice, nobody was skipped, and `uncertain` never grows by more than what was in flight
//! at a kill. (send_crash.rs covers one kill in detail; this is the repeated, faulty version.)
#![allow(clippy::unwrap_used)]

use crate::send_support;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use send_support::sim::*;
use wxdesk_core::send::http::{Endpoint, HttpSendApi};
use wxdesk_core::send::{EngineConfig, JobStatus, LockWait, SendEngine, Sends};
use wxdesk_core::store::Store;
use wxdesk_sim::SimConfig;

const CHILD_ENV: &str = "WXDESK_RELIABILITY_KILLS_CHILD";
const N: usize = 5_000;
const CONCURRENCY: u32 = 16;
const KILLS: usize = 10;

fn engine_for(base_url: &str, appid: &str, appsecret: &str, store: Store) -> SendEngine {
    let tokens = Arc::new(SimTokens::from_parts(base_url, appid, appsecret));
    let api = HttpSendApi::new(
        Endpoint {
            base_url: base_url.to_string(),
            bearer: None,
        },
        tokens,
    )
    .unwrap();
    SendEngine::new(
        store,
        Arc::new(api),
        EngineConfig {
            backoff_base: Duration::from_millis(20),
            backoff_max: Duration::from_millis(200),
            ..EngineConfig::default()
        },
    )
}

/// The sender process: recover what the last one left, resume, send until killed.
async fn kills_child_process_entry(args: String) {
    let parts: Vec<&str> = args.split('\t').collect();
    let [dir, base_url, appid, appsecret, job] = parts[..] else {
        panic!("bad child args")
    };
    let dir = std::path::Path::new(dir);
    let store = Store::open_in_dir(dir).await.unwrap();
    let engine = engine_for(base_url, appid, appsecret, store.clone());
    // As `wxdesk-cli jobs resume` does: the host takes the lock and recovers (the job the last
    // sender was killed in is paused `interrupted`), then the job continues.
    let sends = Sends::with_api(dir, store, engine.api(), engine.config().clone());
    let job_id: i64 = job.parse().unwrap();
    sends
        .acquire(LockWait::Forever, |_| {})
        .await
        .unwrap()
        .unwrap();
    sends.start(job_id).await.unwrap();
    sends.wait_idle(job_id).await.unwrap();
}

async fn count(store: &Store, job_id: i64, state: &'static str) -> usize {
    store
        .call(move |c| {
            Ok(c.query_row(
                "SELECT COUNT(*) FROM send_recipients WHERE job_id = ? AND state = ?",
                rusqlite::params![job_id, state],
                |r| r.get::<_, i64>(0),
            )?)
        })
        .await
        .unwrap() as usize
}

async fn openids(store: &Store, job_id: i64, state: &'static str) -> BTreeSet<String> {
    store
        .call(move |c| {
            let mut s =
                c.prepare("SELECT openid FROM send_recipients WHERE job_id = ? AND state = ?")?;
            let v = s
                .query_map(rusqlite::params![job_id, state], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(v)
        })
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_kills_with_faults_on_deliver_everyone_once_and_uncertain_stays_within_in_flight() {
    if let Ok(args) = std::env::var(CHILD_ENV) {
        return kills_child_process_entry(args).await;
    }
    let env = SimEnv::start(SimConfig {
        latency_ms: 3,
        jitter_ms: 4,
        busy_rate: 0.05,
        reset_rate: 0.01,
        seed: 10,
        followers: N as u32 + 100,
        ..quiet_config()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in_dir(dir.path()).await.unwrap();
    let engine = engine_for(&env.sim.base_url, &env.appid, &env.appsecret, store.clone());
    let mut spec = env.spec();
    spec.concurrency = Some(CONCURRENCY);
    spec.max_attempts = Some(20);
    let job_id = engine
        .create_job(spec, env.recipients(N).await)
        .await
        .unwrap();
    drop(engine);

    let child_args = format!(
        "{}\t{}\t{}\t{}\t{job_id}",
        dir.path().display(),
        env.sim.base_url,
        env.appid,
        env.appsecret
    );
    let spawn = || {
        std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                this_test!(ten_kills_with_faults_on_deliver_everyone_once_and_uncertain_stays_within_in_flight).as_str(),
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, &child_args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let done_rows = |store: Store| async move {
        store
            .call(move |c| {
                Ok(c.query_row(
                    "SELECT COUNT(*) FROM send_recipients WHERE job_id = ? \
                     AND state NOT IN ('pending', 'in_flight')",
                    [job_id],
                    |r| r.get::<_, i64>(0),
                )?)
            })
            .await
            .unwrap() as usize
    };

    let mut uncertain_budget = 0usize;
    let mut kills = 0usize;
    for round in 0..KILLS {
        let target = (round + 1) * N / (KILLS + 2);
        let mut child = spawn();
        let mut reached = false;
        for _ in 0..3000 {
            if done_rows(store.clone()).await >= target {
                reached = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(
            reached,
            "round {round}: the sender never reached {target} rows"
        );
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        kills += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
        let in_flight = count(&store, job_id, "in_flight").await;
        assert!(
            in_flight <= CONCURRENCY as usize,
            "round {round}: {in_flight} rows in flight, more than the concurrency"
        );
        uncertain_budget += in_flight;
        // The previous rounds' recoveries turned exactly their in-flight rows into `uncertain`.
        let uncertain = count(&store, job_id, "uncertain").await;
        assert!(
            uncertain + in_flight <= uncertain_budget,
            "round {round}: uncertain {uncertain} + in flight {in_flight} > {uncertain_budget}"
        );
    }
    assert_eq!(kills, KILLS);

    // The last sender runs to the end.
    let mut child = spawn();
    assert!(child.wait().unwrap().success());
    let engine = engine_for(&env.sim.base_url, &env.appid, &env.appsecret, store.clone());
    let job = engine.wait_idle(job_id).await.unwrap();
    assert_eq!(job.status, JobStatus::Completed, "{job:?}");
    let uncertain = openids(&store, job_id, "uncertain").await;
    assert!(uncertain.len() <= uncertain_budget);
    assert_eq!(
        job.counts.sent + job.counts.uncertain,
        N as u64,
        "every recipient ended sent or uncertain (none skipped, none failed): {job:?}"
    );
    let (accepted, distinct, max_per) = json_sends(&env.sends());
    assert_eq!(max_per, 1, "nobody received the message twice");
    assert!(accepted >= job.counts.sent && accepted <= N as u64);

    // The operator resends the uncertain rows (same client_msg_id): WeChat drops the ones it
    // already has; afterwards the sim holds every recipient exactly once.
    engine.resend_uncertain(job_id).await.unwrap();
    let job = engine.wait_idle(job_id).await.unwrap();
    assert_eq!(
        (job.status, job.counts.sent),
        (JobStatus::Completed, N as u64)
    );
    let (accepted, distinct2, max_per) = json_sends(&env.sends());
    assert!(distinct2 >= distinct);
    assert_eq!((accepted, distinct2, max_per), (N as u64, N as u64, 1));
}
