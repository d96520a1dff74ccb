//! The follower sync's staging (migration 0006): each user/get page and each batch of batchget
//! answers is appended to a staging table in the transaction that moves the checkpoint, and
//! merged into `followers` and `follower_tags` in bulk, in openid order.
//!
//! Why: openids arrive in WeChat's order, which is random with respect to the `followers` key
//! and to the subscribe_time and unionid indexes. Written row by row, every commit of a few
//! thousand rows dirtied nearly every page of those B-trees, so a million followers wrote tens
//! of gigabytes to the WAL. Appends are sequential and cheap; a merge of a few hundred thousand
//! sorted rows writes each page it touches once.
//!
//! Every merge is idempotent and runs in one transaction with the counters it moves, so a crash
//! at any point leaves either the staged rows or their merged effect, never both or neither.

use rusqlite::{Connection, params};
use wxdesk_wechat::api::UserInfo;

use crate::error::{Error, Result};

/// What merging listed openids changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListedEffect {
    pub added: i64,
    pub resubscribed: i64,
    /// The account had no follower before this merge: every follower it has now was listed by
    /// this run, so none is left for the unsubscribed marking.
    pub first: bool,
}

/// Appends one user/get page. Runs inside the caller's transaction (with the cursor update).
pub fn stage_listed(conn: &Connection, appid: &str, run_id: i64, openids: &[String]) -> Result<()> {
    let mut insert = conn.prepare_cached(
        "INSERT INTO follower_sync_listed (appid, run_id, openid) VALUES (?1, ?2, ?3)",
    )?;
    for openid in openids {
        insert.execute(params![appid, run_id, openid])?;
    }
    Ok(())
}

/// Staged listed openids of `appid`.
pub fn listed_count(conn: &Connection, appid: &str) -> Result<i64> {
    Ok(conn.query_row(
        "SELECT count(*) FROM follower_sync_listed WHERE appid = ?1",
        params![appid],
        |r| r.get(0),
    )?)
}

