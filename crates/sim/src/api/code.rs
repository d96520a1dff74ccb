//! Mini-program code management (protocol L): the platform's template library with the component
//! token, and each mini program's domains, code, audits, release and rollback with its
//! authorizer token (permission set 18; the account's own token gets 86000). The rules are in
//! `crate::code::rules`; this file reads requests and writes WeChat's JSON.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{RawQuery, State};
use axum::http::{Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, any};
use serde_json::{Map, Value, json};

use super::{Query, body_json, component_caller, json_response, ok, parse_query, str_field};
use crate::code::rules::CommitArgs;
use crate::code::{self, CATEGORIES, PLATFORM_DOMAINS, PLATFORM_WEBVIEW, SPEEDUP_LIMIT};
use crate::server::PeerIp;
use crate::sim::Sim;
use crate::state::{ApiErr, ApiResult, TokenKind};
use crate::world::{Account, Kind};

/// The permission set of every code API (L.7).
const CODE_SET: u32 = 18;

/// A code API's caller: a live authorizer token of a mini program that granted set 18; counts
/// the account's daily quota. Settles due audits first, so the answer reflects the sim clock.
fn mini_caller<'w>(sim: &'w Sim, q: &Query, path: &'static str) -> ApiResult<&'w Account> {
    code::settle(sim);
    let now = sim.now();
    let mut s = sim.lock();
    let rec = s.check_token(q.get("access_token").map(String::as_str), now)?;
    let idx = match (rec.kind, rec.account) {
        (TokenKind::Authorizer, Some(i)) => i,
        (TokenKind::Client, Some(_)) => {
            return Err(ApiErr::new(86000, "should be called only from third party"));
        }
        _ => return Err(ApiErr::invalid_token()),
    };
    let a = sim
        .world
        .accounts
        .get(usize::from(idx))
        .ok_or_else(ApiErr::invalid_token)?;
    if a.kind != Kind::MiniProgram || !sim.world.func_info(a).contains(&CODE_SET) {
        return Err(ApiErr::new(61007, "api is unauthorized to component"));
    }
    s.take_quota(idx, path, sim.quota_limit(path), now)?;
    Ok(a)
}

/// A number, or a string holding only a number (the older pages' typing); anything else —
/// including a string with literal quotes in it — is `None`.
fn id_field(m: &Map<String, Value>, k: &str) -> Option<i64> {
    match m.get(k)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn audit_secs(sim: &Sim) -> i64 {
    i64::try_from(sim.cfg.audit_secs).unwrap_or(i64::MAX / 4)
}

// ---- template library (component token) ----

pub fn draft_list(sim: &Sim, q: &Query, _body: &[u8]) -> ApiResult<Value> {
    component_caller(sim, q, "/wxa/gettemplatedraftlist")?;
    let s = sim.lock();
    let list: Vec<Value> = s
        .code
        .drafts
        .iter()
        .map(|d| {
            json!({"create_time": d.create_time, "user_version": d.user_version,
                   "user_desc": d.user_desc, "draft_id": d.draft_id})
        })
        .collect();
    Ok(json!({"errcode": 0, "errmsg": "ok", "draft_list": list}))
}

pub fn add_to_template(sim: &Sim, q: &Query, body: &[u8]) -> ApiResult<Value> {
    component_caller(sim, q, "/wxa/addtotemplate")?;
    let m = body_json(body)?;
    let draft_id =
        id_field(&m, "draft_id").ok_or_else(|| ApiErr::new(85064, "template not found"))?;
    let template_type = id_field(&m, "template_type").unwrap_or(0);
    if !matches!(template_type, 0 | 1) {
        return Err(ApiErr::data_format());
    }
    let now = sim.now();
    sim.lock()
        .code
        .add_to_template(draft_id, template_type, now)?;
    Ok(ok())
}

pub fn template_list(sim: &Sim, q: &Query, _body: &[u8]) -> ApiResult<Value> {
    component_caller(sim, q, "/wxa/gettemplatelist")?;
    let wanted: Option<i64> = q.get("template_type").and_then(|t| t.parse().ok());
    let s = sim.lock();
    let list: Vec<Value> = s
        .code
        .templates
        .iter()
        .filter(|t| wanted.is_none_or(|w| w == t.template_type))
        .map(|t| {
            json!({"create_time": t.create_time, "user_version": t.user_version,
                   "user_desc": t.user_desc, "template_id": t.template_id,
                   "draft_id": t.draft_id, "template_type": t.template_type,
                   "source_miniprogram_appid": t.source_appid,
                   "source_miniprogram": t.source_name, "category_list": []})
        })
        .collect();
    Ok(json!({"errcode": 0, "errmsg": "ok", "template_list": list}))
}

pub fn delete_template(sim: &Sim, q: &Query, body: &[u8]) -> ApiResult<Value> {
    component_caller(sim, q, "/wxa/deletetemplate")?;
    let m = body_json(body)?;
    let id = id_field(&m, "template_id").ok_or_else(|| ApiErr::new(85064, "template not found"))?;
    sim.lock().code.delete_template(id)?;
    Ok(ok())
}

// ---- domains ----

fn string_list(v: Option<&Value>) -> ApiResult<Vec<String>> {
    match v {
        None => Ok(Vec::new()),
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| {
                x.as_str()
                    .map(str::to_string)
                    .ok_or_else(ApiErr::data_format)
            })
            .collect(),
        Some(_) => Err(ApiErr::data_format()),
    }
}

