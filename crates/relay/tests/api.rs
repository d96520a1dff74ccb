//! The private API (bearer key, long-poll, egress), the authorization pages and /healthz,
//! against the real binary.

mod common;

use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::{Method, StatusCode, Uri};
use axum::routing::any;
use common::*;

/// A desk with a wrong key uploading several MiB hears 401, not a broken pipe: the relay reads
/// the rest of a refused body before answering (`http::finish_reading_body`), and the pooled
/// connection stays good for the next request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_upload_is_answered_401_not_reset() {
    let dir = tempfile::tempdir().expect("tempdir");
    let relay = Relay::spawn(dir.path(), &[]);
    let upload = vec![b'x'; 8 << 20];
    let c = client();
    for round in 0..5 {
        let resp = c
            .post(relay.url("/api/v1/wechat/cgi-bin/media/upload?type=image"))
            .bearer_auth("relay-test-api-key-5f3e9a0d")
            .body(upload.clone())
            .send()
            .await
            .unwrap_or_else(|e| panic!("round {round}: {e:?}"));
        assert_eq!(resp.status().as_u16(), 401, "round {round}");
    }
    let (status, _) = api_get(&relay, "/api/v1/events?after=0").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn the_api_answers_401_without_or_with_a_wrong_key_and_reveals_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let relay = Relay::spawn(dir.path(), &[]);
    post_component(
        &relay,
        &authorized_xml("wxaaaaaaaaaaaaaaa1", "code-secret-ish", now()),
    )
    .await;
    post_component(&relay, &ticket_xml("ticket@@@t", now())).await;
    for path in [
        "/api/v1/events?after=0",
        "/api/v1/ticket",
        "/api/v1/wechat/cgi-bin/token",
    ] {
        let c = client();
        let without = c.get(relay.url(path)).send().await.expect("get");
        let wrong = c
            .get(relay.url(path))
            .bearer_auth("relay-test-api-key-5f3e9a0d")
            .send()
            .await
            .expect("get");
        let prefix = c
            .get(relay.url(path))
            .bearer_auth(&API_KEY[..10])
            .send()
            .await
            .expect("get");
        let basic = c
            .get(relay.url(path))
            .basic_auth("x", Some(API_KEY))
            .send()
            .await
            .expect("get");
        for resp in [without, wrong, prefix, basic] {
            assert_eq!(resp.status().as_u16(), 401, "{path}");
            let body = resp.text().await.expect("body");
            assert_eq!(
                body, r#"{"error":"unauthorized"}"#,
                "nothing but the refusal: {path}"
            );
        }
    }
    let (status, _) = api_get(&relay, "/api/v1/events?after=0").await;
    assert_eq!(status, 200, "the right key works");
}

#[tokio::test]
async fn an_authorization_event_reaches_a_client_already_waiting_on_the_long_poll() {
    let dir = tempfile::tempdir().expect("tempdir");
    let relay = Relay::spawn(dir.path(), &[]);
    let url = relay.url("/api/v1/events?after=0&wait=25");
    let mut waiting = tokio::spawn(async move {
        let resp = client()
            .get(url)
            .bearer_auth(API_KEY)
            .send()
            .await
            .expect("long-poll");
        (
            resp.status().as_u16(),
            resp.json::<serde_json::Value>().await.expect("json"),
        )
    });
    // The poll must be holding (not answered empty) before the push arrives.
    assert!(
        tokio::time::timeout(Duration::from_millis(500), &mut waiting)
            .await
            .is_err(),
        "the long-poll returned before any event existed"
    );
    let ct = now();
    let resp = post_component(
        &relay,
        &authorized_xml("wxbbbbbbbbbbbbbbb2", "queryauthcode@@@xyz", ct),
    )
    .await;
    assert_eq!(resp.text().await.expect("body"), "success");

    let (status, body) = waiting.await.expect("join");
    assert_eq!(status, 200);
    assert_eq!(body["last_seq"], 1);
    let ev = &body["events"][0];
    assert_eq!(ev["seq"], 1);
    assert_eq!(ev["kind"], "authorized");
    assert_eq!(ev["appid"], "wxbbbbbbbbbbbbbbb2");
    assert_eq!(ev["data"]["authorizer_appid"], "wxbbbbbbbbbbbbbbb2");
    assert_eq!(ev["data"]["authorization_code"], "queryauthcode@@@xyz");
    assert_eq!(ev["data"]["create_time"], ct);
    assert_eq!(ev["data"]["authorization_code_expired_time"], ct + 600);
}

