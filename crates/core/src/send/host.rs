//! The one engine host of a process (`ctx.sends`): the desktop app and the CLI both send through
//! it, so they hold the same lock, recover the same way and offer the same job actions.
//!
//! # The send lock
//! One process at a time runs the engine on a data dir: it holds `<data dir>/send.lock`
//! ([`SendLock`]), an OS advisory lock released when the process dies (even by SIGKILL). Two
//! engines on one database would each drive the other's jobs and turn its in-flight rows
//! `uncertain`. The CLI waits for the lock at most `--wait` ([`Sends::acquire`]); the app takes
//! it when it needs it and gives up with a message when another process holds it. The app also
//! lets it go whenever none of its jobs is sending ([`Sends::share_lock_when_idle`]), so a CLI
//! send does not wait for the app to close — it waits only while the app really sends.
//!
//! # The recovery policy (both faces, every time a process takes the lock)
//! Right after taking the lock and building the engine:
//! - rows left `in_flight` by a sender that stopped become `uncertain`: the request may have
//!   reached WeChat, so they are never resent without the operator (`jobs retry --uncertain`,
//!   重发结果未知);
//! - jobs that were `running` when their sender stopped are paused with the reason
//!   [`PauseReason::Interrupted`] (已中断 / "Interrupted — the sending process stopped"); one
//!   action continues them (继续, `jobs resume ID`). Nothing resumes by itself, in the app or
//!   the CLI: a CLI `send` / `jobs resume` drives only its own job;
//! - jobs paused for the daily quota (45009) continue by themselves after the Beijing-midnight
//!   reset only where a long-lived host runs [`Sends::spawn_quota_resume`] (the app does; the
//!   CLI does not).
//!
//! Recovery is safe only because the lock is held: no other engine can be working on the rows
//! it moves.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::{Mutex, MutexGuard};

use super::api::SendApi;
use super::engine::{RecoverReport, ResendReport, SendEngine};
use super::model::{Job, JobProgress, JobPurpose, JobSpec, JobStatus, Recipient};
use super::team::TeamJobs;
use super::watch::JobWatch;
use super::{EngineConfig, db};
use crate::error::{Error, Result};
use crate::platform::Platform;
use crate::store::Store;

/// The file that marks "a process is running the send engine on this data dir".
pub const SEND_LOCK_FILE: &str = "send.lock";

/// An exclusive advisory lock on `<data dir>/send.lock`, held while a process runs the engine.
/// The file holds the holder's pid and job for [`who_sends`].
#[derive(Debug)]
pub struct SendLock {
    file: File,
    path: PathBuf,
}

/// Who holds the send lock, as written in the lock file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendLockHolder {
    pub pid: u32,
    pub job_id: Option<i64>,
}

/// The lock file, private to this user (it names our pid and job).
fn open_lock_file(path: &Path) -> std::io::Result<File> {
    crate::store::private::open_private(
        path,
        std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true),
    )
}

fn lock_io(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::DataDir {
        path: path.display().to_string(),
        source: e,
    }
}

impl SendLock {
    /// Takes the lock without waiting; `Ok(None)` when another process holds it.
    pub fn try_acquire(data_dir: &Path, job_id: Option<i64>) -> Result<Option<SendLock>> {
        let path = data_dir.join(SEND_LOCK_FILE);
        let file = open_lock_file(&path).map_err(lock_io(&path))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Ok(None),
            Err(std::fs::TryLockError::Error(e)) => return Err(lock_io(&path)(e)),
        }
        let mut lock = SendLock { file, path };
        lock.write(job_id)?;
        Ok(Some(lock))
    }

    /// Waits until the lock is free, then takes it (a second sender queues behind the first).
    pub async fn acquire(data_dir: &Path, job_id: Option<i64>) -> Result<SendLock> {
        loop {
            if let Some(l) = SendLock::try_acquire(data_dir, job_id)? {
                return Ok(l);
            }
            tokio::time::sleep(LOCK_POLL).await;
        }
    }

    /// Records which job the holder runs now (for `jobs pause` from another process).
    pub fn set_job(&mut self, job_id: i64) -> Result<()> {
        self.write(Some(job_id))
    }

    fn write(&mut self, job_id: Option<i64>) -> Result<()> {
        use std::io::Seek;
        let io = lock_io(&self.path);
        self.file.set_len(0).map_err(&io)?;
        self.file.rewind().map_err(&io)?;
        let job = job_id.map(|j| format!(" {j}")).unwrap_or_default();
        writeln!(self.file, "{}{job}", std::process::id()).map_err(&io)
    }
}

