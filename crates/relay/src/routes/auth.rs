//! The two browser pages: `GET /auth/start` (授权发起页 on the registered domain, which WeChat
//! checks through the Referer) and `GET /auth/callback` (the redirect_uri that records the
//! auth_code). Both answer small self-contained Chinese pages with English beneath.
//!
//! Both require the attempt's signed `state` (auth_state.rs), issued by the desk with the key it
//! shares with the relay: a code that does not come back with one is refused and stores nothing,
//! so an outsider cannot make the desk spend api_query_auth calls on made-up codes.

use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use url::form_urlencoded;

use crate::AppState;
use crate::auth_state::{self, StateError};
use crate::events;
use crate::http::{html_escape, now_unix};
use crate::routes::wechat::query_map;
use crate::store::Appended;

/// A complete HTML page. `script` is trusted (built by us, already escaped for a script block).
fn page(status: StatusCode, title_zh: &str, body_html: &str, script: Option<&str>) -> Response {
    let script = script
        .map(|s| format!("<script>{s}</script>"))
        .unwrap_or_default();
    let html = format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"referrer\" content=\"origin\"><title>{title}</title><style>\
         body{{font-family:-apple-system,'PingFang SC','Microsoft YaHei',sans-serif;background:#f5f5f5;margin:0}}\
         main{{max-width:32rem;margin:12vh auto;background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0002}}\
         h1{{font-size:1.4rem;margin-top:0}} .en{{color:#666;font-size:.9rem}}\
         .btn{{display:inline-block;background:#07c160;color:#fff;padding:.6rem 1.4rem;border-radius:4px;text-decoration:none}}\
         </style></head><body><main>{body}</main>{script}</body></html>",
        title = html_escape(title_zh),
        body = body_html,
    );
    let mut resp = (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        html,
    )
        .into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; base-uri 'none'"),
    );
    // WeChat's login page checks the Referer host against the registered domain: send at least
    // our origin, also across schemes.
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("origin"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn error_page(status: StatusCode, zh: &str, en: &str) -> Response {
    let body = format!(
        "<h1>{}</h1><p>请回到 wxdesk 重新发起授权。</p><p class=\"en\">{} Please start the authorization again from wxdesk.</p>",
        html_escape(zh),
        html_escape(en)
    );
    page(status, zh, &body, None)
}

/// The refusal page, unless this relay's key signed the state and it is still valid.
fn refuse_state(state: &AppState, route: &'static str, st: Option<&str>) -> Option<Response> {
    let err = auth_state::verify(state.config().api_key.expose(), st, now_unix()).err()?;
    tracing::warn!(route, reason = err.code(), "authorization page refused");
    let (status, zh, en) = match err {
        StateError::Missing => (
            StatusCode::BAD_REQUEST,
            "链接缺少 state 参数，无法确认授权是由 wxdesk 发起的",
            "The link has no state, so it cannot be matched to an authorization started in wxdesk.",
        ),
        StateError::Malformed => (
            StatusCode::BAD_REQUEST,
            "state 参数无效",
            "The state parameter is malformed.",
        ),
        StateError::BadMac => (
            StatusCode::FORBIDDEN,
            "state 校验失败：此授权不是本平台的 wxdesk 发起的，或中继与桌面端的中继密钥不一致",
            "The state does not verify: this authorization was not started by wxdesk for this platform, or the relay key differs between the relay and the desk.",
        ),
        StateError::Expired => (
            StatusCode::FORBIDDEN,
            "授权链接已过期（有效期约 10 分钟）",
            "This authorization link has expired (it is valid for about 10 minutes).",
        ),
        StateError::FromTheFuture => (
            StatusCode::FORBIDDEN,
            "授权链接的时间超前于中继：请检查电脑和中继服务器的时钟",
            "The link is dated ahead of the relay: check the clocks of the computer and the relay server.",
        ),
    };
    Some(error_page(status, zh, en))
}

/// Plain printable ASCII, bounded: what pre-auth codes, appids and states look like.
fn plain_value(v: &str, max: usize) -> bool {
    !v.is_empty() && v.len() <= max && v.bytes().all(|b| b.is_ascii_graphic())
}

/// `GET /auth/start?pre_auth_code=…&auth_type=1|2|3[&biz_appid=…]&state=…[&mobile=1]`
pub async fn auth_start(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let q = query_map(raw.as_deref());
    let st = q.get("state").map(String::as_str);
    if let Some(page) = refuse_state(&state, "auth_start", st) {
        return page;
    }
    let Some(pre_auth_code) = q.get("pre_auth_code").filter(|v| plain_value(v, 512)) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "缺少预授权码 pre_auth_code",
            "Missing pre_auth_code.",
        );
    };
    let auth_type = q.get("auth_type").map(String::as_str).unwrap_or("3");
    if !(auth_type.len() <= 2
        && auth_type.bytes().all(|b| b.is_ascii_digit())
        && !auth_type.is_empty())
    {
        return error_page(
            StatusCode::BAD_REQUEST,
            "auth_type 参数无效",
            "Invalid auth_type.",
        );
    }
    let biz_appid = q.get("biz_appid").filter(|v| !v.is_empty());
    if biz_appid.is_some_and(|v| !plain_value(v, 64)) {
        return error_page(
            StatusCode::BAD_REQUEST,
            "biz_appid 参数无效",
            "Invalid biz_appid.",
        );
    }
    let mobile = q.get("mobile").is_some_and(|v| v == "1");
    let link = login_link(
        &state,
        pre_auth_code,
        auth_type,
        biz_appid.map(String::as_str),
        st,
        mobile,
    );

    // JSON string literal, with `<` escaped so the value can never close the script element.
    let js_link = serde_json::Value::String(link.clone())
        .to_string()
        .replace('<', "\\u003c");
    let script = format!("window.location.href = {js_link};");
    let body = format!(
        "<h1>正在前往微信授权页…</h1><p>如果页面没有自动跳转，请点击下面的按钮，用公众号或小程序管理员的微信扫码授权。</p>\
         <p class=\"en\">Taking you to the WeChat authorization page. If nothing happens, press the button.</p>\
         <p><a class=\"btn\" href=\"{}\">前往授权 / Continue</a></p>",
        html_escape(&link)
    );
    page(StatusCode::OK, "正在前往微信授权页", &body, Some(&script))
}

