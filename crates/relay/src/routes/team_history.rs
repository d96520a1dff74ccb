//! `GET /api/v1/team/history`: 发送记录 of every job the team server ran (team/history.rs),
//! behind a member key; viewers read it too.

use axum::Json;
use axum::extract::RawQuery;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::routes::team::{refusal, unavailable};
use crate::routes::team_extract::Team;
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
pub async fn list(Team(team): Team, RawQuery(raw): RawQuery) -> Response {
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

/// `GET /api/v1/team/history/days?from=YYYY-MM-DD&to=YYYY-MM-DD[&appid=]` →
/// `{"days": [{"day","sent","failed","uncertain","delivered","user_block","system_failed"}]}`,
/// only the days with any outcome.
pub async fn days(Team(team): Team, RawQuery(raw): RawQuery) -> Response {
    let q = query_map(raw.as_deref());
    let day = |k: &str| q.get(k).map(|v| v.trim().to_owned()).filter(|v| is_day(v));
    let (Some(from), Some(to)) = (day("from"), day("to")) else {
        return refusal(
            StatusCode::BAD_REQUEST,
            "bad_history_filter",
            "概览的日期范围无效（from、to 为 YYYY-MM-DD）",
            "Invalid overview range (from and to are YYYY-MM-DD).",
            None,
        );
    };
    let appid = q.get("appid").map(|v| v.trim()).filter(|v| !v.is_empty());
    match history::days(&team.db, &from, &to, appid).await {
        Ok(days) => Json(json!({ "days": days })).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "team history days: database");
            unavailable()
        }
    }
}

/// `YYYY-MM-DD` with a month 1–12 and a day 1–28/29/30/31 of that month.
fn is_day(v: &str) -> bool {
    let mut parts = v.split('-');
    let (Some(y), Some(m), Some(d), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let num = |s: &str, len: usize| {
        (s.len() == len && s.bytes().all(|c| c.is_ascii_digit()))
            .then(|| s.parse::<u32>().ok())
            .flatten()
    };
    let (Some(y), Some(m), Some(d)) = (num(y, 4), num(m, 2), num(d, 2)) else {
        return false;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let last = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=last).contains(&d)
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_calendar_days_pass() {
        for ok in ["2026-12-03", "2024-02-29", "2000-02-29"] {
            assert!(super::is_day(ok), "{ok}");
        }
        for bad in [
            "2026-13-01",
            "2026-02-29",
            "1900-02-29",
            "2026-1-01",
            "26-12-03",
            "x",
            "",
        ] {
            assert!(!super::is_day(bad), "{bad}");
        }
    }
}
