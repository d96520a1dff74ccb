//! Platform and token APIs: tickets, component token, pre-auth codes, query_auth, authorizer
//! tokens and info (protocol C.1–C.5), the accounts' own `cgi-bin/token`, and jscode2session.

use serde_json::{Value, json};

use super::{Query, body_json, check_component_appid, component_caller, str_field};
use crate::ids;
use crate::sim::Sim;
use crate::state::{ApiErr, ApiResult, COMPONENT, TICKET_TTL, TOKEN_TTL, TokenKind};
use crate::world::Kind;

fn check_secret(sim: &Sim, secret: &str) -> ApiResult<()> {
    if secret.is_empty() {
        Err(ApiErr::new(41004, "appsecret missing"))
    } else if secret != sim.cfg.component_appsecret {
        Err(ApiErr::new(40125, "invalid appsecret"))
    } else {
        Ok(())
    }
}

pub fn start_push_ticket(sim: &Sim, _q: &Query, body: &[u8]) -> ApiResult<Value> {
    let m = body_json(body)?;
    check_component_appid(sim, &m)?;
    check_secret(sim, str_field(&m, "component_secret"))?;
    sim.push_ticket();
    Ok(super::ok())
}

pub fn component_token(sim: &Sim, _q: &Query, body: &[u8]) -> ApiResult<Value> {
    let m = body_json(body)?;
    check_component_appid(sim, &m)?;
    check_secret(sim, str_field(&m, "component_appsecret"))?;
    let ticket = str_field(&m, "component_verify_ticket");
    let now = sim.now();
    let mut s = sim.lock();
    match &s.ticket {
        Some((latest, created)) if latest == ticket => {
            if now - created >= TICKET_TTL {
                return Err(ApiErr::new(61005, "component ticket is expired"));
            }
        }
        _ => return Err(ApiErr::new(61006, "component ticket is invalid")),
    }
    let path = "/cgi-bin/component/api_component_token";
    s.take_quota(COMPONENT, path, sim.quota_limit(path), now)?;
    let token = s.issue_token(TokenKind::Component, None, now);
    Ok(json!({"component_access_token": token, "expires_in": TOKEN_TTL}))
}

pub fn create_preauthcode(sim: &Sim, q: &Query, body: &[u8]) -> ApiResult<Value> {
    component_caller(sim, q, "/cgi-bin/component/api_create_preauthcode")?;
    let m = body_json(body)?;
    check_component_appid(sim, &m)?;
    Ok(json!({"pre_auth_code": sim.new_pre_auth_code(), "expires_in": crate::state::CODE_TTL}))
}

fn func_info(ids: &[u32]) -> Value {
    Value::Array(
        ids.iter()
            .map(|i| json!({"funcscope_category": {"id": i}}))
            .collect(),
    )
}

pub fn query_auth(sim: &Sim, q: &Query, body: &[u8]) -> ApiResult<Value> {
    component_caller(sim, q, "/cgi-bin/component/api_query_auth")?;
    let m = body_json(body)?;
    check_component_appid(sim, &m)?;
    let code = str_field(&m, "authorization_code");
    let now = sim.now();
    let mut s = sim.lock();
    let c = s
        .auth_codes
        .get_mut(code)
        .ok_or_else(|| ApiErr::new(61009, "code is invalid"))?;
    if c.used {
        return Err(ApiErr::new(61009, "code is invalid"));
    }
    if now >= c.expires_at {
        return Err(ApiErr::new(61010, "code is expired"));
    }
    c.used = true;
    let idx = c.account;
    let refresh = s
        .authz
        .get(&idx)
        .map(|z| z.refresh_token.clone())
        .ok_or_else(|| ApiErr::new(61003, "component is not authorized by this account"))?;
    let a = sim
        .world
        .accounts
        .get(usize::from(idx))
        .ok_or_else(|| ApiErr::new(61009, "code is invalid"))?;
    let token = s.issue_token(TokenKind::Authorizer, Some(idx), now);
    Ok(json!({"authorization_info": {
        "authorizer_appid": a.appid,
        "authorizer_access_token": token,
        "expires_in": TOKEN_TTL,
        "authorizer_refresh_token": refresh,
        "func_info": func_info(&sim.granted_sets(a)),
    }}))
}

