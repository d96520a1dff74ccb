//! 小程序代码: thin commands over `ctx.code` — the platform's template library, one mini
//! program's code (server and webview domains, commit, trial QR, categories/pages, audit, release, rollback, undo, speed-up),
//! the audit quota, the version summary, and rollouts with their progress over a Channel.
//! Ids, counts and times travel as JSON numbers (all far below 2^53).

use std::time::Duration;

use tauri::Runtime;
use tauri::ipc::Channel;
use wxdesk_core::code::{
    AuditForm, AuditQuota, Category, CodeStatus, CommitInput, DomainOp, Domains, HistoryVersion,
    Library, PlannedRow, QrCode, Rollout, RolloutDetail, RolloutForm, RolloutProgress, ServerLists,
    VersionSummary,
};
use wxdesk_core::send::Explanation;

use super::{CmdResult, ctx};

// ---- template library ----

/// 草稿箱 and 模板库.
#[tauri::command]
#[specta::specta]
pub async fn code_library<R: Runtime>(app: tauri::AppHandle<R>) -> CmdResult<Library> {
    Ok(ctx(&app).code.library().await?)
}

/// 加入模板库 (`template_type` 0 普通, 1 标准); returns the library after it.
#[tauri::command]
#[specta::specta]
pub async fn code_add_template<R: Runtime>(
    app: tauri::AppHandle<R>,
    draft_id: f64,
    template_type: f64,
) -> CmdResult<Library> {
    Ok(ctx(&app)
        .code
        .add_template(draft_id as i64, template_type as i64)
        .await?)
}

#[tauri::command]
#[specta::specta]
pub async fn code_delete_template<R: Runtime>(
    app: tauri::AppHandle<R>,
    template_id: f64,
) -> CmdResult<()> {
    Ok(ctx(&app).code.delete_template(template_id as i64).await?)
}

// ---- one mini program ----

/// 体验版, 线上版, the latest audit, the newest audit push, the visit status.
#[tauri::command]
#[specta::specta]
pub async fn code_status<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
) -> CmdResult<CodeStatus> {
    Ok(ctx(&app).code.status(&appid).await?)
}

/// 服务器域名: get, add, delete or set (the lists are ignored for get); what WeChat filtered out
/// comes back as `invalid`.
#[tauri::command]
#[specta::specta]
pub async fn code_domains<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
    op: DomainOp,
    lists: ServerLists,
) -> CmdResult<Domains> {
    Ok(ctx(&app)
        .code
        .domains(&appid, op.into(), &lists.into())
        .await?)
}

/// 业务域名; `op: null` adds every webview domain the platform registered. Returns the list.
#[tauri::command]
#[specta::specta]
pub async fn code_webview_domains<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
    op: Option<DomainOp>,
    domains: Vec<String>,
) -> CmdResult<Vec<String>> {
    Ok(ctx(&app)
        .code
        .webview_domains(&appid, op.map(Into::into), &domains)
        .await?)
}

/// 提交代码: the template with this client's ext.json (checked to be a JSON object).
#[tauri::command]
#[specta::specta]
pub async fn code_commit<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
    input: CommitInput,
) -> CmdResult<()> {
    Ok(ctx(&app).code.commit(&appid, &input).await?)
}

/// The 体验版 QR code image (the window shows it from the bytes).
#[tauri::command]
#[specta::specta]
pub async fn code_qrcode<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
    path: Option<String>,
) -> CmdResult<QrCode> {
    Ok(ctx(&app).code.qrcode(&appid, path.as_deref()).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn code_categories<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
) -> CmdResult<Vec<Category>> {
    Ok(ctx(&app).code.categories(&appid).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn code_pages<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
) -> CmdResult<Vec<String>> {
    Ok(ctx(&app).code.pages(&appid).await?)
}

/// 提交审核; returns the auditid.
#[tauri::command]
#[specta::specta]
pub async fn code_submit_audit<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
    form: AuditForm,
) -> CmdResult<f64> {
    Ok(ctx(&app).code.submit_audit(&appid, &form.into()).await? as f64)
}

/// 发布 the approved version.
#[tauri::command]
#[specta::specta]
pub async fn code_release<R: Runtime>(app: tauri::AppHandle<R>, appid: String) -> CmdResult<()> {
    Ok(ctx(&app).code.release(&appid).await?)
}

/// The versions a rollback may return to.
#[tauri::command]
#[specta::specta]
pub async fn code_history<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
) -> CmdResult<Vec<HistoryVersion>> {
    Ok(ctx(&app).code.history(&appid).await?)
}

/// 版本回退 to `app_version`, or the previous online version.
#[tauri::command]
#[specta::specta]
pub async fn code_rollback<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
    app_version: Option<f64>,
) -> CmdResult<()> {
    Ok(ctx(&app)
        .code
        .rollback(&appid, app_version.map(|v| v as i64))
        .await?)
}

