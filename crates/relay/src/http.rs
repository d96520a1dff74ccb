//! HTTP plumbing shared by the routes: the refusal type (a status, a stable code and a short
//! bilingual message — never internals or secrets) and the access-log middleware (method,
//! route pattern, status, latency; never the query string, which carries signatures and
//! access tokens).

use std::time::Instant;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{MatchedPath, Request};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// A request refused or failed. `code` is stable and machine-readable; `message` is for humans.
#[derive(Debug, Clone)]
pub struct Reject {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: &'static str,
    /// WeChat-facing routes answer in plain text, the private API in JSON.
    pub json: bool,
}

impl Reject {
    /// A plain-text refusal for the routes WeChat calls.
    pub const fn text(status: StatusCode, code: &'static str, message: &'static str) -> Self {
        Self {
            status,
            code,
            message,
            json: false,
        }
    }

    /// A JSON refusal for the private API.
    pub const fn json(status: StatusCode, code: &'static str, message: &'static str) -> Self {
        Self {
            status,
            code,
            message,
            json: true,
        }
    }

    /// Storage failed: the caller must retry (WeChat does so by itself on a non-`success` answer).
    pub const fn storage(json: bool) -> Self {
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "storage_unavailable",
            message: "暂时无法保存，请稍后重试 / storage unavailable, retry later",
            json,
        }
    }
}

impl IntoResponse for Reject {
    fn into_response(self) -> Response {
        if self.json {
            let body = serde_json::json!({ "error": self.code, "message": self.message });
            (self.status, axum::Json(body)).into_response()
        } else {
            (
                self.status,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                format!("{}: {}\n", self.code, self.message),
            )
                .into_response()
        }
    }
}

/// The 404 for every unknown route, in JSON (nothing about what exists is revealed).
pub async fn not_found() -> Reject {
    Reject::json(
        StatusCode::NOT_FOUND,
        "not_found",
        "没有这个地址 / no such route",
    )
}

/// One log line per request. The route pattern (`/wechat/{appid}/callback`) is logged, not the
/// URI: queries carry msg_signature, auth codes and, on the egress route, access tokens.
pub async fn access_log(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    // A shared string: cloning it copies no text (this runs for every push).
    let matched = req.extensions().get::<MatchedPath>().cloned();
    let route = matched.as_ref().map_or("<unmatched>", MatchedPath::as_str);
    let resp = next.run(req).await;
    let status = resp.status().as_u16();
    let micros = started.elapsed().as_micros() as u64;
    if status >= 500 {
        tracing::warn!(%method, route, status, micros, "request");
    } else {
        tracing::debug!(%method, route, status, micros, "request");
    }
    resp
}

/// How long reading the rest of a refused request's body may take.
const DRAIN_TIME: std::time::Duration = std::time::Duration::from_secs(10);

/// Reads what the handler left of the request's body before the answer goes out. The desks'
/// routes may refuse before reading the body (an unknown key, a viewer creating a job); hyper
/// then closes the connection with the body unread and the kernel resets it, so a desk still
/// sending a large job or upload got "broken pipe" instead of the refusal that says what to do.
/// Reading the rest (at most `max` bytes — the routes' own largest body — for `DRAIN_TIME`;
/// beyond that the connection is closed as before) lets the answer arrive and the connection
/// be reused. Not on WeChat's push routes: they read their (small) bodies before any check.
pub async fn finish_reading_body(req: Request, next: Next, max: usize) -> Response {
    let (parts, body) = req.into_parts();
    let shared = SharedBody(std::sync::Arc::new(std::sync::Mutex::new(Some(body))));
    let resp = next
        .run(Request::from_parts(parts, Body::new(shared.clone())))
        .await;
    let rest = shared.take();
    if let Some(mut rest) = rest.filter(|b| !HttpBody::is_end_stream(b)) {
        let drain = async {
            let mut left = max;
            while let Some(Ok(frame)) =
                std::future::poll_fn(|cx| std::pin::Pin::new(&mut rest).poll_frame(cx)).await
            {
                let n = frame.data_ref().map_or(0, |d| d.len());
                if n > left {
                    break;
                }
                left -= n;
            }
        };
        let _ = tokio::time::timeout(DRAIN_TIME, drain).await;
    }
    resp
}

/// The request's body, shared between the handler (which may read some or none of it) and
/// `finish_reading_body` (which reads the rest).
#[derive(Clone)]
struct SharedBody(std::sync::Arc<std::sync::Mutex<Option<Body>>>);

impl SharedBody {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Body>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn take(&self) -> Option<Body> {
        self.lock().take()
    }
}

impl HttpBody for SharedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        match self.lock().as_mut() {
            Some(body) => std::pin::Pin::new(body).poll_frame(cx),
            None => std::task::Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.lock().as_ref().is_none_or(HttpBody::is_end_stream)
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.lock()
            .as_ref()
            .map(HttpBody::size_hint)
            .unwrap_or_default()
    }
}

/// Current unix time in seconds.
pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Minimal HTML escaping for text and attribute values.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Connections the kernel may hold completed for the relay before it accepts them (capped by
/// `net.core.somaxconn`, 4096 on current kernels). tokio's `TcpListener::bind` asks for 128, as
/// std does; WeChat retries in bursts from many servers at once, and at 40,000 pushes/s with
/// ~500 connections opening together the queue overflowed (`ListenOverflows` in
/// `nstat`): each dropped SYN is retried by the client after a second, so a few pushes waited
/// over 1 s (bench/RESULTS.md, 2026-12-05).
pub const LISTEN_BACKLOG: u32 = 4096;

/// Binds `addr` ("host:port"; the first address it resolves to that binds) with
/// [`LISTEN_BACKLOG`].
pub async fn bind_listener(addr: &str) -> std::io::Result<tokio::net::TcpListener> {
    let mut last = None;
    for a in tokio::net::lookup_host(addr).await? {
        let socket = if a.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        // As std and tokio do on Unix: a restarted relay can bind while old connections linger.
        #[cfg(unix)]
        socket.set_reuseaddr(true)?;
        match socket.bind(a).and_then(|()| socket.listen(LISTEN_BACKLOG)) {
            Ok(listener) => return Ok(listener),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{addr} resolves to no address"),
        )
    }))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Connections to a listener that does not accept yet: each completes only if the kernel
    /// queues it. Beyond the backlog the SYN is dropped and the client retries after 1 s, then
    /// 3 s, so a short backlog fails here (tried: tokio's `TcpListener::bind`, 128).
    #[tokio::test]
    async fn the_listener_queues_a_burst_of_connections_it_has_not_accepted_yet() {
        let listener = bind_listener("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut open = Vec::new();
        for n in 0..600 {
            let connect = tokio::net::TcpStream::connect(addr);
            let stream = tokio::time::timeout(std::time::Duration::from_secs(3), connect)
                .await
                .unwrap_or_else(|_| panic!("connection {n} was not queued"))
                .unwrap();
            open.push(stream);
        }
        drop(listener);
    }

    #[test]
    fn html_escape_neutralises_markup_and_quotes() {
        assert_eq!(
            html_escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
