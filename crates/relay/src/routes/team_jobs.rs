//! `/api/v1/team/jobs…`: bulk-send jobs run by the team server (team/jobs.rs), behind a member
//! key. Creating and changing a job needs operator; reading it, viewer.

use std::time::Duration;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;

use crate::AppState;
use crate::routes::team::{refusal, unavailable};
use crate::routes::team_extract::{Operator, Team};
use crate::routes::wechat::query_map;
use crate::team::jobs::{self, Action, Refused};
use crate::team::members::{Member, Role};

/// How long a watch waits for a change by default, and at most.
const WATCH_SECS: u64 = 20;
const WATCH_MAX_SECS: u64 = 30;

pub(crate) fn needs(member: &Member, role: Role) -> Option<Response> {
    (member.role < role).then(|| {
        refusal(
            StatusCode::FORBIDDEN,
            "role_too_low",
            format!(
                "你的角色（{}）不能做这件事，需要 {}",
                member.role.as_str(),
                role.as_str()
            ),
            format!(
                "Your role ({}) cannot do this; it needs {}.",
                member.role.as_str(),
                role.as_str()
            ),
            Some((
                "请团队管理员调整你的角色",
                "Ask the team's admin to change your role.",
            )),
        )
    })
}

fn no_such_job() -> Response {
    refusal(
        StatusCode::NOT_FOUND,
        "no_such_job",
        "团队服务器上没有这个发送任务",
        "The team server has no such send job.",
        Some(("刷新任务列表", "Refresh the job list.")),
    )
}

pub(crate) fn refused(r: Refused) -> Response {
    match r {
        Refused::Invalid(code, zh, en) => refusal(
            if code == "job_too_large" {
                StatusCode::PAYLOAD_TOO_LARGE
            } else {
                StatusCode::BAD_REQUEST
            },
            code,
            zh,
            en,
            Some((
                "检查收件人与发送设置；持续出现请升级 wxdesk 到与服务器相同的版本",
                "Check the recipients and settings; if it persists, run the same wxdesk version as the server.",
            )),
        ),
        Refused::NotFound => no_such_job(),
        Refused::BadState { status } => refusal(
            StatusCode::CONFLICT,
            "bad_job_state",
            format!("任务当前状态（{status}）不允许这个操作"),
            format!("The job's status ({status}) does not allow this."),
            Some(("刷新任务查看最新状态", "Refresh the job to see its status.")),
        ),
        Refused::Db(e) => {
            tracing::error!(error = %e, "team jobs: database");
            unavailable()
        }
    }
}

fn bad_id() -> Response {
    no_such_job()
}

/// `POST /api/v1/team/jobs`.
pub async fn create(Team(team): Team, Operator(member): Operator, req: Request) -> Response {
    let too_large = || {
        refused(Refused::Invalid(
            "job_too_large",
            format!("任务请求超过 {} MiB，请拆成多个任务", jobs::MAX_BODY >> 20),
            format!(
                "The job is larger than {} MiB; split it into several jobs.",
                jobs::MAX_BODY >> 20
            ),
        ))
    };
    let body: Body = req.into_body();
    let Ok(bytes) = axum::body::to_bytes(body, jobs::MAX_BODY).await else {
        return too_large();
    };
    let job: jobs::NewJob = match serde_json::from_slice(&bytes) {
        Ok(j) => j,
        Err(e) => {
            return refused(Refused::Invalid(
                "bad_job",
                format!("任务请求不是有效的 JSON：{e}"),
                format!("The job request is not valid JSON: {e}"),
            ));
        }
    };
    drop(bytes);
    match jobs::create(&team.db, &member, job).await {
        Ok(id) => (StatusCode::CREATED, Json(json!({ "id": id }))).into_response(),
        Err(r) => refused(r),
    }
}

