//! `/api/v1/team/templates…`: the shared workspace's 模板 (team/templates.rs), behind a member
//! key. Reading needs viewer; publishing a sync and writing notes, operator.
//!
//! - `GET  templates?appid=A` → `{"templates"}`
//! - `PUT  templates?appid=A` `{"templates": [WeChat's list]}` → `{"removed"}`
//! - `POST templates/notes` `{appid, template_id, alias, note}` → `{"ok": true}`
//! - `POST templates/const-values` `{appid, template_id, key, values}` → `{"ok": true}`

use axum::Json;
use axum::extract::RawQuery;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use crate::routes::team::refusal;
use crate::routes::team_extract::{JsonBody, Operator, Team};
use crate::routes::team_jobs::refused;
use crate::routes::wechat::query_map;
use crate::team::jobs::Refused;
use crate::team::templates::{self, Remote};

fn appid_of(raw: Option<&str>) -> Option<String> {
    query_map(raw)
        .get("appid")
        .map(|a| a.trim().to_owned())
        .filter(|a| !a.is_empty())
}

fn no_appid() -> Response {
    refused(Refused::Invalid(
        "bad_templates_query",
        "请指定账号（appid）".into(),
        "Name the account (appid).".into(),
    ))
}

fn answer(r: std::result::Result<(), Refused>) -> Response {
    match r {
        Ok(()) => Json(json!({ "ok": true })).into_response(),
        Err(Refused::NotFound) => refusal(
            StatusCode::NOT_FOUND,
            "no_such_template",
            "团队里没有这个模板（可能已被删除）；请先同步模板",
            "The team has no such template (it may have been deleted); sync the templates first.",
            None,
        ),
        Err(r) => refused(r),
    }
}

/// `GET /api/v1/team/templates?appid=A`.
pub async fn list(Team(team): Team, RawQuery(raw): RawQuery) -> Response {
    let Some(appid) = appid_of(raw.as_deref()) else {
        return no_appid();
    };
    match templates::list(&team.db, &appid).await {
        Ok(t) => Json(json!({ "templates": t })).into_response(),
        Err(e) => refused(Refused::Db(e)),
    }
}

#[derive(Deserialize)]
pub struct Publish {
    templates: Vec<Remote>,
}

/// `PUT /api/v1/team/templates?appid=A`.
pub async fn publish(
    Team(team): Team,
    Operator(member): Operator,
    RawQuery(raw): RawQuery,
    JsonBody(p): JsonBody<Publish>,
) -> Response {
    let Some(appid) = appid_of(raw.as_deref()) else {
        return no_appid();
    };
    match templates::publish(&team.db, &member, &appid, p.templates).await {
        Ok(removed) => Json(json!({ "removed": removed })).into_response(),
        Err(r) => refused(r),
    }
}

#[derive(Deserialize)]
pub struct Notes {
    appid: String,
    template_id: String,
    #[serde(default)]
    alias: String,
    #[serde(default)]
    note: String,
}

/// `POST /api/v1/team/templates/notes`.
pub async fn notes(
    Team(team): Team,
    Operator(member): Operator,
    JsonBody(n): JsonBody<Notes>,
) -> Response {
    answer(
        templates::set_notes(
            &team.db,
            &member,
            &n.appid,
            &n.template_id,
            &n.alias,
            &n.note,
        )
        .await,
    )
}

#[derive(Deserialize)]
pub struct ConstValues {
    appid: String,
    template_id: String,
    key: String,
    #[serde(default)]
    values: Vec<String>,
}

/// `POST /api/v1/team/templates/const-values`.
pub async fn const_values(
    Team(team): Team,
    Operator(member): Operator,
    JsonBody(c): JsonBody<ConstValues>,
) -> Response {
    answer(
        templates::set_const_values(
            &team.db,
            &member,
            &c.appid,
            &c.template_id,
            &c.key,
            c.values,
        )
        .await,
    )
}