/// The pid (and job) of the process holding the send lock, when one does.
pub fn who_sends(data_dir: &Path) -> Result<Option<SendLockHolder>> {
    let path = data_dir.join(SEND_LOCK_FILE);
    if !path.exists() {
        return Ok(None);
    }
    match SendLock::try_acquire(data_dir, None)? {
        // Free: nobody sends (our probe lock is dropped at once).
        Some(_) => Ok(None),
        None => {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let mut parts = text.split_whitespace();
            let pid = parts.next().and_then(|p| p.parse().ok());
            let job_id = parts.next().and_then(|j| j.parse().ok());
            Ok(pid.map(|pid| SendLockHolder { pid, job_id }))
        }
    }
}

/// How long [`Sends::acquire`] waits for a taken lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockWait {
    /// At most this long (zero: not at all).
    Up(Duration),
    Forever,
}

/// Between two attempts at a taken send lock.
const LOCK_POLL: Duration = Duration::from_millis(200);

/// Where the engine sends through.
enum ApiSource {
    /// The platform's connection as its settings are when the host is built.
    Platform(Platform),
    /// A given API (tests).
    Fixed(Arc<dyn SendApi>),
}

/// The engine of this process and the lock that makes it the only one on the data dir.
struct Host {
    engine: SendEngine,
    lock: SendLock,
}

struct Shared {
    data_dir: PathBuf,
    store: Store,
    api: ApiSource,
    cfg: EngineConfig,
    host: Mutex<Option<Host>>,
    /// The app's way: the lock goes whenever no job of this process sends.
    share_when_idle: AtomicBool,
    /// A task is waiting to let the lock go.
    releasing: AtomicBool,
}

/// The engine host (`ctx.sends`): a cheap, cloneable handle.
#[derive(Clone)]
pub struct Sends {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Sends {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sends")
            .field("data_dir", &self.shared.data_dir)
            .finish_non_exhaustive()
    }
}

/// Held while the platform's settings change (体验沙箱 ↔ 正式, another relay or egress): the
/// engine was built over the old connection, so it is dropped (and the lock with it) and the
/// next use builds one over the new settings. Holding the guard keeps a job from starting
/// mid-change.
pub struct SettingsChange<'a> {
    _host: MutexGuard<'a, Option<Host>>,
}

impl Sends {
    /// The host of the app and the CLI: the engine over the platform's saved connection.
    pub fn new(platform: Platform, data_dir: &Path) -> Sends {
        let store = platform.store().clone();
        Sends::build(
            data_dir,
            store,
            ApiSource::Platform(platform),
            EngineConfig::default(),
        )
    }

    /// A host whose engine sends through `api` (tests and benches).
    pub fn with_api(
        data_dir: &Path,
        store: Store,
        api: Arc<dyn SendApi>,
        cfg: EngineConfig,
    ) -> Sends {
        Sends::build(data_dir, store, ApiSource::Fixed(api), cfg)
    }

    fn build(data_dir: &Path, store: Store, api: ApiSource, cfg: EngineConfig) -> Sends {
        Sends {
            shared: Arc::new(Shared {
                data_dir: data_dir.to_path_buf(),
                store,
                api,
                cfg,
                host: Mutex::new(None),
                share_when_idle: AtomicBool::new(false),
                releasing: AtomicBool::new(false),
            }),
        }
    }

    /// The app's mode: hold the send lock only while a job of this process sends, so a CLI
    /// send in between takes it instead of waiting for the app to close.
    pub fn share_lock_when_idle(&self) {
        self.shared.share_when_idle.store(true, Ordering::SeqCst);
    }

    /// Who holds the send lock now (this process included). Nobody in a team workspace: the
    /// team server runs its jobs.
    pub fn holder(&self) -> Result<Option<SendLockHolder>> {
        if self.is_team() {
            return Ok(None);
        }
        who_sends(&self.shared.data_dir)
    }

    fn is_team(&self) -> bool {
        matches!(&self.shared.api, ApiSource::Platform(p) if p.is_team())
    }

