//! The send engine's handle: creates durable jobs, starts/pauses/resumes/cancels them, recovers
//! after a crash, and streams progress. The per-job loop is in `runner`.

use std::collections::HashSet;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use rand::Rng;
use serde::Serialize;
use tokio::sync::watch;

use super::api::SendApi;
use super::db::{self, NewJob, NewRow, now_secs};
use super::model::{Job, JobProgress, JobPurpose, JobSpec, JobStatus, Recipient, RecipientState};
use super::reason::PauseReason;
use super::render::recipient_request;
use super::state::Inner;
use super::{EngineConfig, runner};
use crate::error::{Error, Result};
use crate::store::Store;

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

/// What recovery found and did when a process took the send lock.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RecoverReport {
    /// Rows that were in flight when the last sender stopped, now `uncertain`.
    pub uncertain_rows: u64,
    /// Jobs that were running when their sender stopped, now paused (`interrupted`).
    pub interrupted_jobs: Vec<i64>,
}

/// What `resend_uncertain` did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ResendReport {
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub rows: u64,
    /// Rows whose last attempt is older than WeChat's 10-minute client_msg_id window: if that
    /// attempt did arrive, this resend duplicates it.
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub outside_dedup_window: u64,
}

/// WeChat keeps a client_msg_id for 10 minutes (protocol C.6).
pub const CLIENT_MSG_ID_WINDOW_SECS: i64 = 600;

impl SendEngine {
    pub fn new(store: Store, api: Arc<dyn SendApi>, cfg: EngineConfig) -> SendEngine {
        SendEngine {
            inner: Arc::new(Inner::new(store, api, cfg)),
        }
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The API this engine sends through.
    pub fn api(&self) -> Arc<dyn SendApi> {
        Arc::clone(&self.inner.api)
    }

    pub fn config(&self) -> &EngineConfig {
        &self.inner.cfg
    }

    /// Writes a job (status `draft`) and all its recipients, in transactions of
    /// `cfg.create_chunk` rows, before anything is sent: memory stays flat for a million rows.
    /// Duplicate openids, missing variables and values WeChat would refuse are stored as
    /// `skipped` with the reason. Call [`SendEngine::start`] to send.
    pub async fn create_job<I>(&self, spec: JobSpec, recipients: I) -> Result<i64>
    where
        I: IntoIterator<Item = Recipient>,
    {
        self.create_job_as(spec, JobPurpose::Plain, recipients)
            .await
    }

    /// [`SendEngine::create_job`] for a job wxdesk names by its purpose (a test send, a
    /// customer-service message): `spec.title` holds only the operator's part.
    pub async fn create_job_as<I>(
        &self,
        spec: JobSpec,
        purpose: JobPurpose,
        recipients: I,
    ) -> Result<i64>
    where
        I: IntoIterator<Item = Recipient>,
    {
        validate_spec(&spec)?;
        let cfg = &self.inner.cfg;
        let payload_json = serde_json::to_string(&spec.payload).map_err(unserializable)?;
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
            .unwrap_or_else(|| cfg.rate_for(concurrency))
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
                        purpose,
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
            return Err(Error::input(
                format!("任务 {job_id} 未在运行，无法暂停"),
                format!("Job {job_id} is not running, so it cannot be paused"),
            ));
        }
        self.inner
            .store
            .call(move |c| {
                let why = PauseReason::Operator;
                let tx = c.transaction()?;
                db::pause_if_running(&tx, job_id, JobStatus::Paused, &why, now_secs())?;
                db::recount(&tx, job_id)?;
                tx.commit()?;
                Ok(())
            })
            .await?;
        self.inner.stop_runner(job_id);
        self.inner.publish_from_db(job_id).await;
        Ok(())
    }

