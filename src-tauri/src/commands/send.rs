//! 发送 and 任务: the composer's checks and previews (core's keyword rules and renderer, so the
//! rules live in one place), job creation, the job list, live progress over a Channel, and the
//! job actions. The engine is built once per app run over the platform's current connection,
//! holds the data dir's send lock (so the CLI and the app never drive one database at once), and
//! recovers on start: rows in flight at a crash become `uncertain`, running jobs continue.
//!
//! Ids, counts and times travel as `f64` (the bindings refuse BigInt; all are far below 2^53).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use specta_typescript::Number;
use tauri::ipc::Channel;
use tauri::{Manager, Runtime};
use tokio::sync::Mutex;
use wxdesk_core::audience::{self, ImportOptions, ImportSource, lists};
use wxdesk_core::cli_support::{SendLock, field_rules, send_engine};
use wxdesk_core::send::{
    EngineConfig, Job, JobProgress, JobSpec, JobStatus, MiniProgram, Payload, Recipient, Vars,
    render,
};
use wxdesk_core::templates;

use super::templates::core_err;
use crate::error::ShellError;
use crate::state::AppState;

type CmdResult<T> = Result<T, ShellError>;

fn num(n: impl TryInto<i64>) -> f64 {
    n.try_into().map_or(f64::MAX, |v: i64| v as f64)
}

fn invalid(msg: impl Into<String>) -> ShellError {
    core_err(wxdesk_core::Error::Invalid(msg.into()))
}

/// The app's send engine and the lock that makes it the only one on this data dir.
#[derive(Default)]
pub struct SendState {
    running: Mutex<Option<(wxdesk_core::send::SendEngine, SendLock)>>,
}

/// The engine, built on first use (or at start-up) over the saved platform settings.
pub async fn engine<R: Runtime>(
    app: &tauri::AppHandle<R>,
) -> CmdResult<wxdesk_core::send::SendEngine> {
    let st = app.state::<SendState>();
    let mut running = st.running.lock().await;
    if let Some((engine, _)) = running.as_ref() {
        return Ok(engine.clone());
    }
    let state = app.state::<AppState>();
    let lock = SendLock::try_acquire(&state.data_dir, None)
        .map_err(core_err)?
        .ok_or_else(|| invalid("另一个进程（wxdesk-cli）正在此数据目录发送；等它结束后再试"))?;
    let engine = send_engine(&state.ctx.platform, EngineConfig::default())
        .await
        .map_err(core_err)?;
    let report = engine.recover_on_start().await.map_err(core_err)?;
    if report.uncertain_rows > 0 {
        tracing::warn!(
            rows = report.uncertain_rows,
            "rows in flight at the last exit are uncertain"
        );
    }
    tracing::info!(resumed = ?report.resumed_jobs, "send engine started");
    *running = Some((engine.clone(), lock));
    Ok(engine)
}

/// Held while the platform's settings change (体验沙箱 ↔ 正式, another relay or egress): the
/// engine was built over the old connection, so it is dropped and the next use builds one over
/// the new settings. Refused while a job is sending, so no request goes out half to one
/// platform and half to another; holding the guard keeps a job from starting mid-change.
pub struct SettingsChange<'a> {
    _running: tokio::sync::MutexGuard<'a, Option<(wxdesk_core::send::SendEngine, SendLock)>>,
}

impl SendState {
    /// Drops the engine for a settings change, or refuses while one of its jobs is sending.
    pub async fn begin_settings_change(&self) -> CmdResult<SettingsChange<'_>> {
        let mut running = self.running.lock().await;
        if let Some((engine, _)) = running.as_ref() {
            let active = engine.active_jobs();
            if !active.is_empty() {
                let ids: Vec<String> = active.iter().map(i64::to_string).collect();
                return Err(invalid(format!(
                    "任务 {} 正在发送；请先在「任务」页暂停，再更改平台设置",
                    ids.join("、")
                )));
            }
        }
        *running = None;
        Ok(SettingsChange { _running: running })
    }

    #[cfg(test)]
    fn has_engine(&self) -> bool {
        self.running.try_lock().is_ok_and(|r| r.is_some())
    }
}

