//! The follower sync's SQLite side: the checkpoint row that makes it resumable, and the batched
//! writes of listed openids and fetched details (prepared statements, one transaction per batch).

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use wxdesk_wechat::api::UserInfo;

use crate::error::{Error, Result};

/// Where a sync run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncPhase {
    /// Paging through user/get (10,000 openids a page).
    Listing,
    /// user/info/batchget for the openids that need details (100 a call).
    Details,
    /// tags/get.
    Tags,
    Done,
}

// Stored as text; `Tags` is never stored: tags are fetched in one call after the details, and a
// restart in the details phase simply fetches them again.
impl SyncPhase {
    fn parse(s: &str) -> Result<SyncPhase> {
        match s {
            "listing" => Ok(SyncPhase::Listing),
            "details" => Ok(SyncPhase::Details),
            "done" => Ok(SyncPhase::Done),
            other => Err(Error::Invalid(format!("未知的同步阶段 {other}"))),
        }
    }
}

/// The persisted state of an account's follower sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncState {
    pub appid: String,
    pub run_id: i64,
    pub phase: SyncPhase,
    pub refresh_all: bool,
    /// user/get cursor: the listing continues after it.
    pub next_openid: String,
    /// Followers WeChat reported in the last page.
    pub total: i64,
    pub listed: i64,
    pub added: i64,
    pub resubscribed: i64,
    pub unsubscribed: i64,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub updated_at: i64,
}

pub fn load_state(conn: &Connection, appid: &str) -> Result<Option<SyncState>> {
    let row = conn
        .query_row(
            "SELECT appid, run_id, phase, refresh_all, next_openid, total, listed, added, \
             resubscribed, unsubscribed, started_at, finished_at, updated_at \
             FROM follower_sync WHERE appid = ?1",
            params![appid],
            |r| {
                Ok((
                    SyncState {
                        appid: r.get(0)?,
                        run_id: r.get(1)?,
                        phase: SyncPhase::Done,
                        refresh_all: r.get::<_, i64>(3)? == 1,
                        next_openid: r.get(4)?,
                        total: r.get(5)?,
                        listed: r.get(6)?,
                        added: r.get(7)?,
                        resubscribed: r.get(8)?,
                        unsubscribed: r.get(9)?,
                        started_at: r.get(10)?,
                        finished_at: r.get(11)?,
                        updated_at: r.get(12)?,
                    },
                    r.get::<_, String>(2)?,
                ))
            },
        )
        .optional()?;
    row.map(|(mut s, phase)| {
        s.phase = SyncPhase::parse(&phase)?;
        Ok(s)
    })
    .transpose()
}

/// Starts a new run after the last one (or the first), at the first page.
pub fn begin_run(conn: &Connection, appid: &str, refresh_all: bool, now: i64) -> Result<SyncState> {
    conn.execute(
        "INSERT INTO follower_sync (appid, run_id, phase, refresh_all, next_openid, total, listed, \
         added, resubscribed, unsubscribed, started_at, finished_at, updated_at) \
         VALUES (?1, 1, 'listing', ?2, '', 0, 0, 0, 0, 0, ?3, NULL, ?3) \
         ON CONFLICT (appid) DO UPDATE SET run_id = run_id + 1, phase = 'listing', \
         refresh_all = ?2, next_openid = '', total = 0, listed = 0, added = 0, resubscribed = 0, \
         unsubscribed = 0, started_at = ?3, finished_at = NULL, updated_at = ?3",
        params![appid, i64::from(refresh_all), now],
    )?;
    load_state(conn, appid)?.ok_or_else(|| Error::Invalid("同步状态写入失败".into()))
}

/// Counts of one listed page's effect.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PageEffect {
    pub added: i64,
    pub resubscribed: i64,
}

