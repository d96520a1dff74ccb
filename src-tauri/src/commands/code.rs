//! 小程序代码: thin commands over `ctx.code` — the platform's template library, one mini
//! program's code (commit, trial QR, categories/pages, audit, release, rollback, undo, speed-up),
//! the audit quota, the version summary, and rollouts with their progress over a Channel.
//! Ids, counts and times travel as JSON numbers (all far below 2^53).
//!
//! Two inputs have no core transport type (core takes WeChat's `SubmitAudit` and a
//! `RolloutInput` holding a file path), so their window-side shapes are here with a plain
//! conversion and nothing else.

use std::time::Duration;

use serde::Deserialize;
use tauri::ipc::Channel;
use tauri::{Manager, Runtime};
use wxdesk_core::audience::ImportSource;
use wxdesk_core::code::{
    AuditItem, AuditQuota, Category, Code, CodeStatus, CommitInput, HistoryVersion, Library,
    PlannedRow, QrCode, Rollout, RolloutClients, RolloutDetail, RolloutInput, RolloutProgress,
    RolloutTarget, SubmitAudit, VersionSummary,
};
use wxdesk_core::send::Explanation;

use crate::error::ShellError;
use crate::state::AppState;

type CmdResult<T> = Result<T, ShellError>;

fn code<R: Runtime>(app: &tauri::AppHandle<R>) -> Code {
    app.state::<AppState>().ctx.code.clone()
}

/// One 审核项: a page with its category (both optional, as WeChat takes them).
#[derive(Debug, Clone, Deserialize, specta::Type)]
pub struct AuditPick {
    pub address: String,
    pub title: String,
    pub tag: String,
    pub category: Option<Category>,
}

/// What the 提交审核 form sends (WeChat's other submit_audit fields are left out).
#[derive(Debug, Clone, Default, Deserialize, specta::Type)]
pub struct AuditForm {
    pub items: Vec<AuditPick>,
    pub version_desc: String,
    pub privacy_api_not_use: Option<bool>,
}

impl From<AuditForm> for SubmitAudit {
    fn from(f: AuditForm) -> Self {
        SubmitAudit {
            item_list: f
                .items
                .into_iter()
                .map(|i| AuditItem {
                    address: i.address,
                    tag: i.tag,
                    title: i.title,
                    category: i.category.map(Into::into),
                })
                .collect(),
            version_desc: f.version_desc,
            privacy_api_not_use: f.privacy_api_not_use,
            ..SubmitAudit::default()
        }
    }
}

/// Which mini programs a rollout covers: chosen in the table, or a CSV/XLSX file of clients.
#[derive(Debug, Clone, Deserialize, specta::Type)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ClientsForm {
    Appids { appids: Vec<String> },
    Table { path: String },
}

/// The 批量发版 form.
#[derive(Debug, Clone, Deserialize, specta::Type)]
pub struct RolloutForm {
    #[specta(type = specta_typescript::Number)]
    pub template_id: i64,
    pub user_version: String,
    pub user_desc: String,
    pub target: RolloutTarget,
    pub base_ext_json: Option<String>,
    pub clients: ClientsForm,
    pub audit: AuditForm,
}

impl From<RolloutForm> for RolloutInput {
    fn from(f: RolloutForm) -> Self {
        RolloutInput {
            template_id: f.template_id,
            user_version: f.user_version,
            user_desc: f.user_desc,
            target: f.target,
            base_ext_json: f.base_ext_json,
            clients: match f.clients {
                ClientsForm::Appids { appids } => RolloutClients::Appids(appids),
                ClientsForm::Table { path } => {
                    RolloutClients::Table(ImportSource::File(path.into()))
                }
            },
            audit: f.audit.into(),
        }
    }
}

// ---- template library ----

/// 草稿箱 and 模板库.
#[tauri::command]
#[specta::specta]
pub async fn code_library<R: Runtime>(app: tauri::AppHandle<R>) -> CmdResult<Library> {
    Ok(code(&app).library().await?)
}

/// 加入模板库 (`template_type` 0 普通, 1 标准); returns the library after it.
#[tauri::command]
#[specta::specta]
pub async fn code_add_template<R: Runtime>(
    app: tauri::AppHandle<R>,
    draft_id: f64,
    template_type: f64,
) -> CmdResult<Library> {
    Ok(code(&app)
        .add_template(draft_id as i64, template_type as i64)
        .await?)
}

#[tauri::command]
#[specta::specta]
pub async fn code_delete_template<R: Runtime>(
    app: tauri::AppHandle<R>,
    template_id: f64,
) -> CmdResult<()> {
    Ok(code(&app).delete_template(template_id as i64).await?)
}

// ---- one mini program ----

/// 体验版, 线上版, the latest audit, the newest audit push, the visit status.
#[tauri::command]
#[specta::specta]
pub async fn code_status<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
) -> CmdResult<CodeStatus> {
    Ok(code(&app).status(&appid).await?)
}

/// 提交代码: the template with this client's ext.json (checked to be a JSON object).
#[tauri::command]
#[specta::specta]
pub async fn code_commit<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
    input: CommitInput,
) -> CmdResult<()> {
    Ok(code(&app).commit(&appid, &input).await?)
}

