//! 发送 (the composer): the live check with the card preview, the confirmation's estimate and
//! quota, the test send, creating and starting the bulk job, customer-service messages, and the
//! composers' unsent drafts (`ctx.compose`, and `ctx.sends` for the job).

use tauri::Runtime;
use wxdesk_core::compose::{
    ComposeCheck, ComposeDraft, CustomMessage, DraftKind, RecipientSource, SendEstimate,
    TemplateDraft,
};
use wxdesk_core::send::HistoryRow;
use wxdesk_core::send::quota::ApiQuota;

use super::{CmdResult, ctx};

/// Checks every value with core's keyword rules and renders the card for the first recipients.
#[tauri::command]
#[specta::specta]
pub async fn compose_check<R: Runtime>(
    app: tauri::AppHandle<R>,
    draft: TemplateDraft,
    recipients: Option<RecipientSource>,
) -> CmdResult<ComposeCheck> {
    Ok(ctx(&app).compose.check(&draft, recipients.as_ref()).await?)
}

/// Counts the recipients of a source and estimates the duration at the engine's rate.
#[tauri::command]
#[specta::specta]
pub async fn compose_estimate<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
    recipients: RecipientSource,
) -> CmdResult<SendEstimate> {
    Ok(ctx(&app).compose.estimate(&appid, &recipients).await?)
}

/// 今日剩余额度: asked of WeChat each time the dialog opens. A failure is the window's to show
/// next to the estimate; it never blocks sending.
#[tauri::command]
#[specta::specta]
pub async fn compose_quota<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
) -> CmdResult<ApiQuota> {
    Ok(ctx(&app).compose.quota(&appid).await?)
}

/// Creates the durable job for every recipient and starts it; returns the job id.
#[tauri::command]
#[specta::specta]
pub async fn compose_send<R: Runtime>(
    app: tauri::AppHandle<R>,
    draft: TemplateDraft,
    recipients: RecipientSource,
) -> CmdResult<f64> {
    Ok(ctx(&app).sends.start_draft(&draft, &recipients).await? as f64)
}

/// 先发给自己: the draft to one openid, with the first recipient's variables; waits for the
/// outcome (the job's one row).
#[tauri::command]
#[specta::specta]
pub async fn compose_test_send<R: Runtime>(
    app: tauri::AppHandle<R>,
    draft: TemplateDraft,
    recipients: Option<RecipientSource>,
    openid: String,
) -> CmdResult<HistoryRow> {
    let compose = ctx(&app).compose;
    Ok(compose
        .test_send(&draft, recipients.as_ref(), &openid)
        .await?)
}

/// Sends a customer-service message to one openid and waits for the outcome.
#[tauri::command]
#[specta::specta]
pub async fn compose_custom_send<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
    openid: String,
    message: CustomMessage,
) -> CmdResult<HistoryRow> {
    Ok(ctx(&app)
        .compose
        .custom_send(&appid, &openid, message)
        .await?)
}

/// The composer's unsent drafts of one account, the most recently saved first (the composer
/// opens on the first; the others come back when their template is chosen).
#[tauri::command]
#[specta::specta]
pub async fn compose_drafts<R: Runtime>(
    app: tauri::AppHandle<R>,
    kind: DraftKind,
    appid: String,
) -> CmdResult<Vec<ComposeDraft>> {
    Ok(ctx(&app).compose.drafts().list(kind, &appid).await?)
}

/// Saves a draft as staff type (the window debounces); returns when it was saved (Unix ms).
#[tauri::command]
#[specta::specta]
pub async fn compose_draft_save<R: Runtime>(
    app: tauri::AppHandle<R>,
    kind: DraftKind,
    appid: String,
    template_id: String,
    body: String,
) -> CmdResult<f64> {
    let at = ctx(&app)
        .compose
        .drafts()
        .save(kind, &appid, &template_id, &body)
        .await?;
    Ok(at as f64)
}

/// 清空, or a draft that was sent: removes it.
#[tauri::command]
#[specta::specta]
pub async fn compose_draft_delete<R: Runtime>(
    app: tauri::AppHandle<R>,
    kind: DraftKind,
    appid: String,
    template_id: String,
) -> CmdResult<bool> {
    Ok(ctx(&app)
        .compose
        .drafts()
        .delete(kind, &appid, &template_id)
        .await?)
}

/// 扫码找到自己: a temporary QR code of the account whose scan makes the scanner the user who
/// just wrote (the test-recipient picker then offers them first).
#[tauri::command]
#[specta::specta]
pub async fn compose_find_yourself_qr<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
) -> CmdResult<wxdesk_core::compose::FindYourselfQr> {
    Ok(ctx(&app).compose.find_yourself_qr(&appid).await?)
}
