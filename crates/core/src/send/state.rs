//! What the engine's handle and its runners share: the store and send API, the runner registry
//! (one control channel per running job), the progress channels, and per-account state (rate
//! limiter, token generation). The handle (`engine`) starts runners; a runner (`runner`) reads
//! and updates this state and never reaches back into the handle.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::sync::watch;

use super::EngineConfig;
use super::api::{SendApi, SendFailure};
use super::db;
use super::model::JobProgress;
use crate::store::Store;

pub(crate) type Limiter = DefaultDirectRateLimiter;

pub(crate) fn new_limiter(rate_per_sec: u32, burst: u32) -> Limiter {
    let rate = NonZeroU32::new(rate_per_sec).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(burst.min(rate_per_sec)).unwrap_or(NonZeroU32::MIN);
    RateLimiter::direct(Quota::per_second(rate).allow_burst(burst))
}

/// Whether a job's runner should keep claiming rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Control {
    Run,
    Stop,
}

/// Per-account state shared by all jobs of the account.
pub(crate) struct AccountState {
    pub limiter: Limiter,
    /// Bumped by each token refresh, so requests that failed with the old token trigger one
    /// refresh between them, not one each.
    pub token_generation: AtomicU64,
    pub(crate) refresh_lock: tokio::sync::Mutex<()>,
}

pub(crate) struct Inner {
    pub store: Store,
    pub api: Arc<dyn SendApi>,
    pub cfg: EngineConfig,
    runners: Mutex<HashMap<i64, watch::Sender<Control>>>,
    pub(crate) progress: Mutex<HashMap<i64, watch::Sender<JobProgress>>>,
    accounts: Mutex<HashMap<String, Arc<AccountState>>>,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Nothing here can be left half-updated by a panic; keep going with the data.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Inner {
    pub(crate) fn new(store: Store, api: Arc<dyn SendApi>, cfg: EngineConfig) -> Inner {
        Inner {
            store,
            api,
            cfg,
            runners: Mutex::new(HashMap::new()),
            progress: Mutex::new(HashMap::new()),
            accounts: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn account(&self, appid: &str) -> Arc<AccountState> {
        let mut accounts = lock(&self.accounts);
        Arc::clone(accounts.entry(appid.to_string()).or_insert_with(|| {
            Arc::new(AccountState {
                limiter: new_limiter(self.cfg.account_rate_per_sec, self.cfg.account_rate_per_sec),
                token_generation: AtomicU64::new(0),
                refresh_lock: tokio::sync::Mutex::new(()),
            })
        }))
    }

    /// Refreshes the account's token unless another request already did since `seen_generation`.
    pub(crate) async fn refresh_token(
        &self,
        appid: &str,
        account: &AccountState,
        seen_generation: u64,
    ) -> std::result::Result<(), SendFailure> {
        let _guard = account.refresh_lock.lock().await;
        if account.token_generation.load(Ordering::Acquire) != seen_generation {
            return Ok(());
        }
        self.api.refresh_token(appid).await?;
        account.token_generation.fetch_add(1, Ordering::AcqRel);
        Ok(())
    }

    pub(crate) fn publish(&self, p: JobProgress) {
        let mut map = lock(&self.progress);
        match map.get(&p.job_id) {
            Some(tx) => {
                tx.send_replace(p);
            }
            None => {
                map.insert(p.job_id, watch::channel(p).0);
            }
        }
    }

    pub(crate) async fn publish_from_db(&self, job_id: i64) {
        if let Ok(job) = self.store.call(move |c| db::load_job(c, job_id)).await {
            self.publish(JobProgress::from_job(&job));
        }
    }

    /// Tells a runner to stop claiming (it finishes its in-flight rows, then exits).
    pub(crate) fn stop_runner(&self, job_id: i64) {
        if let Some(tx) = lock(&self.runners).get(&job_id) {
            tx.send_replace(Control::Stop);
        }
    }

    pub(crate) fn runners_remove(&self, job_id: i64) {
        lock(&self.runners).remove(&job_id);
    }

    /// The runner leaves unless it was told something since it last looked; decided under the
    /// same lock that `ensure_runner` takes, so a resume never lands on a runner that is leaving.
    pub(crate) fn try_exit(&self, job_id: i64, ctl: &mut watch::Receiver<Control>) -> bool {
        let mut runners = lock(&self.runners);
        if ctl.has_changed().unwrap_or(false) {
            return false;
        }
        runners.remove(&job_id);
        true
    }

    pub(crate) fn is_running(&self, job_id: i64) -> bool {
        lock(&self.runners).contains_key(&job_id)
    }
}

impl Inner {
    /// The job's progress channel, when one exists.
    pub(crate) fn subscribe(&self, job_id: i64) -> Option<watch::Receiver<JobProgress>> {
        lock(&self.progress)
            .get(&job_id)
            .map(watch::Sender::subscribe)
    }

    /// The job's progress channel, made with `first` as its value when it does not exist yet.
    pub(crate) fn subscribe_or(
        &self,
        job_id: i64,
        first: impl FnOnce() -> JobProgress,
    ) -> watch::Receiver<JobProgress> {
        lock(&self.progress)
            .entry(job_id)
            .or_insert_with(|| watch::channel(first()).0)
            .subscribe()
    }

    /// The jobs a runner works on, in id order.
    pub(crate) fn active_jobs(&self) -> Vec<i64> {
        let mut ids: Vec<i64> = lock(&self.runners).keys().copied().collect();
        ids.sort_unstable();
        ids
    }

    /// Registers a runner for the job and returns its control channel; when one is alive, tells
    /// it to keep going and returns `None` (the caller starts a runner only on `Some`).
    pub(crate) fn register_or_wake(&self, job_id: i64) -> Option<watch::Receiver<Control>> {
        let mut runners = lock(&self.runners);
        if let Some(tx) = runners.get(&job_id) {
            tx.send_replace(Control::Run);
            return None;
        }
        let (tx, rx) = watch::channel(Control::Run);
        runners.insert(job_id, tx);
        Some(rx)
    }
}
