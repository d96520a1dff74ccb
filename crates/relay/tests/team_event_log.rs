//! The relay's event log in team mode: two relays started in-process on one throwaway PostgreSQL
//! database serve one log. Pushes at either land in one gapless sequence in commit order, a
//! long-poll at one wakes for a push at the other, a retry at the other process is a duplicate,
//! the ticket is shared, and everything survives a restart of both.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use common::{API_KEY, COMPONENT_APPID, TOKEN, client, crypt, now, seal, text_xml, ticket_xml};
use serde_json::Value;
use wxdesk_relay::config::{DEFAULT_LOGIN_BASE, DEFAULT_UPSTREAM, TeamConfig};
use wxdesk_relay::store::{Appended, NewEvent, Store};
use wxdesk_relay::team::db::Db;
use wxdesk_relay::team::testing::PgCluster;
use wxdesk_relay::{RelayConfig, RelayHandle, Secret};
use wxdesk_wechat::crypto::Envelope;

const AUTHORIZER: &str = "wx1111111111111111";
const GH: &str = "gh_aaaaaaaaaaaa";

/// A cluster with an empty `relay` database.
async fn database() -> (PgCluster, String) {
    let pg = PgCluster::start().unwrap_or_else(|e| panic!("{e}"));
    let (admin, conn) = tokio_postgres::connect(&pg.url("postgres"), tokio_postgres::NoTls)
        .await
        .expect("connect to the test cluster");
    tokio::spawn(conn);
    admin
        .batch_execute("CREATE DATABASE relay")
        .await
        .expect("create database");
    let url = pg.url("relay");
    (pg, url)
}

fn config(url: &str, data_dir: &Path) -> RelayConfig {
    RelayConfig {
        listen: "127.0.0.1:0".into(),
        data_dir: data_dir.to_path_buf(),
        component_appid: COMPONENT_APPID.into(),
        component_token: Secret::new(TOKEN),
        component_aes_key: Secret::new(common::AES_KEY),
        component_aes_key_previous: None,
        api_key: Secret::new(API_KEY),
        public_base_url: "https://relay.example.com".into(),
        upstream: DEFAULT_UPSTREAM.into(),
        egress_source_ip: None,
        login_base: DEFAULT_LOGIN_BASE.into(),
        replay_window_secs: 300,
        retention_days: 30,
        header_read_timeout_secs: 15,
        max_concurrent_requests: 1024,
        team: Some(TeamConfig {
            database_url: Secret::new(url),
            component_appsecret: Secret::new("0123456789abcdef0123456789abcdef"),
            server_key: Secret::new(base64::engine::general_purpose::STANDARD.encode([7u8; 32])),
            database_ca_file: None,
        }),
    }
}

/// Two relays on one database, each with a data dir of its own (nothing shared through files).
struct Pair {
    a: RelayHandle,
    b: RelayHandle,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
}

async fn pair(url: &str) -> Pair {
    let (da, db) = (
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    );
    // Started at once: they migrate the database once between them.
    let (a, b) = tokio::join!(
        wxdesk_relay::start(config(url, da.path())),
        wxdesk_relay::start(config(url, db.path()))
    );
    Pair {
        a: a.expect("relay a starts"),
        b: b.expect("relay b starts"),
        _dirs: (da, db),
    }
}

impl Pair {
    async fn shutdown(self) {
        tokio::join!(self.a.shutdown(), self.b.shutdown());
    }
}

/// A signed, encrypted text message push with this MsgId: (url path and query, body).
fn text_push(base: &str, msg_id: i64) -> (String, String) {
    let xml = text_xml(GH, "oUser", &format!("message {msg_id}"), msg_id);
    let (query, body) = seal(&crypt(), &xml, Envelope::ToUserName(GH.into()), now());
    (format!("{base}/wechat/{AUTHORIZER}/callback?{query}"), body)
}

async fn post(url: &str, body: &str) -> (u16, String) {
    let resp = client()
        .post(url)
        .body(body.to_owned())
        .send()
        .await
        .expect("post push");
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap_or_default())
}

