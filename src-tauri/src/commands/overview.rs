//! 概览: sends per day by outcome (Beijing days, the days without sends as zeros) and today's
//! totals (`ctx.history`). Accounts and jobs needing attention come from `list_accounts` and
//! `jobs_list` in the window.

use tauri::Runtime;
use wxdesk_core::send::OverviewStats;

use super::{CmdResult, ctx};

/// The last `days` days (1–90) of outcomes, and today's totals.
#[tauri::command]
#[specta::specta]
pub async fn overview_stats<R: Runtime>(
    app: tauri::AppHandle<R>,
    days: u32,
    appid: Option<String>,
) -> CmdResult<OverviewStats> {
    Ok(ctx(&app).history.overview(days, appid).await?)
}
