//! The `templates` table: the account's private templates as last synced, with the local alias,
//! note and const values that a sync keeps.

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use super::keywords::{Field, parse_content};
use crate::error::{Error, Result};

/// A template as WeChat lists it (get_all_private_template).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteTemplate {
    pub template_id: String,
    pub title: String,
    pub primary_industry: String,
    pub deputy_industry: String,
    pub content: String,
    pub example: String,
}

/// A stored template with its parsed fields and local notes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Template {
    pub appid: String,
    pub template_id: String,
    pub title: String,
    pub primary_industry: String,
    pub deputy_industry: String,
    pub content: String,
    pub example: String,
    /// Parsed from `content` on read, so a parser fix applies to templates synced before it.
    pub fields: Vec<Field>,
    /// An old industry template (`first`/`keywordN`/`remark`) rather than a category template.
    pub legacy: bool,
    /// Local name shown instead of the title when set (本地别名).
    pub alias: String,
    /// Local free-text note (备注).
    pub note: String,
    /// Approved values of `const`/`enum` keywords, keyed by keyword, entered locally: WeChat does
    /// not list them, but the composer can check values against them (E.1).
    pub const_values: BTreeMap<String, Vec<String>>,
    /// Unix seconds of the last sync that saw it.
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub synced_at: i64,
}

/// What a sync changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TemplateSyncReport {
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub added: usize,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub updated: usize,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub removed: usize,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub total: usize,
    /// Templates an account may hold at once (25).
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub limit: usize,
}

const COLUMNS: &str = "appid, template_id, title, primary_industry, deputy_industry, content, \
                       example, alias, note, const_values, synced_at";

fn from_row(row: &Row<'_>) -> rusqlite::Result<(Template, String)> {
    let content: String = row.get(5)?;
    let fields = parse_content(&content);
    let t = Template {
        appid: row.get(0)?,
        template_id: row.get(1)?,
        title: row.get(2)?,
        primary_industry: row.get(3)?,
        deputy_industry: row.get(4)?,
        legacy: fields.iter().any(|f| f.kind.is_legacy()),
        fields,
        content,
        example: row.get(6)?,
        alias: row.get(7)?,
        note: row.get(8)?,
        const_values: BTreeMap::new(),
        synced_at: row.get(10)?,
    };
    Ok((t, row.get(9)?))
}

fn with_const_values((mut t, json): (Template, String)) -> Template {
    // A hand-edited or corrupt column must not make the template unreadable; drop the values.
    t.const_values = serde_json::from_str(&json).unwrap_or_default();
    t
}

/// Replaces the account's synced templates with `remote`: new ones inserted, changed ones
/// updated (alias/note/const values kept), ones WeChat no longer lists removed. One transaction.
pub fn apply_sync(
    conn: &mut Connection,
    appid: &str,
    remote: &[RemoteTemplate],
    now: i64,
) -> Result<TemplateSyncReport> {
    let tx = conn.transaction()?;
    let mut report = TemplateSyncReport {
        total: remote.len(),
        limit: super::MAX_TEMPLATES,
        ..Default::default()
    };
    {
        let mut existing = tx.prepare(
            "SELECT title, primary_industry, deputy_industry, content, example \
             FROM templates WHERE appid = ?1 AND template_id = ?2",
        )?;
        let mut insert = tx.prepare(
            "INSERT INTO templates (appid, template_id, title, primary_industry, deputy_industry, \
             content, example, synced_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        let mut update = tx.prepare(
            "UPDATE templates SET title = ?3, primary_industry = ?4, deputy_industry = ?5, \
             content = ?6, example = ?7, synced_at = ?8 WHERE appid = ?1 AND template_id = ?2",
        )?;
        for t in remote {
            let args = params![
                appid,
                t.template_id,
                t.title,
                t.primary_industry,
                t.deputy_industry,
                t.content,
                t.example,
                now
            ];
            let before = existing
                .query_row(params![appid, t.template_id], |r| {
                    Ok([
                        r.get::<_, String>(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                    ])
                })
                .optional()?;
            match before {
                None => {
                    insert.execute(args)?;
                    report.added += 1;
                }
                Some(old) => {
                    let new = [
                        &t.title,
                        &t.primary_industry,
                        &t.deputy_industry,
                        &t.content,
                        &t.example,
                    ];
                    if old.iter().zip(new).any(|(a, b)| a != b) {
                        report.updated += 1;
                    }
                    update.execute(args)?;
                }
            }
        }
        let ids: Vec<&str> = remote.iter().map(|t| t.template_id.as_str()).collect();
        let ids_json = serde_json::to_string(&ids).map_err(|e| unsaveable(&e))?;
        report.removed = tx.execute(
            "DELETE FROM templates WHERE appid = ?1 \
             AND template_id NOT IN (SELECT value FROM json_each(?2))",
            params![appid, ids_json],
        )?;
    }
    tx.commit()?;
    Ok(report)
}

/// The account's templates, ordered by title then id (stable for the UI).
pub fn list(conn: &Connection, appid: &str) -> Result<Vec<Template>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM templates WHERE appid = ?1 ORDER BY title, template_id"
    ))?;
    let rows = stmt.query_map(params![appid], from_row)?;
    let mut out = Vec::new();
    for row in rows {
        out.push(with_const_values(row?));
    }
    Ok(out)
}

