//! The private API for the desktop app and the CLI (behind the bearer key), and `/healthz`.

use std::time::Duration;

use axum::Json;
use axum::extract::{RawQuery, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;

use crate::AppState;
use crate::http::{Reject, now_unix};
use crate::routes::wechat::query_map;

/// Longest long-poll hold.
pub const MAX_WAIT_SECS: u64 = 30;
/// Largest page.
pub const MAX_LIMIT: u32 = 1000;
/// Page size when `limit` is absent.
pub const DEFAULT_LIMIT: u32 = 500;

/// Bearer check for everything under `/api/v1`. Both sides are hashed first so the comparison
/// is constant-time regardless of the presented key's length. A refusal says nothing else.
pub async fn require_bearer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, key)| key.trim());
    let ok = presented.is_some_and(|k| {
        bool::from(
            Sha1::digest(k.as_bytes())
                .as_slice()
                .ct_eq(state.api_key_digest()),
        )
    });
    // A team desk reads the shared event log with its member key (viewer and up).
    let member_ok = !ok
        && req.uri().path() == "/api/v1/events"
        && match (state.team(), presented) {
            (Some(team), Some(k)) => matches!(
                crate::team::members::authenticate(&team.db, k).await,
                Ok(Some(_))
            ),
            _ => false,
        };
    if !ok && !member_ok {
        tracing::warn!(
            reason = if presented.is_some() {
                "wrong_key"
            } else {
                "no_key"
            },
            "api request refused"
        );
        let mut resp = (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "error": "unauthorized" })),
        )
            .into_response();
        resp.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return resp;
    }
    next.run(req).await
}

/// `GET /api/v1/ticket`
pub async fn ticket(State(state): State<AppState>) -> Result<Response, Reject> {
    let stored = state.store().ticket().await.map_err(|e| {
        tracing::error!(error = %e, "ticket read failed");
        Reject::storage(true)
    })?;
    let no_ticket = Reject::json(
        StatusCode::NOT_FOUND,
        "no_ticket",
        "尚未收到 component_verify_ticket（微信每 10 分钟推送一次）/ no ticket received yet",
    );
    let Some(t) = stored else {
        return Err(no_ticket);
    };
    let Some(ticket) = state.unseal(&t.sealed) else {
        // Sealed with a key we no longer have (EncodingAESKey changed twice): treat as absent.
        tracing::warn!(
            "stored ticket cannot be unsealed with the configured keys; waiting for the next push"
        );
        return Err(no_ticket);
    };
    Ok(Json(json!({
        "ticket": ticket,
        "create_time": t.create_time,
        "received_at": t.received_at,
        "age_secs": (now_unix() - t.create_time).max(0),
    }))
    .into_response())
}

