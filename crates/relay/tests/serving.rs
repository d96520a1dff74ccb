//! What the relay enforces on connections itself, without a reverse proxy in front: a client
//! that sends its headers too slowly is disconnected, and requests beyond the concurrency limit
//! are answered 503 at once instead of piling up.

mod common;

use std::time::Duration;

use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn addr(relay: &Relay) -> String {
    relay.base.trim_start_matches("http://").to_owned()
}

#[tokio::test]
async fn a_client_that_sends_its_headers_slowly_is_disconnected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let relay = Relay::spawn(
        dir.path(),
        &[("WXDESK_RELAY_HEADER_READ_TIMEOUT_SECS", "1")],
    );
    let mut slow = tokio::net::TcpStream::connect(addr(&relay))
        .await
        .expect("connect");
    // Half a request, then nothing: the slowloris pattern.
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: relay\r\nX-Slow: 1")
        .await
        .expect("write");
    let mut idle = tokio::net::TcpStream::connect(addr(&relay))
        .await
        .expect("connect");

    // Far beyond the 1 s timeout; without one the relay would hold both connections forever.
    for (name, conn) in [("slow", &mut slow), ("idle", &mut idle)] {
        let mut buf = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(20), conn.read_to_end(&mut buf))
            .await
            .unwrap_or_else(|_| panic!("the {name} connection is still open after 20 s"));
        // Closed (EOF or reset), with no answer to the half request.
        assert!(
            read.map(|n| n == 0).unwrap_or(true),
            "{name}: {}",
            String::from_utf8_lossy(&buf)
        );
    }

    // A client that sends its request in time is served as usual.
    let resp = client()
        .get(relay.url("/healthz"))
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status().as_u16(), 200);
}

#[tokio::test]
async fn a_request_beyond_the_concurrency_limit_is_answered_503_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let relay = Relay::spawn(dir.path(), &[("WXDESK_RELAY_MAX_CONCURRENT_REQUESTS", "1")]);
    // One slow request holds the only slot: a long-poll on an empty log. A poll may end early
    // (a wake-up from the writer's start finds nothing and answers empty), so one that has
    // ended before a refusal was seen is started again: the subject here is the limit.
    let url = relay.url("/api/v1/events?after=0&wait=15");
    let hold = |url: String| {
        tokio::spawn(async move {
            client()
                .get(url)
                .bearer_auth(API_KEY)
                .send()
                .await
                .expect("long-poll")
                .status()
                .as_u16()
        })
    };
    let mut holding = hold(url.clone());
    let mut early_ends = Vec::new();

    // Once the poll is in flight, the next request is refused rather than queued behind it.
    let mut refused = None;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while tokio::time::Instant::now() < deadline {
        let resp = unpooled_client()
            .get(relay.url("/healthz"))
            .send()
            .await
            .expect("get");
        if resp.status().as_u16() == 503 {
            refused = Some(resp);
            break;
        }
        if holding.is_finished() {
            early_ends.push(holding.await.expect("join"));
            holding = hold(url.clone());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        early_ends.len() < 3,
        "the long-poll kept ending at once: {early_ends:?}"
    );
    let refused = refused.unwrap_or_else(|| {
        panic!("no concurrent request was refused (polls that ended early: {early_ends:?})")
    });
    assert_eq!(refused.headers()["retry-after"], "1");
    let body: serde_json::Value = refused.json().await.expect("json");
    assert_eq!(body["error"], "overloaded");
    assert!(
        body["reason"]
            .as_str()
            .is_some_and(|r| r.contains("中继繁忙") && r.contains("retry later")),
        "{body}"
    );
    // A WeChat push meets the same limit (WeChat retries it) and is not stored.
    let push = post_component(&relay, &ticket_xml("ticket@@@busy", now())).await;
    assert_eq!(push.status().as_u16(), 503);

    // The poll itself is served to its end, and its slot is free again afterwards.
    assert_eq!(holding.await.expect("join"), 200);
    let resp = client()
        .get(relay.url("/healthz"))
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status().as_u16(), 200);
    let (status, _) = api_get(&relay, "/api/v1/ticket").await;
    assert_eq!(status, 404, "the refused push stored no ticket");
}