pub fn modify_domain(sim: &Sim, q: &Query, body: &[u8]) -> ApiResult<Value> {
    let a = mini_caller(sim, q, "/wxa/modify_domain")?;
    let m = body_json(body)?;
    let action = str_field(&m, "action");
    if !matches!(action, "add" | "delete" | "set" | "get") {
        return Err(ApiErr::data_format());
    }
    let mut s = sim.lock();
    let mini = s.code.mini(a.index);
    let mut answer = Map::new();
    let mut changed = false;
    for (list, registered) in PLATFORM_DOMAINS {
        let given = string_list(m.get(*list))?;
        let (valid, invalid): (Vec<String>, Vec<String>) = given
            .into_iter()
            .partition(|d| registered.contains(&d.as_str()));
        let current = mini.domains.entry(*list).or_default();
        let before = current.clone();
        match action {
            "add" => current.extend(valid.into_iter().filter(|d| !before.contains(d))),
            "delete" => current.retain(|d| !valid.contains(d)),
            "set" => *current = valid,
            _ => {}
        }
        changed |= *current != before;
        answer.insert((*list).to_string(), json!(current));
        answer.insert(format!("invalid_{list}"), json!(invalid));
    }
    if action != "get" && !changed && action != "set" {
        return Err(ApiErr::new(
            85017,
            "no domain to modify after filtered, please confirm the domain has been set in miniprogram or open",
        ));
    }
    answer.insert("errcode".into(), json!(0));
    answer.insert("errmsg".into(), json!("ok"));
    answer.insert("no_icp_domain".into(), json!([]));
    Ok(Value::Object(answer))
}

fn is_platform_webview(d: &str) -> bool {
    PLATFORM_WEBVIEW.iter().any(|p| {
        let host = p.trim_start_matches("https://");
        d == *p
            || d.strip_prefix("https://")
                .is_some_and(|h| h.ends_with(&format!(".{host}")))
    })
}

pub fn set_webview_domain(sim: &Sim, q: &Query, body: &[u8]) -> ApiResult<Value> {
    let a = mini_caller(sim, q, "/wxa/setwebviewdomain")?;
    let m = body_json(body)?;
    let given = string_list(m.get("webviewdomain"))?;
    let mut s = sim.lock();
    let mini = s.code.mini(a.index);
    let before = mini.webview.clone();
    match m.get("action").and_then(Value::as_str) {
        // No action: every webview domain of the platform (L.2).
        None => {
            for d in PLATFORM_WEBVIEW {
                if !mini.webview.iter().any(|w| w == d) {
                    mini.webview.push((*d).to_string());
                }
            }
        }
        Some("get") => {}
        Some(action @ ("add" | "set")) => {
            if given.iter().any(|d| !is_platform_webview(d)) {
                return Err(ApiErr::new(
                    89021,
                    "request domain is not open's webview domain!",
                ));
            }
            if action == "set" {
                mini.webview.clear();
            }
            for d in given {
                if !mini.webview.contains(&d) {
                    mini.webview.push(d);
                }
            }
        }
        Some("delete") => {
            if given.iter().any(|d| !mini.webview.contains(d)) {
                return Err(ApiErr::new(89022, "delete domain is not exist!"));
            }
            mini.webview.retain(|d| !given.contains(d));
        }
        Some(_) => return Err(ApiErr::data_format()),
    }
    let action = m.get("action").and_then(Value::as_str);
    if action != Some("get") && mini.webview == before {
        return Err(ApiErr::new(89019, "业务域名无更改，无需重复设置"));
    }
    Ok(json!({"errcode": 0, "errmsg": "ok", "webviewdomain": mini.webview}))
}

