//! 客服消息窗口 of the shared workspace. The users' messages and events land in the team event
//! log like every push; each pass reads the new ones after a cursor and records what they mean
//! for the user's window, and a follow or unfollow for the team's followers (the rules are `wxdesk_wechat::window`'s, the same a desk applies to its
//! own log). Desks read the open windows with [`open`]; none of them has to be running when the
//! user writes.
//!
//! Any process may run a pass: the cursor row is locked for the pass (SKIP LOCKED), so passes
//! never overlap and each event is folded in once.

use serde::Serialize;
use serde_json::Value;
use wxdesk_wechat::window::{self, Change};

use crate::error::Result;
use crate::team::db::Db;

/// The event kinds that can carry a window change (`other` is raw XML: voice, menu clicks, scans).
const KINDS: &[&str] = &["text", "image", "subscribe", "unsubscribe", "other"];
/// Events read per pass.
const PAGE: i64 = 1000;
/// Rows whose last action is older than this are purged: the table only serves the window.
pub const KEEP_SECS: i64 = 7 * 24 * 3600;
/// Largest page [`open`] returns.
pub const MAX_PAGE: i64 = 500;

/// The change a logged event carries; `at` falls back to the receipt time.
fn change(kind: &str, data: &Value, received_at: i64) -> Option<Change> {
    let openid = || {
        data["openid"]
            .as_str()
            .filter(|o| !o.is_empty())
            .map(str::to_owned)
    };
    let at = data["create_time"]
        .as_i64()
        .filter(|t| *t > 0)
        .unwrap_or(received_at);
    let opened = |action, preview| {
        Some(Change::Opened {
            openid: openid()?,
            at,
            action,
            preview,
        })
    };
    match kind {
        "text" => opened("text", window::preview(data["content"].as_str()?)),
        "image" => opened("image", String::new()),
        "subscribe" => opened("subscribe", String::new()),
        "unsubscribe" => Some(Change::Closed {
            openid: openid()?,
            at,
        }),
        "other" => {
            let cb = wxdesk_wechat::callback::parse(data["xml"].as_str()?).ok()?;
            Some(match window::change_of(cb)? {
                Change::Opened {
                    openid,
                    at: t,
                    action,
                    preview,
                } => Change::Opened {
                    openid,
                    at: if t > 0 { t } else { received_at },
                    action,
                    preview,
                },
                Change::Closed { openid, at: t } => Change::Closed {
                    openid,
                    at: if t > 0 { t } else { received_at },
                },
            })
        }
        _ => None,
    }
}

