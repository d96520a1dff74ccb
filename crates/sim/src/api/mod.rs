//! The WeChat HTTP API (protocol sections C and D). Every answer is HTTP 200 with JSON, errors as
//! `{"errcode","errmsg"}` with a ` rid:` suffix, as WeChat does. Handlers are plain functions of
//! (sim, query, body) so they stay small and testable; `route` adapts them to axum.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::Uri;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, any};
use serde_json::Value;

use crate::server::PeerIp;
use crate::sim::Sim;
use crate::state::{ApiErr, ApiResult, COMPONENT, TokenKind};
use crate::world::Account;

pub mod code;
pub mod component;
pub mod media;
pub mod messages;
pub mod qrcode;
pub mod quota;
pub mod subscribe;
pub mod templates;
pub mod users;

pub type Query = HashMap<String, String>;
pub type Handler = fn(&Sim, &Query, &[u8]) -> ApiResult<Value>;

/// WeChat's observed content type for API answers.
const JSON_CT: &str = "application/json; encoding=utf-8";

pub fn json_response(v: &Value) -> Response {
    typed_response(v)
}

/// An answer serialized straight from its type: no `Value` tree (a batchget answer of 100 users
/// as a `Value` is 1,700 map entries to build, sort and free).
fn typed_response<T: serde::Serialize + ?Sized>(v: &T) -> Response {
    match serde_json::to_string(v) {
        Ok(body) => ([(header::CONTENT_TYPE, JSON_CT)], body).into_response(),
        Err(e) => ApiErr::new(-1, format!("system error: {e}"))
            .to_json()
            .to_string()
            .into_response(),
    }
}

pub fn parse_query(raw: Option<&str>) -> Query {
    raw.map(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .into_owned()
            .collect()
    })
    .unwrap_or_default()
}

/// Adapt a handler to any HTTP method (WeChat is lenient about GET vs POST on most paths).
pub fn route(h: Handler) -> MethodRouter<Arc<Sim>> {
    route_typed(h)
}

/// [`route`] for a handler whose answer is a type of its own, serialized without a `Value`.
pub fn route_typed<T: serde::Serialize + 'static>(
    h: fn(&Sim, &Query, &[u8]) -> ApiResult<T>,
) -> MethodRouter<Arc<Sim>> {
    any(
        move |State(sim): State<Arc<Sim>>,
              uri: Uri,
              peer: Option<Extension<PeerIp>>,
              RawQuery(q): RawQuery,
              body: Bytes| async move {
            let q = parse_query(q.as_deref());
            let peer = peer.map(|Extension(p)| p.0);
            note_caller(&sim, peer);
            if let Some(e) = whitelist(&sim, uri.path(), peer) {
                return json_response(&e.to_json());
            }
            match h(&sim, &q, &body) {
                Ok(v) => typed_response(&v),
                Err(e) => json_response(&e.to_json()),
            }
        },
    )
}

/// Who calls, as WeChat's whitelist sees it (tests of the relay's egress).
pub(crate) fn note_caller(sim: &Sim, peer: Option<std::net::IpAddr>) {
    if let Some(ip) = peer {
        let mut s = sim.lock();
        if s.callers.len() < 64 || s.callers.contains_key(&ip.to_string()) {
            *s.callers.entry(ip.to_string()).or_insert(0) += 1;
        }
    }
}

/// The platform's IP whitelist (protocol B.1): 61004 for platform and authorizer calls, 40164
/// for an account's own `cgi-bin/token`.
pub(crate) fn whitelist(sim: &Sim, path: &str, peer: Option<std::net::IpAddr>) -> Option<ApiErr> {
    let list = &sim.cfg.ip_whitelist;
    if list.is_empty() {
        return None;
    }
    let ip = peer.map(|p| p.to_string()).unwrap_or_default();
    if list.contains(&ip) {
        return None;
    }
    Some(
        if path == "/cgi-bin/token" || path == "/cgi-bin/stable_token" {
            ApiErr::new(40164, format!("invalid ip {ip}, not in whitelist"))
        } else {
            ApiErr::new(
                61004,
                format!("access clientip is not registered requestIP: {ip}"),
            )
        },
    )
}

pub fn ok() -> Value {
    serde_json::json!({"errcode": 0, "errmsg": "ok"})
}

/// The JSON body; 47001 if it is not a JSON object.
pub fn body_json(body: &[u8]) -> ApiResult<serde_json::Map<String, Value>> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(ApiErr::data_format()),
    }
}

pub fn str_field<'a>(m: &'a serde_json::Map<String, Value>, k: &str) -> &'a str {
    m.get(k).and_then(Value::as_str).unwrap_or("")
}

/// Either spelling of a component API's token (protocol: both are in circulation).
pub fn component_token(q: &Query) -> Option<&str> {
    q.get("component_access_token")
        .or_else(|| q.get("access_token"))
        .map(String::as_str)
}

/// A component API's caller: a live component_access_token; counts the platform's quota.
pub fn component_caller(sim: &Sim, q: &Query, path: &'static str) -> ApiResult<()> {
    let now = sim.now();
    let mut s = sim.lock();
    let rec = s.check_token(component_token(q), now)?;
    if rec.kind != TokenKind::Component {
        return Err(ApiErr::invalid_token());
    }
    s.take_quota(COMPONENT, path, sim.quota_limit(path), now)
}

/// `component_appid` in a component API body must be the platform's.
pub fn check_component_appid(sim: &Sim, m: &serde_json::Map<String, Value>) -> ApiResult<()> {
    if str_field(m, "component_appid") == sim.cfg.component_appid {
        Ok(())
    } else {
        Err(ApiErr::new(61011, "invalid component"))
    }
}

/// An account API's caller: an authorizer_access_token or the account's own access_token;
/// counts the account's daily quota for `path`.
pub fn account_caller<'w>(sim: &'w Sim, q: &Query, path: &'static str) -> ApiResult<&'w Account> {
    let now = sim.now();
    let mut s = sim.lock();
    let rec = s.check_token(q.get("access_token").map(String::as_str), now)?;
    let idx = match (rec.kind, rec.account) {
        (TokenKind::Authorizer | TokenKind::Client, Some(i)) => i,
        _ => return Err(ApiErr::invalid_token()),
    };
    let a = sim
        .world
        .accounts
        .get(usize::from(idx))
        .ok_or_else(ApiErr::invalid_token)?;
    s.take_quota(idx, path, sim.quota_limit(path), now)?;
    Ok(a)
}

/// Unknown API paths: WeChat answers a JSON error rather than an HTML 404.
pub async fn not_found() -> Response {
    (
        axum::http::StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, JSON_CT)],
        ApiErr::new(-1, "api not found").to_json().to_string(),
    )
        .into_response()
}