    /// Cancels the pending rows; in-flight requests finish and are recorded.
    pub async fn cancel(&self, job_id: i64) -> Result<()> {
        let job = self.job(job_id).await?;
        if job.status.is_finished() {
            return Err(Error::input(
                format!("任务 {job_id} 已结束，无法取消"),
                format!("Job {job_id} has ended, so it cannot be cancelled"),
            ));
        }
        self.inner
            .store
            .call(move |c| {
                let now = now_secs();
                let tx = c.transaction()?;
                db::set_status(&tx, job_id, JobStatus::Cancelled, None, now)?;
                db::cancel_pending(&tx, job_id, now)?;
                db::recount(&tx, job_id)?;
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
                let payload_json = serde_json::to_string(&old.payload).map_err(unserializable)?;
                let nonce = format!("{:06x}", rand::rng().random_range(0..0x100_0000u32));
                let id = db::insert_job(
                    &tx,
                    &NewJob {
                        appid: &old.appid,
                        kind: old.kind,
                        template_id: &old.template_id,
                        title: &old.title,
                        purpose: old.purpose,
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

    /// The recovery policy's database half (stated in `send::host`, which calls this right after
    /// taking the send lock, so no other engine works on this database): rows left in flight by
    /// a sender that stopped become `uncertain` (never resent without the operator), and jobs
    /// that were running are paused as [`PauseReason::Interrupted`], in one transaction.
    pub(crate) async fn recover(&self) -> Result<RecoverReport> {
        let (moved, interrupted) = self
            .inner
            .store
            .call(|c| {
                let now = now_secs();
                let tx = c.transaction()?;
                let moved = db::in_flight_to_uncertain(&tx, now)?;
                let running = db::jobs_with_status(&tx, JobStatus::Running)?;
                for &id in &running {
                    db::pause_if_running(
                        &tx,
                        id,
                        JobStatus::Paused,
                        &PauseReason::Interrupted,
                        now,
                    )?;
                }
                tx.commit()?;
                Ok((moved, running))
            })
            .await?;
        for (job_id, n) in &moved {
            tracing::warn!(
                job_id,
                rows = n,
                "rows in flight when the last sender stopped are now uncertain"
            );
        }
        for &id in &interrupted {
            tracing::warn!(
                job_id = id,
                "job running when its sender stopped: paused, interrupted"
            );
            self.inner.publish_from_db(id).await;
        }
        Ok(RecoverReport {
            uncertain_rows: moved.iter().map(|(_, n)| n).sum(),
            interrupted_jobs: interrupted,
        })
    }

    /// Resumes jobs paused by 45009 on an earlier (Beijing) day: WeChat's daily quotas reset at
    /// midnight Beijing time. The long-lived host's hourly timer calls it (`send::host`).
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
        if let Some(rx) = self.inner.subscribe(job_id) {
            return Ok(rx);
        }
        let job = self.job(job_id).await?;
        Ok(self
            .inner
            .subscribe_or(job_id, || JobProgress::from_job(&job)))
    }

    /// Whether a runner is working on the job in this process.
    pub fn is_active(&self, job_id: i64) -> bool {
        self.inner.is_running(job_id)
    }

    /// The jobs a runner is working on in this process, in id order.
    pub fn active_jobs(&self) -> Vec<i64> {
        self.inner.active_jobs()
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
            return Err(Error::input(
                format!(
                    "任务 {job_id} 当前状态为「{}」，不能开始",
                    job.status.as_str()
                ),
                format!(
                    "Job {job_id} is {}, so it cannot be started",
                    job.status.as_str()
                ),
            ));
        }
        self.inner
            .store
            .call(move |c| db::set_status(c, job_id, JobStatus::Running, None, now_secs()))
            .await?;
        // Watchers see 发送中 at once, not when the runner's first batch lands (a job whose rows
        // all wait for a retry time would show 已暂停 until then).
        self.inner.publish_from_db(job_id).await;
        self.ensure_runner(job_id);
        Ok(())
    }

    async fn reset_and_run(&self, job_id: i64, states: Vec<RecipientState>) -> Result<u64> {
        let job = self.job(job_id).await?;
        if job.status == JobStatus::Cancelled {
            return Err(Error::input(
                format!("任务 {job_id} 已取消；请「复制为新任务」后再发送"),
                format!("Job {job_id} was cancelled: copy it as a new job to send again"),
            ));
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
                    db::set_status(&tx, job.id, JobStatus::Running, None, now)?;
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
        if let Some(rx) = self.inner.register_or_wake(job_id) {
            tokio::spawn(runner::run(Arc::clone(&self.inner), job_id, rx));
        }
    }
}

fn unserializable(e: serde_json::Error) -> Error {
    Error::input(
        format!("消息内容无法序列化：{e}"),
        format!("The message cannot be serialized: {e}"),
    )
}

pub(crate) fn validate_spec(spec: &JobSpec) -> Result<()> {
    if spec.appid.trim().is_empty() {
        return Err(Error::input(
            "请选择发送账号",
            "Choose the account that sends",
        ));
    }
    use super::model::JobKind as K;
    let needs_template = matches!(spec.payload.kind(), K::Template | K::Subscribe | K::Uniform);
    if needs_template && spec.payload.template_id().trim().is_empty() {
        return Err(Error::input("请选择模板", "Choose a template"));
    }
    Ok(())
}

fn prepare_row(job: &Job, spec: &JobSpec, dedup: &mut Dedup, seq: i64, r: Recipient) -> NewRow {
    let openid = r.openid.trim().to_string();
    let vars_json = serde_json::to_string(&r.vars).unwrap_or_else(|_| "{}".into());
    let maybe_duplicate = !openid.is_empty() && dedup.maybe_seen(&openid);
    let skip_reason = recipient_request(&job.payload, &spec.field_rules, &openid, &r.vars).err();
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
#[path = "engine_tests.rs"]
pub(crate) mod tests;
