//! 用户与标签 of the shared workspace: an account's followers and tags, the same for every desk.
//!
//! A desk syncs an account from WeChat (user/get, user/info/batchget and tags/get go through the
//! server, which adds the token) and *publishes* the result: [`begin`] opens a publication,
//! [`add`] takes its followers in chunks, [`finish`] replaces the tags and marks the followers
//! this publication did not carry as no longer following. Between publications the server keeps
//! the rows current from the team's event log (subscribe / unsubscribe, in the windows pass), so
//! a follow seen while no desk runs is there for all. Reads filter and page the way a desk's own
//! follower table does (keyset on openid, byte order).

use serde::{Deserialize, Serialize};

use super::db::Db;
use super::jobs::{Refused, invalid};
use super::members::Member;
use crate::error::Result;
use crate::http::now_unix as now;

/// Followers a desk may send in one [`add`] call.
pub const MAX_CHUNK: usize = 5000;
/// Rows per page at most, as a desk's own table.
pub const MAX_PAGE: i64 = 5000;
/// Tags per account (WeChat allows 100).
const MAX_TAGS: usize = 1000;

/// One follower, in the desk's JSON shape.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Follower {
    pub appid: String,
    pub openid: String,
    #[serde(default)]
    pub unionid: Option<String>,
    pub subscribe: bool,
    #[serde(default)]
    pub subscribe_time: Option<i64>,
    #[serde(default)]
    pub remark: String,
    #[serde(default)]
    pub tagid_list: Vec<i64>,
    #[serde(default)]
    pub language: String,
    #[serde(default)]
    pub subscribe_scene: String,
    #[serde(default)]
    pub has_details: bool,
    pub updated_at: i64,
}

/// Which followers (every part optional), as a desk filters its own.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Filter {
    /// The start of the openid or unionid, or anywhere in the remark.
    pub search: Option<String>,
    pub tag_id: Option<i64>,
    pub subscribed: Option<bool>,
    pub subscribed_from: Option<i64>,
    pub subscribed_until: Option<i64>,
}

impl Filter {
    fn search(&self) -> Option<&str> {
        self.search
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }
}

/// `WHERE` over `team_followers f` for `$1` = appid and a filter in `$2..$6`.
pub(crate) const FILTER: &str = "f.appid = $1
    AND ($2::text IS NULL OR starts_with(f.openid, $2) OR starts_with(f.unionid, $2)
         OR strpos(f.remark, $2) > 0)
    AND ($3::bigint IS NULL OR f.tagids @> ARRAY[$3::bigint])
    AND ($4::boolean IS NULL OR f.subscribed = $4)
    AND ($5::bigint IS NULL OR f.subscribe_time >= $5)
    AND ($6::bigint IS NULL OR f.subscribe_time < $6)";

/// The owned parameters `$2..$6` of [`FILTER`].
pub(crate) struct FilterArgs {
    search: Option<String>,
    tag: Option<i64>,
    subscribed: Option<bool>,
    from: Option<i64>,
    until: Option<i64>,
}

impl FilterArgs {
    pub(crate) fn of(f: &Filter) -> Self {
        FilterArgs {
            search: f.search().map(str::to_owned),
            tag: f.tag_id,
            subscribed: f.subscribed,
            from: f.subscribed_from,
            until: f.subscribed_until,
        }
    }

    /// `[$2..$6]` to follow `$1`.
    pub(crate) fn params(&self) -> [&(dyn tokio_postgres::types::ToSql + Sync); 5] {
        [
            &self.search,
            &self.tag,
            &self.subscribed,
            &self.from,
            &self.until,
        ]
    }
}

const COLUMNS: &str = "f.appid, f.openid, f.unionid, f.subscribed, f.subscribe_time, f.remark, \
    f.tagids, f.language, f.subscribe_scene, f.has_details, f.updated_at";

fn from_row(r: &tokio_postgres::Row) -> Follower {
    Follower {
        appid: r.get(0),
        openid: r.get(1),
        unionid: r.get(2),
        subscribe: r.get(3),
        subscribe_time: r.get(4),
        remark: r.get(5),
        tagid_list: r.get(6),
        language: r.get(7),
        subscribe_scene: r.get(8),
        has_details: r.get(9),
        updated_at: r.get(10),
    }
}

