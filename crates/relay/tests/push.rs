//! The authorization-event URL and the message URL against the real binary: what is accepted,
//! what is refused, and that refused pushes leave nothing behind.

mod common;

use common::*;
use wxdesk_wechat::crypto::{Envelope, MsgCrypt};

async fn body_text(resp: reqwest::Response) -> (u16, String) {
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap_or_default())
}

async fn assert_nothing_stored(relay: &Relay) {
    assert!(all_events(relay).await.is_empty(), "no event may be stored");
    let (status, body) = api_get(relay, "/api/v1/ticket").await;
    assert_eq!(status, 404, "no ticket may be stored: {body}");
    assert_eq!(body["error"], "no_ticket");
}

#[tokio::test]
async fn a_valid_ticket_push_is_answered_success_and_served_at_the_ticket_api() {
    let dir = tempfile::tempdir().expect("tempdir");
    let relay = Relay::spawn(dir.path(), &[]);
    let ct = now();
    let (status, body) =
        body_text(post_component(&relay, &ticket_xml("ticket@@@first-ticket", ct)).await).await;
    assert_eq!(
        (status, body.as_str()),
        (200, "success"),
        "WeChat needs exactly `success`"
    );

    let (status, t) = api_get(&relay, "/api/v1/ticket").await;
    assert_eq!(status, 200);
    assert_eq!(t["ticket"], "ticket@@@first-ticket");
    assert_eq!(t["create_time"], ct);
    assert!(
        t["age_secs"].as_i64().is_some_and(|a| (0..60).contains(&a)),
        "{t}"
    );
    assert!(
        all_events(&relay).await.is_empty(),
        "the ticket is never in the event log"
    );

    // The ticket is a secret: it must not be in the logs, nor in clear in the database file.
    let logs = relay.logs();
    assert!(!logs.contains("first-ticket"), "ticket leaked into logs");
    for secret in [AES_KEY, TOKEN, API_KEY] {
        assert!(!logs.contains(secret), "a secret leaked into logs");
    }
    let db = std::fs::read(dir.path().join("relay.sqlite3")).expect("db");
    let wal = std::fs::read(dir.path().join("relay.sqlite3-wal")).unwrap_or_default();
    let needle = b"first-ticket";
    assert!(
        !db.windows(needle.len())
            .chain(wal.windows(needle.len()))
            .any(|w| w == needle),
        "ticket stored in clear"
    );
}

#[tokio::test]
async fn a_replayed_push_is_stored_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let relay = Relay::spawn(dir.path(), &[]);
    let xml = authorized_xml("wxaaaaaaaaaaaaaaa1", "queryauthcode@@@one", now());
    for _ in 0..3 {
        // Each delivery is encrypted afresh (new random prefix), as WeChat's retries are.
        let (status, body) = body_text(post_component(&relay, &xml).await).await;
        assert_eq!((status, body.as_str()), (200, "success"));
    }
    let events = all_events(&relay).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["seq"], 1);
    assert_eq!(events[0]["kind"], "authorized");
    assert_eq!(events[0]["appid"], "wxaaaaaaaaaaaaaaa1");
    assert_eq!(
        events[0]["data"]["authorization_code"],
        "queryauthcode@@@one"
    );
    assert_eq!(events[0]["data"]["pre_auth_code"], "preauthcode@@@abc");
}

#[tokio::test]
async fn a_forged_signature_is_refused_and_nothing_is_stored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let relay = Relay::spawn(dir.path(), &[]);
    // Same AES key, wrong token: the ciphertext is fine, the signature is not ours.
    let forger = MsgCrypt::new("not-the-token", AES_KEY, COMPONENT_APPID).expect("crypt");
    let resp = post_component_with(
        &relay,
        &forger,
        &ticket_xml("ticket@@@forged", now()),
        now(),
    )
    .await;
    let (status, body) = body_text(resp).await;
    assert_eq!(status, 403);
    assert!(body.starts_with("bad_signature"), "{body}");
    assert_nothing_stored(&relay).await;
    assert!(
        relay.logs().contains("bad_signature"),
        "a refusal is logged"
    );
    assert!(!relay.logs().contains("ticket@@@forged"));
}

#[tokio::test]
async fn entity_bombs_are_refused_in_the_envelope_and_inside_the_ciphertext() {
    let dir = tempfile::tempdir().expect("tempdir");
    let relay = Relay::spawn(dir.path(), &[]);
    let bomb_dtd = "<!DOCTYPE xml [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">\
                    <!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\"><!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">]>";

    // 1. Inside a correctly signed and encrypted push.
    let inner = format!(
        "{bomb_dtd}<xml><AppId>{COMPONENT_APPID}</AppId><CreateTime>1</CreateTime>\
         <InfoType>component_verify_ticket</InfoType><ComponentVerifyTicket>&d;</ComponentVerifyTicket></xml>"
    );
    let (status, body) = body_text(post_component(&relay, &inner).await).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.starts_with("xml_forbidden"), "{body}");

    // 2. In the outer envelope, around a valid Encrypt.
    let (query, envelope) = seal(
        &crypt(),
        &ticket_xml("ticket@@@x", now()),
        Envelope::AppId(COMPONENT_APPID.into()),
        now(),
    );
    let hostile = format!("{bomb_dtd}{}", envelope.replace("<AppId>", "<AppId>&d;"));
    let resp = client()
        .post(relay.url(&format!("/wechat/component?{query}")))
        .body(hostile)
        .send()
        .await
        .expect("post");
    let (status, body) = body_text(resp).await;
    assert_eq!(status, 400, "{body}");
    assert_nothing_stored(&relay).await;
}

