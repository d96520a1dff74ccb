//! The full-network release (全网发布) cases on the message URL, and EncodingAESKey rotation.

mod common;

use common::*;
use wxdesk_wechat::crypto::{Envelope, MsgCrypt};

/// Read one element's text (CDATA or not) from the reply envelope.
fn element(xml: &str, name: &str) -> String {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = xml
        .find(&open)
        .map(|i| i + open.len())
        .expect("element present");
    let end = xml[start..]
        .find(&close)
        .map(|i| i + start)
        .expect("element closed");
    let v = &xml[start..end];
    v.strip_prefix("<![CDATA[")
        .and_then(|v| v.strip_suffix("]]>"))
        .unwrap_or(v)
        .to_owned()
}

/// Check the passive reply the way WeChat does (signature over its own TimeStamp and Nonce),
/// and decrypt it; returns (ToUserName, FromUserName, MsgType, Content) of the plaintext.
fn open_reply(crypt: &MsgCrypt, reply: &str) -> (String, String, String, String) {
    let encrypt = element(reply, "Encrypt");
    let sig = element(reply, "MsgSignature");
    let ts = element(reply, "TimeStamp");
    let nonce = element(reply, "Nonce");
    assert_eq!(
        sig,
        crypt.msg_signature(&ts, &nonce, &encrypt),
        "reply signature"
    );
    let plain = crypt
        .decrypt(&encrypt)
        .expect("reply decrypts with our key and component appid");
    (
        element(&plain, "ToUserName"),
        element(&plain, "FromUserName"),
        element(&plain, "MsgType"),
        element(&plain, "Content"),
    )
}

const TEST_APPID: &str = "wx570bc396a51b8ff8";
const TEST_GH: &str = "gh_3c884a361561";
const TESTER: &str = "ozy4qt5QUADNXORxCVipKMV9dss0";

#[tokio::test]
async fn the_text_case_gets_an_encrypted_passive_reply_with_the_callback_suffix() {
    let dir = tempfile::tempdir().expect("tempdir");
    let relay = Relay::spawn(dir.path(), &[]);
    let resp = post_message(
        &relay,
        TEST_APPID,
        TEST_GH,
        &text_xml(TEST_GH, TESTER, "TESTCOMPONENT_MSG_TYPE_TEXT", 1),
    )
    .await;
    assert_eq!(resp.status().as_u16(), 200);
    let reply = resp.text().await.expect("body");
    let (to, from, msg_type, content) = open_reply(&crypt(), &reply);
    assert_eq!(content, "TESTCOMPONENT_MSG_TYPE_TEXT_callback");
    assert_eq!(to, TESTER, "the reply goes back to the sender");
    assert_eq!(from, TEST_GH);
    assert_eq!(msg_type, "text");
    assert!(
        all_events(&relay).await.is_empty(),
        "test traffic is not business data"
    );
}

#[tokio::test]
async fn an_event_on_a_test_account_is_answered_with_event_from_callback() {
    let dir = tempfile::tempdir().expect("tempdir");
    let relay = Relay::spawn(dir.path(), &[]);
    let location = format!(
        "<xml><ToUserName><![CDATA[{TEST_GH}]]></ToUserName><FromUserName><![CDATA[{TESTER}]]></FromUserName>\
         <CreateTime>{}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[LOCATION]]></Event>\
         <Latitude>23.137466</Latitude><Longitude>113.352425</Longitude><Precision>119.385040</Precision></xml>",
        now()
    );
    let reply = post_message(&relay, TEST_APPID, TEST_GH, &location)
        .await
        .text()
        .await
        .expect("body");
    let (to, _, msg_type, content) = open_reply(&crypt(), &reply);
    assert_eq!(content, "LOCATIONfrom_callback");
    assert_eq!(to, TESTER);
    assert_eq!(msg_type, "text");
}

#[tokio::test]
async fn query_auth_code_is_answered_at_once_and_handed_to_the_app_as_an_event() {
    let dir = tempfile::tempdir().expect("tempdir");
    let relay = Relay::spawn(dir.path(), &[]);
    let text = text_xml(TEST_GH, TESTER, "QUERY_AUTH_CODE:queryauthcode@@@Nz9", 7);
    let resp = post_message(&relay, TEST_APPID, TEST_GH, &text).await;
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.text().await.expect("body"), "success");
    let events = all_events(&relay).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["kind"], "query_auth_code");
    assert_eq!(events[0]["appid"], TEST_APPID);
    assert_eq!(
        events[0]["data"],
        serde_json::json!({ "openid": TESTER, "query_auth_code": "queryauthcode@@@Nz9", "to_user_name": TEST_GH })
    );
}

#[tokio::test]
async fn query_auth_code_from_any_other_account_is_stored_as_an_ordinary_text() {
    let dir = tempfile::tempdir().expect("tempdir");
    let relay = Relay::spawn(dir.path(), &[]);
    let real_appid = "wx1111111111111111";
    let real_gh = "gh_0123456789ab";
    // A follower of a real client account, and a push replayed under a test account's path:
    // neither may make the app exchange a code and message someone.
    let cases = [
        (real_appid, real_gh, 11),
        (TEST_APPID, real_gh, 12),
        (real_appid, TEST_GH, 13),
    ];
    for (appid, gh, msg_id) in cases {
        let text = text_xml(gh, TESTER, "QUERY_AUTH_CODE:queryauthcode@@@forged", msg_id);
        let resp = post_message(&relay, appid, gh, &text).await;
        assert_eq!(resp.status().as_u16(), 200);
        assert_eq!(resp.text().await.expect("body"), "success");
    }
    let events = all_events(&relay).await;
    let kinds: Vec<_> = events.iter().map(|e| e["kind"].clone()).collect();
    assert_eq!(kinds, ["text", "text", "text"], "{events:?}");
    assert_eq!(events[0]["appid"], real_appid);
    assert_eq!(
        events[0]["data"]["content"],
        "QUERY_AUTH_CODE:queryauthcode@@@forged"
    );
}

#[tokio::test]
async fn during_a_key_rotation_pushes_under_the_previous_key_are_accepted_and_answered_with_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The console now has AES_KEY; WeChat may still use OLD_AES_KEY for a while.
    let relay = Relay::spawn(
        dir.path(),
        &[("WXDESK_RELAY_COMPONENT_AES_KEY_PREVIOUS", OLD_AES_KEY)],
    );
    let old = MsgCrypt::new(TOKEN, OLD_AES_KEY, COMPONENT_APPID).expect("crypt");

    let (status, body) = {
        let resp = post_component_with(
            &relay,
            &old,
            &ticket_xml("ticket@@@under-old-key", now()),
            now(),
        )
        .await;
        (resp.status().as_u16(), resp.text().await.expect("body"))
    };
    assert_eq!((status, body.as_str()), (200, "success"));
    let (_, t) = api_get(&relay, "/api/v1/ticket").await;
    assert_eq!(t["ticket"], "ticket@@@under-old-key");

    let (query, body) = seal(
        &old,
        &text_xml(TEST_GH, TESTER, "TESTCOMPONENT_MSG_TYPE_TEXT", 2),
        Envelope::ToUserName(TEST_GH.into()),
        now(),
    );
    let reply = client()
        .post(relay.url(&format!("/wechat/{TEST_APPID}/callback?{query}")))
        .body(body)
        .send()
        .await
        .expect("post")
        .text()
        .await
        .expect("body");
    // The reply is encrypted with the key that opened the request, which the sender still has.
    assert_eq!(
        open_reply(&old, &reply).3,
        "TESTCOMPONENT_MSG_TYPE_TEXT_callback"
    );
}
