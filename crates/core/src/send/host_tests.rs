//! The host's policy, pinned: recovery after a sender stopped (the CLI's way and the app's way
//! give the same result), the quota resume only where the timer runs, the lock refused or
//! waited for, let go when idle only in the app's mode, and the settings-change guard.

use std::sync::atomic::AtomicU64;

use tokio::sync::Semaphore;

use super::*;
use crate::send::api::{BoxFuture, SendFailure, SendOk};
use crate::send::model::{Payload, RecipientState};
use crate::send::reason::{PauseReason, RowNote};
use crate::send::render::ApiRequest;

/// Holds every send until the test lets it through; counts the requests.
struct Gate {
    open: Semaphore,
    calls: AtomicU64,
}

impl Gate {
    fn closed() -> Arc<Gate> {
        Arc::new(Gate {
            open: Semaphore::new(0),
            calls: AtomicU64::new(0),
        })
    }

    fn calls(&self) -> u64 {
        self.calls.load(Ordering::SeqCst)
    }
}

impl SendApi for Gate {
    fn send<'a>(
        &'a self,
        _appid: &'a str,
        _req: &'a ApiRequest,
    ) -> BoxFuture<'a, std::result::Result<SendOk, SendFailure>> {
        Box::pin(async move {
            self.calls.fetch_add(1, Ordering::SeqCst);
            let permit = self.open.acquire().await.map_err(|_| SendFailure::Token {
                detail: "closed".into(),
            })?;
            permit.forget();
            Ok(SendOk {
                msgid: Some(1),
                response: serde_json::json!({"errcode": 0, "msgid": 1}),
            })
        })
    }

    fn refresh_token<'a>(
        &'a self,
        _appid: &'a str,
    ) -> BoxFuture<'a, std::result::Result<(), SendFailure>> {
        Box::pin(async { Ok(()) })
    }
}

fn spec() -> JobSpec {
    JobSpec {
        appid: "wx0123456789abcdef".into(),
        title: "发货通知".into(),
        payload: Payload::Template {
            template_id: "TPL".into(),
            data: [("keyword1".to_string(), "已发货".to_string())].into(),
            url: None,
            miniprogram: None,
        },
        field_rules: Vec::new(),
        concurrency: Some(1),
        rate_per_sec: None,
        max_attempts: None,
    }
}

fn recipients(n: usize) -> Vec<Recipient> {
    (0..n)
        .map(|i| Recipient::new(format!("oUser{i}")))
        .collect()
}

struct World {
    dir: tempfile::TempDir,
    store: Store,
    gate: Arc<Gate>,
}

impl World {
    async fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in_dir(dir.path()).await.unwrap();
        World {
            dir,
            store,
            gate: Gate::closed(),
        }
    }

    /// A host of this data dir, as a new process would have.
    fn sends(&self) -> Sends {
        Sends::with_api(
            self.dir.path(),
            self.store.clone(),
            self.gate.clone(),
            EngineConfig::default(),
        )
    }

    /// A job as a sender that was killed mid-job leaves it: running, `in_flight` rows claimed.
    async fn killed_mid_job(&self, rows: usize, in_flight: usize) -> i64 {
        let id = self.sends().create(spec(), recipients(rows)).await.unwrap();
        self.store
            .call(move |c| {
                db::set_status(c, id, JobStatus::Running, None, 0)?;
                let tx = c.transaction()?;
                db::claim(&tx, id, in_flight, i64::MAX)?;
                tx.commit()?;
                Ok(())
            })
            .await
            .unwrap();
        id
    }

    async fn states(&self, id: i64) -> Vec<(RecipientState, Option<String>)> {
        self.store
            .call(move |c| {
                let mut s = c.prepare(
                    "SELECT state, errmsg FROM send_recipients WHERE job_id = ? ORDER BY seq",
                )?;
                let v = s
                    .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                Ok(v)
            })
            .await
            .unwrap()
    }
}

