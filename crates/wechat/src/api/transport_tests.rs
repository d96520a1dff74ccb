//! Transport behaviour shared by every endpoint: base URL and relay header, timeouts, status
//! handling, and that no error carries a token.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::json;

use super::*;
use crate::test_server::{Reply, TestServer};

fn secret(s: &str) -> Secret {
    Secret::new(s)
}

async fn setup() -> (TestServer, Client) {
    let server = TestServer::start().await;
    let client = Client::new(ClientConfig::with_base_url(&server.base_url)).unwrap();
    (server, client)
}

#[tokio::test]
async fn relay_base_path_is_kept_and_bearer_header_is_sent() {
    let server = TestServer::start().await;
    let cfg = ClientConfig::via_relay(&format!("{}/", server.base_url), &secret("relay-key"));
    let c = Client::new(cfg).unwrap();
    server.route(
        "/api/v1/wechat/cgi-bin/tags/get",
        Reply::json(json!({"tags": []})),
    );
    c.tags_get(&secret("AT")).await.unwrap();
    let r = server.single();
    assert_eq!(r.path, "/api/v1/wechat/cgi-bin/tags/get");
    assert_eq!(r.headers["authorization"], "Bearer relay-key");
    assert!(!format!("{c:?}").contains("relay-key"));
}

#[tokio::test]
async fn non_json_error_status_is_http_status_and_a_relay_401_is_not_a_wechat_error() {
    let (srv, c) = setup().await;
    srv.route(
        "/cgi-bin/tags/get",
        Reply {
            status: 502,
            content_type: "text/html",
            body: "<html>bad gateway</html>".into(),
        },
    );
    assert!(matches!(
        c.tags_get(&secret("AT")).await,
        Err(Error::HttpStatus { status: 502 })
    ));
    srv.route(
        "/cgi-bin/tags/get",
        Reply {
            status: 401,
            content_type: "application/json",
            body: "{\"error\":\"unauthorized\"}".into(),
        },
    );
    assert!(matches!(
        c.tags_get(&secret("AT")).await,
        Err(Error::HttpStatus { status: 401 })
    ));
}

#[tokio::test]
async fn transport_errors_never_contain_the_token_in_the_url() {
    // Nothing listens on this port (bound then dropped).
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    let c = Client::new(ClientConfig::with_base_url(format!(
        "http://127.0.0.1:{port}"
    )))
    .unwrap();
    let e = c.tags_get(&secret("TOPSECRETTOKEN")).await.unwrap_err();
    assert!(
        matches!(e, Error::Http { reached: false, .. }),
        "never connected: {e:?}"
    );
    assert!(!format!("{e} {e:?}").contains("TOPSECRETTOKEN"));
    // Where and why, not reqwest's bare "error sending request".
    let text = e.to_string();
    assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
    assert!(!text.contains("error sending request"), "{text}");
    assert!(
        text.to_ascii_lowercase().contains("refused") || text.contains("connect"),
        "the cause: {text}"
    );
}

#[tokio::test]
async fn malformed_json_error_does_not_echo_values() {
    let (srv, c) = setup().await;
    srv.route(
        "/cgi-bin/token",
        Reply::json(json!({"access_token": 5, "expires_in": "SECRETISH"})),
    );
    let e = c
        .client_credential_token("wxa", &secret("s"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Json(_)));
    assert!(!e.to_string().contains("SECRETISH"));
    srv.route("/cgi-bin/token", Reply::json(json!({"expires_in": 1})));
    let e = c
        .client_credential_token("wxa", &secret("s"))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("missing field `access_token`"));
}

#[test]
fn bad_base_urls_are_refused() {
    for bad in ["", "ftp://x", "not a url", "mailto:a@b"] {
        assert!(
            Client::new(ClientConfig::with_base_url(bad)).is_err(),
            "{bad}"
        );
    }
}

#[tokio::test]
async fn every_call_is_bounded_by_the_configured_timeout() {
    let server = TestServer::start().await;
    server.route("/cgi-bin/tags/get", Reply::json(json!({"tags": []})));
    // The server answers after 5 s; the client gives up after 100 ms.
    server.set_delay(std::time::Duration::from_secs(5));
    let cfg = ClientConfig {
        timeout: std::time::Duration::from_millis(100),
        ..ClientConfig::with_base_url(&server.base_url)
    };
    let c = Client::new(cfg).unwrap();
    match c.tags_get(&secret("AT")).await {
        Err(Error::Http {
            timeout, detail, ..
        }) => assert!(timeout, "{detail}"),
        other => panic!("expected a timeout, got {other:?}"),
    }
}