async fn push_text(relay: &RelayHandle, msg_id: i64) {
    let (url, body) = text_push(&relay.base_url, msg_id);
    assert_eq!(
        post(&url, &body).await,
        (200, "success".into()),
        "push {msg_id}"
    );
}

async fn get(relay: &RelayHandle, path: &str) -> (u16, Value) {
    let resp = client()
        .get(format!("{}{path}", relay.base_url))
        .bearer_auth(API_KEY)
        .send()
        .await
        .expect("api request");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// The whole log as (seq, MsgId) pairs, paged.
async fn log(relay: &RelayHandle) -> Vec<(i64, i64)> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let (status, body) = get(relay, &format!("/api/v1/events?after={after}&limit=1000")).await;
        assert_eq!(status, 200, "{body}");
        let events = body["events"].as_array().cloned().unwrap_or_default();
        if events.is_empty() {
            return out;
        }
        for e in events {
            let seq = e["seq"].as_i64().expect("seq");
            out.push((seq, msg_id(&e)));
            after = seq;
        }
    }
}

fn msg_id(event: &Value) -> i64 {
    event["data"]["msg_id"]
        .as_i64()
        .or_else(|| {
            event["data"]["msg_id"]
                .as_str()
                .and_then(|s| s.parse().ok())
        })
        .unwrap_or_else(|| panic!("no msg_id in {event}"))
}

#[tokio::test]
async fn pushes_at_two_relays_form_one_gapless_log_in_commit_order_served_by_both() {
    let (_pg, url) = database().await;
    let p = pair(&url).await;
    for i in 1..=10 {
        let relay = if i % 2 == 0 { &p.b } else { &p.a };
        push_text(relay, 1000 + i).await;
    }
    let expected: Vec<(i64, i64)> = (1..=10).map(|i| (i, 1000 + i)).collect();
    // Each push was answered before the next was sent: seq order is the order they were sent.
    assert_eq!(log(&p.a).await, expected);
    assert_eq!(log(&p.b).await, expected);
    p.shutdown().await;
}

#[tokio::test]
async fn a_long_poll_at_one_relay_is_woken_by_a_push_at_the_other() {
    let (_pg, url) = database().await;
    let p = pair(&url).await;
    push_text(&p.a, 1).await;
    let b_base = p.b.base_url.clone();
    let poll = tokio::spawn(async move {
        let resp = client()
            .get(format!("{b_base}/api/v1/events?after=1&wait=30"))
            .bearer_auth(API_KEY)
            .send()
            .await
            .expect("long-poll");
        resp.json::<Value>().await.expect("json")
    });
    push_text(&p.a, 2).await;
    // B hears of A's commit only through NOTIFY: without it the poll would hold its 30 s and
    // then answer empty, since B's own head never moved.
    let body = tokio::time::timeout(Duration::from_secs(20), poll)
        .await
        .expect("the poll at B was woken well before its 30 s")
        .expect("join");
    let events = body["events"].as_array().expect("events");
    assert_eq!(events.len(), 1, "{body}");
    assert_eq!(
        (events[0]["seq"].as_i64(), msg_id(&events[0])),
        (Some(2), 2)
    );
    p.shutdown().await;
}

#[tokio::test]
async fn the_same_push_at_both_relays_is_stored_once() {
    let (_pg, url) = database().await;
    let p = pair(&url).await;
    // One after the other: WeChat retrying at another process behind the load balancer.
    let (path_a, body) = text_push(&p.a.base_url, 7);
    let path_b = path_a.replace(&p.a.base_url, &p.b.base_url);
    assert_eq!(post(&path_a, &body).await, (200, "success".into()));
    assert_eq!(post(&path_b, &body).await, (200, "success".into()));
    // At the same moment at both, many times over.
    for i in 0..20 {
        let (path_a, body) = text_push(&p.a.base_url, 100 + i);
        let path_b = path_a.replace(&p.a.base_url, &p.b.base_url);
        let (ra, rb) = tokio::join!(post(&path_a, &body), post(&path_b, &body));
        assert_eq!((ra.0, rb.0), (200, 200));
    }
    let expected_ids: Vec<i64> = std::iter::once(7).chain(100..120).collect();
    let got = log(&p.b).await;
    assert_eq!(
        got.iter().map(|e| e.0).collect::<Vec<_>>(),
        (1..=21).collect::<Vec<i64>>()
    );
    let mut ids: Vec<i64> = got.iter().map(|e| e.1).collect();
    ids.sort_unstable();
    assert_eq!(ids, expected_ids, "each push stored exactly once");
    p.shutdown().await;
}

