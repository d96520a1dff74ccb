//! 发送记录: the history table (filters, openid search, keyset "load more"), the detail drawer
//! (request rebuilt without the token, last response) and CSV export. Adapters over
//! `wxdesk_core::history`.

use serde::{Deserialize, Serialize};
use specta_typescript::Number;
use tauri::{Manager, Runtime};
use wxdesk_core::history::{self, HistoryDetail, HistoryFilter, HistoryRow};
use wxdesk_core::send::{Delivery, RecipientState};

use super::templates::core_err;
use crate::error::ShellError;
use crate::state::AppState;

type CmdResult<T> = Result<T, ShellError>;

fn num(n: impl TryInto<i64>) -> f64 {
    n.try_into().map_or(f64::MAX, |v: i64| v as f64)
}

/// The status filter: a recipient state, or a delivery report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum HistoryStatus {
    Pending,
    Sent,
    FailedRetryable,
    FailedPermanent,
    Uncertain,
    Skipped,
    Cancelled,
    Delivered,
    UserBlock,
    SystemFailed,
    DeliveryPending,
    DeliveryUnknown,
}

/// The filters of the history table (all optional).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, specta::Type)]
pub struct HistoryQuery {
    pub appid: Option<String>,
    pub template_id: Option<String>,
    #[specta(type = Option<Number>)]
    pub job_id: Option<f64>,
    pub status: Option<HistoryStatus>,
    /// Unix seconds, inclusive.
    #[specta(type = Option<Number>)]
    pub from: Option<f64>,
    /// Unix seconds, exclusive.
    #[specta(type = Option<Number>)]
    pub to: Option<f64>,
    /// Exact openid.
    pub openid: Option<String>,
}

fn filter(q: HistoryQuery) -> HistoryFilter {
    let (state, delivery) = match q.status {
        None => (None, None),
        Some(s) => {
            use HistoryStatus as H;
            match s {
                H::Pending => (Some(RecipientState::Pending), None),
                H::Sent => (Some(RecipientState::Sent), None),
                H::FailedRetryable => (Some(RecipientState::FailedRetryable), None),
                H::FailedPermanent => (Some(RecipientState::FailedPermanent), None),
                H::Uncertain => (Some(RecipientState::Uncertain), None),
                H::Skipped => (Some(RecipientState::Skipped), None),
                H::Cancelled => (Some(RecipientState::Cancelled), None),
                H::Delivered => (None, Some(Delivery::Delivered)),
                H::UserBlock => (None, Some(Delivery::UserBlock)),
                H::SystemFailed => (None, Some(Delivery::SystemFailed)),
                H::DeliveryPending => (None, Some(Delivery::Pending)),
                H::DeliveryUnknown => (None, Some(Delivery::Unknown)),
            }
        }
    };
    let nonempty = |s: Option<String>| s.map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    HistoryFilter {
        appid: nonempty(q.appid),
        template_id: nonempty(q.template_id),
        job_id: q.job_id.map(|j| j as i64),
        state,
        delivery,
        from: q.from.map(|v| v as i64),
        to: q.to.map(|v| v as i64),
        openid: nonempty(q.openid),
    }
}

/// One history row.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct HistoryRowView {
    #[specta(type = Number)]
    pub id: f64,
    #[specta(type = Number)]
    pub job_id: f64,
    pub appid: String,
    pub kind: String,
    pub template_id: String,
    pub openid: String,
    pub state: String,
    pub state_label: String,
    #[specta(type = Number)]
    pub attempts: f64,
    #[specta(type = Option<Number>)]
    pub msgid: Option<f64>,
    #[specta(type = Option<Number>)]
    pub errcode: Option<f64>,
    pub errmsg: Option<String>,
    /// zh-CN meaning and what to do, when there is an errcode.
    pub err_hint: Option<String>,
    /// `delivered`, `user_block`, `system_failed`, `unknown`, `pending`, or none (no report
    /// expected: not sent, or not a template message).
    pub delivery: Option<String>,
    pub delivery_label: Option<String>,
    #[specta(type = Number)]
    pub created_at: f64,
    #[specta(type = Option<Number>)]
    pub done_at: Option<f64>,
    #[specta(type = Option<Number>)]
    pub delivered_at: Option<f64>,
}