/// `GET /api/v1/team/jobs?limit=N`.
pub async fn list(Team(team): Team, RawQuery(raw): RawQuery) -> Response {
    let limit = query_map(raw.as_deref())
        .get("limit")
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(50)
        .clamp(1, 1000);
    match jobs::list(&team.db, limit).await {
        Ok(list) => Json(json!({ "jobs": list })).into_response(),
        Err(e) => refused(Refused::Db(e)),
    }
}

/// `GET /api/v1/team/jobs/{id}`.
pub async fn get(Team(team): Team, Path(id): Path<String>) -> Response {
    let Ok(id) = id.parse::<i64>() else {
        return bad_id();
    };
    match jobs::get(&team.db, id).await {
        Ok(Some(job)) => Json(job).into_response(),
        Ok(None) => no_such_job(),
        Err(e) => refused(Refused::Db(e)),
    }
}

/// `GET /api/v1/team/jobs/{id}/watch?version=N[&wait=S]`: the job as soon as its version is
/// above N, or after the wait with the current one. Subscribed before reading, so a change
/// committed between the read and the wait still wakes it.
pub async fn watch(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let Some(team) = state.team() else {
        return unavailable();
    };
    let Ok(id) = id.parse::<i64>() else {
        return bad_id();
    };
    let q = query_map(raw.as_deref());
    let seen = q
        .get("version")
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(0);
    let wait = q
        .get("wait")
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(WATCH_SECS)
        .min(WATCH_MAX_SECS);
    let mut heard = team.jobs.subscribe();
    let mut stop = state.shutdown_signal();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(wait);
    loop {
        let job = match jobs::get(&team.db, id).await {
            Ok(Some(job)) => job,
            Ok(None) => return no_such_job(),
            Err(e) => return refused(Refused::Db(e)),
        };
        if job.version > seen {
            return Json(job).into_response();
        }
        // Wait for a notification about this job (or a reconnect, or lost messages).
        let woke = loop {
            tokio::select! {
                m = heard.recv() => match m {
                    Ok(j) if j == id || j == -1 => break true,
                    Ok(_) => {}
                    Err(RecvError::Lagged(_)) => break true,
                    Err(RecvError::Closed) => break false,
                },
                _ = tokio::time::sleep_until(deadline) => break false,
                _ = stop.wait_for(|s| *s) => break false,
            }
        };
        if !woke {
            return Json(job).into_response();
        }
    }
}

/// `GET /api/v1/team/jobs/{id}/rows?state=S&after_seq=K&limit=L`.
pub async fn rows(Team(team): Team, Path(id): Path<String>, RawQuery(raw): RawQuery) -> Response {
    let Ok(id) = id.parse::<i64>() else {
        return bad_id();
    };
    let q = query_map(raw.as_deref());
    let st = q.get("state").map(String::as_str).filter(|s| !s.is_empty());
    if let Some(s) = st
        && !jobs::ROW_STATES.contains(&s)
    {
        return refused(Refused::Invalid(
            "bad_row_state",
            format!("没有这种收件人状态：{s}"),
            format!("No such recipient state: {s}"),
        ));
    }
    let after = q
        .get("after_seq")
        .and_then(|v| v.parse::<i32>().ok())
        .unwrap_or(0);
    let limit = q
        .get("limit")
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(1000)
        .clamp(1, 1000);
    match jobs::rows(&team.db, id, st, after, limit).await {
        Ok(Some(rows)) => Json(json!({ "rows": rows })).into_response(),
        Ok(None) => no_such_job(),
        Err(e) => refused(Refused::Db(e)),
    }
}

/// `POST /api/v1/team/jobs/{id}/{pause|resume|cancel|resend-uncertain}`.
pub async fn act(
    Team(team): Team,
    Operator(member): Operator,
    Path((id, action)): Path<(String, String)>,
) -> Response {
    let Some(action) = Action::parse(&action) else {
        return crate::http::not_found().await.into_response();
    };
    let Ok(id) = id.parse::<i64>() else {
        return bad_id();
    };
    match jobs::act(&team.db, &member, id, action).await {
        Ok(job) => Json(job).into_response(),
        Err(r) => refused(r),
    }
}
