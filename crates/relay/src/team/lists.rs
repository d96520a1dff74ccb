//! 名单 (recipient lists) of the shared workspace: made at any desk, listed, read and sent to
//! from every desk. The desk builds a list's members (from its followers, an imported file or
//! the unionid bridge) and uploads them here in pieces: [`create`] opens an invisible list,
//! [`add_members`] adds chunks of members (only its creator may), [`finish`] makes it visible —
//! one UPDATE, so no desk ever sees half a list. The server checks names, openids and the size
//! of what it stores; `source` and `variables` are the desk's JSON and only kept.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tokio_postgres::error::SqlState;

use super::db::Db;
use super::jobs::{Refused, invalid};
use super::members::{Member, audit};
use crate::error::Result;
use crate::http::now_unix as now;

/// Members a desk may send in one [`add_members`] call.
pub const MAX_CHUNK: usize = 10_000;
/// Members in one list (a million followers is the largest account the bench syncs).
pub const MAX_MEMBERS: i64 = 2_000_000;
/// Mail-merge columns per list, and the bytes of one member's variables.
pub const MAX_VARIABLES: usize = 100;
pub const MAX_VARS_BYTES: usize = 16 * 1024;
/// A list's source JSON (a follower filter or a file name).
const MAX_SOURCE_BYTES: usize = 4096;
/// An upload older than this that never finished is removed by the next create.
const ABANDONED_SECS: i64 = 24 * 3600;
/// Members per page when the desk asks for none, and at most.
pub const DEFAULT_PAGE: i64 = 1000;
pub const MAX_PAGE: i64 = 5000;

/// A list as desks read it (the desk's `RecipientList` plus who made it).
#[derive(Debug, Clone, Serialize)]
pub struct List {
    pub id: i64,
    pub appid: String,
    pub name: String,
    /// The desk's JSON, passed back as it came.
    pub source: serde_json::Value,
    pub variables: Vec<String>,
    pub member_count: i64,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// `POST /api/v1/team/lists`.
#[derive(Debug, Deserialize)]
pub struct NewList {
    pub appid: String,
    pub name: String,
    pub source: serde_json::Value,
    #[serde(default)]
    pub variables: Vec<String>,
}

/// One member of an upload chunk.
#[derive(Debug, Deserialize, Serialize)]
pub struct NewMember {
    pub openid: String,
    #[serde(default)]
    pub vars: BTreeMap<String, String>,
}

/// One member as desks read it.
#[derive(Debug, Clone, Serialize)]
pub struct MemberRow {
    pub openid: String,
    pub vars: serde_json::Value,
}

const COLUMNS: &str =
    "id, appid, name, source, variables, member_count, created_by, created_at, updated_at";

fn from_row(r: &tokio_postgres::Row) -> List {
    List {
        id: r.get(0),
        appid: r.get(1),
        name: r.get(2),
        // Written by this module from parsed JSON: a parse failure means a hand edit, shown as
        // null rather than failing every list of the account.
        source: serde_json::from_str(r.get::<_, &str>(3)).unwrap_or(serde_json::Value::Null),
        variables: serde_json::from_str(r.get::<_, &str>(4)).unwrap_or_default(),
        member_count: r.get(5),
        created_by: r.get(6),
        created_at: r.get(7),
        updated_at: r.get(8),
    }
}

/// The visible lists of one account, or of every account (by appid), newest first.
pub async fn list(db: &Db, appid: Option<&str>) -> Result<Vec<List>> {
    let conn = db.get().await?;
    let rows = conn
        .query(
            &format!(
                "SELECT {COLUMNS} FROM team_lists WHERE ready AND ($1::text IS NULL OR appid = $1) \
                 ORDER BY appid, updated_at DESC, id DESC"
            ),
            &[&appid],
        )
        .await?;
    Ok(rows.iter().map(from_row).collect())
}

/// A visible list.
pub async fn get(db: &Db, id: i64) -> Result<Option<List>> {
    let conn = db.get().await?;
    let row = conn
        .query_opt(
            &format!("SELECT {COLUMNS} FROM team_lists WHERE id = $1 AND ready"),
            &[&id],
        )
        .await?;
    Ok(row.as_ref().map(from_row))
}

/// Members of a visible list in openid order after `after`; `None` when there is no such list.
pub async fn members(
    db: &Db,
    id: i64,
    after: Option<&str>,
    limit: i64,
) -> Result<Option<(Vec<MemberRow>, Option<String>)>> {
    let conn = db.get().await?;
    let visible = conn
        .query_opt("SELECT 1 FROM team_lists WHERE id = $1 AND ready", &[&id])
        .await?;
    if visible.is_none() {
        return Ok(None);
    }
    let limit = limit.clamp(1, MAX_PAGE);
    let rows = conn
        .query(
            "SELECT openid, vars FROM team_list_members WHERE list_id = $1 AND openid > $2 \
             ORDER BY openid LIMIT $3",
            &[&id, &after.unwrap_or(""), &(limit + 1)],
        )
        .await?;
    let mut items: Vec<MemberRow> = rows
        .iter()
        .map(|r| MemberRow {
            openid: r.get(0),
            vars: serde_json::from_str(r.get::<_, &str>(1))
                .unwrap_or_else(|_| serde_json::Value::Object(Default::default())),
        })
        .collect();
    let next = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|m| m.openid.clone())
    } else {
        None
    };
    Ok(Some((items, next)))
}

