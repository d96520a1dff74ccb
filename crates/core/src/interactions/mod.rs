//! 客服消息窗口: who may receive a customer-service message now. WeChat accepts
//! `message/custom/send` only after a user action (protocol E, "Customer service message"): a
//! message the user sent opens 48 hours; a click on a push-type menu, a follow or a QR-code scan
//! opens a short window (1 minute in the current quota table). Anything else — an unsubscribe, a
//! VIEW (link) menu, a location report, a delivery report — opens nothing, and an unsubscribe
//! closes what was open (45015 "subscription is canceled").
//!
//! [`InteractionEvents`] keeps the newest such action per (account, openid) from the relay feed,
//! in the transaction that moves the feed's cursor; [`open_windows`] lists the users whose
//! window is open at a given time, newest first, in keyset pages.

use rusqlite::{Connection, Transaction, params};
use serde::Serialize;
use wxdesk_wechat::callback;

use crate::error::Result;
use crate::feed::EventHandler;
use crate::feed::events::{EventKind, FeedEvent};

/// A message from the user opens this long a window.
pub const MESSAGE_WINDOW_SECS: i64 = wxdesk_wechat::window::MESSAGE_SECS;
/// A push-menu click, a follow or a QR scan opens this long a window.
pub const EVENT_WINDOW_SECS: i64 = wxdesk_wechat::window::EVENT_SECS;
/// Rows whose last action is older than this are purged: the table only serves the window.
pub const KEEP_SECS: i64 = 7 * 24 * 3600;
/// Characters of a text message kept as its preview.
pub const PREVIEW_CHARS: usize = wxdesk_wechat::window::PREVIEW_CHARS;
/// Largest page [`open_windows`] returns.
pub const MAX_PAGE: u32 = 500;

/// The user actions that open a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum InteractionKind {
    Text,
    Image,
    Voice,
    Video,
    ShortVideo,
    Location,
    Link,
    Subscribe,
    Scan,
    Click,
    ScancodePush,
    ScancodeWaitmsg,
}

impl InteractionKind {
    pub const ALL: [InteractionKind; 12] = [
        InteractionKind::Text,
        InteractionKind::Image,
        InteractionKind::Voice,
        InteractionKind::Video,
        InteractionKind::ShortVideo,
        InteractionKind::Location,
        InteractionKind::Link,
        InteractionKind::Subscribe,
        InteractionKind::Scan,
        InteractionKind::Click,
        InteractionKind::ScancodePush,
        InteractionKind::ScancodeWaitmsg,
    ];

    /// The stored name (also the serde name).
    pub fn as_str(self) -> &'static str {
        match self {
            InteractionKind::Text => "text",
            InteractionKind::Image => "image",
            InteractionKind::Voice => "voice",
            InteractionKind::Video => "video",
            InteractionKind::ShortVideo => "short_video",
            InteractionKind::Location => "location",
            InteractionKind::Link => "link",
            InteractionKind::Subscribe => "subscribe",
            InteractionKind::Scan => "scan",
            InteractionKind::Click => "click",
            InteractionKind::ScancodePush => "scancode_push",
            InteractionKind::ScancodeWaitmsg => "scancode_waitmsg",
        }
    }

    pub fn parse(s: &str) -> Option<InteractionKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// What the user did, for the UI.
    pub fn label_zh(self) -> &'static str {
        match self {
            InteractionKind::Text => "发来文字",
            InteractionKind::Image => "发来图片",
            InteractionKind::Voice => "发来语音",
            InteractionKind::Video => "发来视频",
            InteractionKind::ShortVideo => "发来小视频",
            InteractionKind::Location => "发来位置",
            InteractionKind::Link => "发来链接",
            InteractionKind::Subscribe => "关注",
            InteractionKind::Scan => "扫描二维码",
            InteractionKind::Click => "点击菜单",
            InteractionKind::ScancodePush | InteractionKind::ScancodeWaitmsg => "菜单扫码",
        }
    }

    /// A message the user sent (48-hour window) rather than an event (short window).
    pub fn is_message(self) -> bool {
        wxdesk_wechat::window::is_message(self.as_str())
    }

    /// How long the window this action opens lasts.
    pub fn window_secs(self) -> i64 {
        wxdesk_wechat::window::secs(self.as_str())
    }

    /// From a push's `MsgType` (and `Event` when it is `event`); `None` for what opens nothing.
    pub fn from_push(msg_type: &str, event: Option<&str>) -> Option<InteractionKind> {
        wxdesk_wechat::window::action(msg_type, event).and_then(InteractionKind::parse)
    }
}

/// What one feed event means for the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WindowChange {
    Opened {
        openid: String,
        at: i64,
        kind: InteractionKind,
        preview: String,
    },
    /// The user unfollowed: no custom message reaches them any more.
    Closed { openid: String, at: i64 },
}

/// The first [`PREVIEW_CHARS`] characters on one line, with `…` when cut.
pub fn preview(text: &str) -> String {
    wxdesk_wechat::window::preview(text)
}

