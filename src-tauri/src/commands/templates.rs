//! 模板: the account's private templates (sync, add from the library, delete, local notes) and
//! its industry — `ctx.templates`.

use tauri::Runtime;
use wxdesk_core::accounts::AccountCard;
use wxdesk_core::templates::{IndustryPair, Template, TemplateSyncReport};

use super::{CmdResult, ctx};

/// The official accounts currently authorized here, for the account pickers of 模板 and
/// 用户与名单 (mini programs and revoked accounts have no templates or followers to manage).
#[tauri::command]
#[specta::specta]
pub async fn audience_accounts<R: Runtime>(
    app: tauri::AppHandle<R>,
) -> CmdResult<Vec<AccountCard>> {
    Ok(ctx(&app).templates.accounts().await?)
}

/// The account's templates as last synced (no network).
#[tauri::command]
#[specta::specta]
pub async fn templates_list<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
) -> CmdResult<Vec<Template>> {
    Ok(ctx(&app).templates.list(&appid).await?)
}

/// 同步模板: get_all_private_template into the local table (aliases and notes kept).
#[tauri::command]
#[specta::specta]
pub async fn templates_sync<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
) -> CmdResult<TemplateSyncReport> {
    Ok(ctx(&app).templates.sync(&appid).await?)
}

/// 从模板库添加: `short_id` is the library number (with keyword names) or a legacy `TM…` id.
#[tauri::command]
#[specta::specta]
pub async fn templates_add<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
    short_id: String,
    keywords: Vec<String>,
) -> CmdResult<Template> {
    Ok(ctx(&app)
        .templates
        .add(&appid, &short_id, &keywords)
        .await?)
}

/// Deletes the template at WeChat and locally.
#[tauri::command]
#[specta::specta]
pub async fn templates_delete<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
    template_id: String,
) -> CmdResult<()> {
    Ok(ctx(&app).templates.delete(&appid, &template_id).await?)
}

/// Local alias and note (never sent to WeChat).
#[tauri::command]
#[specta::specta]
pub async fn templates_set_notes<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
    template_id: String,
    alias: String,
    note: String,
) -> CmdResult<()> {
    Ok(ctx(&app)
        .templates
        .set_notes(&appid, &template_id, &alias, &note)
        .await?)
}

/// The account's two industries (a WeChat call).
#[tauri::command]
#[specta::specta]
pub async fn templates_get_industry<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
) -> CmdResult<IndustryPair> {
    Ok(ctx(&app).templates.industry(&appid).await?)
}

/// api_set_industry with WeChat's industry numbers (WeChat allows one change a month).
#[tauri::command]
#[specta::specta]
pub async fn templates_set_industry<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
    primary_id: String,
    secondary_id: String,
) -> CmdResult<()> {
    Ok(ctx(&app)
        .templates
        .set_industry(&appid, &primary_id, &secondary_id)
        .await?)
}
