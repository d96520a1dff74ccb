//! The send engine's handle: creates durable jobs, starts/pauses/resumes/cancels them, recovers
//! after a crash, and streams progress. The per-job loop is in `runner`.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use rand::Rng;
use serde::Serialize;
use tokio::sync::watch;

use super::api::{SendApi, SendFailure};
use super::db::{self, NewJob, NewRow, now_secs};
use super::model::{Job, JobProgress, JobSpec, JobStatus, Recipient, RecipientState};
use super::render::build_request;
use super::{EngineConfig, runner};
use crate::error::{Error, Result};
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
    refresh_lock: tokio::sync::Mutex<()>,
}

pub(crate) struct Inner {
    pub store: Store,
    pub api: Arc<dyn SendApi>,
    pub cfg: EngineConfig,
    runners: Mutex<HashMap<i64, watch::Sender<Control>>>,
    progress: Mutex<HashMap<i64, watch::Sender<JobProgress>>>,
    accounts: Mutex<HashMap<String, Arc<AccountState>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Nothing here can be left half-updated by a panic; keep going with the data.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Inner {
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

    fn is_running(&self, job_id: i64) -> bool {
        lock(&self.runners).contains_key(&job_id)
    }
}

/// A cheap, cloneable handle on the engine.
#[derive(Clone)]
pub struct SendEngine {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for SendEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SendEngine")
            .field("cfg", &self.inner.cfg)
            .finish_non_exhaustive()
    }
}

/// What `recover_on_start` found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RecoverReport {
    /// Rows that were in flight when the process stopped, now `uncertain`.
    pub uncertain_rows: u64,
    /// Jobs that were running and have been resumed.
    pub resumed_jobs: Vec<i64>,
}

/// What `resend_uncertain` did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ResendReport {
    pub rows: u64,
    /// Rows whose last attempt is older than WeChat's 10-minute client_msg_id window: if that
    /// attempt did arrive, this resend duplicates it.
    pub outside_dedup_window: u64,
}

/// WeChat keeps a client_msg_id for 10 minutes (protocol C.6).
pub const CLIENT_MSG_ID_WINDOW_SECS: i64 = 600;

