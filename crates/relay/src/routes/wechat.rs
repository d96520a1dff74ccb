//! The two URLs WeChat pushes to: `POST /wechat/component` (授权事件接收URL) and
//! `GET/POST /wechat/{appid}/callback` (消息与事件接收URL, `$APPID$`).
//!
//! Order of checks on every push: parameters present and bounded → timestamp inside the replay
//! window → msg_signature (constant time) → decrypt (receive id must be our component appid) →
//! hardened XML parse → durable store → only then `success`. Any failure answers 4xx with a
//! short reason, logs one line without secrets, and stores nothing.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use wxdesk_wechat::Error as WxError;
use wxdesk_wechat::callback;

use crate::AppState;
use crate::events::{self, ComponentPush};
use crate::http::{Reject, now_unix};
use crate::release::{self, Action};
use crate::store::{Appended, TicketUpdate};

const MISSING_PARAMS: Reject = Reject::text(
    StatusCode::BAD_REQUEST,
    "missing_params",
    "缺少 msg_signature/timestamp/nonce 参数 / missing query parameters",
);
const BAD_SIGNATURE: Reject = Reject::text(
    StatusCode::FORBIDDEN,
    "bad_signature",
    "签名校验失败 / signature mismatch",
);

/// Parse the raw query string into a map (first value wins; undecodable input is dropped).
pub(crate) fn query_map(raw: Option<&str>) -> HashMap<String, String> {
    let mut map = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        map.entry(k.into_owned()).or_insert_with(|| v.into_owned());
    }
    map
}

/// A required, bounded query parameter.
fn param<'a>(q: &'a HashMap<String, String>, name: &str) -> Result<&'a str, Reject> {
    match q.get(name) {
        Some(v) if !v.is_empty() && v.len() <= 128 => Ok(v),
        _ => Err(MISSING_PARAMS),
    }
}

/// Reject a timestamp outside the replay window (0 = window off).
fn check_timestamp(state: &AppState, route: &'static str, ts: &str) -> Result<(), Reject> {
    let Ok(ts_num) = ts.parse::<i64>() else {
        tracing::warn!(route, reason = "bad_timestamp", "push refused");
        return Err(Reject::text(
            StatusCode::BAD_REQUEST,
            "bad_timestamp",
            "timestamp 不是数字 / timestamp is not a number",
        ));
    };
    let window = state.config().replay_window_secs;
    if window > 0 && now_unix().abs_diff(ts_num) > window {
        tracing::warn!(
            route,
            reason = "stale_timestamp",
            timestamp = ts_num,
            "push refused"
        );
        return Err(Reject::text(
            StatusCode::FORBIDDEN,
            "stale_timestamp",
            "timestamp 超出允许的时间窗口（重放？）/ timestamp outside the replay window",
        ));
    }
    Ok(())
}

/// Map a crypto/XML error to a refusal. The messages are fixed strings: nothing from the input.
fn reject_for(err: &WxError) -> Reject {
    match err {
        WxError::SignatureMismatch => BAD_SIGNATURE,
        WxError::ReceiveIdMismatch { .. } => Reject::text(
            StatusCode::FORBIDDEN,
            "wrong_receiver",
            "密文的接收方不是本平台 / ciphertext is for another appid",
        ),
        WxError::Base64 | WxError::Decrypt | WxError::MalformedPlaintext => Reject::text(
            StatusCode::BAD_REQUEST,
            "bad_ciphertext",
            "密文无法解密 / ciphertext cannot be decrypted",
        ),
        WxError::XmlTooLarge { .. } => Reject::text(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            "消息体过大 / body too large",
        ),
        WxError::XmlForbidden => Reject::text(
            StatusCode::BAD_REQUEST,
            "xml_forbidden",
            "XML 含有 DTD 或实体，已拒绝 / DTD and entities are refused",
        ),
        _ => Reject::text(
            StatusCode::BAD_REQUEST,
            "bad_xml",
            "XML 格式错误 / malformed XML",
        ),
    }
}

/// Verify and decrypt a push; returns the plaintext XML and the index of the key that opened it
/// (the passive reply must be encrypted with the same key during a rotation).
fn open_push(
    state: &AppState,
    route: &'static str,
    q: &HashMap<String, String>,
    body: &[u8],
) -> Result<(String, usize), Reject> {
    let sig = param(q, "msg_signature")?;
    let ts = param(q, "timestamp")?;
    let nonce = param(q, "nonce")?;
    check_timestamp(state, route, ts)?;
    let mut first_err = None;
    for (i, crypt) in state.crypts().iter().enumerate() {
        match crypt.decrypt_push(sig, ts, nonce, body) {
            Ok(xml) => return Ok((xml, i)),
            Err(e) => {
                // The signature and the envelope do not depend on the AES key: another key
                // cannot help, so stop at the first such error.
                let key_independent = !matches!(
                    e,
                    WxError::Decrypt
                        | WxError::MalformedPlaintext
                        | WxError::ReceiveIdMismatch { .. }
                );
                first_err.get_or_insert(e);
                if key_independent {
                    break;
                }
            }
        }
    }
    let reject = first_err.as_ref().map(reject_for).unwrap_or(BAD_SIGNATURE);
    tracing::warn!(route, reason = reject.code, "push refused");
    Err(reject)
}

