//! Events pruned at the relay before the app applied them: the follower records the gap and
//! moves on instead of asking again forever. A scripted relay on loopback answers crafted JSON,
//! so these do not depend on what the real relay sends.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::tests::{FakeActions, RecordingHandler, handler_log};
use super::*;

#[derive(Default)]
struct Script {
    /// Answers in order; the last one repeats.
    answers: VecDeque<Value>,
    /// The `after` of every poll.
    polls: Vec<i64>,
}

async fn scripted_relay(answers: Vec<Value>) -> (RelayClient, Arc<Mutex<Script>>) {
    let script = Arc::new(Mutex::new(Script {
        answers: answers.into(),
        polls: Vec::new(),
    }));
    async fn events(
        State(s): State<Arc<Mutex<Script>>>,
        Query(q): Query<std::collections::HashMap<String, String>>,
    ) -> Json<Value> {
        let mut s = s.lock().unwrap();
        s.polls
            .push(q.get("after").and_then(|a| a.parse().ok()).unwrap_or(-1));
        let answer = if s.answers.len() > 1 {
            s.answers.pop_front().unwrap()
        } else {
            s.answers[0].clone()
        };
        Json(answer)
    }
    let app = Router::new()
        .route("/api/v1/events", get(events))
        .with_state(Arc::clone(&script));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let client = RelayClient::new(&format!("http://{addr}"), Secret::new("k")).unwrap();
    (client, script)
}

fn text(seq: i64) -> Value {
    json!({"seq": seq, "kind": "text", "appid": "wxA", "received_at": 1_700_000_000 + seq,
           "data": {"openid": "o", "content": "hi", "msg_id": seq, "create_time": seq}})
}

async fn store_at(cursor_at: i64) -> Store {
    let store = Store::open_in_memory().unwrap();
    store
        .call(move |c| cursor::advance(c, cursor_at))
        .await
        .unwrap();
    store
}

fn follower(client: RelayClient, store: &Store) -> FeedFollower<FakeActions> {
    FeedFollower::new(client, store.clone(), Arc::new(FakeActions::default()))
        .with_handler(Arc::new(RecordingHandler))
        .with_wait_secs(0)
}

async fn lost_records(store: &Store) -> Vec<String> {
    store
        .call(|c| audit::recent(c, 100))
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "events_lost")
        .map(|e| e.detail)
        .collect()
}

#[tokio::test]
async fn a_relay_whose_first_seq_is_past_the_cursor_is_followed_from_there_and_the_gap_recorded() {
    let (client, script) = scripted_relay(vec![
        json!({"events": [text(10), text(11)], "last_seq": 11, "first_seq": 10}),
        json!({"events": [], "last_seq": 11, "first_seq": 10}),
    ])
    .await;
    let store = store_at(3).await;
    let f = follower(client, &store);
    let mut rx = f.subscribe();

    assert_eq!(f.poll_once().await.unwrap(), 2);
    assert_eq!(store.call(|c| cursor::get(c)).await.unwrap(), 11);
    assert_eq!(handler_log(&store), ["10:text", "11:text"]);
    let lost = lost_records(&store).await;
    assert_eq!(lost.len(), 1);
    assert!(lost[0].contains("4–9"), "{}", lost[0]);
    assert_eq!(
        rx.try_recv().unwrap(),
        FeedNotice::EventsLost {
            from_seq: 4,
            to_seq: 9
        }
    );
    // The next poll asks after the new cursor and finds nothing more to skip.
    assert_eq!(f.poll_once().await.unwrap(), 0);
    assert_eq!(script.lock().unwrap().polls, [3, 11]);
    assert_eq!(lost_records(&store).await.len(), 1);
}

#[tokio::test]
async fn a_relay_with_its_whole_log_pruned_moves_the_cursor_to_its_head() {
    let (client, script) =
        scripted_relay(vec![json!({"events": [], "last_seq": 20, "first_seq": 21})]).await;
    let store = store_at(3).await;
    let f = follower(client, &store);
    let mut rx = f.subscribe();
    assert_eq!(f.poll_once().await.unwrap(), 0);
    assert_eq!(store.call(|c| cursor::get(c)).await.unwrap(), 20);
    assert_eq!(
        rx.try_recv().unwrap(),
        FeedNotice::EventsLost {
            from_seq: 4,
            to_seq: 20
        }
    );
    assert_eq!(rx.try_recv().unwrap(), FeedNotice::CaughtUp { cursor: 20 });
    f.poll_once().await.unwrap();
    assert_eq!(
        script.lock().unwrap().polls,
        [3, 20],
        "no spinning on the same cursor"
    );
}

#[tokio::test]
async fn an_older_relay_without_first_seq_is_asked_once_more_then_the_gap_recorded() {
    let (client, script) = scripted_relay(vec![json!({"events": [], "last_seq": 8})]).await;
    let store = store_at(3).await;
    let f = follower(client, &store);
    assert_eq!(f.poll_once().await.unwrap(), 0);
    assert_eq!(store.call(|c| cursor::get(c)).await.unwrap(), 8);
    let lost = lost_records(&store).await;
    assert!(lost.len() == 1 && lost[0].contains("4–8"), "{lost:?}");
    f.poll_once().await.unwrap();
    assert_eq!(script.lock().unwrap().polls, [3, 3, 8]);
}

