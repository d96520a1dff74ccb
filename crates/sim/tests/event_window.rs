//! The short customer-service window (protocol E: a push-menu click, a follow or a QR scan
//! allows 3 messages within 1 minute) and `POST /__sim/event`, over real HTTP on loopback.

mod common;

use common::{Env, errcode, field};
use serde_json::{Value, json};
use wxdesk_sim::SimConfig;

fn cfg() -> SimConfig {
    SimConfig {
        seed: 7,
        ..SimConfig::default()
    }
}

struct Account {
    appid: String,
    send: String,
    /// A follower who never wrote (no window from the generated past).
    quiet: String,
    /// Someone who used to follow.
    former: String,
}

async fn service(env: &Env) -> Account {
    let appid = env.appid("service", true).await;
    let (_, aat, _) = env.authorize(&appid).await;
    let acct = env.account(&appid).await;
    let s = |k: &str| acct[k].as_str().unwrap_or_default().to_string();
    Account {
        send: format!("/cgi-bin/message/custom/send?access_token={aat}"),
        quiet: s("quiet_openid"),
        former: s("former_openid"),
        appid,
    }
}

fn text(to: &str) -> Value {
    json!({"touser": to, "msgtype": "text", "text": {"content": "您好"}})
}

async fn event(env: &Env, a: &Account, openid: &str, event: &str) -> Value {
    env.post(
        "/__sim/event",
        json!({"authorizer_appid": a.appid, "openid": openid, "event": event, "event_key": "MENU_ORDER"}),
    )
    .await
}

#[tokio::test]
async fn a_menu_click_is_pushed_and_allows_three_messages() {
    let env = Env::new(cfg()).await;
    let a = service(&env).await;
    assert_eq!(errcode(&env.post(&a.send, text(&a.quiet)).await), 45015);
    assert_eq!(event(&env, &a, &a.quiet, "CLICK").await["ok"], true);
    let pushed = env
        .wait_pushes(1, |_, x| x.contains("<Event><![CDATA[CLICK]]>"))
        .await;
    assert_eq!(pushed[0].0.query.get("openid"), Some(&a.quiet));
    assert_eq!(field(&pushed[0].1, "FromUserName"), Some(a.quiet.clone()));
    assert_eq!(field(&pushed[0].1, "MsgType").as_deref(), Some("event"));
    assert_eq!(
        field(&pushed[0].1, "EventKey").as_deref(),
        Some("MENU_ORDER")
    );
    for _ in 0..3 {
        assert_eq!(errcode(&env.post(&a.send, text(&a.quiet)).await), 0);
    }
    assert_eq!(errcode(&env.post(&a.send, text(&a.quiet)).await), 45047);
}

#[tokio::test]
async fn the_click_window_closes_after_one_minute() {
    let env = Env::new(cfg()).await;
    let a = service(&env).await;
    event(&env, &a, &a.quiet, "CLICK").await;
    env.advance(59.0).await;
    assert_eq!(errcode(&env.post(&a.send, text(&a.quiet)).await), 0);
    env.advance(2.0).await;
    assert_eq!(errcode(&env.post(&a.send, text(&a.quiet)).await), 45015);
}

#[tokio::test]
async fn a_link_menu_or_a_location_report_opens_no_window() {
    let env = Env::new(cfg()).await;
    let a = service(&env).await;
    for ev in ["VIEW", "LOCATION"] {
        assert_eq!(event(&env, &a, &a.quiet, ev).await["ok"], true);
    }
    env.wait_pushes(1, |_, x| x.contains("<Event><![CDATA[LOCATION]]>"))
        .await;
    assert_eq!(errcode(&env.post(&a.send, text(&a.quiet)).await), 45015);
}

#[tokio::test]
async fn following_opens_the_short_window_and_unfollowing_closes_it() {
    let env = Env::new(cfg()).await;
    let a = service(&env).await;
    let follow =
        |openid: &str, f: bool| json!({"authorizer_appid": a.appid, "openid": openid, "follow": f});
    env.post("/__sim/follow", follow(&a.former, true)).await;
    assert_eq!(errcode(&env.post(&a.send, text(&a.former)).await), 0);
    env.post("/__sim/follow", follow(&a.former, false)).await;
    env.post("/__sim/follow", follow(&a.former, true)).await;
    env.advance(61.0).await;
    assert_eq!(errcode(&env.post(&a.send, text(&a.former)).await), 45015);
}

#[tokio::test]
async fn a_click_after_a_message_keeps_the_messages_window_and_allowance() {
    let env = Env::new(cfg()).await;
    let a = service(&env).await;
    env.post(
        "/__sim/message",
        json!({"authorizer_appid": a.appid, "openid": a.quiet, "content": "在吗"}),
    )
    .await;
    event(&env, &a, &a.quiet, "CLICK").await;
    env.advance(3600.0).await;
    for _ in 0..5 {
        assert_eq!(errcode(&env.post(&a.send, text(&a.quiet)).await), 0);
    }
    assert_eq!(errcode(&env.post(&a.send, text(&a.quiet)).await), 45047);
}