fn parse_callback(route: &'static str, xml: &str) -> Result<callback::Callback, Reject> {
    callback::parse(xml).map_err(|e| {
        let reject = reject_for(&e);
        tracing::warn!(route, reason = reject.code, "decrypted push refused");
        reject
    })
}

fn success() -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "success",
    )
        .into_response()
}

/// `POST /wechat/component`: tickets and authorization notices.
pub async fn component_push(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Result<Response, Reject> {
    const ROUTE: &str = "component";
    let q = query_map(raw.as_deref());
    let (xml, _) = open_push(&state, ROUTE, &q, &body)?;
    let cb = parse_callback(ROUTE, &xml)?;
    let now = now_unix();
    match events::from_component(cb, &xml, now) {
        ComponentPush::Ticket {
            ticket,
            create_time,
        } => {
            if ticket.trim().is_empty() {
                tracing::warn!(route = ROUTE, reason = "empty_ticket", "push refused");
                return Err(Reject::text(
                    StatusCode::BAD_REQUEST,
                    "empty_ticket",
                    "ticket 为空 / empty ticket",
                ));
            }
            // Sealed with our own EncodingAESKey so the database never holds the ticket in clear.
            let sealed = state.crypts()[0].encrypt(&ticket);
            let outcome = state
                .store()
                .put_ticket(sealed, create_time, now)
                .await
                .map_err(|e| {
                    tracing::error!(route = ROUTE, error = %e, "ticket not stored");
                    Reject::storage(false)
                })?;
            match outcome {
                TicketUpdate::Replaced => {
                    tracing::info!(create_time, "component_verify_ticket updated")
                }
                TicketUpdate::KeptNewer => {
                    tracing::info!(create_time, "older component_verify_ticket ignored")
                }
            }
        }
        ComponentPush::Event(ev) => {
            let follow_up = team_follow_up(&ev);
            store_event(&state, ROUTE, ev).await?;
            if let Some(work) = follow_up {
                // Stored first, answered at once: the redemption must not hold WeChat's push.
                let state = state.clone();
                tokio::spawn(async move { work.run(&state, now).await });
            }
        }
    }
    Ok(success())
}

/// What a team server does with an authorization change beside logging it.
enum TeamFollowUp {
    Redeem {
        appid: String,
        code: String,
        pre_auth_code: Option<String>,
    },
    Forget {
        appid: String,
    },
    /// 全网发布 case 3: api_query_auth with the code, then `<code>_from_api` to the tester.
    ReleaseTest {
        openid: String,
        code: String,
    },
}

fn team_follow_up(ev: &crate::store::NewEvent) -> Option<TeamFollowUp> {
    let appid = ev.appid.clone()?;
    match ev.kind {
        // 全网发布: WeChat authorizes its test account and reuses that code as the
        // query_auth_code; redeeming it here would spend it before the test needs it.
        "authorized" | "updateauthorized"
            if wxdesk_wechat::release::is_test_account(&appid, None) =>
        {
            None
        }
        "authorized" | "updateauthorized" => {
            let code = ev.data.get("authorization_code")?.as_str()?.to_owned();
            let pre_auth_code = ev
                .data
                .get("pre_auth_code")
                .and_then(|v| v.as_str())
                .map(str::to_owned);
            (!code.is_empty()).then_some(TeamFollowUp::Redeem {
                appid,
                code,
                pre_auth_code,
            })
        }
        "unauthorized" => Some(TeamFollowUp::Forget { appid }),
        _ => None,
    }
}

impl TeamFollowUp {
    async fn run(self, state: &AppState, now: i64) {
        let Some(team) = state.team() else { return };
        let component_appid = &state.config().component_appid;
        match self {
            TeamFollowUp::Redeem {
                appid,
                code,
                pre_auth_code,
            } => {
                let pre = pre_auth_code.as_deref();
                match crate::team::accounts::redeem(team, component_appid, &appid, &code, pre, now)
                    .await
                {
                    Ok(true) => {}
                    Ok(false) => tracing::info!(appid, "authorization already redeemed"),
                    Err(e) => tracing::error!(appid, error = %e, "authorization not redeemed"),
                }
            }
            TeamFollowUp::ReleaseTest { openid, code } => {
                match crate::team::accounts::answer_release_test(
                    team,
                    component_appid,
                    &openid,
                    &code,
                )
                .await
                {
                    Ok(()) => tracing::info!("release test answered by the team server"),
                    Err(e) => tracing::error!(error = %e, "release test not answered"),
                }
            }
            TeamFollowUp::Forget { appid } => {
                if let Err(e) = crate::team::accounts::unauthorized(team, &appid).await {
                    tracing::error!(appid, error = %e, "unauthorization not applied");
                }
            }
        }
    }
}

async fn store_event(
    state: &AppState,
    route: &'static str,
    ev: crate::store::NewEvent,
) -> Result<(), Reject> {
    let kind = ev.kind;
    let appid = ev.appid.clone();
    // One line per push at debug, not info: at tens of thousands of pushes a second they were
    // nearly all of a relay's log. Failures stay at error.
    match state.store().append(ev).await {
        Ok(Appended::Stored(seq)) => tracing::debug!(route, kind, appid, seq, "event stored"),
        Ok(Appended::Duplicate(seq)) => {
            tracing::debug!(route, kind, appid, seq, "duplicate push ignored")
        }
        Err(e) => {
            tracing::error!(route, kind, error = %e, "event not stored");
            return Err(Reject::storage(false));
        }
    }
    Ok(())
}

/// Appids in the `$APPID$` segment: `wx` + alphanumerics in practice; bounded and plain.
fn valid_appid(appid: &str) -> bool {
    !appid.is_empty()
        && appid.len() <= 32
        && appid.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

const BAD_APPID: Reject = Reject::text(
    StatusCode::BAD_REQUEST,
    "bad_appid",
    "路径中的 appid 无效 / invalid appid in path",
);

/// `POST /wechat/{appid}/callback`: messages and events of an authorized account.
pub async fn message_push(
    State(state): State<AppState>,
    Path(appid): Path<String>,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Result<Response, Reject> {
    const ROUTE: &str = "message";
    if !valid_appid(&appid) {
        return Err(BAD_APPID);
    }
    let q = query_map(raw.as_deref());
    let (xml, key_index) = open_push(&state, ROUTE, &q, &body)?;
    let cb = parse_callback(ROUTE, &xml)?;
    let now = now_unix();
    match release::classify(&appid, &cb) {
        Action::PassiveText {
            to_openid,
            from_gh,
            content,
        } => {
            let plain = release::passive_text_xml(&to_openid, &from_gh, &content, now);
            // Echo the request's nonce (the doc's suggestion); `param` already bounded it.
            let nonce = param(&q, "nonce")?;
            let reply = state.crypts()[key_index].encrypt_reply(&plain, &now.to_string(), nonce);
            tracing::info!(route = ROUTE, appid, "release test: passive reply sent");
            Ok((
                [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
                reply,
            )
                .into_response())
        }
        Action::QueryAuthCode {
            openid,
            to_user_name,
            code,
            msg_id,
        } => {
            let ev = events::query_auth_code(&appid, &openid, &to_user_name, &code, msg_id, now);
            store_event(&state, ROUTE, ev).await?;
            if state.team().is_some() {
                // A team's desks hold no component token: the server answers the test itself.
                let state = state.clone();
                let work = TeamFollowUp::ReleaseTest { openid, code };
                tokio::spawn(async move { work.run(&state, now).await });
            }
            Ok(success())
        }
        Action::Ordinary => {
            store_event(&state, ROUTE, events::from_message(&appid, cb, &xml, now)).await?;
            Ok(success())
        }
    }
}

/// `GET /wechat/{appid}/callback`: the echostr URL check (protocol A.7).
pub async fn message_verify(
    State(state): State<AppState>,
    Path(appid): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, Reject> {
    const ROUTE: &str = "message_verify";
    if !valid_appid(&appid) {
        return Err(BAD_APPID);
    }
    let q = query_map(raw.as_deref());
    let sig = param(&q, "signature")?;
    let ts = param(&q, "timestamp")?;
    let nonce = param(&q, "nonce")?;
    let echostr = q
        .get("echostr")
        .filter(|e| !e.is_empty() && e.len() <= 256)
        .ok_or(MISSING_PARAMS)?;
    check_timestamp(&state, ROUTE, ts)?;
    if !state.crypts()[0].verify_url_signature(sig, ts, nonce) {
        tracing::warn!(
            route = ROUTE,
            reason = "bad_signature",
            "echostr check refused"
        );
        return Err(BAD_SIGNATURE);
    }
    Ok((
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        echostr.clone(),
    )
        .into_response())
}
