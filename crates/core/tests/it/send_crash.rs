//! kill -9 mid-job: a child process (this test binary, re-executed) sends a job against the real
//! wxdesk-sim through the engine host, as `wxdesk-cli send` does (holding the send lock), and is
//! killed with SIGKILL; the next host takes the lock the OS released, recovers (the job paused
//! `interrupted`, only the rows that were in flight `uncertain`), the operator resumes it, and
//! the simulator shows every recipient delivered exactly once.
#![allow(clippy::unwrap_used)]

use crate::send_support;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use send_support::sim::*;
use wxdesk_core::send::http::{Endpoint, HttpSendApi};
use wxdesk_core::send::{EngineConfig, JobStatus, LockWait, PauseReason, Sends, who_sends};
use wxdesk_core::store::Store;
use wxdesk_sim::SimConfig;

/// Set in the child's environment: `data_dir\tbase_url\tappid\tappsecret\tjob_id`.
const CHILD_ENV: &str = "WXDESK_SEND_CRASH_CHILD";

fn api_for(base_url: &str, appid: &str, appsecret: &str) -> Arc<HttpSendApi> {
    let tokens = Arc::new(SimTokens::from_parts(base_url, appid, appsecret));
    let api = HttpSendApi::new(
        Endpoint {
            base_url: base_url.to_string(),
            bearer: None,
        },
        tokens,
    )
    .unwrap();
    Arc::new(api)
}

/// The engine host of a process on `dir`, as the CLI has it.
fn host_for(dir: &Path, base_url: &str, appid: &str, appsecret: &str, store: Store) -> Sends {
    let api = api_for(base_url, appid, appsecret);
    Sends::with_api(dir, store, api, EngineConfig::default())
}

/// The child's part: start the job and keep sending until killed. Runs in the child process the test spawns (this binary, the same test, with the child variable set).
async fn crash_child_process_entry(args: String) {
    let parts: Vec<&str> = args.split('\t').collect();
    let [dir, base_url, appid, appsecret, job] = parts[..] else {
        panic!("bad child args")
    };
    let dir = Path::new(dir);
    let store = Store::open_in_dir(dir).await.unwrap();
    let sends = host_for(dir, base_url, appid, appsecret, store);
    sends
        .acquire(LockWait::Up(Duration::ZERO), |_| panic!("the lock is free"))
        .await
        .unwrap()
        .unwrap();
    let job_id: i64 = job.parse().unwrap();
    sends.set_job(job_id).await.unwrap();
    sends.start(job_id).await.unwrap();
    sends.wait_idle(job_id).await.unwrap();
}

async fn openids_in(store: &Store, job_id: i64, state: &'static str) -> BTreeSet<String> {
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
async fn a_kill_mid_job_then_restart_delivers_everyone_once_and_only_in_flight_rows_are_uncertain()
{
    if let Ok(args) = std::env::var(CHILD_ENV) {
        return crash_child_process_entry(args).await;
    }
    const N: usize = 400;
    let env = SimEnv::start(SimConfig {
        latency_ms: 15,
        jitter_ms: 10,
        seed: 3,
        ..quiet_config()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in_dir(dir.path()).await.unwrap();
    let sends = host_for(
        dir.path(),
        &env.sim.base_url,
        &env.appid,
        &env.appsecret,
        store.clone(),
    );
    let mut spec = env.spec();
    spec.concurrency = Some(8);
    let job_id = sends.create(spec, env.recipients(N).await).await.unwrap();

    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            this_test!(a_kill_mid_job_then_restart_delivers_everyone_once_and_only_in_flight_rows_are_uncertain).as_str(),
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(
            CHILD_ENV,
            format!(
                "{}\t{}\t{}\t{}\t{job_id}",
                dir.path().display(),
                env.sim.base_url,
                env.appid,
                env.appsecret
            ),
        )
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Let it get well into the job, then kill -9.
    let mut sent = 0i64;
    for _ in 0..3000 {
        sent = store
            .call(move |c| {
                Ok(
                    c.query_row("SELECT sent FROM send_jobs WHERE id = ?", [job_id], |r| {
                        r.get(0)
                    })?,
                )
            })
            .await
            .unwrap();
        if sent >= 100 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(sent >= 100, "the child never got going");
    assert_eq!(
        who_sends(dir.path()).unwrap().map(|h| h.job_id),
        Some(Some(job_id)),
        "the child holds the send lock for its job"
    );
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    // Requests the child had on the wire finish (or not) at the sim.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let in_flight = openids_in(&store, job_id, "in_flight").await;
    assert!(!in_flight.is_empty(), "the kill caught requests in flight");
    assert!(
        in_flight.len() <= 8,
        "at most `concurrency` rows are ambiguous, got {}",
        in_flight.len()
    );
    assert!(openids_in(&store, job_id, "sent").await.len() < N);

    // The restart: the OS let the dead child's lock go; the next host takes it and recovers.
    let report = sends
        .acquire(LockWait::Up(Duration::ZERO), |h| {
            panic!("a killed sender's lock is released, held by {h:?}")
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report.uncertain_rows, in_flight.len() as u64);
    assert_eq!(report.interrupted_jobs, vec![job_id]);
    let job = sends.job(job_id).await.unwrap();
    assert_eq!(
        (job.status, job.pause_reason),
        (JobStatus::Paused, Some(PauseReason::Interrupted))
    );
    // 继续 / `jobs resume`: the operator's one action.
    sends.resume(job_id).await.unwrap();
    let job = sends.wait_idle(job_id).await.unwrap();
    assert_eq!(job.status, JobStatus::Completed);
    assert_eq!(
        openids_in(&store, job_id, "uncertain").await,
        in_flight,
        "only the in-flight rows are uncertain"
    );
    assert_eq!(job.counts.sent + job.counts.uncertain, N as u64);

    let (accepted, _, max_per) = json_sends(&env.sends());
    assert_eq!(max_per, 1, "nothing was sent twice");
    assert!(accepted >= job.counts.sent && accepted <= job.counts.sent + job.counts.uncertain);

    // The operator resends the uncertain rows: same client_msg_id, so the ones WeChat already
    // has are dropped by it and the others go out once.
    let resend = sends.resend_uncertain(job_id).await.unwrap();
    assert_eq!(
        (resend.rows, resend.outside_dedup_window),
        (in_flight.len() as u64, 0)
    );
    let job = sends.wait_idle(job_id).await.unwrap();
    assert_eq!(
        (job.status, job.counts.sent, job.counts.uncertain),
        (JobStatus::Completed, N as u64, 0)
    );
    assert_eq!(json_sends(&env.sends()), (N as u64, N as u64, 1));
}
