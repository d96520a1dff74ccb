//! `/api/v1/wechat/{path}`: the desk's WeChat API calls, forwarded from the relay's
//! (whitelisted) IP. Narrow on purpose: a leaked or guessed relay key must not turn the relay
//! into a general proxy from an IP WeChat trusts. Only GET and POST, only the path families
//! below, only plain paths (no encoding, dot segments, empty segments or anything URL-like),
//! and the request goes nowhere but the configured upstream. Refusals are
//! `{"error": code, "reason": "中文 / English"}`.

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::AppState;

/// The route's prefix; what follows it (with its leading `/`) is the WeChat API path.
const PREFIX: &str = "/api/v1/wechat";
/// Longest WeChat API path accepted (the longest the product calls is under 60).
const MAX_PATH: usize = 256;
/// Longest query (access_token plus a few parameters).
const MAX_QUERY: usize = 4096;

/// How a family of paths is recognised.
enum Match {
    /// This path or any path below it (`/wxa` matches `/wxa/commit`, not `/wxaapi/x`).
    Under(&'static str),
    /// A path directly in `dir` whose last segment starts with `stem`.
    Stem {
        dir: &'static str,
        stem: &'static str,
    },
    /// A path below `dir` whose remainder contains `needle`.
    Containing {
        dir: &'static str,
        needle: &'static str,
    },
}

impl Match {
    fn matches(&self, path: &str) -> bool {
        match self {
            Match::Under(p) => path
                .strip_prefix(p)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/')),
            Match::Stem { dir, stem } => path
                .strip_prefix(dir)
                .is_some_and(|rest| rest.starts_with(stem) && !rest.contains('/')),
            Match::Containing { dir, needle } => path
                .strip_prefix(dir)
                .is_some_and(|rest| rest.contains(needle)),
        }
    }
}

/// Every WeChat API path family the product calls through the relay, and why. The one place
/// to change when the product starts calling something new.
const ALLOWED: &[(Match, &str)] = &[
    (
        Match::Stem {
            dir: "/cgi-bin/component/",
            stem: "api_",
        },
        "third-party platform: component token, pre_auth_code, api_query_auth, authorizer tokens, info and list, ticket push",
    ),
    (
        Match::Under("/cgi-bin/component/clear_quota"),
        "resetting the platform's own API quota (and /v2)",
    ),
    (
        Match::Containing {
            dir: "/cgi-bin/component/",
            needle: "template",
        },
        "the platform's mini-program code template library",
    ),
    (
        Match::Under("/cgi-bin/token"),
        "an account's own access_token (connection check of a directly configured account)",
    ),
    (
        Match::Under("/cgi-bin/clear_quota"),
        "resetting an authorized account's API quota",
    ),
    (
        Match::Under("/cgi-bin/openapi/quota/get"),
        "quota left on a path (the send engine checks the template quota)",
    ),
    (
        Match::Under("/cgi-bin/message/template/send"),
        "send engine: official-account template messages",
    ),
    (
        Match::Under("/cgi-bin/message/custom/send"),
        "send engine: customer-service messages, and the 全网发布 API reply",
    ),
    (
        Match::Under("/cgi-bin/message/subscribe/bizsend"),
        "send engine: official-account subscribe messages",
    ),
    (
        Match::Under("/cgi-bin/message/wxopen/template/uniform_send"),
        "send engine: mini-program uniform messages",
    ),
    (
        Match::Under("/cgi-bin/template"),
        "official-account template library: industry, add, list, delete",
    ),
    (
        Match::Under("/cgi-bin/user/get"),
        "follower sync: the openid list",
    ),
    (
        Match::Under("/cgi-bin/user/info/batchget"),
        "follower sync: nicknames, subscribe state, unionids",
    ),
    (
        Match::Under("/cgi-bin/tags/get"),
        "follower tags for audience lists",
    ),
    (
        Match::Under("/cgi-bin/qrcode/create"),
        "扫码找到自己: a temporary QR code of the account for staff to scan",
    ),
    (
        Match::Under("/cgi-bin/media/upload"),
        "temporary media (images) for customer-service messages",
    ),
    (
        Match::Under("/sns/component/jscode2session"),
        "mini-program login on behalf of an authorized mini program",
    ),
    (
        Match::Under("/sns/jscode2session"),
        "mini-program login of a directly configured mini program",
    ),
    (
        Match::Under("/wxaapi/newtmpl"),
        "subscribe-message templates (categories, keywords, add, list, delete)",
    ),
    (
        Match::Under("/wxa"),
        "mini-program code management: commit, audit, release, domains, code templates, QR codes",
    ),
];

/// Whether a plain path is in one of the families.
pub(crate) fn on_the_list(path: &str) -> bool {
    ALLOWED.iter().any(|(m, _)| m.matches(path))
}

/// `/segment/segment…` of ASCII letters, digits, `_` and `-` only: nothing percent-encoded,
/// no dots, no empty segment (`//host` would read as another host), no `:` `@` `;` `\`.
pub(crate) fn plain_path(path: &str) -> bool {
    path.len() <= MAX_PATH
        && path.starts_with('/')
        && path[1..].split('/').all(|seg| {
            !seg.is_empty()
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        })
}

fn refuse(status: StatusCode, error: &'static str, reason: &'static str) -> Response {
    (status, Json(json!({ "error": error, "reason": reason }))).into_response()
}

/// Forward method, query and body to `upstream{path}` and return the upstream's status, content
/// type and body.
pub async fn egress(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if method != Method::GET && method != Method::POST {
        tracing::warn!(%method, reason = "method_not_allowed", "egress refused");
        let mut resp = refuse(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "转发只允许 GET 和 POST / only GET and POST are forwarded",
        );
        resp.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, POST"));
        return resp;
    }
    // The raw, still percent-encoded path: checked exactly as it would be sent.
    let path = uri.path().strip_prefix(PREFIX).unwrap_or_default();
    if !plain_path(path) {
        // Not logged: it is whatever the caller made up.
        tracing::warn!(%method, reason = "bad_path", "egress refused");
        return refuse(
            StatusCode::BAD_REQUEST,
            "bad_path",
            "转发路径无效：只能是不含编码、点号和空段的微信接口路径 / invalid path: a plain WeChat API path without encoding, dot or empty segments",
        );
    }
    if !on_the_list(path) {
        // Safe to log: plain_path allows nothing but letters, digits, `_`, `-` and `/`.
        tracing::warn!(%method, route = path, reason = "path_not_allowed", "egress refused");
        return refuse(
            StatusCode::FORBIDDEN,
            "path_not_allowed",
            "中继不转发这个微信接口（不在允许列表中），请升级 wxdesk-relay / this WeChat API is not on the relay's allowlist; upgrade wxdesk-relay",
        );
    }
    let query = uri.query().filter(|q| !q.is_empty());
    if query.is_some_and(|q| q.len() > MAX_QUERY) {
        tracing::warn!(%method, route = path, reason = "query_too_long", "egress refused");
        return refuse(
            StatusCode::BAD_REQUEST,
            "bad_query",
            "查询参数过长 / query string too long",
        );
    }
    let Some(url) = upstream_url(&state.config().upstream, path, query) else {
        tracing::warn!(%method, route = path, reason = "bad_target", "egress refused");
        return refuse(
            StatusCode::BAD_REQUEST,
            "bad_path",
            "转发目标无效 / invalid forwarding target",
        );
    };
    forward(&state, method, path, url, &headers, body).await
}

/// `upstream` + `path` + `?query`, and only if the result is still on the upstream's origin
/// under its base path (a second check, after `plain_path`, that nothing can leave it).
fn upstream_url(upstream: &str, path: &str, query: Option<&str>) -> Option<url::Url> {
    let base = url::Url::parse(upstream).ok()?;
    let mut url = url::Url::parse(&format!("{upstream}{path}")).ok()?;
    url.set_query(query);
    let want_path = format!("{}{path}", base.path().trim_end_matches('/'));
    (url.origin() == base.origin() && url.path() == want_path && url.fragment().is_none())
        .then_some(url)
}

async fn forward(
    state: &AppState,
    method: Method,
    route: &str,
    url: url::Url,
    headers: &HeaderMap,
    body: Bytes,
) -> Response {
    let mut req = state.http().request(method.clone(), url).body(body);
    if let Some(ct) = headers.get(header::CONTENT_TYPE) {
        req = req.header(header::CONTENT_TYPE, ct.clone());
    }
    let unreachable = || {
        refuse(
            StatusCode::BAD_GATEWAY,
            "upstream_unreachable",
            "无法连接微信接口，请稍后重试 / WeChat API unreachable, retry later",
        )
    };
    let resp = match req.send().await {
        Ok(r) => r,
        Err(e) => {
            // without_url: the query holds access_token.
            tracing::warn!(%method, route, error = %e.without_url(), "egress request failed");
            return unreachable();
        }
    };
    let status = resp.status();
    let content_type = resp.headers().get(header::CONTENT_TYPE).cloned();
    let bytes = match resp.bytes().await {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(%method, route, error = %e.without_url(), "egress response failed");
            return unreachable();
        }
    };
    tracing::info!(%method, route, status = status.as_u16(), "egress forwarded");
    let mut out = Response::new(Body::from(bytes));
    *out.status_mut() = status;
    if let Some(ct) = content_type {
        out.headers_mut().insert(header::CONTENT_TYPE, ct);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the handler forwards.
    fn allowed(path: &str) -> bool {
        plain_path(path) && on_the_list(path)
    }

    #[test]
    fn every_path_the_client_calls_is_allowed() {
        // crates/wechat/src/api and core's send paths, as of this list.
        for p in [
            "/cgi-bin/component/api_component_token",
            "/cgi-bin/component/api_create_preauthcode",
            "/cgi-bin/component/api_query_auth",
            "/cgi-bin/component/api_authorizer_token",
            "/cgi-bin/component/api_get_authorizer_info",
            "/cgi-bin/component/api_get_authorizer_list",
            "/cgi-bin/component/api_start_push_ticket",
            "/cgi-bin/component/clear_quota",
            "/cgi-bin/component/clear_quota/v2",
            "/cgi-bin/token",
            "/cgi-bin/clear_quota",
            "/cgi-bin/openapi/quota/get",
            "/cgi-bin/message/custom/send",
            "/cgi-bin/message/template/send",
            "/cgi-bin/message/subscribe/bizsend",
            "/cgi-bin/message/wxopen/template/uniform_send",
            "/cgi-bin/template/api_set_industry",
            "/cgi-bin/template/get_industry",
            "/cgi-bin/template/api_add_template",
            "/cgi-bin/template/get_all_private_template",
            "/cgi-bin/template/del_private_template",
            "/cgi-bin/user/get",
            "/cgi-bin/user/info/batchget",
            "/cgi-bin/tags/get",
            "/cgi-bin/qrcode/create",
            "/sns/component/jscode2session",
            "/sns/jscode2session",
            // What the product calls next.
            "/wxaapi/newtmpl/gettemplate",
            "/wxa/commit",
            "/wxa/submit_audit",
            "/wxa/gettemplatelist",
            "/cgi-bin/component/get_template_draft_list",
            "/cgi-bin/media/upload",
        ] {
            assert!(allowed(p), "{p}");
        }
    }

    #[test]
    fn other_apis_and_anything_unplain_are_refused() {
        for p in [
            "",
            "/",
            "/cgi-bin/menu/create",
            "/cgi-bin/user/tag/batchtagging",
            "/cgi-bin/component/setprivacysetting",
            "/cgi-bin/component/api_x/y",
            "/cgi-bin/tokenx",
            "/wxaapi/other",
            "/wxadmin",
            "/cgi-bin/token/",
            "//evil.example/cgi-bin/token",
            "/cgi-bin/../cgi-bin/token",
            "/cgi-bin/./token",
            "/cgi-bin%2ftoken",
            "/cgi-bin/%74oken",
            "/cgi-bin/token;x=1",
            "/cgi-bin/token?x=1",
            "/cgi-bin\\token",
            "/http://evil.example/cgi-bin/token",
            "/user@evil.example/cgi-bin/token",
        ] {
            assert!(!allowed(p), "{p:?}");
        }
    }

    #[test]
    fn the_target_never_leaves_the_upstream() {
        let u = upstream_url(
            "http://127.0.0.1:9/base",
            "/cgi-bin/token",
            Some("access_token=AT%40x&next=http://evil.example/#frag"),
        )
        .expect("a plain path stays on the upstream");
        assert_eq!(u.host_str(), Some("127.0.0.1"));
        assert_eq!(u.path(), "/base/cgi-bin/token");
        assert_eq!(u.fragment(), None, "{u}");
    }
}
