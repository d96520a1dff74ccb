//! The `followers` indexes a large details phase drops and builds again once at the end
//! (migration 0013).
//!
//! Why: the details are merged in openid order, which is the table's own order, but each merged
//! row also moves its unionid and subscribe_time into two indexes in an order that is random
//! with respect to them. At a million followers those indexes are over 100 MB, so every merge of
//! 50,000 answers dirtied nearly all their pages, and the sync's one connection spent most of the
//! sync rewriting them (bench/RESULTS.md). Built once after the phase, each is one sort.
//!
//! Crash safety: dropping the indexes and saving their statements is one transaction, and so is
//! building them again and emptying the table, so the database always has each index either in
//! place or saved here. Neither step needs to survive a power cut: an index is derived data,
//! queries are correct without it, and a lost rebuild is redone by the next sync's end.

use rusqlite::{Connection, params};

use crate::error::Result;

/// The indexes whose keys the details phase writes in random order. `followers_info_run` and
/// `follower_tags_openid` stay: their keys start with the openid order the merges follow (the
/// first is also how the phase finds its next openids, the second how a merge replaces tags).
const DEFERRABLE: [&str; 3] = [
    "followers_unionid",
    "followers_subscribe_time",
    "followers_remark",
];

/// Drops the deferrable indexes that exist and saves their statements, in one transaction.
/// Returns how many were dropped.
pub fn defer(conn: &mut Connection) -> Result<usize> {
    let tx = conn.transaction()?;
    let found: Vec<(String, String)> = {
        let mut stmt = tx.prepare(
            "SELECT name, sql FROM sqlite_schema \
             WHERE type = 'index' AND name IN (?1, ?2, ?3) AND sql IS NOT NULL",
        )?;
        let rows = stmt.query_map(params![DEFERRABLE[0], DEFERRABLE[1], DEFERRABLE[2]], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for (name, sql) in &found {
        tx.execute(
            "INSERT INTO follower_sync_deferred_indexes (name, sql) VALUES (?1, ?2)",
            params![name, sql],
        )?;
        // The name comes from sqlite_schema and is one of DEFERRABLE.
        tx.execute_batch(&format!("DROP INDEX \"{name}\""))?;
    }
    tx.commit()?;
    Ok(found.len())
}

/// Builds every saved index again and forgets it, in one transaction. Returns how many were
/// built (none when nothing is deferred).
pub fn restore(conn: &mut Connection) -> Result<usize> {
    let saved: Vec<(String, String)> = {
        let mut stmt = conn.prepare("SELECT name, sql FROM follower_sync_deferred_indexes")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    if saved.is_empty() {
        return Ok(0);
    }
    // Each build is a sort of every follower; SQLite's sorter may use a helper thread for it,
    // and at the end of a sync nothing else is running. Measured at 1M followers, two pairs
    // in the same minutes: 1.4 and 1.8 s less with 2 than with 0 (bench/RESULTS.md, 2026-12-04).
    let threads: i64 = conn.query_row("PRAGMA threads", [], |r| r.get(0))?;
    conn.pragma_update(None, "threads", REBUILD_THREADS.max(threads))?;
    let built = build(conn, &saved);
    conn.pragma_update(None, "threads", threads)?;
    built?;
    Ok(saved.len())
}

/// Sorter threads while the deferred indexes are built.
const REBUILD_THREADS: i64 = 2;

fn build(conn: &mut Connection, saved: &[(String, String)]) -> Result<()> {
    let tx = conn.transaction()?;
    for (name, sql) in saved {
        tx.execute_batch(sql)?;
        tx.execute(
            "DELETE FROM follower_sync_deferred_indexes WHERE name = ?1",
            params![name],
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// Whether any index is deferred now.
#[cfg(test)]
pub fn any_deferred(conn: &Connection) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM follower_sync_deferred_indexes)",
        [],
        |r| r.get(0),
    )?)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn followers_indexes(c: &Connection) -> Vec<(String, String)> {
        let mut stmt = c
            .prepare(
                "SELECT name, sql FROM sqlite_schema WHERE type = 'index' \
                 AND tbl_name IN ('followers', 'follower_tags') AND sql IS NOT NULL ORDER BY name",
            )
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    #[tokio::test]
    async fn deferred_indexes_come_back_exactly_as_the_migrations_made_them() {
        let store = Store::open_in_memory().unwrap();
        store
            .call(|c| {
                let before = followers_indexes(c);
                assert_eq!(before.len(), 5, "the migrations' five indexes: {before:?}");
                assert_eq!(defer(c)?, 3);
                let names: Vec<String> = followers_indexes(c).into_iter().map(|i| i.0).collect();
                assert_eq!(
                    names,
                    ["follower_tags_openid", "followers_info_run"],
                    "only the random-order indexes go"
                );
                assert!(any_deferred(c)?);
                // A second defer (a resumed run) finds nothing left to drop and loses nothing.
                assert_eq!(defer(c)?, 0);
                c.execute(
                    "INSERT INTO followers (appid, openid, unionid, subscribe_time, remark, \
                     updated_at) VALUES ('wx1', 'o1', 'u1', 5, 'r', 0)",
                    [],
                )?;
                assert_eq!(restore(c)?, 3);
                assert_eq!(followers_indexes(c), before);
                assert!(!any_deferred(c)?);
                let threads: i64 = c.query_row("PRAGMA threads", [], |r| r.get(0))?;
                assert_eq!(threads, 0, "the sorter threads are the connection's again");
                assert_eq!(restore(c)?, 0, "nothing deferred, nothing built");
                // The rebuilt index holds the row written while it was missing.
                let n: i64 = c.query_row(
                    "SELECT count(*) FROM followers INDEXED BY followers_unionid \
                     WHERE appid = 'wx1' AND unionid = 'u1'",
                    [],
                    |r| r.get(0),
                )?;
                assert_eq!(n, 1);
                Ok(())
            })
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn indexes_deferred_when_the_process_died_are_rebuilt_after_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in_dir(dir.path()).await.unwrap();
        let before = store.call(|c| Ok(followers_indexes(c))).await.unwrap();
        store.call(defer).await.unwrap();
        // "Crash": the process ends with the indexes dropped.
        drop(store);
        let store = Store::open_in_dir(dir.path()).await.unwrap();
        store
            .call(move |c| {
                assert!(any_deferred(c)?, "the saved statements survived");
                assert_eq!(followers_indexes(c).len(), 2);
                assert_eq!(restore(c)?, 3);
                assert_eq!(followers_indexes(c), before);
                Ok(())
            })
            .await
            .unwrap();
    }
}