#[tokio::test]
async fn the_event_feed_pages_after_a_cursor_and_reports_the_head_when_empty() {
    let dir = tempfile::tempdir().expect("tempdir");
    let relay = Relay::spawn(dir.path(), &[]);
    for i in 0..5 {
        post_component(
            &relay,
            &authorized_xml(&format!("wxcccccccccccccc{i:02}"), "c", now()),
        )
        .await;
    }
    let (_, page) = api_get(&relay, "/api/v1/events?after=1&limit=2").await;
    let seqs: Vec<i64> = page["events"]
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|e| e["seq"].as_i64())
        .collect();
    assert_eq!(seqs, vec![2, 3]);
    assert_eq!(page["last_seq"], 3);
    assert_eq!(page["first_seq"], 1, "nothing pruned: the log starts at 1");
    let (_, empty) = api_get(&relay, "/api/v1/events?after=5&wait=0").await;
    assert_eq!(empty["events"].as_array().map(Vec::len), Some(0));
    assert_eq!(empty["last_seq"], 5);
    assert_eq!(empty["first_seq"], 1);
    let (status, bad) = api_get(&relay, "/api/v1/events?after=-3").await;
    assert_eq!(status, 400);
    assert_eq!(bad["error"], "bad_query");
}

/// Send a request exactly as written (no client-side path normalisation); returns the status
/// code and the body (after the blank line).
async fn raw_request(relay: &Relay, method: &str, target: &str) -> (String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = relay.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let req = format!(
        "{method} {target} HTTP/1.1\r\nHost: relay\r\nAuthorization: Bearer {API_KEY}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(req.as_bytes()).await.expect("write");
    let mut buf = Vec::new();
    stream.read_to_end(&mut buf).await.expect("read");
    let text = String::from_utf8_lossy(&buf);
    let status = text
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

#[derive(Clone, Default)]
struct Seen(std::sync::Arc<std::sync::Mutex<Vec<Forwarded>>>);

/// (method, path, query, body) as the upstream received them.
type Forwarded = (String, String, Option<String>, String);

#[tokio::test]
async fn egress_forwards_method_path_query_and_body_and_returns_the_upstream_answer() {
    // A tiny upstream standing in for api.weixin.qq.com.
    let seen = Seen::default();
    let s2 = seen.clone();
    let upstream = Router::new().fallback(any(move |method: Method, uri: Uri, body: Bytes| {
        let s2 = s2.clone();
        async move {
            s2.0.lock().expect("lock").push((
                method.to_string(),
                uri.path().to_owned(),
                uri.query().map(str::to_owned),
                String::from_utf8_lossy(&body).into_owned(),
            ));
            (
                StatusCode::CREATED,
                [("content-type", "application/json; encoding=utf-8")],
                r#"{"errcode":0,"errmsg":"ok","msgid":200163836}"#,
            )
        }
    }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, upstream).await });

    let dir = tempfile::tempdir().expect("tempdir");
    let relay = Relay::spawn(
        dir.path(),
        &[("WXDESK_RELAY_UPSTREAM", &format!("http://{addr}"))],
    );
    let resp = client()
        .post(relay.url("/api/v1/wechat/cgi-bin/message/template/send?access_token=AT%40123"))
        .bearer_auth(API_KEY)
        .header("content-type", "application/json")
        .body(r#"{"touser":"o1","template_id":"t"}"#)
        .send()
        .await
        .expect("egress");
    assert_eq!(
        resp.status().as_u16(),
        201,
        "the upstream status is passed through"
    );
    assert_eq!(
        resp.headers()["content-type"],
        "application/json; encoding=utf-8"
    );
    assert_eq!(
        resp.text().await.expect("body"),
        r#"{"errcode":0,"errmsg":"ok","msgid":200163836}"#
    );
    let got = seen.0.lock().expect("lock").clone();
    assert_eq!(
        got,
        vec![(
            "POST".to_owned(),
            "/cgi-bin/message/template/send".to_owned(),
            Some("access_token=AT%40123".to_owned()),
            r#"{"touser":"o1","template_id":"t"}"#.to_owned()
        )]
    );
    assert!(
        !relay.logs().contains("AT%40123"),
        "the access token never reaches the logs"
    );

    // Everything else is refused before any request is made, with a JSON reason. (Sent raw: an
    // HTTP client would normalise dot segments away before sending.)
    let refusals = [
        // Only GET and POST.
        (
            "PUT",
            "/api/v1/wechat/cgi-bin/message/template/send",
            "405",
            "method_not_allowed",
        ),
        (
            "DELETE",
            "/api/v1/wechat/cgi-bin/token",
            "405",
            "method_not_allowed",
        ),
        (
            "PATCH",
            "/api/v1/wechat/cgi-bin/token",
            "405",
            "method_not_allowed",
        ),
        // Only the product's API families.
        (
            "POST",
            "/api/v1/wechat/cgi-bin/menu/create",
            "403",
            "path_not_allowed",
        ),
        (
            "GET",
            "/api/v1/wechat/cgi-bin/menu/create?x=/cgi-bin/token",
            "403",
            "path_not_allowed",
        ),
        (
            "GET",
            "/api/v1/wechat/cgi-bin/tokenx",
            "403",
            "path_not_allowed",
        ),
        // Traversal, encoding, empty segments, anything URL-like.
        (
            "GET",
            "/api/v1/wechat/cgi-bin/%2e%2e/%2E%2e/secret",
            "400",
            "bad_path",
        ),
        (
            "GET",
            "/api/v1/wechat/cgi-bin/../cgi-bin/token",
            "400",
            "bad_path",
        ),
        ("GET", "/api/v1/wechat/cgi-bin%2Ftoken", "400", "bad_path"),
        (
            "GET",
            "/api/v1/wechat/cgi-bin/token%3Fx=1",
            "400",
            "bad_path",
        ),
        (
            "GET",
            "/api/v1/wechat//evil.example/cgi-bin/token",
            "400",
            "bad_path",
        ),
        (
            "GET",
            "/api/v1/wechat/http://evil.example/cgi-bin/token",
            "400",
            "bad_path",
        ),
        ("GET", "/api/v1/wechat/cgi-bin/token;x=1", "400", "bad_path"),
        ("GET", "/api/v1/wechat/cgi-bin/token/", "400", "bad_path"),
    ];
    for (method, target, status, error) in refusals {
        let (got, body) = raw_request(&relay, method, target).await;
        assert_eq!(got, status, "{method} {target}: {body}");
        let v: serde_json::Value = serde_json::from_str(&body).expect("a JSON refusal");
        assert_eq!(v["error"], error, "{method} {target}");
        let reason = v["reason"].as_str().expect("a reason");
        assert!(
            reason.contains(" / ") && !reason.is_ascii(),
            "Chinese, then English: {reason}"
        );
    }
    assert_eq!(
        seen.0.lock().expect("lock").len(),
        1,
        "nothing refused reached the upstream"
    );

    // A GET on an allowed path goes through too.
    let (status, _) = raw_request(
        &relay,
        "GET",
        "/api/v1/wechat/cgi-bin/token?grant_type=client_credential",
    )
    .await;
    assert_eq!(status, "201");
    assert_eq!(seen.0.lock().expect("lock").len(), 2);
}

#[tokio::test]
async fn healthz_reports_the_ticket_age_and_nothing_secret() {
    let dir = tempfile::tempdir().expect("tempdir");
    let relay = Relay::spawn(dir.path(), &[]);
    let before: serde_json::Value = client()
        .get(relay.url("/healthz"))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(before["status"], "ok");
    assert_eq!(before["ticket_age_secs"], serde_json::Value::Null);
    post_component(&relay, &ticket_xml("ticket@@@h", now() - 120)).await;
    let resp = client()
        .get(relay.url("/healthz"))
        .send()
        .await
        .expect("get");
    let text = resp.text().await.expect("body");
    assert!(!text.contains("ticket@@@h"));
    let after: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert!(
        after["ticket_age_secs"]
            .as_i64()
            .is_some_and(|a| (120..180).contains(&a)),
        "{after}"
    );
    assert_eq!(after["ticket_fresh"], true);
}

#[tokio::test]
async fn sigterm_ends_a_pending_long_poll_and_exits_cleanly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let relay = Relay::spawn(dir.path(), &[]);
    let url = relay.url("/api/v1/events?after=0&wait=30");
    let waiting = tokio::spawn(async move {
        client()
            .get(url)
            .bearer_auth(API_KEY)
            .send()
            .await
            .map(|r| r.status().as_u16())
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let clean = tokio::task::spawn_blocking(move || relay.terminate())
        .await
        .expect("join");
    assert!(clean, "exit status 0 after SIGTERM");
    // The poll was answered (empty) rather than cut off mid-flight.
    assert_eq!(waiting.await.expect("join").ok(), Some(200));
}

#[tokio::test]
async fn the_keys_route_answers_fingerprints_a_desk_can_compare_and_never_a_secret() {
    use wxdesk_wechat::crypto::fingerprint::{KeyKind, fingerprint_matches};
    let dir = tempfile::tempdir().expect("tempdir");
    let relay = Relay::spawn(
        dir.path(),
        &[("WXDESK_RELAY_COMPONENT_AES_KEY_PREVIOUS", OLD_AES_KEY)],
    );
    let nonce = "desk0nonce0123456789abcdef";
    let (status, keys) = api_get(&relay, &format!("/api/v1/keys?nonce={nonce}")).await;
    assert_eq!(status, 200, "{keys}");
    assert_eq!(keys["component_appid"], COMPONENT_APPID);
    let fp = |k: &str| keys[k].as_str().unwrap_or_default().to_owned();
    assert!(fingerprint_matches(
        KeyKind::Token,
        TOKEN,
        nonce,
        &fp("token")
    ));
    assert!(fingerprint_matches(
        KeyKind::AesKey,
        AES_KEY,
        nonce,
        &fp("aes_key")
    ));
    assert!(fingerprint_matches(
        KeyKind::AesKey,
        OLD_AES_KEY,
        nonce,
        &fp("aes_key_previous")
    ));
    // A wrong secret, or the right one for another nonce, does not match.
    assert!(!fingerprint_matches(
        KeyKind::Token,
        "relayTestToken7732",
        nonce,
        &fp("token")
    ));
    assert!(!fingerprint_matches(
        KeyKind::Token,
        TOKEN,
        "another0nonce0123456789",
        &fp("token")
    ));
    let body = keys.to_string();
    for secret in [TOKEN, AES_KEY, OLD_AES_KEY, API_KEY] {
        assert!(!body.contains(secret), "no secret in the answer: {body}");
    }

    // Behind the bearer key like the rest of the API; a nonce that is not one is refused.
    let without = client()
        .get(relay.url(&format!("/api/v1/keys?nonce={nonce}")))
        .send()
        .await
        .expect("get");
    assert_eq!(without.status().as_u16(), 401);
    for bad in ["", "?nonce=short", "?nonce=has/slash0123456789"] {
        let (status, body) = api_get(&relay, &format!("/api/v1/keys{bad}")).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(body["error"], "bad_query");
    }
}
