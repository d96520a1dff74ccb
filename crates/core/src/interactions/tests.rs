use serde_json::{Value, json};

use super::*;
use crate::audience::db::followers;
use crate::relay::RawEvent;
use crate::store::Store;

const A: &str = "wxinteract0001";
const T0: i64 = 1_800_000_000;
const HOUR: i64 = 3600;

fn event(kind: &str, appid: Option<&str>, data: Value) -> FeedEvent {
    FeedEvent::from_raw(RawEvent {
        seq: 1,
        kind: kind.into(),
        appid: appid.map(str::to_string),
        received_at: T0 + 5,
        data,
    })
}

fn text(openid: &str, at: i64, content: &str) -> FeedEvent {
    event(
        "text",
        Some(A),
        json!({"openid": openid, "content": content, "msg_id": at, "create_time": at}),
    )
}

fn follow(kind: &str, openid: &str, at: i64) -> FeedEvent {
    event(kind, Some(A), json!({"openid": openid, "create_time": at}))
}

/// A push the relay does not model, forwarded as its decrypted XML.
fn raw_push(openid: &str, at: i64, msg_type: &str, ev: Option<&str>) -> FeedEvent {
    let ev = ev
        .map(|e| format!("<Event><![CDATA[{e}]]></Event><EventKey><![CDATA[K1]]></EventKey>"))
        .unwrap_or_default();
    let xml = format!(
        "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>\
         <CreateTime>{at}</CreateTime><MsgType><![CDATA[{msg_type}]]></MsgType>{ev}</xml>"
    );
    event("other", Some(A), json!({ "xml": xml }))
}

async fn apply(store: &Store, events: Vec<FeedEvent>) {
    store
        .call(move |c| {
            let tx = c.transaction()?;
            for e in &events {
                InteractionEvents.apply(&tx, e)?;
            }
            Ok(tx.commit()?)
        })
        .await
        .unwrap();
}

async fn page(store: &Store, appid: &str, now: i64) -> WindowPage {
    let appid = appid.to_string();
    store
        .call(move |c| open_windows(c, &appid, now, None, 100))
        .await
        .unwrap()
}

async fn row_count(store: &Store) -> i64 {
    store
        .call(|c| Ok(c.query_row("SELECT count(*) FROM interactions", [], |r| r.get(0))?))
        .await
        .unwrap()
}

#[tokio::test]
async fn a_text_message_opens_48_hours_with_its_kind_and_preview() {
    let store = Store::open_in_memory().unwrap();
    apply(&store, vec![text("o1", T0, "你好，请问订单发货了吗？")]).await;
    let p = page(&store, A, T0 + HOUR).await;
    assert_eq!(
        p.rows,
        vec![OpenWindow {
            openid: "o1".into(),
            last_at: T0,
            kind: InteractionKind::Text,
            preview: "你好，请问订单发货了吗？".into(),
            window_until: T0 + 48 * HOUR,
            remaining_secs: 47 * HOUR,
            remark: None,
        }]
    );
    assert_eq!(p.total, 1);
    assert_eq!(p.next, None);
}

#[tokio::test]
async fn the_window_is_closed_at_exactly_48_hours() {
    let store = Store::open_in_memory().unwrap();
    apply(&store, vec![text("o1", T0, "hi")]).await;
    assert_eq!(page(&store, A, T0 + 48 * HOUR - 1).await.rows.len(), 1);
    let p = page(&store, A, T0 + 48 * HOUR).await;
    assert!(p.rows.is_empty());
    assert_eq!(p.total, 0);
}

#[test]
fn previews_keep_40_characters_on_one_line() {
    let long = "一二三四五六七八九十".repeat(5);
    let p = preview(&long);
    assert_eq!(p.chars().count(), 41);
    assert!(p.ends_with('…'));
    assert_eq!(p.chars().take(40).collect::<String>(), &long[..120]);
    assert_eq!(preview("第一行\n  第二行\t尾"), "第一行 第二行 尾");
    assert_eq!(preview(&"a".repeat(40)), "a".repeat(40));
}

