//! Followers: `user/get` (pages of 10,000), `user/info/batchget` (≤ 100), `tags/get`.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::{Query, account_caller, body_json};
use crate::sim::Sim;
use crate::state::{ApiErr, ApiResult};
use crate::world::Person;

pub const PAGE: u32 = 10_000;
pub const BATCH_MAX: usize = 100;

pub fn user_get(sim: &Sim, q: &Query, _body: &[u8]) -> ApiResult<Value> {
    let a = account_caller(sim, q, "/cgi-bin/user/get")?;
    if !a.kind.is_official() {
        return Err(ApiErr::unauthorized_api());
    }
    // Any present or former follower's openid is a valid cursor (it may have unfollowed since).
    let start = match q.get("next_openid").map(String::as_str).unwrap_or("") {
        "" => 0,
        o => match sim.world.person(a, o) {
            Some(Person::Follower(i) | Person::Former(i)) => i + 1,
            None => return Err(ApiErr::invalid_openid()),
        },
    };
    let overrides: HashMap<u32, bool> = sim.overrides(a).into_iter().collect();
    let following = |i: u32| overrides.get(&i).copied().unwrap_or(i < a.followers);
    let limit = a.followers.saturating_add(sim.world.former_count(a));
    let mut page = Vec::new();
    let mut i = start;
    while i < limit && page.len() < PAGE as usize {
        if following(i) {
            page.push(i);
        }
        // Past the generated followers only re-followed formers remain: jump to them.
        i = if i + 1 >= a.followers {
            match overrides
                .iter()
                .filter(|(j, f)| **f && **j > i)
                .map(|(j, _)| *j)
                .min()
            {
                Some(j) => j,
                None => break,
            }
        } else {
            i + 1
        };
    }
    let more = page.last().is_some_and(|last| {
        (last + 1..a.followers).any(following) || overrides.iter().any(|(j, f)| *f && j > last)
    });
    let unfollowed = overrides
        .iter()
        .filter(|(j, f)| !**f && **j < a.followers)
        .count() as u32;
    let refollowed = overrides
        .iter()
        .filter(|(j, f)| **f && **j >= a.followers)
        .count() as u32;
    let openids: Vec<String> = page.iter().map(|i| sim.world.openid(a, *i)).collect();
    let next = match (more, page.last()) {
        (true, Some(last)) => sim.world.openid(a, *last),
        _ => String::new(),
    };
    let mut v = json!({
        "total": a.followers - unfollowed + refollowed,
        "count": openids.len(),
        "next_openid": next,
    });
    if !openids.is_empty()
        && let Some(o) = v.as_object_mut()
    {
        o.insert("data".into(), json!({"openid": openids}));
    }
    Ok(v)
}

pub fn batchget(sim: &Sim, q: &Query, body: &[u8]) -> ApiResult<Value> {
    let a = account_caller(sim, q, "/cgi-bin/user/info/batchget")?;
    if !a.kind.is_official() {
        return Err(ApiErr::unauthorized_api());
    }
    let m = body_json(body)?;
    let list = m
        .get("user_list")
        .and_then(Value::as_array)
        .ok_or_else(ApiErr::data_format)?;
    if list.is_empty() || list.len() > BATCH_MAX {
        return Err(ApiErr::new(40032, "invalid openid list size"));
    }
    let mut out = Vec::with_capacity(list.len());
    for item in list {
        let openid = item.get("openid").and_then(Value::as_str).unwrap_or("");
        let lang = item.get("lang").and_then(Value::as_str).unwrap_or("zh_CN");
        out.push(match sim.person(a, openid) {
            None => return Err(ApiErr::invalid_openid()),
            Some(Person::Former(_)) => json!({"subscribe": 0, "openid": openid}),
            Some(Person::Follower(i)) => {
                let mut u = json!({
                    "subscribe": 1,
                    "openid": openid,
                    "nickname": "",
                    "sex": 0,
                    "language": lang,
                    "city": "", "province": "", "country": "",
                    "headimgurl": "",
                    "subscribe_time": sim.world.subscribe_time(a, i),
                    "remark": "",
                    "groupid": 0,
                    "tagid_list": sim.world.tag_ids(i),
                    "subscribe_scene": if i % 3 == 0 { "ADD_SCENE_QR_CODE" } else { "ADD_SCENE_SEARCH" },
                    "qr_scene": 0,
                    "qr_scene_str": "",
                });
                if let (Some(un), Some(o)) = (sim.world.unionid(a, i), u.as_object_mut()) {
                    o.insert("unionid".into(), Value::String(un));
                }
                u
            }
        });
    }
    Ok(json!({"user_info_list": out}))
}

pub fn tags_get(sim: &Sim, q: &Query, _body: &[u8]) -> ApiResult<Value> {
    let a = account_caller(sim, q, "/cgi-bin/tags/get")?;
    if !a.kind.is_official() {
        return Err(ApiErr::unauthorized_api());
    }
    let tags: Vec<Value> = sim
        .world
        .tags
        .iter()
        .map(|t| json!({"id": t.id, "name": t.name, "count": t.count(a.followers)}))
        .collect();
    Ok(json!({"tags": tags}))
}
