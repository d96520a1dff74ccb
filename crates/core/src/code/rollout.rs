//! Rollouts (批量发版) as durable jobs: written whole before they run, driven by one process at
//! a time (a lock file per rollout, released by the OS when the process dies, even by kill -9),
//! paused and cancelled through the database (so another process can do it), and streamed as
//! progress on a watch channel like the send engine's.
//!
//! Recovery: a rollout found `running` whose lock nobody holds was left by a process that
//! stopped; it is shown paused with the reason `interrupted`, and resuming it continues each
//! row from its state (see `runner` for why that never commits, submits or releases twice where
//! WeChat would mind).

use std::collections::HashMap;
use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;

use super::CodeError;
use super::db::{self, now_ms};
use super::model::{Pause, PauseCode, Rollout, RolloutProgress, RolloutStatus, RowState};
use super::runner::{StepCtx, StepOutcome};
use crate::error::Result;

/// The lock files' directory inside the data dir (shared with the token locks).
const LOCK_DIR: &str = "locks";

pub(crate) fn lock_path(data_dir: &Path, id: i64) -> PathBuf {
    data_dir
        .join(LOCK_DIR)
        .join(format!("code-rollout-{id}.lock"))
}

fn open_lock(path: &Path) -> Result<File> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| CodeError::Lock {
            detail: format!("{}: {e}", dir.display()),
        })?;
    }
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|e| {
            CodeError::Lock {
                detail: format!("{}: {e}", path.display()),
            }
            .into()
        })
}

/// Takes the rollout's lock; `None` when another holder has it.
pub(crate) fn try_lock(data_dir: &Path, id: i64) -> Result<Option<File>> {
    let f = open_lock(&lock_path(data_dir, id))?;
    match f.try_lock() {
        Ok(()) => Ok(Some(f)),
        Err(TryLockError::WouldBlock) => Ok(None),
        Err(TryLockError::Error(e)) => Err(CodeError::Lock {
            detail: e.to_string(),
        }
        .into()),
    }
}

/// Whether some process (this one included) drives the rollout now.
pub(crate) fn is_locked(data_dir: &Path, id: i64) -> Result<bool> {
    // Taking and dropping the lock at once: a free lock stays free.
    Ok(try_lock(data_dir, id)?.is_none())
}

/// A runner's stop signal and its "finished" flag.
type Slot = (watch::Sender<bool>, watch::Receiver<bool>);

