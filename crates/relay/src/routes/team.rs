//! `/api/v1/team/*`: the team server's API for desks, behind a member key (team mode only).
//!
//! `wechat/{path}` is how a desk calls WeChat in team mode: the same narrow path list as the
//! single-desk egress, and the desk sends no token — it names the token it needs with a
//! placeholder (`component_access_token=team`, `access_token=team.<authorizer appid>`) and the
//! server puts the real one in, from its token authority. A token refused by WeChat
//! (40001/42001/40014) is expired (compare-and-expire) and the call made once more with a fresh
//! one. Endpoints whose answers carry tokens are never forwarded. Each path needs a role.
//!
//! Refusals are `{"code", "message": {"zh","en"}, "hint": {"zh","en"} | null}`.

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::{Value, json};
use wxdesk_wechat::Secret as WxSecret;

use crate::AppState;
use crate::routes::egress::{on_the_list, plain_path};
use crate::team::members::{self, Member, Role};

const PREFIX: &str = "/api/v1/team/wechat";
/// The placeholder a desk puts where a token goes.
const PLACEHOLDER: &str = "team";
const MAX_QUERY: usize = 4096;

pub(crate) fn refusal(
    status: StatusCode,
    code: &'static str,
    zh: impl Into<String>,
    en: impl Into<String>,
    hint: Option<(&str, &str)>,
) -> Response {
    let hint = hint.map(|(zh, en)| json!({ "zh": zh, "en": en }));
    (
        status,
        Json(json!({
            "code": code,
            "message": { "zh": zh.into(), "en": en.into() },
            "hint": hint,
        })),
    )
        .into_response()
}

/// Looks the member key up on every request: a removed member is refused at once.
pub async fn require_member(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let Some(team) = state.team() else {
        return refusal(
            StatusCode::NOT_FOUND,
            "not_a_team_server",
            "这个中继没有配置团队模式（database_url）",
            "This relay is not a team server (no database_url).",
            Some((
                "确认服务器地址；团队服务器需按部署文档配置 PostgreSQL",
                "Check the server URL; a team server needs PostgreSQL as docs/deploy describes.",
            )),
        );
    };
    let key = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, key)| key.trim().to_owned());
    let found = match &key {
        Some(k) => members::authenticate(&team.db, k).await,
        None => Ok(None),
    };
    match found {
        Ok(Some(member)) => {
            req.extensions_mut().insert(member);
            next.run(req).await
        }
        Ok(None) => {
            tracing::warn!(
                reason = if key.is_some() {
                    "unknown_key"
                } else {
                    "no_key"
                },
                "team request refused"
            );
            let mut resp = refusal(
                StatusCode::UNAUTHORIZED,
                "member_key_refused",
                "团队服务器不认这个成员密钥（已被移除，或输入有误）",
                "The team server does not accept this member key (removed, or mistyped).",
                Some((
                    "请团队管理员用 wxdesk-relay members add 发一个新密钥，再重新加入团队",
                    "Ask the team's admin for a new key (wxdesk-relay members add) and join again.",
                )),
            );
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            resp
        }
        Err(e) => {
            tracing::error!(error = %e, "member lookup failed");
            unavailable()
        }
    }
}

pub(crate) fn unavailable() -> Response {
    refusal(
        StatusCode::SERVICE_UNAVAILABLE,
        "team_database_unavailable",
        "团队服务器暂时连不上它的数据库",
        "The team server cannot reach its database right now.",
        Some((
            "稍后重试；持续出现请联系管理员检查 PostgreSQL",
            "Retry shortly; if it persists, ask the admin to check PostgreSQL.",
        )),
    )
}

/// `GET /api/v1/team/me`: who the key belongs to.
pub async fn me(
    State(state): State<AppState>,
    Extension(member): Extension<Member>,
) -> Json<Value> {
    Json(json!({
        "name": member.name,
        "role": member.role,
        "component_appid": state.config().component_appid,
    }))
}

/// `GET /api/v1/team/accounts`: the shared workspace's accounts.
pub async fn accounts(State(state): State<AppState>) -> Response {
    let Some(team) = state.team() else {
        return unavailable();
    };
    match crate::team::accounts::list(team).await {
        Ok(list) => Json(json!({ "accounts": list })).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "team accounts unreadable");
            unavailable()
        }
    }
}