/// The window change an event carries, if any. Events without a CreateTime use the relay's
/// receipt time.
pub fn window_change(event: &FeedEvent) -> Option<WindowChange> {
    let at = |t: i64| if t > 0 { t } else { event.received_at };
    let opened = |openid: &str, t: i64, kind, preview: String| WindowChange::Opened {
        openid: openid.to_string(),
        at: at(t),
        kind,
        preview,
    };
    match &event.kind {
        EventKind::Text {
            openid,
            content,
            create_time,
            ..
        } => Some(opened(
            openid,
            *create_time,
            InteractionKind::Text,
            self::preview(content),
        )),
        EventKind::Image {
            openid,
            create_time,
            ..
        } => Some(opened(
            openid,
            *create_time,
            InteractionKind::Image,
            String::new(),
        )),
        EventKind::Subscribe {
            openid,
            create_time,
            ..
        } => Some(opened(
            openid,
            *create_time,
            InteractionKind::Subscribe,
            String::new(),
        )),
        EventKind::Unsubscribe {
            openid,
            create_time,
        } => Some(WindowChange::Closed {
            openid: openid.clone(),
            at: at(*create_time),
        }),
        // The relay forwards what it does not model (voice, menu clicks, scans…) as raw XML.
        EventKind::Other { data, .. } => {
            let xml = data.get("xml")?.as_str()?;
            from_xml(xml).map(|c| match c {
                WindowChange::Opened {
                    openid,
                    at: t,
                    kind,
                    preview,
                } => opened(&openid, t, kind, preview),
                WindowChange::Closed { openid, at: t } => {
                    WindowChange::Closed { openid, at: at(t) }
                }
            })
        }
        _ => None,
    }
}

/// A raw message-URL push; `at` is 0 when it has no CreateTime.
fn from_xml(xml: &str) -> Option<WindowChange> {
    use wxdesk_wechat::window::Change;
    match wxdesk_wechat::window::change_of(callback::parse(xml).ok()?)? {
        Change::Opened {
            openid,
            at,
            action,
            preview,
        } => Some(WindowChange::Opened {
            openid,
            at,
            kind: InteractionKind::parse(action)?,
            preview,
        }),
        Change::Closed { openid, at } => Some(WindowChange::Closed { openid, at }),
    }
}

/// Records one window change for `appid`, then purges rows a week older than it.
pub fn record(conn: &Connection, appid: &str, change: &WindowChange) -> Result<()> {
    match change {
        WindowChange::Opened {
            openid,
            at,
            kind,
            preview,
        } => {
            // The newest action names the row; the window only ever grows (a click after a
            // message must not shorten the message's 48 hours), except that an action from
            // before the last unsubscribe opens nothing.
            conn.execute(
                "INSERT INTO interactions (appid, openid, last_at, last_kind, preview, window_until) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                 ON CONFLICT (appid, openid) DO UPDATE SET \
                   last_kind = CASE WHEN excluded.last_at >= interactions.last_at \
                     THEN excluded.last_kind ELSE interactions.last_kind END, \
                   preview = CASE WHEN excluded.last_at >= interactions.last_at \
                     THEN excluded.preview ELSE interactions.preview END, \
                   window_until = CASE WHEN excluded.last_at > interactions.closed_at \
                     THEN max(interactions.window_until, excluded.window_until) \
                     ELSE interactions.window_until END, \
                   last_at = max(interactions.last_at, excluded.last_at)",
                params![
                    appid,
                    openid,
                    at,
                    kind.as_str(),
                    preview,
                    at.saturating_add(kind.window_secs())
                ],
            )?;
            purge(conn, at.saturating_sub(KEEP_SECS))?;
        }
        WindowChange::Closed { openid, at } => {
            // Only a row that exists has a window to close; a newer action (a re-follow that
            // arrived first) keeps its window.
            conn.execute(
                "UPDATE interactions SET closed_at = max(closed_at, ?3), \
                   window_until = CASE WHEN last_at <= ?3 THEN min(window_until, ?3) \
                     ELSE window_until END \
                 WHERE appid = ?1 AND openid = ?2",
                params![appid, openid, at],
            )?;
        }
    }
    Ok(())
}

/// Deletes rows whose last action is before `before`; returns how many.
pub fn purge(conn: &Connection, before: i64) -> Result<usize> {
    Ok(conn.execute(
        "DELETE FROM interactions WHERE last_at < ?1",
        params![before],
    )?)
}

/// Keeps the interactions table current from the relay feed. Register it with
/// `FeedFollower::with_handler`; it writes in the transaction that moves the cursor.
#[derive(Debug, Clone, Copy, Default)]
pub struct InteractionEvents;

impl EventHandler for InteractionEvents {
    fn apply(&self, tx: &Transaction<'_>, event: &FeedEvent) -> Result<()> {
        let Some(appid) = event.appid.as_deref().filter(|a| !a.is_empty()) else {
            return Ok(());
        };
        match window_change(event) {
            Some(change) => record(tx, appid, &change),
            None => Ok(()),
        }
    }
}

