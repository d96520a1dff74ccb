//! The follower sync's SQLite side: the checkpoint row that makes it resumable, moved in the
//! same transaction as each staged page (see `sync_stage` for the staging and the merges).

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use wxdesk_wechat::api::UserInfo;

use super::deferred;
use super::stage as sync_stage;
use crate::error::{Error, Result};

/// Where a sync run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum SyncPhase {
    /// Paging through user/get (10,000 openids a page).
    Listing,
    /// user/info/batchget for the openids that need details (100 a call).
    Details,
    /// tags/get.
    Tags,
    /// A team desk publishing what it synced to the team server.
    Publishing,
    Done,
}

// Stored as text; `Tags` and `Publishing` are never stored: tags are fetched in one call after the details, and a
// restart in the details phase simply fetches them again.
impl SyncPhase {
    fn parse(s: &str) -> Result<SyncPhase> {
        match s {
            "listing" => Ok(SyncPhase::Listing),
            "details" => Ok(SyncPhase::Details),
            "done" => Ok(SyncPhase::Done),
            other => Err(Error::input(
                format!("未知的同步阶段 {other}"),
                format!("Unknown sync phase {other} in the database."),
            )),
        }
    }
}

/// The persisted state of an account's follower sync: an unfinished run (`phase` ≠ done) is
/// continued by the next sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SyncState {
    pub appid: String,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub run_id: i64,
    pub phase: SyncPhase,
    pub refresh_all: bool,
    /// user/get cursor: the listing continues after it.
    pub next_openid: String,
    /// Followers WeChat reported in the last page.
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub total: i64,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub listed: i64,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub added: i64,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub resubscribed: i64,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub unsubscribed: i64,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub started_at: i64,
    #[cfg_attr(feature = "specta", specta(type = Option<specta_typescript::Number>))]
    pub finished_at: Option<i64>,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
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
pub fn begin_run(
    conn: &mut Connection,
    appid: &str,
    refresh_all: bool,
    now: i64,
) -> Result<SyncState> {
    let tx = conn.transaction()?;
    tx.execute(
        "INSERT INTO follower_sync (appid, run_id, phase, refresh_all, next_openid, total, listed, \
         added, resubscribed, unsubscribed, started_at, finished_at, updated_at) \
         VALUES (?1, 1, 'listing', ?2, '', 0, 0, 0, 0, 0, ?3, NULL, ?3) \
         ON CONFLICT (appid) DO UPDATE SET run_id = run_id + 1, phase = 'listing', \
         refresh_all = ?2, next_openid = '', total = 0, listed = 0, added = 0, resubscribed = 0, \
         unsubscribed = 0, started_at = ?3, finished_at = NULL, updated_at = ?3",
        params![appid, i64::from(refresh_all), now],
    )?;
    sync_stage::clear(&tx, appid)?;
    tx.commit()?;
    load_state(conn, appid)?.ok_or_else(|| {
        Error::input(
            "同步状态写入失败",
            "The sync checkpoint could not be written.",
        )
    })
}

/// Stages one user/get page and moves the cursor, in one transaction: a crash either keeps the
/// page and its cursor or neither, so a resume re-reads at most this page. The page reaches
/// `followers` at the next merge.
pub fn record_page(
    conn: &mut Connection,
    state: &SyncState,
    openids: &[String],
    next_openid: &str,
    total: i64,
    now: i64,
) -> Result<()> {
    let tx = conn.transaction()?;
    sync_stage::stage_listed(&tx, &state.appid, state.run_id, openids)?;
    tx.execute(
        "UPDATE follower_sync SET next_openid = ?2, total = ?3, listed = listed + ?4, \
         updated_at = ?5 WHERE appid = ?1",
        params![state.appid, next_openid, total, openids.len() as i64, now],
    )?;
    tx.commit()?;
    Ok(())
}

/// Merges the staged pages into `followers` (see [`sync_stage::merge_listed`]).
pub fn merge_listed(conn: &mut Connection, state: &SyncState, now: i64) -> Result<()> {
    let tx = conn.transaction()?;
    sync_stage::merge_listed(&tx, &state.appid, state.run_id, now)?;
    tx.commit()?;
    Ok(())
}

