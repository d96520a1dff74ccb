//! Per-recipient rendering: `{{变量}}` placeholders filled from the recipient's variables, the
//! request body built for the job's API, and the values checked against their keyword rules so a
//! 47003 is caught before sending. Pure functions: the composer previews with the same code.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};

use super::model::{FieldRule, JobKind, MiniProgram, Payload, Vars};
use super::reason::RowNote;
use crate::templates::keywords::validate_with_allowed;

/// Why a recipient's message cannot be built (the row is skipped with this reason).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum RenderProblem {
    /// A `{{name}}` placeholder names a variable the recipient does not have.
    MissingVar { name: String },
    /// A value breaks its keyword's rule (WeChat would answer 47003). `title` is the keyword's
    /// title in the template (`订单金额`), when known; the faces name the keyword by it.
    Invalid {
        key: String,
        title: Option<String>,
        zh: String,
        en: String,
    },
}

impl RenderProblem {
    /// One line for the history row and the preview, zh-CN first.
    pub fn message(&self) -> String {
        match self {
            RenderProblem::MissingVar { name } => {
                format!("缺少变量「{name}」（missing variable {name}）")
            }
            RenderProblem::Invalid {
                key, title, zh, en, ..
            } => format!("{}：{zh}（{en}）", title.as_deref().unwrap_or(key)),
        }
    }
}

/// Fills every `{{name}}` in `template` from `vars`. Names are trimmed (`{{ 订单号 }}` works). A
/// `{{` without a closing `}}` is kept as text. WeChat's own `{{thing1.DATA}}` syntax never
/// reaches here: that lives in the template's content, not in the values we send.
pub fn fill(template: &str, vars: &Vars) -> Result<String, RenderProblem> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else { break };
        out.push_str(&rest[..open]);
        let name = after[..close].trim();
        match vars.get(name) {
            Some(v) => out.push_str(v),
            None => {
                return Err(RenderProblem::MissingVar {
                    name: name.to_string(),
                });
            }
        }
        rest = &after[close + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The variable names a payload uses, in order of first appearance (for the composer to match
/// against CSV columns).
pub fn placeholders(payload: &Payload) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for text in payload_strings(payload) {
        let mut rest = text;
        while let Some(open) = rest.find("{{") {
            let after = &rest[open + 2..];
            let Some(close) = after.find("}}") else { break };
            let name = after[..close].trim().to_string();
            if !names.contains(&name) {
                names.push(name);
            }
            rest = &after[close + 2..];
        }
    }
    names
}

fn payload_strings(p: &Payload) -> Vec<&str> {
    fn mini(m: &Option<MiniProgram>) -> Option<&str> {
        m.as_ref().map(|m| m.pagepath.as_str())
    }
    let mut v: Vec<&str> = Vec::new();
    match p {
        Payload::Template {
            data,
            url,
            miniprogram,
            ..
        }
        | Payload::Uniform {
            data,
            url,
            miniprogram,
            ..
        } => {
            v.extend(data.values().map(String::as_str));
            v.extend(url.as_deref());
            v.extend(mini(miniprogram));
        }
        Payload::Subscribe {
            data,
            page,
            miniprogram,
            ..
        } => {
            v.extend(data.values().map(String::as_str));
            v.extend(page.as_deref());
            v.extend(mini(miniprogram));
        }
        Payload::CustomText { content } => v.push(content),
        Payload::CustomNews {
            title,
            description,
            url,
            picurl,
        } => {
            v.extend([title.as_str(), description, url, picurl]);
        }
        Payload::CustomMini {
            title, pagepath, ..
        } => v.extend([title.as_str(), pagepath]),
    }
    v
}

/// One recipient's filled-in keyword values, checked against `rules` (keys without a rule pass).
pub fn render_data(
    data: &BTreeMap<String, String>,
    vars: &Vars,
    rules: &[FieldRule],
) -> Result<BTreeMap<String, String>, RenderProblem> {
    let mut out = BTreeMap::new();
    for (key, tmpl) in data {
        let value = fill(tmpl, vars)?;
        if let Some(rule) = rules.iter().find(|r| &r.key == key)
            && let Err(v) = validate_with_allowed(rule.kind, &value, rule.allowed.as_deref())
        {
            return Err(RenderProblem::Invalid {
                key: key.clone(),
                title: rule.title.clone(),
                zh: v.zh,
                en: v.en,
            });
        }
        out.insert(key.clone(), value);
    }
    Ok(out)
}

/// One API call: the path under the API base (the token goes in the query, added by the client)
/// and the JSON body.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiRequest {
    pub path: &'static str,
    pub body: Value,
}

/// The API path of each kind.
pub fn api_path(kind: JobKind) -> &'static str {
    match kind {
        JobKind::Template => "/cgi-bin/message/template/send",
        JobKind::CustomText | JobKind::CustomNews | JobKind::CustomMini => {
            "/cgi-bin/message/custom/send"
        }
        JobKind::Subscribe => "/cgi-bin/message/subscribe/bizsend",
        JobKind::Uniform => "/cgi-bin/message/wxopen/template/uniform_send",
    }
}

