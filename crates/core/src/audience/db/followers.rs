//! The `followers` table: search, filter and keyset pages for a table that must stay smooth at a
//! million rows, counts, and the follow/unfollow events from the relay feed.

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};
use serde::{Deserialize, Serialize};

use crate::error::Result;

/// One follower of an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Follower {
    pub appid: String,
    pub openid: String,
    pub unionid: Option<String>,
    /// Following now. `false`: unsubscribed (seen in an event or missing from the last sync).
    pub subscribe: bool,
    /// Unix seconds.
    #[cfg_attr(feature = "specta", specta(type = Option<specta_typescript::Number>))]
    pub subscribe_time: Option<i64>,
    pub remark: String,
    #[cfg_attr(feature = "specta", specta(type = Vec<specta_typescript::Number>))]
    pub tagid_list: Vec<i64>,
    pub language: String,
    pub subscribe_scene: String,
    /// `false` until user/info/batchget has filled unionid, tags, remark…
    pub has_details: bool,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub updated_at: i64,
}

/// Which followers to show. Every field narrows the result; the default is everyone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default)]
pub struct FollowerFilter {
    /// Matches the start of the openid or unionid, or anywhere in the remark.
    pub search: Option<String>,
    #[cfg_attr(feature = "specta", specta(type = Option<specta_typescript::Number>))]
    pub tag_id: Option<i64>,
    /// `Some(true)`: following only; `Some(false)`: unsubscribed only.
    pub subscribed: Option<bool>,
    /// Subscribed at or after (unix seconds).
    #[cfg_attr(feature = "specta", specta(type = Option<specta_typescript::Number>))]
    pub subscribed_from: Option<i64>,
    /// Subscribed before (unix seconds).
    #[cfg_attr(feature = "specta", specta(type = Option<specta_typescript::Number>))]
    pub subscribed_until: Option<i64>,
}

/// One keyset page: pass `next_after` back as `after` for the next one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FollowerPage {
    pub items: Vec<Follower>,
    pub next_after: Option<String>,
}

/// Totals over an account's synced followers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FollowerCounts {
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub total: u64,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub subscribed: u64,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub unsubscribed: u64,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub with_unionid: u64,
    /// Followers whose details (unionid, tags, remark) are not fetched yet.
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub without_details: u64,
}

/// How many followers match a filter (the table's row count).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FollowerCount {
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub count: u64,
}

/// Most rows one page returns, whatever the caller asks.
pub const MAX_PAGE: usize = 5_000;

const SELECT: &str = "SELECT f.appid, f.openid, f.unionid, f.subscribe, f.subscribe_time, \
                      f.remark, f.tagid_list, f.language, f.subscribe_scene, f.info_run, \
                      f.updated_at";

fn from_row(row: &Row<'_>) -> rusqlite::Result<Follower> {
    let tags: String = row.get(6)?;
    Ok(Follower {
        appid: row.get(0)?,
        openid: row.get(1)?,
        unionid: row.get(2)?,
        subscribe: row.get::<_, i64>(3)? == 1,
        subscribe_time: row.get(4)?,
        remark: row.get(5)?,
        // Written only by us from WeChat's integer list; unreadable means none.
        tagid_list: serde_json::from_str(&tags).unwrap_or_default(),
        language: row.get(7)?,
        subscribe_scene: row.get(8)?,
        has_details: row.get::<_, i64>(9)? > 0,
        updated_at: row.get(10)?,
    })
}