/// Merges run `run_id`'s staged openids into `followers`: unknown ones are added, unsubscribed
/// ones follow again (their details are fetched anew), every one is marked seen by the run. The
/// counts are added to the checkpoint; the staging is emptied (rows of any other run are
/// leftovers of nothing and go too). Runs inside the caller's transaction.
pub fn merge_listed(conn: &Connection, appid: &str, run_id: i64, now: i64) -> Result<ListedEffect> {
    let count =
        |sql: &str| -> Result<i64> { Ok(conn.query_row(sql, params![appid], |r| r.get(0))?) };
    // An account's first sync (no follower known yet) adds every staged openid and resubscribes
    // none: the counts come from the table after the insert, and the counting join below (a
    // second sort of every staged openid and a lookup of each) is skipped.
    let known = count("SELECT EXISTS (SELECT 1 FROM followers WHERE appid = ?1)")? == 1;
    let (added, resubscribed): (i64, i64) = if !known {
        (0, 0)
    } else {
        conn.query_row(
            // GROUP BY (not DISTINCT) so the openids come sorted and the lookups walk `followers`
            // in key order instead of jumping around a table that may not fit in the cache.
            "SELECT coalesce(sum(f.openid IS NULL), 0), coalesce(sum(f.subscribe = 0), 0) \
         FROM (SELECT openid FROM follower_sync_listed \
               WHERE appid = ?1 AND run_id = ?2 GROUP BY openid ORDER BY openid) AS s \
         LEFT JOIN followers AS f ON f.appid = ?1 AND f.openid = s.openid",
            params![appid, run_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?
    };
    // In an upsert's SET every expression sees the row as it was, so `subscribe = 0` below is
    // the state before this merge. GROUP BY also sorts, so the B-trees are walked in order.
    conn.execute(
        "INSERT INTO followers (appid, openid, subscribe, seen_run, info_run, updated_at) \
         SELECT ?1, openid, 1, ?2, 0, ?3 FROM follower_sync_listed \
         WHERE appid = ?1 AND run_id = ?2 GROUP BY openid ORDER BY openid \
         ON CONFLICT (appid, openid) DO UPDATE SET \
           seen_run = max(seen_run, excluded.seen_run), \
           subscribe = 1, \
           info_run = iif(subscribe = 0, 0, info_run), \
           updated_at = iif(subscribe = 0, excluded.updated_at, updated_at)",
        params![appid, run_id, now],
    )?;
    let added = if known {
        added
    } else {
        count("SELECT count(*) FROM followers WHERE appid = ?1")?
    };
    // Usually the staging holds this account's rows only: a DELETE without WHERE then frees
    // the table's pages at once instead of deleting a million rows one by one.
    let others = count("SELECT EXISTS (SELECT 1 FROM follower_sync_listed WHERE appid <> ?1)")?;
    if others == 0 {
        conn.execute("DELETE FROM follower_sync_listed", [])?;
    } else {
        conn.execute(
            "DELETE FROM follower_sync_listed WHERE appid = ?1",
            params![appid],
        )?;
    }
    conn.execute(
        "UPDATE follower_sync SET added = added + ?2, resubscribed = resubscribed + ?3, \
         updated_at = ?4 WHERE appid = ?1",
        params![appid, added, resubscribed, now],
    )?;
    Ok(ListedEffect {
        added,
        resubscribed,
        first: !known,
    })
}

/// `follower_sync_fetched.state`.
const FOLLOWING: i64 = 1;
const NOT_FOLLOWING: i64 = 0;
const INVALID: i64 = 2;

/// Appends batchget answers and the openids WeChat refused as invalid, in one transaction.
pub fn stage_fetched(
    conn: &mut Connection,
    appid: &str,
    run_id: i64,
    users: &[UserInfo],
    invalid: &[String],
    now: i64,
) -> Result<()> {
    let tx = conn.transaction()?;
    {
        let mut insert = tx.prepare_cached(
            "INSERT INTO follower_sync_fetched (appid, run_id, openid, state, unionid, \
             subscribe_time, remark, tagid_list, language, subscribe_scene, fetched_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )?;
        for u in users.iter().filter(|u| !u.openid.is_empty()) {
            if u.subscribe != 1 {
                insert.execute(params![
                    appid,
                    run_id,
                    u.openid,
                    NOT_FOLLOWING,
                    None::<String>,
                    None::<i64>,
                    "",
                    "[]",
                    "",
                    "",
                    now
                ])?;
                continue;
            }
            let tags = serde_json::to_string(&u.tagid_list).map_err(|e| {
                Error::input(
                    format!("标签列表无法保存：{e}"),
                    format!("The tag list could not be saved: {e}"),
                )
            })?;
            let unionid = u.unionid.as_deref().filter(|s| !s.is_empty());
            let subscribe_time = (u.subscribe_time > 0).then_some(u.subscribe_time);
            insert.execute(params![
                appid,
                run_id,
                u.openid,
                FOLLOWING,
                unionid,
                subscribe_time,
                u.remark,
                tags,
                u.language,
                u.subscribe_scene,
                now
            ])?;
        }
        for openid in invalid {
            insert.execute(params![
                appid,
                run_id,
                openid,
                INVALID,
                None::<String>,
                None::<i64>,
                "",
                "[]",
                "",
                "",
                now
            ])?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// Merges run `run_id`'s staged answers, those with an openid up to `up_to` (or all), in
/// openid order: a follower's details (and its tag rows, replaced) are written and it counts as
/// fetched in the run; one batchget reports as not following is marked unsubscribed and counted
/// so in the checkpoint; one WeChat refused as invalid is marked not following without
/// counting. Returns how many were marked unsubscribed. Runs inside the caller's transaction.
///
/// The details phase merges up to the last openid it has an answer for, so the answers the
/// listing's early details staged (scattered over every openid) go in with the range they fall
/// in, and no merge writes rows all over the table.
pub fn merge_fetched(
    conn: &Connection,
    appid: &str,
    run_id: i64,
    up_to: Option<&str>,
) -> Result<i64> {
    let mut gone = 0i64;
    // In range: "?3 IS NULL OR …" would keep the index from bounding the scan.
    let range = if up_to.is_some() {
        "AND openid <= ?3"
    } else {
        "AND ?3 IS NULL"
    };
    {
        let mut read = conn.prepare(&format!(
            "SELECT openid, state, unionid, subscribe_time, remark, tagid_list, language, \
             subscribe_scene, fetched_at FROM follower_sync_fetched \
             WHERE appid = ?1 AND run_id = ?2 {range} ORDER BY openid"
        ))?;
        let mut follower = conn.prepare_cached(
            "UPDATE followers SET subscribe = 1, unionid = ?3, subscribe_time = ?4, remark = ?5, \
             tagid_list = ?6, language = ?7, subscribe_scene = ?8, info_run = ?9, updated_at = ?10 \
             WHERE appid = ?1 AND openid = ?2",
        )?;
        let mut former = conn.prepare_cached(
            "UPDATE followers SET subscribe = 0, info_run = ?3, updated_at = ?4 \
             WHERE appid = ?1 AND openid = ?2",
        )?;
        let mut clear_tags =
            conn.prepare_cached("DELETE FROM follower_tags WHERE appid = ?1 AND openid = ?2")?;
        let mut add_tag = conn.prepare_cached(
            "INSERT OR IGNORE INTO follower_tags (appid, tag_id, openid) VALUES (?1, ?2, ?3)",
        )?;
        let mut rows = read.query(params![appid, run_id, up_to])?;
        let mut last: Option<String> = None;
        while let Some(r) = rows.next()? {
            let openid: String = r.get(0)?;
            // The same openid twice (never expected) is merged once.
            if last.as_deref() == Some(openid.as_str()) {
                continue;
            }
            let state: i64 = r.get(1)?;
            let fetched_at: i64 = r.get(8)?;
            match state {
                FOLLOWING => {
                    let tags: String = r.get(5)?;
                    // Written by stage_fetched from WeChat's integer list.
                    let tag_ids: Vec<i64> = serde_json::from_str(&tags).unwrap_or_default();
                    follower.execute(params![
                        appid,
                        openid,
                        r.get::<_, Option<String>>(2)?,
                        r.get::<_, Option<i64>>(3)?,
                        r.get::<_, String>(4)?,
                        tags,
                        r.get::<_, String>(6)?,
                        r.get::<_, String>(7)?,
                        run_id,
                        fetched_at
                    ])?;
                    clear_tags.execute(params![appid, openid])?;
                    for tag in tag_ids {
                        add_tag.execute(params![appid, tag, openid])?;
                    }
                }
                NOT_FOLLOWING => {
                    former.execute(params![appid, openid, run_id, fetched_at])?;
                    clear_tags.execute(params![appid, openid])?;
                    gone += 1;
                }
                _ => {
                    former.execute(params![appid, openid, run_id, fetched_at])?;
                }
            }
            last = Some(openid);
        }
    }
    match up_to {
        Some(last) => conn.execute(
            "DELETE FROM follower_sync_fetched WHERE appid = ?1 AND run_id = ?2 AND openid <= ?3",
            params![appid, run_id, last],
        )?,
        None => conn.execute(
            "DELETE FROM follower_sync_fetched WHERE appid = ?1",
            params![appid],
        )?,
    };
    if gone > 0 {
        conn.execute(
            "UPDATE follower_sync SET unsubscribed = unsubscribed + ?2 WHERE appid = ?1",
            params![appid, gone],
        )?;
    }
    Ok(gone)
}

/// Drops whatever an earlier run of `appid` left staged (a new run starts from its own pages).
pub fn clear(conn: &Connection, appid: &str) -> Result<()> {
    conn.execute(
        "DELETE FROM follower_sync_listed WHERE appid = ?1",
        params![appid],
    )?;
    conn.execute(
        "DELETE FROM follower_sync_fetched WHERE appid = ?1",
        params![appid],
    )?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::followers;
    use super::super::sync as sync_db;
    use super::*;
    use crate::store::Store;

    const APP: &str = "wxstage000000001";

    fn user(openid: &str, subscribe: i64, tags: &[i64]) -> UserInfo {
        UserInfo {
            subscribe,
            openid: openid.into(),
            language: "zh_CN".into(),
            subscribe_time: 1_700_000_000,
            unionid: Some(format!("u-{openid}")),
            remark: "备注".into(),
            tagid_list: tags.to_vec(),
            subscribe_scene: "ADD_SCENE_QR_CODE".into(),
            ..UserInfo::default()
        }
    }

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_string()).collect()
    }

    fn tags_of(conn: &Connection, openid: &str) -> Vec<i64> {
        let mut stmt = conn
            .prepare("SELECT tag_id FROM follower_tags WHERE appid = ?1 AND openid = ?2 ORDER BY 1")
            .unwrap();
        stmt.query_map(params![APP, openid], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<Vec<i64>>>()
            .unwrap()
    }

    fn staged(conn: &Connection) -> (i64, i64) {
        conn.query_row(
            "SELECT (SELECT count(*) FROM follower_sync_listed), \
             (SELECT count(*) FROM follower_sync_fetched)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
    }

    #[tokio::test]
    async fn listing_merge_adds_new_resubscribes_former_and_keeps_known_details() {
        let store = Store::open_in_memory().unwrap();
        store
            .call(|c| {
                // Run 1: three followers with details, then "c" leaves.
                let s1 = sync_db::begin_run(c, APP, false, 10)?;
                sync_db::record_page(c, &s1, &ids(&["a", "b", "c"]), "", 3, 10)?;
                sync_db::finish_listing(c, &s1, 10)?;
                let users = [user("a", 1, &[2]), user("b", 1, &[]), user("c", 1, &[])];
                sync_db::record_details(c, APP, s1.run_id, &users, &[], 11)?;
                sync_db::merge_fetched(c, APP, s1.run_id, None)?;
                sync_db::finish_run(c, APP, 12)?;
                c.execute("UPDATE followers SET subscribe = 0 WHERE openid = 'c'", [])?;

                // Run 2 lists a, c (back) and d (new) over two pages, "a" twice.
                let s2 = sync_db::begin_run(c, APP, false, 20)?;
                sync_db::record_page(c, &s2, &ids(&["d", "a"]), "a", 4, 20)?;
                sync_db::record_page(c, &s2, &ids(&["c", "a"]), "", 4, 21)?;
                assert_eq!(staged(c), (4, 0));
                let marked = sync_db::finish_listing(c, &s2, 22)?;
                assert_eq!(marked, 1, "b was not listed");
                assert_eq!(staged(c), (0, 0));
                let st = sync_db::load_state(c, APP)?.unwrap();
                assert_eq!(
                    (st.listed, st.added, st.resubscribed, st.unsubscribed),
                    (4, 1, 1, 1)
                );
                let get = |o: &str| followers::get_follower(c, APP, o).unwrap().unwrap();
                let (a, b, cc, d) = (get("a"), get("b"), get("c"), get("d"));
                assert!(
                    a.subscribe && a.has_details,
                    "known follower keeps its details"
                );
                assert_eq!(a.unionid.as_deref(), Some("u-a"));
                assert!(!b.subscribe);
                assert!(
                    cc.subscribe && !cc.has_details,
                    "a returning follower is asked again"
                );
                assert!(d.subscribe && !d.has_details);
                Ok(())
            })
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn a_first_sync_counts_each_distinct_openid_added_once_also_across_two_merges() {
        let store = Store::open_in_memory().unwrap();
        store
            .call(|c| {
                // First sync of the account: the table holds none of its followers (another
                // account's follower must not count as known).
                c.execute(
                    "INSERT INTO followers (appid, openid, subscribe, seen_run, info_run, \
                     updated_at) VALUES ('wxother', 'a', 1, 1, 0, 1)",
                    [],
                )?;
                let s = sync_db::begin_run(c, APP, false, 10)?;
                sync_db::record_page(c, &s, &ids(&["b", "a"]), "a", 5, 10)?;
                sync_db::record_page(c, &s, &ids(&["a", "c"]), "c", 5, 10)?;
                // A cancel merges what is staged; the resume's pages meet known followers.
                sync_db::merge_listed(c, &s, 11)?;
                let st = sync_db::load_state(c, APP)?.unwrap();
                assert_eq!((st.added, st.resubscribed), (3, 0));
                c.execute(
                    "UPDATE followers SET subscribe = 0 WHERE appid = ?1 AND openid = 'b'",
                    params![APP],
                )?;
                sync_db::record_page(c, &st, &ids(&["c", "d", "b", "d"]), "", 5, 12)?;
                sync_db::finish_listing(c, &st, 12)?;
                let st = sync_db::load_state(c, APP)?.unwrap();
                assert_eq!(
                    (st.listed, st.added, st.resubscribed, st.unsubscribed),
                    (8, 4, 1, 0),
                    "d added once, b back; a was listed by this run before the cancel"
                );
                Ok(())
            })
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn details_merge_writes_details_replaces_tags_and_counts_only_real_leavers() {
        let store = Store::open_in_memory().unwrap();
        store
            .call(|c| {
                let s = sync_db::begin_run(c, APP, false, 10)?;
                sync_db::record_page(c, &s, &ids(&["a", "b", "x"]), "", 3, 10)?;
                sync_db::finish_listing(c, &s, 10)?;
                c.execute(
                    "INSERT INTO follower_tags (appid, tag_id, openid) VALUES (?1, 9, 'a'), \
                     (?1, 9, 'b')",
                    params![APP],
                )?;
                // Two batches; "a" answered twice (merged once), "b" has left, "x" is refused.
                sync_db::record_details(c, APP, s.run_id, &[user("a", 1, &[2, 100])], &[], 11)?;
                sync_db::record_details(
                    c,
                    APP,
                    s.run_id,
                    &[user("b", 0, &[]), user("a", 1, &[2, 100])],
                    &ids(&["x"]),
                    12,
                )?;
                assert_eq!(staged(c), (0, 4));
                sync_db::merge_fetched(c, APP, s.run_id, None)?;
                assert_eq!(staged(c), (0, 0));
                let get = |o: &str| followers::get_follower(c, APP, o).unwrap().unwrap();
                let a = get("a");
                assert!(a.subscribe && a.has_details);
                assert_eq!(
                    (a.unionid.as_deref(), a.subscribe_time, a.remark.as_str()),
                    (Some("u-a"), Some(1_700_000_000), "备注")
                );
                assert_eq!(a.tagid_list, vec![2, 100]);
                assert_eq!(tags_of(c, "a"), vec![2, 100], "tag rows replaced");
                assert!(!get("b").subscribe && get("b").has_details);
                assert!(tags_of(c, "b").is_empty());
                assert!(!get("x").subscribe);
                let st = sync_db::load_state(c, APP)?.unwrap();
                assert_eq!(st.unsubscribed, 1, "only b, not the refused x");
                assert_eq!(sync_db::details_progress(c, &st)?, (3, 0));
                Ok(())
            })
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn staged_rows_survive_a_reopen_and_the_resume_merges_them() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in_dir(dir.path()).await.unwrap();
        let state = store
            .call(|c| {
                let s = sync_db::begin_run(c, APP, false, 10)?;
                sync_db::record_page(c, &s, &ids(&["a", "b"]), "b", 3, 10)?;
                Ok(s)
            })
            .await
            .unwrap();
        // "Crash": the process ends with a page staged and not merged.
        drop(store);
        let store = Store::open_in_dir(dir.path()).await.unwrap();
        store
            .call(move |c| {
                let st = sync_db::load_state(c, APP)?.unwrap();
                assert_eq!(
                    (st.phase, st.listed, st.next_openid.as_str()),
                    (sync_db::SyncPhase::Listing, 2, "b")
                );
                assert_eq!(staged(c), (2, 0));
                sync_db::record_page(c, &st, &ids(&["c"]), "", 3, 11)?;
                sync_db::finish_listing(c, &st, 11)?;
                let n: i64 = c.query_row(
                    "SELECT count(*) FROM followers WHERE appid = ?1 AND subscribe = 1",
                    params![APP],
                    |r| r.get(0),
                )?;
                assert_eq!(n, 3);
                sync_db::record_details(c, APP, state.run_id, &[user("a", 1, &[])], &[], 12)?;
                Ok(())
            })
            .await
            .unwrap();
        drop(store);
        let store = Store::open_in_dir(dir.path()).await.unwrap();
        store
            .call(move |c| {
                let st = sync_db::load_state(c, APP)?.unwrap();
                // A resume counts the staged answer as done and does not ask for it again.
                assert_eq!(sync_db::details_progress(c, &st)?, (1, 2));
                let next = sync_db::next_needing_details(c, &st, "", 10)?;
                assert_eq!(next, ids(&["b", "c"]));
                sync_db::merge_fetched(c, APP, st.run_id, None)?;
                assert_eq!(sync_db::details_progress(c, &st)?, (1, 2));
                Ok(())
            })
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn a_listing_merge_empties_its_own_accounts_staging_and_leaves_another_accounts() {
        let store = Store::open_in_memory().unwrap();
        store
            .call(|c| {
                let other = "wxstage000000002";
                let mine = sync_db::begin_run(c, APP, false, 10)?;
                let theirs = sync_db::begin_run(c, other, false, 10)?;
                sync_db::record_page(c, &mine, &ids(&["a", "b"]), "b", 4, 10)?;
                sync_db::record_page(c, &theirs, &ids(&["x", "y", "z"]), "z", 9, 10)?;
                sync_db::merge_listed(c, &mine, 11)?;
                assert_eq!(listed_count(c, APP)?, 0);
                assert_eq!(
                    listed_count(c, other)?,
                    3,
                    "another account's pages stay staged"
                );
                // The account whose rows are the only ones left empties the whole table.
                sync_db::merge_listed(c, &theirs, 12)?;
                assert_eq!(staged(c), (0, 0));
                let n: i64 = c.query_row(
                    "SELECT count(*) FROM followers WHERE appid = ?1",
                    params![other],
                    |r| r.get(0),
                )?;
                assert_eq!(n, 3);
                Ok(())
            })
            .await
            .unwrap();
    }
}