/// `GET /api/v1/team/audit?before=ID&limit=N` (admin): who did what, newest first.
pub async fn audit(
    State(state): State<AppState>,
    Extension(member): Extension<Member>,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
) -> Response {
    let Some(team) = state.team() else {
        return unavailable();
    };
    if member.role < Role::Admin {
        return refusal(
            StatusCode::FORBIDDEN,
            "role_too_low",
            "只有管理员能查看审计记录",
            "Only admins can read the audit log.",
            Some((
                "请团队管理员调整你的角色",
                "Ask the team's admin to change your role.",
            )),
        );
    }
    let q = crate::routes::wechat::query_map(raw.as_deref());
    let before = q.get("before").and_then(|v| v.parse::<i64>().ok());
    let limit = q
        .get("limit")
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(100)
        .clamp(1, 1000);
    match crate::team::accounts::audit_log(team, before, limit).await {
        Ok(entries) => Json(json!({ "entries": entries })).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "audit log unreadable");
            unavailable()
        }
    }
}

/// `POST /api/v1/team/auth/state` (operator): a signed authorization `state` for a desk's link to
/// `/auth/start`. A single desk signs it with the relay key it shares with its relay; a team desk
/// holds no relay key, so the server signs it.
pub async fn auth_state(
    State(state): State<AppState>,
    Extension(member): Extension<Member>,
) -> Response {
    if member.role < Role::Operator {
        return refusal(
            StatusCode::FORBIDDEN,
            "role_too_low",
            format!(
                "你的角色（{}）不能授权公众号，需要 operator",
                member.role.as_str()
            ),
            format!(
                "Your role ({}) cannot authorize accounts; it needs operator.",
                member.role.as_str()
            ),
            Some((
                "请团队管理员调整你的角色",
                "Ask the team's admin to change your role.",
            )),
        );
    }
    let now = crate::http::now_unix();
    let signed = crate::auth_state::issue(state.config().api_key.expose(), now, rand::random());
    Json(json!({ "state": signed, "issued_at": now })).into_response()
}

/// Endpoints whose answers carry tokens or refresh tokens: only the server calls them.
const TOKEN_ENDPOINTS: &[&str] = &[
    "/cgi-bin/token",
    "/cgi-bin/component/api_component_token",
    "/cgi-bin/component/api_authorizer_token",
    "/cgi-bin/component/api_query_auth",
    "/cgi-bin/component/api_get_authorizer_list",
];

/// Paths a viewer may call: reading, never changing or sending.
const VIEWER_READS: &[&str] = &[
    "/cgi-bin/user/get",
    "/cgi-bin/user/info",
    "/cgi-bin/tags/get",
    "/cgi-bin/openapi/quota/get",
    "/cgi-bin/template/get_",
    "/cgi-bin/component/api_get_authorizer_info",
    "/cgi-bin/component/api_get_authorizer_option",
    "/wxaapi/newtmpl/get",
    "/wxa/get",
];

/// Admin only: spends the platform's or an account's monthly reset.
const ADMIN_ONLY: &[&str] = &["/cgi-bin/component/clear_quota", "/cgi-bin/clear_quota"];

/// The role a path needs; `None` when no desk may call it.
fn required_role(path: &str) -> Option<Role> {
    if TOKEN_ENDPOINTS
        .iter()
        .any(|p| path == *p || path.starts_with(&format!("{p}/")))
    {
        return None;
    }
    if ADMIN_ONLY.iter().any(|p| path.starts_with(p)) {
        return Some(Role::Admin);
    }
    if VIEWER_READS.iter().any(|p| path.starts_with(p)) {
        return Some(Role::Viewer);
    }
    Some(Role::Operator)
}

/// Which token a placeholder names.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Wanted {
    Component,
    Authorizer(String),
}

fn wanted(param: &str, value: &str) -> Option<Wanted> {
    match (param, value) {
        ("component_access_token", PLACEHOLDER) => Some(Wanted::Component),
        ("access_token" | "authorizer_access_token", v) => {
            let appid = v.strip_prefix("team.")?;
            let ok = !appid.is_empty()
                && appid.len() <= 64
                && appid
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_');
            ok.then(|| Wanted::Authorizer(appid.to_owned()))
        }
        _ => None,
    }
}

const TOKEN_PARAMS: &[&str] = &[
    "access_token",
    "component_access_token",
    "authorizer_access_token",
];