pub fn authorizer_token(sim: &Sim, q: &Query, body: &[u8]) -> ApiResult<Value> {
    component_caller(sim, q, "/cgi-bin/component/api_authorizer_token")?;
    let m = body_json(body)?;
    check_component_appid(sim, &m)?;
    let a = sim
        .world
        .account(str_field(&m, "authorizer_appid"))
        .ok_or_else(ApiErr::invalid_appid)?;
    let now = sim.now();
    let mut s = sim.lock();
    let z = s
        .authz
        .get(&a.index)
        .ok_or_else(|| ApiErr::new(61003, "component is not authorized by this account"))?;
    if z.refresh_token != str_field(&m, "authorizer_refresh_token") {
        return Err(ApiErr::new(61023, "refresh_token is invalid"));
    }
    let refresh = z.refresh_token.clone();
    let token = s.issue_token(TokenKind::Authorizer, Some(a.index), now);
    Ok(
        json!({"authorizer_access_token": token, "expires_in": TOKEN_TTL, "authorizer_refresh_token": refresh}),
    )
}

pub fn get_authorizer_info(sim: &Sim, q: &Query, body: &[u8]) -> ApiResult<Value> {
    component_caller(sim, q, "/cgi-bin/component/api_get_authorizer_info")?;
    let m = body_json(body)?;
    check_component_appid(sim, &m)?;
    let a = sim
        .world
        .account(str_field(&m, "authorizer_appid"))
        .ok_or_else(ApiErr::invalid_appid)?;
    let s = sim.lock();
    let z = s
        .authz
        .get(&a.index)
        .ok_or_else(|| ApiErr::new(61003, "component is not authorized by this account"))?;
    let mut info = json!({
        "nick_name": a.nickname,
        "head_img": sim.avatar_url(a),
        "service_type_info": {"id": a.service_type_id()},
        "verify_type_info": {"id": a.verify_type_id()},
        "user_name": a.user_name,
        "alias": a.alias,
        "qrcode_url": format!("{}/__sim/avatar/{}.svg", sim.base_url, a.appid),
        "principal_name": a.principal_name,
        "business_info": {"open_store": 0, "open_scan": 0, "open_pay": i32::from(a.verified), "open_card": 0, "open_shake": 0},
        "account_status": 1,
        "signature": a.signature,
        "idc": 1,
    });
    if a.kind == Kind::MiniProgram
        && let Some(o) = info.as_object_mut()
    {
        o.insert(
            "MiniProgramInfo".into(),
            json!({
                "network": {"RequestDomain": ["https://api.example.cn"], "WsRequestDomain": [], "UploadDomain": [],
                            "DownloadDomain": [], "BizDomain": [], "UDPDomain": []},
                "categories": [{"first": "生活服务", "second": "家政服务"}],
                "visit_status": 0
            }),
        );
    }
    Ok(json!({
        "authorizer_info": info,
        "authorization_info": {
            "authorizer_appid": a.appid,
            "authorizer_refresh_token": z.refresh_token,
            "func_info": func_info(&sim.granted_sets(a)),
        }
    }))
}

pub fn get_authorizer_list(sim: &Sim, q: &Query, body: &[u8]) -> ApiResult<Value> {
    component_caller(sim, q, "/cgi-bin/component/api_get_authorizer_list")?;
    let m = body_json(body)?;
    check_component_appid(sim, &m)?;
    let offset = m.get("offset").and_then(Value::as_u64).unwrap_or(0) as usize;
    let count = m.get("count").and_then(Value::as_u64).unwrap_or(100);
    if count == 0 || count > 500 {
        return Err(ApiErr::new(40066, "invalid count"));
    }
    let s = sim.lock();
    let list: Vec<Value> = s
        .authz
        .iter()
        .skip(offset)
        .take(count as usize)
        .filter_map(|(i, z)| {
            sim.world.accounts.get(usize::from(*i)).map(|a| {
                json!({"authorizer_appid": a.appid, "refresh_token": z.refresh_token, "auth_time": z.auth_time})
            })
        })
        .collect();
    Ok(json!({"total_count": s.authz.len(), "list": list}))
}

/// `cgi-bin/token`: an account's own access_token (the previous one works 5 more minutes).
pub fn client_token(sim: &Sim, q: &Query, _body: &[u8]) -> ApiResult<Value> {
    let get = |k: &str| q.get(k).map(String::as_str).unwrap_or("");
    issue_client(sim, get("grant_type"), get("appid"), get("secret"), true)
}

