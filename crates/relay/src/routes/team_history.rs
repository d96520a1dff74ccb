//! `GET /api/v1/team/history`: 发送记录 of every job the team server ran (team/history.rs),
//! behind a member key; viewers read it too.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::AppState;
use crate::routes::team::{refusal, unavailable};
use crate::routes::wechat::query_map;
use crate::team::history::{self, Query};
use crate::team::jobs::ROW_STATES;

const DELIVERIES: &[&str] = &[
    "delivered",
    "user_block",
    "system_failed",
    "unknown",
    "pending",
];

/// `?appid&template_id&job_id&state&delivery&from&to&openid&before&limit` →
/// `{"rows": [...], "next_before": id | null}`.
pub async fn list(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let Some(team) = state.team() else {
        return unavailable();
    };
    let q = query_map(raw.as_deref());
    let text = |k: &str| {
        q.get(k)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let number = |k: &str| q.get(k).and_then(|v| v.trim().parse::<i64>().ok());
    let query = Query {
        appid: text("appid"),
        template_id: text("template_id"),
        job_id: number("job_id"),
        state: text("state"),
        delivery: text("delivery"),
        from: number("from"),
        to: number("to"),
        openid: text("openid"),
        before: number("before"),
        limit: number("limit").unwrap_or(100).clamp(1, 1000),
    };
    let bad = |what: &str, v: &str| {
        refusal(
            StatusCode::BAD_REQUEST,
            "bad_history_filter",
            format!("发送记录的筛选条件无效：{what}={v}"),
            format!("Invalid history filter: {what}={v}"),
            Some((
                "升级 wxdesk 到与服务器相同的版本",
                "Run the same wxdesk version as the server.",
            )),
        )
    };
    if let Some(s) = query.state.as_deref().filter(|s| !ROW_STATES.contains(s)) {
        return bad("state", s);
    }
    if let Some(d) = query
        .delivery
        .as_deref()
        .filter(|d| !DELIVERIES.contains(d))
    {
        return bad("delivery", d);
    }
    match history::list(&team.db, &query).await {
        Ok(rows) => {
            let next_before = (rows.len() as i64 == query.limit)
                .then(|| rows.last().map(|r| r.id))
                .flatten();
            Json(json!({ "rows": rows, "next_before": next_before })).into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "team history: database");
            unavailable()
        }
    }
}