/// Start-up: jobs that were running continue (when a platform is configured), and quota-paused
/// jobs resume after the Beijing-midnight reset, checked hourly (on the engine of the settings
/// at that hour).
pub async fn start_on_launch<R: Runtime>(app: tauri::AppHandle<R>) {
    let configured = matches!(app.state::<AppState>().ctx.mode().await, Ok(Some(_)));
    if !configured {
        return;
    }
    if let Err(e) = engine(&app).await {
        tracing::warn!(error = %e.message, "send engine did not start");
        return;
    }
    loop {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        let result = match engine(&app).await {
            Ok(engine) => engine.resume_after_quota_reset().await.map(|_| ()),
            Err(e) => {
                tracing::warn!(error = %e.message, "send engine unavailable");
                continue;
            }
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, "quota-reset resume failed");
        }
    }
}

/// A job's state, as the window shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Draft,
    Running,
    Paused,
    PausedQuota,
    Cancelled,
    Completed,
}

impl From<JobStatus> for JobState {
    fn from(s: JobStatus) -> Self {
        match s {
            JobStatus::Draft => JobState::Draft,
            JobStatus::Running => JobState::Running,
            JobStatus::Paused => JobState::Paused,
            JobStatus::PausedQuota => JobState::PausedQuota,
            JobStatus::Cancelled => JobState::Cancelled,
            JobStatus::Completed => JobState::Completed,
        }
    }
}

/// One row of the 任务 list.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct JobView {
    #[specta(type = Number)]
    pub id: f64,
    pub appid: String,
    pub kind: String,
    /// `模板消息`, `客服消息（文本）`, …
    pub kind_label: String,
    pub template_id: String,
    pub title: String,
    pub status: JobState,
    pub pause_reason: String,
    #[specta(type = Number)]
    pub total: f64,
    #[specta(type = Number)]
    pub sent: f64,
    #[specta(type = Number)]
    pub failed_retryable: f64,
    #[specta(type = Number)]
    pub failed_permanent: f64,
    #[specta(type = Number)]
    pub pending: f64,
    #[specta(type = Number)]
    pub uncertain: f64,
    #[specta(type = Number)]
    pub skipped: f64,
    #[specta(type = Number)]
    pub cancelled: f64,
    #[specta(type = Number)]
    pub delivered: f64,
    #[specta(type = Number)]
    pub user_block: f64,
    #[specta(type = Number)]
    pub system_failed: f64,
    #[specta(type = Number)]
    pub rate_limit: f64,
    #[specta(type = Option<Number>)]
    pub copied_from: Option<f64>,
    #[specta(type = Number)]
    pub created_at: f64,
    #[specta(type = Option<Number>)]
    pub started_at: Option<f64>,
    #[specta(type = Option<Number>)]
    pub finished_at: Option<f64>,
}

impl From<Job> for JobView {
    fn from(j: Job) -> Self {
        let c = j.counts;
        JobView {
            id: num(j.id),
            appid: j.appid,
            kind: j.kind.as_str().into(),
            kind_label: j.kind.label_zh().into(),
            template_id: j.template_id,
            title: j.title,
            status: j.status.into(),
            pause_reason: j.pause_reason,
            total: num(c.total),
            sent: num(c.sent),
            failed_retryable: num(c.failed_retryable),
            failed_permanent: num(c.failed_permanent),
            pending: num(c.pending()),
            uncertain: num(c.uncertain),
            skipped: num(c.skipped),
            cancelled: num(c.cancelled),
            delivered: num(c.delivered),
            user_block: num(c.user_block),
            system_failed: num(c.system_failed),
            rate_limit: f64::from(j.rate_per_sec),
            copied_from: j.copied_from.map(num),
            created_at: num(j.created_at),
            started_at: j.started_at.map(num),
            finished_at: j.finished_at.map(num),
        }
    }
}

/// A progress report of one job (the 任务 page's bars).
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct JobProgressView {
    #[specta(type = Number)]
    pub job_id: f64,
    pub status: Option<JobState>,
    pub pause_reason: String,
    #[specta(type = Number)]
    pub total: f64,
    #[specta(type = Number)]
    pub sent: f64,
    #[specta(type = Number)]
    pub failed: f64,
    #[specta(type = Number)]
    pub pending: f64,
    #[specta(type = Number)]
    pub uncertain: f64,
    #[specta(type = Number)]
    pub skipped: f64,
    #[specta(type = Number)]
    pub cancelled: f64,
    #[specta(type = Number)]
    pub rate_per_sec: f64,
    #[specta(type = Option<Number>)]
    pub eta_secs: Option<f64>,
    /// Whether a runner still works on the job; the stream ends when this turns false.
    pub active: bool,
}

