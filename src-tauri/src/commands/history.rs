//! 发送记录: the history table (filters, openid search, keyset "load more"), the detail drawer
//! and CSV export (`ctx.history`).

use tauri::Runtime;
use wxdesk_core::send::{HistoryDetail, HistoryFilter, HistoryPage};

use super::{CmdResult, ctx};

/// One page of history, newest first; `before` is the previous page's `next_before`.
#[tauri::command]
#[specta::specta]
pub async fn history_list<R: Runtime>(
    app: tauri::AppHandle<R>,
    query: HistoryFilter,
    before: Option<f64>,
    limit: u32,
) -> CmdResult<HistoryPage> {
    let history = &ctx(&app).history;
    Ok(history
        .list(query, before.map(|b| b as i64), Some(limit))
        .await?)
}

/// The detail drawer of one row (request rebuilt without the token, last response).
#[tauri::command]
#[specta::specta]
pub async fn history_detail<R: Runtime>(
    app: tauri::AppHandle<R>,
    id: f64,
) -> CmdResult<Option<HistoryDetail>> {
    Ok(ctx(&app).history.detail(id as i64).await?)
}

/// Writes every row matching the filters to `path` (chosen in the save dialog) as CSV; returns
/// the rows written.
#[tauri::command]
#[specta::specta]
pub async fn history_export<R: Runtime>(
    app: tauri::AppHandle<R>,
    query: HistoryFilter,
    path: String,
) -> CmdResult<f64> {
    let history = &ctx(&app).history;
    Ok(history.export_csv(query, path.into()).await? as f64)
}
