//! 标签 (tags) of an account: synced from tags/get; members come from each follower's
//! `tagid_list` (user/info/batchget), kept in `follower_tags`.

use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};
use wxdesk_wechat::api::Tag;

use crate::error::Result;

/// One tag of an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TagRow {
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub tag_id: i64,
    pub name: String,
    /// Members as WeChat counts them (tags/get).
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub count: i64,
    /// Members among the synced followers (following now).
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub local_count: i64,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub synced_at: i64,
}

/// Replaces the account's tags with WeChat's list.
pub fn replace_tags(conn: &mut Connection, appid: &str, tags: &[Tag], now: i64) -> Result<()> {
    let tx = conn.transaction()?;
    tx.execute("DELETE FROM tags WHERE appid = ?1", params![appid])?;
    {
        let mut insert = tx.prepare(
            "INSERT OR REPLACE INTO tags (appid, tag_id, name, count, synced_at) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for t in tags {
            insert.execute(params![appid, t.id, t.name, t.count, now])?;
        }
    }
    tx.commit()?;
    Ok(())
}

pub fn list_tags(conn: &Connection, appid: &str) -> Result<Vec<TagRow>> {
    let mut stmt = conn.prepare(
        "SELECT t.tag_id, t.name, t.count, \
         (SELECT count(*) FROM follower_tags m JOIN followers f \
            ON f.appid = m.appid AND f.openid = m.openid \
          WHERE m.appid = t.appid AND m.tag_id = t.tag_id AND f.subscribe = 1), t.synced_at \
         FROM tags t WHERE t.appid = ?1 ORDER BY t.tag_id",
    )?;
    let rows = stmt.query_map(params![appid], |r| {
        Ok(TagRow {
            tag_id: r.get(0)?,
            name: r.get(1)?,
            count: r.get(2)?,
            local_count: r.get(3)?,
            synced_at: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}