#[derive(Debug, serde::Deserialize, PartialEq)]
struct Tags {
    tags: Vec<i64>,
}

#[test]
fn a_nonzero_errcode_wins_over_the_status_and_the_type() {
    let e =
        parse_body::<Tags>(200, br#"{"errcode":40001,"errmsg":"invalid credential"}"#).unwrap_err();
    assert_eq!(e.wechat().map(|w| w.errcode), Some(40001));
    let e = parse_body::<Tags>(500, br#"{"errcode":-1,"errmsg":"system error"}"#).unwrap_err();
    assert_eq!(e.wechat().map(|w| w.errcode), Some(-1));
}

#[test]
fn errcode_zero_or_not_an_integer_leaves_the_typed_body() {
    assert_eq!(
        parse_body::<Tags>(200, br#"{"errcode":0,"errmsg":"ok","tags":[1,2]}"#).unwrap(),
        Tags { tags: vec![1, 2] }
    );
    assert_eq!(
        parse_body::<Tags>(200, br#"{"errcode":"x","tags":[3]}"#).unwrap(),
        Tags { tags: vec![3] }
    );
}

#[test]
fn a_non_json_or_non_object_body_is_the_status_error_or_a_json_error() {
    assert!(matches!(
        parse_body::<Tags>(502, b"<html>bad gateway</html>"),
        Err(Error::HttpStatus { status: 502 })
    ));
    assert!(matches!(
        parse_body::<Tags>(503, b"[1,2]"),
        Err(Error::HttpStatus { status: 503 })
    ));
    assert!(matches!(
        parse_body::<Tags>(200, b"not json"),
        Err(Error::Json(_))
    ));
    assert!(matches!(
        parse_body::<Tags>(200, b"[1,2]"),
        Err(Error::Json(_))
    ));
    assert!(matches!(
        parse_body::<Tags>(200, br#"{"tag":[]}"#),
        Err(Error::Json(m)) if m == "missing field `tags` at line 1 column 10"
    ));
}

/// A server whose tags/get (under any prefix) answers `status` with `Location: location`
/// (`{base}` is replaced by its own address), and which counts the requests to any other path.
async fn redirecting_server(status: u16, location: &str) -> (String, Arc<AtomicUsize>) {
    use axum::http::{StatusCode, Uri, header};
    use axum::response::IntoResponse;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let location = location.replace("{base}", &base);
    let elsewhere = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&elsewhere);
    let app = axum::Router::new().fallback(move |uri: Uri| {
        let (location, seen) = (location.clone(), Arc::clone(&seen));
        async move {
            if uri.path().ends_with("/cgi-bin/tags/get") {
                let code = StatusCode::from_u16(status).unwrap();
                (code, [(header::LOCATION, location)], "").into_response()
            } else {
                seen.fetch_add(1, Ordering::SeqCst);
                axum::Json(json!({"tags": []})).into_response()
            }
        }
    });
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (base, elsewhere)
}

#[tokio::test]
async fn a_redirect_is_an_error_naming_its_host_and_is_never_followed() {
    for (status, location, host) in [
        (
            302,
            "http://evil.example.test/steal?token=x",
            "evil.example.test",
        ),
        (307, "{base}/elsewhere", "127.0.0.1"),
        (301, "/elsewhere", "127.0.0.1"),
        (308, "https://mp.weixin.qq.com/x", "mp.weixin.qq.com"),
    ] {
        let (base, elsewhere) = redirecting_server(status, location).await;
        let direct = Client::new(ClientConfig::with_base_url(&base)).unwrap();
        let relay = Client::new(ClientConfig::via_relay(&base, &secret("RELAYKEY"))).unwrap();
        for client in [direct, relay] {
            let e = client.tags_get(&secret("THETOKEN")).await.unwrap_err();
            let Error::Redirect { status: s, host: h } = &e else {
                panic!("{location}: expected a redirect error, got {e:?}");
            };
            assert_eq!((*s, h.as_str()), (status, host), "{location}");
            let text = e.to_string();
            assert!(text.contains(host) && text.contains("重定向"), "{text}");
            assert!(text.contains("redirect"), "{text}");
            assert!(
                !text.contains("THETOKEN") && !text.contains("steal"),
                "{text}"
            );
        }
        assert_eq!(
            elsewhere.load(Ordering::SeqCst),
            0,
            "no redirect was followed ({location})"
        );
    }
}
