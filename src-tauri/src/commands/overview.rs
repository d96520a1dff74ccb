//! 概览: sends per day by outcome (Beijing days, the days without sends as zeros) and today's
//! totals (`ctx.history`). Accounts and jobs needing attention come from `list_accounts` and
//! `jobs_list` in the window.

use tauri::{Manager, Runtime};
use wxdesk_core::send::OverviewStats;

use crate::error::ShellError;
use crate::state::AppState;

/// The last `days` days (1–90) of outcomes, and today's totals.
#[tauri::command]
#[specta::specta]
pub async fn overview_stats<R: Runtime>(
    app: tauri::AppHandle<R>,
    days: u32,
    appid: Option<String>,
) -> Result<OverviewStats, ShellError> {
    Ok(app
        .state::<AppState>()
        .ctx
        .history
        .overview(days, appid)
        .await?)
}