/// Follows the log at `relay` with long-polls until it has seen `total` events; what it saw.
async fn follow(base: String, total: usize) -> Vec<i64> {
    let mut seen = Vec::new();
    let mut after = 0;
    while seen.len() < total {
        let resp = client()
            .get(format!(
                "{base}/api/v1/events?after={after}&wait=10&limit=1000"
            ))
            .bearer_auth(API_KEY)
            .send()
            .await
            .expect("follow");
        let body: Value = resp.json().await.expect("json");
        let events = body["events"].as_array().cloned().unwrap_or_default();
        // 10 s without a single new event while pushes are still due: something is stuck.
        assert!(
            !events.is_empty(),
            "the log stopped at {after} of {total}: {body}"
        );
        for e in events {
            let seq = e["seq"].as_i64().expect("seq");
            seen.push(seq);
            after = seq;
        }
    }
    seen
}

#[tokio::test]
async fn concurrent_pushes_to_both_relays_leave_seqs_one_to_n_and_followers_miss_none() {
    let (_pg, url) = database().await;
    let p = pair(&url).await;
    const TASKS: i64 = 16;
    const EACH: i64 = 40;
    let total = (TASKS * EACH) as usize;
    // A follower at each relay moves its cursor past every seq it is given: a lower seq that
    // became visible after a higher one would be skipped for good and show up as a gap.
    let followers = [
        tokio::spawn(follow(p.a.base_url.clone(), total)),
        tokio::spawn(follow(p.b.base_url.clone(), total)),
    ];
    let mut tasks = Vec::new();
    for t in 0..TASKS {
        let (a, b) = (p.a.base_url.clone(), p.b.base_url.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0..EACH {
                let id = 10_000 + t * EACH + i;
                // Every push goes to one relay, and every third is retried at the other at once.
                let (first, other) = if (t + i) % 2 == 0 { (&a, &b) } else { (&b, &a) };
                let (path, body) = text_push(first, id);
                if i % 3 == 0 {
                    let again = path.replace(first.as_str(), other.as_str());
                    let (r1, r2) = tokio::join!(post(&path, &body), post(&again, &body));
                    assert_eq!((r1.0, r2.0), (200, 200), "push {id}");
                } else {
                    assert_eq!(post(&path, &body).await.0, 200, "push {id}");
                }
            }
        }));
    }
    for t in tasks {
        t.await.expect("pusher");
    }
    let want: Vec<i64> = (1..=total as i64).collect();
    for f in followers {
        let seen = tokio::time::timeout(Duration::from_secs(60), f)
            .await
            .expect("follower done")
            .expect("join");
        assert_eq!(seen, want, "a follower saw every seq once, in order");
    }
    let got = log(&p.a).await;
    assert_eq!(got.iter().map(|e| e.0).collect::<Vec<_>>(), want);
    let ids: BTreeSet<i64> = got.iter().map(|e| e.1).collect();
    assert_eq!(ids.len(), total, "no push stored twice");
    assert_eq!(ids, (10_000..10_000 + total as i64).collect());
    p.shutdown().await;
}

async fn push_ticket(relay: &RelayHandle, ticket: &str, create_time: i64) {
    let (query, body) = seal(
        &crypt(),
        &ticket_xml(ticket, create_time),
        Envelope::AppId(COMPONENT_APPID.into()),
        now(),
    );
    let url = format!("{}/wechat/component?{query}", relay.base_url);
    assert_eq!(post(&url, &body).await, (200, "success".into()));
}

async fn ticket_at(relay: &RelayHandle) -> (String, i64) {
    let (status, body) = get(relay, "/api/v1/ticket").await;
    assert_eq!(status, 200, "{body}");
    (
        body["ticket"].as_str().expect("ticket").to_owned(),
        body["create_time"].as_i64().expect("create_time"),
    )
}

