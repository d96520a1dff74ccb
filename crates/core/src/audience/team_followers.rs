//! 用户与标签 of a team workspace: the team server's followers and tags, the same for every
//! desk (`/api/v1/team/followers…`, `/api/v1/team/tags`). A desk's sync still runs here (its
//! WeChat calls go through the server, which adds the token) into this desk's copy, and is then
//! *published*: the followers in chunks, the tags last, and the server marks the followers the
//! sync no longer found as unfollowed. Between syncs the server keeps the team's followers
//! current from the team's event log.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::db::{followers, tags};
use super::{
    Follower, FollowerCounts, FollowerFilter, FollowerPage, ListSource, RecipientList, SyncPhase,
    SyncProgress, SyncState, TagRow,
};
use crate::error::Result;
use crate::relay::RelayClient;
use crate::store::Store;

const TIMEOUT: Duration = Duration::from_secs(60);
/// Followers per publish request (the server takes at most 5,000).
const CHUNK: usize = 2000;

fn filter_query(appid: &str, f: &FollowerFilter, extra: &[(&str, String)]) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("appid", appid);
    if let Some(s) = f.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        q.append_pair("search", s);
    }
    if let Some(t) = f.tag_id {
        q.append_pair("tag_id", &t.to_string());
    }
    if let Some(s) = f.subscribed {
        q.append_pair("subscribed", if s { "true" } else { "false" });
    }
    if let Some(t) = f.subscribed_from {
        q.append_pair("subscribed_from", &t.to_string());
    }
    if let Some(t) = f.subscribed_until {
        q.append_pair("subscribed_until", &t.to_string());
    }
    for (k, v) in extra {
        q.append_pair(k, v);
    }
    q.finish()
}

async fn get<T: serde::de::DeserializeOwned>(relay: &RelayClient, path: &str) -> Result<T> {
    relay
        .team_call::<(), _>(reqwest::Method::GET, path, None, TIMEOUT)
        .await
}

pub(crate) async fn page(
    relay: &RelayClient,
    appid: &str,
    f: &FollowerFilter,
    after: Option<&str>,
    limit: u32,
) -> Result<FollowerPage> {
    let mut extra = vec![("limit", limit.to_string())];
    if let Some(a) = after {
        extra.push(("after", a.to_owned()));
    }
    get(
        relay,
        &format!("api/v1/team/followers?{}", filter_query(appid, f, &extra)),
    )
    .await
}

#[derive(Deserialize)]
struct Count {
    count: i64,
}

pub(crate) async fn count(relay: &RelayClient, appid: &str, f: &FollowerFilter) -> Result<u64> {
    let c: Count = get(
        relay,
        &format!(
            "api/v1/team/followers/count?{}",
            filter_query(appid, f, &[])
        ),
    )
    .await?;
    Ok(c.count.max(0) as u64)
}

fn appid_query(appid: &str) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("appid", appid)
        .finish()
}

pub(crate) async fn totals(relay: &RelayClient, appid: &str) -> Result<FollowerCounts> {
    get(
        relay,
        &format!("api/v1/team/followers/totals?{}", appid_query(appid)),
    )
    .await
}

pub(crate) async fn one(
    relay: &RelayClient,
    appid: &str,
    openid: &str,
) -> Result<Option<Follower>> {
    let q = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("appid", appid)
        .append_pair("openid", openid)
        .finish();
    relay
        .team_call_opt::<(), _>(
            reqwest::Method::GET,
            &format!("api/v1/team/followers/one?{q}"),
            None,
            TIMEOUT,
        )
        .await
}

#[derive(Deserialize)]
struct Tags {
    tags: Vec<TagRow>,
}

pub(crate) async fn tag_rows(relay: &RelayClient, appid: &str) -> Result<Vec<TagRow>> {
    let t: Tags = get(relay, &format!("api/v1/team/tags?{}", appid_query(appid))).await?;
    Ok(t.tags)
}

#[derive(Deserialize)]
struct Publication {
    id: i64,
    appid: String,
    started_at: i64,
    finished_at: Option<i64>,
    followers: i64,
}

#[derive(Deserialize)]
struct Published {
    publication: Option<Publication>,
}

/// The team's last sync of an account as a finished [`SyncState`] (for a desk that has not
/// synced the account itself).
pub(crate) async fn last_sync(relay: &RelayClient, appid: &str) -> Result<Option<SyncState>> {
    let p: Published = get(
        relay,
        &format!("api/v1/team/followers/published?{}", appid_query(appid)),
    )
    .await?;
    Ok(p.publication.map(|p| SyncState {
        appid: p.appid,
        run_id: p.id,
        phase: SyncPhase::Done,
        refresh_all: false,
        next_openid: String::new(),
        total: p.followers,
        listed: p.followers,
        added: 0,
        resubscribed: 0,
        unsubscribed: 0,
        started_at: p.started_at,
        finished_at: p.finished_at,
        updated_at: p.finished_at.unwrap_or(p.started_at),
    }))
}