pub fn get(conn: &Connection, appid: &str, template_id: &str) -> Result<Option<Template>> {
    let row = conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM templates WHERE appid = ?1 AND template_id = ?2"),
            params![appid, template_id],
            from_row,
        )
        .optional()?;
    Ok(row.map(with_const_values))
}

pub fn remove(conn: &Connection, appid: &str, template_id: &str) -> Result<bool> {
    Ok(conn.execute(
        "DELETE FROM templates WHERE appid = ?1 AND template_id = ?2",
        params![appid, template_id],
    )? > 0)
}

fn not_found(template_id: &str) -> Error {
    Error::input(
        format!("模板 {template_id} 不存在，请先同步模板"),
        format!("There is no template {template_id} here: sync the templates first."),
    )
}

fn unsaveable(e: &serde_json::Error) -> Error {
    Error::input(
        format!("模板数据无法保存：{e}"),
        format!("The template data could not be saved: {e}"),
    )
}

/// Sets the local alias and note of a template.
pub fn set_notes(
    conn: &Connection,
    appid: &str,
    template_id: &str,
    alias: &str,
    note: &str,
) -> Result<()> {
    let n = conn.execute(
        "UPDATE templates SET alias = ?3, note = ?4 WHERE appid = ?1 AND template_id = ?2",
        params![appid, template_id, alias.trim(), note],
    )?;
    if n == 0 {
        return Err(not_found(template_id));
    }
    Ok(())
}

/// Records the approved values of one `const`/`enum` keyword (empty `values` forgets them).
pub fn set_const_values(
    conn: &Connection,
    appid: &str,
    template_id: &str,
    key: &str,
    values: &[String],
) -> Result<()> {
    let mut t = get(conn, appid, template_id)?.ok_or_else(|| not_found(template_id))?;
    if !t.fields.iter().any(|f| f.key == key) {
        return Err(Error::input(
            format!("模板 {template_id} 没有关键词 {key}"),
            format!("Template {template_id} has no keyword {key}."),
        ));
    }
    let cleaned: Vec<String> = values
        .iter()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect();
    if cleaned.is_empty() {
        t.const_values.remove(key);
    } else {
        t.const_values.insert(key.to_string(), cleaned);
    }
    let json = serde_json::to_string(&t.const_values).map_err(|e| unsaveable(&e))?;
    conn.execute(
        "UPDATE templates SET const_values = ?3 WHERE appid = ?1 AND template_id = ?2",
        params![appid, template_id, json],
    )?;
    Ok(())
}

/// Makes the account's rows exactly `all` (a team workspace's copy of the team's templates,
/// notes and const values included). One transaction.
pub fn replace_all(conn: &mut Connection, appid: &str, all: &[Template]) -> Result<()> {
    let tx = conn.transaction()?;
    tx.execute("DELETE FROM templates WHERE appid = ?1", params![appid])?;
    {
        let mut insert = tx.prepare(&format!(
            "INSERT INTO templates ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
        ))?;
        for t in all {
            let values = serde_json::to_string(&t.const_values).map_err(|e| unsaveable(&e))?;
            insert.execute(params![
                appid,
                t.template_id,
                t.title,
                t.primary_industry,
                t.deputy_industry,
                t.content,
                t.example,
                t.alias,
                t.note,
                values,
                t.synced_at
            ])?;
        }
    }
    tx.commit()?;
    Ok(())
}