/// The 体验版 QR code image (the window shows it from the bytes).
#[tauri::command]
#[specta::specta]
pub async fn code_qrcode<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
    path: Option<String>,
) -> CmdResult<QrCode> {
    Ok(code(&app).qrcode(&appid, path.as_deref()).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn code_categories<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
) -> CmdResult<Vec<Category>> {
    Ok(code(&app).categories(&appid).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn code_pages<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
) -> CmdResult<Vec<String>> {
    Ok(code(&app).pages(&appid).await?)
}

/// 提交审核; returns the auditid.
#[tauri::command]
#[specta::specta]
pub async fn code_submit_audit<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
    form: AuditForm,
) -> CmdResult<f64> {
    Ok(code(&app).submit_audit(&appid, &form.into()).await? as f64)
}

/// 发布 the approved version.
#[tauri::command]
#[specta::specta]
pub async fn code_release<R: Runtime>(app: tauri::AppHandle<R>, appid: String) -> CmdResult<()> {
    Ok(code(&app).release(&appid).await?)
}

/// The versions a rollback may return to.
#[tauri::command]
#[specta::specta]
pub async fn code_history<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
) -> CmdResult<Vec<HistoryVersion>> {
    Ok(code(&app).history(&appid).await?)
}

/// 版本回退 to `app_version`, or the previous online version.
#[tauri::command]
#[specta::specta]
pub async fn code_rollback<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
    app_version: Option<f64>,
) -> CmdResult<()> {
    Ok(code(&app)
        .rollback(&appid, app_version.map(|v| v as i64))
        .await?)
}

/// 撤回审核.
#[tauri::command]
#[specta::specta]
pub async fn code_undo_audit<R: Runtime>(app: tauri::AppHandle<R>, appid: String) -> CmdResult<()> {
    Ok(code(&app).undo_audit(&appid).await?)
}

/// 加急审核 (the latest audit when `auditid` is null).
#[tauri::command]
#[specta::specta]
pub async fn code_speed_up<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
    auditid: Option<f64>,
) -> CmdResult<()> {
    Ok(code(&app)
        .speed_up(&appid, auditid.map(|a| a as i64))
        .await?)
}

/// The platform's audit quota this month.
#[tauri::command]
#[specta::specta]
pub async fn code_quota<R: Runtime>(app: tauri::AppHandle<R>) -> CmdResult<AuditQuota> {
    Ok(code(&app).quota(None).await?)
}

/// Which of `appids` are on which online version.
#[tauri::command]
#[specta::specta]
pub async fn code_versions<R: Runtime>(
    app: tauri::AppHandle<R>,
    appids: Vec<String>,
) -> CmdResult<VersionSummary> {
    Ok(code(&app).versions(&appids).await?)
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
    Ok(code(&app).plan_rollout(&form.into()).await?)
}

/// Writes the rollout and its rows (not started); returns its id.
#[tauri::command]
#[specta::specta]
pub async fn code_rollout_create<R: Runtime>(
    app: tauri::AppHandle<R>,
    form: RolloutForm,
) -> CmdResult<f64> {
    Ok(code(&app).create_rollout(&form.into()).await? as f64)
}

/// Starts a new rollout, or resumes a paused or interrupted one, in the app.
#[tauri::command]
#[specta::specta]
pub async fn code_rollout_start<R: Runtime>(
    app: tauri::AppHandle<R>,
    rollout_id: f64,
) -> CmdResult<()> {
    Ok(code(&app).start_rollout(rollout_id as i64).await?)
}

/// 暂停: steps on the wire finish and are recorded; nothing new starts.
#[tauri::command]
#[specta::specta]
pub async fn code_rollout_pause<R: Runtime>(
    app: tauri::AppHandle<R>,
    rollout_id: f64,
) -> CmdResult<()> {
    Ok(code(&app).pause_rollout(rollout_id as i64).await?)
}

/// 取消: rows with steps left become cancelled (audits already submitted go on at WeChat).
#[tauri::command]
#[specta::specta]
pub async fn code_rollout_cancel<R: Runtime>(
    app: tauri::AppHandle<R>,
    rollout_id: f64,
) -> CmdResult<()> {
    Ok(code(&app).cancel_rollout(rollout_id as i64).await?)
}

/// The latest 50 rollouts, newest first.
#[tauri::command]
#[specta::specta]
pub async fn code_rollouts<R: Runtime>(app: tauri::AppHandle<R>) -> CmdResult<Vec<Rollout>> {
    Ok(code(&app).rollouts(50).await?)
}

/// A rollout with every mini program's state.
#[tauri::command]
#[specta::specta]
pub async fn code_rollout<R: Runtime>(
    app: tauri::AppHandle<R>,
    rollout_id: f64,
) -> CmdResult<RolloutDetail> {
    Ok(code(&app).rollout(rollout_id as i64).await?)
}

/// Which of the rollout's mini programs are on which online version now.
#[tauri::command]
#[specta::specta]
pub async fn code_rollout_versions<R: Runtime>(
    app: tauri::AppHandle<R>,
    rollout_id: f64,
) -> CmdResult<VersionSummary> {
    Ok(code(&app).rollout_versions(rollout_id as i64).await?)
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
    let (code, id) = (code(&app), rollout_id as i64);
    let mut rx = code.subscribe(id).await?;
    loop {
        // Asked before reading: a runner publishes its last state before it stops, so a
        // stopped one's last state is the one read next.
        let active = code.is_active(id);
        let p = rx.borrow_and_update().clone();
        if on_progress.send(p).is_err() || !active {
            return Ok(());
        }
        tokio::select! {
            _ = rx.changed() => {}
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
