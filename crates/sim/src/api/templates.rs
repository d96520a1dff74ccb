//! Template management of an official account (protocol C.6 table): industry, add, list, delete.

use serde_json::{Value, json};

use super::{Query, account_caller, body_json, str_field};
use crate::ids;
use crate::sim::Sim;
use crate::state::{ApiErr, ApiResult, PrivTemplate};
use crate::templates::{self, LIBRARY};
use crate::world::Account;

/// Limit of private templates per account.
pub const MAX_TEMPLATES: usize = 25;

fn template_account<'w>(sim: &'w Sim, q: &Query, path: &'static str) -> ApiResult<&'w Account> {
    let a = account_caller(sim, q, path)?;
    if !a.can_send_templates() {
        return Err(ApiErr::unauthorized_api());
    }
    Ok(a)
}

fn industry_json(id: &str) -> Value {
    let (first, second) = templates::industry(id).unwrap_or(("", ""));
    json!({"first_class": first, "second_class": second})
}

pub fn get_industry(sim: &Sim, q: &Query, _body: &[u8]) -> ApiResult<Value> {
    let a = template_account(sim, q, "/cgi-bin/template/get_industry")?;
    let s = sim.lock();
    let (p, d) = s
        .industry
        .get(&a.index)
        .cloned()
        .unwrap_or_else(|| ("1".into(), "2".into()));
    Ok(json!({"primary_industry": industry_json(&p), "secondary_industry": industry_json(&d)}))
}

pub fn set_industry(sim: &Sim, q: &Query, body: &[u8]) -> ApiResult<Value> {
    let a = template_account(sim, q, "/cgi-bin/template/api_set_industry")?;
    let m = body_json(body)?;
    let id = |k: &str| match m.get(k) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    let (p, d) = (id("industry_id1"), id("industry_id2"));
    if templates::industry(&p).is_none() || templates::industry(&d).is_none() {
        return Err(ApiErr::new(40102, "invalid industry id"));
    }
    sim.lock().industry.insert(a.index, (p, d));
    Ok(super::ok())
}

pub fn add_template(sim: &Sim, q: &Query, body: &[u8]) -> ApiResult<Value> {
    let a = template_account(sim, q, "/cgi-bin/template/api_add_template")?;
    let m = body_json(body)?;
    let (lib, t) = templates::find(str_field(&m, "template_id_short"))
        .ok_or_else(|| ApiErr::new(40037, "invalid template_id"))?;
    let keywords: Vec<usize> = if t.is_legacy() {
        (0..t.keywords.len()).collect()
    } else {
        let names: Vec<&str> = m
            .get("keyword_name_list")
            .and_then(Value::as_array)
            .map(|l| l.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut picked = Vec::new();
        for n in &names {
            match t.keywords.iter().position(|k| k.name == *n) {
                Some(i) if !picked.contains(&i) => picked.push(i),
                _ => return Err(ApiErr::new(40246, "invalid keyword_name_list")),
            }
        }
        if picked.is_empty() {
            return Err(ApiErr::new(40246, "invalid keyword_name_list"));
        }
        picked
    };
    let mut s = sim.lock();
    s.template_serial += 1;
    let serial = s.template_serial;
    let list = s.templates.entry(a.index).or_default();
    if list.len() >= MAX_TEMPLATES {
        return Err(ApiErr::new(45026, "template num exceeds limit"));
    }
    let template_id = ids::chars(
        sim.cfg.seed,
        &[u64::from(a.index), serial, 0xAD, lib as u64],
        43,
    );
    list.push(PrivTemplate {
        template_id: template_id.clone(),
        lib,
        keywords,
    });
    Ok(json!({"errcode": 0, "errmsg": "ok", "template_id": template_id}))
}

pub fn get_all_private_template(sim: &Sim, q: &Query, _body: &[u8]) -> ApiResult<Value> {
    let a = template_account(sim, q, "/cgi-bin/template/get_all_private_template")?;
    let s = sim.lock();
    let list: Vec<Value> = s
        .templates
        .get(&a.index)
        .map(|l| {
            l.iter()
                .map(|t| {
                    let lib = &LIBRARY[t.lib];
                    let (content, example) = Sim::template_text(t);
                    json!({
                        "template_id": t.template_id,
                        "title": lib.title,
                        "primary_industry": lib.primary_industry,
                        "deputy_industry": lib.deputy_industry,
                        "content": content,
                        "example": example,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(json!({"template_list": list}))
}

pub fn del_private_template(sim: &Sim, q: &Query, body: &[u8]) -> ApiResult<Value> {
    let a = template_account(sim, q, "/cgi-bin/template/del_private_template")?;
    let m = body_json(body)?;
    let id = str_field(&m, "template_id");
    let mut s = sim.lock();
    let list = s.templates.entry(a.index).or_default();
    let before = list.len();
    list.retain(|t| t.template_id != id);
    if list.len() == before {
        return Err(ApiErr::new(40037, "invalid template_id"));
    }
    Ok(super::ok())
}