#[tokio::test]
async fn events_from_non_followers_or_with_odd_names_are_refused() {
    let env = Env::new(cfg()).await;
    let a = service(&env).await;
    let r = env
        .http
        .post(env.url("/__sim/event"))
        .json(&json!({"authorizer_appid": a.appid, "openid": a.former, "event": "CLICK"}))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), 400);
    let r = env
        .http
        .post(env.url("/__sim/event"))
        .json(&json!({"authorizer_appid": a.appid, "openid": a.quiet, "event": "<x>"}))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), 400);
}

/// `cgi-bin/qrcode/create` and `/__sim/scan`: a verified service account's temporary code; a
/// follower's scan pushes `SCAN` with the scene as `EventKey` and opens the short window; a
/// former follower's scan follows again; an expired or unknown code scans as nothing; an
/// unverified account may not make codes (48001).
#[tokio::test]
async fn a_temporary_qr_code_scanned_pushes_its_scene_and_opens_the_short_window() {
    let env = Env::new(cfg()).await;
    let a = service(&env).await;
    let aat = a.send.rsplit('=').next().unwrap_or_default().to_string();
    let create = format!("/cgi-bin/qrcode/create?access_token={aat}");
    let made = env
        .post(
            &create,
            json!({"expire_seconds": 600, "action_name": "QR_STR_SCENE",
                "action_info": {"scene": {"scene_str": "wxdesk_find_me"}}}),
        )
        .await;
    assert_eq!(made["expire_seconds"], 600, "{made}");
    let url = made["url"].as_str().expect("url").to_string();
    assert!(url.starts_with("http://weixin.qq.com/q/"), "{url}");
    assert!(made["ticket"].as_str().is_some_and(|t| !t.is_empty()));
    for bad in [
        json!({"action_name": "QR_STR_SCENE", "action_info": {"scene": {"scene_str": ""}}}),
        json!({"action_name": "QR_SCENE", "action_info": {"scene": {"scene_id": 0}}}),
        json!({"action_name": "QR_LIMIT_SCENE", "action_info": {"scene": {"scene_id": 1}}}),
    ] {
        assert_eq!(
            errcode(&env.post(&create, bad.clone()).await),
            40053,
            "{bad}"
        );
    }

    assert_eq!(errcode(&env.post(&a.send, text(&a.quiet)).await), 45015);
    let scanned = env
        .post("/__sim/scan", json!({"url": url, "openid": a.quiet}))
        .await;
    assert_eq!(scanned["event"], "SCAN", "{scanned}");
    let pushed = env
        .wait_pushes(1, |_, x| x.contains("<Event><![CDATA[SCAN]]>"))
        .await;
    assert_eq!(field(&pushed[0].1, "FromUserName"), Some(a.quiet.clone()));
    assert_eq!(
        field(&pushed[0].1, "EventKey").as_deref(),
        Some("wxdesk_find_me")
    );
    assert_eq!(errcode(&env.post(&a.send, text(&a.quiet)).await), 0);
    let again = env
        .post("/__sim/scan", json!({"url": url, "openid": a.former}))
        .await;
    assert_eq!(again["event"], "subscribe", "{again}");
    let followed = env
        .wait_pushes(1, |_, x| x.contains("<Event><![CDATA[subscribe]]>"))
        .await;
    assert_eq!(
        field(&followed[0].1, "FromUserName"),
        Some(a.former.clone())
    );
    assert_eq!(
        field(&followed[0].1, "EventKey").as_deref(),
        Some("qrscene_wxdesk_find_me"),
        "a follow through the code carries its scene"
    );
    assert_eq!(
        field(&followed[0].1, "Ticket"),
        made["ticket"].as_str().map(str::to_string)
    );
    assert_eq!(
        env.post(
            "/__sim/scan",
            json!({"url": "http://weixin.qq.com/q/nothing", "openid": a.quiet})
        )
        .await["error"],
        "unknown_code"
    );
    env.advance(601.0).await;
    assert_eq!(
        env.post("/__sim/scan", json!({"url": url, "openid": a.quiet}))
            .await["error"],
        "expired"
    );

    let plain = env.appid("service", false).await;
    let (_, plain_aat, _) = env.authorize(&plain).await;
    let refused = env
        .post(
            &format!("/cgi-bin/qrcode/create?access_token={plain_aat}"),
            json!({"action_name": "QR_STR_SCENE", "action_info": {"scene": {"scene_str": "x"}}}),
        )
        .await;
    assert_eq!(errcode(&refused), 48001);
}
