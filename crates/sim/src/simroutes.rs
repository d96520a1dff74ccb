//! Test-only routes, all under `/__sim/` (DESIGN.md): what really happened (`state`), and the
//! actions of people the sim stands in for (an admin pressing 授权 or cancelling, a user texting
//! an account), plus clock and ticket controls.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::parse_query;
use crate::sim::Sim;
use crate::world::Person;

fn bad(status: StatusCode, error: &str, message: &str) -> Response {
    (status, Json(json!({"error": error, "message": message}))).into_response()
}

pub async fn state(State(sim): State<Arc<Sim>>) -> Json<Value> {
    Json(state_json(&sim))
}

pub fn state_json(sim: &Sim) -> Value {
    crate::code::settle(sim);
    let s = sim.lock();
    let accounts: Vec<Value> = sim
        .world
        .accounts
        .iter()
        .filter(|a| !a.release_test)
        .map(|a| {
            json!({
                "appid": a.appid,
                "user_name": a.user_name,
                "nickname": a.nickname,
                "kind": a.kind.as_str(),
                "verified": a.verified,
                "principal_name": a.principal_name,
                "followers": a.followers,
                "authorized": s.authz.contains_key(&a.index),
                "sends": s.sends.per_account.get(&a.index).copied().unwrap_or(0),
                "code": (a.kind == crate::world::Kind::MiniProgram)
                    .then(|| crate::code::state_json(&s.code, a.index)),
            })
        })
        .collect();
    json!({
        "now": sim.now(),
        "accounts": accounts,
        "tokens_issued": s.issued,
        "sends": {
            "accepted": s.sends.accepted,
            "distinct_recipients": s.sends.per_recipient.len(),
            "max_per_recipient": s.sends.max_per_recipient,
            "by_status": s.sends.by_status,
            "custom_accepted": s.sends.custom_accepted,
            "bizsend_accepted": s.sends.bizsend_accepted,
        },
        "tickets_pushed": s.tickets_pushed,
        "code": crate::code::platform_json(&s.code, sim.cfg.audit_quota, sim.now()),
        "pushes": sim.pusher.stats.view(),
    })
}

#[derive(Deserialize)]
pub struct AuthorizeBody {
    pre_auth_code: String,
    authorizer_appid: String,
    #[serde(default)]
    redirect_uri: Option<String>,
}

pub async fn authorize(State(sim): State<Arc<Sim>>, Json(b): Json<AuthorizeBody>) -> Response {
    match sim.authorize(
        &b.pre_auth_code,
        &b.authorizer_appid,
        b.redirect_uri.as_deref(),
    ) {
        Ok(d) => Json(json!({
            "redirect": d.redirect,
            "auth_code": d.auth_code,
            "expires_in": crate::state::CODE_TTL,
            "info_type": d.info_type,
        }))
        .into_response(),
        Err(e) => bad(StatusCode::BAD_REQUEST, e.code(), e.message()),
    }
}

#[derive(Deserialize)]
pub struct AppidBody {
    authorizer_appid: String,
}

pub async fn revoke(State(sim): State<Arc<Sim>>, Json(b): Json<AppidBody>) -> Response {
    if sim.revoke(&b.authorizer_appid) {
        Json(json!({"ok": true})).into_response()
    } else {
        bad(
            StatusCode::NOT_FOUND,
            "not_authorized",
            "该帐号未授权 / the account is not authorized",
        )
    }
}

pub async fn push_ticket(State(sim): State<Arc<Sim>>) -> Json<Value> {
    sim.push_ticket();
    Json(json!({"ok": true}))
}

#[derive(Deserialize)]
pub struct MessageBody {
    authorizer_appid: String,
    openid: String,
    #[serde(default)]
    content: String,
}

pub async fn message(State(sim): State<Arc<Sim>>, Json(b): Json<MessageBody>) -> Response {
    let Some(a) = sim.world.account(&b.authorizer_appid) else {
        return bad(
            StatusCode::NOT_FOUND,
            "unknown_account",
            "该帐号不存在 / no such account",
        );
    };
    match sim.user_message(a, &b.openid, &b.content) {
        Some(msg_id) => Json(json!({"ok": true, "msg_id": msg_id})).into_response(),
        None => bad(
            StatusCode::BAD_REQUEST,
            "invalid_openid",
            "openid 不属于该帐号 / not an openid of this account",
        ),
    }
}

#[derive(Deserialize, Default)]
pub struct ReleaseBody {
    #[serde(default)]
    mini: bool,
    /// Seconds to wait for the API reply (default 10, at most 60).
    #[serde(default)]
    wait_secs: Option<u64>,
}

/// Run the 全网发布 automated test against the relay and the platform behind it.
pub async fn release_test(
    State(sim): State<Arc<Sim>>,
    body: Option<Json<ReleaseBody>>,
) -> Json<Value> {
    let b = body.map(|Json(b)| b).unwrap_or_default();
    let wait = std::time::Duration::from_secs(b.wait_secs.unwrap_or(10).min(60));
    Json(crate::release::run(&sim, b.mini, wait).await)
}

#[derive(Deserialize)]
pub struct FollowBody {
    authorizer_appid: String,
    openid: String,
    follow: bool,
}

/// A user follows or unfollows an official account; pushes `subscribe` / `unsubscribe`.
pub async fn follow(State(sim): State<Arc<Sim>>, Json(b): Json<FollowBody>) -> Response {
    let Some(a) = sim.world.account(&b.authorizer_appid) else {
        return bad(
            StatusCode::NOT_FOUND,
            "unknown_account",
            "该帐号不存在 / no such account",
        );
    };
    match sim.set_following(a, &b.openid, b.follow) {
        Some(f) => Json(json!({"ok": true, "following": f})).into_response(),
        None => bad(
            StatusCode::BAD_REQUEST,
            "invalid_openid",
            "openid 不属于该帐号 / not an openid of this account",
        ),
    }
}