#[tokio::test]
async fn a_stale_timestamp_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let relay = Relay::spawn(dir.path(), &[]);
    let old = now() - 3600;
    let (status, body) = body_text(
        post_component_with(&relay, &crypt(), &ticket_xml("ticket@@@old", old), old).await,
    )
    .await;
    assert_eq!(status, 403);
    assert!(body.starts_with("stale_timestamp"), "{body}");
    assert_nothing_stored(&relay).await;
}

#[tokio::test]
async fn a_captured_push_is_accepted_when_the_replay_window_is_off() {
    let dir = tempfile::tempdir().expect("tempdir");
    let relay = Relay::spawn(dir.path(), &[("WXDESK_RELAY_REPLAY_WINDOW_SECS", "0")]);
    let old = now() - 3600;
    let (status, body) = body_text(
        post_component_with(&relay, &crypt(), &ticket_xml("ticket@@@captured", old), old).await,
    )
    .await;
    assert_eq!((status, body.as_str()), (200, "success"));
    let (status, t) = api_get(&relay, "/api/v1/ticket").await;
    assert_eq!(status, 200);
    assert_eq!(t["ticket"], "ticket@@@captured");
}

#[tokio::test]
async fn a_replayed_older_ticket_never_replaces_the_newer_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let relay = Relay::spawn(dir.path(), &[]);
    let t = now();
    let newer = ticket_xml("ticket@@@newer", t);
    let older = ticket_xml("ticket@@@older", t - 600);
    for xml in [&newer, &older] {
        let (status, body) = body_text(post_component(&relay, xml).await).await;
        assert_eq!(
            (status, body.as_str()),
            (200, "success"),
            "an old ticket is still acknowledged"
        );
    }
    let (_, got) = api_get(&relay, "/api/v1/ticket").await;
    assert_eq!(got["ticket"], "ticket@@@newer");
    assert_eq!(got["create_time"], t);

    // And a genuinely newer one does replace it.
    post_component(&relay, &ticket_xml("ticket@@@newest", t + 1)).await;
    let (_, got) = api_get(&relay, "/api/v1/ticket").await;
    assert_eq!(got["ticket"], "ticket@@@newest");
}

#[tokio::test]
async fn a_ciphertext_for_another_appid_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let relay = Relay::spawn(dir.path(), &[]);
    // Right token and key, but the FullStr trailer names someone else.
    let other = MsgCrypt::new(TOKEN, AES_KEY, "wx0000000000000bad").expect("crypt");
    let (status, body) = body_text(
        post_component_with(&relay, &other, &ticket_xml("ticket@@@x", now()), now()).await,
    )
    .await;
    assert_eq!(status, 403);
    assert!(body.starts_with("wrong_receiver"), "{body}");
    assert_nothing_stored(&relay).await;
}

#[tokio::test]
async fn malformed_bodies_and_oversized_bodies_get_4xx_and_nothing_is_stored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let relay = Relay::spawn(dir.path(), &[]);
    let c = crypt();
    let ts = now().to_string();
    let nonce = "42";
    let signed = |encrypt: &str| {
        format!(
            "/wechat/component?timestamp={ts}&nonce={nonce}&msg_signature={}",
            c.msg_signature(&ts, nonce, encrypt)
        )
    };
    let cases: Vec<(String, Vec<u8>, u16)> = vec![
        // Not XML at all.
        (signed("x"), b"this is not xml".to_vec(), 400),
        // Invalid UTF-8.
        (signed("x"), vec![0xff, 0xfe, 0x00, 0x3c], 400),
        // Correctly signed, but the Encrypt is not base64.
        (
            signed("@@notbase64@@"),
            b"<xml><AppId>a</AppId><Encrypt>@@notbase64@@</Encrypt></xml>".to_vec(),
            400,
        ),
        // Base64 of a length that is not a whole number of AES blocks.
        (
            signed("QUJD"),
            b"<xml><AppId>a</AppId><Encrypt>QUJD</Encrypt></xml>".to_vec(),
            400,
        ),
        // No Encrypt element.
        (signed(""), b"<xml><AppId>a</AppId></xml>".to_vec(), 400),
        // Missing signature parameters.
        ("/wechat/component".into(), b"<xml/>".to_vec(), 400),
        // 100 KiB: over the body limit.
        (signed("x"), vec![b'a'; 100 * 1024], 413),
    ];
    for (path, body, want) in cases {
        let resp = client()
            .post(relay.url(&path))
            .body(body)
            .send()
            .await
            .expect("post");
        assert_eq!(resp.status().as_u16(), want, "{path}");
    }
    // Message URL: a path segment that is not an appid.
    let resp = client()
        .post(relay.url("/wechat/wx..%2f/callback"))
        .body("x")
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status().as_u16(), 400);
    assert_nothing_stored(&relay).await;
    let health = client()
        .get(relay.url("/healthz"))
        .send()
        .await
        .expect("relay still up");
    assert_eq!(
        health.status().as_u16(),
        200,
        "no input may crash the relay"
    );
}

