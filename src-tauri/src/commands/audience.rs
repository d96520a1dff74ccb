//! 用户与名单: followers (synced with progress over a Channel, cancellable, resumable), tags,
//! recipient lists (from followers, pasted openids or a CSV/XLSX file, with an import preview)
//! and the unionid bridge — `ctx.audience`.

use tauri::Runtime;
use tauri::ipc::Channel;
use wxdesk_core::audience::{
    BridgeReport, FollowerCount, FollowerCounts, FollowerFilter, FollowerPage, ImportInput,
    ImportOptions, ImportPreview, ImportSaved, MemberPage, RecipientList, SyncOptions,
    SyncProgress, SyncReport, SyncState, TagRow,
};

use super::{CmdResult, ctx};

/// 同步粉丝: user/get + batchget + tags, progress streamed on `on_progress`. Continues an
/// interrupted run. Refused while a sync of the same account is running.
#[tauri::command]
#[specta::specta]
pub async fn followers_sync<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
    on_progress: Channel<SyncProgress>,
) -> CmdResult<SyncReport> {
    // The window may have closed; the sync goes on and its checkpoint is saved.
    let progress = move |p| drop(on_progress.send(p));
    Ok(ctx(&app)
        .audience
        .sync(&appid, SyncOptions::default(), &progress)
        .await?)
}

/// 取消同步: stops the running sync at its next step; its checkpoint is kept for 继续同步.
/// Returns whether a sync was running.
#[tauri::command]
#[specta::specta]
pub fn followers_sync_cancel<R: Runtime>(app: tauri::AppHandle<R>, appid: String) -> bool {
    ctx(&app).audience.cancel_sync(&appid)
}

/// The checkpoint of the account's last (or unfinished) sync; `null` before the first sync.
#[tauri::command]
#[specta::specta]
pub async fn followers_sync_state<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
) -> CmdResult<Option<SyncState>> {
    Ok(ctx(&app).audience.sync_state(&appid).await?)
}

/// Totals over all synced followers of the account.
#[tauri::command]
#[specta::specta]
pub async fn followers_totals<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
) -> CmdResult<FollowerCounts> {
    Ok(ctx(&app).audience.totals(&appid).await?)
}

/// How many followers match the query (the table's row count).
#[tauri::command]
#[specta::specta]
pub async fn followers_count<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
    query: FollowerFilter,
) -> CmdResult<FollowerCount> {
    Ok(ctx(&app).audience.count(&appid, query).await?)
}

/// One keyset page of followers in openid order after `after` (at most 5,000).
#[tauri::command]
#[specta::specta]
pub async fn followers_page<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
    query: FollowerFilter,
    after: Option<String>,
    limit: u32,
) -> CmdResult<FollowerPage> {
    Ok(ctx(&app)
        .audience
        .followers(&appid, query, after, limit)
        .await?)
}

/// The account's tags (synced with the followers).
#[tauri::command]
#[specta::specta]
pub async fn tags_list<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
) -> CmdResult<Vec<TagRow>> {
    Ok(ctx(&app).audience.tags(&appid).await?)
}

/// The account's saved lists, newest first.
#[tauri::command]
#[specta::specta]
pub async fn lists_list<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
) -> CmdResult<Vec<RecipientList>> {
    Ok(ctx(&app).audience.lists(Some(&appid)).await?)
}

/// One keyset page of a list's members with their variables.
#[tauri::command]
#[specta::specta]
pub async fn list_members<R: Runtime>(
    app: tauri::AppHandle<R>,
    list_id: i32,
    after: Option<String>,
    limit: u32,
) -> CmdResult<MemberPage> {
    Ok(ctx(&app)
        .audience
        .members(list_id.into(), after, limit)
        .await?)
}

/// Deletes a list and its members.
#[tauri::command]
#[specta::specta]
pub async fn list_delete<R: Runtime>(app: tauri::AppHandle<R>, list_id: i32) -> CmdResult<bool> {
    Ok(ctx(&app).audience.delete_list(list_id.into()).await?)
}

/// Saves the following followers (all, or one tag's) as a list.
#[tauri::command]
#[specta::specta]
pub async fn list_create_from_followers<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
    name: String,
    tag_id: Option<i32>,
) -> CmdResult<RecipientList> {
    let filter = FollowerFilter {
        tag_id: tag_id.map(Into::into),
        ..FollowerFilter::default()
    };
    Ok(ctx(&app)
        .audience
        .list_from_followers(&appid, &name, filter)
        .await?)
}

/// Reads and checks an import (pasted or a file) without saving: the preview.
#[tauri::command]
#[specta::specta]
pub async fn list_import_preview<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
    input: ImportInput,
    choices: ImportOptions,
) -> CmdResult<ImportPreview> {
    Ok(ctx(&app)
        .audience
        .import_preview(&appid, input.into(), choices)
        .await?)
}

/// Reads the same input again (the file or text is the truth) and saves it as a list.
#[tauri::command]
#[specta::specta]
pub async fn list_import_save<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
    name: String,
    input: ImportInput,
    choices: ImportOptions,
) -> CmdResult<ImportSaved> {
    Ok(ctx(&app)
        .audience
        .import_save(&appid, &name, input.into(), choices)
        .await?)
}

/// 小程序用户映射: the preview of mapping a file of (openid, unionid) to followers.
#[tauri::command]
#[specta::specta]
pub async fn bridge_preview<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
    input: ImportInput,
) -> CmdResult<BridgeReport> {
    Ok(ctx(&app)
        .audience
        .bridge_preview(&appid, input.into())
        .await?)
}

/// Maps the file again and saves the matched followers as a list.
#[tauri::command]
#[specta::specta]
pub async fn bridge_save<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
    name: String,
    input: ImportInput,
) -> CmdResult<RecipientList> {
    Ok(ctx(&app)
        .audience
        .bridge_save(&appid, &name, input.into())
        .await?)
}