/// `GET /api/v1/keys?nonce=N` (N: 16–128 letters or digits, fresh for each ask)
///
/// Answers `{"component_appid": …, "token": FP, "aes_key": FP, "aes_key_previous": FP|null}`
/// where each FP is the keyed fingerprint of the relay's 消息校验 Token / EncodingAESKey for the
/// nonce (`wxdesk_wechat::crypto::fingerprint`). A desk compares them with its own to find a
/// mistyped or stale secret without either side sending one.
pub async fn keys(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, Reject> {
    use wxdesk_wechat::crypto::fingerprint::{KeyKind, key_fingerprint, valid_nonce};
    let q = query_map(raw.as_deref());
    let nonce = q
        .get("nonce")
        .map(String::as_str)
        .filter(|n| valid_nonce(n))
        .ok_or_else(|| {
            bad_query("nonce 应为 16–128 位字母或数字 / nonce must be 16–128 letters or digits")
        })?;
    let cfg = state.config();
    Ok(Json(json!({
        "component_appid": cfg.component_appid,
        "token": key_fingerprint(KeyKind::Token, cfg.component_token.expose(), nonce),
        "aes_key": key_fingerprint(KeyKind::AesKey, cfg.component_aes_key.expose(), nonce),
        "aes_key_previous": cfg
            .component_aes_key_previous
            .as_ref()
            .map(|k| key_fingerprint(KeyKind::AesKey, k.expose(), nonce)),
    }))
    .into_response())
}

fn bad_query(message: &'static str) -> Reject {
    Reject::json(StatusCode::BAD_REQUEST, "bad_query", message)
}

/// `GET /api/v1/events?after=SEQ&wait=SECS&limit=N`
///
/// Answers `{"events": [...], "last_seq": N, "first_seq": F}` at once when events exist after
/// `after`, else holds up to `wait` seconds (≤ 30) for the next commit.
///
/// - `last_seq` is the seq of the last event returned, or — when none is — the highest seq the
///   log has ever assigned, so a client whose cursor is ahead of it can tell the relay's log was
///   reset.
/// - `first_seq` (added later; absent from older relays) is the smallest seq still in the log,
///   or the highest ever assigned + 1 when the log is empty. Retention deletes old events, so a
///   client with `after + 1 < first_seq` has missed events `after + 1 ..= first_seq - 1` for
///   good: it should record the gap and move on. It is read together with the page, so the two
///   agree; a retention run right after the answer can only raise it.
pub async fn events(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, Reject> {
    let q = query_map(raw.as_deref());
    let after = match q.get("after") {
        None => 0,
        Some(v) => v.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            bad_query("after 应为非负整数 / after must be a non-negative integer")
        })?,
    };
    let wait = match q.get("wait") {
        None => 0,
        Some(v) => v
            .parse::<u64>()
            .map_err(|_| bad_query("wait 应为秒数 / wait must be a number of seconds"))?
            .min(MAX_WAIT_SECS),
    };
    let limit = match q.get("limit") {
        None => DEFAULT_LIMIT,
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| bad_query("limit 应为 1–1000 / limit must be 1-1000"))?
            .min(MAX_LIMIT),
    };

    let deadline = tokio::time::Instant::now() + Duration::from_secs(wait);
    let mut head_rx = state.store().subscribe();
    let mut shutdown = state.shutdown_signal();
    let mut last_look = false;
    loop {
        // Mark the current head as seen before reading, so a commit that lands after the read
        // wakes the wait below.
        let head = *head_rx.borrow_and_update();
        if head > after {
            let (rows, first_seq) = state
                .store()
                .events_page(after, limit)
                .await
                .map_err(read_failed)?;
            // Empty: the log moved past `after` but those events were pruned by retention; say
            // so at once (last_seq = head) instead of holding the client for nothing.
            let last_seq = rows.last().map_or(head, |r| r.seq);
            let events: Vec<_> = rows
                .into_iter()
                .map(|r| {
                    json!({ "seq": r.seq, "kind": r.kind, "appid": r.appid, "received_at": r.received_at, "data": r.data })
                })
                .collect();
            return Ok(batch(events, last_seq, first_seq));
        }
        if last_look {
            // Nothing after `after`, checked after the wait ended: an empty answer never hides
            // an event committed while it was being written.
            let first_seq = state.store().first_seq().await.map_err(read_failed)?;
            return Ok(batch(Vec::new(), head, first_seq));
        }
        if *shutdown.borrow() {
            last_look = true;
            continue;
        }
        tokio::select! {
            changed = head_rx.changed() => last_look = changed.is_err(),
            _ = tokio::time::sleep_until(deadline) => last_look = true,
            // The flag only ever goes false -> true, and a dropped sender means the server is
            // going away too: either way, answer now rather than spin or hold.
            _ = shutdown.changed() => last_look = true,
        }
    }
}

fn read_failed(e: crate::Error) -> Reject {
    tracing::error!(error = %e, "event read failed");
    Reject::storage(true)
}

fn batch(events: Vec<serde_json::Value>, last_seq: i64, first_seq: i64) -> Response {
    Json(json!({ "events": events, "last_seq": last_seq, "first_seq": first_seq })).into_response()
}

/// `GET /healthz`: liveness and ticket age; nothing secret, nothing about the event log. 503
/// when the storage writer is gone: reads would still work, but no push could be stored, and a
/// monitor must see that.
pub async fn healthz(State(state): State<AppState>) -> Response {
    if !state.store().writer_alive() {
        tracing::error!("health check: the storage writer has stopped");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "storage_writer_stopped" })),
        )
            .into_response();
    }
    match state.store().ticket().await {
        Ok(t) => {
            let age = t.as_ref().map(|t| (now_unix() - t.create_time).max(0));
            Json(json!({
                "status": "ok",
                "version": env!("CARGO_PKG_VERSION"),
                "ticket_age_secs": age,
                // WeChat tickets are valid for 12 hours; pushes come every 10 minutes.
                "ticket_fresh": age.is_some_and(|a| a < 12 * 3600),
            }))
            .into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "health check: storage unreadable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "storage_unavailable" })),
            )
                .into_response()
        }
    }
}