#[tokio::test]
async fn unknown_routes_are_404() {
    let dir = tempfile::tempdir().expect("tempdir");
    let relay = Relay::spawn(dir.path(), &[]);
    for path in [
        "/",
        "/wechat",
        "/api/v2/events",
        "/wechat/component/extra",
        "/.env",
    ] {
        let resp = client().get(relay.url(path)).send().await.expect("get");
        assert_eq!(resp.status().as_u16(), 404, "{path}");
    }
}

#[tokio::test]
async fn messages_and_events_are_stored_with_their_appid_and_deduplicated_by_msgid() {
    let dir = tempfile::tempdir().expect("tempdir");
    let relay = Relay::spawn(dir.path(), &[]);
    let appid = "wx1111111111111111";
    let text = text_xml(
        "gh_aaaaaaaaaaaa",
        "oUser1",
        "你好",
        6_000_000_000_000_000_001,
    );
    for _ in 0..2 {
        let resp = post_message(&relay, appid, "gh_aaaaaaaaaaaa", &text).await;
        assert_eq!(resp.text().await.expect("body"), "success");
    }
    let report = format!(
        "<xml><ToUserName><![CDATA[gh_aaaaaaaaaaaa]]></ToUserName><FromUserName><![CDATA[oUser1]]></FromUserName>\
         <CreateTime>{}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[TEMPLATESENDJOBFINISH]]></Event>\
         <MsgID>200163836</MsgID><Status><![CDATA[failed:user block]]></Status></xml>",
        now()
    );
    assert_eq!(
        post_message(&relay, appid, "gh_aaaaaaaaaaaa", &report)
            .await
            .status()
            .as_u16(),
        200
    );
    let events = all_events(&relay).await;
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0]["kind"], "text");
    assert_eq!(events[0]["appid"], appid);
    assert_eq!(events[0]["data"]["content"], "你好");
    assert_eq!(events[0]["data"]["openid"], "oUser1");
    assert_eq!(events[0]["data"]["msg_id"], 6_000_000_000_000_000_001_i64);
    assert_eq!(events[1]["kind"], "template_send_job_finish");
    assert_eq!(events[1]["data"]["msg_id"], 200163836);
    assert_eq!(events[1]["data"]["status"], "failed:user block");
    assert_eq!(events[1]["seq"], 2);
}

#[tokio::test]
async fn the_echostr_check_answers_the_echostr_only_with_a_valid_signature() {
    let dir = tempfile::tempdir().expect("tempdir");
    let relay = Relay::spawn(dir.path(), &[]);
    let ts = now().to_string();
    let sig = crypt().url_signature(&ts, "777");
    let ok = client()
        .get(relay.url(&format!("/wechat/wx1111111111111111/callback?signature={sig}&timestamp={ts}&nonce=777&echostr=4375120948345356249")))
        .send()
        .await
        .expect("get");
    assert_eq!(ok.status().as_u16(), 200);
    assert_eq!(ok.text().await.expect("body"), "4375120948345356249");
    let bad = client()
        .get(relay.url(&format!(
            "/wechat/wx1111111111111111/callback?signature=0000&timestamp={ts}&nonce=777&echostr=1"
        )))
        .send()
        .await
        .expect("get");
    assert_eq!(bad.status().as_u16(), 403);
}

#[tokio::test]
async fn a_client_that_stalls_mid_body_is_cut_off_with_408_and_nothing_is_stored() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = tempfile::tempdir().expect("tempdir");
    let relay = Relay::spawn(dir.path(), &[]);
    let addr = relay.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    // Promise 1000 bytes, send 10, then go quiet (slowloris).
    let head = "POST /wechat/component?timestamp=1&nonce=1&msg_signature=x HTTP/1.1\r\nHost: relay\r\nContent-Length: 1000\r\n\r\n<xml><App";
    stream.write_all(head.as_bytes()).await.expect("write");
    let mut buf = vec![0u8; 256];
    let n = stream
        .read(&mut buf)
        .await
        .expect("the relay answers instead of waiting forever");
    let text = String::from_utf8_lossy(&buf[..n]);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert_nothing_stored(&relay).await;
}