#[derive(Serialize)]
struct Begin<'a> {
    appid: &'a str,
    /// When the sync began: what the server saw after it (a follow, an unfollow) wins.
    synced_from: Option<i64>,
}

#[derive(Deserialize)]
struct Created {
    id: i64,
}

#[derive(Serialize)]
struct Chunk<'a> {
    followers: &'a [Follower],
}

#[derive(Deserialize)]
struct Written {
    #[allow(dead_code)]
    written: u64,
}

#[derive(Serialize)]
struct Done<'a> {
    tags: &'a [TagRow],
}

/// Publishes this desk's copy of an account's followers and tags (just synced in full) to the
/// team, `progress` told per chunk.
pub(crate) async fn publish(
    relay: &RelayClient,
    store: &Store,
    appid: &str,
    progress: &(dyn Fn(SyncProgress) + Send + Sync),
) -> Result<()> {
    let a = appid.to_owned();
    let synced_from = store
        .call(move |c| super::db::sync::load_state(c, &a))
        .await?
        .map(|s| s.started_at);
    let created: Created = relay
        .team_call(
            reqwest::Method::POST,
            "api/v1/team/followers/publications",
            Some(&Begin { appid, synced_from }),
            TIMEOUT,
        )
        .await?;
    let path = format!(
        "api/v1/team/followers/publications/{}/followers",
        created.id
    );
    let a = appid.to_owned();
    let total = store.call(move |c| followers::counts(c, &a)).await?.total;
    let mut after: Option<String> = None;
    let mut sent = 0u64;
    progress(SyncProgress::at(SyncPhase::Publishing, 0, total));
    loop {
        let (a, from) = (appid.to_owned(), after.take());
        let page = store
            .call(move |c| {
                followers::list_followers(c, &a, &FollowerFilter::default(), from.as_deref(), CHUNK)
            })
            .await?;
        if !page.items.is_empty() {
            let _: Written = relay
                .team_call(
                    reqwest::Method::POST,
                    &path,
                    Some(&Chunk {
                        followers: &page.items,
                    }),
                    TIMEOUT,
                )
                .await?;
            sent += page.items.len() as u64;
            progress(SyncProgress::at(SyncPhase::Publishing, sent, total));
        }
        match page.next_after {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    let a = appid.to_owned();
    let tags = store.call(move |c| tags::list_tags(c, &a)).await?;
    let _: serde_json::Value = relay
        .team_call(
            reqwest::Method::POST,
            &format!("api/v1/team/followers/publications/{}/done", created.id),
            Some(&Done { tags: &tags }),
            TIMEOUT,
        )
        .await?;
    tracing::info!(appid, followers = sent, "followers published to the team");
    Ok(())
}

#[derive(Serialize)]
struct FromFollowers<'a> {
    appid: &'a str,
    name: &'a str,
    filter: &'a FollowerFilter,
}

/// A list of the team's following followers matching `filter`, made on the server.
pub(crate) async fn list_from_followers(
    relay: &RelayClient,
    appid: &str,
    name: &str,
    filter: &FollowerFilter,
) -> Result<RecipientList> {
    let l: super::team_lists::ServerList = relay
        .team_call(
            reqwest::Method::POST,
            "api/v1/team/lists/from-followers",
            Some(&FromFollowers {
                appid,
                name,
                filter,
            }),
            TIMEOUT,
        )
        .await?;
    let mut list = RecipientList::from(l);
    // The server's JSON of the filter may spell defaults differently; keep the one asked for.
    if let ListSource::Followers { .. } = list.source {
        let mut f = filter.clone();
        f.subscribed = Some(true);
        list.source = ListSource::Followers { filter: f };
    }
    Ok(list)
}

#[derive(Serialize)]
struct ByUnionid<'a> {
    appid: &'a str,
    unionids: &'a [String],
}

#[derive(Deserialize)]
struct Matches {
    matches: Vec<(String, String, bool)>,
    without_details: i64,
}

/// Unionids per lookup (the server takes at most 5,000).
const UNIONID_CHUNK: usize = 5000;

/// The team's followers of `appid` with these unionids — unionid → (openid, following), a
/// following one first — and how many following followers have no details yet.
pub(crate) async fn by_unionid(
    relay: &RelayClient,
    appid: &str,
    unionids: &[String],
) -> Result<(std::collections::HashMap<String, (String, bool)>, u64)> {
    let mut found = std::collections::HashMap::new();
    let mut without = 0;
    // At least one call, so the count of followers without details is the server's.
    let chunks: Vec<&[String]> = if unionids.is_empty() {
        vec![&[]]
    } else {
        unionids.chunks(UNIONID_CHUNK).collect()
    };
    for chunk in chunks {
        let m: Matches = relay
            .team_call(
                reqwest::Method::POST,
                "api/v1/team/followers/by-unionid",
                Some(&ByUnionid {
                    appid,
                    unionids: chunk,
                }),
                TIMEOUT,
            )
            .await?;
        without = m.without_details.max(0) as u64;
        for (unionid, openid, following) in m.matches {
            found.insert(unionid, (openid, following));
        }
    }
    Ok((found, without))
}
