//! [`JobWatch`]: a job's progress as [`super::host::Sends::watch`] gives it — from the runner
//! of this process, from the stored job once, or from the team server by long poll.

use std::time::Duration;

use tokio::sync::watch;

use super::engine::SendEngine;
use super::model::JobProgress;
use super::team::RemoteWatch;

/// A job's progress reports, as [`Sends::watch`] gives them.
pub struct JobWatch {
    pub(super) job_id: i64,
    pub(super) engine: Option<SendEngine>,
    pub(super) rx: Option<watch::Receiver<JobProgress>>,
    pub(super) first: Option<JobProgress>,
    pub(super) started: bool,
    pub(super) ended: bool,
    /// A team server's job: its reports by long poll, after `first`.
    pub(super) remote: Option<RemoteWatch>,
}

impl JobWatch {
    /// The current report at once, then one per change (at least every second, so the end is
    /// seen); the last one has `active == false`, then `None`.
    pub async fn next(&mut self) -> Option<JobProgress> {
        if self.ended {
            return None;
        }
        if let Some(p) = self.first.take() {
            self.ended = self.remote.is_none();
            return Some(p);
        }
        if let Some(r) = &mut self.remote {
            let p = r.next().await;
            self.ended = p.as_ref().is_none_or(|p| !p.active);
            return p;
        }
        let (Some(engine), Some(rx)) = (&self.engine, &mut self.rx) else {
            self.ended = true;
            return None;
        };
        if self.started {
            // Wake on a change, and at least every second so `active` turning false is seen.
            let _ = tokio::time::timeout(Duration::from_secs(1), rx.changed()).await;
        }
        self.started = true;
        let mut p = rx.borrow_and_update().clone();
        p.active = engine.is_active(self.job_id);
        if !p.active {
            self.ended = true;
            // The runner's last report may lag the stored end state by a moment.
            if let Ok(job) = engine.job(self.job_id).await {
                p = JobProgress::from_job(&job);
            }
        }
        Some(p)
    }
}
