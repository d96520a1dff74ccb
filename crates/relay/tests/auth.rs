//! The authorization pages against the real binary: `/auth/start` leads to WeChat's page, and
//! `/auth/callback` records a code — both only with a state the desk signed with the relay key.

mod common;

use common::*;
use wxdesk_relay::auth_state;

/// A state as the desk issues it (same key as the relay's API key), for an attempt at `at`.
fn state_at(key: &str, at: i64, nonce: u8) -> String {
    auth_state::issue(key, at, [nonce; auth_state::NONCE_LEN])
}

fn genuine(nonce: u8) -> String {
    state_at(API_KEY, now(), nonce)
}

async fn get(relay: &Relay, path: &str) -> (u16, String) {
    let resp = client().get(relay.url(path)).send().await.expect("get");
    let status = resp.status().as_u16();
    (status, resp.text().await.expect("body"))
}

#[tokio::test]
async fn the_auth_start_page_leads_to_the_login_page_with_an_encoded_redirect_uri() {
    let dir = tempfile::tempdir().expect("tempdir");
    let relay = Relay::spawn(
        dir.path(),
        &[("WXDESK_RELAY_LOGIN_BASE", "http://127.0.0.1:9")],
    );
    let st = genuine(1);
    let resp = client()
        .get(relay.url(&format!(
            "/auth/start?pre_auth_code=preauthcode%40%40%40abc&auth_type=1&state={st}"
        )))
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.headers()["referrer-policy"], "origin");
    let html = resp.text().await.expect("body");
    let want = format!(
        "http://127.0.0.1:9/cgi-bin/componentloginpage?component_appid=wx5a9d0c0e7f3b1a2c\
         &pre_auth_code=preauthcode%40%40%40abc\
         &redirect_uri=https%3A%2F%2Frelay.example.com%2Fauth%2Fcallback%3Fstate%3D{st}&auth_type=1"
    );
    assert!(
        html.contains(&format!("window.location.href = \"{want}\"")),
        "{html}"
    );
    assert!(
        html.contains(&want.replace('&', "&amp;")),
        "a visible link too: {html}"
    );
    assert!(html.contains("前往授权"));

    let st = genuine(2);
    let (status, mobile) = get(
        &relay,
        &format!(
            "/auth/start?pre_auth_code=p&auth_type=3&mobile=1&biz_appid=wx1111111111111111&state={st}"
        ),
    )
    .await;
    assert_eq!(status, 200);
    assert!(mobile.contains(&format!(
        "http://127.0.0.1:9/safe/bindcomponent?action=bindcomponent&no_scan=1&component_appid=wx5a9d0c0e7f3b1a2c\
         &pre_auth_code=p&redirect_uri=https%3A%2F%2Frelay.example.com%2Fauth%2Fcallback%3Fstate%3D{st}&auth_type=3\
         &biz_appid=wx1111111111111111#wechat_redirect"
    )), "{mobile}");

    let (status, missing) = get(&relay, &format!("/auth/start?auth_type=1&state={st}")).await;
    assert_eq!(status, 400);
    assert!(missing.contains("缺少预授权码"));
}

#[tokio::test]
async fn the_auth_start_page_refuses_a_link_without_a_genuine_state() {
    let dir = tempfile::tempdir().expect("tempdir");
    let relay = Relay::spawn(
        dir.path(),
        &[("WXDESK_RELAY_LOGIN_BASE", "http://127.0.0.1:9")],
    );
    let forged = state_at("another-relay-key-0123456789", now(), 3);
    for (query, status, says) in [
        ("", 400, "缺少 state"),
        ("&state=s1", 400, "state 参数无效"),
        (&format!("&state={forged}") as &str, 403, "中继密钥不一致"),
    ] {
        let (got, html) = get(
            &relay,
            &format!("/auth/start?pre_auth_code=preauthcode%40%40%40abc&auth_type=1{query}"),
        )
        .await;
        assert_eq!(got, status, "{query}: {html}");
        assert!(html.contains(says), "{query}: {html}");
        assert!(
            html.contains("重新发起授权") && html.contains("Please start"),
            "{html}"
        );
        assert!(
            !html.contains("componentloginpage"),
            "no way on to WeChat's page: {html}"
        );
    }
}