/// `ANY /api/v1/team/wechat/{path}`.
pub async fn wechat(
    State(state): State<AppState>,
    Extension(member): Extension<Member>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(team) = state.team() else {
        return unavailable();
    };
    if method != Method::GET && method != Method::POST {
        return refusal(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "只转发 GET 和 POST",
            "Only GET and POST are forwarded.",
            None,
        );
    }
    let path = uri.path().strip_prefix(PREFIX).unwrap_or_default();
    if !plain_path(path) || !on_the_list(path) {
        return refusal(
            StatusCode::FORBIDDEN,
            "path_not_allowed",
            "团队服务器不转发这个微信接口",
            "The team server does not forward this WeChat API.",
            Some((
                "升级 wxdesk 与 wxdesk-relay 到同一版本",
                "Run the same wxdesk and wxdesk-relay versions.",
            )),
        );
    }
    let Some(needed) = required_role(path) else {
        return refusal(
            StatusCode::FORBIDDEN,
            "server_only",
            "这个接口会返回令牌，只有团队服务器自己调用",
            "This API returns tokens; only the team server calls it.",
            None,
        );
    };
    if member.role < needed {
        tracing::warn!(member = %member.name, role = member.role.as_str(), route = path, "team call refused: role");
        return refusal(
            StatusCode::FORBIDDEN,
            "role_too_low",
            format!(
                "你的角色（{}）不能做这件事，需要 {}",
                member.role.as_str(),
                needed.as_str()
            ),
            format!(
                "Your role ({}) cannot do this; it needs {}.",
                member.role.as_str(),
                needed.as_str()
            ),
            Some((
                "请团队管理员调整你的角色",
                "Ask the team's admin to change your role.",
            )),
        );
    }
    let query = uri.query().unwrap_or_default();
    if query.len() > MAX_QUERY {
        return refusal(
            StatusCode::BAD_REQUEST,
            "bad_query",
            "查询参数过长",
            "Query string too long.",
            None,
        );
    }
    let mut want = None;
    let mut rest = Vec::new();
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        if TOKEN_PARAMS.contains(&k.as_ref()) {
            match wanted(&k, &v) {
                Some(w) if want.is_none() => want = Some((k.into_owned(), w)),
                _ => {
                    return refusal(
                        StatusCode::BAD_REQUEST,
                        "bad_token_placeholder",
                        "团队模式下令牌由服务器添加：请用 team 占位",
                        "In team mode the server adds the token: send the team placeholder.",
                        Some((
                            "升级 wxdesk 到与服务器相同的版本",
                            "Run the same wxdesk version as the server.",
                        )),
                    );
                }
            }
        } else {
            rest.push((k.into_owned(), v.into_owned()));
        }
    }
    let cache = &team.tokens;
    let mut refused_once = false;
    loop {
        let token = match &want {
            None => None,
            Some((param, Wanted::Component)) => {
                Some((param.clone(), cache.component_token().await))
            }
            Some((param, Wanted::Authorizer(appid))) => {
                Some((param.clone(), cache.authorizer_token(appid).await))
            }
        };
        let token = match token {
            None => None,
            Some((param, Ok(t))) => Some((param, t)),
            Some((_, Err(e))) => return token_failure(&e),
        };
        let q = {
            let mut q = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in &rest {
                q.append_pair(k, v);
            }
            if let Some((param, t)) = &token {
                q.append_pair(param, t.expose());
            }
            q.finish()
        };
        let Ok(mut url) = url::Url::parse(&format!("{}{path}", state.config().upstream)) else {
            return unavailable();
        };
        url.set_query((!q.is_empty()).then_some(q.as_str()));
        let mut req = state.http().request(method.clone(), url).body(body.clone());
        if let Some(ct) = headers.get(header::CONTENT_TYPE) {
            req = req.header(header::CONTENT_TYPE, ct.clone());
        }
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(route = path, error = %e.without_url(), "team call failed");
                return refusal(
                    StatusCode::BAD_GATEWAY,
                    "upstream_unreachable",
                    "团队服务器连不上微信接口",
                    "The team server cannot reach the WeChat API.",
                    Some(("稍后重试", "Retry shortly.")),
                );
            }
        };
        let status = resp.status();
        let content_type = resp.headers().get(header::CONTENT_TYPE).cloned();
        let Ok(bytes) = resp.bytes().await else {
            return unavailable();
        };
        if let (Some((_, used)), Some(w)) = (&token, want.as_ref().map(|w| &w.1))
            && !refused_once
            && token_refused(&bytes)
        {
            refused_once = true;
            expire(cache, w, used).await;
            continue;
        }
        tracing::info!(member = %member.name, route = path, status = status.as_u16(), "team call forwarded");
        if path == "/cgi-bin/component/api_create_preauthcode"
            && let Some(code) = serde_json::from_slice::<Value>(&bytes)
                .ok()
                .and_then(|v| v.get("pre_auth_code")?.as_str().map(str::to_owned))
            && let Err(e) = crate::team::accounts::note_pre_auth(team, &member.name, &code).await
        {
            // The authorization still works; it is only recorded without its member.
            tracing::warn!(error = %e, "pre_auth_code not attributed");
        }
        let mut out = Response::new(Body::from(bytes));
        *out.status_mut() = status;
        if let Some(ct) = content_type {
            out.headers_mut().insert(header::CONTENT_TYPE, ct);
        }
        return out;
    }
}