/// Followers matching `filter` in openid order after `after`, and where the next page starts.
pub async fn page(
    db: &Db,
    appid: &str,
    filter: &Filter,
    after: Option<&str>,
    limit: i64,
) -> Result<(Vec<Follower>, Option<String>)> {
    let conn = db.get().await?;
    let limit = limit.clamp(1, MAX_PAGE);
    let args = FilterArgs::of(filter);
    let after = after.unwrap_or("");
    let more = limit + 1;
    let mut params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = vec![&appid];
    params.extend(args.params());
    params.push(&after);
    params.push(&more);
    let rows = conn
        .query(
            &format!(
                "SELECT {COLUMNS} FROM team_followers f WHERE {FILTER} AND f.openid > $7
                 ORDER BY f.openid LIMIT $8"
            ),
            &params,
        )
        .await?;
    let mut items: Vec<Follower> = rows.iter().map(from_row).collect();
    let next = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|f| f.openid.clone())
    } else {
        None
    };
    Ok((items, next))
}

/// How many followers match `filter`.
pub async fn count(db: &Db, appid: &str, filter: &Filter) -> Result<i64> {
    let conn = db.get().await?;
    let args = FilterArgs::of(filter);
    let mut params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = vec![&appid];
    params.extend(args.params());
    Ok(conn
        .query_one(
            &format!("SELECT count(*) FROM team_followers f WHERE {FILTER}"),
            &params,
        )
        .await?
        .get(0))
}

/// Totals over the account's followers.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Totals {
    pub total: i64,
    pub subscribed: i64,
    pub unsubscribed: i64,
    pub with_unionid: i64,
    pub without_details: i64,
}

pub async fn totals(db: &Db, appid: &str) -> Result<Totals> {
    let conn = db.get().await?;
    let r = conn
        .query_one(
            "SELECT count(*),
                    count(*) FILTER (WHERE subscribed),
                    count(*) FILTER (WHERE NOT subscribed),
                    count(*) FILTER (WHERE unionid IS NOT NULL AND unionid <> ''),
                    count(*) FILTER (WHERE NOT has_details)
               FROM team_followers WHERE appid = $1",
            &[&appid],
        )
        .await?;
    Ok(Totals {
        total: r.get(0),
        subscribed: r.get(1),
        unsubscribed: r.get(2),
        with_unionid: r.get(3),
        without_details: r.get(4),
    })
}

/// One follower, if known.
pub async fn get(db: &Db, appid: &str, openid: &str) -> Result<Option<Follower>> {
    let conn = db.get().await?;
    let row = conn
        .query_opt(
            &format!("SELECT {COLUMNS} FROM team_followers f WHERE f.appid = $1 AND f.openid = $2"),
            &[&appid, &openid],
        )
        .await?;
    Ok(row.as_ref().map(from_row))
}

/// One tag, in the desk's JSON shape.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tag {
    pub tag_id: i64,
    pub name: String,
    pub count: i64,
    /// Following members among the team's followers (filled on read).
    #[serde(default)]
    pub local_count: i64,
    #[serde(default)]
    pub synced_at: i64,
}

pub async fn tags(db: &Db, appid: &str) -> Result<Vec<Tag>> {
    let conn = db.get().await?;
    let rows = conn
        .query(
            "SELECT t.tag_id, t.name, t.count,
                    (SELECT count(*) FROM team_followers f WHERE f.appid = t.appid
                       AND f.tagids @> ARRAY[t.tag_id] AND f.subscribed),
                    t.synced_at
               FROM team_tags t WHERE t.appid = $1 ORDER BY t.tag_id",
            &[&appid],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| Tag {
            tag_id: r.get(0),
            name: r.get(1),
            count: r.get(2),
            local_count: r.get(3),
            synced_at: r.get(4),
        })
        .collect())
}

/// The newest finished publication of an account: who synced it, when, how many it carried.
#[derive(Debug, Clone, Serialize)]
pub struct Publication {
    pub id: i64,
    pub appid: String,
    pub member: String,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub followers: i64,
}

pub async fn published(db: &Db, appid: &str) -> Result<Option<Publication>> {
    let conn = db.get().await?;
    let row = conn
        .query_opt(
            "SELECT id, appid, member, started_at, finished_at, followers
               FROM team_follower_publications
              WHERE appid = $1 AND finished_at IS NOT NULL ORDER BY id DESC LIMIT 1",
            &[&appid],
        )
        .await?;
    Ok(row.map(|r| Publication {
        id: r.get(0),
        appid: r.get(1),
        member: r.get(2),
        started_at: r.get(3),
        finished_at: r.get(4),
        followers: r.get(5),
    }))
}

