//! Quota management (protocol C.7): clear_quota (10 a month, then 48006) and quota/get.

use serde_json::{Value, json};

use super::{Query, account_caller, body_json, check_component_appid, str_field};
use crate::sim::Sim;
use crate::state::{ApiErr, ApiResult, COMPONENT, QUOTA_PATHS, TokenKind};

/// `cgi-bin/clear_quota`: any token (AT, AAT or CAT) and the appid it may reset.
pub fn clear_quota(sim: &Sim, q: &Query, body: &[u8]) -> ApiResult<Value> {
    let m = body_json(body)?;
    let appid = str_field(&m, "appid");
    let now = sim.now();
    let mut s = sim.lock();
    let rec = s.check_token(super::component_token(q), now)?;
    let target = if appid == sim.cfg.component_appid && rec.kind == TokenKind::Component {
        COMPONENT
    } else {
        let a = sim.world.account(appid).ok_or_else(ApiErr::invalid_appid)?;
        let allowed = match rec.kind {
            // The platform may reset the accounts that authorized it.
            TokenKind::Component => s.authz.contains_key(&a.index),
            TokenKind::Authorizer | TokenKind::Client => rec.account == Some(a.index),
        };
        if !allowed {
            return Err(ApiErr::invalid_appid());
        }
        a.index
    };
    s.clear_quota(target, now)?;
    Ok(super::ok())
}

/// `cgi-bin/component/clear_quota`: the platform's own quota, with the component token.
pub fn component_clear_quota(sim: &Sim, q: &Query, body: &[u8]) -> ApiResult<Value> {
    let m = body_json(body)?;
    check_component_appid(sim, &m)?;
    let now = sim.now();
    let mut s = sim.lock();
    let rec = s.check_token(super::component_token(q), now)?;
    if rec.kind != TokenKind::Component {
        return Err(ApiErr::invalid_token());
    }
    s.clear_quota(COMPONENT, now)?;
    Ok(super::ok())
}

/// `cgi-bin/component/clear_quota/v2`: by secret (works with the token quota exhausted); with
/// `appid`, resets that authorizer's quota.
pub fn component_clear_quota_v2(sim: &Sim, _q: &Query, body: &[u8]) -> ApiResult<Value> {
    let m = body_json(body)?;
    check_component_appid(sim, &m)?;
    if str_field(&m, "appsecret") != sim.cfg.component_appsecret {
        return Err(ApiErr::new(40125, "invalid appsecret"));
    }
    let now = sim.now();
    let mut s = sim.lock();
    let target = match str_field(&m, "appid") {
        "" => COMPONENT,
        appid => {
            let a = sim.world.account(appid).ok_or_else(ApiErr::invalid_appid)?;
            if !s.authz.contains_key(&a.index) {
                return Err(ApiErr::new(
                    61003,
                    "component is not authorized by this account",
                ));
            }
            a.index
        }
    };
    s.clear_quota(target, now)?;
    Ok(super::ok())
}

pub fn quota_get(sim: &Sim, q: &Query, body: &[u8]) -> ApiResult<Value> {
    let a = account_caller(sim, q, "/cgi-bin/openapi/quota/get")?;
    let m = body_json(body)?;
    let path = str_field(&m, "cgi_path");
    let path: &'static str = QUOTA_PATHS
        .iter()
        .find(|p| **p == path)
        .copied()
        .ok_or_else(|| ApiErr::new(76021, "cgi_path not found, please check"))?;
    let limit = sim.quota_limit(path);
    let used = sim.lock().quota_used(a.index, path, sim.now());
    Ok(
        json!({"errcode": 0, "errmsg": "ok", "quota": {"daily_limit": limit, "used": used, "remain": limit.saturating_sub(used)}}),
    )
}
