//! 模板 of the shared workspace: each account's private templates, the same for every desk.
//! A desk syncs them from WeChat (through the server) and [`publish`]es WeChat's list: new ones
//! added, changed ones updated, ones WeChat no longer lists removed — the team's alias, note and
//! approved const values of a template are kept. Notes and values are written here
//! ([`set_notes`], [`set_const_values`]), so what one desk writes every desk reads.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::db::Db;
use super::jobs::{Refused, invalid};
use super::members::{Member, audit};
use crate::error::Result;
use crate::http::now_unix as now;

/// WeChat allows 25 private templates per account; room for what it may allow later.
const MAX_TEMPLATES: usize = 200;
const MAX_TEXT: usize = 8 * 1024;

/// A template as WeChat lists it.
#[derive(Debug, Clone, Deserialize)]
pub struct Remote {
    pub template_id: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub primary_industry: String,
    #[serde(default)]
    pub deputy_industry: String,
    #[serde(default)]
    pub content: String,
    #[serde(default)]
    pub example: String,
}

/// A template as desks read it.
#[derive(Debug, Clone, Serialize)]
pub struct Template {
    pub appid: String,
    pub template_id: String,
    pub title: String,
    pub primary_industry: String,
    pub deputy_industry: String,
    pub content: String,
    pub example: String,
    pub alias: String,
    pub note: String,
    pub const_values: BTreeMap<String, Vec<String>>,
    pub synced_at: i64,
}

/// The account's templates by title, then id.
pub async fn list(db: &Db, appid: &str) -> Result<Vec<Template>> {
    let conn = db.get().await?;
    let rows = conn
        .query(
            "SELECT appid, template_id, title, primary_industry, deputy_industry, content,
                    example, alias, note, const_values, synced_at
               FROM team_templates WHERE appid = $1 ORDER BY title, template_id",
            &[&appid],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| Template {
            appid: r.get(0),
            template_id: r.get(1),
            title: r.get(2),
            primary_industry: r.get(3),
            deputy_industry: r.get(4),
            content: r.get(5),
            example: r.get(6),
            alias: r.get(7),
            note: r.get(8),
            // Written here from parsed JSON; unreadable means none rather than no templates.
            const_values: serde_json::from_str(r.get::<_, &str>(9)).unwrap_or_default(),
            synced_at: r.get(10),
        })
        .collect())
}

fn good_id(s: &str) -> bool {
    (1..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Replaces the account's templates with WeChat's list `remote` (team notes kept); how many
/// were removed.
pub async fn publish(
    db: &Db,
    member: &Member,
    appid: &str,
    remote: Vec<Remote>,
) -> std::result::Result<u64, Refused> {
    let too_long = |t: &Remote| {
        [
            &t.title,
            &t.primary_industry,
            &t.deputy_industry,
            &t.content,
            &t.example,
        ]
        .iter()
        .any(|s| s.len() > MAX_TEXT)
    };
    if remote.len() > MAX_TEMPLATES
        || remote
            .iter()
            .any(|t| !good_id(&t.template_id) || too_long(t))
    {
        return Err(invalid(
            "bad_templates",
            "模板数据无效",
            "The templates are not valid.",
        ));
    }
    let mut conn = db.get().await?;
    super::accounts::require_known(&conn, appid).await?;
    let tx = conn.transaction().await?;
    let at = now();
    let upsert = tx
        .prepare(
            "INSERT INTO team_templates (appid, template_id, title, primary_industry,
                 deputy_industry, content, example, synced_at, updated_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (appid, template_id) DO UPDATE SET title = EXCLUDED.title,
               primary_industry = EXCLUDED.primary_industry,
               deputy_industry = EXCLUDED.deputy_industry, content = EXCLUDED.content,
               example = EXCLUDED.example, synced_at = EXCLUDED.synced_at,
               updated_by = EXCLUDED.updated_by",
        )
        .await?;
    for t in &remote {
        tx.execute(
            &upsert,
            &[
                &appid,
                &t.template_id,
                &t.title,
                &t.primary_industry,
                &t.deputy_industry,
                &t.content,
                &t.example,
                &at,
                &member.name,
            ],
        )
        .await?;
    }
    let ids: Vec<&str> = remote.iter().map(|t| t.template_id.as_str()).collect();
    let removed = tx
        .execute(
            "DELETE FROM team_templates WHERE appid = $1 AND NOT (template_id = ANY($2))",
            &[&appid, &ids],
        )
        .await?;
    tx.commit().await?;
    audit(
        db,
        Some(&member.name),
        "templates.sync",
        serde_json::json!({ "appid": appid, "templates": remote.len(), "removed": removed }),
    )
    .await?;
    Ok(removed)
}

fn no_such_template() -> Refused {
    Refused::NotFound
}

/// The team's alias and note of a template (never sent to WeChat).
pub async fn set_notes(
    db: &Db,
    member: &Member,
    appid: &str,
    template_id: &str,
    alias: &str,
    note: &str,
) -> std::result::Result<(), Refused> {
    if alias.chars().count() > 60 || note.chars().count() > 500 {
        return Err(invalid(
            "bad_template_notes",
            "别名最多 60 个字，备注最多 500 个字",
            "An alias has at most 60 characters, a note at most 500.",
        ));
    }
    let conn = db.get().await?;
    let n = conn
        .execute(
            "UPDATE team_templates SET alias = $3, note = $4, updated_by = $5
              WHERE appid = $1 AND template_id = $2",
            &[
                &appid,
                &template_id,
                &alias.trim(),
                &note.trim(),
                &member.name,
            ],
        )
        .await?;
    if n == 0 {
        return Err(no_such_template());
    }
    Ok(())
}

/// The team's approved values of a `const`/`enum` keyword (none: forget them).
pub async fn set_const_values(
    db: &Db,
    member: &Member,
    appid: &str,
    template_id: &str,
    key: &str,
    values: Vec<String>,
) -> std::result::Result<(), Refused> {
    if key.is_empty()
        || key.len() > 64
        || values.len() > 100
        || values.iter().any(|v| v.chars().count() > 200)
    {
        return Err(invalid(
            "bad_const_values",
            "取值无效：最多 100 个，每个最多 200 个字",
            "Invalid values: at most 100, each at most 200 characters.",
        ));
    }
    let mut conn = db.get().await?;
    let tx = conn.transaction().await?;
    let row = tx
        .query_opt(
            "SELECT const_values FROM team_templates
              WHERE appid = $1 AND template_id = $2 FOR UPDATE",
            &[&appid, &template_id],
        )
        .await?;
    let Some(row) = row else {
        return Err(no_such_template());
    };
    let mut all: BTreeMap<String, Vec<String>> =
        serde_json::from_str(row.get::<_, &str>(0)).unwrap_or_default();
    let values: Vec<String> = values
        .into_iter()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .collect();
    if values.is_empty() {
        all.remove(key);
    } else {
        all.insert(key.to_owned(), values);
    }
    let json = serde_json::to_string(&all).unwrap_or_else(|_| "{}".into());
    tx.execute(
        "UPDATE team_templates SET const_values = $3, updated_by = $4
          WHERE appid = $1 AND template_id = $2",
        &[&appid, &template_id, &json, &member.name],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
