//! Sending: template messages (typed keyword rules, client_msg_id idempotency, the mini-program
//! jump, delivery reports), customer-service messages (48-hour window) and the withdrawn
//! uniform_send (protocol C.6, E.1, H). Subscription notices are in `subscribe`.

use serde_json::{Map, Value, json};

use super::{Query, account_caller, body_json, str_field};
use crate::push::{self, Push, Target};
use crate::sim::Sim;
use crate::state::{ApiErr, ApiResult, IDEMPOTENCY_SECS, Jump, Window, recipient_key};
use crate::templates::{KwType, LIBRARY, value_ok};
use crate::world::{Account, Kind, Person};

/// The pages of a mini program's released version: in this world every verified mini program
/// has the code template's pages online, an unverified one has never been released.
fn released_pages(mini: &Account) -> &'static [&'static str] {
    if mini.kind == Kind::MiniProgram && mini.verified {
        crate::code::TEMPLATE_PAGES
    } else {
        &[]
    }
}

/// The `miniprogram` jump of a template message or a subscription notice (protocol H.1, H.2):
/// the mini program must be linked to the official account (`unlinked_mini_errcode`, 40013 by
/// default) and `pagepath` — the part before `?` — a page of its released version (40165).
/// Returns the jump as sent, to record it.
pub(crate) fn check_jump(
    sim: &Sim,
    oa: &Account,
    m: &Map<String, Value>,
) -> ApiResult<Option<Value>> {
    let Some(mp) = m.get("miniprogram") else {
        return Ok(None);
    };
    let appid = mp.get("appid").and_then(Value::as_str).unwrap_or("");
    let pagepath = mp.get("pagepath").and_then(Value::as_str).unwrap_or("");
    let linked = sim
        .world
        .account(appid)
        .filter(|mini| sim.world.linked(oa, mini));
    let Some(mini) = linked else {
        let code = sim.cfg.unlinked_mini_errcode;
        return Err(if code == 40165 {
            ApiErr::new(40165, "invalid weapp pagepath")
        } else {
            ApiErr::new(code, "invalid appid")
        });
    };
    let page = pagepath
        .split('?')
        .next()
        .unwrap_or("")
        .trim_start_matches('/');
    if !released_pages(mini).contains(&page) {
        return Err(ApiErr::new(40165, "invalid weapp pagepath"));
    }
    Ok(Some(json!({"appid": appid, "pagepath": pagepath})))
}

/// The follower index of `touser`: 40003 if not this account's openid, 43004 if not following.
fn follower(sim: &Sim, a: &Account, touser: &str) -> ApiResult<u32> {
    match sim.person(a, touser) {
        Some(Person::Follower(i)) => Ok(i),
        Some(Person::Former(_)) => Err(ApiErr::require_subscribe()),
        None => Err(ApiErr::invalid_openid()),
    }
}

