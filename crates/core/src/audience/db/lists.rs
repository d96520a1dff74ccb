//! 名单 (recipient lists): saved, named, per account; members with their mail-merge variables.
//! Lists come from the followers (all, or a filter such as a tag), from pasted openids, from an
//! imported file, or from the unionid bridge.

use std::collections::BTreeMap;

use rusqlite::{Connection, ErrorCode, OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use super::followers::FollowerFilter;
use crate::audience::import::ImportRow;
use crate::error::{Error, Result};

/// Where a list's members came from (shown next to its name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ListSource {
    /// Followers matching a filter at the time the list was made (all of them when empty).
    Followers {
        filter: FollowerFilter,
    },
    Pasted,
    File {
        file_name: String,
    },
    /// Mini-program users mapped to followers through unionid.
    UnionidBridge {
        file_name: String,
    },
}

/// A saved recipient list (名单).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RecipientList {
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub id: i64,
    pub appid: String,
    pub name: String,
    pub source: ListSource,
    /// Per-recipient variable columns (for mail-merge), in file order.
    pub variables: Vec<String>,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub member_count: u64,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub created_at: i64,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub updated_at: i64,
}

/// One member with its variables by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ListMember {
    pub openid: String,
    pub vars: BTreeMap<String, String>,
}

/// One keyset page of a list's members: pass `next_after` back as `after`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct MemberPage {
    pub items: Vec<ListMember>,
    pub next_after: Option<String>,
}

fn json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| {
        Error::input(
            format!("无法保存名单数据：{e}"),
            format!("The list's data could not be saved: {e}"),
        )
    })
}

pub(crate) fn clean_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::input("名单名称不能为空", "The list needs a name."));
    }
    if name.chars().count() > 60 {
        return Err(Error::input(
            "名单名称最多 60 个字",
            "A list name has at most 60 characters.",
        ));
    }
    Ok(name.to_string())
}

fn name_taken(e: rusqlite::Error, name: &str) -> Error {
    match e.sqlite_error_code() {
        Some(ErrorCode::ConstraintViolation) => Error::input(
            format!("已有名为「{name}」的名单，请换一个名称"),
            format!("A list named \"{name}\" exists already: choose another name."),
        ),
        _ => Error::Db(e),
    }
}

fn insert_list(
    conn: &Connection,
    appid: &str,
    name: &str,
    source: &ListSource,
    variables: &[String],
    now: i64,
) -> Result<i64> {
    conn.execute(
        "INSERT INTO recipient_lists (appid, name, source, variables, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
        params![appid, name, json(source)?, json(&variables)?, now],
    )
    .map_err(|e| name_taken(e, name))?;
    Ok(conn.last_insert_rowid())
}

/// Saves `rows` as a new list in one transaction. Rows are inserted in openid order, which keeps
/// the member table's b-tree appends sequential (a million rows in seconds).
pub fn create_from_rows(
    conn: &mut Connection,
    appid: &str,
    name: &str,
    source: &ListSource,
    variables: &[String],
    rows: &[ImportRow],
    now: i64,
) -> Result<i64> {
    let name = clean_name(name)?;
    let mut order: Vec<&ImportRow> = rows.iter().collect();
    order.sort_unstable_by(|a, b| a.openid.cmp(&b.openid));
    let tx = conn.transaction()?;
    let id = insert_list(&tx, appid, &name, source, variables, now)?;
    {
        let mut insert = tx.prepare(
            "INSERT OR IGNORE INTO list_members (list_id, openid, vars) VALUES (?1, ?2, ?3)",
        )?;
        let mut vars = String::with_capacity(256);
        for row in order {
            vars.clear();
            vars_json(&mut vars, variables, &row.values)?;
            insert.execute(params![id, row.openid, vars])?;
        }
    }
    tx.commit()?;
    Ok(id)
}

/// `{"name":"value",…}` without building a map per row.
fn vars_json(out: &mut String, names: &[String], values: &[String]) -> Result<()> {
    out.push('{');
    for (i, name) in names.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&json(name)?);
        out.push(':');
        out.push_str(&json(&values.get(i).map_or("", String::as_str))?);
    }
    out.push('}');
    Ok(())
}