#[tokio::test]
async fn an_older_relay_whose_empty_answer_raced_a_new_event_loses_nothing() {
    // The long-poll timed out just as events 4 and 5 landed: the head moved but the answer was
    // empty. Asking again shows them.
    let (client, _script) = scripted_relay(vec![
        json!({"events": [], "last_seq": 5}),
        json!({"events": [text(4), text(5)], "last_seq": 5}),
    ])
    .await;
    let store = store_at(3).await;
    let f = follower(client, &store);
    assert_eq!(f.poll_once().await.unwrap(), 2);
    assert_eq!(handler_log(&store), ["4:text", "5:text"]);
    assert!(lost_records(&store).await.is_empty());
}

/// The real relay (its store, routes and `first_seq`) on loopback, its log pruned by retention
/// under a follower that had applied only the first event.
#[tokio::test]
async fn the_real_relay_pruned_under_the_cursor_is_followed_past_the_gap() {
    use wxdesk_relay::store::{NewEvent, Store as RelayStore};
    const KEY: &str = "relay-prune-test-key-0123456789";
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().display().to_string();
    let env = std::collections::HashMap::from([
        ("WXDESK_RELAY_LISTEN", "127.0.0.1:0".to_string()),
        ("WXDESK_RELAY_DATA_DIR", data_dir),
        (
            "WXDESK_RELAY_COMPONENT_APPID",
            wxdesk_sim::SANDBOX_COMPONENT_APPID.to_string(),
        ),
        (
            "WXDESK_RELAY_COMPONENT_TOKEN",
            wxdesk_sim::SANDBOX_COMPONENT_TOKEN.to_string(),
        ),
        (
            "WXDESK_RELAY_COMPONENT_AES_KEY",
            wxdesk_sim::SANDBOX_COMPONENT_AES_KEY.to_string(),
        ),
        ("WXDESK_RELAY_API_KEY", KEY.to_string()),
        (
            "WXDESK_RELAY_PUBLIC_BASE_URL",
            "http://127.0.0.1:9".to_string(),
        ),
    ]);
    let cfg = wxdesk_relay::RelayConfig::load_with_env(None, |k| env.get(k).cloned())
        .unwrap()
        .validated()
        .unwrap();
    let relay_store = RelayStore::open(&cfg.database_path()).unwrap();
    for seq in 1..=6_i64 {
        relay_store
            .append(NewEvent {
                kind: "text",
                appid: Some("wxA".into()),
                // 1–4 are old enough for retention, 5 and 6 are not.
                received_at: if seq <= 4 { 100 } else { 5_000 },
                data: json!({"openid": "o", "content": "hi", "msg_id": seq, "create_time": seq}),
                dedup_key: format!("push-{seq}"),
            })
            .await
            .unwrap();
    }
    let (_stop, stopped) = tokio::sync::watch::channel(false);
    let app =
        wxdesk_relay::app(wxdesk_relay::AppState::new(cfg, relay_store.clone(), stopped).unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let client = RelayClient::new(&format!("http://{addr}"), Secret::new(KEY)).unwrap();

    let store = store_at(1).await;
    assert_eq!(relay_store.prune(1_000).await.unwrap(), 4);
    let f = follower(client, &store);
    let mut rx = f.subscribe();
    assert_eq!(f.poll_once().await.unwrap(), 2);
    assert_eq!(store.call(|c| cursor::get(c)).await.unwrap(), 6);
    assert_eq!(handler_log(&store), ["5:text", "6:text"]);
    assert_eq!(
        rx.try_recv().unwrap(),
        FeedNotice::EventsLost {
            from_seq: 2,
            to_seq: 4
        }
    );
    let lost = lost_records(&store).await;
    assert!(lost.len() == 1 && lost[0].contains("2–4"), "{lost:?}");

    // Two more arrive and are pruned before the app polls: the log is empty, its head past the
    // cursor. The follower used to ask after 6 forever; it moves to the head instead.
    for seq in 7..=8_i64 {
        relay_store
            .append(NewEvent {
                kind: "text",
                appid: Some("wxA".into()),
                received_at: 100,
                data: json!({"openid": "o", "content": "hi", "msg_id": seq, "create_time": seq}),
                dedup_key: format!("push-{seq}"),
            })
            .await
            .unwrap();
    }
    assert_eq!(relay_store.prune(10_000).await.unwrap(), 4);
    while rx.try_recv().is_ok() {}
    assert_eq!(f.poll_once().await.unwrap(), 0);
    assert_eq!(store.call(|c| cursor::get(c)).await.unwrap(), 8);
    assert_eq!(
        rx.try_recv().unwrap(),
        FeedNotice::EventsLost {
            from_seq: 7,
            to_seq: 8
        }
    );
}