/// Opens a publication of `appid`'s followers by `member`, for a sync that began at
/// `synced_from` (unix seconds, not after now): follows and unfollows the server saw after it
/// win over what the publication carries. Returns its id.
pub async fn begin(
    db: &Db,
    member: &Member,
    appid: &str,
    synced_from: Option<i64>,
) -> std::result::Result<i64, Refused> {
    let conn = db.get().await?;
    super::accounts::require_known(&conn, appid).await?;
    // Publications that never finished are only history; keep the table small.
    conn.execute(
        "DELETE FROM team_follower_publications WHERE finished_at IS NULL AND started_at < $1",
        &[&(now() - 86_400)],
    )
    .await?;
    let row = conn
        .query_one(
            "INSERT INTO team_follower_publications (appid, member, started_at)
             VALUES ($1, $2, $3) RETURNING id",
            &[
                &appid,
                &member.name,
                &synced_from.unwrap_or(i64::MAX).min(now()),
            ],
        )
        .await?;
    Ok(row.get(0))
}

fn good_id(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The open publication `id` of `member`: its appid.
async fn open_publication(
    conn: &tokio_postgres::Client,
    member: &Member,
    id: i64,
) -> std::result::Result<String, Refused> {
    conn.query_opt(
        "SELECT appid FROM team_follower_publications
          WHERE id = $1 AND member = $2 AND finished_at IS NULL",
        &[&id, &member.name],
    )
    .await?
    .map(|r| r.get(0))
    .ok_or(Refused::NotFound)
}

/// Adds a chunk of followers to publication `id`; how many rows were written.
pub async fn add(
    db: &Db,
    member: &Member,
    id: i64,
    chunk: Vec<Follower>,
) -> std::result::Result<u64, Refused> {
    if chunk.len() > MAX_CHUNK {
        return Err(invalid(
            "bad_followers",
            format!("一次最多上传 {MAX_CHUNK} 个粉丝"),
            format!("Upload at most {MAX_CHUNK} followers at a time."),
        ));
    }
    let conn = db.get().await?;
    let appid = open_publication(&conn, member, id).await?;
    let n = chunk.len();
    let (mut openids, mut unionids, mut subscribed, mut times) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut remarks, mut tags, mut languages, mut scenes, mut details, mut updated) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for f in chunk {
        let short = |s: &str| s.chars().count() <= 200;
        if f.appid != appid
            || !good_id(&f.openid)
            || f.unionid
                .as_deref()
                .is_some_and(|u| !u.is_empty() && !good_id(u))
            || f.tagid_list.len() > MAX_TAGS
            || !short(&f.remark)
            || !short(&f.language)
            || !short(&f.subscribe_scene)
        {
            return Err(invalid(
                "bad_followers",
                format!("粉丝数据无效：{:.64}", f.openid),
                format!("A follower's data is not valid: {:.64}", f.openid),
            ));
        }
        openids.push(f.openid);
        unionids.push(f.unionid.filter(|u| !u.is_empty()));
        subscribed.push(f.subscribe);
        times.push(f.subscribe_time);
        remarks.push(f.remark);
        // One `{1,2}` literal per row: unnest cannot take an array of arrays of different lengths.
        tags.push(format!(
            "{{{}}}",
            f.tagid_list
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(",")
        ));
        languages.push(f.language);
        scenes.push(f.subscribe_scene);
        details.push(f.has_details);
        updated.push(f.updated_at);
    }
    // A row the event log changed after the desk read it keeps its newer follow state.
    let written = conn
        .execute(
            "INSERT INTO team_followers (appid, openid, unionid, subscribed, subscribe_time,
                 remark, tagids, language, subscribe_scene, has_details, published, updated_at)
             SELECT $1, o, u, s, t, r, g::bigint[], l, c, d, $12, w
               FROM unnest($2::text[], $3::text[], $4::bool[], $5::int8[], $6::text[],
                           $7::text[], $8::text[], $9::text[], $10::bool[], $11::int8[])
                    AS x(o, u, s, t, r, g, l, c, d, w)
             ON CONFLICT (appid, openid) DO UPDATE SET
               unionid = EXCLUDED.unionid,
               subscribe_time = EXCLUDED.subscribe_time,
               remark = EXCLUDED.remark,
               tagids = EXCLUDED.tagids,
               language = EXCLUDED.language,
               subscribe_scene = EXCLUDED.subscribe_scene,
               has_details = EXCLUDED.has_details,
               subscribed = CASE WHEN EXCLUDED.updated_at >= team_followers.updated_at
                 THEN EXCLUDED.subscribed ELSE team_followers.subscribed END,
               updated_at = GREATEST(team_followers.updated_at, EXCLUDED.updated_at),
               published = EXCLUDED.published",
            &[
                &appid,
                &openids,
                &unionids,
                &subscribed,
                &times,
                &remarks,
                &tags,
                &languages,
                &scenes,
                &details,
                &updated,
                &id,
            ],
        )
        .await?;
    conn.execute(
        "UPDATE team_follower_publications SET followers = followers + $2 WHERE id = $1",
        &[&id, &(written as i64)],
    )
    .await?;
    Ok(written)
}