/// Saves the followers matching `filter` (following ones only) as a new list.
pub fn create_from_followers(
    conn: &mut Connection,
    appid: &str,
    name: &str,
    filter: &FollowerFilter,
    now: i64,
) -> Result<i64> {
    let name = clean_name(name)?;
    let mut filter = filter.clone();
    filter.subscribed = Some(true);
    let tx = conn.transaction()?;
    let id = insert_list(
        &tx,
        appid,
        &name,
        &ListSource::Followers {
            filter: filter.clone(),
        },
        &[],
        now,
    )?;
    let mut after: Option<String> = None;
    loop {
        let page = super::followers::list_followers(
            &tx,
            appid,
            &filter,
            after.as_deref(),
            super::followers::MAX_PAGE,
        )?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO list_members (list_id, openid, vars) VALUES (?1, ?2, '{}')",
            )?;
            for f in &page.items {
                insert.execute(params![id, f.openid])?;
            }
        }
        match page.next_after {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    tx.commit()?;
    Ok(id)
}

const COLUMNS: &str = "l.id, l.appid, l.name, l.source, l.variables, \
    (SELECT count(*) FROM list_members m WHERE m.list_id = l.id), l.created_at, l.updated_at";

fn from_row(row: &Row<'_>) -> rusqlite::Result<(RecipientList, String, String)> {
    Ok((
        RecipientList {
            id: row.get(0)?,
            appid: row.get(1)?,
            name: row.get(2)?,
            source: ListSource::Pasted,
            variables: Vec::new(),
            member_count: row.get::<_, i64>(5)?.max(0) as u64,
            created_at: row.get(6)?,
            updated_at: row.get(7)?,
        },
        row.get(3)?,
        row.get(4)?,
    ))
}

fn corrupt(id: i64, zh: &str, en: &str, e: &serde_json::Error) -> Error {
    Error::input(
        format!("名单 {id} 的{zh}损坏：{e}"),
        format!("The {en} of list {id} is damaged: {e}"),
    )
}

fn decode((mut l, source, vars): (RecipientList, String, String)) -> Result<RecipientList> {
    l.source =
        serde_json::from_str(&source).map_err(|e| corrupt(l.id, "来源数据", "source", &e))?;
    l.variables =
        serde_json::from_str(&vars).map_err(|e| corrupt(l.id, "变量列表", "variable list", &e))?;
    Ok(l)
}

/// The lists of every account in the accounts table, account by account (in the table's
/// order), each account's newest first.
pub fn list_all(conn: &Connection) -> Result<Vec<RecipientList>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM recipient_lists l JOIN accounts a ON a.appid = l.appid \
         ORDER BY a.authorized_at DESC NULLS LAST, a.appid, l.updated_at DESC, l.id DESC"
    ))?;
    let rows = stmt.query_map([], from_row)?;
    rows.map(|r| decode(r?)).collect()
}

/// The account's lists, newest first.
pub fn list_lists(conn: &Connection, appid: &str) -> Result<Vec<RecipientList>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM recipient_lists l WHERE l.appid = ?1 ORDER BY l.updated_at DESC, l.id DESC"
    ))?;
    let rows = stmt.query_map(params![appid], from_row)?;
    rows.map(|r| decode(r?)).collect()
}

pub fn get_list(conn: &Connection, id: i64) -> Result<Option<RecipientList>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM recipient_lists l WHERE l.id = ?1"),
        params![id],
        from_row,
    )
    .optional()?
    .map(decode)
    .transpose()
}

/// Members in openid order after `after`.
pub fn list_members(
    conn: &Connection,
    list_id: i64,
    after: Option<&str>,
    limit: usize,
) -> Result<MemberPage> {
    let limit = limit.clamp(1, super::followers::MAX_PAGE);
    let mut stmt = conn.prepare_cached(
        "SELECT openid, vars FROM list_members WHERE list_id = ?1 AND openid > ?2 \
         ORDER BY openid LIMIT ?3",
    )?;
    let rows = stmt.query_map(
        params![list_id, after.unwrap_or(""), limit as i64 + 1],
        |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
    )?;
    let mut items = Vec::new();
    for row in rows {
        let (openid, vars) = row?;
        let vars = serde_json::from_str(&vars).map_err(|e| {
            Error::input(
                format!("名单成员 {openid} 的变量损坏：{e}"),
                format!("The variables of list member {openid} are damaged: {e}"),
            )
        })?;
        items.push(ListMember { openid, vars });
    }
    let next_after = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|m| m.openid.clone())
    } else {
        None
    };
    Ok(MemberPage { items, next_after })
}

/// Deletes a list and its members.
pub fn delete_list(conn: &Connection, id: i64) -> Result<bool> {
    // Members first: the cascade needs foreign_keys on, which the store sets, but a plain
    // connection (the CLI opening the file read-write) might not.
    conn.execute("DELETE FROM list_members WHERE list_id = ?1", params![id])?;
    Ok(conn.execute("DELETE FROM recipient_lists WHERE id = ?1", params![id])? > 0)
}
