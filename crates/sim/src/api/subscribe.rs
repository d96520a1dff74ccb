//! 订阅通知 of official accounts (protocol G.2–G.4): the `wxaapi/newtmpl` template family and
//! `message/subscribe/bizsend`. Only official accounts (a mini program's token: 48001); bizsend
//! only for verified service accounts; an authorizer token whose account withholds the
//! permission set gets 61007 (bizsend needs 89, the template APIs 18 or 89).

use serde_json::{Map, Value, json};

use super::messages::{check_jump, data_value, invalid_value};
use super::{Query, account_caller, body_json, parse_query, str_field};
use crate::ids;
use crate::push::{self, Push, Target};
use crate::sim::Sim;
use crate::state::{ApiErr, ApiResult, Jump, TokenKind};
use crate::subscribe::{
    self, CATEGORIES, MAX_KIDS, MAX_SCENE_CHARS, MAX_SUB_TEMPLATES, MAX_TITLES_LIMIT, MIN_KIDS,
    SUB_LIBRARY, SubTemplate,
};
use crate::templates::value_ok;
use crate::world::{Account, Person};

/// 服务号订阅通知 and 开发管理与数据分析 (protocol G.2).
const SET_SUBSCRIBE: u32 = 89;
const SET_DEVELOP: u32 = 18;

fn unauthorized_to_component() -> ApiErr {
    ApiErr::new(61007, "api is unauthorized to component")
}

/// The caller of a 订阅通知 API: an official account; through a third-party platform, one that
/// grants one of `sets`.
fn caller<'w>(sim: &'w Sim, q: &Query, path: &'static str, sets: &[u32]) -> ApiResult<&'w Account> {
    let a = account_caller(sim, q, path)?;
    if !a.kind.is_official() {
        return Err(ApiErr::unauthorized_api());
    }
    let kind = sim
        .lock()
        .check_token(q.get("access_token").map(String::as_str), sim.now())?
        .kind;
    if kind == TokenKind::Authorizer {
        let granted = sim.granted_sets(a);
        if !sets.iter().any(|s| granted.contains(s)) {
            return Err(unauthorized_to_component());
        }
    }
    Ok(a)
}

fn template_caller<'w>(sim: &'w Sim, q: &Query, path: &'static str) -> ApiResult<&'w Account> {
    caller(sim, q, path, &[SET_DEVELOP, SET_SUBSCRIBE])
}

pub fn get_category(sim: &Sim, q: &Query, _body: &[u8]) -> ApiResult<Value> {
    template_caller(sim, q, "/wxaapi/newtmpl/getcategory")?;
    let data: Vec<Value> = CATEGORIES
        .iter()
        .map(|(id, name)| json!({"id": id, "name": name}))
        .collect();
    Ok(json!({"errcode": 0, "errmsg": "ok", "data": data}))
}

/// `ids`: comma-separated decimal category ids (quoted ones, as in the doc's example, are 200019).
fn category_ids(q: &Query) -> ApiResult<Vec<u32>> {
    let raw = q.get("ids").map(|s| s.trim()).unwrap_or("");
    if raw.is_empty() {
        return Err(ApiErr::new(200018, "ids is missing"));
    }
    raw.split(',')
        .map(|p| {
            let p = p.trim();
            if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) {
                p.parse::<u32>()
                    .map_err(|_| ApiErr::new(200019, "invalid ids"))
            } else {
                Err(ApiErr::new(200019, "invalid ids"))
            }
        })
        .collect()
}

pub fn get_pub_titles(sim: &Sim, q: &Query, _body: &[u8]) -> ApiResult<Value> {
    template_caller(sim, q, "/wxaapi/newtmpl/getpubtemplatetitles")?;
    let ids = category_ids(q)?;
    let start: usize = q
        .get("start")
        .and_then(|s| s.trim().parse().ok())
        .ok_or_else(|| ApiErr::new(200016, "invalid start"))?;
    let limit: u32 = q
        .get("limit")
        .and_then(|s| s.trim().parse().ok())
        .filter(|l| (1..=MAX_TITLES_LIMIT).contains(l))
        .ok_or_else(|| ApiErr::new(200017, "invalid limit"))?;
    let all: Vec<&subscribe::SubLibTemplate> = SUB_LIBRARY
        .iter()
        .filter(|t| ids.contains(&t.category))
        .collect();
    let data: Vec<Value> = all
        .iter()
        .skip(start)
        .take(limit as usize)
        .map(|t| {
            // categoryId as a string, as the official example shows it.
            json!({"tid": t.tid, "title": t.title, "type": t.kind, "categoryId": t.category.to_string()})
        })
        .collect();
    Ok(json!({"errcode": 0, "errmsg": "ok", "count": all.len(), "data": data}))
}