/// The listing is complete: the last staged pages are merged, and followers this run did not
/// list have unsubscribed. Moves the run to the details phase, all in one transaction; returns
/// how many were marked.
pub fn finish_listing(conn: &mut Connection, state: &SyncState, now: i64) -> Result<i64> {
    let tx = conn.transaction()?;
    let merged = sync_stage::merge_listed(&tx, &state.appid, state.run_id, now)?;
    // After an account's first merge every follower it has was listed by this run: the marking
    // (a walk of all its followers) would find none.
    let marked = if merged.first {
        0
    } else {
        tx.execute(
            "UPDATE followers SET subscribe = 0, updated_at = ?3 \
             WHERE appid = ?1 AND subscribe = 1 AND seen_run < ?2",
            params![state.appid, state.run_id, now],
        )? as i64
    };
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

/// ... and no answer staged for it yet: an answer the listing's early details staged, or one a
/// crash left, is merged with the answers of its openid range (see `merge_fetched`).
const NOT_STAGED_SQL: &str = "NOT EXISTS (SELECT 1 FROM follower_sync_fetched AS s \
     WHERE s.appid = ?1 AND s.run_id = ?2 AND s.openid = followers.openid)";

/// (already fetched in this run — merged or staged —, still to fetch).
pub fn details_progress(conn: &Connection, state: &SyncState) -> Result<(i64, i64)> {
    let merged: i64 = conn.query_row(
        "SELECT count(*) FROM followers WHERE appid = ?1 AND info_run = ?2",
        params![state.appid, state.run_id],
        |r| r.get(0),
    )?;
    // Every staged answer is of a follower that needs details: the early details ask only
    // where every listed follower does, the phase only for those, and a merged answer is
    // unstaged in its merge's transaction. So the staged ones are subtracted from the count
    // below instead of looking each follower up among them (0.4 s more at a million).
    let staged: i64 = conn.query_row(
        "SELECT count(DISTINCT openid) FROM follower_sync_fetched WHERE appid = ?1 AND run_id = ?2",
        params![state.appid, state.run_id],
        |r| r.get(0),
    )?;
    let done = merged + staged;
    let todo: i64 = conn.query_row(
        &format!(
            "SELECT count(*) FROM followers WHERE {}",
            needs_details_sql(state.refresh_all)
        ),
        params![state.appid, state.run_id],
        |r| r.get::<_, i64>(0),
    )?;
    Ok((done, (todo - staged).max(0)))
}

/// Before the listing's final merge of an account's first sync: every follower the merge adds
/// will need its details, so when they are at least `defer_from` (and half the table) the
/// indexes the details phase defers are dropped now, before the merge writes an entry into
/// them for each one (`deferred`). Returns whether it deferred them.
pub fn defer_for_first_listing(
    conn: &mut Connection,
    appid: &str,
    defer_from: i64,
) -> Result<bool> {
    if any_follower(conn, appid)? {
        return Ok(false);
    }
    let staged = sync_stage::listed_count(conn, appid)?;
    // Half the table at least, counted after the merge: the rebuild sorts every account's
    // followers.
    if staged < defer_from || staged * 2 < followers_rows(conn)? + staged {
        return Ok(false);
    }
    deferred::defer(conn)?;
    Ok(true)
}

/// Whether `appid` has any follower stored.
pub fn any_follower(conn: &Connection, appid: &str) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM followers WHERE appid = ?1)",
        params![appid],
        |r| r.get::<_, i64>(0),
    )? == 1)
}

/// Rows of `followers`, every account's.
pub fn followers_rows(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT count(*) FROM followers", [], |r| r.get(0))?)
}

/// The next openids needing details and without a staged answer, in openid order after
/// `after`.
pub fn next_needing_details(
    conn: &Connection,
    state: &SyncState,
    after: &str,
    limit: usize,
) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT openid FROM followers WHERE {} AND {NOT_STAGED_SQL} AND openid > ?3 \
         ORDER BY openid LIMIT ?4",
        needs_details_sql(state.refresh_all)
    ))?;
    let rows = stmt.query_map(
        params![state.appid, state.run_id, after, limit as i64],
        |r| r.get::<_, String>(0),
    )?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Stages batchget answers (and refused openids) in one transaction; see [`merge_fetched`].
pub fn record_details(
    conn: &mut Connection,
    appid: &str,
    run_id: i64,
    users: &[UserInfo],
    invalid: &[String],
    now: i64,
) -> Result<()> {
    sync_stage::stage_fetched(conn, appid, run_id, users, invalid, now)
}