/// `FROM … WHERE …` for a filter, with its parameters. With a tag, rows are driven from the
/// tag index so a small tag never scans the whole account.
fn from_where(appid: &str, filter: &FollowerFilter) -> (String, Vec<Value>) {
    let mut args: Vec<Value> = vec![Value::Text(appid.to_string())];
    let mut sql = match filter.tag_id {
        Some(tag) => {
            args.push(Value::Integer(tag));
            "FROM follower_tags t JOIN followers f ON f.appid = t.appid AND f.openid = t.openid \
             WHERE t.appid = ?1 AND t.tag_id = ?2"
                .to_string()
        }
        None => "FROM followers f WHERE f.appid = ?1".to_string(),
    };
    if let Some(q) = filter
        .search
        .as_deref()
        .map(str::trim)
        .filter(|q| !q.is_empty())
    {
        // Prefix ranges use the primary key and the unionid index; U+10FFFF sorts after any
        // character, so [q, q + U+10FFFF) is "starts with q".
        args.push(Value::Text(q.to_string()));
        let lo = args.len();
        args.push(Value::Text(format!("{q}\u{10FFFF}")));
        let hi = args.len();
        sql.push_str(&format!(
            " AND ((f.openid >= ?{lo} AND f.openid < ?{hi}) \
             OR (f.unionid >= ?{lo} AND f.unionid < ?{hi}) OR instr(f.remark, ?{lo}) > 0)"
        ));
    }
    if let Some(s) = filter.subscribed {
        args.push(Value::Integer(i64::from(s)));
        sql.push_str(&format!(" AND f.subscribe = ?{}", args.len()));
    }
    if let Some(from) = filter.subscribed_from {
        args.push(Value::Integer(from));
        sql.push_str(&format!(" AND f.subscribe_time >= ?{}", args.len()));
    }
    if let Some(until) = filter.subscribed_until {
        args.push(Value::Integer(until));
        sql.push_str(&format!(" AND f.subscribe_time < ?{}", args.len()));
    }
    (sql, args)
}

/// Followers in openid order after `after` (exclusive), at most `limit` (capped at [`MAX_PAGE`]).
pub fn list_followers(
    conn: &Connection,
    appid: &str,
    filter: &FollowerFilter,
    after: Option<&str>,
    limit: usize,
) -> Result<FollowerPage> {
    let limit = limit.clamp(1, MAX_PAGE);
    let (mut sql, mut args) = from_where(appid, filter);
    // Keyset on the table that drives the scan, so the cursor is an index range.
    let order = if filter.tag_id.is_some() {
        "t.openid"
    } else {
        "f.openid"
    };
    if let Some(after) = after {
        args.push(Value::Text(after.to_string()));
        sql.push_str(&format!(" AND {order} > ?{}", args.len()));
    }
    args.push(Value::Integer(limit as i64 + 1));
    let sql = format!("{SELECT} {sql} ORDER BY {order} LIMIT ?{}", args.len());
    let mut stmt = conn.prepare(&sql)?;
    let mut items = stmt
        .query_map(params_from_iter(args), from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let next_after = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|f| f.openid.clone())
    } else {
        None
    };
    Ok(FollowerPage { items, next_after })
}

/// How many followers match `filter` (for the table's row count).
pub fn count_followers(conn: &Connection, appid: &str, filter: &FollowerFilter) -> Result<u64> {
    let (sql, args) = from_where(appid, filter);
    let n: i64 = conn.query_row(
        &format!("SELECT count(*) {sql}"),
        params_from_iter(args),
        |r| r.get(0),
    )?;
    Ok(n.max(0) as u64)
}

/// Totals over all of the account's synced followers.
pub fn counts(conn: &Connection, appid: &str) -> Result<FollowerCounts> {
    let row = conn.query_row(
        "SELECT count(*), coalesce(sum(subscribe), 0), coalesce(sum(unionid IS NOT NULL), 0), \
         coalesce(sum(info_run = 0), 0) FROM followers WHERE appid = ?1",
        params![appid],
        |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
            ))
        },
    )?;
    let (total, subscribed, with_unionid, without_details) = row;
    Ok(FollowerCounts {
        total: total as u64,
        subscribed: subscribed as u64,
        unsubscribed: (total - subscribed) as u64,
        with_unionid: with_unionid as u64,
        without_details: without_details as u64,
    })
}