/// Records one user/get page and moves the cursor, in one transaction: a crash either keeps the
/// page and its cursor or neither, so a resume re-reads at most this page.
pub fn record_page(
    conn: &mut Connection,
    state: &SyncState,
    openids: &[String],
    next_openid: &str,
    total: i64,
    now: i64,
) -> Result<PageEffect> {
    let tx = conn.transaction()?;
    let mut effect = PageEffect::default();
    {
        let mut insert = tx.prepare_cached(
            "INSERT INTO followers (appid, openid, subscribe, seen_run, info_run, updated_at) \
             VALUES (?1, ?2, 1, ?3, 0, ?4) ON CONFLICT (appid, openid) DO NOTHING",
        )?;
        // A known openid that had unsubscribed follows again and needs its details
        // (subscribe_time, tags) fetched anew; any other known openid is just marked seen.
        let mut back = tx.prepare_cached(
            "UPDATE followers SET seen_run = ?3, subscribe = 1, info_run = 0, updated_at = ?4 \
             WHERE appid = ?1 AND openid = ?2 AND subscribe = 0",
        )?;
        let mut seen = tx.prepare_cached(
            "UPDATE followers SET seen_run = ?3 WHERE appid = ?1 AND openid = ?2",
        )?;
        for openid in openids {
            let args = params![state.appid, openid, state.run_id, now];
            if insert.execute(args)? == 1 {
                effect.added += 1;
            } else if back.execute(args)? == 1 {
                effect.resubscribed += 1;
            } else {
                seen.execute(params![state.appid, openid, state.run_id])?;
            }
        }
    }
    tx.execute(
        "UPDATE follower_sync SET next_openid = ?2, total = ?3, listed = listed + ?4, \
         added = added + ?5, resubscribed = resubscribed + ?6, updated_at = ?7 WHERE appid = ?1",
        params![
            state.appid,
            next_openid,
            total,
            openids.len() as i64,
            effect.added,
            effect.resubscribed,
            now
        ],
    )?;
    tx.commit()?;
    Ok(effect)
}

/// The listing is complete: followers this run did not list have unsubscribed. Moves the run to
/// the details phase; returns how many were marked.
pub fn finish_listing(conn: &mut Connection, state: &SyncState, now: i64) -> Result<i64> {
    let tx = conn.transaction()?;
    let marked = tx.execute(
        "UPDATE followers SET subscribe = 0, updated_at = ?3 \
         WHERE appid = ?1 AND subscribe = 1 AND seen_run < ?2",
        params![state.appid, state.run_id, now],
    )? as i64;
    tx.execute(
        "UPDATE follower_sync SET phase = 'details', unsubscribed = unsubscribed + ?2, \
         updated_at = ?3 WHERE appid = ?1",
        params![state.appid, marked, now],
    )?;
    tx.commit()?;
    Ok(marked)
}

/// The condition for "needs details in this run".
fn needs_details_sql(refresh_all: bool) -> &'static str {
    if refresh_all {
        "appid = ?1 AND subscribe = 1 AND seen_run = ?2 AND info_run < ?2"
    } else {
        "appid = ?1 AND subscribe = 1 AND info_run = 0 AND seen_run <= ?2"
    }
}

/// (already fetched in this run, still to fetch).
pub fn details_progress(conn: &Connection, state: &SyncState) -> Result<(i64, i64)> {
    let done: i64 = conn.query_row(
        "SELECT count(*) FROM followers WHERE appid = ?1 AND info_run = ?2",
        params![state.appid, state.run_id],
        |r| r.get(0),
    )?;
    let todo: i64 = conn.query_row(
        &format!(
            "SELECT count(*) FROM followers WHERE {}",
            needs_details_sql(state.refresh_all)
        ),
        params![state.appid, state.run_id],
        |r| r.get(0),
    )?;
    Ok((done, todo))
}