fn progress_view(p: &JobProgress, active: bool) -> JobProgressView {
    JobProgressView {
        job_id: num(p.job_id),
        status: p.status.map(Into::into),
        pause_reason: p.pause_reason.clone(),
        total: num(p.total),
        sent: num(p.sent),
        failed: num(p.failed),
        pending: num(p.pending),
        uncertain: num(p.uncertain),
        skipped: num(p.skipped),
        cancelled: num(p.cancelled),
        rate_per_sec: p.rate_per_sec,
        eta_secs: p.eta_secs.map(num),
        active,
    }
}

/// Jobs newest first (the latest 200), optionally of one account.
#[tauri::command]
#[specta::specta]
pub async fn jobs_list<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: Option<String>,
) -> CmdResult<Vec<JobView>> {
    let store = app.state::<AppState>().ctx.store.clone();
    let jobs = store
        .call(move |c| wxdesk_core::send::list_jobs(c, appid.as_deref(), None, 200))
        .await
        .map_err(core_err)?;
    Ok(jobs.into_iter().map(Into::into).collect())
}

/// Streams a job's progress until no runner works on it any more (done, paused, cancelled) or
/// the window stops listening. The first report is sent at once.
#[tauri::command]
#[specta::specta]
pub async fn job_watch<R: Runtime>(
    app: tauri::AppHandle<R>,
    job_id: f64,
    on_progress: Channel<JobProgressView>,
) -> CmdResult<()> {
    let engine = engine(&app).await?;
    let id = job_id as i64;
    let mut rx = engine.subscribe(id).await.map_err(core_err)?;
    loop {
        let active = engine.is_active(id);
        let p = rx.borrow_and_update().clone();
        if on_progress.send(progress_view(&p, active)).is_err() || !active {
            return Ok(());
        }
        // Wake on a change, and at least every second so `active` turning false is seen.
        let _ = tokio::time::timeout(Duration::from_secs(1), rx.changed()).await;
        // Coalesce bursts: at most ~4 reports a second reach the window.
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// 暂停: in-flight requests finish and are recorded; nothing new starts.
#[tauri::command]
#[specta::specta]
pub async fn job_pause<R: Runtime>(app: tauri::AppHandle<R>, job_id: f64) -> CmdResult<()> {
    engine(&app)
        .await?
        .pause(job_id as i64)
        .await
        .map_err(core_err)
}

/// 继续 (also clears a 45009 quota pause on the operator's word).
#[tauri::command]
#[specta::specta]
pub async fn job_resume<R: Runtime>(app: tauri::AppHandle<R>, job_id: f64) -> CmdResult<()> {
    engine(&app)
        .await?
        .resume(job_id as i64)
        .await
        .map_err(core_err)
}

/// 取消: pending rows become `cancelled`; what was sent stays sent.
#[tauri::command]
#[specta::specta]
pub async fn job_cancel<R: Runtime>(app: tauri::AppHandle<R>, job_id: f64) -> CmdResult<()> {
    engine(&app)
        .await?
        .cancel(job_id as i64)
        .await
        .map_err(core_err)
}

/// 重试失败: retryable failures only, or every failure; returns the rows queued again.
#[tauri::command]
#[specta::specta]
pub async fn job_retry_failed<R: Runtime>(
    app: tauri::AppHandle<R>,
    job_id: f64,
    include_permanent: bool,
) -> CmdResult<f64> {
    let n = engine(&app)
        .await?
        .retry_failed(job_id as i64, include_permanent)
        .await
        .map_err(core_err)?;
    Ok(num(n))
}

/// What 重发结果未知 queued, and how many of those may duplicate.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct ResendView {
    #[specta(type = Number)]
    pub rows: f64,
    /// Last attempted more than 10 minutes ago: WeChat no longer drops a duplicate by
    /// client_msg_id, so the user may receive the message twice.
    #[specta(type = Number)]
    pub outside_dedup_window: f64,
}

/// 重发结果未知 (the operator confirmed the duplicate warning).
#[tauri::command]
#[specta::specta]
pub async fn job_resend_uncertain<R: Runtime>(
    app: tauri::AppHandle<R>,
    job_id: f64,
) -> CmdResult<ResendView> {
    let r = engine(&app)
        .await?
        .resend_uncertain(job_id as i64)
        .await
        .map_err(core_err)?;
    Ok(ResendView {
        rows: num(r.rows),
        outside_dedup_window: num(r.outside_dedup_window),
    })
}

/// 复制为新任务: same message and recipients, a new job (not started).
#[tauri::command]
#[specta::specta]
pub async fn job_copy<R: Runtime>(app: tauri::AppHandle<R>, job_id: f64) -> CmdResult<f64> {
    let id = engine(&app)
        .await?
        .copy_as_new_job(job_id as i64)
        .await
        .map_err(core_err)?;
    Ok(num(id))
}

/// 开始 a job created but not started (a copy).
#[tauri::command]
#[specta::specta]
pub async fn job_start<R: Runtime>(app: tauri::AppHandle<R>, job_id: f64) -> CmdResult<()> {
    engine(&app)
        .await?
        .start(job_id as i64)
        .await
        .map_err(core_err)
}

/// Where the recipients come from (exactly one).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, specta::Type)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RecipientSource {
    Openid {
        openid: String,
    },
    List {
        #[specta(type = Number)]
        list_id: f64,
    },
    File {
        path: String,
    },
}

