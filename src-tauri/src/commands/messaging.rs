//! 订阅通知 (subscription templates, who can receive, the composer's tab), 统一服务消息 (withdrawn:
//! the attempt and its explanation) and the quota tools — one call each into `ctx.subscriptions`,
//! `ctx.compose` and `ctx.quota`.

use tauri::Runtime;
use wxdesk_core::compose::{
    RecipientSource, SubscribeDraft, SubscribeReach, SubscribeStarted, UniformDraft,
};
use wxdesk_core::quota::{QuotaCleared, QuotaReport};
use wxdesk_core::send::HistoryRow;
use wxdesk_core::subscriptions::{
    LibraryKeyword, LibraryPage, Receivers, SubscribeCategory, SubscribeTemplate,
};

use super::{CmdResult, ctx};

/// The account's subscription templates as last listed (no network).
#[tauri::command]
#[specta::specta]
pub async fn subscribe_templates<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
) -> CmdResult<Vec<SubscribeTemplate>> {
    Ok(ctx(&app).subscriptions.list(&appid).await?)
}

/// Lists the account's subscription templates from WeChat and keeps them.
#[tauri::command]
#[specta::specta]
pub async fn subscribe_templates_sync<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
) -> CmdResult<Vec<SubscribeTemplate>> {
    Ok(ctx(&app).subscriptions.sync(&appid).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn subscribe_categories<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
) -> CmdResult<Vec<SubscribeCategory>> {
    Ok(ctx(&app).subscriptions.categories(&appid).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn subscribe_library<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
    category_ids: Vec<i32>,
    start: u32,
    limit: u32,
) -> CmdResult<LibraryPage> {
    let ids: Vec<i64> = category_ids.into_iter().map(i64::from).collect();
    Ok(ctx(&app)
        .subscriptions
        .library(&appid, &ids, start, limit)
        .await?)
}

#[tauri::command]
#[specta::specta]
pub async fn subscribe_keywords<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
    tid: String,
) -> CmdResult<Vec<LibraryKeyword>> {
    Ok(ctx(&app).subscriptions.keywords(&appid, &tid).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn subscribe_template_add<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
    tid: String,
    kids: Vec<i32>,
    scene: String,
) -> CmdResult<SubscribeTemplate> {
    let kids: Vec<i64> = kids.into_iter().map(i64::from).collect();
    Ok(ctx(&app)
        .subscriptions
        .add(&appid, &tid, &kids, &scene)
        .await?)
}

#[tauri::command]
#[specta::specta]
pub async fn subscribe_template_delete<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
    template_id: String,
) -> CmdResult<()> {
    Ok(ctx(&app).subscriptions.delete(&appid, &template_id).await?)
}

/// Who can receive a template now (from the relay's subscription pushes).
#[tauri::command]
#[specta::specta]
pub async fn subscribe_receivers<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
    template_id: String,
    limit: u32,
) -> CmdResult<Receivers> {
    Ok(ctx(&app)
        .subscriptions
        .receivers(&appid, &template_id, limit)
        .await?)
}

/// How many of a source can receive the notice; the others would get 43101.
#[tauri::command]
#[specta::specta]
pub async fn compose_subscribe_reach<R: Runtime>(
    app: tauri::AppHandle<R>,
    draft: SubscribeDraft,
    recipients: RecipientSource,
) -> CmdResult<SubscribeReach> {
    Ok(ctx(&app)
        .compose
        .subscribe_reach(&draft, &recipients)
        .await?)
}

/// Writes and starts the notice job for those who can receive it.
#[tauri::command]
#[specta::specta]
pub async fn compose_subscribe_send<R: Runtime>(
    app: tauri::AppHandle<R>,
    draft: SubscribeDraft,
    recipients: RecipientSource,
) -> CmdResult<SubscribeStarted> {
    Ok(ctx(&app)
        .compose
        .start_subscribe(&draft, &recipients)
        .await?)
}

/// 统一服务消息: attempted; WeChat's 45109 comes back with the replacement named.
#[tauri::command]
#[specta::specta]
pub async fn compose_uniform_send<R: Runtime>(
    app: tauri::AppHandle<R>,
    draft: UniformDraft,
    openid: String,
) -> CmdResult<HistoryRow> {
    Ok(ctx(&app).compose.uniform_send(&draft, &openid).await?)
}

/// An API's quota of the account today (template messages when `cgi_path` is empty).
#[tauri::command]
#[specta::specta]
pub async fn quota_get<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
    cgi_path: Option<String>,
) -> CmdResult<QuotaReport> {
    Ok(ctx(&app).quota.get(&appid, cgi_path.as_deref()).await?)
}

/// Resets the account's quotas (one of its 10 resets a month).
#[tauri::command]
#[specta::specta]
pub async fn quota_clear<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
) -> CmdResult<QuotaCleared> {
    Ok(ctx(&app).quota.clear(&appid).await?)
}

/// Resets the platform's own quota.
#[tauri::command]
#[specta::specta]
pub async fn quota_clear_component<R: Runtime>(
    app: tauri::AppHandle<R>,
) -> CmdResult<QuotaCleared> {
    Ok(ctx(&app).quota.clear_component().await?)
}
