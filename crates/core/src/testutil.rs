//! Test support: a small stand-in for the relay's private API on a loopback port, speaking the
//! contract's JSON. (The full journey tests use the real wxdesk-relay.)

use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

pub const KEY: &str = "relay-test-key-0123456789";

#[derive(Default)]
pub struct FakeRelayState {
    pub events: Vec<Value>,
    pub ticket: Option<Value>,
    pub polls: Vec<i64>,
    /// What `GET /api/v1/keys` fingerprints: (platform AppID, Token, EncodingAESKey, previous
    /// EncodingAESKey); `None` answers 404 as a relay older than the route does.
    pub keys: Option<(String, String, String, Option<String>)>,
}

#[derive(Clone)]
pub struct FakeRelay {
    pub base_url: String,
    pub state: Arc<Mutex<FakeRelayState>>,
}

impl FakeRelay {
    pub async fn start() -> FakeRelay {
        let state = Arc::new(Mutex::new(FakeRelayState::default()));
        let app = Router::new()
            .route("/api/v1/events", get(events))
            .route("/api/v1/ticket", get(ticket))
            .route("/api/v1/keys", get(keys))
            .with_state(Arc::clone(&state));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeRelay {
            base_url: format!("http://{addr}"),
            state,
        }
    }

    /// Appends an event with the next seq; returns the seq.
    pub fn push(&self, kind: &str, appid: Option<&str>, data: Value) -> i64 {
        let mut s = self.state.lock().unwrap();
        let seq = s.events.len() as i64 + 1;
        s.events.push(json!({"seq": seq, "kind": kind, "appid": appid, "received_at": 1_700_000_000 + seq, "data": data}));
        seq
    }

    pub fn client(&self) -> crate::relay::RelayClient {
        crate::relay::RelayClient::new(&self.base_url, crate::secrets::Secret::new(KEY)).unwrap()
    }
}

fn authorized(h: &HeaderMap) -> bool {
    h.get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("Bearer {KEY}"))
}

/// The relay's 401 for a request without the key, as every route answers it.
fn refuse_unauthorized(h: &HeaderMap) -> Option<Response> {
    (!authorized(h)).then(|| {
        (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error":"unauthorized"})),
        )
            .into_response()
    })
}

#[derive(Deserialize)]
struct EventsQuery {
    after: i64,
    #[allow(dead_code)]
    wait: Option<u32>,
    limit: Option<usize>,
}

async fn events(
    State(st): State<Arc<Mutex<FakeRelayState>>>,
    h: HeaderMap,
    Query(q): Query<EventsQuery>,
) -> Response {
    if let Some(refused) = refuse_unauthorized(&h) {
        return refused;
    }
    let mut s = st.lock().unwrap();
    s.polls.push(q.after);
    let last_seq = s.events.len() as i64;
    let evs: Vec<Value> = s
        .events
        .iter()
        .filter(|e| e["seq"].as_i64().unwrap_or(0) > q.after)
        .take(q.limit.unwrap_or(500))
        .cloned()
        .collect();
    Json(json!({"events": evs, "last_seq": last_seq})).into_response()
}

async fn ticket(State(st): State<Arc<Mutex<FakeRelayState>>>, h: HeaderMap) -> Response {
    if let Some(refused) = refuse_unauthorized(&h) {
        return refused;
    }
    match st.lock().unwrap().ticket.clone() {
        Some(t) => Json(t).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"error":"no_ticket","message":"尚未收到 ticket"})),
        )
            .into_response(),
    }
}

#[derive(Deserialize)]
struct KeysQuery {
    nonce: String,
}

async fn keys(
    State(st): State<Arc<Mutex<FakeRelayState>>>,
    h: HeaderMap,
    Query(q): Query<KeysQuery>,
) -> Response {
    use wxdesk_wechat::crypto::fingerprint::{KeyKind, key_fingerprint};
    if let Some(refused) = refuse_unauthorized(&h) {
        return refused;
    }
    let Some((appid, token, aes, previous)) = st.lock().unwrap().keys.clone() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    Json(json!({
        "component_appid": appid,
        "token": key_fingerprint(KeyKind::Token, &token, &q.nonce),
        "aes_key": key_fingerprint(KeyKind::AesKey, &aes, &q.nonce),
        "aes_key_previous": previous.map(|p| key_fingerprint(KeyKind::AesKey, &p, &q.nonce)),
    }))
    .into_response()
}