    /// The team server's jobs, in a team workspace (no engine runs at the desk; see
    /// [`super::team`]).
    async fn team(&self) -> Result<Option<TeamJobs>> {
        match &self.shared.api {
            ApiSource::Platform(p) if p.is_team() => Ok(Some(TeamJobs::new(
                p.relay().await?,
                self.shared.cfg.clone(),
            ))),
            _ => Ok(None),
        }
    }

    /// Takes the send lock for this process, waiting at most `wait` while another process
    /// holds it (`on_wait` is called once, with the holder, before waiting), and recovers
    /// (module doc). `Ok(None)`: still taken after `wait`; nothing was changed.
    pub async fn acquire(
        &self,
        wait: LockWait,
        on_wait: impl FnOnce(Option<&SendLockHolder>),
    ) -> Result<Option<RecoverReport>> {
        if self.is_team() {
            // Nothing to lock or recover here: the server claims rows and recovers them.
            return Ok(Some(RecoverReport::default()));
        }
        let mut host = self.shared.host.lock().await;
        if host.is_some() {
            return Ok(Some(RecoverReport::default()));
        }
        let dir = &self.shared.data_dir;
        let lock = match SendLock::try_acquire(dir, None)? {
            Some(l) => l,
            None => {
                let limit = match wait {
                    LockWait::Up(d) => Some(d),
                    LockWait::Forever => None,
                };
                if limit != Some(Duration::ZERO) {
                    on_wait(who_sends(dir)?.as_ref());
                }
                let started = tokio::time::Instant::now();
                loop {
                    match limit.map(|l| l.saturating_sub(started.elapsed())) {
                        Some(left) if left.is_zero() => return Ok(None),
                        Some(left) => tokio::time::sleep(left.min(LOCK_POLL)).await,
                        None => tokio::time::sleep(LOCK_POLL).await,
                    }
                    if let Some(l) = SendLock::try_acquire(dir, None)? {
                        break l;
                    }
                }
            }
        };
        let (h, report) = self.start_host(lock).await?;
        *host = Some(h);
        Ok(Some(report))
    }

    /// Builds the engine over the lock just taken and recovers.
    async fn start_host(&self, lock: SendLock) -> Result<(Host, RecoverReport)> {
        let api: Arc<dyn SendApi> = match &self.shared.api {
            ApiSource::Platform(p) => super::platform::platform_send_api(p).await?,
            ApiSource::Fixed(api) => Arc::clone(api),
        };
        let engine = SendEngine::new(self.shared.store.clone(), api, self.shared.cfg.clone());
        let report = engine.recover().await?;
        tracing::info!(
            uncertain_rows = report.uncertain_rows,
            interrupted = ?report.interrupted_jobs,
            "send engine started"
        );
        Ok((Host { engine, lock }, report))
    }