#[tokio::test]
async fn the_ticket_is_shared_and_the_newest_create_time_wins_at_both() {
    let (_pg, url) = database().await;
    let p = pair(&url).await;
    assert_eq!(get(&p.b, "/api/v1/ticket").await.0, 404);
    let t = now();
    push_ticket(&p.a, "ticket@@@200", t).await;
    assert_eq!(ticket_at(&p.b).await, ("ticket@@@200".into(), t));
    // An older one arriving late at the other process does not bring it back.
    push_ticket(&p.b, "ticket@@@100", t - 100).await;
    assert_eq!(ticket_at(&p.a).await, ("ticket@@@200".into(), t));
    assert_eq!(ticket_at(&p.b).await, ("ticket@@@200".into(), t));
    push_ticket(&p.b, "ticket@@@300", t + 100).await;
    assert_eq!(ticket_at(&p.a).await, ("ticket@@@300".into(), t + 100));
    p.shutdown().await;
}

#[tokio::test]
async fn events_and_the_ticket_survive_a_restart_of_both_relays() {
    let (_pg, url) = database().await;
    let p = pair(&url).await;
    for i in 1..=5 {
        push_text(if i % 2 == 0 { &p.a } else { &p.b }, i).await;
    }
    push_ticket(&p.a, "ticket@@@kept", now()).await;
    p.shutdown().await;

    let p = pair(&url).await;
    let expected: Vec<(i64, i64)> = (1..=5).map(|i| (i, i)).collect();
    assert_eq!(log(&p.a).await, expected);
    assert_eq!(log(&p.b).await, expected);
    assert_eq!(ticket_at(&p.b).await.0, "ticket@@@kept");
    // The numbering carries on after the restart, and a retry of an old push is still known.
    push_text(&p.b, 6).await;
    push_text(&p.a, 3).await;
    let (status, body) = get(&p.a, "/api/v1/events?after=5").await;
    assert_eq!(status, 200);
    assert_eq!(body["events"].as_array().map(Vec::len), Some(1), "{body}");
    assert_eq!(body["events"][0]["seq"], 6);
    p.shutdown().await;
}