/// Every recipient of a source with their variables, and the variable names.
pub(crate) async fn load_recipients(
    ctx: &wxdesk_core::context::Context,
    appid: &str,
    src: &RecipientSource,
    limit: Option<usize>,
) -> CmdResult<(Vec<Recipient>, Vec<String>)> {
    match src {
        RecipientSource::Openid { openid } => {
            let o = openid.trim();
            if o.is_empty() {
                return Err(invalid("请填写接收者 openid"));
            }
            Ok((vec![Recipient::new(o)], Vec::new()))
        }
        RecipientSource::List { list_id } => {
            let id = *list_id as i64;
            let list = ctx
                .store
                .call(move |c| lists::get_list(c, id))
                .await
                .map_err(core_err)?
                .ok_or_else(|| invalid("名单不存在（可能已被删除）"))?;
            let mut all = Vec::new();
            let mut after: Option<String> = None;
            loop {
                let from = after.clone();
                let page = ctx
                    .store
                    .call(move |c| lists::list_members(c, id, from.as_deref(), 5_000))
                    .await
                    .map_err(core_err)?;
                all.extend(page.items.into_iter().map(|m| Recipient {
                    openid: m.openid,
                    vars: m.vars.into_iter().collect(),
                }));
                if limit.is_some_and(|l| all.len() >= l) {
                    break;
                }
                match page.next_after {
                    Some(n) => after = Some(n),
                    None => break,
                }
            }
            if let Some(l) = limit {
                all.truncate(l);
            }
            Ok((all, list.variables))
        }
        RecipientSource::File { path } => {
            let prepared = audience::prepare_import(
                &ctx.store,
                appid,
                ImportSource::File(path.into()),
                ImportOptions::default(),
            )
            .await
            .map_err(core_err)?;
            let names = prepared.preview.variables.clone();
            let mut rows: Vec<Recipient> = prepared
                .rows
                .into_iter()
                .map(|r| Recipient {
                    vars: names.iter().cloned().zip(r.values).collect::<Vars>(),
                    openid: r.openid,
                })
                .collect();
            if let Some(l) = limit {
                rows.truncate(l);
            }
            Ok((rows, names))
        }
    }
}

/// The jump target of a template message.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, specta::Type)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Jump {
    None,
    Url { url: String },
    Mini { appid: String, pagepath: String },
}

/// What the composer has filled in for a template message.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, specta::Type)]
pub struct TemplateDraft {
    pub appid: String,
    pub template_id: String,
    /// A name for the job (defaults to the template's title).
    pub title: String,
    /// Keyword key → value, which may use `{{变量}}`.
    pub data: BTreeMap<String, String>,
    pub jump: Jump,
}