    /// The engine, built (lock taken, recovered) if this process has none yet; refused while
    /// another process holds the lock. Runs `f` under the host's mutex, so nothing lets the
    /// lock go or changes the settings in between.
    async fn with_engine<T, F, Fut>(&self, f: F) -> Result<T>
    where
        F: FnOnce(SendEngine) -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        let mut host = self.shared.host.lock().await;
        if host.is_none() {
            let dir = &self.shared.data_dir;
            let Some(lock) = take_soon(dir).await? else {
                return Err(busy(who_sends(dir)?.as_ref()));
            };
            let (h, _) = self.start_host(lock).await?;
            *host = Some(h);
        }
        let engine = match host.as_ref() {
            Some(h) => h.engine.clone(),
            None => return Err(busy(None)),
        };
        let out = f(engine).await;
        drop(host);
        self.release_when_idle();
        out
    }

    /// In the app's mode, lets the lock go once no job of this process sends.
    fn release_when_idle(&self) {
        if !self.shared.share_when_idle.load(Ordering::SeqCst)
            || self.shared.releasing.swap(true, Ordering::SeqCst)
        {
            return;
        }
        let shared = Arc::clone(&self.shared);
        tokio::spawn(async move {
            loop {
                let engine = {
                    let mut host = shared.host.lock().await;
                    let Some(h) = host.as_ref() else { break };
                    if h.engine.active_jobs().is_empty() {
                        // Decided under the mutex every job action holds: no job starts between
                        // this check and the release.
                        *host = None;
                        tracing::debug!("no job sending: send lock released");
                        break;
                    }
                    h.engine.clone()
                };
                for id in engine.active_jobs() {
                    let _ = engine.wait_idle(id).await;
                }
            }
            shared.releasing.store(false, Ordering::SeqCst);
        });
    }

    /// Records the job this process drives in the lock file (the CLI, for `jobs pause` from
    /// another process). No-op without the lock.
    pub async fn set_job(&self, job_id: i64) -> Result<()> {
        match self.shared.host.lock().await.as_mut() {
            Some(h) => h.lock.set_job(job_id),
            None => Ok(()),
        }
    }

    /// Jobs newest first, optionally of one account; `before` an id (keyset), `limit` 1–500.
    pub async fn list(
        &self,
        appid: Option<String>,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<Job>> {
        let limit = limit.clamp(1, 500);
        if let Some(t) = self.team().await? {
            // The server lists the newest; paging back (`before`) is not offered there yet.
            if before.is_some() {
                return Ok(Vec::new());
            }
            return t.list(appid.as_deref(), limit).await;
        }
        self.shared
            .store
            .call(move |c| db::list_jobs(c, appid.as_deref(), before, limit))
            .await
    }

    pub async fn job(&self, job_id: i64) -> Result<Job> {
        if let Some(t) = self.team().await? {
            return t.job(job_id).await;
        }
        self.shared
            .store
            .call(move |c| db::load_job(c, job_id))
            .await
    }

    /// Writes a job and its recipients without starting it. Needs no lock (rows are only
    /// written); a process holding none writes through an engine that never runs a job.
    pub async fn create(&self, spec: JobSpec, recipients: Vec<Recipient>) -> Result<i64> {
        self.create_as(spec, JobPurpose::Plain, recipients).await
    }

    /// [`Sends::create`] for a job named by its purpose (the CLI's customer-service text).
    pub async fn create_as(
        &self,
        spec: JobSpec,
        purpose: JobPurpose,
        recipients: Vec<Recipient>,
    ) -> Result<i64> {
        if let Some(t) = self.team().await? {
            // The server starts it at once: there is no unstarted job on a team server.
            return t.create(spec, purpose, recipients).await;
        }
        let running = self
            .shared
            .host
            .lock()
            .await
            .as_ref()
            .map(|h| h.engine.clone());
        let engine = match running {
            Some(e) => e,
            None => SendEngine::new(
                self.shared.store.clone(),
                Arc::new(NoSend),
                self.shared.cfg.clone(),
            ),
        };
        engine.create_job_as(spec, purpose, recipients).await
    }

    /// Writes a job for every recipient and starts it; returns its id.
    pub async fn create_and_start(&self, spec: JobSpec, recipients: Vec<Recipient>) -> Result<i64> {
        if let Some(t) = self.team().await? {
            return t.create(spec, JobPurpose::Plain, recipients).await;
        }
        self.with_engine(|e| async move { e.create_and_start(spec, recipients).await })
            .await
    }

    /// 发送: a bulk job from a template draft and a recipient source (resolved and checked as
    /// `ctx.compose` does: no recipient or a placeholder no column provides is refused before
    /// anything is written), created and started; returns its id.
    pub async fn start_draft(
        &self,
        draft: &crate::compose::TemplateDraft,
        source: &crate::compose::RecipientSource,
    ) -> Result<i64> {
        let team = match &self.shared.api {
            ApiSource::Platform(p) => p.team_server().await?,
            ApiSource::Fixed(_) => None,
        };
        let (spec, recipients) =
            crate::compose::prepare_send(&self.shared.store, team.as_ref(), draft, source).await?;
        self.create_and_start(spec, recipients).await
    }

    /// A job of one recipient, sent and waited for (a test send, a customer-service message).
    pub async fn run_one(&self, spec: JobSpec, purpose: JobPurpose, to: Recipient) -> Result<Job> {
        if let Some(t) = self.team().await? {
            let id = t.create(spec, purpose, vec![to]).await?;
            return t.wait_idle(id).await;
        }
        let (engine, id) = self
            .with_engine(|e| async move {
                let id = e.create_job_as(spec, purpose, vec![to]).await?;
                e.start(id).await?;
                Ok((e, id))
            })
            .await?;
        engine.wait_idle(id).await
    }

    /// Starts a job not started yet (a copy), or continues a paused one.
    pub async fn start(&self, job_id: i64) -> Result<()> {
        if let Some(t) = self.team().await? {
            return t.resume(job_id).await;
        }
        self.with_engine(|e| async move { e.start(job_id).await })
            .await
    }

    /// 继续: a paused job (also a 45009 pause, on the operator's word) continues.
    pub async fn resume(&self, job_id: i64) -> Result<()> {
        if let Some(t) = self.team().await? {
            return t.resume(job_id).await;
        }
        self.with_engine(|e| async move { e.resume(job_id).await })
            .await
    }

    /// 暂停: in-flight requests finish and are recorded; nothing new starts. A job already
    /// paused (by the engine, or by recovery when its sender had stopped) stays as it is.
    pub async fn pause(&self, job_id: i64) -> Result<()> {
        if let Some(t) = self.team().await? {
            return t.pause(job_id).await;
        }
        self.with_engine(|e| async move {
            match e.job(job_id).await?.status {
                JobStatus::Paused | JobStatus::PausedQuota => Ok(()),
                _ => e.pause(job_id).await,
            }
        })
        .await
    }

    /// 取消: pending rows become `cancelled`; what was sent stays sent.
    pub async fn cancel(&self, job_id: i64) -> Result<()> {
        if let Some(t) = self.team().await? {
            return t.cancel(job_id).await;
        }
        self.with_engine(|e| async move { e.cancel(job_id).await })
            .await
    }

    /// 重试失败: retryable failures only, or every failure; returns the rows queued again.
    pub async fn retry_failed(&self, job_id: i64, include_permanent: bool) -> Result<u64> {
        if let Some(t) = self.team().await? {
            return t.retry_failed(job_id, include_permanent).await;
        }
        self.with_engine(|e| async move { e.retry_failed(job_id, include_permanent).await })
            .await
    }

    /// 重发结果未知 (the operator's decision).
    pub async fn resend_uncertain(&self, job_id: i64) -> Result<ResendReport> {
        if let Some(t) = self.team().await? {
            return t.resend_uncertain(job_id).await;
        }
        self.with_engine(|e| async move { e.resend_uncertain(job_id).await })
            .await
    }

    /// 复制为新任务: same message, settings and recipients, not started.
    pub async fn copy(&self, job_id: i64) -> Result<i64> {
        if self.is_team() {
            return Err(not_on_team_server("复制为新任务", "Copying a job"));
        }
        self.with_engine(|e| async move { e.copy_as_new_job(job_id).await })
            .await
    }

    /// The jobs a runner of this process works on.
    pub async fn active_jobs(&self) -> Vec<i64> {
        self.running_engine()
            .await
            .map(|e| e.active_jobs())
            .unwrap_or_default()
    }

    async fn running_engine(&self) -> Option<SendEngine> {
        self.shared
            .host
            .lock()
            .await
            .as_ref()
            .map(|h| h.engine.clone())
    }

    /// A job's progress while a runner of this process works on it; a job nobody here runs
    /// gives its stored counts once. Never takes the lock.
    pub async fn watch(&self, job_id: i64) -> Result<JobWatch> {
        if let Some(t) = self.team().await? {
            let mut w = t.watch(job_id);
            let Some(first) = w.next().await else {
                // A job that is not there (or a server that will not say) is an error now,
                // not an empty watch.
                return Err(match t.job(job_id).await {
                    Err(e) => e,
                    Ok(_) => Error::RelayBody("the team server's job watch failed".into()),
                });
            };
            let active = first.active;
            return Ok(JobWatch {
                job_id,
                engine: None,
                rx: None,
                first: Some(first),
                started: false,
                ended: false,
                remote: active.then_some(w),
            });
        }
        let engine = self.running_engine().await.filter(|e| e.is_active(job_id));
        let rx = match &engine {
            Some(e) => Some(e.subscribe(job_id).await?),
            None => None,
        };
        let first = match &rx {
            Some(_) => None,
            None => Some(JobProgress::from_job(&self.job(job_id).await?)),
        };
        Ok(JobWatch {
            job_id,
            engine,
            rx,
            first,
            started: false,
            ended: false,
            remote: None,
        })
    }

    /// Waits until no runner of this process works on the job, and returns it.
    pub async fn wait_idle(&self, job_id: i64) -> Result<Job> {
        if let Some(t) = self.team().await? {
            return t.wait_idle(job_id).await;
        }
        match self.running_engine().await {
            Some(e) => e.wait_idle(job_id).await,
            None => self.job(job_id).await,
        }
    }

    /// Drops the engine for a settings change, or refuses while one of its jobs is sending.
    pub async fn begin_settings_change(&self) -> Result<SettingsChange<'_>> {
        let mut host = self.shared.host.lock().await;
        if let Some(h) = host.as_ref() {
            let active = h.engine.active_jobs();
            if !active.is_empty() {
                let ids: Vec<String> = active.iter().map(i64::to_string).collect();
                return Err(Error::input(
                    format!(
                        "任务 {} 正在发送；请先在「任务」页暂停，再更改平台设置",
                        ids.join("、")
                    ),
                    format!(
                        "Job {} is sending: pause it on the Jobs page before changing the platform settings",
                        ids.join(", ")
                    ),
                ));
            }
        }
        *host = None;
        Ok(SettingsChange { _host: host })
    }

    /// The long-lived host's timer (the app): recovers at once when the lock is free, then every
    /// hour resumes the jobs paused for the daily quota on an earlier Beijing day. A CLI never
    /// runs it. While another process holds the lock, that hour is skipped.
    pub fn spawn_quota_resume(&self) -> tokio::task::JoinHandle<()> {
        let sends = self.clone();
        tokio::spawn(async move {
            if sends.is_team() {
                // The team server resumes its quota-paused jobs itself.
                return;
            }
            loop {
                match sends
                    .with_engine(|e| async move { e.resume_after_quota_reset().await })
                    .await
                {
                    Ok(ids) if !ids.is_empty() => {
                        tracing::info!(jobs = ?ids, "quota reset: paused jobs resumed");
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "quota-reset resume skipped"),
                }
                tokio::time::sleep(Duration::from_secs(3600)).await;
            }
        })
    }

    /// Recovers and resumes the quota-paused jobs due now, once (what the timer does each hour).
    pub async fn resume_after_quota_reset(&self) -> Result<Vec<i64>> {
        self.with_engine(|e| async move { e.resume_after_quota_reset().await })
            .await
    }

    /// Whether this process holds the send lock now.
    pub async fn holds_lock(&self) -> bool {
        self.shared.host.lock().await.is_some()
    }
}

