//! 模板 of a team workspace: the team server's templates (`/api/v1/team/templates`), the same
//! for every desk. This desk keeps a copy in its own table, pulled before every read, so the
//! composer, the keyword checks and the job spec read templates as in a local workspace. A sync
//! (or an add or delete) here publishes WeChat's list to the team; notes and approved values are
//! written to the server, then pulled back.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::db::{self, Template};
use super::keywords::parse_content;
use crate::error::Result;
use crate::relay::RelayClient;
use crate::store::Store;

const TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Deserialize)]
struct ServerTemplate {
    template_id: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    primary_industry: String,
    #[serde(default)]
    deputy_industry: String,
    #[serde(default)]
    content: String,
    #[serde(default)]
    example: String,
    #[serde(default)]
    alias: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    const_values: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    synced_at: i64,
}

#[derive(Deserialize)]
struct Templates {
    templates: Vec<ServerTemplate>,
}

fn query(appid: &str) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("appid", appid)
        .finish()
}

/// The team's templates of `appid` into this desk's table.
pub(crate) async fn pull(relay: &RelayClient, store: &Store, appid: &str) -> Result<()> {
    let t: Templates = relay
        .team_call::<(), _>(
            reqwest::Method::GET,
            &format!("api/v1/team/templates?{}", query(appid)),
            None,
            TIMEOUT,
        )
        .await?;
    let all: Vec<Template> = t
        .templates
        .into_iter()
        .map(|s| {
            let fields = parse_content(&s.content);
            Template {
                appid: appid.to_owned(),
                template_id: s.template_id,
                title: s.title,
                primary_industry: s.primary_industry,
                deputy_industry: s.deputy_industry,
                legacy: fields.iter().any(|f| f.kind.is_legacy()),
                fields,
                content: s.content,
                example: s.example,
                alias: s.alias,
                note: s.note,
                const_values: s.const_values,
                synced_at: s.synced_at,
            }
        })
        .collect();
    let appid = appid.to_owned();
    store.call(move |c| db::replace_all(c, &appid, &all)).await
}

#[derive(Serialize)]
struct Remote<'a> {
    template_id: &'a str,
    title: &'a str,
    primary_industry: &'a str,
    deputy_industry: &'a str,
    content: &'a str,
    example: &'a str,
}

#[derive(Serialize)]
struct Publish<'a> {
    templates: Vec<Remote<'a>>,
}

/// Publishes WeChat's list as this desk just synced it (the team's notes stay on the server),
/// then pulls the team's copy back.
pub(crate) async fn publish(relay: &RelayClient, store: &Store, appid: &str) -> Result<()> {
    let a = appid.to_owned();
    let mine = store.call(move |c| db::list(c, &a)).await?;
    let body = Publish {
        templates: mine
            .iter()
            .map(|t| Remote {
                template_id: &t.template_id,
                title: &t.title,
                primary_industry: &t.primary_industry,
                deputy_industry: &t.deputy_industry,
                content: &t.content,
                example: &t.example,
            })
            .collect(),
    };
    let _: serde_json::Value = relay
        .team_call(
            reqwest::Method::PUT,
            &format!("api/v1/team/templates?{}", query(appid)),
            Some(&body),
            TIMEOUT,
        )
        .await?;
    pull(relay, store, appid).await
}

#[derive(Serialize)]
struct Notes<'a> {
    appid: &'a str,
    template_id: &'a str,
    alias: &'a str,
    note: &'a str,
}

pub(crate) async fn set_notes(
    relay: &RelayClient,
    appid: &str,
    template_id: &str,
    alias: &str,
    note: &str,
) -> Result<()> {
    let _: serde_json::Value = relay
        .team_call(
            reqwest::Method::POST,
            "api/v1/team/templates/notes",
            Some(&Notes {
                appid,
                template_id,
                alias,
                note,
            }),
            TIMEOUT,
        )
        .await?;
    Ok(())
}

#[derive(Serialize)]
struct ConstValues<'a> {
    appid: &'a str,
    template_id: &'a str,
    key: &'a str,
    values: &'a [String],
}

pub(crate) async fn set_const_values(
    relay: &RelayClient,
    appid: &str,
    template_id: &str,
    key: &str,
    values: &[String],
) -> Result<()> {
    let _: serde_json::Value = relay
        .team_call(
            reqwest::Method::POST,
            "api/v1/team/templates/const-values",
            Some(&ConstValues {
                appid,
                template_id,
                key,
                values,
            }),
            TIMEOUT,
        )
        .await?;
    Ok(())
}
