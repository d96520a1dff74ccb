//! 名单 of a team workspace: the team server's lists (`/api/v1/team/lists`), the same for every
//! desk. The desk still builds a list's members itself (from its followers, a file or the
//! bridge) and uploads them: the server opens an invisible list, takes the members in chunks,
//! and shows the list to every desk only when the last chunk is in, so nobody sends to half a
//! list. An upload that fails part-way is deleted again.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::import::ImportRow;
use super::{ListMember, ListSource, MemberPage, RecipientList};
use crate::error::{Error, Result};
use crate::relay::RelayClient;

/// Members per upload request, and the JSON bytes one request aims to stay under (the server
/// takes at most 10 MiB).
const CHUNK_MEMBERS: usize = 5000;
const CHUNK_BYTES: usize = 4 << 20;
const TIMEOUT: Duration = Duration::from_secs(60);

/// A list as the server gives it.
#[derive(Deserialize)]
pub(crate) struct ServerList {
    id: i64,
    appid: String,
    name: String,
    source: serde_json::Value,
    #[serde(default)]
    variables: Vec<String>,
    member_count: i64,
    created_at: i64,
    updated_at: i64,
}

impl From<ServerList> for RecipientList {
    fn from(s: ServerList) -> Self {
        RecipientList {
            id: s.id,
            appid: s.appid,
            name: s.name,
            // A source a newer desk wrote is shown as pasted rather than hiding the list.
            source: serde_json::from_value(s.source).unwrap_or(ListSource::Pasted),
            variables: s.variables,
            member_count: s.member_count.max(0) as u64,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

#[derive(Deserialize)]
struct Lists {
    lists: Vec<ServerList>,
}

#[derive(Deserialize)]
struct Members {
    items: Vec<ListMember>,
    next_after: Option<String>,
}

#[derive(Deserialize)]
struct Created {
    id: i64,
}

#[derive(Deserialize)]
struct Added {
    #[allow(dead_code)]
    added: u64,
}

#[derive(Deserialize)]
struct Deleted {
    #[allow(dead_code)]
    deleted: bool,
}

fn path_query(path: &str, pairs: &[(&str, &str)]) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        q.append_pair(k, v);
    }
    let q = q.finish();
    if q.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{q}")
    }
}

/// The team's lists of one account, or of every account.
pub(crate) async fn all(relay: &RelayClient, appid: Option<&str>) -> Result<Vec<RecipientList>> {
    let path = match appid {
        Some(a) => path_query("api/v1/team/lists", &[("appid", a)]),
        None => "api/v1/team/lists".into(),
    };
    let l: Lists = relay
        .team_call::<(), _>(reqwest::Method::GET, &path, None, TIMEOUT)
        .await?;
    Ok(l.lists.into_iter().map(RecipientList::from).collect())
}

/// One list; `None` when the server has no such list (deleted at another desk).
pub(crate) async fn get(relay: &RelayClient, id: i64) -> Result<Option<RecipientList>> {
    let l: Option<ServerList> = relay
        .team_call_opt::<(), _>(
            reqwest::Method::GET,
            &format!("api/v1/team/lists/{id}"),
            None,
            TIMEOUT,
        )
        .await?;
    Ok(l.map(RecipientList::from))
}

/// One page of a list's members, in openid order after `after`.
pub(crate) async fn members(
    relay: &RelayClient,
    id: i64,
    after: Option<&str>,
    limit: u32,
) -> Result<MemberPage> {
    let limit = limit.to_string();
    let mut pairs = vec![("limit", limit.as_str())];
    if let Some(a) = after {
        pairs.push(("after", a));
    }
    let page: Option<Members> = relay
        .team_call_opt::<(), _>(
            reqwest::Method::GET,
            &path_query(&format!("api/v1/team/lists/{id}/members"), &pairs),
            None,
            TIMEOUT,
        )
        .await?;
    let page = page.ok_or_else(gone)?;
    Ok(MemberPage {
        items: page.items,
        next_after: page.next_after,
    })
}

fn gone() -> Error {
    Error::input(
        "名单不存在（可能已在另一台电脑上被删除）",
        "The list does not exist (it may have been deleted at another desk).",
    )
}

/// Deletes a list; whether it existed.
pub(crate) async fn delete(relay: &RelayClient, id: i64) -> Result<bool> {
    let d: Option<Deleted> = relay
        .team_call_opt::<(), _>(
            reqwest::Method::DELETE,
            &format!("api/v1/team/lists/{id}"),
            None,
            TIMEOUT,
        )
        .await?;
    Ok(d.is_some())
}

#[derive(Serialize)]
struct NewList<'a> {
    appid: &'a str,
    name: &'a str,
    source: &'a ListSource,
    variables: &'a [String],
}

#[derive(Serialize)]
struct NewMember<'a> {
    openid: &'a str,
    vars: BTreeMap<&'a str, &'a str>,
}

#[derive(Serialize)]
struct Chunk<'a> {
    members: &'a [NewMember<'a>],
}

/// Uploads `rows` (values in `variables` order) as a new list and returns it as every desk
/// now sees it.
pub(crate) async fn upload(
    relay: &RelayClient,
    appid: &str,
    name: &str,
    source: &ListSource,
    variables: &[String],
    rows: &[ImportRow],
) -> Result<RecipientList> {
    let created: Created = relay
        .team_call(
            reqwest::Method::POST,
            "api/v1/team/lists",
            Some(&NewList {
                appid,
                name,
                source,
                variables,
            }),
            TIMEOUT,
        )
        .await?;
    let id = created.id;
    match fill(relay, id, variables, rows).await {
        Ok(list) => Ok(list),
        Err(e) => {
            // Best effort: the server also drops an unfinished upload after a day.
            if let Err(cleanup) = delete(relay, id).await {
                tracing::warn!(list = id, error = %cleanup, "unfinished list upload left on the server");
            }
            Err(e)
        }
    }
}

async fn fill(
    relay: &RelayClient,
    id: i64,
    variables: &[String],
    rows: &[ImportRow],
) -> Result<RecipientList> {
    let path = format!("api/v1/team/lists/{id}/members");
    let mut chunk: Vec<NewMember<'_>> = Vec::with_capacity(CHUNK_MEMBERS);
    let mut bytes = 0usize;
    for row in rows {
        let vars: BTreeMap<&str, &str> = variables
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), row.values.get(i).map_or("", String::as_str)))
            .collect();
        // Rough JSON size: quotes, separators and the strings.
        bytes += row.openid.len()
            + 32
            + vars
                .iter()
                .map(|(k, v)| k.len() + v.len() + 8)
                .sum::<usize>();
        chunk.push(NewMember {
            openid: &row.openid,
            vars,
        });
        if chunk.len() >= CHUNK_MEMBERS || bytes >= CHUNK_BYTES {
            let _: Added = relay
                .team_call(
                    reqwest::Method::POST,
                    &path,
                    Some(&Chunk { members: &chunk }),
                    TIMEOUT,
                )
                .await?;
            chunk.clear();
            bytes = 0;
        }
    }
    if !chunk.is_empty() {
        let _: Added = relay
            .team_call(
                reqwest::Method::POST,
                &path,
                Some(&Chunk { members: &chunk }),
                TIMEOUT,
            )
            .await?;
    }
    let list: ServerList = relay
        .team_call::<(), _>(
            reqwest::Method::POST,
            &format!("api/v1/team/lists/{id}/ready"),
            None,
            TIMEOUT,
        )
        .await?;
    Ok(list.into())
}
