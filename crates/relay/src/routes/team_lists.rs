//! `/api/v1/team/lists…`: the shared workspace's 名单 (team/lists.rs), and its customer-service
//! windows (team/windows.rs), behind a member key. Reading needs viewer; making and deleting a
//! list, operator.
//!
//! - `GET  lists[?appid=A]` → `{"lists": [...]}`
//! - `GET  lists/{id}` → the list
//! - `GET  lists/{id}/members?after=O&limit=N` → `{"items": [{openid, vars}], "next_after"}`
//! - `POST lists` `{appid, name, source, variables}` → `{"id"}` (an invisible upload)
//! - `POST lists/{id}/members` `{"members": [{openid, vars}]}` → `{"added"}`
//! - `POST lists/{id}/ready` → the list, visible to every desk from now on
//! - `DELETE lists/{id}` → `{"deleted": true}`
//! - `GET  windows?appid=A&after_at=T&after_openid=O&limit=N` → `{"rows", "total", "more", "now"}`: the users
//!   whose window is open now, newest action first

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::json;

use crate::AppState;
use crate::routes::team::{refusal, unavailable};
use crate::routes::team_jobs::{needs, refused};
use crate::routes::wechat::query_map;
use crate::team::jobs::Refused;
use crate::team::lists::{self, NewList, NewMember};
use crate::team::members::{Member, Role};

fn no_such_list() -> Response {
    refusal(
        StatusCode::NOT_FOUND,
        "no_such_list",
        "团队服务器上没有这个名单（可能已被删除）",
        "The team server has no such list (it may have been deleted).",
        Some(("刷新名单列表", "Refresh the lists.")),
    )
}

fn answer(r: Refused) -> Response {
    match r {
        Refused::NotFound => no_such_list(),
        other => refused(other),
    }
}

fn bad_json(e: &serde_json::Error) -> Response {
    refused(Refused::Invalid(
        "bad_list",
        format!("名单请求不是有效的 JSON：{e}"),
        format!("The list request is not valid JSON: {e}"),
    ))
}

/// `GET /api/v1/team/lists[?appid=A]`.
pub async fn list(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let Some(team) = state.team() else {
        return unavailable();
    };
    let q = query_map(raw.as_deref());
    let appid = q.get("appid").map(|a| a.trim()).filter(|a| !a.is_empty());
    match lists::list(&team.db, appid).await {
        Ok(all) => Json(json!({ "lists": all })).into_response(),
        Err(e) => refused(Refused::Db(e)),
    }
}

/// `GET /api/v1/team/lists/{id}`.
pub async fn get(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let Some(team) = state.team() else {
        return unavailable();
    };
    let Ok(id) = id.parse::<i64>() else {
        return no_such_list();
    };
    match lists::get(&team.db, id).await {
        Ok(Some(l)) => Json(l).into_response(),
        Ok(None) => no_such_list(),
        Err(e) => refused(Refused::Db(e)),
    }
}

/// `GET /api/v1/team/lists/{id}/members?after=O&limit=N`.
pub async fn members(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let Some(team) = state.team() else {
        return unavailable();
    };
    let Ok(id) = id.parse::<i64>() else {
        return no_such_list();
    };
    let q = query_map(raw.as_deref());
    let after = q.get("after").map(String::as_str).filter(|a| !a.is_empty());
    let limit = q
        .get("limit")
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(lists::DEFAULT_PAGE);
    match lists::members(&team.db, id, after, limit).await {
        Ok(Some((items, next_after))) => {
            Json(json!({ "items": items, "next_after": next_after })).into_response()
        }
        Ok(None) => no_such_list(),
        Err(e) => refused(Refused::Db(e)),
    }
}

/// `POST /api/v1/team/lists`.
pub async fn create(
    State(state): State<AppState>,
    Extension(member): Extension<Member>,
    body: Bytes,
) -> Response {
    let Some(team) = state.team() else {
        return unavailable();
    };
    if let Some(r) = needs(&member, Role::Operator) {
        return r;
    }
    let new: NewList = match serde_json::from_slice(&body) {
        Ok(n) => n,
        Err(e) => return bad_json(&e),
    };
    match lists::create(&team.db, &member, new).await {
        Ok(id) => (StatusCode::CREATED, Json(json!({ "id": id }))).into_response(),
        Err(r) => answer(r),
    }
}

#[derive(Deserialize)]
struct Chunk {
    members: Vec<NewMember>,
}

/// `POST /api/v1/team/lists/{id}/members`.
pub async fn add_members(
    State(state): State<AppState>,
    Extension(member): Extension<Member>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let Some(team) = state.team() else {
        return unavailable();
    };
    if let Some(r) = needs(&member, Role::Operator) {
        return r;
    }
    let Ok(id) = id.parse::<i64>() else {
        return no_such_list();
    };
    let chunk: Chunk = match serde_json::from_slice(&body) {
        Ok(c) => c,
        Err(e) => return bad_json(&e),
    };
    drop(body);
    match lists::add_members(&team.db, &member, id, chunk.members).await {
        Ok(added) => Json(json!({ "added": added })).into_response(),
        Err(r) => answer(r),
    }
}

/// `POST /api/v1/team/lists/{id}/ready`.
pub async fn finish(
    State(state): State<AppState>,
    Extension(member): Extension<Member>,
    Path(id): Path<String>,
) -> Response {
    let Some(team) = state.team() else {
        return unavailable();
    };
    if let Some(r) = needs(&member, Role::Operator) {
        return r;
    }
    let Ok(id) = id.parse::<i64>() else {
        return no_such_list();
    };
    match lists::finish(&team.db, &member, id).await {
        Ok(l) => Json(l).into_response(),
        Err(r) => answer(r),
    }
}

/// `DELETE /api/v1/team/lists/{id}`.
pub async fn delete(
    State(state): State<AppState>,
    Extension(member): Extension<Member>,
    Path(id): Path<String>,
) -> Response {
    let Some(team) = state.team() else {
        return unavailable();
    };
    if let Some(r) = needs(&member, Role::Operator) {
        return r;
    }
    let Ok(id) = id.parse::<i64>() else {
        return no_such_list();
    };
    match lists::delete(&team.db, &member, id).await {
        Ok(true) => Json(json!({ "deleted": true })).into_response(),
        Ok(false) => no_such_list(),
        Err(e) => refused(Refused::Db(e)),
    }
}

/// `GET /api/v1/team/windows?appid=A[&after_at=T&after_openid=O][&limit=N]`.
pub async fn windows(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let Some(team) = state.team() else {
        return unavailable();
    };
    let q = query_map(raw.as_deref());
    let Some(appid) = q.get("appid").map(|a| a.trim()).filter(|a| !a.is_empty()) else {
        return refused(Refused::Invalid(
            "bad_windows_query",
            "请指定账号（appid）".into(),
            "Name the account (appid).".into(),
        ));
    };
    let after = match (
        q.get("after_at").and_then(|v| v.parse::<i64>().ok()),
        q.get("after_openid"),
    ) {
        (Some(at), Some(o)) => Some((at, o.clone())),
        _ => None,
    };
    let limit = q
        .get("limit")
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(200);
    let now = crate::team::jobs::now_ms() / 1000;
    match crate::team::windows::open(&team.db, appid, now, after, limit).await {
        Ok((rows, total, more)) => {
            Json(json!({ "rows": rows, "total": total, "more": more, "now": now })).into_response()
        }
        Err(e) => refused(Refused::Db(e)),
    }
}
