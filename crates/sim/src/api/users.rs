//! Followers: `user/get` (pages of 10,000), `user/info/batchget` (≤ 100), `tags/get`.

use std::collections::HashMap;

use serde::Serialize;
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

/// One user of a batchget answer, in WeChat's field order.
#[derive(Serialize)]
#[serde(untagged)]
pub enum BatchUser {
    /// Not following (any more): only these two fields.
    Former {
        subscribe: u8,
        openid: String,
    },
    Follower(Box<FollowerInfo>),
}

#[derive(Serialize)]
pub struct FollowerInfo {
    subscribe: u8,
    openid: String,
    nickname: &'static str,
    sex: u8,
    language: String,
    city: &'static str,
    province: &'static str,
    country: &'static str,
    headimgurl: &'static str,
    subscribe_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    unionid: Option<String>,
    remark: &'static str,
    groupid: u8,
    tagid_list: Vec<u32>,
    subscribe_scene: &'static str,
    qr_scene: u8,
    qr_scene_str: &'static str,
}

#[derive(Serialize)]
pub struct BatchAnswer {
    user_info_list: Vec<BatchUser>,
}

/// The answer is built as its own type (not a `Value`): the sim runs in the same process as the
/// sync it serves in benches, and a 100-user `Value` costs more than the client's whole parse.
pub fn batchget(sim: &Sim, q: &Query, body: &[u8]) -> ApiResult<BatchAnswer> {
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
            Some(Person::Former(_)) => BatchUser::Former {
                subscribe: 0,
                openid: openid.to_string(),
            },
            Some(Person::Follower(i)) => BatchUser::Follower(Box::new(FollowerInfo {
                subscribe: 1,
                openid: openid.to_string(),
                nickname: "",
                sex: 0,
                language: lang.to_string(),
                city: "",
                province: "",
                country: "",
                headimgurl: "",
                subscribe_time: sim.world.subscribe_time(a, i),
                unionid: sim.world.unionid(a, i),
                remark: "",
                groupid: 0,
                tagid_list: sim.world.tag_ids(i),
                subscribe_scene: if i % 3 == 0 {
                    "ADD_SCENE_QR_CODE"
                } else {
                    "ADD_SCENE_SEARCH"
                },
                qr_scene: 0,
                qr_scene_str: "",
            })),
        });
    }
    Ok(BatchAnswer {
        user_info_list: out,
    })
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod batch_answer_tests {
    use super::*;

    fn keys(v: &Value) -> Vec<&str> {
        let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        k.sort_unstable();
        k
    }

    fn follower(unionid: Option<&str>) -> BatchUser {
        BatchUser::Follower(Box::new(FollowerInfo {
            subscribe: 1,
            openid: "o1".into(),
            nickname: "",
            sex: 0,
            language: "zh_CN".into(),
            city: "",
            province: "",
            country: "",
            headimgurl: "",
            subscribe_time: 1_700_000_000,
            unionid: unionid.map(str::to_string),
            remark: "",
            groupid: 0,
            tagid_list: vec![2, 101],
            subscribe_scene: "ADD_SCENE_SEARCH",
            qr_scene: 0,
            qr_scene_str: "",
        }))
    }

    #[test]
    fn the_typed_answer_has_wechats_fields_and_a_former_follower_only_two() {
        let answer = BatchAnswer {
            user_info_list: vec![
                follower(Some("u1")),
                follower(None),
                BatchUser::Former {
                    subscribe: 0,
                    openid: "o2".into(),
                },
            ],
        };
        let v: Value = serde_json::from_str(&serde_json::to_string(&answer).unwrap()).unwrap();
        let list = v["user_info_list"].as_array().unwrap();
        assert_eq!(
            keys(&list[0]),
            vec![
                "city",
                "country",
                "groupid",
                "headimgurl",
                "language",
                "nickname",
                "openid",
                "province",
                "qr_scene",
                "qr_scene_str",
                "remark",
                "sex",
                "subscribe",
                "subscribe_scene",
                "subscribe_time",
                "tagid_list",
                "unionid",
            ]
        );
        assert_eq!(list[0]["unionid"], "u1");
        assert_eq!(list[0]["tagid_list"], json!([2, 101]));
        assert_eq!(list[0]["subscribe_time"], 1_700_000_000);
        assert!(
            list[1].get("unionid").is_none(),
            "no unionid key without one"
        );
        assert_eq!(list[2], json!({"subscribe": 0, "openid": "o2"}));
    }
}