#[derive(Deserialize)]
pub struct EventBody {
    authorizer_appid: String,
    openid: String,
    /// `CLICK`, `VIEW`, `SCAN`, `scancode_push`, `scancode_waitmsg`, `LOCATION`…
    event: String,
    #[serde(default)]
    event_key: String,
}

/// A follower clicks a menu, scans a code…; pushes the event (and opens the short
/// customer-service window for the push-type ones).
pub async fn event(State(sim): State<Arc<Sim>>, Json(b): Json<EventBody>) -> Response {
    let Some(a) = sim.world.account(&b.authorizer_appid) else {
        return bad(
            StatusCode::NOT_FOUND,
            "unknown_account",
            "该帐号不存在 / no such account",
        );
    };
    let valid = !b.event.is_empty()
        && b.event.len() <= 64
        && b.event
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return bad(
            StatusCode::BAD_REQUEST,
            "invalid_event",
            "事件名无效 / invalid event name",
        );
    }
    match sim.user_event(a, &b.openid, &b.event, &b.event_key) {
        Some(()) => Json(json!({"ok": true})).into_response(),
        None => bad(
            StatusCode::BAD_REQUEST,
            "invalid_openid",
            "openid 不是该帐号的粉丝 / not a follower of this account",
        ),
    }
}

#[derive(Deserialize)]
pub struct SubscribeBody {
    authorizer_appid: String,
    openid: String,
    template_id: String,
}

/// A user accepts one subscription notice (公众号订阅通知) of `template_id`.
pub async fn subscribe(State(sim): State<Arc<Sim>>, Json(b): Json<SubscribeBody>) -> Response {
    let Some(a) = sim.world.account(&b.authorizer_appid) else {
        return bad(
            StatusCode::NOT_FOUND,
            "unknown_account",
            "该帐号不存在 / no such account",
        );
    };
    let Some(Person::Follower(i)) = sim.person(a, &b.openid) else {
        return bad(
            StatusCode::BAD_REQUEST,
            "invalid_openid",
            "openid 不是该帐号的粉丝 / not a follower",
        );
    };
    *sim.lock()
        .subscriptions
        .entry((a.index, i, b.template_id))
        .or_insert(0) += 1;
    Json(json!({"ok": true})).into_response()
}

#[derive(Deserialize)]
pub struct AdvanceBody {
    secs: f64,
    /// Push a fresh ticket afterwards when the jump spans a ticket interval, as the timer
    /// would have (default). `false` simulates pushes having stopped.
    #[serde(default = "yes")]
    tickets: bool,
}

fn yes() -> bool {
    true
}

pub async fn advance_clock(State(sim): State<Arc<Sim>>, Json(b): Json<AdvanceBody>) -> Json<Value> {
    sim.clock.advance(b.secs);
    if b.tickets && b.secs >= sim.cfg.ticket_interval_secs as f64 {
        sim.push_ticket();
    }
    Json(json!({"now": sim.now()}))
}

/// Sim-only facts about an account a test needs: its own AppSecret (for cgi-bin/token) and
/// sample openids of each sort.
pub async fn account(State(sim): State<Arc<Sim>>, Path(appid): Path<String>) -> Response {
    let Some(a) = sim.world.account(&appid) else {
        return bad(
            StatusCode::NOT_FOUND,
            "unknown_account",
            "该帐号不存在 / no such account",
        );
    };
    let w = &sim.world;
    let recent = (0..a.followers.min(100_000)).find(|i| w.generated_last_message(a, *i).is_some());
    let not_recent =
        (0..a.followers.min(100_000)).find(|i| w.generated_last_message(a, *i).is_none());
    Json(json!({
        "appid": a.appid,
        "appsecret": a.appsecret,
        "user_name": a.user_name,
        "nickname": a.nickname,
        "kind": a.kind.as_str(),
        "verified": a.verified,
        "followers": a.followers,
        "sample_openids": (0..a.followers.min(5)).map(|i| w.openid(a, i)).collect::<Vec<_>>(),
        "former_openid": w.openid(a, a.followers),
        "recent_openid": recent.map(|i| w.openid(a, i)),
        "quiet_openid": not_recent.map(|i| w.openid(a, i)),
        "sample_unionid": w.unionid(a, 0),
    }))
    .into_response()
}

/// `GET /__sim/openid?appid=…&index=N`: follower N's openid.
pub async fn openid(State(sim): State<Arc<Sim>>, RawQuery(q): RawQuery) -> Response {
    let q = parse_query(q.as_deref());
    let a = q.get("appid").and_then(|id| sim.world.account(id));
    let index = q.get("index").and_then(|i| i.parse::<u32>().ok());
    match (a, index) {
        (Some(a), Some(i)) => {
            Json(json!({"openid": sim.world.openid(a, i), "unionid": sim.world.unionid(a, i)}))
                .into_response()
        }
        _ => bad(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "需要 appid 与 index / appid and index required",
        ),
    }
}

pub async fn avatar(State(sim): State<Arc<Sim>>, Path(file): Path<String>) -> Response {
    let appid = file.strip_suffix(".svg").unwrap_or(&file);
    match sim.world.account(appid) {
        Some(a) => (
            [(header::CONTENT_TYPE, "image/svg+xml")],
            crate::login::avatar_svg(a, sim.cfg.seed),
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
