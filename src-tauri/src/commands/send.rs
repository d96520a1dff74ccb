//! 任务: the job list, live progress over a Channel, and the job actions (`ctx.sends`, the one
//! engine host). Ids travel as JSON numbers (`f64` here; all far below 2^53).

use std::time::Duration;

use tauri::Runtime;
use tauri::ipc::Channel;
use wxdesk_core::send::{Job, JobProgress, ResendReport};

use super::{CmdResult, ctx};

/// Jobs newest first (the latest 200), optionally of one account.
#[tauri::command]
#[specta::specta]
pub async fn jobs_list<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: Option<String>,
) -> CmdResult<Vec<Job>> {
    Ok(ctx(&app).sends.list(appid, None, 200).await?)
}

/// Streams a job's progress while a runner of the app works on it (the first report at once,
/// at most ~4 a second); ends with a report whose `active` is false.
#[tauri::command]
#[specta::specta]
pub async fn job_watch<R: Runtime>(
    app: tauri::AppHandle<R>,
    job_id: f64,
    on_progress: Channel<JobProgress>,
) -> CmdResult<()> {
    let mut watch = ctx(&app).sends.watch(job_id as i64).await?;
    while let Some(p) = watch.next().await {
        if on_progress.send(p).is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Ok(())
}

/// 暂停: in-flight requests finish and are recorded; nothing new starts.
#[tauri::command]
#[specta::specta]
pub async fn job_pause<R: Runtime>(app: tauri::AppHandle<R>, job_id: f64) -> CmdResult<()> {
    Ok(ctx(&app).sends.pause(job_id as i64).await?)
}

/// 继续 (also an interrupted job, and a 45009 quota pause on the operator's word).
#[tauri::command]
#[specta::specta]
pub async fn job_resume<R: Runtime>(app: tauri::AppHandle<R>, job_id: f64) -> CmdResult<()> {
    Ok(ctx(&app).sends.resume(job_id as i64).await?)
}

/// 取消: pending rows become `cancelled`; what was sent stays sent.
#[tauri::command]
#[specta::specta]
pub async fn job_cancel<R: Runtime>(app: tauri::AppHandle<R>, job_id: f64) -> CmdResult<()> {
    Ok(ctx(&app).sends.cancel(job_id as i64).await?)
}

/// 重试失败: retryable failures only, or every failure; returns the rows queued again.
#[tauri::command]
#[specta::specta]
pub async fn job_retry_failed<R: Runtime>(
    app: tauri::AppHandle<R>,
    job_id: f64,
    include_permanent: bool,
) -> CmdResult<f64> {
    let n = ctx(&app)
        .sends
        .retry_failed(job_id as i64, include_permanent)
        .await?;
    Ok(n as f64)
}

/// 重发结果未知 (the operator confirmed the duplicate warning).
#[tauri::command]
#[specta::specta]
pub async fn job_resend_uncertain<R: Runtime>(
    app: tauri::AppHandle<R>,
    job_id: f64,
) -> CmdResult<ResendReport> {
    Ok(ctx(&app).sends.resend_uncertain(job_id as i64).await?)
}

/// 复制为新任务: same message and recipients, a new job (not started).
#[tauri::command]
#[specta::specta]
pub async fn job_copy<R: Runtime>(app: tauri::AppHandle<R>, job_id: f64) -> CmdResult<f64> {
    Ok(ctx(&app).sends.copy(job_id as i64).await? as f64)
}

/// 开始 a job created but not started (a copy).
#[tauri::command]
#[specta::specta]
pub async fn job_start<R: Runtime>(app: tauri::AppHandle<R>, job_id: f64) -> CmdResult<()> {
    Ok(ctx(&app).sends.start(job_id as i64).await?)
}
