//! 概览: sends per day by outcome (Beijing days) and today's totals. Accounts needing attention
//! come from `list_accounts` and `jobs_list` in the window.

use serde::Serialize;
use specta_typescript::Number;
use tauri::{Manager, Runtime};
use wxdesk_core::history::{self, DayCounts};

use super::templates::core_err;
use crate::error::ShellError;
use crate::state::AppState;

type CmdResult<T> = Result<T, ShellError>;

/// One day of outcomes.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct DayView {
    /// `YYYY-MM-DD`, Beijing time.
    pub day: String,
    #[specta(type = Number)]
    pub sent: f64,
    #[specta(type = Number)]
    pub failed: f64,
    #[specta(type = Number)]
    pub uncertain: f64,
    #[specta(type = Number)]
    pub delivered: f64,
    #[specta(type = Number)]
    pub user_block: f64,
    #[specta(type = Number)]
    pub system_failed: f64,
}

impl From<DayCounts> for DayView {
    fn from(d: DayCounts) -> Self {
        DayView {
            day: d.day,
            sent: d.sent as f64,
            failed: d.failed as f64,
            uncertain: d.uncertain as f64,
            delivered: d.delivered as f64,
            user_block: d.user_block as f64,
            system_failed: d.system_failed as f64,
        }
    }
}

/// The chart's data and today's cards.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct OverviewStats {
    /// Every day of the range, oldest first (days without sends are zeros).
    pub days: Vec<DayView>,
    pub today: DayView,
}

/// The last `days` days (1–90) of outcomes, and today's totals.
#[tauri::command]
#[specta::specta]
pub async fn overview_stats<R: Runtime>(
    app: tauri::AppHandle<R>,
    days: f64,
    appid: Option<String>,
) -> CmdResult<OverviewStats> {
    let store = app.state::<AppState>().ctx.store.clone();
    let span = days.clamp(1.0, 90.0) as u32;
    store
        .call(move |c| {
            let all = history::recent_days(c, span)?;
            let (Some(first), Some(last)) = (all.first(), all.last()) else {
                return Err(wxdesk_core::Error::Invalid("日期范围无效".into()));
            };
            let have = history::daily_counts(c, first, last, appid.as_deref())?;
            let today = history::today_totals(c, appid.as_deref())?;
            let days = all
                .iter()
                .map(|day| {
                    have.iter()
                        .find(|d| &d.day == day)
                        .cloned()
                        .unwrap_or(DayCounts {
                            day: day.clone(),
                            ..Default::default()
                        })
                        .into()
                })
                .collect();
            Ok(OverviewStats {
                days,
                today: today.into(),
            })
        })
        .await
        .map_err(core_err)
}
