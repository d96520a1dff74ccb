//! The customer-service windows of a team workspace: `GET /api/v1/team/windows` on the team
//! server, which folds the team's event log into them (relay team/windows.rs) by the same rules
//! as [`super::record`].

use std::time::Duration;

use serde::Deserialize;

use super::{InteractionKind, OpenWindow, WindowCursor, WindowPage};
use crate::error::Result;
use crate::relay::RelayClient;

#[derive(Deserialize)]
struct ServerWindow {
    openid: String,
    last_at: i64,
    kind: String,
    #[serde(default)]
    preview: String,
    window_until: i64,
    #[serde(default)]
    remark: Option<String>,
}

#[derive(Deserialize)]
struct ServerPage {
    rows: Vec<ServerWindow>,
    total: i64,
    #[serde(default)]
    more: bool,
    /// The server's clock: the remaining time is counted on it.
    now: i64,
}

pub(super) async fn open(
    relay: &RelayClient,
    appid: &str,
    after: Option<&WindowCursor>,
    limit: u32,
) -> Result<WindowPage> {
    // Built before the first await: the serializer is not Send.
    let query = {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        q.append_pair("appid", appid);
        q.append_pair("limit", &limit.to_string());
        if let Some(c) = after {
            q.append_pair("after_at", &c.last_at.to_string());
            q.append_pair("after_openid", &c.openid);
        }
        q.finish()
    };
    let page: ServerPage = relay
        .team_call::<(), _>(
            reqwest::Method::GET,
            &format!("api/v1/team/windows?{query}"),
            None,
            Duration::from_secs(30),
        )
        .await?;
    let mut rows: Vec<OpenWindow> = page
        .rows
        .into_iter()
        // A kind a newer server writes is skipped rather than failing the whole list.
        .filter_map(|w| {
            Some(OpenWindow {
                kind: InteractionKind::parse(&w.kind)?,
                remaining_secs: w.window_until - page.now,
                openid: w.openid,
                last_at: w.last_at,
                preview: w.preview,
                window_until: w.window_until,
                remark: w.remark,
            })
        })
        .collect();
    rows.truncate(limit as usize);
    let next = if page.more {
        rows.last().map(|r| WindowCursor {
            last_at: r.last_at,
            openid: r.openid.clone(),
        })
    } else {
        None
    };
    Ok(WindowPage {
        rows,
        total: u64::try_from(page.total).unwrap_or(0),
        next,
    })
}