#[tokio::test]
async fn the_auth_callback_records_the_code_once_and_refuses_a_missing_or_stale_code() {
    let dir = tempfile::tempdir().expect("tempdir");
    let relay = Relay::spawn(dir.path(), &[]);
    let st = genuine(4);
    for _ in 0..2 {
        let (status, html) = get(
            &relay,
            &format!("/auth/callback?state={st}&auth_code=queryauthcode%40%40%40cb&expires_in=600"),
        )
        .await;
        assert_eq!(status, 200);
        assert!(html.contains("授权完成，可关闭此页"));
    }
    let (status, missing) = get(&relay, &format!("/auth/callback?state={st}&expires_in=600")).await;
    assert_eq!(status, 400);
    assert!(missing.contains("缺少授权码"));
    let (status, stale) = get(
        &relay,
        &format!("/auth/callback?state={st}&auth_code=x&expires_in=0"),
    )
    .await;
    assert_eq!(status, 400);
    assert!(stale.contains("授权码已过期"));

    let events = all_events(&relay).await;
    assert_eq!(
        events.len(),
        1,
        "a reload does not record the code twice: {events:?}"
    );
    assert_eq!(events[0]["kind"], "auth_callback");
    assert_eq!(events[0]["appid"], serde_json::Value::Null);
    assert_eq!(
        events[0]["data"],
        serde_json::json!({ "auth_code": "queryauthcode@@@cb", "expires_in": 600, "state": st })
    );
}

#[tokio::test]
async fn a_forged_callback_is_refused_with_a_page_and_stores_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let relay = Relay::spawn(dir.path(), &[]);
    let good = genuine(5);
    // Same attempt, one character of the MAC changed.
    let mut tampered = good.clone().into_bytes();
    let last = tampered.len() - 1;
    tampered[last] = if tampered[last] == b'0' { b'1' } else { b'0' };
    let tampered = String::from_utf8(tampered).expect("ascii");
    // A later expiry with the genuine MAC.
    let (head, mac) = good.rsplit_once('.').expect("four parts");
    let (rest, nonce) = head.rsplit_once('.').expect("four parts");
    let exp: i64 = rest.trim_start_matches("v1.").parse().expect("expiry");
    let extended = format!("v1.{}.{nonce}.{mac}", exp + 3600);
    let cases = [
        ("no state".to_owned(), None, 400),
        ("empty state".to_owned(), Some(String::new()), 400),
        ("made up".to_owned(), Some("s1".to_owned()), 400),
        (
            "another relay key".to_owned(),
            Some(state_at("another-relay-key-0123456789", now(), 6)),
            403,
        ),
        (
            "expired".to_owned(),
            Some(state_at(API_KEY, now() - auth_state::TTL_SECS - 60, 7)),
            403,
        ),
        ("tampered MAC".to_owned(), Some(tampered), 403),
        ("extended expiry".to_owned(), Some(extended), 403),
    ];
    for (i, (name, st, status)) in cases.iter().enumerate() {
        let state_param = st
            .as_ref()
            .map(|s| format!("&state={s}"))
            .unwrap_or_default();
        let resp = client()
            .get(relay.url(&format!(
                "/auth/callback?auth_code=queryauthcode%40%40%40forged{i}&expires_in=600{state_param}"
            )))
            .send()
            .await
            .expect("get");
        assert_eq!(resp.status().as_u16(), *status, "{name}");
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .expect("ascii")
                .starts_with("text/html"),
            "{name}"
        );
        let html = resp.text().await.expect("body");
        assert!(
            html.contains("请回到 wxdesk 重新发起授权") && html.contains("Please start"),
            "{name}: {html}"
        );
        assert!(!html.contains("授权完成"), "{name}: {html}");
    }
    assert!(
        all_events(&relay).await.is_empty(),
        "no forged code reached the event log"
    );
    assert!(
        !relay.logs().contains("forged"),
        "the refused codes are not logged"
    );

    // The genuine state of the same attempt still works afterwards.
    let (status, _) = get(
        &relay,
        &format!("/auth/callback?auth_code=queryauthcode%40%40%40real&expires_in=600&state={good}"),
    )
    .await;
    assert_eq!(status, 200);
    let events = all_events(&relay).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["data"]["auth_code"], "queryauthcode@@@real");
    assert_eq!(events[0]["data"]["state"], good.as_str());
}