pub(crate) fn data_value(data: Option<&Map<String, Value>>, key: &str) -> Option<String> {
    match data?.get(key)?.get("value")? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

pub(crate) fn invalid_value(key: &str) -> ApiErr {
    ApiErr::new(47003, format!("argument invalid! data.{key}.value invalid"))
}

pub fn template_send(sim: &Sim, q: &Query, body: &[u8]) -> ApiResult<Value> {
    let a = account_caller(sim, q, "/cgi-bin/message/template/send")?;
    if !a.can_send_templates() {
        return Err(ApiErr::unauthorized_api());
    }
    let m = body_json(body)?;
    let index = follower(sim, a, str_field(&m, "touser"))?;
    let template_id = str_field(&m, "template_id");
    if !template_id.is_empty() && template_id.len() != 43 {
        return Err(ApiErr::new(40036, "invalid template_id size"));
    }
    let data = m.get("data").and_then(Value::as_object);
    let miniprogram = check_jump(sim, a, &m)?;
    let now = sim.now();
    let client_msg_id = str_field(&m, "client_msg_id");
    let (msgid, status) = {
        let mut s = sim.lock();
        let t = s
            .templates
            .get(&a.index)
            .and_then(|l| l.iter().find(|t| t.template_id == template_id))
            .ok_or_else(|| ApiErr::new(40037, "invalid template_id"))?;
        let lib = &LIBRARY[t.lib];
        for k in t.keywords.iter().filter_map(|i| lib.keywords.get(*i)) {
            if k.ty == KwType::Legacy {
                continue;
            }
            let key = k.key();
            match data_value(data, &key) {
                Some(v) if value_ok(k.ty, &v, k.consts) => {}
                _ => return Err(invalid_value(&key)),
            }
        }
        if !client_msg_id.is_empty() {
            let key = (a.index, index, client_msg_id.to_string());
            if let Some((msgid, at)) = s.idempotency.get(&key)
                && now - at < IDEMPOTENCY_SECS
            {
                return Ok(json!({"errcode": 0, "errmsg": "ok", "msgid": msgid}));
            }
        }
        let msgid = s.next_msgid();
        let url = Some(str_field(&m, "url").to_string()).filter(|u| !u.is_empty());
        if url.is_some() || miniprogram.is_some() {
            s.record_jump(Jump {
                appid: a.appid.clone(),
                openid: str_field(&m, "touser").to_string(),
                kind: "template",
                template_id: template_id.to_string(),
                msgid,
                url,
                miniprogram,
            });
        }
        if !client_msg_id.is_empty() {
            s.idempotency
                .insert((a.index, index, client_msg_id.to_string()), (msgid, now));
            s.prune_idempotency(now);
        }
        s.count_send(a.index, index);
        let status = sim.delivery_status(msgid);
        *s.sends.by_status.entry(status.to_string()).or_insert(0) += 1;
        (msgid, status)
    };
    let openid = str_field(&m, "touser");
    sim.pusher.push(Push {
        target: Target::Account {
            appid: a.appid.clone(),
            user_name: a.user_name.clone(),
            openid: None,
        },
        xml: push::job_finish_xml(&a.user_name, openid, now, msgid, status),
    });
    Ok(json!({"errcode": 0, "errmsg": "ok", "msgid": msgid}))
}

pub fn custom_send(sim: &Sim, q: &Query, body: &[u8]) -> ApiResult<Value> {
    let a = account_caller(sim, q, "/cgi-bin/message/custom/send")?;
    let m = body_json(body)?;
    let index = follower(sim, a, str_field(&m, "touser"))?;
    let msgtype = str_field(&m, "msgtype");
    let valid = match msgtype {
        "text" => m
            .get("text")
            .and_then(|t| t.get("content"))
            .and_then(Value::as_str)
            .is_some_and(|c| !c.is_empty()),
        "image" | "voice" | "mpnews" => m
            .get(msgtype)
            .and_then(|t| t.get("media_id"))
            .and_then(Value::as_str)
            .is_some(),
        "video" | "music" | "news" | "miniprogrampage" | "mpnewsarticle" | "msgmenu" | "wxcard" => {
            m.get(msgtype).is_some_and(Value::is_object)
        }
        _ => false,
    };
    if !valid {
        return Err(ApiErr::new(40008, "invalid message type"));
    }
    if msgtype == "miniprogrampage" && sim.cfg.cs_check_thumb_media {
        let thumb = m
            .get("miniprogrampage")
            .and_then(|p| p.get("thumb_media_id"))
            .and_then(Value::as_str)
            .unwrap_or("");
        super::media::check_thumb(sim, a, thumb)?;
    }
    let now = sim.now();
    let key = recipient_key(a.index, index);
    let mut s = sim.lock();
    let w = match s.windows.get(&key) {
        Some(w) => *w,
        None => match sim.world.generated_last_message(a, index) {
            Some(at) => sim.message_window(at),
            None => {
                return Err(ApiErr::new(
                    45015,
                    "response out of time limit or subscription is canceled",
                ));
            }
        },
    };
    if !w.is_open(now) {
        return Err(ApiErr::new(
            45015,
            "response out of time limit or subscription is canceled",
        ));
    }
    if w.used >= w.quota {
        return Err(ApiErr::new(45047, "out of response count limit"));
    }
    s.windows.insert(
        key,
        Window {
            used: w.used + 1,
            ..w
        },
    );
    s.sends.custom_accepted += 1;
    if a.release_test && s.release_custom.len() < 1000 {
        let content = m
            .get("text")
            .and_then(|t| t.get("content"))
            .and_then(Value::as_str)
            .unwrap_or("");
        s.release_custom.push((
            a.index,
            str_field(&m, "touser").to_string(),
            content.to_string(),
        ));
    }
    Ok(super::ok())
}

/// Withdrawn on 2023-09-20; WeChat answers 45109 since.
pub fn uniform_send(sim: &Sim, q: &Query, _body: &[u8]) -> ApiResult<Value> {
    account_caller(sim, q, "/cgi-bin/message/wxopen/template/uniform_send")?;
    Err(ApiErr::new(45109, "This API has been unsupported"))
}