/// The lock if it is free now or within a moment: [`who_sends`] in another process (`jobs
/// show`) holds it for an instant to look, which must not be mistaken for a sender.
async fn take_soon(dir: &Path) -> Result<Option<SendLock>> {
    for _ in 0..5 {
        if let Some(l) = SendLock::try_acquire(dir, None)? {
            return Ok(Some(l));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(None)
}

/// What a team server does not offer yet.
fn not_on_team_server(zh: &str, en: &str) -> Error {
    Error::input(
        format!("{zh}在团队模式下还不可用：请新建一个任务发给需要的接收者"),
        format!("{en} is not available in team mode yet: create a new job for the recipients"),
    )
}

/// The refusal while another process holds the lock.
fn busy(holder: Option<&SendLockHolder>) -> Error {
    let (who_zh, who_en) = match holder {
        Some(SendLockHolder {
            pid,
            job_id: Some(j),
        }) => (
            format!("进程 {pid}（正在发送任务 {j}）"),
            format!("process {pid} (sending job {j})"),
        ),
        Some(SendLockHolder { pid, job_id: None }) => {
            (format!("进程 {pid}"), format!("process {pid}"))
        }
        None => ("另一个进程".to_string(), "another process".to_string()),
    };
    Error::input(
        format!("{who_zh}（wxdesk-cli）正在此数据目录发送；等它结束后再试"),
        format!(
            "{who_en} (wxdesk-cli) is sending on this data directory; try again when it is done"
        ),
    )
}

/// The API of an engine that only writes jobs (it never starts one).
struct NoSend;

impl SendApi for NoSend {
    fn send<'a>(
        &'a self,
        _: &'a str,
        _: &'a super::render::ApiRequest,
    ) -> super::api::BoxFuture<'a, std::result::Result<super::api::SendOk, super::api::SendFailure>>
    {
        Box::pin(async {
            Err(super::api::SendFailure::Token {
                detail: "no engine runs in this process".into(),
            })
        })
    }

    fn refresh_token<'a>(
        &'a self,
        _: &'a str,
    ) -> super::api::BoxFuture<'a, std::result::Result<(), super::api::SendFailure>> {
        Box::pin(async { Ok(()) })
    }
}

#[cfg(test)]
#[path = "host_tests.rs"]
mod tests;
