//! `/api/v1/team/followers…` and `/api/v1/team/tags`: the shared workspace's followers and tags
//! (team/followers.rs), behind a member key. Reading needs viewer; publishing a sync, operator.
//!
//! - `GET  followers?appid=A[&search&tag_id&subscribed&subscribed_from&subscribed_until][&after&limit]`
//!   → `{"items", "next_after"}`
//! - `GET  followers/count?appid=A[&filter]` → `{"count"}`
//! - `GET  followers/totals?appid=A` → `{total, subscribed, unsubscribed, with_unionid, without_details}`
//! - `GET  followers/one?appid=A&openid=O` → the follower
//! - `GET  followers/published?appid=A` → `{"publication": … | null}`
//! - `GET  tags?appid=A` → `{"tags"}`
//! - `POST followers/publications` `{appid, synced_from}` → `{"id"}`
//! - `POST followers/publications/{id}/followers` `{"followers": [...]}` → `{"written"}`
//! - `POST followers/publications/{id}/done` `{"tags": [...]}` → the publication
//! - `POST lists/from-followers` `{appid, name, filter}` → the list

use std::collections::HashMap;

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
use crate::team::followers::{self, Filter, Follower, Tag};
use crate::team::jobs::Refused;
use crate::team::lists::{self, FromFollowers};
use crate::team::members::{Member, Role};

fn bad_query(what: &str) -> Response {
    refused(Refused::Invalid(
        "bad_followers_query",
        format!("粉丝查询条件无效：{what}"),
        format!("Invalid follower query: {what}"),
    ))
}

fn no_such(code: &'static str, zh: &'static str, en: &'static str) -> Response {
    refusal(
        StatusCode::NOT_FOUND,
        code,
        zh,
        en,
        Some(("刷新后重试", "Refresh and try again.")),
    )
}

fn appid(q: &HashMap<String, String>) -> Option<String> {
    q.get("appid")
        .map(|a| a.trim().to_owned())
        .filter(|a| !a.is_empty())
}

/// The filter in a query string; `Err` names the part that does not parse.
fn filter(q: &HashMap<String, String>) -> Result<Filter, &'static str> {
    fn number(q: &HashMap<String, String>, k: &'static str) -> Result<Option<i64>, &'static str> {
        match q.get(k).map(|v| v.trim()).filter(|v| !v.is_empty()) {
            Some(v) => v.parse().map(Some).map_err(|_| k),
            None => Ok(None),
        }
    }
    let subscribed = match q.get("subscribed").map(String::as_str) {
        None | Some("") => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(_) => return Err("subscribed"),
    };
    Ok(Filter {
        search: q.get("search").cloned(),
        tag_id: number(q, "tag_id")?,
        subscribed,
        subscribed_from: number(q, "subscribed_from")?,
        subscribed_until: number(q, "subscribed_until")?,
    })
}

/// `GET /api/v1/team/followers`.
pub async fn page(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let Some(team) = state.team() else {
        return unavailable();
    };
    let q = query_map(raw.as_deref());
    let Some(appid) = appid(&q) else {
        return bad_query("appid");
    };
    let f = match filter(&q) {
        Ok(f) => f,
        Err(what) => return bad_query(what),
    };
    let after = q.get("after").map(String::as_str).filter(|a| !a.is_empty());
    let limit = q
        .get("limit")
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(100);
    match followers::page(&team.db, &appid, &f, after, limit).await {
        Ok((items, next_after)) => {
            Json(json!({ "items": items, "next_after": next_after })).into_response()
        }
        Err(e) => refused(Refused::Db(e)),
    }
}

/// `GET /api/v1/team/followers/count`.
pub async fn count(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let Some(team) = state.team() else {
        return unavailable();
    };
    let q = query_map(raw.as_deref());
    let Some(appid) = appid(&q) else {
        return bad_query("appid");
    };
    let f = match filter(&q) {
        Ok(f) => f,
        Err(what) => return bad_query(what),
    };
    match followers::count(&team.db, &appid, &f).await {
        Ok(n) => Json(json!({ "count": n })).into_response(),
        Err(e) => refused(Refused::Db(e)),
    }
}