/// What recovery must leave: the job paused `interrupted`, exactly its in-flight rows uncertain
/// (with the note why), the others pending, and nothing sent.
async fn assert_recovered(w: &World, sends: &Sends, id: i64) {
    let job = sends.job(id).await.unwrap();
    assert_eq!(
        (job.status, job.pause_reason.clone()),
        (JobStatus::Paused, Some(PauseReason::Interrupted))
    );
    assert_eq!((job.counts.uncertain, job.counts.pending()), (2, 1));
    let states = w.states(id).await;
    assert_eq!(
        states.iter().map(|s| s.0).collect::<Vec<_>>(),
        [
            RecipientState::Uncertain,
            RecipientState::Uncertain,
            RecipientState::Pending
        ]
    );
    assert_eq!(
        states[0].1.as_deref().and_then(RowNote::from_stored),
        Some(RowNote::Interrupted)
    );
    assert_eq!(w.gate.calls(), 0, "recovery sends nothing");
    assert!(sends.active_jobs().await.is_empty(), "nothing resumed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_host_pauses_a_job_its_killed_sender_left_running_as_interrupted() {
    let w = World::new().await;
    let id = w.killed_mid_job(3, 2).await;
    let sends = w.sends();
    let report = sends
        .acquire(LockWait::Up(Duration::ZERO), |_| {
            panic!("the lock is free: no waiting")
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report.uncertain_rows, 2);
    assert_eq!(report.interrupted_jobs, vec![id]);
    assert_recovered(&w, &sends, id).await;

    // One action continues it; the uncertain rows are not resent.
    w.gate.open.add_permits(10);
    sends.resume(id).await.unwrap();
    let job = sends.wait_idle(id).await.unwrap();
    assert_eq!(job.status, JobStatus::Completed);
    assert_eq!((job.counts.sent, job.counts.uncertain), (1, 2));
    assert_eq!(w.gate.calls(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_host_recovers_the_same_way_at_launch_and_lets_the_lock_go() {
    let w = World::new().await;
    let id = w.killed_mid_job(3, 2).await;
    let sends = w.sends();
    sends.share_lock_when_idle();
    // What the app's launch timer does first.
    assert_eq!(
        sends.resume_after_quota_reset().await.unwrap(),
        Vec::<i64>::new()
    );
    assert_recovered(&w, &sends, id).await;
    // Nothing of the app's sends: the lock is let go (the release runs in the background).
    for _ in 0..200 {
        if !sends.holds_lock().await {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(!sends.holds_lock().await);
    assert_eq!(who_sends(w.dir.path()).unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quota_paused_job_resumes_after_the_reset_only_where_the_timer_runs() {
    let w = World::new().await;
    let id = w.sends().create(spec(), recipients(2)).await.unwrap();
    // Paused by 45009 yesterday (Beijing): the daily quota has reset since.
    w.store
        .call(move |c| {
            db::set_status(c, id, JobStatus::PausedQuota, Some(&PauseReason::Quota), 0)?;
            c.execute(
                "UPDATE send_jobs SET updated_at = strftime('%s', 'now') - 2 * 86400 WHERE id = ?",
                [id],
            )?;
            Ok(())
        })
        .await
        .unwrap();
    w.gate.open.add_permits(10);

    let cli = w.sends();
    cli.acquire(LockWait::Up(Duration::ZERO), |_| {})
        .await
        .unwrap();
    assert_eq!(cli.job(id).await.unwrap().status, JobStatus::PausedQuota);
    assert!(
        cli.active_jobs().await.is_empty(),
        "the CLI resumes nothing"
    );
    drop(cli);

    let app = w.sends();
    app.share_lock_when_idle();
    assert_eq!(app.resume_after_quota_reset().await.unwrap(), vec![id]);
    let job = app.wait_idle(id).await.unwrap();
    assert_eq!((job.status, job.counts.sent), (JobStatus::Completed, 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_another_process_holds_the_lock_the_app_is_refused_and_the_cli_waits_then_gives_up() {
    let w = World::new().await;
    let id = w.sends().create(spec(), recipients(1)).await.unwrap();
    let held = SendLock::try_acquire(w.dir.path(), Some(42))
        .unwrap()
        .unwrap();

    let app = w.sends();
    app.share_lock_when_idle();
    let refused = app.start(id).await.unwrap_err();
    assert!(refused.to_string().contains("正在发送任务 42"), "{refused}");
    assert!(
        refused.message(crate::Lang::En).contains("sending job 42"),
        "{}",
        refused.message(crate::Lang::En)
    );

    let cli = w.sends();
    let mut told = None;
    let got = cli
        .acquire(LockWait::Up(Duration::from_millis(300)), |h| {
            told = h.cloned()
        })
        .await
        .unwrap();
    assert!(got.is_none(), "gave up after the wait");
    assert_eq!(
        told,
        Some(SendLockHolder {
            pid: std::process::id(),
            job_id: Some(42)
        })
    );
    assert_eq!(cli.job(id).await.unwrap().status, JobStatus::Draft);

    drop(held);
    assert!(
        cli.acquire(LockWait::Up(Duration::ZERO), |_| {})
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_holds_the_lock_only_while_a_job_of_its_sends_and_the_cli_keeps_it() {
    let w = World::new().await;
    let app = w.sends();
    app.share_lock_when_idle();
    let id = app.create_and_start(spec(), recipients(2)).await.unwrap();
    assert!(app.holds_lock().await);
    assert_eq!(
        who_sends(w.dir.path()).unwrap().map(|h| h.pid),
        Some(std::process::id())
    );
    // Sending: a settings change is refused and the lock stays.
    let refused = app.begin_settings_change().await.err().unwrap();
    assert!(
        refused.to_string().contains(&format!("任务 {id} 正在发送")),
        "{refused}"
    );

    w.gate.open.add_permits(2);
    assert_eq!(app.wait_idle(id).await.unwrap().counts.sent, 2);
    for _ in 0..200 {
        if who_sends(w.dir.path()).unwrap().is_none() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        who_sends(w.dir.path()).unwrap(),
        None,
        "idle: the lock is free"
    );

    // The CLI's host keeps it until the process ends.
    let cli = w.sends();
    let id2 = cli.create_and_start(spec(), recipients(1)).await.unwrap();
    w.gate.open.add_permits(1);
    cli.wait_idle(id2).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(cli.holds_lock().await);
    assert!(who_sends(w.dir.path()).unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_settings_change_drops_the_engine_and_the_lock_when_nothing_sends() {
    let w = World::new().await;
    let sends = w.sends();
    sends
        .acquire(LockWait::Up(Duration::ZERO), |_| {})
        .await
        .unwrap();
    assert!(sends.holds_lock().await);
    {
        let _change = sends.begin_settings_change().await.unwrap();
    }
    assert!(
        !sends.holds_lock().await,
        "the next use builds a new engine"
    );
    assert!(SendLock::try_acquire(w.dir.path(), None).unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_streams_while_the_job_runs_and_ends_with_the_stored_counts() {
    let w = World::new().await;
    let sends = w.sends();
    let id = sends.create_and_start(spec(), recipients(2)).await.unwrap();
    let mut watch = sends.watch(id).await.unwrap();
    let first = watch.next().await.unwrap();
    assert!(first.active);
    w.gate.open.add_permits(2);
    let mut last = first;
    while let Some(p) = watch.next().await {
        last = p;
    }
    assert!(!last.active);
    assert_eq!((last.sent, last.status), (2, Some(JobStatus::Completed)));
    // A job nobody here runs: its stored counts, once.
    let mut idle = sends.watch(id).await.unwrap();
    assert_eq!(
        idle.next().await.map(|p| (p.sent, p.active)),
        Some((2, false))
    );
    assert!(idle.next().await.is_none());
}

#[test]
fn the_send_lock_is_exclusive_and_names_its_holder() {
    let dir = tempfile::tempdir().unwrap();
    let mut held = SendLock::try_acquire(dir.path(), Some(7)).unwrap().unwrap();
    assert!(SendLock::try_acquire(dir.path(), None).unwrap().is_none());
    assert_eq!(
        who_sends(dir.path()).unwrap(),
        Some(SendLockHolder {
            pid: std::process::id(),
            job_id: Some(7)
        })
    );
    held.set_job(9).unwrap();
    assert_eq!(who_sends(dir.path()).unwrap().unwrap().job_id, Some(9));
    drop(held);
    assert_eq!(who_sends(dir.path()).unwrap(), None);
    assert!(SendLock::try_acquire(dir.path(), None).unwrap().is_some());
}