// ---- code ----

pub fn commit(sim: &Sim, q: &Query, body: &[u8]) -> ApiResult<Value> {
    let a = mini_caller(sim, q, "/wxa/commit")?;
    let m = body_json(body)?;
    let template_id =
        id_field(&m, "template_id").ok_or_else(|| ApiErr::new(85014, "template not exist"))?;
    let ext_json = match m.get("ext_json") {
        None | Some(Value::Null) => "",
        Some(Value::String(s)) => s.as_str(),
        // ext_json must be a string holding JSON, not an object (L.5).
        Some(_) => return Err(ApiErr::new(85048, "parse ext.json failed")),
    };
    let now = sim.now();
    let privacy = i64::try_from(sim.cfg.privacy_check_secs).unwrap_or(i64::MAX / 4);
    sim.lock().code.commit(
        a.index,
        &CommitArgs {
            template_id,
            ext_json,
            user_version: str_field(&m, "user_version"),
            user_desc: str_field(&m, "user_desc"),
        },
        now,
        privacy,
    )?;
    Ok(ok())
}

pub fn categories(sim: &Sim, q: &Query, _body: &[u8]) -> ApiResult<Value> {
    mini_caller(sim, q, "/wxa/get_category")?;
    let list: Vec<Value> = CATEGORIES
        .iter()
        .map(|(f, s, fi, si)| {
            json!({"first_class": f, "second_class": s, "first_id": fi, "second_id": si})
        })
        .collect();
    Ok(json!({"errcode": 0, "errmsg": "ok", "category_list": list}))
}

pub fn pages(sim: &Sim, q: &Query, _body: &[u8]) -> ApiResult<Value> {
    let a = mini_caller(sim, q, "/wxa/get_page")?;
    let mut s = sim.lock();
    let exp = s
        .code
        .mini(a.index)
        .exp
        .as_ref()
        .ok_or_else(|| ApiErr::new(86001, "component experience version not exists"))?;
    Ok(json!({"errcode": 0, "errmsg": "ok", "page_list": exp.pages}))
}

pub fn submit_audit(sim: &Sim, q: &Query, body: &[u8]) -> ApiResult<Value> {
    let a = mini_caller(sim, q, "/wxa/submit_audit")?;
    let m = body_json(body)?;
    let items = match m.get("item_list") {
        None => Vec::new(),
        // A stringified array is 47001 (L.3.1).
        Some(Value::Array(list)) => list.clone(),
        Some(_) => return Err(ApiErr::data_format()),
    };
    if m.contains_key("item_list") && !(1..=5).contains(&items.len()) {
        return Err(ApiErr::new(85023, "审核列表填写的项目数不在 1-5 以内"));
    }
    let mut read = Vec::new();
    for item in &items {
        let s = |k: &str| {
            item.get(k)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let title = s("title");
        if title.chars().count() > 32 {
            return Err(ApiErr::new(85011, "标题填写错误"));
        }
        let category =
            (!s("first_class").is_empty()).then(|| (s("first_class"), s("second_class")));
        read.push((s("address"), category));
    }
    let now = sim.now();
    let limit = sim.cfg.audit_quota;
    let auditid = sim
        .lock()
        .code
        .submit(a.index, &read, now, audit_secs(sim), limit)?;
    Ok(json!({"errcode": 0, "errmsg": "ok", "auditid": auditid}))
}

pub fn audit_status(sim: &Sim, q: &Query, body: &[u8]) -> ApiResult<Value> {
    let a = mini_caller(sim, q, "/wxa/get_auditstatus")?;
    let m = body_json(body)?;
    let id = id_field(&m, "auditid").ok_or_else(|| ApiErr::new(85012, "invalid audit id"))?;
    let s = sim.lock();
    let audit = s.code.audit(a.index, id)?;
    let mut v = json!({"errcode": 0, "errmsg": "ok", "status": audit.status});
    if let Some(r) = &audit.reason {
        v["reason"] = json!(r);
    }
    if let Some(shot) = &audit.screenshot {
        v["screenshot"] = json!(shot);
    }
    Ok(v)
}

pub fn latest_audit_status(sim: &Sim, q: &Query, _body: &[u8]) -> ApiResult<Value> {
    let a = mini_caller(sim, q, "/wxa/get_latest_auditstatus")?;
    let mut s = sim.lock();
    let audit = s
        .code
        .mini(a.index)
        .latest_audit()
        .ok_or_else(|| ApiErr::new(85058, "no valid audit_id exist"))?;
    // The official example spells `ScreenShot` (L.3).
    Ok(
        json!({"errcode": 0, "errmsg": "ok", "auditid": audit.auditid, "status": audit.status,
              "reason": audit.reason.clone().unwrap_or_default(),
              "ScreenShot": audit.screenshot.clone().unwrap_or_default(),
              "user_version": audit.version.user_version, "user_desc": audit.version.user_desc,
              "submit_audit_time": audit.submitted_at}),
    )
}

pub fn undo_code_audit(sim: &Sim, q: &Query, _body: &[u8]) -> ApiResult<Value> {
    let a = mini_caller(sim, q, "/wxa/undocodeaudit")?;
    let now = sim.now();
    sim.lock().code.undo(a.index, now)?;
    Ok(ok())
}

pub fn speedup_audit(sim: &Sim, q: &Query, body: &[u8]) -> ApiResult<Value> {
    let a = mini_caller(sim, q, "/wxa/speedupaudit")?;
    let m = body_json(body)?;
    let id = id_field(&m, "auditid").ok_or_else(|| ApiErr::new(85012, "invalid audit id"))?;
    let now = sim.now();
    sim.lock().code.speedup(a.index, id, now, audit_secs(sim))?;
    Ok(ok())
}

/// WeChat answers 44002 to an empty body on these POSTs: `{}` must be sent (L.3).
fn require_body(body: &[u8]) -> ApiResult<()> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiErr::new(44002, "empty post data"));
    }
    body_json(body).map(|_| ())
}

