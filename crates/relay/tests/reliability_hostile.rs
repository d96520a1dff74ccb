//! Hostile traffic interleaved with genuine pushes (issue #10, item 9): forged signatures,
//! replays, malformed and oversized bodies, entity bombs and ciphertexts for another appid mixed
//! into a stream of distinct genuine messages, 8 in flight. Every genuine message is stored
//! exactly once, nothing else is stored, and the relay keeps answering. (push.rs tests each
//! hostile kind alone; durability.rs the kill -9 between bursts.)

mod common;

use std::collections::BTreeMap;

use common::*;
use futures::StreamExt;
use wxdesk_wechat::crypto::{Envelope, MsgCrypt};

/// CI-bounded (the debug relay fsyncs each group commit); the release load generator covers
/// volume.
const GENUINE: i64 = 600;
const AUTHORIZER: &str = "wx1111111111111111";
const GH: &str = "gh_0123456789ab";
const BOMB: &str = "<!DOCTYPE xml [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">\
                    <!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\"><!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">]>";

/// One request; returns its HTTP status.
async fn post(relay: &Relay, query: &str, body: Vec<u8>) -> u16 {
    client()
        .post(relay.url(&format!("/wechat/{AUTHORIZER}/callback?{query}&openid=o1")))
        .body(body)
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

/// The request for step `i`: genuine on most steps, one hostile kind on every fifth.
async fn step(relay: &Relay, i: i64) -> (bool, u16) {
    let c = crypt();
    let msg_id = 7_000_000_000 + i;
    let genuine = text_xml(GH, &format!("oUser{i:020}"), &format!("消息 {i}"), msg_id);
    if i % 5 != 4 {
        let (q, b) = seal(&c, &genuine, Envelope::ToUserName(GH.into()), now());
        return (true, post(relay, &q, b.into_bytes()).await);
    }
    let hostile = match (i / 5) % 6 {
        // Forged: sealed with the right key but signed with a wrong token.
        0 => {
            let forger = MsgCrypt::new(
                "not-the-token",
                "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
                "wx5a9d0c0e7f3b1a2c",
            )
            .expect("crypt");
            let (q, b) = seal(
                &forger,
                &text_xml(GH, "oForged", "x", msg_id + 1_000_000_000),
                Envelope::ToUserName(GH.into()),
                now(),
            );
            post(relay, &q, b.into_bytes()).await
        }
        // Replay of an earlier genuine push (same msgid): must not be stored twice.
        1 => {
            let earlier = text_xml(
                GH,
                &format!("oUser{:020}", i - 1),
                &format!("消息 {}", i - 1),
                msg_id - 1,
            );
            let (q, b) = seal(&c, &earlier, Envelope::ToUserName(GH.into()), now());
            // WeChat retries expect `success`, so a replay may be answered 200; it must just
            // not be stored again (checked below). 299 marks it for the status check.
            let s = post(relay, &q, b.into_bytes()).await;
            return (false, if s == 200 { 299 } else { s });
        }
        // Malformed.
        2 => {
            post(
                relay,
                "timestamp=1&nonce=2&msg_signature=3",
                b"<xml><Encrypt>@@</Encrypt".to_vec(),
            )
            .await
        }
        // Oversized.
        3 => {
            post(
                relay,
                "timestamp=1&nonce=2&msg_signature=3",
                vec![b'<'; 256 * 1024],
            )
            .await
        }
        // Entity bomb inside a correctly sealed push.
        4 => {
            let inner = format!(
                "{BOMB}<xml><ToUserName>{GH}</ToUserName><MsgType>text</MsgType><Content>&d;</Content><MsgId>{}</MsgId></xml>",
                msg_id + 2_000_000_000
            );
            let (q, b) = seal(&c, &inner, Envelope::ToUserName(GH.into()), now());
            post(relay, &q, b.into_bytes()).await
        }
        // A ciphertext made for another component appid.
        _ => {
            let other = MsgCrypt::new(
                "wxdesksandbox",
                "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
                "wx0000000000000000",
            )
            .expect("crypt");
            let (q, b) = seal(
                &other,
                &text_xml(GH, "oOther", "x", msg_id + 3_000_000_000),
                Envelope::ToUserName(GH.into()),
                now(),
            );
            post(relay, &q, b.into_bytes()).await
        }
    };
    (false, hostile)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_requests_interleaved_with_genuine_pushes_store_each_genuine_event_once_and_nothing_else()
 {
    let dir = tempfile::tempdir().expect("tempdir");
    let relay = Relay::spawn(dir.path(), &[]);
    let total = GENUINE * 5 / 4;
    let results: Vec<(bool, u16)> = futures::stream::iter(0..total)
        .map(|i| step(&relay, i))
        .buffer_unordered(8)
        .collect()
        .await;
    let genuine_ok = results.iter().filter(|(g, s)| *g && *s == 200).count() as i64;
    let genuine_sent = results.iter().filter(|(g, _)| *g).count() as i64;
    assert_eq!(
        genuine_ok, genuine_sent,
        "every genuine push was answered success"
    );
    let offenders: Vec<u16> = results
        .iter()
        .filter(|(g, s)| !*g && *s != 299 && !(400..500).contains(s))
        .map(|(_, s)| *s)
        .collect();
    assert!(
        offenders.is_empty(),
        "every hostile request got a 4xx (a replay: 4xx or success without storing): {offenders:?}"
    );

    // Page through the whole log.
    let mut by_msgid: BTreeMap<i64, usize> = BTreeMap::new();
    let mut after = 0;
    loop {
        let (status, body) =
            api_get(&relay, &format!("/api/v1/events?after={after}&limit=1000")).await;
        assert_eq!(status, 200, "{body}");
        let events = body["events"].as_array().cloned().unwrap_or_default();
        if events.is_empty() {
            break;
        }
        for e in &events {
            assert_eq!(e["kind"], "text", "only genuine messages are stored: {e}");
            *by_msgid
                .entry(e["data"]["msg_id"].as_i64().expect("msg_id"))
                .or_default() += 1;
        }
        after = body["last_seq"].as_i64().expect("last_seq");
    }
    assert_eq!(
        by_msgid.len() as i64,
        genuine_sent,
        "every genuine event stored"
    );
    assert!(by_msgid.values().all(|n| *n == 1), "no event stored twice");
    assert!(
        by_msgid
            .keys()
            .all(|m| (7_000_000_000..7_000_000_000 + total).contains(m)),
        "no hostile msgid stored"
    );
    assert!(
        !relay.logs().contains("panicked"),
        "the relay never panicked"
    );
}