pub fn get_follower(conn: &Connection, appid: &str, openid: &str) -> Result<Option<Follower>> {
    Ok(conn
        .query_row(
            &format!("{SELECT} FROM followers f WHERE f.appid = ?1 AND f.openid = ?2"),
            params![appid, openid],
            from_row,
        )
        .optional()?)
}

/// The run of the account's current (or last) follower sync, so a follow that arrives during a
/// sync counts as seen by it and is not marked unsubscribed when the sync finishes.
fn current_run(conn: &Connection, appid: &str) -> rusqlite::Result<i64> {
    conn.query_row(
        "SELECT coalesce(max(run_id), 0) FROM follower_sync WHERE appid = ?1",
        params![appid],
        |r| r.get(0),
    )
}

/// A `subscribe` event: the user follows (again). Details are fetched by the next sync.
pub fn apply_subscribe(conn: &Connection, appid: &str, openid: &str, at: i64) -> Result<()> {
    let run = current_run(conn, appid)?;
    conn.execute(
        "INSERT INTO followers (appid, openid, subscribe, subscribe_time, seen_run, info_run, \
         updated_at) VALUES (?1, ?2, 1, ?3, ?4, 0, ?3) \
         ON CONFLICT (appid, openid) DO UPDATE SET subscribe = 1, subscribe_time = ?3, \
         seen_run = max(seen_run, ?4), info_run = 0, updated_at = ?3 \
         WHERE coalesce(followers.subscribe_time, 0) <= ?3",
        params![appid, openid, at, run],
    )?;
    Ok(())
}

/// An `unsubscribe` event. Ignored when the follower's recorded subscription is newer than the
/// event (an old event replayed after a re-follow). An unknown openid is recorded as unsubscribed
/// so that a list importing it is flagged.
pub fn apply_unsubscribe(conn: &Connection, appid: &str, openid: &str, at: i64) -> Result<()> {
    conn.execute(
        "INSERT INTO followers (appid, openid, subscribe, updated_at) VALUES (?1, ?2, 0, ?3) \
         ON CONFLICT (appid, openid) DO UPDATE SET subscribe = 0, updated_at = ?3 \
         WHERE coalesce(followers.subscribe_time, 0) <= ?3",
        params![appid, openid, at],
    )?;
    Ok(())
}

/// Of `openids`, how many do not follow `appid` now, and the first `listed` of them; `None` when
/// no follower of the account has been synced yet (then nobody can be flagged).
pub fn not_following<'a>(
    conn: &Connection,
    appid: &str,
    openids: impl Iterator<Item = &'a str>,
    listed: usize,
) -> Result<Option<(u64, Vec<String>)>> {
    let any: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM followers WHERE appid = ?1)",
        params![appid],
        |r| r.get(0),
    )?;
    if !any {
        return Ok(None);
    }
    let mut stmt = conn.prepare_cached(
        "SELECT 1 FROM followers WHERE appid = ?1 AND openid = ?2 AND subscribe = 1",
    )?;
    let (mut count, mut first) = (0u64, Vec::new());
    for openid in openids {
        if !stmt.exists(params![appid, openid])? {
            count += 1;
            if first.len() < listed {
                first.push(openid.to_string());
            }
        }
    }
    Ok(Some((count, first)))
}

/// Following followers of `appid` whose details (and so unionid) are not synced yet.
pub fn following_without_details(conn: &Connection, appid: &str) -> Result<u64> {
    let n: i64 = conn.query_row(
        "SELECT count(*) FROM followers WHERE appid = ?1 AND subscribe = 1 AND info_run = 0",
        params![appid],
        |r| r.get(0),
    )?;
    Ok(n.max(0) as u64)
}

/// The follower of `appid` with `unionid` (a following one first): (openid, following).
pub fn by_unionid(conn: &Connection, appid: &str, unionid: &str) -> Result<Option<(String, bool)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT openid, subscribe FROM followers WHERE appid = ?1 AND unionid = ?2 \
         ORDER BY subscribe DESC LIMIT 1",
    )?;
    Ok(stmt
        .query_row(params![appid, unionid], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? == 1))
        })
        .optional()?)
}