/// Merges the staged answers (those up to openid `up_to`, or all) into `followers` and
/// `follower_tags` in one transaction (see [`sync_stage::merge_fetched`]).
pub fn merge_fetched(
    conn: &mut Connection,
    appid: &str,
    run_id: i64,
    up_to: Option<&str>,
) -> Result<()> {
    let tx = conn.transaction()?;
    sync_stage::merge_fetched(&tx, appid, run_id, up_to)?;
    tx.commit()?;
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
    let want: i64 = std::env::var("WXDESK_CACHE_KIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(65_536);
    if kib < want {
        conn.pragma_update(None, "cache_size", -want)?;
    }
    Ok(())
}

/// The page cache a follower sync runs with, in KiB. It was 128 MiB while every merge walked
/// the subscribe_time and unionid indexes in random order (~180 MB at a million followers). A
/// large sync now defers those (`deferred`), and its merges walk the table and the remaining
/// indexes in openid order, so a cache only needs the pages of one merge's key range. Measured
/// at 1M followers and 50 ms, same minutes (bench/RESULTS.md, 2026-12-04): 128 MiB → 50.8 s and
/// 285 MiB peak RSS, 64 MiB → 51.2 s and 224 MiB, 32 MiB → 53.9 s and 185 MiB. Pages are only
/// allocated as the database needs them, so a small account never uses this much.
const SYNC_CACHE_KIB: i64 = 65_536;

/// Raises the connection's page cache for a sync; returns the setting to give back to
/// [`restore_cache`].
pub fn enter_sync_cache(conn: &Connection) -> Result<i64> {
    let current: i64 = conn.query_row("PRAGMA cache_size", [], |r| r.get(0))?;
    let kib = if current < 0 { -current } else { current * 4 };
    if kib < SYNC_CACHE_KIB {
        conn.pragma_update(None, "cache_size", -SYNC_CACHE_KIB)?;
    }
    Ok(current)
}

/// Gives the cache back to its earlier size and frees the pages above it.
pub fn restore_cache(conn: &Connection, previous: i64) -> Result<()> {
    conn.pragma_update(None, "cache_size", previous)?;
    conn.release_memory()?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod first_listing_tests {
    use super::*;
    use crate::store::Store;

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_string()).collect()
    }

    fn subscribe_time_index(c: &Connection) -> bool {
        c.query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE name = 'followers_subscribe_time')",
            [],
            |r| r.get(0),
        )
        .unwrap()
    }

    #[tokio::test]
    async fn a_first_sync_defers_the_indexes_before_its_listing_merge_and_a_later_one_does_not() {
        let store = Store::open_in_memory().unwrap();
        store
            .call(|c| {
                let app = "wxfirst000000001";
                let s = begin_run(c, app, false, 10)?;
                record_page(c, &s, &ids(&["a", "b", "c"]), "", 3, 10)?;
                // Below the threshold nothing is deferred.
                assert!(!defer_for_first_listing(c, app, 4)?);
                assert!(subscribe_time_index(c));
                assert!(defer_for_first_listing(c, app, 3)?);
                assert!(!subscribe_time_index(c), "deferred before the merge");
                finish_listing(c, &s, 11)?;
                // The merge wrote no entry into the deferred index: it is rebuilt whole.
                assert_eq!(deferred::restore(c)?, 3);
                assert!(subscribe_time_index(c));

                // A later sync of the same account meets its known followers: the details
                // phase decides from what actually needs details.
                finish_run(c, app, 12)?;
                let s = begin_run(c, app, false, 20)?;
                record_page(c, &s, &ids(&["a", "b", "c", "d"]), "", 4, 20)?;
                assert!(!defer_for_first_listing(c, app, 1)?);
                assert!(subscribe_time_index(c));

                // A first sync that would be less than half the table is not worth a rebuild of
                // every account's followers.
                let small = "wxfirst000000002";
                let s = begin_run(c, small, false, 30)?;
                record_page(c, &s, &ids(&["p", "q"]), "", 2, 30)?;
                assert!(!defer_for_first_listing(c, small, 1)?);
                assert!(subscribe_time_index(c));
                Ok(())
            })
            .await
            .unwrap();
    }
}