#[tokio::test]
async fn healthz_turns_503_when_the_database_goes_away() {
    let (pg, url) = database().await;
    let dir = tempfile::tempdir().expect("dir");
    let relay = wxdesk_relay::start(config(&url, dir.path()))
        .await
        .expect("relay starts");
    let healthz = || async {
        let resp = client()
            .get(format!("{}/healthz", relay.base_url))
            .send()
            .await
            .expect("healthz");
        let status = resp.status().as_u16();
        (status, resp.json::<Value>().await.unwrap_or(Value::Null))
    };
    assert_eq!(healthz().await.0, 200);
    drop(pg); // stops PostgreSQL (immediate shutdown) and removes it
    let mut last = (0, Value::Null);
    for _ in 0..100 {
        last = healthz().await;
        if last.1["status"] == "storage_writer_stopped" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(last.0, 503, "{:?}", last.1);
    assert_eq!(last.1["status"], "storage_writer_stopped");
    // A push cannot be stored: it is refused, never answered success.
    let (path, body) = text_push(&relay.base_url, 1);
    let (status, text) = post(&path, &body).await;
    assert_ne!((status, text.as_str()), (200, "success"));
    relay.shutdown().await;
}

fn event(key: &str, at: i64, appid: &str) -> NewEvent {
    NewEvent {
        kind: "text",
        appid: Some(appid.into()),
        received_at: at,
        data: serde_json::json!({ "k": key }),
        dedup_key: key.into(),
    }
}

#[tokio::test]
async fn pruning_on_postgres_never_lets_a_seq_be_reused() {
    let (_pg, url) = database().await;
    let secret = Secret::new(url.clone());
    let store = Store::open_pg(Db::open(&secret).await.expect("db"), &secret)
        .await
        .expect("store");
    for (k, at) in [("a", 10), ("b", 10), ("c", 50)] {
        store.append(event(k, at, "wxa")).await.expect("append");
    }
    assert_eq!(store.first_seq().await.expect("first"), 1);
    assert_eq!(store.prune(11).await.expect("prune"), 2);
    let (rows, first) = store.events_page(0, 10).await.expect("page");
    assert_eq!(
        (rows.iter().map(|r| r.seq).collect::<Vec<_>>(), first),
        (vec![3], 3)
    );
    assert_eq!(store.prune(51).await.expect("prune"), 1);
    // Empty, but 1..=3 are spent: the first seq says so, and the next event is 4.
    assert_eq!(store.events_page(0, 10).await.expect("page"), (vec![], 4));
    store.close().await;
    let store = Store::open_pg(Db::open(&secret).await.expect("db"), &secret)
        .await
        .expect("reopen");
    assert_eq!(store.head(), 3);
    assert_eq!(
        store.append(event("d", 60, "wxa")).await.expect("d"),
        Appended::Stored(4)
    );
    // A pruned key is forgotten with its event (as in single-desk mode).
    assert_eq!(
        store.append(event("a", 60, "wxa")).await.expect("a"),
        Appended::Stored(5)
    );
    assert_eq!(
        store.append(event("d", 61, "wxa")).await.expect("d"),
        Appended::Duplicate(4)
    );
    store.close().await;
}

#[tokio::test]
async fn a_value_postgres_refuses_fails_alone_and_the_rest_of_its_batch_commits() {
    let (_pg, url) = database().await;
    let secret = Secret::new(url.clone());
    let store = Store::open_pg(Db::open(&secret).await.expect("db"), &secret)
        .await
        .expect("store");
    // Queued together so they share a batch; PostgreSQL text cannot hold NUL.
    let mut calls = Vec::new();
    for i in 0..20 {
        let appid = if i == 7 {
            "wx\0bad".to_owned()
        } else {
            "wxa".to_owned()
        };
        let s = store.clone();
        calls.push(tokio::spawn(async move {
            s.append(event(&format!("k{i}"), 10, &appid)).await
        }));
    }
    let mut stored = Vec::new();
    for (i, c) in calls.into_iter().enumerate() {
        match c.await.expect("join") {
            Ok(Appended::Stored(seq)) => stored.push(seq),
            Ok(other) => panic!("{i}: {other:?}"),
            Err(e) => assert_eq!(i, 7, "only the NUL one is refused: {e}"),
        }
    }
    stored.sort_unstable();
    assert_eq!(
        stored,
        (1..=19).collect::<Vec<i64>>(),
        "the others stored, gapless"
    );
    assert_eq!(store.events_page(0, 100).await.expect("page").0.len(), 19);
    store.close().await;
}

#[tokio::test]
async fn retries_queued_together_are_stored_once_and_answered_with_the_same_seq() {
    let (_pg, url) = database().await;
    let secret = Secret::new(url.clone());
    let store = Store::open_pg(Db::open(&secret).await.expect("db"), &secret)
        .await
        .expect("store");
    // Queued at once, so most land in one batch: "r" five times among distinct keys.
    let mut calls = Vec::new();
    for i in 0..20 {
        let key = if i % 4 == 1 {
            "r".to_owned()
        } else {
            format!("k{i}")
        };
        let s = store.clone();
        calls.push(tokio::spawn(async move {
            s.append(event(&key, 10, "wxa")).await
        }));
    }
    let mut stored = Vec::new();
    let mut retry_seqs = BTreeSet::new();
    for (i, c) in calls.into_iter().enumerate() {
        let outcome = c.await.expect("join").expect("append");
        if i % 4 == 1 {
            retry_seqs.insert(match outcome {
                Appended::Stored(s) | Appended::Duplicate(s) => s,
            });
        }
        if let Appended::Stored(seq) = outcome {
            stored.push(seq);
        }
    }
    stored.sort_unstable();
    assert_eq!(
        stored,
        (1..=16).collect::<Vec<i64>>(),
        "15 distinct keys and one r"
    );
    assert_eq!(
        retry_seqs.len(),
        1,
        "every r answered with the one seq it was stored under"
    );
    store.close().await;
}