/// 40001 / 42001 / 40014 in a JSON answer.
fn token_refused(body: &[u8]) -> bool {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("errcode").and_then(Value::as_i64))
        .is_some_and(crate::team::jobs::worker::token_refused_code)
}

async fn expire(cache: &wxdesk_wechat::token::TokenCache, w: &Wanted, used: &WxSecret) {
    match w {
        Wanted::Component => cache.invalidate_component_token(used).await,
        Wanted::Authorizer(appid) => cache.invalidate_authorizer_token(appid, used).await,
    }
}

fn token_failure(e: &wxdesk_wechat::Error) -> Response {
    tracing::warn!(error = %e, "team token unavailable");
    let (zh, en, hint) = match e {
        wxdesk_wechat::Error::NoTicket => (
            "团队服务器还没收到微信推送的 component_verify_ticket",
            "The team server has not received a component_verify_ticket from WeChat yet.",
            (
                "微信每 10 分钟推送一次；确认开放平台的授权事件接收 URL 指向本服务器",
                "WeChat pushes one every 10 minutes; check the platform's authorization-event URL points at this server.",
            ),
        ),
        wxdesk_wechat::Error::NoRefreshToken { .. } => (
            "团队服务器没有这个公众号的授权（没有 refresh token）",
            "The team server holds no authorization for this account (no refresh token).",
            (
                "在任一工位重新授权这个公众号",
                "Authorize the account again from any desk.",
            ),
        ),
        _ => (
            "团队服务器拿不到访问令牌",
            "The team server could not get an access token.",
            (
                "稍后重试；持续出现请管理员查看服务器日志",
                "Retry shortly; if it persists, the admin should check the server's log.",
            ),
        ),
    };
    let code = e.wechat().map(|w| w.errcode);
    let mut resp = refusal(
        StatusCode::BAD_GATEWAY,
        "token_unavailable",
        zh,
        en,
        Some(hint),
    );
    if let Some(code) = code
        && let Ok(v) = HeaderValue::from_str(&code.to_string())
    {
        resp.headers_mut().insert("x-wxdesk-errcode", v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_endpoints_are_never_forwarded_and_roles_follow_the_path() {
        for p in TOKEN_ENDPOINTS {
            assert_eq!(required_role(p), None, "{p}");
        }
        assert_eq!(
            required_role("/cgi-bin/message/template/send"),
            Some(Role::Operator)
        );
        assert_eq!(
            required_role("/cgi-bin/message/custom/send"),
            Some(Role::Operator)
        );
        assert_eq!(required_role("/wxa/commit"), Some(Role::Operator));
        assert_eq!(required_role("/cgi-bin/user/get"), Some(Role::Viewer));
        assert_eq!(required_role("/wxa/get_category"), Some(Role::Viewer));
        assert_eq!(required_role("/cgi-bin/clear_quota"), Some(Role::Admin));
    }

    #[test]
    fn placeholders_name_a_token_and_real_tokens_are_not_accepted() {
        assert_eq!(
            wanted("component_access_token", "team"),
            Some(Wanted::Component)
        );
        assert_eq!(
            wanted("access_token", "team.wx0123456789abcdef"),
            Some(Wanted::Authorizer("wx0123456789abcdef".into()))
        );
        assert_eq!(wanted("access_token", "ACCESS_TOKEN_VALUE"), None);
        assert_eq!(wanted("access_token", "team."), None);
        assert_eq!(wanted("access_token", "team.wx/../x"), None);
        assert_eq!(wanted("component_access_token", "real"), None);
    }
}