fn clean_name(name: &str) -> std::result::Result<String, Refused> {
    let name = name.trim();
    if name.is_empty() {
        return Err(invalid(
            "bad_list",
            "名单名称不能为空",
            "The list needs a name.",
        ));
    }
    if name.chars().count() > 60 || name.chars().any(char::is_control) {
        return Err(invalid(
            "bad_list",
            "名单名称最多 60 个字，且不能含控制字符",
            "A list name has at most 60 characters and no control characters.",
        ));
    }
    Ok(name.to_owned())
}

fn name_taken(name: &str) -> Refused {
    invalid(
        "list_name_taken",
        format!("团队里这个账号已有名为「{name}」的名单，请换一个名称"),
        format!(
            "This account already has a list named \"{name}\" in the team: choose another name."
        ),
    )
}

/// Opens an upload: an invisible list owned by `member`. Returns its id.
pub async fn create(db: &Db, member: &Member, new: NewList) -> std::result::Result<i64, Refused> {
    let name = clean_name(&new.name)?;
    let source = serde_json::to_string(&new.source).unwrap_or_default();
    if source.len() > MAX_SOURCE_BYTES {
        return Err(invalid(
            "bad_list",
            "名单来源信息过长",
            "The list's source description is too long.",
        ));
    }
    if new.variables.len() > MAX_VARIABLES
        || new.variables.iter().any(|v| v.is_empty() || v.len() > 64)
    {
        return Err(invalid(
            "bad_list",
            format!("名单最多 {MAX_VARIABLES} 个变量列，列名 1–64 字节"),
            format!("A list has at most {MAX_VARIABLES} variable columns, named in 1–64 bytes."),
        ));
    }
    let variables = serde_json::to_string(&new.variables).unwrap_or_else(|_| "[]".into());
    let conn = db.get().await?;
    super::accounts::require_known(&conn, &new.appid).await?;
    let at = now();
    conn.execute(
        "DELETE FROM team_lists WHERE NOT ready AND created_at < $1",
        &[&(at - ABANDONED_SECS)],
    )
    .await?;
    let taken = conn
        .query_opt(
            "SELECT 1 FROM team_lists WHERE ready AND appid = $1 AND name = $2",
            &[&new.appid, &name],
        )
        .await?;
    if taken.is_some() {
        return Err(name_taken(&name));
    }
    let row = conn
        .query_one(
            "INSERT INTO team_lists (appid, name, source, variables, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
            &[&new.appid, &name, &source, &variables, &member.name, &at],
        )
        .await?;
    Ok(row.get(0))
}

fn good_openid(o: &str) -> bool {
    (1..=64).contains(&o.len())
        && o.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Adds a chunk of members to `member`'s unfinished upload `id`; how many were new.
pub async fn add_members(
    db: &Db,
    member: &Member,
    id: i64,
    chunk: Vec<NewMember>,
) -> std::result::Result<u64, Refused> {
    if chunk.len() > MAX_CHUNK {
        return Err(invalid(
            "bad_list",
            format!("一次最多上传 {MAX_CHUNK} 个名单成员"),
            format!("Upload at most {MAX_CHUNK} list members at a time."),
        ));
    }
    let mut openids = Vec::with_capacity(chunk.len());
    let mut vars = Vec::with_capacity(chunk.len());
    for m in chunk {
        if !good_openid(&m.openid) {
            return Err(invalid(
                "bad_list_member",
                format!("名单成员的 openid 无效：{:.64}", m.openid),
                format!("A list member's openid is not valid: {:.64}", m.openid),
            ));
        }
        let json = serde_json::to_string(&m.vars).unwrap_or_else(|_| "{}".into());
        if json.len() > MAX_VARS_BYTES {
            return Err(invalid(
                "bad_list_member",
                format!("名单成员 {} 的变量超过 16 KiB", m.openid),
                format!("The variables of list member {} exceed 16 KiB.", m.openid),
            ));
        }
        openids.push(m.openid);
        vars.push(json);
    }
    let mut conn = db.get().await?;
    let tx = conn.transaction().await?;
    // The list row is locked for the chunk: two chunks of one upload count one after another.
    let open = tx
        .query_opt(
            "SELECT member_count FROM team_lists \
             WHERE id = $1 AND NOT ready AND created_by = $2 FOR UPDATE",
            &[&id, &member.name],
        )
        .await?;
    let Some(open) = open else {
        return Err(Refused::NotFound);
    };
    let count: i64 = open.get(0);
    let added = tx
        .execute(
            "INSERT INTO team_list_members (list_id, openid, vars) \
             SELECT $1, o, v FROM unnest($2::text[], $3::text[]) AS t(o, v) \
             ON CONFLICT DO NOTHING",
            &[&id, &openids, &vars],
        )
        .await?;
    if count + added as i64 > MAX_MEMBERS {
        return Err(invalid(
            "list_too_large",
            format!("一个名单最多 {MAX_MEMBERS} 个成员"),
            format!("A list holds at most {MAX_MEMBERS} members."),
        ));
    }
    tx.execute(
        "UPDATE team_lists SET member_count = member_count + $2 WHERE id = $1",
        &[&id, &(added as i64)],
    )
    .await?;
    tx.commit().await?;
    Ok(added)
}

/// Makes `member`'s upload `id` visible to every desk.
pub async fn finish(db: &Db, member: &Member, id: i64) -> std::result::Result<List, Refused> {
    let conn = db.get().await?;
    let row = conn
        .query_opt(
            &format!(
                "UPDATE team_lists SET ready = true, updated_at = $3 \
                 WHERE id = $1 AND NOT ready AND created_by = $2 RETURNING {COLUMNS}"
            ),
            &[&id, &member.name, &now()],
        )
        .await;
    let list = match row {
        Ok(Some(r)) => from_row(&r),
        Ok(None) => return Err(Refused::NotFound),
        Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
            let name: Option<String> = conn
                .query_opt("SELECT name FROM team_lists WHERE id = $1", &[&id])
                .await?
                .map(|r| r.get(0));
            return Err(name_taken(name.as_deref().unwrap_or("")));
        }
        Err(e) => return Err(e.into()),
    };
    audit_created(db, member, &list).await?;
    Ok(list)
}