/// One pass over the new events. Returns how many changes were recorded.
pub(crate) async fn pass(db: &Db) -> Result<usize> {
    let mut conn = db.get().await?;
    let tx = conn.transaction().await?;
    let Some(cursor) = tx
        .query_opt(
            "SELECT after_seq FROM team_window_cursor WHERE id = 1 FOR UPDATE SKIP LOCKED",
            &[],
        )
        .await?
    else {
        return Ok(0);
    };
    let after: i64 = cursor.get(0);
    // Every seq up to the head is committed (see the delivery join).
    let head: i64 = tx
        .query_one("SELECT seq FROM relay_log_head WHERE id = 1", &[])
        .await?
        .get(0);
    if head <= after {
        return Ok(0);
    }
    let kinds: Vec<&str> = KINDS.to_vec();
    let events = tx
        .query(
            "SELECT seq, appid, kind, data, received_at FROM relay_events
              WHERE seq > $1 AND seq <= $2 AND kind = ANY($3) ORDER BY seq LIMIT $4",
            &[&after, &head, &kinds, &PAGE],
        )
        .await?;
    let opened = tx
        .prepare(
            "INSERT INTO team_windows (appid, openid, last_at, last_kind, preview, window_until)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (appid, openid) DO UPDATE SET
               last_kind = CASE WHEN EXCLUDED.last_at >= team_windows.last_at
                 THEN EXCLUDED.last_kind ELSE team_windows.last_kind END,
               preview = CASE WHEN EXCLUDED.last_at >= team_windows.last_at
                 THEN EXCLUDED.preview ELSE team_windows.preview END,
               window_until = CASE WHEN EXCLUDED.last_at > team_windows.closed_at
                 THEN GREATEST(team_windows.window_until, EXCLUDED.window_until)
                 ELSE team_windows.window_until END,
               last_at = GREATEST(team_windows.last_at, EXCLUDED.last_at)",
        )
        .await?;
    // Only a row that exists has a window to close; a newer action (a re-follow that arrived
    // first) keeps its window.
    let closed = tx
        .prepare(
            "UPDATE team_windows SET closed_at = GREATEST(closed_at, $3),
               window_until = CASE WHEN last_at <= $3 THEN LEAST(window_until, $3)
                 ELSE window_until END
             WHERE appid = $1 AND openid = $2",
        )
        .await?;
    // The same events keep the team's followers current (team/followers.rs): a follow or an
    // unfollow newer than what the row holds.
    let followed = tx
        .prepare(
            "INSERT INTO team_followers (appid, openid, subscribed, subscribe_time, updated_at)
             VALUES ($1, $2, true, $3, $3)
             ON CONFLICT (appid, openid) DO UPDATE SET subscribed = true,
               subscribe_time = EXCLUDED.subscribe_time, updated_at = EXCLUDED.updated_at
             WHERE team_followers.updated_at <= EXCLUDED.updated_at",
        )
        .await?;
    let unfollowed = tx
        .prepare(
            "UPDATE team_followers SET subscribed = false, updated_at = $3
              WHERE appid = $1 AND openid = $2 AND updated_at <= $3",
        )
        .await?;
    let mut last = after;
    let mut recorded = 0;
    for e in &events {
        last = e.get(0);
        let Some(appid) = e.get::<_, Option<String>>(1).filter(|a| !a.is_empty()) else {
            continue;
        };
        let Ok(data) = serde_json::from_str::<Value>(e.get::<_, &str>(3)) else {
            continue;
        };
        match change(e.get::<_, &str>(2), &data, e.get(4)) {
            Some(Change::Opened {
                openid,
                at,
                action,
                preview,
            }) => {
                if action == "subscribe" {
                    tx.execute(&followed, &[&appid, &openid, &at]).await?;
                }
                let until = at.saturating_add(window::secs(action));
                tx.execute(&opened, &[&appid, &openid, &at, &action, &preview, &until])
                    .await?;
                recorded += 1;
            }
            Some(Change::Closed { openid, at }) => {
                tx.execute(&closed, &[&appid, &openid, &at]).await?;
                tx.execute(&unfollowed, &[&appid, &openid, &at]).await?;
                recorded += 1;
            }
            None => {}
        }
    }
    let next = if (events.len() as i64) < PAGE {
        head
    } else {
        last
    };
    tx.execute(
        "UPDATE team_window_cursor SET after_seq = $1 WHERE id = 1",
        &[&next],
    )
    .await?;
    if recorded > 0 {
        tx.execute(
            "DELETE FROM team_windows WHERE last_at < $1",
            &[&(super::jobs::now_ms() / 1000 - KEEP_SECS)],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(recorded)
}

/// One user whose window is open (a desk's `OpenWindow` without its computed fields).
#[derive(Debug, Clone, Serialize)]
pub struct OpenWindow {
    pub openid: String,
    pub last_at: i64,
    pub kind: String,
    pub preview: String,
    pub window_until: i64,
    /// The follower's remark (备注名) among the team's followers, when there is one.
    pub remark: Option<String>,
}

/// The users of `appid` whose window is open at `now`, newest action first, after
/// `(after_at, after_openid)`. A user whose last action is not after their last unsubscribe is
/// left out whatever the clocks say (WeChat answers 45015 for them). Returns them
/// with how many are open in all, and whether more follow.
pub async fn open(
    db: &Db,
    appid: &str,
    now: i64,
    after: Option<(i64, String)>,
    limit: i64,
) -> Result<(Vec<OpenWindow>, i64, bool)> {
    let conn = db.get().await?;
    let limit = limit.clamp(1, MAX_PAGE);
    let (after_at, after_openid) = after.unwrap_or((i64::MAX, String::new()));
    let rows = conn
        .query(
            "SELECT w.openid, w.last_at, w.last_kind, w.preview, w.window_until,
                    nullif(f.remark, '')
               FROM team_windows w
               LEFT JOIN team_followers f ON f.appid = w.appid AND f.openid = w.openid
              WHERE w.appid = $1 AND w.window_until > $2 AND w.last_at > w.closed_at
                AND (w.last_at < $3 OR (w.last_at = $3 AND w.openid < $4))
              ORDER BY w.last_at DESC, w.openid DESC LIMIT $5",
            &[&appid, &now, &after_at, &after_openid, &(limit + 1)],
        )
        .await?;
    let total: i64 = conn
        .query_one(
            "SELECT count(*) FROM team_windows
              WHERE appid = $1 AND window_until > $2 AND last_at > closed_at",
            &[&appid, &now],
        )
        .await?
        .get(0);
    let more = rows.len() as i64 > limit;
    Ok((
        rows.iter()
            .take(limit as usize)
            .map(|r| OpenWindow {
                openid: r.get(0),
                last_at: r.get(1),
                kind: r.get(2),
                preview: r.get(3),
                window_until: r.get(4),
                remark: r.get(5),
            })
            .collect(),
        total,
        more,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn logged_events_mean_what_the_desk_reads_them_to_mean() {
        let text = change(
            "text",
            &json!({"openid": "o1", "content": "发货了吗\n谢谢", "create_time": 100}),
            999,
        );
        assert_eq!(
            text,
            Some(Change::Opened {
                openid: "o1".into(),
                at: 100,
                action: "text",
                preview: "发货了吗 谢谢".into()
            })
        );
        // No CreateTime: the receipt time.
        assert_eq!(
            change("unsubscribe", &json!({"openid": "o1"}), 999),
            Some(Change::Closed {
                openid: "o1".into(),
                at: 999
            })
        );
        let click = "<xml><ToUserName>gh_1</ToUserName><FromUserName>o2</FromUserName>\
            <CreateTime>200</CreateTime><MsgType>event</MsgType><Event>CLICK</Event>\
            <EventKey>k</EventKey></xml>";
        match change("other", &json!({ "xml": click }), 999) {
            Some(Change::Opened {
                openid, at, action, ..
            }) => assert_eq!((openid.as_str(), at, action), ("o2", 200, "click")),
            other => panic!("a menu click opens a window: {other:?}"),
        }
        let view = click.replace("CLICK", "VIEW");
        assert_eq!(change("other", &json!({ "xml": view }), 999), None);
        // Hostile or broken data opens nothing and fails nothing.
        assert_eq!(change("text", &json!({"content": "no openid"}), 1), None);
        assert_eq!(change("other", &json!({"xml": "<xml><unclosed"}), 1), None);
        assert_eq!(
            change("template_send_job_finish", &json!({"openid": "o"}), 1),
            None
        );
    }
}