/// Finishes publication `id`: the account's tags become `tags`, and followers it did not carry
/// (and no event touched since it began) are no longer following.
pub async fn finish(
    db: &Db,
    member: &Member,
    id: i64,
    tags: Vec<Tag>,
) -> std::result::Result<Publication, Refused> {
    if tags.len() > MAX_TAGS || tags.iter().any(|t| t.name.chars().count() > 100) {
        return Err(invalid(
            "bad_followers",
            "标签数据无效",
            "The tags are not valid.",
        ));
    }
    let mut conn = db.get().await?;
    let appid = open_publication(&conn, member, id).await?;
    let tx = conn.transaction().await?;
    let started: i64 = tx
        .query_one(
            "SELECT started_at FROM team_follower_publications WHERE id = $1 FOR UPDATE",
            &[&id],
        )
        .await?
        .get(0);
    let at = now();
    tx.execute(
        "UPDATE team_followers SET subscribed = false, updated_at = $3
          WHERE appid = $1 AND published <> $2 AND subscribed AND updated_at < $4",
        &[&appid, &id, &at, &started],
    )
    .await?;
    tx.execute("DELETE FROM team_tags WHERE appid = $1", &[&appid])
        .await?;
    for t in &tags {
        tx.execute(
            "INSERT INTO team_tags (appid, tag_id, name, count, synced_at)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (appid, tag_id) DO NOTHING",
            &[&appid, &t.tag_id, &t.name, &t.count, &at],
        )
        .await?;
    }
    let r = tx
        .query_one(
            "UPDATE team_follower_publications SET finished_at = $2 WHERE id = $1
             RETURNING id, appid, member, started_at, finished_at, followers",
            &[&id, &at],
        )
        .await?;
    tx.commit().await?;
    let publication = Publication {
        id: r.get(0),
        appid: r.get(1),
        member: r.get(2),
        started_at: r.get(3),
        finished_at: r.get(4),
        followers: r.get(5),
    };
    super::members::audit(
        db,
        Some(&member.name),
        "followers.publish",
        serde_json::json!({ "appid": publication.appid, "followers": publication.followers }),
    )
    .await?;
    Ok(publication)
}

/// Unionids one lookup may ask about.
pub const MAX_UNIONIDS: usize = 5000;

/// The followers of `appid` with these unionids (a following one first): unionid → (openid,
/// following); and how many following followers have no details yet (their unionid is unknown).
pub async fn by_unionid(
    db: &Db,
    appid: &str,
    unionids: &[String],
) -> std::result::Result<(Vec<(String, String, bool)>, i64), Refused> {
    if unionids.len() > MAX_UNIONIDS {
        return Err(invalid(
            "bad_followers_query",
            format!("一次最多查询 {MAX_UNIONIDS} 个 unionid"),
            format!("Ask about at most {MAX_UNIONIDS} unionids at a time."),
        ));
    }
    let conn = db.get().await?;
    let rows = conn
        .query(
            "SELECT DISTINCT ON (unionid) unionid, openid, subscribed FROM team_followers
              WHERE appid = $1 AND unionid = ANY($2)
              ORDER BY unionid, subscribed DESC, openid",
            &[&appid, &unionids],
        )
        .await?;
    let without: i64 = conn
        .query_one(
            "SELECT count(*) FROM team_followers WHERE appid = $1 AND subscribed AND NOT has_details",
            &[&appid],
        )
        .await?
        .get(0);
    Ok((
        rows.iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect(),
        without,
    ))
}