/// The job spec of a draft, with the template's keyword rules so 47003 values are skipped.
pub(crate) async fn draft_spec(
    ctx: &wxdesk_core::context::Context,
    d: &TemplateDraft,
) -> CmdResult<JobSpec> {
    let t = templates::get_template(&ctx.store, &d.appid, &d.template_id)
        .await
        .map_err(core_err)?
        .ok_or_else(|| invalid("本地没有这个模板；先在「模板」页同步"))?;
    let (url, miniprogram) = match &d.jump {
        Jump::None => (None, None),
        Jump::Url { url } => (Some(url.trim().to_string()), None),
        Jump::Mini { appid, pagepath } => (
            None,
            Some(MiniProgram {
                appid: appid.trim().to_string(),
                pagepath: pagepath.trim().to_string(),
            }),
        ),
    };
    let data = d
        .data
        .iter()
        .filter(|(k, _)| t.fields.iter().any(|f| &f.key == *k && f.kind.is_shown()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Ok(JobSpec {
        appid: d.appid.clone(),
        title: if d.title.trim().is_empty() {
            t.title.clone()
        } else {
            d.title.trim().to_string()
        },
        payload: Payload::Template {
            template_id: t.template_id.clone(),
            data,
            url,
            miniprogram,
        },
        field_rules: field_rules(&t),
        concurrency: None,
        rate_per_sec: None,
        max_attempts: None,
    })
}

/// Refuses a job whose `{{变量}}` no recipient column provides (every row would be skipped).
pub(crate) fn check_placeholders(spec: &JobSpec, variables: &[String]) -> CmdResult<()> {
    let missing: Vec<String> = render::placeholders(&spec.payload)
        .into_iter()
        .filter(|p| !variables.contains(p))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(invalid(format!(
        "变量 {{{{{}}}}} 不在接收者数据中；可用变量：{}",
        missing.join("}}、{{"),
        if variables.is_empty() {
            "没有".to_string()
        } else {
            variables.join("、")
        }
    )))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use tokio::sync::Semaphore;
    use wxdesk_core::send::{
        ApiRequest, BoxFuture, JobSpec, Payload, Recipient, SendApi, SendEngine, SendFailure,
        SendOk,
    };
    use wxdesk_core::store::Store;

    use super::*;

    /// Holds every send until the test lets one through.
    struct Gate(Semaphore);

    impl SendApi for Gate {
        fn send<'a>(
            &'a self,
            _appid: &'a str,
            _req: &'a ApiRequest,
        ) -> BoxFuture<'a, Result<SendOk, SendFailure>> {
            Box::pin(async move {
                let permit = self.0.acquire().await.map_err(|_| SendFailure::Token {
                    detail: "closed".into(),
                })?;
                permit.forget();
                Ok(SendOk {
                    msgid: Some(1),
                    response: serde_json::json!({"errcode": 0, "msgid": 1}),
                })
            })
        }
        fn refresh_token<'a>(&'a self, _appid: &'a str) -> BoxFuture<'a, Result<(), SendFailure>> {
            Box::pin(async { Ok(()) })
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_settings_change_waits_for_no_sending_job_then_drops_the_engine_built_on_the_old_settings()
     {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in_dir(dir.path()).await.unwrap();
        let gate = Arc::new(Gate(Semaphore::new(0)));
        let engine = SendEngine::new(store, gate.clone(), EngineConfig::default());
        let lock = SendLock::try_acquire(dir.path(), None).unwrap().unwrap();
        let state = SendState::default();
        *state.running.lock().await = Some((engine.clone(), lock));

        let spec = JobSpec {
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
        };
        let job = engine
            .create_and_start(spec, [Recipient::new("oUser1"), Recipient::new("oUser2")])
            .await
            .unwrap();

        let refused = state.begin_settings_change().await.err().unwrap();
        assert!(
            refused.message.contains(&format!("任务 {job} 正在发送")),
            "{}",
            refused.message
        );
        assert!(state.has_engine(), "a refused change keeps the engine");

        gate.0.add_permits(2);
        let done = engine.wait_idle(job).await.unwrap();
        assert_eq!(done.counts.sent, 2);
        {
            let _change = state.begin_settings_change().await.unwrap();
        }
        assert!(
            !state.has_engine(),
            "the next use builds an engine on the new settings"
        );
        // The send lock went with the engine: it can be taken again.
        assert!(SendLock::try_acquire(dir.path(), None).unwrap().is_some());
    }
}