/// Deletes a list (visible, or the member's own upload); whether it existed.
pub async fn delete(db: &Db, member: &Member, id: i64) -> Result<bool> {
    let conn = db.get().await?;
    let row = conn
        .query_opt(
            "DELETE FROM team_lists WHERE id = $1 AND (ready OR created_by = $2) \
             RETURNING appid, name, ready",
            &[&id, &member.name],
        )
        .await?;
    let Some(row) = row else {
        return Ok(false);
    };
    if row.get::<_, bool>(2) {
        audit(
            db,
            Some(&member.name),
            "list.delete",
            serde_json::json!({
                "list_id": id,
                "appid": row.get::<_, String>(0),
                "name": row.get::<_, String>(1),
            }),
        )
        .await?;
    }
    Ok(true)
}

/// `POST /api/v1/team/lists/from-followers`.
#[derive(Debug, Deserialize)]
pub struct FromFollowers {
    pub appid: String,
    pub name: String,
    #[serde(default)]
    pub filter: super::followers::Filter,
}

/// Saves the team's following followers of an account that match a filter as a new list, in one
/// transaction (visible whole or not at all).
pub async fn create_from_followers(
    db: &Db,
    member: &Member,
    req: FromFollowers,
) -> std::result::Result<List, Refused> {
    use super::followers::{FILTER, FilterArgs};
    let name = clean_name(&req.name)?;
    let mut filter = req.filter;
    filter.subscribed = Some(true);
    let source = serde_json::json!({ "kind": "followers", "filter": filter });
    let mut conn = db.get().await?;
    super::accounts::require_known(&conn, &req.appid).await?;
    let tx = conn.transaction().await?;
    let at = now();
    let id: i64 = tx
        .query_one(
            "INSERT INTO team_lists (appid, name, source, variables, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, '[]', $4, $5, $5) RETURNING id",
            &[&req.appid, &name, &source.to_string(), &member.name, &at],
        )
        .await?
        .get(0);
    let args = FilterArgs::of(&filter);
    let mut params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = vec![&req.appid];
    params.extend(args.params());
    params.push(&id);
    let added = tx
        .execute(
            &format!(
                "INSERT INTO team_list_members (list_id, openid, vars)
                 SELECT $7, f.openid, '{{}}' FROM team_followers f WHERE {FILTER}"
            ),
            &params,
        )
        .await?;
    if added as i64 > MAX_MEMBERS {
        return Err(invalid(
            "list_too_large",
            format!("一个名单最多 {MAX_MEMBERS} 个成员"),
            format!("A list holds at most {MAX_MEMBERS} members."),
        ));
    }
    let row = tx
        .query_one(
            &format!(
                "UPDATE team_lists SET ready = true, member_count = $2 WHERE id = $1 \
                 RETURNING {COLUMNS}"
            ),
            &[&id, &(added as i64)],
        )
        .await;
    let list = match row {
        Ok(r) => from_row(&r),
        Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => return Err(name_taken(&name)),
        Err(e) => return Err(e.into()),
    };
    tx.commit().await?;
    audit_created(db, member, &list).await?;
    Ok(list)
}

/// `list.create` in the audit log, by the member who made it.
async fn audit_created(db: &Db, member: &Member, list: &List) -> Result<()> {
    audit(
        db,
        Some(&member.name),
        "list.create",
        serde_json::json!({
            "list_id": list.id,
            "appid": list.appid,
            "name": list.name,
            "members": list.member_count,
        }),
    )
    .await
}