impl SendEngine {
    pub fn new(store: Store, api: Arc<dyn SendApi>, cfg: EngineConfig) -> SendEngine {
        SendEngine {
            inner: Arc::new(Inner {
                store,
                api,
                cfg,
                runners: Mutex::new(HashMap::new()),
                progress: Mutex::new(HashMap::new()),
                accounts: Mutex::new(HashMap::new()),
            }),
        }
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// Writes a job (status `draft`) and all its recipients, in transactions of
    /// `cfg.create_chunk` rows, before anything is sent: memory stays flat for a million rows.
    /// Duplicate openids, missing variables and values WeChat would refuse are stored as
    /// `skipped` with the reason. Call [`SendEngine::start`] to send.
    pub async fn create_job<I>(&self, spec: JobSpec, recipients: I) -> Result<i64>
    where
        I: IntoIterator<Item = Recipient>,
    {
        validate_spec(&spec)?;
        let cfg = &self.inner.cfg;
        let payload_json = serde_json::to_string(&spec.payload)
            .map_err(|e| Error::Invalid(format!("消息内容无法序列化：{e}")))?;
        let nonce = format!("{:06x}", rand::rng().random_range(0..0x100_0000u32));
        let kind = spec.payload.kind();
        let (appid, title, template_id) = (
            spec.appid.clone(),
            spec.title.clone(),
            spec.payload.template_id().to_string(),
        );
        let concurrency = spec.concurrency.unwrap_or(cfg.concurrency).clamp(1, 500);
        let rate = spec
            .rate_per_sec
            .unwrap_or(cfg.rate_per_sec)
            .clamp(1, 100_000);
        let attempts = spec.max_attempts.unwrap_or(cfg.max_attempts).clamp(1, 20);
        let job = self
            .inner
            .store
            .call(move |c| {
                let id = db::insert_job(
                    c,
                    &NewJob {
                        appid: &appid,
                        kind,
                        template_id: &template_id,
                        title: &title,
                        payload_json: &payload_json,
                        nonce: &nonce,
                        concurrency,
                        rate_per_sec: rate,
                        max_attempts: attempts,
                        copied_from: None,
                    },
                    now_secs(),
                )?;
                db::load_job(c, id)
            })
            .await?;
        let job = Arc::new(job);
        self.write_recipients(&job, &spec, recipients, Dedup::new())
            .await?;
        Ok(job.id)
    }

    /// Writes the recipients of a new job in transactions of `cfg.create_chunk` rows.
    async fn write_recipients<I>(
        &self,
        job: &Arc<Job>,
        spec: &JobSpec,
        recipients: I,
        mut dedup: Dedup,
    ) -> Result<()>
    where
        I: IntoIterator<Item = Recipient>,
    {
        let cfg = &self.inner.cfg;
        let mut seq = 0i64;
        let mut iter = recipients.into_iter();
        loop {
            let mut chunk = Vec::with_capacity(cfg.create_chunk.min(8192));
            for r in iter.by_ref().take(cfg.create_chunk.max(1)) {
                chunk.push(prepare_row(job, spec, &mut dedup, seq, r));
                seq += 1;
            }
            if chunk.is_empty() {
                return Ok(());
            }
            let j = Arc::clone(job);
            self.inner
                .store
                .call(move |c| {
                    let tx = c.transaction()?;
                    db::insert_rows(&tx, &j, &chunk, now_secs())?;
                    tx.commit()?;
                    Ok(())
                })
                .await?;
        }
    }

    /// [`SendEngine::create_job`] then [`SendEngine::start`].
    pub async fn create_and_start<I>(&self, spec: JobSpec, recipients: I) -> Result<i64>
    where
        I: IntoIterator<Item = Recipient>,
    {
        let id = self.create_job(spec, recipients).await?;
        self.start(id).await?;
        Ok(id)
    }

    pub async fn job(&self, job_id: i64) -> Result<Job> {
        self.inner
            .store
            .call(move |c| db::load_job(c, job_id))
            .await
    }

    /// Starts a draft (or paused) job.
    pub async fn start(&self, job_id: i64) -> Result<()> {
        self.set_running(
            job_id,
            &[JobStatus::Draft, JobStatus::Paused, JobStatus::PausedQuota],
        )
        .await
    }

    /// Resumes a paused job (by the operator, or after the quota reset / was cleared).
    pub async fn resume(&self, job_id: i64) -> Result<()> {
        self.set_running(
            job_id,
            &[
                JobStatus::Paused,
                JobStatus::PausedQuota,
                JobStatus::Running,
            ],
        )
        .await
    }

    /// Stops claiming rows; in-flight requests finish and are recorded.
    pub async fn pause(&self, job_id: i64) -> Result<()> {
        let job = self.job(job_id).await?;
        if job.status != JobStatus::Running {
            return Err(Error::Invalid(format!("任务 {job_id} 未在运行，无法暂停")));
        }
        self.inner
            .store
            .call(move |c| db::set_status(c, job_id, JobStatus::Paused, "", now_secs()))
            .await?;
        self.inner.stop_runner(job_id);
        self.inner.publish_from_db(job_id).await;
        Ok(())
    }

    /// Cancels the pending rows; in-flight requests finish and are recorded.
    pub async fn cancel(&self, job_id: i64) -> Result<()> {
        let job = self.job(job_id).await?;
        if job.status.is_finished() {
            return Err(Error::Invalid(format!("任务 {job_id} 已结束，无法取消")));
        }
        self.inner
            .store
            .call(move |c| {
                let now = now_secs();
                let tx = c.transaction()?;
                db::set_status(&tx, job_id, JobStatus::Cancelled, "", now)?;
                db::cancel_pending(&tx, job_id, now)?;
                tx.commit()?;
                Ok(())
            })
            .await?;
        self.inner.stop_runner(job_id);
        self.inner.publish_from_db(job_id).await;
        Ok(())
    }

    /// Sends the failed rows again: those that failed after retries, and with
    /// `include_permanent` also those WeChat refused. Returns how many rows will be sent.
    pub async fn retry_failed(&self, job_id: i64, include_permanent: bool) -> Result<u64> {
        let mut states = vec![RecipientState::FailedRetryable];
        if include_permanent {
            states.push(RecipientState::FailedPermanent);
        }
        let n = self.reset_and_run(job_id, states).await?;
        Ok(n)
    }

    /// The operator's decision to send the `uncertain` rows again. With the same client_msg_id,
    /// WeChat drops a resend of one that did arrive within 10 minutes; the report counts the rows
    /// outside that window.
    pub async fn resend_uncertain(&self, job_id: i64) -> Result<ResendReport> {
        let cutoff = now_secs() - CLIENT_MSG_ID_WINDOW_SECS;
        let job = self.job(job_id).await?;
        let outside: i64 = if job.kind.is_idempotent() {
            self.inner
                .store
                .call(move |c| {
                    Ok(c.query_row(
                        "SELECT count(*) FROM send_recipients WHERE job_id = ?1 AND state = 'uncertain' \
                         AND coalesce(attempted_at, 0) < ?2",
                        rusqlite::params![job_id, cutoff],
                        |r| r.get(0),
                    )?)
                })
                .await?
        } else {
            job.counts.uncertain as i64
        };
        let rows = self
            .reset_and_run(job_id, vec![RecipientState::Uncertain])
            .await?;
        Ok(ResendReport {
            rows,
            outside_dedup_window: outside.max(0) as u64,
        })
    }

    /// A new draft job with the same message, settings and recipient list.
    pub async fn copy_as_new_job(&self, job_id: i64) -> Result<i64> {
        self.inner
            .store
            .call(move |c| {
                let now = now_secs();
                let old = db::load_job(c, job_id)?;
                let tx = c.transaction()?;
                let payload_json = serde_json::to_string(&old.payload)
                    .map_err(|e| Error::Invalid(format!("消息内容无法序列化：{e}")))?;
                let nonce = format!("{:06x}", rand::rng().random_range(0..0x100_0000u32));
                let id = db::insert_job(
                    &tx,
                    &NewJob {
                        appid: &old.appid,
                        kind: old.kind,
                        template_id: &old.template_id,
                        title: &old.title,
                        payload_json: &payload_json,
                        nonce: &nonce,
                        concurrency: old.concurrency,
                        rate_per_sec: old.rate_per_sec,
                        max_attempts: old.max_attempts,
                        copied_from: Some(old.id),
                    },
                    now,
                )?;
                // Rows skipped for a reason stay skipped (same list, same message, same reason).
                tx.execute(
                    "INSERT INTO send_recipients (job_id, seq, appid, kind, template_id, openid, vars, \
                     state, errmsg, done_at, created_at) \
                     SELECT ?1, seq, appid, kind, template_id, openid, vars, \
                            CASE WHEN state = 'skipped' THEN 'skipped' ELSE 'pending' END, \
                            CASE WHEN state = 'skipped' THEN errmsg END, \
                            CASE WHEN state = 'skipped' THEN ?3 END, ?3 \
                     FROM send_recipients WHERE job_id = ?2 ORDER BY seq",
                    rusqlite::params![id, job_id, now],
                )?;
                db::recount(&tx, id)?;
                tx.commit()?;
                Ok(id)
            })
            .await
    }

    /// On start-up: rows left in flight by a crash become `uncertain` (never resent without the
    /// operator), then the jobs that were running continue.
    pub async fn recover_on_start(&self) -> Result<RecoverReport> {
        let (moved, running) = self
            .inner
            .store
            .call(|c| {
                let tx = c.transaction()?;
                let moved = db::in_flight_to_uncertain(&tx, now_secs())?;
                tx.commit()?;
                Ok((moved, db::jobs_with_status(c, JobStatus::Running)?))
            })
            .await?;
        for (job_id, n) in &moved {
            tracing::warn!(
                job_id,
                rows = n,
                "rows in flight at the last exit are now uncertain"
            );
        }
        for &id in &running {
            self.ensure_runner(id);
        }
        let mut resumed_jobs = running;
        resumed_jobs.extend(self.resume_after_quota_reset().await?);
        Ok(RecoverReport {
            uncertain_rows: moved.iter().map(|(_, n)| n).sum(),
            resumed_jobs,
        })
    }

    /// Resumes jobs paused by 45009 on an earlier (Beijing) day: WeChat's daily quotas reset at
    /// midnight Beijing time. Called by `recover_on_start` and meant for an hourly timer.
    pub async fn resume_after_quota_reset(&self) -> Result<Vec<i64>> {
        let ids: Vec<i64> = self
            .inner
            .store
            .call(|c| {
                let mut stmt = c.prepare(
                    "SELECT id FROM send_jobs WHERE status = 'paused_quota' \
                     AND date(updated_at, 'unixepoch', '+8 hours') < date('now', '+8 hours') ORDER BY id",
                )?;
                let ids = stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<Vec<i64>>>()?;
                Ok(ids)
            })
            .await?;
        for &id in &ids {
            self.resume(id).await?;
        }
        Ok(ids)
    }

    /// Progress of a job, updated as outcomes are recorded.
    pub async fn subscribe(&self, job_id: i64) -> Result<watch::Receiver<JobProgress>> {
        if let Some(tx) = lock(&self.inner.progress).get(&job_id) {
            return Ok(tx.subscribe());
        }
        let job = self.job(job_id).await?;
        let mut map = lock(&self.inner.progress);
        let tx = map
            .entry(job_id)
            .or_insert_with(|| watch::channel(JobProgress::from_job(&job)).0);
        Ok(tx.subscribe())
    }

    /// Whether a runner is working on the job in this process.
    pub fn is_active(&self, job_id: i64) -> bool {
        self.inner.is_running(job_id)
    }

    /// The jobs a runner is working on in this process, in id order.
    pub fn active_jobs(&self) -> Vec<i64> {
        let mut ids: Vec<i64> = lock(&self.inner.runners).keys().copied().collect();
        ids.sort_unstable();
        ids
    }

    /// Waits until no runner works on the job (completed, paused or cancelled), and returns it.
    pub async fn wait_idle(&self, job_id: i64) -> Result<Job> {
        let mut rx = self.subscribe(job_id).await?;
        while self.inner.is_running(job_id) {
            let _ = tokio::time::timeout(std::time::Duration::from_millis(50), rx.changed()).await;
        }
        self.job(job_id).await
    }

    async fn set_running(&self, job_id: i64, from: &[JobStatus]) -> Result<()> {
        let job = self.job(job_id).await?;
        if !from.contains(&job.status) {
            return Err(Error::Invalid(format!(
                "任务 {job_id} 当前状态为「{}」，不能开始",
                job.status.as_str()
            )));
        }
        self.inner
            .store
            .call(move |c| db::set_status(c, job_id, JobStatus::Running, "", now_secs()))
            .await?;
        self.ensure_runner(job_id);
        Ok(())
    }

    async fn reset_and_run(&self, job_id: i64, states: Vec<RecipientState>) -> Result<u64> {
        let job = self.job(job_id).await?;
        if job.status == JobStatus::Cancelled {
            return Err(Error::Invalid(format!(
                "任务 {job_id} 已取消；请「复制为新任务」后再发送"
            )));
        }
        let n = self
            .inner
            .store
            .call(move |c| {
                let now = now_secs();
                let tx = c.transaction()?;
                let n = db::reset_rows(&tx, &job, &states, now)?;
                if n > 0 && job.status != JobStatus::Paused && job.status != JobStatus::PausedQuota
                {
                    db::set_status(&tx, job.id, JobStatus::Running, "", now)?;
                }
                tx.commit()?;
                Ok(n)
            })
            .await?;
        if n > 0 && self.job(job_id).await?.status == JobStatus::Running {
            self.ensure_runner(job_id);
        }
        self.inner.publish_from_db(job_id).await;
        Ok(n)
    }

    /// Starts a runner for the job unless one is alive; a live one is told to keep going.
    fn ensure_runner(&self, job_id: i64) {
        let mut runners = lock(&self.inner.runners);
        if let Some(tx) = runners.get(&job_id) {
            tx.send_replace(Control::Run);
            return;
        }
        let (tx, rx) = watch::channel(Control::Run);
        runners.insert(job_id, tx);
        drop(runners);
        tokio::spawn(runner::run(Arc::clone(&self.inner), job_id, rx));
    }
}

fn validate_spec(spec: &JobSpec) -> Result<()> {
    if spec.appid.trim().is_empty() {
        return Err(Error::Invalid("请选择发送账号".into()));
    }
    use super::model::JobKind as K;
    let needs_template = matches!(spec.payload.kind(), K::Template | K::Subscribe | K::Uniform);
    if needs_template && spec.payload.template_id().trim().is_empty() {
        return Err(Error::Invalid("请选择模板".into()));
    }
    Ok(())
}

fn prepare_row(job: &Job, spec: &JobSpec, dedup: &mut Dedup, seq: i64, r: Recipient) -> NewRow {
    let openid = r.openid.trim().to_string();
    let vars_json = serde_json::to_string(&r.vars).unwrap_or_else(|_| "{}".into());
    let (skip_reason, maybe_duplicate) = if openid.is_empty() {
        (Some("openid 为空（empty openid）".to_string()), false)
    } else {
        let maybe_duplicate = dedup.maybe_seen(&openid);
        let problem = build_request(&job.payload, &spec.field_rules, &openid, &r.vars, "")
            .err()
            .map(|p| p.message());
        (problem, maybe_duplicate)
    };
    NewRow {
        seq,
        openid,
        vars_json,
        skip_reason,
        maybe_duplicate,
    }
}

/// The openids a job being written has had. Holds a 64-bit hash per recipient instead of the
/// openid (8 bytes each: a million-row job stays small); a hash seen before only marks the row
/// as a possible duplicate, and `db::insert_rows` compares the openids themselves, so a hash
/// collision never skips a real recipient.
pub(crate) struct Dedup {
    seen: HashSet<u64>,
    hash: fn(&str) -> u64,
}

impl Dedup {
    fn new() -> Dedup {
        Dedup::with_hash(hash_of)
    }

    fn with_hash(hash: fn(&str) -> u64) -> Dedup {
        Dedup {
            seen: HashSet::new(),
            hash,
        }
    }

    /// Whether this openid may have been seen before (its hash was).
    fn maybe_seen(&mut self, openid: &str) -> bool {
        !self.seen.insert((self.hash)(openid))
    }
}

fn hash_of(s: &str) -> u64 {
    let mut h = DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}

#[cfg(test)]
impl SendEngine {
    pub(crate) fn inner(&self) -> &Arc<Inner> {
        &self.inner
    }
}

#[cfg(test)]
impl Inner {
    /// Registers a runner for the job as `ensure_runner` does, without starting one.
    pub(crate) fn register_runner(&self, job_id: i64) -> watch::Receiver<Control> {
        let (tx, rx) = watch::channel(Control::Run);
        lock(&self.runners).insert(job_id, tx);
        rx
    }
}

#[cfg(test)]
#[path = "engine_tests.rs"]
pub(crate) mod tests;