fn data_json(data: BTreeMap<String, String>) -> Value {
    Value::Object(
        data.into_iter()
            .map(|(k, v)| (k, json!({ "value": v })))
            .collect(),
    )
}

fn mini_json(m: &MiniProgram, vars: &Vars) -> Result<Value, RenderProblem> {
    Ok(json!({ "appid": m.appid, "pagepath": fill(&m.pagepath, vars)? }))
}

/// One recipient's request, or why its row is skipped instead: no openid, or a message that
/// cannot be built (a placeholder without a value, a value breaking its keyword's rule). The
/// desk's engine and a team job's desk side both decide with this, so a recipient is skipped
/// for the same reason, with the same note, wherever its job runs. Repeated openids are the
/// caller's to find (the engine checks them against the rows it stored).
pub(crate) fn recipient_request(
    payload: &Payload,
    rules: &[FieldRule],
    openid: &str,
    vars: &Vars,
) -> Result<ApiRequest, RowNote> {
    if openid.is_empty() {
        return Err(RowNote::EmptyOpenid);
    }
    build_request(payload, rules, openid, vars, "").map_err(RowNote::from)
}

/// The request for one recipient (protocol C.6 bodies). `client_msg_id` is only sent where the
/// API honours it (template send).
pub fn build_request(
    payload: &Payload,
    rules: &[FieldRule],
    openid: &str,
    vars: &Vars,
    client_msg_id: &str,
) -> Result<ApiRequest, RenderProblem> {
    let path = api_path(payload.kind());
    let body = match payload {
        Payload::Template {
            template_id,
            data,
            url,
            miniprogram,
        } => {
            let mut b = json!({
                "touser": openid,
                "template_id": template_id,
                "client_msg_id": client_msg_id,
                "data": data_json(render_data(data, vars, rules)?),
            });
            if let Some(u) = url {
                b["url"] = Value::String(fill(u, vars)?);
            }
            if let Some(m) = miniprogram {
                b["miniprogram"] = mini_json(m, vars)?;
            }
            b
        }
        Payload::Subscribe {
            template_id,
            data,
            page,
            miniprogram,
        } => {
            let mut b = json!({
                "touser": openid,
                "template_id": template_id,
                "data": data_json(render_data(data, vars, rules)?),
            });
            if let Some(p) = page {
                b["page"] = Value::String(fill(p, vars)?);
            }
            if let Some(m) = miniprogram {
                b["miniprogram"] = mini_json(m, vars)?;
            }
            b
        }
        Payload::Uniform {
            mp_appid,
            template_id,
            data,
            url,
            miniprogram,
        } => {
            let mut msg = json!({
                "appid": mp_appid,
                "template_id": template_id,
                "data": data_json(render_data(data, vars, rules)?),
            });
            if let Some(u) = url {
                msg["url"] = Value::String(fill(u, vars)?);
            }
            if let Some(m) = miniprogram {
                msg["miniprogram"] = mini_json(m, vars)?;
            }
            json!({ "touser": openid, "mp_template_msg": msg })
        }
        Payload::CustomText { content } => json!({
            "touser": openid, "msgtype": "text", "text": { "content": fill(content, vars)? },
        }),
        Payload::CustomNews {
            title,
            description,
            url,
            picurl,
        } => json!({
            "touser": openid, "msgtype": "news",
            "news": { "articles": [{
                "title": fill(title, vars)?, "description": fill(description, vars)?,
                "url": fill(url, vars)?, "picurl": fill(picurl, vars)?,
            }]},
        }),
        Payload::CustomMini {
            title,
            appid,
            pagepath,
            thumb_media_id,
        } => json!({
            "touser": openid, "msgtype": "miniprogrampage",
            "miniprogrampage": {
                "title": fill(title, vars)?, "appid": appid,
                "pagepath": fill(pagepath, vars)?, "thumb_media_id": thumb_media_id,
            },
        }),
    };
    Ok(ApiRequest { path, body })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::templates::keywords::KeywordType;

    fn vars(pairs: &[(&str, &str)]) -> Vars {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn fill_replaces_every_placeholder_and_keeps_the_rest() {
        let v = vars(&[("订单号", "A1001"), ("name", "张三")]);
        assert_eq!(
            fill("订单{{订单号}}，{{ name }}您好", &v).unwrap(),
            "订单A1001，张三您好"
        );
        assert_eq!(fill("no placeholders", &v).unwrap(), "no placeholders");
        assert_eq!(
            fill("open {{ but never closed", &v).unwrap(),
            "open {{ but never closed"
        );
    }

    #[test]
    fn fill_reports_the_missing_variable_by_name() {
        assert_eq!(
            fill("{{金额}}", &Vars::new()),
            Err(RenderProblem::MissingVar {
                name: "金额".into()
            })
        );
    }

    #[test]
    fn template_body_has_client_msg_id_values_and_jump() {
        let payload = Payload::Template {
            template_id: "TPL".into(),
            data: [("thing1".to_string(), "订单{{订单号}}已发货".to_string())].into(),
            url: Some("https://e.example/o/{{订单号}}".into()),
            miniprogram: None,
        };
        let req = build_request(
            &payload,
            &[],
            "oU1",
            &vars(&[("订单号", "A1")]),
            "wxd-1-x-0",
        )
        .unwrap();
        assert_eq!(req.path, "/cgi-bin/message/template/send");
        assert_eq!(
            req.body,
            json!({"touser":"oU1","template_id":"TPL","client_msg_id":"wxd-1-x-0",
                   "url":"https://e.example/o/A1","data":{"thing1":{"value":"订单A1已发货"}}})
        );
    }

    #[test]
    fn a_value_breaking_its_keyword_rule_is_caught_before_sending() {
        let payload = Payload::Template {
            template_id: "TPL".into(),
            data: [("thing1".to_string(), "{{商品}}".to_string())].into(),
            url: None,
            miniprogram: None,
        };
        let rules = [FieldRule {
            key: "thing1".into(),
            title: None,
            kind: KeywordType::Thing,
            allowed: None,
        }];
        let long = "一二三四五六七八九十一二三四五六七八九十一";
        let err = build_request(&payload, &rules, "o", &vars(&[("商品", long)]), "c").unwrap_err();
        match err {
            RenderProblem::Invalid { key, .. } => assert_eq!(key, "thing1"),
            other => panic!("expected Invalid, got {other:?}"),
        }
        assert!(build_request(&payload, &rules, "o", &vars(&[("商品", "牛奶")]), "c").is_ok());
    }

    #[test]
    fn a_broken_value_names_its_keyword_by_title_and_by_key_when_no_title_is_known() {
        use crate::error::Lang;
        use crate::send::RowNote;
        let data: BTreeMap<String, String> =
            [("amount5".to_string(), "{{金额}}".to_string())].into();
        let rule = |title: Option<&str>| FieldRule {
            key: "amount5".into(),
            title: title.map(Into::into),
            kind: KeywordType::Amount,
            allowed: None,
        };
        let bad = vars(&[("金额", "十元")]);

        let p = render_data(&data, &bad, &[rule(Some("订单金额"))]).unwrap_err();
        let RenderProblem::Invalid { key, title, .. } = &p else {
            panic!("expected Invalid, got {p:?}")
        };
        assert_eq!(
            (key.as_str(), title.as_deref()),
            ("amount5", Some("订单金额"))
        );
        assert!(p.message().starts_with("订单金额："), "{}", p.message());
        // The row's note (failed rows, 发送记录, CLI, CSV) names the title in both languages;
        // the key is what the operator never saw in the template.
        let note = RowNote::from(p);
        let (zh, en) = (note.message(Lang::Zh), note.message(Lang::En));
        assert!(
            zh.starts_with("订单金额：") && !zh.contains("amount5"),
            "{zh}"
        );
        assert!(
            en.starts_with("订单金额: ") && !en.contains("amount5"),
            "{en}"
        );

        // Without a title (a rule built before titles, first/remark) the key still says which.
        let note = RowNote::from(render_data(&data, &bad, &[rule(None)]).unwrap_err());
        assert!(note.message(Lang::Zh).starts_with("amount5："), "{note:?}");
        assert!(note.message(Lang::En).starts_with("amount5: "), "{note:?}");
    }

    #[test]
    fn custom_text_and_uniform_bodies_follow_protocol_c6() {
        let text = Payload::CustomText {
            content: "您好 {{name}}".into(),
        };
        let req = build_request(&text, &[], "o1", &vars(&[("name", "李四")]), "c").unwrap();
        assert_eq!(req.path, "/cgi-bin/message/custom/send");
        assert_eq!(
            req.body,
            json!({"touser":"o1","msgtype":"text","text":{"content":"您好 李四"}})
        );

        let uni = Payload::Uniform {
            mp_appid: "wxOA".into(),
            template_id: "T".into(),
            data: BTreeMap::new(),
            url: None,
            miniprogram: Some(MiniProgram {
                appid: "wxMini".into(),
                pagepath: "p?id={{id}}".into(),
            }),
        };
        let req = build_request(&uni, &[], "o1", &vars(&[("id", "9")]), "c").unwrap();
        assert_eq!(
            req.body,
            json!({"touser":"o1","mp_template_msg":{"appid":"wxOA","template_id":"T","data":{},
                   "miniprogram":{"appid":"wxMini","pagepath":"p?id=9"}}})
        );
    }

    #[test]
    fn placeholders_lists_each_name_once_in_order() {
        let payload = Payload::Template {
            template_id: "T".into(),
            data: [
                ("a1".to_string(), "{{x}}{{y}}".to_string()),
                ("b2".to_string(), "{{x}}".to_string()),
            ]
            .into(),
            url: Some("{{z}}".into()),
            miniprogram: None,
        };
        assert_eq!(placeholders(&payload), vec!["x", "y", "z"]);
    }
}
