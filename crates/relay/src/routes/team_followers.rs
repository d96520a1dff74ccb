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
//! - `POST followers/by-unionid` `{appid, unionids}` → `{"matches": [[unionid, openid, following]],
//!   "without_details"}`
//! - `POST lists/from-followers` `{appid, name, filter}` → the list

use std::collections::HashMap;

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
use crate::team::followers::{self, Filter, Follower, Tag};
use crate::team::jobs::Refused;
use crate::team::lists::{self, FromFollowers};

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
pub async fn page(Team(team): Team, RawQuery(raw): RawQuery) -> Response {
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
pub async fn count(Team(team): Team, RawQuery(raw): RawQuery) -> Response {
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
pub async fn totals(Team(team): Team, RawQuery(raw): RawQuery) -> Response {
    let Some(appid) = appid(&query_map(raw.as_deref())) else {
        return bad_query("appid");
    };
    match followers::totals(&team.db, &appid).await {
        Ok(t) => Json(t).into_response(),
        Err(e) => refused(Refused::Db(e)),
    }
}

/// `GET /api/v1/team/followers/one`.
pub async fn one(Team(team): Team, RawQuery(raw): RawQuery) -> Response {
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
pub async fn published(Team(team): Team, RawQuery(raw): RawQuery) -> Response {
    let Some(appid) = appid(&query_map(raw.as_deref())) else {
        return bad_query("appid");
    };
    match followers::published(&team.db, &appid).await {
        Ok(p) => Json(json!({ "publication": p })).into_response(),
        Err(e) => refused(Refused::Db(e)),
    }
}

/// `GET /api/v1/team/tags`.
pub async fn tags(Team(team): Team, RawQuery(raw): RawQuery) -> Response {
    let Some(appid) = appid(&query_map(raw.as_deref())) else {
        return bad_query("appid");
    };
    match followers::tags(&team.db, &appid).await {
        Ok(t) => Json(json!({ "tags": t })).into_response(),
        Err(e) => refused(Refused::Db(e)),
    }
}

fn no_publication() -> Response {
    no_such(
        "no_such_publication",
        "没有这次粉丝上传（已结束或不是你发起的）",
        "No such follower upload (finished, or not yours).",
    )
}

fn answer<T: serde::Serialize>(r: std::result::Result<T, Refused>, status: StatusCode) -> Response {
    match r {
        Ok(v) => (status, Json(v)).into_response(),
        Err(Refused::NotFound) => no_publication(),
        Err(other) => refused(other),
    }
}

#[derive(Deserialize)]
pub struct Begin {
    appid: String,
    /// When the sync being published began.
    #[serde(default)]
    synced_from: Option<i64>,
}

/// `POST /api/v1/team/followers/publications`.
pub async fn begin(
    Team(team): Team,
    Operator(member): Operator,
    JsonBody(b): JsonBody<Begin>,
) -> Response {
    let id = followers::begin(&team.db, &member, &b.appid, b.synced_from).await;
    answer(id.map(|id| json!({ "id": id })), StatusCode::CREATED)
}

#[derive(Deserialize)]
pub struct Chunk {
    followers: Vec<Follower>,
}

/// `POST /api/v1/team/followers/publications/{id}/followers`.
pub async fn add(
    Team(team): Team,
    Operator(member): Operator,
    Path(id): Path<String>,
    JsonBody(chunk): JsonBody<Chunk>,
) -> Response {
    let Ok(id) = id.parse::<i64>() else {
        return no_publication();
    };
    let written = followers::add(&team.db, &member, id, chunk.followers).await;
    answer(written.map(|n| json!({ "written": n })), StatusCode::OK)
}

#[derive(Deserialize)]
pub struct Done {
    #[serde(default)]
    tags: Vec<Tag>,
}

/// `POST /api/v1/team/followers/publications/{id}/done`.
pub async fn done(
    Team(team): Team,
    Operator(member): Operator,
    Path(id): Path<String>,
    JsonBody(d): JsonBody<Done>,
) -> Response {
    let Ok(id) = id.parse::<i64>() else {
        return no_publication();
    };
    answer(
        followers::finish(&team.db, &member, id, d.tags).await,
        StatusCode::OK,
    )
}

/// `POST /api/v1/team/lists/from-followers`.
pub async fn list_from_followers(
    Team(team): Team,
    Operator(member): Operator,
    JsonBody(req): JsonBody<FromFollowers>,
) -> Response {
    match lists::create_from_followers(&team.db, &member, req).await {
        Ok(l) => (StatusCode::CREATED, Json(l)).into_response(),
        Err(r) => refused(r),
    }
}

#[derive(Deserialize)]
pub struct ByUnionid {
    appid: String,
    unionids: Vec<String>,
}

/// `POST /api/v1/team/followers/by-unionid` (a read: viewers too; POST for the list's size).
pub async fn by_unionid(Team(team): Team, JsonBody(q): JsonBody<ByUnionid>) -> Response {
    match followers::by_unionid(&team.db, &q.appid, &q.unionids).await {
        Ok((matches, without)) => {
            Json(json!({ "matches": matches, "without_details": without })).into_response()
        }
        Err(r) => refused(r),
    }
}