impl From<HistoryRow> for HistoryRowView {
    fn from(r: HistoryRow) -> Self {
        HistoryRowView {
            id: num(r.id),
            job_id: num(r.job_id),
            appid: r.appid,
            kind: r.kind.as_str().into(),
            template_id: r.template_id,
            openid: r.openid,
            state: r.state.as_str().into(),
            state_label: r.state.label_zh().into(),
            attempts: f64::from(r.attempts),
            msgid: r.msgid.map(num),
            errcode: r.errcode.map(num),
            errmsg: r.errmsg,
            err_hint: r.explanation.map(|e| format!("{}。{}", e.zh, e.hint_zh)),
            delivery: r.delivery.map(|d| d.as_str().into()),
            delivery_label: r.delivery.map(|d| d.label_zh().into()),
            created_at: num(r.created_at),
            done_at: r.done_at.map(num),
            delivered_at: r.delivered_at.map(num),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct HistoryPageView {
    pub rows: Vec<HistoryRowView>,
    /// Pass as `before` for the next (older) page; `None` on the last page.
    #[specta(type = Option<Number>)]
    pub next_before: Option<f64>,
}

/// One page of history, newest first.
#[tauri::command]
#[specta::specta]
pub async fn history_list<R: Runtime>(
    app: tauri::AppHandle<R>,
    query: HistoryQuery,
    before: Option<f64>,
    limit: f64,
) -> CmdResult<HistoryPageView> {
    let store = app.state::<AppState>().ctx.store.clone();
    let f = filter(query);
    let before = before.map(|b| b as i64);
    let page = store
        .call(move |c| history::list(c, &f, before, limit.clamp(1.0, 1000.0) as u32))
        .await
        .map_err(core_err)?;
    Ok(HistoryPageView {
        rows: page.rows.into_iter().map(Into::into).collect(),
        next_before: page.next_before.map(num),
    })
}

/// The detail drawer. JSON travels as pretty-printed text.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct HistoryDetailView {
    pub row: HistoryRowView,
    pub job_title: String,
    pub vars: String,
    pub client_msg_id: Option<String>,
    /// `POST /cgi-bin/…?access_token=***` — the token is never stored or shown.
    pub request_line: Option<String>,
    pub request_body: Option<String>,
    pub response: Option<String>,
}

fn pretty(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

impl From<HistoryDetail> for HistoryDetailView {
    fn from(d: HistoryDetail) -> Self {
        HistoryDetailView {
            row: d.row.into(),
            job_title: d.job_title,
            vars: pretty(&d.vars),
            client_msg_id: d.client_msg_id,
            request_line: d
                .request
                .as_ref()
                .map(|r| format!("POST /{}?access_token=***", r.path.trim_start_matches('/'))),
            request_body: d.request.as_ref().map(|r| pretty(&r.body)),
            response: d.response.as_ref().map(pretty),
        }
    }
}

#[tauri::command]
#[specta::specta]
pub async fn history_detail<R: Runtime>(
    app: tauri::AppHandle<R>,
    id: f64,
) -> CmdResult<Option<HistoryDetailView>> {
    let store = app.state::<AppState>().ctx.store.clone();
    let d = store
        .call(move |c| history::detail(c, id as i64))
        .await
        .map_err(core_err)?;
    Ok(d.map(Into::into))
}

/// Writes every row matching the filters to `path` (chosen in the save dialog) as CSV; returns
/// the rows written.
#[tauri::command]
#[specta::specta]
pub async fn history_export<R: Runtime>(
    app: tauri::AppHandle<R>,
    query: HistoryQuery,
    path: String,
) -> CmdResult<f64> {
    let store = app.state::<AppState>().ctx.store.clone();
    let f = filter(query);
    let n = store
        .call(move |c| history::export_csv(c, &f, std::path::Path::new(&path)))
        .await
        .map_err(core_err)?;
    Ok(num(n))
}