pub fn release(sim: &Sim, q: &Query, body: &[u8]) -> ApiResult<Value> {
    let a = mini_caller(sim, q, "/wxa/release")?;
    require_body(body)?;
    let now = sim.now();
    sim.lock().code.release(a.index, now)?;
    Ok(ok())
}

pub fn revert_code_release(sim: &Sim, q: &Query, _body: &[u8]) -> ApiResult<Value> {
    let a = mini_caller(sim, q, "/wxa/revertcoderelease")?;
    let mut s = sim.lock();
    if let Some(action) = q.get("action") {
        // With an action the call only lists (L.3: do not send it to roll back).
        if action != "get_history_version" {
            return Err(ApiErr::new(40097, "invalid args"));
        }
        let list: Vec<Value> = s
            .code
            .mini(a.index)
            .history
            .iter()
            .rev()
            .map(|r| {
                json!({"app_version": r.app_version, "user_version": r.user_version,
                       "user_desc": r.user_desc, "commit_time": r.released_at})
            })
            .collect();
        return Ok(json!({"errcode": 0, "errmsg": "ok", "version_list": list}));
    }
    let app_version = match q.get("app_version") {
        None => None,
        Some(v) => Some(v.parse().map_err(|_| ApiErr::new(40097, "invalid args"))?),
    };
    s.code.revert(a.index, app_version)?;
    Ok(ok())
}

pub fn version_info(sim: &Sim, q: &Query, body: &[u8]) -> ApiResult<Value> {
    let a = mini_caller(sim, q, "/wxa/getversioninfo")?;
    require_body(body)?;
    let mut s = sim.lock();
    let m = s.code.mini(a.index);
    let mut v = json!({"errcode": 0, "errmsg": "ok"});
    if let Some(e) = &m.exp {
        v["exp_info"] = json!({"exp_time": e.committed_at, "exp_version": e.user_version,
                                "exp_desc": e.user_desc});
    }
    if let Some(r) = &m.release {
        v["release_info"] = json!({"release_time": r.released_at,
                                    "release_version": r.user_version,
                                    "release_desc": r.user_desc});
    }
    Ok(v)
}

pub fn visit_status(sim: &Sim, q: &Query, body: &[u8]) -> ApiResult<Value> {
    let a = mini_caller(sim, q, "/wxa/getvisitstatus")?;
    require_body(body)?;
    let mut s = sim.lock();
    let open = s.code.mini(a.index).visit_open;
    Ok(json!({"errcode": 0, "errmsg": "ok", "status": i64::from(open)}))
}