pub fn get_pub_keywords(sim: &Sim, q: &Query, _body: &[u8]) -> ApiResult<Value> {
    template_caller(sim, q, "/wxaapi/newtmpl/getpubtemplatekeywords")?;
    let tid = q.get("tid").map(|s| s.trim()).unwrap_or("");
    if tid.is_empty() {
        return Err(ApiErr::new(200014, "missing parameter tid"));
    }
    let (_, t) = subscribe::lib(tid).ok_or_else(|| ApiErr::new(200014, "tid does not exist"))?;
    let data: Vec<Value> = t
        .keywords
        .iter()
        .map(|k| json!({"kid": k.kid, "name": k.name, "example": k.example, "rule": k.ty.prefix()}))
        .collect();
    Ok(json!({"errcode": 0, "errmsg": "ok", "count": data.len(), "data": data}))
}

/// The add request, from a JSON body or a form (`kidList=1&kidList=2`, `kidList[0]=1`): the
/// content type WeChat wants is UNCERTAIN (protocol G.3), so both are accepted.
struct AddRequest {
    tid: String,
    kids: Option<Vec<String>>,
    scene: String,
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn add_request(body: &[u8]) -> AddRequest {
    if let Ok(m) = body_json(body) {
        let kids = m.get("kidList").and_then(Value::as_array).map(|l| {
            l.iter()
                .map(|v| scalar(v).unwrap_or_default())
                .collect::<Vec<_>>()
        });
        return AddRequest {
            tid: m.get("tid").and_then(scalar).unwrap_or_default(),
            kids,
            scene: str_field(&m, "sceneDesc").to_string(),
        };
    }
    let mut req = AddRequest {
        tid: String::new(),
        kids: None,
        scene: String::new(),
    };
    let text = std::str::from_utf8(body).unwrap_or("");
    for (k, v) in url::form_urlencoded::parse(text.as_bytes()) {
        match k.as_ref() {
            "tid" => req.tid = v.into_owned(),
            "sceneDesc" => req.scene = v.into_owned(),
            k if k == "kidList" || (k.starts_with("kidList[") && k.ends_with(']')) => {
                req.kids.get_or_insert_with(Vec::new).push(v.into_owned());
            }
            _ => {}
        }
    }
    req
}

pub fn add_template(sim: &Sim, q: &Query, body: &[u8]) -> ApiResult<Value> {
    let a = template_caller(sim, q, "/wxaapi/newtmpl/addtemplate")?;
    let req = add_request(body);
    if req.tid.trim().is_empty() {
        return Err(ApiErr::new(200014, "missing parameter tid"));
    }
    let (lib, t) =
        subscribe::lib(&req.tid).ok_or_else(|| ApiErr::new(200014, "tid does not exist"))?;
    let bad_kids = || ApiErr::new(200020, "invalid keywords");
    let kids = req.kids.ok_or_else(bad_kids)?;
    if !(MIN_KIDS..=MAX_KIDS).contains(&kids.len()) {
        return Err(bad_kids());
    }
    let mut keywords = Vec::new();
    for k in &kids {
        let kid: u32 = k.trim().parse().map_err(|_| bad_kids())?;
        match t.keywords.iter().position(|x| x.kid == kid) {
            Some(i) if !keywords.contains(&i) => keywords.push(i),
            _ => return Err(bad_kids()),
        }
    }
    let scene = req.scene.trim();
    if scene.is_empty() || scene.chars().count() > MAX_SCENE_CHARS {
        return Err(ApiErr::new(200021, "invalid sceneDesc"));
    }
    let mut s = sim.lock();
    s.sub_serial += 1;
    let serial = s.sub_serial;
    let list = s.sub_templates.entry(a.index).or_default();
    if list.len() >= MAX_SUB_TEMPLATES {
        return Err(ApiErr::new(200012, "private template count reach limit"));
    }
    let id = ids::chars(
        sim.cfg.seed,
        &[u64::from(a.index), serial, 0x5B, lib as u64],
        43,
    );
    list.push(SubTemplate {
        pri_tmpl_id: id.clone(),
        lib,
        keywords,
        scene: scene.to_string(),
    });
    Ok(json!({"errcode": 0, "errmsg": "ok", "priTmplId": id}))
}

pub fn get_templates(sim: &Sim, q: &Query, _body: &[u8]) -> ApiResult<Value> {
    let a = template_caller(sim, q, "/wxaapi/newtmpl/gettemplate")?;
    let s = sim.lock();
    let data: Vec<Value> = s
        .sub_templates
        .get(&a.index)
        .map(|l| {
            l.iter()
                .map(|t| {
                    let (content, example) = t.text();
                    json!({"priTmplId": t.pri_tmpl_id, "title": t.lib().title, "content": content,
                           "example": example, "type": t.lib().kind})
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(json!({"errcode": 0, "errmsg": "ok", "data": data}))
}

pub fn del_template(sim: &Sim, q: &Query, body: &[u8]) -> ApiResult<Value> {
    let a = template_caller(sim, q, "/wxaapi/newtmpl/deltemplate")?;
    // JSON, or a form like addtemplate.
    let id = match body_json(body) {
        Ok(m) => str_field(&m, "priTmplId").to_string(),
        Err(_) => parse_query(std::str::from_utf8(body).ok())
            .remove("priTmplId")
            .unwrap_or_default(),
    };
    let mut s = sim.lock();
    let list = s.sub_templates.entry(a.index).or_default();
    let before = list.len();
    list.retain(|t| t.pri_tmpl_id != id);
    if list.len() == before {
        // UNCERTAIN at WeChat (protocol G.3): the shared page lists 20002 参数错误.
        return Err(ApiErr::new(20002, "invalid args"));
    }
    s.grants
        .retain(|(acct, _, t), _| !(*acct == a.index && *t == id));
    Ok(super::ok())
}

/// Each keyword of the template needs a value that keeps its rule (47003 names the first that
/// does not).
fn check_data(t: &SubTemplate, data: Option<&Map<String, Value>>) -> ApiResult<()> {
    for k in t.fields() {
        let key = k.key();
        match data_value(data, &key) {
            Some(v) if value_ok(k.ty, &v, &[]) => {}
            _ => return Err(invalid_value(&key)),
        }
    }
    Ok(())
}

pub fn bizsend(sim: &Sim, q: &Query, body: &[u8]) -> ApiResult<Value> {
    let a = caller(
        sim,
        q,
        "/cgi-bin/message/subscribe/bizsend",
        &[SET_SUBSCRIBE],
    )?;
    // 订阅通知 is for verified service accounts (protocol G.1).
    if !a.can_send_templates() {
        return Err(ApiErr::unauthorized_api());
    }
    let m = body_json(body)?;
    let openid = str_field(&m, "touser");
    // Non-followers get it in 服务通知: no 43004 here, only "not a user of this account".
    let index = match sim.person(a, openid) {
        Some(Person::Follower(i) | Person::Former(i)) => i,
        None => return Err(ApiErr::invalid_openid()),
    };
    let template_id = str_field(&m, "template_id");
    let template = sim
        .lock()
        .sub_templates
        .get(&a.index)
        .and_then(|l| l.iter().find(|t| t.pri_tmpl_id == template_id).cloned())
        .ok_or_else(|| ApiErr::new(40037, "invalid template_id"))?;
    check_data(&template, m.get("data").and_then(Value::as_object))?;
    let miniprogram = check_jump(sim, a, &m)?;
    let page = Some(str_field(&m, "page").to_string()).filter(|p| !p.is_empty());
    let now = sim.now();
    let msgid = {
        let mut s = sim.lock();
        let key = (a.index, index, template_id.to_string());
        // Only a successful send uses the grant (protocol G.4's recommendation).
        if !s.grants.get_mut(&key).is_some_and(subscribe::consume) {
            return Err(ApiErr::new(43101, "user refuse to accept the msg"));
        }
        s.sends.bizsend_accepted += 1;
        *s.sends.per_account.entry(a.index).or_insert(0) += 1;
        let msgid = s.next_msgid();
        if page.is_some() || miniprogram.is_some() {
            s.record_jump(Jump {
                appid: a.appid.clone(),
                openid: openid.to_string(),
                kind: "subscribe",
                template_id: template_id.to_string(),
                msgid,
                url: page,
                miniprogram,
            });
        }
        msgid
    };
    // The result arrives later as subscribe_msg_sent_event; a failure carries an API errcode
    // (UNCERTAIN at WeChat: protocol G.6 recommends 43101 with its errmsg).
    let result = if sim.delivery_status(msgid) == "success" {
        (0, "success")
    } else {
        (43101, "user refuse to accept the msg")
    };
    sim.pusher.push(Push {
        target: Target::Account {
            appid: a.appid.clone(),
            user_name: a.user_name.clone(),
            openid: None,
        },
        xml: push::subscribe_sent_xml(&a.user_name, openid, now, template_id, msgid, result),
    });
    Ok(json!({"errcode": 0, "errmsg": "ok", "msgid": msgid}))
}