/// The next openids needing details, in openid order after `after`.
pub fn next_needing_details(
    conn: &Connection,
    state: &SyncState,
    after: &str,
    limit: usize,
) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT openid FROM followers WHERE {} AND openid > ?3 ORDER BY openid LIMIT ?4",
        needs_details_sql(state.refresh_all)
    ))?;
    let rows = stmt.query_map(
        params![state.appid, state.run_id, after, limit as i64],
        |r| r.get::<_, String>(0),
    )?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Writes fetched details (and replaces the members' tag rows) in one transaction. A user that
/// batchget reports as `subscribe: 0` is marked unsubscribed. Returns how many were marked so.
pub fn record_details(
    conn: &mut Connection,
    appid: &str,
    run_id: i64,
    users: &[UserInfo],
    now: i64,
) -> Result<i64> {
    let tx = conn.transaction()?;
    let mut gone = 0;
    {
        let mut follower = tx.prepare_cached(
            "UPDATE followers SET subscribe = 1, unionid = ?3, subscribe_time = ?4, remark = ?5, \
             tagid_list = ?6, language = ?7, subscribe_scene = ?8, info_run = ?9, updated_at = ?10 \
             WHERE appid = ?1 AND openid = ?2",
        )?;
        let mut former = tx.prepare_cached(
            "UPDATE followers SET subscribe = 0, info_run = ?3, updated_at = ?4 \
             WHERE appid = ?1 AND openid = ?2",
        )?;
        let mut clear_tags =
            tx.prepare_cached("DELETE FROM follower_tags WHERE appid = ?1 AND openid = ?2")?;
        let mut add_tag = tx.prepare_cached(
            "INSERT OR IGNORE INTO follower_tags (appid, tag_id, openid) VALUES (?1, ?2, ?3)",
        )?;
        for u in users {
            if u.openid.is_empty() {
                continue;
            }
            if u.subscribe != 1 {
                former.execute(params![appid, u.openid, run_id, now])?;
                clear_tags.execute(params![appid, u.openid])?;
                gone += 1;
                continue;
            }
            let tags = serde_json::to_string(&u.tagid_list)
                .map_err(|e| Error::Invalid(format!("标签列表无法保存：{e}")))?;
            let unionid = u.unionid.as_deref().filter(|s| !s.is_empty());
            let subscribe_time = (u.subscribe_time > 0).then_some(u.subscribe_time);
            follower.execute(params![
                appid,
                u.openid,
                unionid,
                subscribe_time,
                u.remark,
                tags,
                u.language,
                u.subscribe_scene,
                run_id,
                now
            ])?;
            clear_tags.execute(params![appid, u.openid])?;
            for tag in &u.tagid_list {
                add_tag.execute(params![appid, tag, u.openid])?;
            }
        }
    }
    if gone > 0 {
        tx.execute(
            "UPDATE follower_sync SET unsubscribed = unsubscribed + ?2 WHERE appid = ?1",
            params![appid, gone],
        )?;
    }
    tx.commit()?;
    Ok(gone)
}

/// Marks openids that batchget refused as unknown (40003) as no longer following, so the run
/// does not ask for them again.
pub fn record_invalid(
    conn: &Connection,
    appid: &str,
    run_id: i64,
    openid: &str,
    now: i64,
) -> Result<()> {
    conn.execute(
        "UPDATE followers SET subscribe = 0, info_run = ?3, updated_at = ?4 \
         WHERE appid = ?1 AND openid = ?2",
        params![appid, openid, run_id, now],
    )?;
    Ok(())
}

pub fn finish_run(conn: &Connection, appid: &str, now: i64) -> Result<()> {
    conn.execute(
        "UPDATE follower_sync SET phase = 'done', finished_at = ?2, updated_at = ?2 \
         WHERE appid = ?1",
        params![appid, now],
    )?;
    Ok(())
}

/// Gives the connection a 64 MiB page cache for bulk work. A million followers with their
/// indexes are well over 100 MB and arrive in random openid order; with SQLite's default 2 MB
/// cache almost every insert or update re-reads pages. The setting stays for the connection,
/// which is the app's one store connection: a desktop can spare it.
pub fn bulk_cache(conn: &Connection) -> Result<()> {
    let current: i64 = conn.query_row("PRAGMA cache_size", [], |r| r.get(0))?;
    // Negative values are KiB, positive ones pages (4 KiB by default).
    let kib = if current < 0 { -current } else { current * 4 };
    if kib < 65_536 {
        conn.pragma_update(None, "cache_size", -65_536)?;
    }
    Ok(())
}