#[tokio::test]
async fn an_unsubscribe_adds_no_row_and_closes_an_open_window() {
    let store = Store::open_in_memory().unwrap();
    apply(&store, vec![follow("unsubscribe", "o9", T0)]).await;
    assert_eq!(row_count(&store).await, 0);

    apply(
        &store,
        vec![text("o1", T0, "hi"), follow("unsubscribe", "o1", T0 + 10)],
    )
    .await;
    assert!(page(&store, A, T0 + 20).await.rows.is_empty());
    // A message from before the unsubscribe, delivered late, reopens nothing.
    apply(&store, vec![text("o1", T0 + 5, "late")]).await;
    assert!(page(&store, A, T0 + 20).await.rows.is_empty());
    // Following again opens the short event window.
    apply(&store, vec![follow("subscribe", "o1", T0 + 100)]).await;
    let p = page(&store, A, T0 + 130).await;
    assert_eq!(p.rows.len(), 1);
    assert_eq!(p.rows[0].kind, InteractionKind::Subscribe);
    assert_eq!(p.rows[0].window_until, T0 + 100 + EVENT_WINDOW_SECS);
    assert_eq!(p.rows[0].remaining_secs, 30);
    assert!(
        page(&store, A, T0 + 100 + EVENT_WINDOW_SECS)
            .await
            .rows
            .is_empty()
    );
}

#[tokio::test]
async fn the_newest_action_names_the_row_and_the_window_never_shrinks() {
    let store = Store::open_in_memory().unwrap();
    apply(
        &store,
        vec![
            text("o1", T0, "message"),
            raw_push("o1", T0 + 600, "event", Some("CLICK")),
        ],
    )
    .await;
    let p = page(&store, A, T0 + 700).await;
    assert_eq!(p.rows.len(), 1);
    let r = &p.rows[0];
    assert_eq!(
        (r.last_at, r.kind, r.preview.as_str()),
        (T0 + 600, InteractionKind::Click, "")
    );
    // The click's minute did not cut the message's 48 hours.
    assert_eq!(r.window_until, T0 + 48 * HOUR);

    // An older message delivered late changes nothing shown.
    apply(&store, vec![text("o1", T0 - 50, "older")]).await;
    let r = &page(&store, A, T0 + 700).await.rows[0];
    assert_eq!((r.last_at, r.kind), (T0 + 600, InteractionKind::Click));
    assert_eq!(r.window_until, T0 + 48 * HOUR);
}

#[tokio::test]
async fn raw_pushes_open_a_window_only_for_the_actions_wechat_counts() {
    let store = Store::open_in_memory().unwrap();
    apply(
        &store,
        vec![
            raw_push("voice", T0, "voice", None),
            raw_push("scan", T0, "event", Some("SCAN")),
            raw_push("push", T0, "event", Some("scancode_push")),
            raw_push("view", T0, "event", Some("VIEW")),
            raw_push("loc", T0, "event", Some("LOCATION")),
            raw_push("tpl", T0, "event", Some("TEMPLATESENDJOBFINISH")),
            raw_push("unsub", T0, "event", Some("unsubscribe")),
        ],
    )
    .await;
    let p = page(&store, A, T0 + 1).await;
    let mut got: Vec<(String, InteractionKind)> =
        p.rows.into_iter().map(|r| (r.openid, r.kind)).collect();
    got.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        got,
        vec![
            ("push".into(), InteractionKind::ScancodePush),
            ("scan".into(), InteractionKind::Scan),
            ("voice".into(), InteractionKind::Voice),
        ]
    );
    assert_eq!(row_count(&store).await, 3);
}

#[tokio::test]
async fn events_without_an_account_or_of_other_kinds_are_ignored() {
    let store = Store::open_in_memory().unwrap();
    apply(
        &store,
        vec![
            event(
                "text",
                None,
                json!({"openid": "o1", "content": "x", "msg_id": 1, "create_time": T0}),
            ),
            event(
                "template_send_job_finish",
                Some(A),
                json!({"openid":"o2","msg_id":5,"status":"success","create_time":T0}),
            ),
            event("other", Some(A), json!({"xml": "<xml><broken"})),
        ],
    )
    .await;
    assert_eq!(row_count(&store).await, 0);
}