/// The runners of this process and the progress channels.
#[derive(Default)]
pub(crate) struct Host {
    /// By rollout.
    running: Mutex<HashMap<i64, Slot>>,
    progress: Mutex<HashMap<i64, watch::Sender<RolloutProgress>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Host {
    pub(crate) fn is_running(&self, id: i64) -> bool {
        lock(&self.running).contains_key(&id)
    }

    pub(crate) fn stop(&self, id: i64) {
        if let Some((stop, _)) = lock(&self.running).get(&id) {
            stop.send_replace(true);
        }
    }

    pub(crate) fn finished(&self, id: i64) -> Option<watch::Receiver<bool>> {
        lock(&self.running).get(&id).map(|(_, f)| f.clone())
    }

    pub(crate) fn publish(&self, p: RolloutProgress) {
        let mut map = lock(&self.progress);
        match map.get(&p.rollout_id) {
            Some(tx) => {
                tx.send_replace(p);
            }
            None => {
                map.insert(p.rollout_id, watch::channel(p).0);
            }
        }
    }

    pub(crate) fn subscribe(&self, p: RolloutProgress) -> watch::Receiver<RolloutProgress> {
        let mut map = lock(&self.progress);
        map.entry(p.rollout_id)
            .or_insert_with(|| watch::channel(p).0)
            .subscribe()
    }

    fn quota_of(&self, id: i64) -> Option<super::AuditQuota> {
        lock(&self.progress)
            .get(&id)
            .and_then(|tx| tx.borrow().quota)
    }
}

pub(crate) fn progress_of(r: &Rollout, quota: Option<super::AuditQuota>) -> RolloutProgress {
    RolloutProgress {
        rollout_id: r.id,
        status: r.status,
        pause: r.pause.clone(),
        counts: r.counts.clone(),
        quota,
    }
}

/// Registers a runner for `id` holding `lock_file`, and runs it in the background.
pub(crate) fn spawn(host: Arc<Host>, ctx: StepCtx, lock_file: File) {
    let id = ctx.rollout.id;
    let (stop_tx, stop_rx) = watch::channel(false);
    let (done_tx, done_rx) = watch::channel(false);
    lock(&host.running).insert(id, (stop_tx, done_rx));
    tokio::spawn(async move {
        let store = ctx.store.clone();
        if let Err(e) = run(&host, &ctx, stop_rx).await {
            tracing::warn!(rollout = id, error = %e, "rollout stopped on an error");
            let pause = Pause {
                code: PauseCode::Error,
                detail: e.to_string(),
            };
            let _ = store
                .call(move |c| db::pause_if_running(c, id, &pause))
                .await;
        }
        // A cancel written while this runner held the lock left the rows to it: whichever way
        // the loop ended, a cancelled rollout has no open rows.
        let target = ctx.rollout.target;
        let _ = store
            .call(move |c| match db::load(c, id)? {
                Some(r) if r.status == RolloutStatus::Cancelled => {
                    db::cancel_rows(c, id, target).map(|_| ())
                }
                _ => Ok(()),
            })
            .await;
        if let Ok(Some(r)) = store.call(move |c| db::load(c, id)).await {
            host.publish(progress_of(&r, ctx.quota_now()));
        }
        lock(&host.running).remove(&id);
        // The lock goes only after the state is written, so a successor sees it.
        drop(lock_file);
        done_tx.send_replace(true);
    });
}

impl StepCtx {
    fn quota_now(&self) -> Option<super::AuditQuota> {
        *self.quota.lock().unwrap_or_else(|p| p.into_inner())
    }
}

async fn run(host: &Host, ctx: &StepCtx, mut stop: watch::Receiver<bool>) -> Result<()> {
    let id = ctx.rollout.id;
    let target = ctx.rollout.target;
    let store = &ctx.store;
    loop {
        let r = store
            .call(move |c| db::load(c, id))
            .await?
            .ok_or(CodeError::RolloutNotFound { id })?;
        match r.status {
            RolloutStatus::Running if *stop.borrow() => {
                let pause = Pause {
                    code: PauseCode::Operator,
                    detail: String::new(),
                };
                // Only if still running: the status read above may be stale by now (a cancel
                // writes `cancelled` and then signals the stop).
                if store
                    .call(move |c| db::pause_if_running(c, id, &pause))
                    .await?
                {
                    return Ok(());
                }
                continue;
            }
            RolloutStatus::Running => {}
            RolloutStatus::Cancelled => {
                store.call(move |c| db::cancel_rows(c, id, target)).await?;
                return Ok(());
            }
            // Paused (or finished) from elsewhere: leave.
            _ => return Ok(()),
        }
        let rows = store.call(move |c| db::rows(c, id)).await?;
        let open: Vec<db::RunRow> = rows
            .into_iter()
            .filter(|x| !x.row.state.is_terminal_for(target))
            .collect();
        if open.is_empty() {
            store
                .call(move |c| db::set_status(c, id, RolloutStatus::Completed, None))
                .await?;
            return Ok(());
        }
        let now = now_ms();
        let due: Vec<db::RunRow> = open
            .iter()
            .filter(|x| x.next_at <= now)
            .take(ctx.cfg.concurrency.max(1))
            .cloned()
            .collect();
        if due.is_empty() {
            // Nothing due: sleep until the next row is, but look again at least every second
            // (an audit push recorded by the feed moves rows without telling this loop).
            let next = open.iter().map(|x| x.next_at).min().unwrap_or(now);
            let wait =
                Duration::from_millis(u64::try_from((next - now).clamp(20, 1000)).unwrap_or(1000));
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                _ = stop.changed() => {}
            }
            continue;
        }
        let outcomes = futures::future::join_all(due.iter().map(|x| ctx.step(x))).await;
        let mut pause = None;
        for o in outcomes {
            match o? {
                StepOutcome::Done => {}
                StepOutcome::Pause(p) => pause = pause.or(Some(p)),
            }
        }
        if let Some(p) = pause {
            if store.call(move |c| db::pause_if_running(c, id, &p)).await? {
                return Ok(());
            }
            continue;
        }
        if let Some(r) = store.call(move |c| db::load(c, id)).await? {
            host.publish(progress_of(
                &r,
                ctx.quota_now().or_else(|| host.quota_of(id)),
            ));
        }
    }
}

/// Rows whose next step submits an audit (the quota matters for them).
pub(crate) fn needs_audit(state: RowState) -> bool {
    matches!(
        state,
        RowState::Pending | RowState::Committing | RowState::Committed | RowState::Submitting
    )
}