/// 撤回审核.
#[tauri::command]
#[specta::specta]
pub async fn code_undo_audit<R: Runtime>(app: tauri::AppHandle<R>, appid: String) -> CmdResult<()> {
    Ok(ctx(&app).code.undo_audit(&appid).await?)
}

/// 加急审核 (the latest audit when `auditid` is null).
#[tauri::command]
#[specta::specta]
pub async fn code_speed_up<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
    auditid: Option<f64>,
) -> CmdResult<()> {
    Ok(ctx(&app)
        .code
        .speed_up(&appid, auditid.map(|a| a as i64))
        .await?)
}

/// The platform's audit quota this month.
#[tauri::command]
#[specta::specta]
pub async fn code_quota<R: Runtime>(app: tauri::AppHandle<R>) -> CmdResult<AuditQuota> {
    Ok(ctx(&app).code.quota(None).await?)
}

/// Which of `appids` are on which online version.
#[tauri::command]
#[specta::specta]
pub async fn code_versions<R: Runtime>(
    app: tauri::AppHandle<R>,
    appids: Vec<String>,
) -> CmdResult<VersionSummary> {
    Ok(ctx(&app).code.versions(&appids).await?)
}

/// What a WeChat errcode recorded on a rollout row means and what to do, in both languages.
#[tauri::command]
#[specta::specta]
pub fn code_explain(errcode: f64) -> Option<Explanation> {
    Explanation::of(errcode as i64)
}

// ---- rollouts ----

/// Checks a rollout and makes every client's ext.json, writing nothing (the preview).
#[tauri::command]
#[specta::specta]
pub async fn code_rollout_plan<R: Runtime>(
    app: tauri::AppHandle<R>,
    form: RolloutForm,
) -> CmdResult<Vec<PlannedRow>> {
    Ok(ctx(&app).code.plan_rollout(&form.into()).await?)
}

/// Writes the rollout and its rows (not started); returns its id.
#[tauri::command]
#[specta::specta]
pub async fn code_rollout_create<R: Runtime>(
    app: tauri::AppHandle<R>,
    form: RolloutForm,
) -> CmdResult<f64> {
    Ok(ctx(&app).code.create_rollout(&form.into()).await? as f64)
}

/// Starts a new rollout, or resumes a paused or interrupted one, in the app.
#[tauri::command]
#[specta::specta]
pub async fn code_rollout_start<R: Runtime>(
    app: tauri::AppHandle<R>,
    rollout_id: f64,
) -> CmdResult<()> {
    Ok(ctx(&app).code.start_rollout(rollout_id as i64).await?)
}

/// 暂停: steps on the wire finish and are recorded; nothing new starts.
#[tauri::command]
#[specta::specta]
pub async fn code_rollout_pause<R: Runtime>(
    app: tauri::AppHandle<R>,
    rollout_id: f64,
) -> CmdResult<()> {
    Ok(ctx(&app).code.pause_rollout(rollout_id as i64).await?)
}

/// 取消: rows with steps left become cancelled (audits already submitted go on at WeChat).
#[tauri::command]
#[specta::specta]
pub async fn code_rollout_cancel<R: Runtime>(
    app: tauri::AppHandle<R>,
    rollout_id: f64,
) -> CmdResult<()> {
    Ok(ctx(&app).code.cancel_rollout(rollout_id as i64).await?)
}

/// The latest 50 rollouts, newest first.
#[tauri::command]
#[specta::specta]
pub async fn code_rollouts<R: Runtime>(app: tauri::AppHandle<R>) -> CmdResult<Vec<Rollout>> {
    Ok(ctx(&app).code.rollouts(50).await?)
}

/// A rollout with every mini program's state.
#[tauri::command]
#[specta::specta]
pub async fn code_rollout<R: Runtime>(
    app: tauri::AppHandle<R>,
    rollout_id: f64,
) -> CmdResult<RolloutDetail> {
    Ok(ctx(&app).code.rollout(rollout_id as i64).await?)
}

/// Which of the rollout's mini programs are on which online version now.
#[tauri::command]
#[specta::specta]
pub async fn code_rollout_versions<R: Runtime>(
    app: tauri::AppHandle<R>,
    rollout_id: f64,
) -> CmdResult<VersionSummary> {
    Ok(ctx(&app).code.rollout_versions(rollout_id as i64).await?)
}

/// Streams a rollout's progress (the current state at once, then each change, at most ~4 a
/// second) until no runner of the app drives it any more.
#[tauri::command]
#[specta::specta]
pub async fn code_rollout_watch<R: Runtime>(
    app: tauri::AppHandle<R>,
    rollout_id: f64,
    on_progress: Channel<RolloutProgress>,
) -> CmdResult<()> {
    let mut watch = ctx(&app).code.watch(rollout_id as i64).await?;
    while let Some(p) = watch.next().await {
        if on_progress.send(p).is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Ok(())
}