#[tokio::test]
async fn a_missing_create_time_falls_back_to_the_relay_receipt_time() {
    let store = Store::open_in_memory().unwrap();
    apply(
        &store,
        vec![event(
            "text",
            Some(A),
            json!({"openid": "o1", "content": "x", "msg_id": 1}),
        )],
    )
    .await;
    assert_eq!(page(&store, A, T0 + 6).await.rows[0].last_at, T0 + 5);
}

#[tokio::test]
async fn writes_purge_rows_a_week_older_than_the_new_action() {
    let store = Store::open_in_memory().unwrap();
    apply(
        &store,
        vec![
            text("old", T0, "a"),
            text("kept", T0 + 1, "b"),
            text("new", T0 + KEEP_SECS + 1, "c"),
        ],
    )
    .await;
    let left: Vec<String> = store
        .call(|c| {
            let mut s = c.prepare("SELECT openid FROM interactions ORDER BY openid")?;
            let v = s
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<String>>>()?;
            Ok(v)
        })
        .await
        .unwrap();
    assert_eq!(left, vec!["kept".to_string(), "new".to_string()]);
}

#[tokio::test]
async fn keyset_pages_visit_each_open_window_once_newest_first() {
    let store = Store::open_in_memory().unwrap();
    // 25 users; 5 pairs share a CreateTime so the openid breaks ties.
    let events: Vec<FeedEvent> = (0..25)
        .map(|n| text(&format!("o{n:02}"), T0 + i64::from(n / 2) * 10, "hi"))
        .collect();
    apply(&store, events).await;
    apply(
        &store,
        vec![event(
            "text",
            Some("wxother"),
            json!({"openid": "o99", "content": "x", "msg_id": 1, "create_time": T0}),
        )],
    )
    .await;
    let mut seen = Vec::new();
    let mut after: Option<WindowCursor> = None;
    loop {
        let cur = after.clone();
        let p = store
            .call(move |c| open_windows(c, A, T0 + HOUR, cur.as_ref(), 7))
            .await
            .unwrap();
        assert_eq!(p.total, 25);
        assert!(p.rows.len() <= 7);
        seen.extend(p.rows.iter().map(|r| r.openid.clone()));
        match p.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    let want: Vec<String> = (0..25).rev().map(|n| format!("o{n:02}")).collect();
    assert_eq!(seen, want);
}

#[tokio::test]
async fn the_list_shows_remarks_and_leaves_out_users_who_unfollowed_since() {
    let store = Store::open_in_memory().unwrap();
    apply(
        &store,
        vec![
            text("o1", T0, "a"),
            text("o2", T0, "b"),
            text("o3", T0, "c"),
        ],
    )
    .await;
    store
        .call(|c| {
            let tx = c.transaction()?;
            followers::apply_subscribe(&tx, A, "o1", T0 - 100)?;
            tx.execute(
                "UPDATE followers SET remark = '张三' WHERE appid = ?1 AND openid = 'o1'",
                [A],
            )?;
            // o2 unfollowed after writing (seen by a follower sync, not by the feed).
            followers::apply_unsubscribe(&tx, A, "o2", T0 + 50)?;
            // o3's unfollow is older than its message: it followed again since.
            followers::apply_unsubscribe(&tx, A, "o3", T0 - 50)?;
            Ok(tx.commit()?)
        })
        .await
        .unwrap();
    let p = page(&store, A, T0 + 100).await;
    let got: Vec<(String, Option<String>)> =
        p.rows.into_iter().map(|r| (r.openid, r.remark)).collect();
    assert_eq!(
        got,
        vec![
            ("o3".to_string(), None),
            ("o1".to_string(), Some("张三".to_string()))
        ]
    );
    assert_eq!(p.total, 2);
}

#[test]
fn every_kind_round_trips_through_its_stored_name() {
    for k in InteractionKind::ALL {
        assert_eq!(InteractionKind::parse(k.as_str()), Some(k));
        assert_eq!(
            serde_json::to_value(k).unwrap(),
            Value::String(k.as_str().into())
        );
    }
    assert_eq!(InteractionKind::parse("unsubscribe"), None);
}
