//! HTTP plumbing shared by the routes: the refusal type (a status, a stable code and a short
//! bilingual message — never internals or secrets) and the access-log middleware (method,
//! route pattern, status, latency; never the query string, which carries signatures and
//! access tokens).

use std::time::Instant;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escape_neutralises_markup_and_quotes() {
        assert_eq!(
            html_escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
