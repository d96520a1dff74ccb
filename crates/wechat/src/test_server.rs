//! A tiny recording HTTP server on 127.0.0.1:0 for the client and token-cache tests: every
//! request is recorded (method, path, query, body) and answered from a route table.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub query: HashMap<String, String>,
    pub headers: HashMap<String, String>,
    pub body: serde_json::Value,
    /// The body as sent (multipart uploads are not JSON).
    pub raw_body: Vec<u8>,
}

#[derive(Clone)]
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
}

impl Reply {
    pub fn json(v: serde_json::Value) -> Self {
        Self {
            status: 200,
            content_type: "application/json; encoding=utf-8",
            body: v.to_string(),
        }
    }
}

type Handler = Arc<dyn Fn(&Recorded) -> Reply + Send + Sync>;

#[derive(Clone, Default)]
struct State {
    routes: Arc<Mutex<HashMap<String, Handler>>>,
    log: Arc<Mutex<Vec<Recorded>>>,
    /// Async pause before answering, so concurrent callers really overlap a request.
    delay: Arc<Mutex<std::time::Duration>>,
}

pub struct TestServer {
    pub base_url: String,
    state: State,
}

impl TestServer {
    pub async fn start() -> Self {
        let state = State::default();
        let s2 = state.clone();
        let app = axum::Router::new().fallback(
            move |method: Method, uri: Uri, headers: axum::http::HeaderMap, body: Bytes| {
                let state = s2.clone();
                async move {
                    let delay = *state.delay.lock().unwrap();
                    if !delay.is_zero() {
                        tokio::time::sleep(delay).await;
                    }
                    handle(state, method, uri, headers, body)
                }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            base_url: format!("http://{addr}"),
            state,
        }
    }

    /// Answer `path` (any method) with a fixed reply.
    pub fn route(&self, path: &str, reply: Reply) {
        self.route_fn(path, move |_| reply.clone());
    }

    /// Answer `path` with a function of the request.
    pub fn route_fn(&self, path: &str, f: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) {
        self.state
            .routes
            .lock()
            .unwrap()
            .insert(path.to_owned(), Arc::new(f));
    }

    pub fn set_delay(&self, delay: std::time::Duration) {
        *self.state.delay.lock().unwrap() = delay;
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.log.lock().unwrap().clone()
    }

    pub fn count(&self, path: &str) -> usize {
        self.state
            .log
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.path == path)
            .count()
    }

    /// The only request made (asserts there was exactly one).
    pub fn single(&self) -> Recorded {
        let log = self.requests();
        assert_eq!(log.len(), 1, "expected exactly one request, got {log:?}");
        log[0].clone()
    }
}

fn handle(
    state: State,
    method: Method,
    uri: Uri,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    let query = uri
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let headers = headers
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    let rec = Recorded {
        method: method.to_string(),
        path: uri.path().to_owned(),
        query,
        headers,
        body: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
        raw_body: body.to_vec(),
    };
    state.log.lock().unwrap().push(rec.clone());
    let handler = state.routes.lock().unwrap().get(&rec.path).cloned();
    match handler {
        Some(h) => {
            let r = h(&rec);
            (
                StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                [(header::CONTENT_TYPE, r.content_type)],
                r.body,
            )
                .into_response()
        }
        None => (StatusCode::NOT_FOUND, "no route").into_response(),
    }
}