/// The componentloginpage (PC) or bindcomponent (mobile) link, protocol C.3.
fn login_link(
    state: &AppState,
    pre_auth_code: &str,
    auth_type: &str,
    biz_appid: Option<&str>,
    st: Option<&str>,
    mobile: bool,
) -> String {
    let cfg = state.config();
    let mut redirect = format!("{}/auth/callback", cfg.public_base_url);
    if let Some(s) = st {
        redirect.push_str("?state=");
        redirect.extend(form_urlencoded::byte_serialize(s.as_bytes()));
    }
    let mut params = form_urlencoded::Serializer::new(String::new());
    if mobile {
        params
            .append_pair("action", "bindcomponent")
            .append_pair("no_scan", "1");
    }
    params
        .append_pair("component_appid", &cfg.component_appid)
        .append_pair("pre_auth_code", pre_auth_code)
        .append_pair("redirect_uri", &redirect)
        .append_pair("auth_type", auth_type);
    if let Some(b) = biz_appid {
        params.append_pair("biz_appid", b);
    }
    let query = params.finish();
    if mobile {
        format!(
            "{}/safe/bindcomponent?{query}#wechat_redirect",
            cfg.login_base
        )
    } else {
        format!("{}/cgi-bin/componentloginpage?{query}", cfg.login_base)
    }
}

/// `GET /auth/callback?state=…&auth_code=…&expires_in=…`: WeChat's redirect after 授权. The
/// state is checked first: without a genuine one nothing else of the request matters.
pub async fn auth_callback(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let q = query_map(raw.as_deref());
    let st = q.get("state").map(String::as_str);
    if let Some(page) = refuse_state(&state, "auth_callback", st) {
        return page;
    }
    let Some(auth_code) = q.get("auth_code").filter(|v| !v.is_empty()) else {
        tracing::warn!(
            route = "auth_callback",
            reason = "missing_code",
            "auth callback refused"
        );
        return error_page(
            StatusCode::BAD_REQUEST,
            "授权未完成：缺少授权码",
            "Authorization not completed: the auth_code is missing.",
        );
    };
    if !plain_value(auth_code, 512) {
        return error_page(
            StatusCode::BAD_REQUEST,
            "授权码格式无效",
            "The auth_code is malformed.",
        );
    }
    let expires_in = match q.get("expires_in").map(|v| v.parse::<i64>()) {
        None => 600,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            return error_page(
                StatusCode::BAD_REQUEST,
                "expires_in 参数无效",
                "Invalid expires_in.",
            );
        }
    };
    if expires_in <= 0 {
        tracing::warn!(
            route = "auth_callback",
            reason = "stale_code",
            "auth callback refused"
        );
        return error_page(
            StatusCode::BAD_REQUEST,
            "授权码已过期",
            "The auth_code has expired.",
        );
    }
    let ev = events::auth_callback(auth_code, expires_in, st, now_unix());
    match state.store().append(ev).await {
        Ok(Appended::Stored(seq)) => {
            tracing::info!(route = "auth_callback", seq, "auth_code recorded")
        }
        Ok(Appended::Duplicate(seq)) => {
            tracing::info!(route = "auth_callback", seq, "auth_code already recorded")
        }
        Err(e) => {
            tracing::error!(route = "auth_callback", error = %e, "auth_code not stored");
            return error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "暂时无法记录授权结果，请刷新本页重试",
                "Could not record the result; reload this page to retry.",
            );
        }
    }
    page(
        StatusCode::OK,
        "授权完成",
        "<h1>授权完成，可关闭此页</h1><p>wxdesk 会自动完成后续步骤。</p>\
         <p class=\"en\">Authorization complete. You may close this page; wxdesk finishes the rest.</p>",
        None,
    )
}
