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
//! - `GET  windows?appid=A&after_at=T&after_openid=O&limit=N` → `{"rows", "total", "more", "now"}`:
//!   the users whose window is open now, newest action first

use axum::Json;
use axum::extract::{Path, RawQuery};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use crate::routes::team::refusal;
use crate::routes::team_extract::{JsonBody, Operator, Team};
use crate::routes::team_jobs::refused;
use crate::routes::wechat::query_map;
use crate::team::jobs::Refused;
use crate::team::lists::{self, NewList, NewMember};

fn no_such_list() -> Response {
    refusal(
        StatusCode::NOT_FOUND,
        "no_such_list",
        "团队服务器上没有这个名单（可能已被删除）",
        "The team server has no such list (it may have been deleted).",
        Some(("刷新名单列表", "Refresh the lists.")),
    )
}

fn answer<T: serde::Serialize>(r: std::result::Result<T, Refused>, status: StatusCode) -> Response {
    match r {
        Ok(v) => (status, Json(v)).into_response(),
        Err(Refused::NotFound) => no_such_list(),
        Err(other) => refused(other),
    }
}

/// `GET /api/v1/team/lists[?appid=A]`.
pub async fn list(Team(team): Team, RawQuery(raw): RawQuery) -> Response {
    let q = query_map(raw.as_deref());
    let appid = q.get("appid").map(|a| a.trim()).filter(|a| !a.is_empty());
    match lists::list(&team.db, appid).await {
        Ok(all) => Json(json!({ "lists": all })).into_response(),
        Err(e) => refused(Refused::Db(e)),
    }
}

/// `GET /api/v1/team/lists/{id}`.
pub async fn get(Team(team): Team, Path(id): Path<String>) -> Response {
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
    Team(team): Team,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
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
    Team(team): Team,
    Operator(member): Operator,
    JsonBody(new): JsonBody<NewList>,
) -> Response {
    let created = lists::create(&team.db, &member, new).await;
    answer(created.map(|id| json!({ "id": id })), StatusCode::CREATED)
}

#[derive(Deserialize)]
pub struct Chunk {
    members: Vec<NewMember>,
}

/// `POST /api/v1/team/lists/{id}/members`.
pub async fn add_members(
    Team(team): Team,
    Operator(member): Operator,
    Path(id): Path<String>,
    JsonBody(chunk): JsonBody<Chunk>,
) -> Response {
    let Ok(id) = id.parse::<i64>() else {
        return no_such_list();
    };
    let added = lists::add_members(&team.db, &member, id, chunk.members).await;
    answer(added.map(|n| json!({ "added": n })), StatusCode::OK)
}

/// `POST /api/v1/team/lists/{id}/ready`.
pub async fn finish(
    Team(team): Team,
    Operator(member): Operator,
    Path(id): Path<String>,
) -> Response {
    let Ok(id) = id.parse::<i64>() else {
        return no_such_list();
    };
    answer(lists::finish(&team.db, &member, id).await, StatusCode::OK)
}

/// `DELETE /api/v1/team/lists/{id}`.
pub async fn delete(
    Team(team): Team,
    Operator(member): Operator,
    Path(id): Path<String>,
) -> Response {
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
pub async fn windows(Team(team): Team, RawQuery(raw): RawQuery) -> Response {
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