/// One user whose window is open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct OpenWindow {
    pub openid: String,
    /// CreateTime of the newest action (unix seconds).
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub last_at: i64,
    /// What the user last did (the UI names it in its language).
    pub kind: InteractionKind,
    /// The start of the last text message; empty for other actions.
    pub preview: String,
    /// Unix seconds when the window closes.
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub window_until: i64,
    /// Seconds left at the `now` of the query.
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub remaining_secs: i64,
    /// The follower's remark (备注名) when the follower table has one.
    pub remark: Option<String>,
}

/// Where the next page starts: after this (last_at, openid).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct WindowCursor {
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub last_at: i64,
    pub openid: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct WindowPage {
    pub rows: Vec<OpenWindow>,
    /// How many users of the account have an open window (all pages).
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub total: u64,
    pub next: Option<WindowCursor>,
}

/// Rows per page when the caller asks for none.
pub const DEFAULT_PAGE: u32 = 200;

/// 客服消息 recipients: the users whose customer-service window is open (a handle on the store,
/// reached as `ctx.interactions`). In a team workspace the windows are the team server's, made
/// from the team's event log whether or not this desk was running.
#[derive(Clone, Debug)]
pub struct Interactions {
    store: crate::store::Store,
    team: Option<crate::platform::Platform>,
}

impl Interactions {
    pub fn new(store: crate::store::Store) -> Self {
        Interactions { store, team: None }
    }

    /// The windows of a team workspace, read from its team server.
    #[must_use]
    pub fn in_team(mut self, platform: crate::platform::Platform) -> Self {
        self.team = Some(platform);
        self
    }

    /// The users of `appid` whose window is open now, newest action first; `limit` rows
    /// (1–500, default 200) after `after`.
    pub async fn open(
        &self,
        appid: &str,
        after: Option<WindowCursor>,
        limit: Option<u32>,
    ) -> Result<WindowPage> {
        let appid = appid.to_string();
        let limit = limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
        if let Some(platform) = &self.team {
            let relay = platform.relay().await?;
            // The remark (备注名) comes with it, from the team's followers.
            return team::open(&relay, &appid, after.as_ref(), limit).await;
        }
        let now = now();
        self.store
            .call(move |c| open_windows(c, &appid, now, after.as_ref(), limit))
            .await
    }
}

/// Unix seconds now (the `now` the app passes to [`open_windows`]; tests pass their own).
pub fn now() -> i64 {
    crate::store::now()
}

/// The users of `appid` whose window is open at `now`, newest action first, `limit` (1..=500)
/// at a time after `after`. Users the follower table shows as unfollowed since their last
/// action are left out (WeChat answers 45015 for them).
pub fn open_windows(
    conn: &Connection,
    appid: &str,
    now: i64,
    after: Option<&WindowCursor>,
    limit: u32,
) -> Result<WindowPage> {
    let limit = limit.clamp(1, MAX_PAGE);
    let (after_at, after_openid) = match after {
        Some(c) => (c.last_at, c.openid.as_str()),
        None => (i64::MAX, ""),
    };
    const OPEN: &str = "i.appid = ?1 AND i.window_until > ?2 \
        AND NOT EXISTS (SELECT 1 FROM followers f WHERE f.appid = i.appid \
          AND f.openid = i.openid AND f.subscribe = 0 AND f.updated_at >= i.last_at)";
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT i.openid, i.last_at, i.last_kind, i.preview, i.window_until, \
           (SELECT f.remark FROM followers f WHERE f.appid = i.appid AND f.openid = i.openid \
             AND f.remark <> '') \
         FROM interactions i WHERE {OPEN} \
           AND (i.last_at < ?3 OR (i.last_at = ?3 AND i.openid < ?4)) \
         ORDER BY i.last_at DESC, i.openid DESC LIMIT ?5"
    ))?;
    // The first page: every last_at is below i64::MAX.
    let rows = stmt
        .query_map(
            params![appid, now, after_at, after_openid, i64::from(limit) + 1],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, Option<String>>(5)?,
                ))
            },
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut out = Vec::with_capacity(rows.len());
    for (openid, last_at, kind, preview, window_until, remark) in rows {
        // A kind written by a newer build is skipped rather than failing the whole list.
        let Some(kind) = InteractionKind::parse(&kind) else {
            continue;
        };
        out.push(OpenWindow {
            openid,
            last_at,
            kind,
            preview,
            window_until,
            remaining_secs: window_until - now,
            remark,
        });
    }
    let next = if out.len() > limit as usize {
        out.truncate(limit as usize);
        out.last().map(|r| WindowCursor {
            last_at: r.last_at,
            openid: r.openid.clone(),
        })
    } else {
        None
    };
    let total: i64 = conn.query_row(
        &format!("SELECT count(*) FROM interactions i WHERE {OPEN}"),
        params![appid, now],
        |r| r.get(0),
    )?;
    Ok(WindowPage {
        rows: out,
        total: u64::try_from(total).unwrap_or(0),
        next,
    })
}

mod team;

#[cfg(test)]
mod tests;
