//! The one recovery policy after a real kill -9, whichever face comes next. A child process
//! (this test binary, re-executed) sends through the engine host as `wxdesk-cli send` does,
//! holding the send lock, with two requests on the wire that never answer; it is SIGKILLed.
//! Then the app's host (recovering at launch) and, for a second kill, the CLI's host (taking the
//! lock for `jobs resume`) must leave the same thing: the OS released the dead sender's lock, the
//! job is paused `interrupted`, exactly the in-flight rows are `uncertain`, the rest pending,
//! nothing resent — and the app lets the lock go again while the CLI keeps it.
#![allow(clippy::unwrap_used)]

use crate::send_support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use send_support::{FakeApi, fast_config, recipients, template_spec};
use wxdesk_core::send::{
    ApiRequest, BoxFuture, JobStatus, LockWait, PauseReason, RecipientState, SendApi, SendFailure,
    SendOk, Sends, who_sends,
};
use wxdesk_core::store::Store;

const CHILD_ENV: &str = "WXDESK_SEND_HOST_CHILD";
const ROWS: usize = 5;
const IN_FLIGHT: u32 = 2;

/// Never answers: the rows it is given stay in flight until the process dies.
struct Hang;

impl SendApi for Hang {
    fn send<'a>(
        &'a self,
        _: &'a str,
        _: &'a ApiRequest,
    ) -> BoxFuture<'a, Result<SendOk, SendFailure>> {
        Box::pin(std::future::pending())
    }
    fn refresh_token<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<(), SendFailure>> {
        Box::pin(async { Ok(()) })
    }
}

/// The child: the CLI's way of sending — take the lock, write the job, start it — then hang.
async fn child(dir: &str) {
    let dir = Path::new(dir);
    let store = Store::open_in_dir(dir).await.unwrap();
    let sends = Sends::with_api(dir, store, Arc::new(Hang), fast_config());
    sends
        // Not zero: the parent's `who_sends` probes the lock while it watches.
        .acquire(LockWait::Up(Duration::from_secs(10)), |_| {})
        .await
        .unwrap()
        .unwrap();
    let mut spec = template_spec("wxA");
    spec.concurrency = Some(IN_FLIGHT);
    let id = sends
        .create(spec, recipients(ROWS).collect())
        .await
        .unwrap();
    sends.set_job(id).await.unwrap();
    sends.start(id).await.unwrap();
    std::future::pending::<()>().await;
}

async fn count(store: &Store, state: &'static str) -> i64 {
    store
        .call(move |c| {
            Ok(c.query_row(
                "SELECT count(*) FROM send_recipients WHERE state = ?",
                [state],
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap()
}

/// Runs a child sender on `dir` until it has `IN_FLIGHT` rows on the wire, then kills it -9.
async fn kill_a_sender_mid_job(dir: &Path, store: &Store) -> i64 {
    let mut c = Command::new(std::env::current_exe().unwrap())
        .args([
            this_test!(a_sender_killed_mid_job_is_recovered_the_same_way_by_the_app_and_the_cli)
                .as_str(),
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut holder = None;
    for _ in 0..1000 {
        holder = who_sends(dir).unwrap();
        if holder.as_ref().is_some_and(|h| h.job_id.is_some())
            && count(store, "in_flight").await == i64::from(IN_FLIGHT)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let holder = holder.expect("the child took the send lock");
    assert_eq!(holder.pid, c.id());
    assert_eq!(count(store, "in_flight").await, i64::from(IN_FLIGHT));
    c.kill().unwrap(); // SIGKILL on Unix
    c.wait().unwrap();
    holder.job_id.unwrap()
}

async fn assert_recovered(sends: &Sends, store: &Store, id: i64) {
    let job = sends.job(id).await.unwrap();
    assert_eq!(
        (job.status, job.pause_reason),
        (JobStatus::Paused, Some(PauseReason::Interrupted))
    );
    assert_eq!(
        (job.counts.uncertain, job.counts.pending()),
        (u64::from(IN_FLIGHT), ROWS as u64 - u64::from(IN_FLIGHT))
    );
    assert_eq!(count(store, "in_flight").await, 0);
    let states: Vec<RecipientState> = store
        .call(move |c| {
            let mut s =
                c.prepare("SELECT state FROM send_recipients WHERE job_id = ? ORDER BY seq")?;
            let v = s
                .query_map([id], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(v)
        })
        .await
        .unwrap();
    assert_eq!(
        states
            .iter()
            .filter(|s| **s == RecipientState::Uncertain)
            .count(),
        IN_FLIGHT as usize
    );
    assert!(
        sends.active_jobs().await.is_empty(),
        "nothing resumed by itself"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sender_killed_mid_job_is_recovered_the_same_way_by_the_app_and_the_cli() {
    if let Ok(dir) = std::env::var(CHILD_ENV) {
        return child(&dir).await;
    }
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in_dir(dir.path()).await.unwrap();
    let ok = FakeApi::ok();

    // The app starts after the kill: its launch recovers (and resumes only quota pauses).
    let first = kill_a_sender_mid_job(dir.path(), &store).await;
    let app = Sends::with_api(dir.path(), store.clone(), ok.clone(), fast_config());
    app.share_lock_when_idle();
    assert_eq!(
        app.resume_after_quota_reset().await.unwrap(),
        Vec::<i64>::new()
    );
    assert_recovered(&app, &store, first).await;
    assert_eq!(ok.calls(), 0);
    for _ in 0..300 {
        if who_sends(dir.path()).unwrap().is_none() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        who_sends(dir.path()).unwrap(),
        None,
        "the idle app let the lock go"
    );

    // Another sender is killed; this time `jobs resume` of the CLI comes next.
    let second = kill_a_sender_mid_job(dir.path(), &store).await;
    assert_ne!(first, second);
    let cli = Sends::with_api(dir.path(), store.clone(), ok.clone(), fast_config());
    let report = cli
        .acquire(LockWait::Up(Duration::ZERO), |h| panic!("held by {h:?}"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report.interrupted_jobs, vec![second]);
    assert_eq!(report.uncertain_rows, u64::from(IN_FLIGHT));
    assert_recovered(&cli, &store, second).await;
    assert_eq!(
        cli.job(first).await.unwrap().pause_reason,
        Some(PauseReason::Interrupted),
        "the first job is untouched"
    );
    assert_eq!(ok.calls(), 0);
    assert!(cli.holds_lock().await, "the CLI keeps the lock");

    // The operator continues: the rest go out, the uncertain rows are not resent.
    cli.resume(second).await.unwrap();
    let job = cli.wait_idle(second).await.unwrap();
    assert_eq!(job.status, JobStatus::Completed);
    assert_eq!(
        (job.counts.sent, job.counts.uncertain),
        (ROWS as u64 - u64::from(IN_FLIGHT), u64::from(IN_FLIGHT))
    );
    assert_eq!(ok.calls(), ROWS as u64 - u64::from(IN_FLIGHT));
}