/// `cgi-bin/stable_token`: without force_refresh, the current token while it is valid.
pub fn stable_token(sim: &Sim, _q: &Query, body: &[u8]) -> ApiResult<Value> {
    let m = body_json(body)?;
    let force = m
        .get("force_refresh")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    issue_client(
        sim,
        str_field(&m, "grant_type"),
        str_field(&m, "appid"),
        str_field(&m, "secret"),
        force,
    )
}

fn issue_client(
    sim: &Sim,
    grant_type: &str,
    appid: &str,
    secret: &str,
    force: bool,
) -> ApiResult<Value> {
    if grant_type != "client_credential" {
        return Err(ApiErr::new(40002, "invalid grant_type"));
    }
    if appid == sim.cfg.component_appid {
        return Err(ApiErr::new(
            61024,
            "must use api(api_component_token) to get token for component acct",
        ));
    }
    let a = sim.world.account(appid).ok_or_else(ApiErr::invalid_appid)?;
    if secret != a.appsecret {
        return Err(ApiErr::new(40125, "invalid appsecret"));
    }
    let now = sim.now();
    let mut s = sim.lock();
    let path = "/cgi-bin/token";
    s.take_quota(a.index, path, sim.quota_limit(path), now)?;
    if !force
        && let Some(t) = s.newest.get(&(TokenKind::Client, Some(a.index))).cloned()
        && let Ok(rec) = s.check_token(Some(&t), now)
    {
        return Ok(json!({"access_token": t, "expires_in": rec.expires_at - now}));
    }
    let token = s.issue_token(TokenKind::Client, Some(a.index), now);
    Ok(json!({"access_token": token, "expires_in": TOKEN_TTL}))
}

fn session(sim: &Sim, appid: &str, code: &str) -> ApiResult<Value> {
    let a = sim.world.account(appid).ok_or_else(ApiErr::invalid_appid)?;
    if a.kind != Kind::MiniProgram {
        return Err(ApiErr::invalid_appid());
    }
    if code.is_empty() || code.len() > 128 {
        return Err(ApiErr::new(40029, "invalid code"));
    }
    {
        let mut s = sim.lock();
        if s.used_js_codes.len() > 100_000 {
            s.used_js_codes.clear();
        }
        if !s.used_js_codes.insert(code.to_string()) {
            return Err(ApiErr::new(40163, "code been used"));
        }
    }
    let index = (ids::hash_str(code) % u64::from(a.followers.max(1))) as u32;
    use base64::Engine;
    let key: Vec<u8> = ids::hash(sim.cfg.seed, &[ids::hash_str(code), 0x5E])
        .to_le_bytes()
        .iter()
        .chain(
            ids::hash(sim.cfg.seed, &[ids::hash_str(code), 0x5F])
                .to_le_bytes()
                .iter(),
        )
        .copied()
        .collect();
    let mut v = json!({
        "openid": sim.world.openid(a, index),
        "session_key": base64::engine::general_purpose::STANDARD.encode(key),
    });
    if let (Some(u), Some(o)) = (sim.world.unionid(a, index), v.as_object_mut()) {
        o.insert("unionid".into(), Value::String(u));
    }
    Ok(v)
}

/// `sns/component/jscode2session`: a mini program's login, by the platform.
pub fn component_jscode2session(sim: &Sim, q: &Query, _body: &[u8]) -> ApiResult<Value> {
    component_caller(sim, q, "/sns/component/jscode2session")?;
    let get = |k: &str| q.get(k).map(String::as_str).unwrap_or("");
    if get("component_appid") != sim.cfg.component_appid {
        return Err(ApiErr::new(61011, "invalid component"));
    }
    if get("grant_type") != "authorization_code" {
        return Err(ApiErr::new(40002, "invalid grant_type"));
    }
    let a = sim
        .world
        .account(get("appid"))
        .ok_or_else(ApiErr::invalid_appid)?;
    if !sim.lock().authz.contains_key(&a.index) {
        return Err(ApiErr::new(
            61003,
            "component is not authorized by this account",
        ));
    }
    session(sim, get("appid"), get("js_code"))
}

/// `sns/jscode2session`: a mini program's own login with its secret.
pub fn jscode2session(sim: &Sim, q: &Query, _body: &[u8]) -> ApiResult<Value> {
    let get = |k: &str| q.get(k).map(String::as_str).unwrap_or("");
    let a = sim
        .world
        .account(get("appid"))
        .ok_or_else(ApiErr::invalid_appid)?;
    if get("secret") != a.appsecret {
        return Err(ApiErr::new(40125, "invalid appsecret"));
    }
    session(sim, get("appid"), get("js_code"))
}
