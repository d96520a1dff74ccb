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
        "login_pages": {
            "served": s.login_pages,
            "with_session_cookie": s.login_pages_with_session,
        },
        "media": s.media.iter().rev().take(100).collect::<Vec<_>>(),
        "jumps": s.jumps,
        "callers": s.callers,
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
pub struct ScanBody {
    /// What the QR code encodes (`url` of `cgi-bin/qrcode/create`).
    url: String,
    openid: String,
}

/// A user scans an account's temporary QR code in WeChat (the phone a sim's code cannot reach).
/// A follower's scan pushes `SCAN` with `EventKey` = the scene and opens the short window; a
/// former follower follows the account again (`subscribe` is pushed, with `EventKey` =
/// `qrscene_<scene>` and the code's `Ticket`). 404 for a code the sim
/// did not make, 410 once it expired, 400 for someone who never followed the account.
pub async fn scan(State(sim): State<Arc<Sim>>, Json(b): Json<ScanBody>) -> Response {
    let now = sim.now();
    let code = sim.lock().qr_codes.get(&b.url).cloned();
    let Some(code) = code else {
        return bad(
            StatusCode::NOT_FOUND,
            "unknown_code",
            "二维码不存在 / no such QR code",
        );
    };
    if code.expires_at <= now {
        return bad(
            StatusCode::GONE,
            "expired",
            "二维码已过期 / the QR code expired",
        );
    }
    let Some(a) = sim.world.accounts.get(usize::from(code.account)) else {
        return bad(
            StatusCode::NOT_FOUND,
            "unknown_account",
            "该帐号不存在 / no such account",
        );
    };
    let pushed = match sim.person(a, &b.openid) {
        Some(Person::Follower(_)) => sim
            .user_event(a, &b.openid, "SCAN", &code.scene)
            .map(|()| "SCAN"),
        Some(Person::Former(_)) => sim
            .set_following_via(a, &b.openid, true, Some((&code.scene, &code.ticket)))
            .map(|_| "subscribe"),
        None => None,
    };
    match pushed {
        Some(event) => {
            Json(json!({"ok": true, "event": event, "scene": code.scene})).into_response()
        }
        None => bad(
            StatusCode::BAD_REQUEST,
            "invalid_openid",
            "openid 不属于该帐号 / not this account's user",
        ),
    }
}

#[derive(Deserialize)]
pub struct SubscribeBody {
    authorizer_appid: String,
    openid: String,
    /// One template, or several in `template_ids` (one popup may cover several).
    #[serde(default)]
    template_id: Option<String>,
    #[serde(default)]
    template_ids: Vec<String>,
    /// `accept` (default), `reject` (取消 in the popup) or `switch_off` (the 服务通知
    /// management page: pushes `subscribe_msg_change_event`).
    #[serde(default)]
    action: Option<String>,
    /// Popup scene: 1 H5 page (default), 2 article.
    #[serde(default)]
    scene: Option<u8>,
}

/// A user answers a 订阅通知 popup (or switches notices off), and WeChat pushes what they did.
/// Non-followers may subscribe too (they receive notices in 服务通知).
pub async fn subscribe(State(sim): State<Arc<Sim>>, Json(b): Json<SubscribeBody>) -> Response {
    use crate::subscribe::{UserChoice, apply};
    let Some(a) = sim.world.account(&b.authorizer_appid) else {
        return bad(
            StatusCode::NOT_FOUND,
            "unknown_account",
            "该帐号不存在 / no such account",
        );
    };
    let Some(Person::Follower(i) | Person::Former(i)) = sim.person(a, &b.openid) else {
        return bad(
            StatusCode::BAD_REQUEST,
            "invalid_openid",
            "openid 不属于该帐号 / not an openid of this account",
        );
    };
    let choice = match b.action.as_deref().unwrap_or("accept") {
        "accept" => UserChoice::Accept,
        "reject" => UserChoice::Reject,
        "switch_off" => UserChoice::SwitchOff,
        _ => {
            return bad(
                StatusCode::BAD_REQUEST,
                "invalid_action",
                "action 应为 accept、reject 或 switch_off / action must be accept, reject or switch_off",
            );
        }
    };
    let mut ids = b.template_ids;
    ids.extend(b.template_id);
    if ids.is_empty() || ids.len() > 10 {
        return bad(
            StatusCode::BAD_REQUEST,
            "invalid_template",
            "需要 1–10 个模板 ID / 1 to 10 template ids",
        );
    }
    let now = sim.now();
    let remaining = {
        let mut s = sim.lock();
        let mut kinds = Vec::new();
        for id in &ids {
            let kind = s
                .sub_templates
                .get(&a.index)
                .and_then(|l| l.iter().find(|t| &t.pri_tmpl_id == id))
                .map(|t| t.lib().kind);
            match kind {
                Some(k) => kinds.push(k),
                None => {
                    return bad(
                        StatusCode::BAD_REQUEST,
                        "invalid_template",
                        "该帐号没有这个订阅通知模板 / not a subscription template of this account",
                    );
                }
            }
        }
        let mut remaining = serde_json::Map::new();
        for (id, kind) in ids.iter().zip(kinds) {
            let g = s.grants.entry((a.index, i, id.clone())).or_default();
            apply(g, kind, choice, sim.cfg.subscribe_accumulate);
            remaining.insert(
                id.clone(),
                json!({"remaining": g.remaining, "long_term": g.long_term}),
            );
        }
        remaining
    };
    let xml = match choice {
        UserChoice::SwitchOff => {
            crate::push::subscribe_change_xml(&a.user_name, &b.openid, now, &ids)
        }
        UserChoice::Accept | UserChoice::Reject => {
            let status = if choice == UserChoice::Accept {
                "accept"
            } else {
                "reject"
            };
            let items: Vec<(String, &str)> = ids.iter().map(|id| (id.clone(), status)).collect();
            crate::push::subscribe_popup_xml(
                &a.user_name,
                &b.openid,
                now,
                &items,
                b.scene.unwrap_or(1),
            )
        }
    };
    sim.pusher.push(crate::push::Push {
        target: crate::push::Target::Account {
            appid: a.appid.clone(),
            user_name: a.user_name.clone(),
            openid: Some(b.openid.clone()),
        },
        xml,
    });
    Json(json!({"ok": true, "grants": remaining})).into_response()
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
    let subscribe_templates: Vec<Value> = sim
        .lock()
        .sub_templates
        .get(&a.index)
        .map(|l| {
            l.iter()
                .map(|t| {
                    json!({"priTmplId": t.pri_tmpl_id, "title": t.lib().title, "type": t.lib().kind,
                           "keys": t.fields().map(|k| k.key()).collect::<Vec<_>>(),
                           "examples": t.fields().map(|k| k.example).collect::<Vec<_>>()})
                })
                .collect()
        })
        .unwrap_or_default();
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
        "linked_minis": w.accounts.iter().filter(|m| w.linked(a, m)).map(|m| &m.appid).collect::<Vec<_>>(),
        "subscribe_templates": subscribe_templates,
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