/// `GET /api/v1/team/followers/totals`.
pub async fn totals(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let Some(team) = state.team() else {
        return unavailable();
    };
    let Some(appid) = appid(&query_map(raw.as_deref())) else {
        return bad_query("appid");
    };
    match followers::totals(&team.db, &appid).await {
        Ok(t) => Json(t).into_response(),
        Err(e) => refused(Refused::Db(e)),
    }
}

/// `GET /api/v1/team/followers/one`.
pub async fn one(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let Some(team) = state.team() else {
        return unavailable();
    };
    let q = query_map(raw.as_deref());
    let (Some(appid), Some(openid)) = (appid(&q), q.get("openid")) else {
        return bad_query("appid, openid");
    };
    match followers::get(&team.db, &appid, openid).await {
        Ok(Some(f)) => Json(f).into_response(),
        Ok(None) => no_such(
            "no_such_follower",
            "团队里没有这个粉丝",
            "The team has no such follower.",
        ),
        Err(e) => refused(Refused::Db(e)),
    }
}

/// `GET /api/v1/team/followers/published`.
pub async fn published(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let Some(team) = state.team() else {
        return unavailable();
    };
    let Some(appid) = appid(&query_map(raw.as_deref())) else {
        return bad_query("appid");
    };
    match followers::published(&team.db, &appid).await {
        Ok(p) => Json(json!({ "publication": p })).into_response(),
        Err(e) => refused(Refused::Db(e)),
    }
}

/// `GET /api/v1/team/tags`.
pub async fn tags(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let Some(team) = state.team() else {
        return unavailable();
    };
    let Some(appid) = appid(&query_map(raw.as_deref())) else {
        return bad_query("appid");
    };
    match followers::tags(&team.db, &appid).await {
        Ok(t) => Json(json!({ "tags": t })).into_response(),
        Err(e) => refused(Refused::Db(e)),
    }
}

fn bad_json(e: &serde_json::Error) -> Response {
    refused(Refused::Invalid(
        "bad_followers",
        format!("请求不是有效的 JSON：{e}"),
        format!("The request is not valid JSON: {e}"),
    ))
}

fn no_publication() -> Response {
    no_such(
        "no_such_publication",
        "没有这次粉丝上传（已结束或不是你发起的）",
        "No such follower upload (finished, or not yours).",
    )
}

#[derive(Deserialize)]
struct Begin {
    appid: String,
    /// When the sync being published began.
    #[serde(default)]
    synced_from: Option<i64>,
}

/// `POST /api/v1/team/followers/publications`.
pub async fn begin(
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
    let b: Begin = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => return bad_json(&e),
    };
    match followers::begin(&team.db, &member, &b.appid, b.synced_from).await {
        Ok(id) => (StatusCode::CREATED, Json(json!({ "id": id }))).into_response(),
        Err(r) => refused(r),
    }
}

#[derive(Deserialize)]
struct Chunk {
    followers: Vec<Follower>,
}

/// `POST /api/v1/team/followers/publications/{id}/followers`.
pub async fn add(
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
        return no_publication();
    };
    let chunk: Chunk = match serde_json::from_slice(&body) {
        Ok(c) => c,
        Err(e) => return bad_json(&e),
    };
    drop(body);
    match followers::add(&team.db, &member, id, chunk.followers).await {
        Ok(n) => Json(json!({ "written": n })).into_response(),
        Err(Refused::NotFound) => no_publication(),
        Err(r) => refused(r),
    }
}

#[derive(Deserialize)]
struct Done {
    #[serde(default)]
    tags: Vec<Tag>,
}

/// `POST /api/v1/team/followers/publications/{id}/done`.
pub async fn done(
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
        return no_publication();
    };
    let d: Done = match serde_json::from_slice(&body) {
        Ok(d) => d,
        Err(e) => return bad_json(&e),
    };
    match followers::finish(&team.db, &member, id, d.tags).await {
        Ok(p) => Json(p).into_response(),
        Err(Refused::NotFound) => no_publication(),
        Err(r) => refused(r),
    }
}

/// `POST /api/v1/team/lists/from-followers`.
pub async fn list_from_followers(
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
    let req: FromFollowers = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return bad_json(&e),
    };
    match lists::create_from_followers(&team.db, &member, req).await {
        Ok(l) => (StatusCode::CREATED, Json(l)).into_response(),
        Err(r) => refused(r),
    }
}