pub fn change_visit_status(sim: &Sim, q: &Query, body: &[u8]) -> ApiResult<Value> {
    let a = mini_caller(sim, q, "/wxa/change_visitstatus")?;
    let m = body_json(body)?;
    let open = match str_field(&m, "action") {
        "open" => true,
        "close" => false,
        _ => return Err(ApiErr::new(85022, "invalid action")),
    };
    let mut s = sim.lock();
    let mini = s.code.mini(a.index);
    if mini.release.is_none() {
        return Err(ApiErr::new(85021, "status not allowed"));
    }
    mini.visit_open = open;
    Ok(ok())
}

pub fn query_quota(sim: &Sim, q: &Query, _body: &[u8]) -> ApiResult<Value> {
    mini_caller(sim, q, "/wxa/queryquota")?;
    let now = sim.now();
    let s = sim.lock();
    let limit = sim.cfg.audit_quota;
    Ok(json!({"errcode": 0, "errmsg": "ok",
              "rest": limit.saturating_sub(s.code.quota_used(now)), "limit": limit,
              "speedup_rest": SPEEDUP_LIMIT.saturating_sub(s.code.speedups_used(now)),
              "speedup_limit": SPEEDUP_LIMIT}))
}

/// A tiny valid baseline JPEG (8×8, grey): the trial QR code stands in for WeChat's image.
const QR_JPEG: &[u8] = &[
    0xFF, 0xD8, // SOI
    0xFF, 0xDB, 0x00, 0x43, 0x00, // DQT, table 0: all ones
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, //
    0xFF, 0xC0, 0x00, 0x0B, 0x08, 0x00, 0x08, 0x00, 0x08, 0x01, 0x01, 0x11, 0x00, // SOF0 8×8
    0xFF, 0xC4, 0x00, 0x14, 0x00, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, // DC
    0xFF, 0xC4, 0x00, 0x14, 0x10, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, // AC
    0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00, // SOS
    0x3F, // DC diff 0, EOB, padding
    0xFF, 0xD9, // EOI
];

/// `GET /wxa/get_qrcode`: the image (`image/jpeg`, as an attachment) or a JSON error.
pub fn qrcode_route() -> MethodRouter<Arc<Sim>> {
    any(
        |State(sim): State<Arc<Sim>>,
         uri: Uri,
         peer: Option<Extension<PeerIp>>,
         RawQuery(raw): RawQuery| async move {
            let q = parse_query(raw.as_deref());
            if let Some(e) = super::whitelist(&sim, uri.path(), peer.map(|Extension(p)| p.0)) {
                return json_response(&e.to_json());
            }
            match mini_caller(&sim, &q, "/wxa/get_qrcode") {
                Err(e) => json_response(&e.to_json()),
                Ok(a) => {
                    if sim.lock().code.mini(a.index).exp.is_none() {
                        let e = ApiErr::new(86001, "component experience version not exists");
                        return json_response(&e.to_json());
                    }
                    qr_image()
                }
            }
        },
    )
}

fn qr_image() -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/jpeg"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"QRCode.jpg\"",
            ),
        ],
        QR_JPEG,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_qr_image_is_a_whole_jpeg() {
        assert_eq!(&QR_JPEG[..2], &[0xFF, 0xD8]);
        assert_eq!(&QR_JPEG[QR_JPEG.len() - 2..], &[0xFF, 0xD9]);
        // DQT: 2 length bytes + 1 + 64.
        assert_eq!(QR_JPEG[4..6], [0x00, 0x43]);
        assert_eq!(QR_JPEG[6 + 65..6 + 67], [0xFF, 0xC0]);
    }

    #[test]
    fn ids_are_numbers_or_numeric_strings_but_not_quoted_strings() {
        let m = |v: Value| v.as_object().cloned().unwrap_or_default();
        assert_eq!(
            id_field(&m(json!({"template_id": 7})), "template_id"),
            Some(7)
        );
        assert_eq!(
            id_field(&m(json!({"template_id": "7"})), "template_id"),
            Some(7)
        );
        assert_eq!(
            id_field(&m(json!({"template_id": "\"7\""})), "template_id"),
            None
        );
    }

    #[test]
    fn webview_subdomains_of_the_platform_are_allowed() {
        assert!(is_platform_webview("https://m.wxdesk-demo.com"));
        assert!(is_platform_webview("https://shop1.m.wxdesk-demo.com"));
        assert!(!is_platform_webview("https://evil.com"));
        assert!(!is_platform_webview("https://xm.wxdesk-demo.com"));
    }
}
