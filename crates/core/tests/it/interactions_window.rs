//! 客服消息 window end to end on loopback: the real wxdesk-sim pushes a user's message through
//! the real wxdesk-relay, the feed records it, the 48-hour list shows it, and a customer-service
//! send through the real engine reaches that user while one who never wrote gets 45015.
#![allow(clippy::unwrap_used)]

use crate::support;

use std::sync::Arc;

use serde_json::{Value, json};
use wxdesk_core::audience::FollowEvents;
use wxdesk_core::auth::{AuthScope, Authorizer};
use wxdesk_core::feed::{FeedFollower, FeedNotice};
use wxdesk_core::interactions::{
    EVENT_WINDOW_SECS, InteractionEvents, InteractionKind, MESSAGE_WINDOW_SECS, WindowPage,
    open_windows,
};
use wxdesk_core::send::platform::platform_send_api;
use wxdesk_core::send::{
    EngineConfig, History, HistoryFilter, JobSpec, Payload, Recipient, RecipientState, SendEngine,
};

use support::{World, follow_until};

async fn post(w: &World, path: &str, body: Value) -> Value {
    let r = w
        .http
        .post(format!("{}{path}", w.sandbox.sim_url))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{path}: {}", r.status());
    r.json().await.unwrap()
}

async fn get(w: &World, path: &str) -> Value {
    w.http
        .get(format!("{}{path}", w.sandbox.sim_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn windows(w: &World, appid: &str, now: i64) -> WindowPage {
    let appid = appid.to_string();
    w.store
        .call(move |c| open_windows(c, &appid, now, None, 100))
        .await
        .unwrap()
}

/// Polls until the feed has applied an event of `kind`.
async fn until_event(
    f: &FeedFollower<Authorizer>,
    rx: &mut tokio::sync::broadcast::Receiver<FeedNotice>,
    kind: &'static str,
) {
    follow_until(
        f,
        rx,
        move |n| matches!(n, FeedNotice::Event { kind: k, .. } if k == kind),
    )
    .await;
}

#[tokio::test]
async fn a_users_message_opens_the_window_and_only_that_user_can_be_sent_a_custom_message() {
    let w = World::start().await;
    let oa = w.account(false)["appid"].as_str().unwrap().to_string();
    let info = get(&w, &format!("/__sim/accounts/{oa}")).await;
    // quiet: never wrote to the account, not even in the sim's generated past.
    let quiet = info["quiet_openid"].as_str().unwrap().to_string();
    let samples: Vec<String> = info["sample_openids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .filter(|o| *o != quiet)
        .collect();
    let (writer, leaver, unfollower) = (&samples[0], &samples[1], &samples[2]);

    let follower = w
        .follower()
        .await
        .with_handler(Arc::new(FollowEvents))
        .with_handler(Arc::new(InteractionEvents));
    let mut rx = follower.subscribe();
    w.authorize_in_browser(&oa, AuthScope::Oa).await;
    follow_until(&follower, &mut rx, |n| {
        matches!(n, FeedNotice::AccountAuthorized { .. })
    })
    .await;

    // A follower writes; another writes and then unfollows; a third only unfollows.
    let content = "你好，我的订单 A-1001 什么时候发货？麻烦帮忙查一下物流信息，谢谢！这条消息比四十个字还要长一些";
    post(
        &w,
        "/__sim/message",
        json!({"authorizer_appid": oa, "openid": writer, "content": content}),
    )
    .await;
    until_event(&follower, &mut rx, "text").await;
    post(
        &w,
        "/__sim/message",
        json!({"authorizer_appid": oa, "openid": leaver, "content": "再见"}),
    )
    .await;
    until_event(&follower, &mut rx, "text").await;
    post(
        &w,
        "/__sim/follow",
        json!({"authorizer_appid": oa, "openid": leaver, "follow": false}),
    )
    .await;
    until_event(&follower, &mut rx, "unsubscribe").await;
    post(
        &w,
        "/__sim/follow",
        json!({"authorizer_appid": oa, "openid": unfollower, "follow": false}),
    )
    .await;
    until_event(&follower, &mut rx, "unsubscribe").await;

    let sim_now = w.sandbox.sim_state()["now"].as_i64().unwrap();
    let page = windows(&w, &oa, sim_now).await;
    assert_eq!(page.total, 1, "{page:?}");
    let row = &page.rows[0];
    assert_eq!(&row.openid, writer);
    assert_eq!(row.kind, InteractionKind::Text);
    let want_preview: String = content.chars().take(40).chain(['…']).collect();
    assert_eq!(row.preview, want_preview);
    assert!(
        (sim_now - 5..=sim_now).contains(&row.last_at),
        "CreateTime {} vs sim now {sim_now}",
        row.last_at
    );
    assert_eq!(row.window_until, row.last_at + MESSAGE_WINDOW_SECS);
    assert_eq!(row.remaining_secs, row.window_until - sim_now);
    // 48 hours after the message the list is empty.
    assert!(
        windows(&w, &oa, row.last_at + MESSAGE_WINDOW_SECS)
            .await
            .rows
            .is_empty()
    );
    // The unsubscribe without an earlier message left no row behind.
    let rows: i64 = w
        .store
        .call(|c| Ok(c.query_row("SELECT count(*) FROM interactions", [], |r| r.get(0))?))
        .await
        .unwrap();
    assert_eq!(rows, 2, "the writer and the leaver, not the unfollower");

    // What 客服消息 sends: one text to the listed user and to one who never wrote.
    let engine = SendEngine::new(
        w.store.clone(),
        platform_send_api(&w.platform).await.unwrap(),
        EngineConfig::default(),
    );
    let spec = JobSpec {
        appid: oa.clone(),
        title: "客服消息".into(),
        payload: Payload::CustomText {
            content: "您的订单已发货".into(),
        },
        field_rules: Vec::new(),
        concurrency: None,
        rate_per_sec: None,
        max_attempts: None,
    };
    let job = engine
        .create_and_start(
            spec,
            [
                Recipient::new(writer.clone()),
                Recipient::new(quiet.clone()),
            ],
        )
        .await
        .unwrap();
    engine.wait_idle(job).await.unwrap();
    let filter = HistoryFilter {
        job_id: Some(job),
        ..Default::default()
    };
    let mut rows = History::new(w.store.clone())
        .list(filter, None, Some(10))
        .await
        .unwrap()
        .rows;
    rows.sort_by_key(|r| r.seq);
    assert_eq!(rows.len(), 2);
    assert_eq!(
        (&rows[0].openid, rows[0].state),
        (writer, RecipientState::Sent)
    );
    assert_eq!(rows[0].errcode, Some(0));
    assert_eq!(&rows[1].openid, &quiet);
    assert_eq!(rows[1].state, RecipientState::FailedPermanent);
    assert_eq!(rows[1].errcode, Some(45015));
    let why = rows[1].explanation.as_ref().unwrap();
    assert_eq!(why.zh, "超出客服消息 48 小时回复时限，或用户已取消关注");
    assert_eq!(w.sandbox.sim_state()["sends"]["custom_accepted"], 1);
}

#[tokio::test]
async fn a_menu_click_lists_the_user_for_one_minute_and_a_link_menu_not_at_all() {
    let w = World::start().await;
    let oa = w.account(false)["appid"].as_str().unwrap().to_string();
    let info = get(&w, &format!("/__sim/accounts/{oa}")).await;
    let quiet = info["quiet_openid"].as_str().unwrap().to_string();
    let other = info["sample_openids"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .find(|o| *o != quiet)
        .unwrap()
        .to_string();
    let follower = w.follower().await.with_handler(Arc::new(InteractionEvents));
    let mut rx = follower.subscribe();
    w.authorize_in_browser(&oa, AuthScope::Oa).await;
    follow_until(&follower, &mut rx, |n| {
        matches!(n, FeedNotice::AccountAuthorized { .. })
    })
    .await;

    // The relay forwards menu events as raw XML (kind `other`); the handler reads them.
    for (openid, event) in [(&other, "VIEW"), (&quiet, "CLICK")] {
        post(
            &w,
            "/__sim/event",
            json!({"authorizer_appid": oa, "openid": openid, "event": event, "event_key": "MENU_ORDER"}),
        )
        .await;
        until_event(&follower, &mut rx, "other").await;
    }
    let sim_now = w.sandbox.sim_state()["now"].as_i64().unwrap();
    let page = windows(&w, &oa, sim_now).await;
    assert_eq!(page.total, 1, "{page:?}");
    let row = &page.rows[0];
    assert_eq!((&row.openid, row.kind), (&quiet, InteractionKind::Click));
    assert_eq!(row.preview, "");
    assert_eq!(row.window_until, row.last_at + EVENT_WINDOW_SECS);

    let engine = SendEngine::new(
        w.store.clone(),
        platform_send_api(&w.platform).await.unwrap(),
        EngineConfig::default(),
    );
    let send = |to: &str| JobSpec {
        appid: oa.clone(),
        title: format!("客服消息 {to}"),
        payload: Payload::CustomText {
            content: "菜单：查询订单".into(),
        },
        field_rules: Vec::new(),
        concurrency: None,
        rate_per_sec: None,
        max_attempts: None,
    };
    let outcome = |job: i64| {
        let store = w.store.clone();
        async move {
            let filter = HistoryFilter {
                job_id: Some(job),
                ..Default::default()
            };
            let rows = History::new(store)
                .list(filter, None, Some(10))
                .await
                .unwrap()
                .rows;
            (rows[0].state, rows[0].errcode)
        }
    };
    let job = engine
        .create_and_start(send(&quiet), [Recipient::new(quiet.clone())])
        .await
        .unwrap();
    engine.wait_idle(job).await.unwrap();
    assert_eq!(outcome(job).await, (RecipientState::Sent, Some(0)));

    // A minute later the window is shut: gone from the list, and WeChat refuses.
    post(
        &w,
        "/__sim/advance-clock",
        json!({"secs": 61, "tickets": false}),
    )
    .await;
    let sim_now = w.sandbox.sim_state()["now"].as_i64().unwrap();
    assert!(windows(&w, &oa, sim_now).await.rows.is_empty());
    let job = engine
        .create_and_start(send(&quiet), [Recipient::new(quiet.clone())])
        .await
        .unwrap();
    engine.wait_idle(job).await.unwrap();
    assert_eq!(
        outcome(job).await,
        (RecipientState::FailedPermanent, Some(45015))
    );
}
