use super::*;
use crate::Lang;
use crate::templates::keywords::parse_content;

fn template(content: &str) -> Template {
    Template {
        appid: "wxA".into(),
        template_id: "TPL".into(),
        title: "发货通知".into(),
        primary_industry: String::new(),
        deputy_industry: String::new(),
        content: content.into(),
        example: String::new(),
        fields: parse_content(content),
        legacy: false,
        alias: String::new(),
        note: String::new(),
        const_values: BTreeMap::new(),
        synced_at: 0,
    }
}

fn draft(data: &[(&str, &str)], jump: Jump) -> TemplateDraft {
    TemplateDraft {
        appid: "wxA".into(),
        template_id: "TPL".into(),
        title: "  ".into(),
        data: data
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        jump,
    }
}

#[test]
fn a_placeholder_no_column_provides_is_refused_in_both_languages() {
    let t = template("商品：{{thing1.DATA}}\n单号：{{character_string2.DATA}}");
    let spec = spec_of(
        &t,
        &draft(
            &[("thing1", "{{商品}}"), ("character_string2", "{{单号}}")],
            Jump::None,
        ),
    );
    assert!(check_placeholders(&spec, &["商品".into(), "单号".into()]).is_ok());
    let e = check_placeholders(&spec, &["商品".into()]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "变量 {{单号}} 不在接收者数据中；可用变量：商品"
    );
    assert_eq!(
        e.message(Lang::En),
        "The variable {{单号}} is not in the recipients' data; available: 商品"
    );
    let none = check_placeholders(&spec, &[]).unwrap_err();
    assert!(none.to_string().ends_with("可用变量：没有"), "{none}");
}

#[test]
fn a_draft_becomes_a_spec_with_the_templates_rules_and_only_its_own_keywords() {
    let mut t =
        template("{{first.DATA}}\n等级：{{const3.DATA}}\n商品：{{thing1.DATA}}\n{{remark.DATA}}");
    t.const_values.insert("const3".into(), vec!["金卡".into()]);
    let spec = spec_of(
        &t,
        &draft(
            &[
                ("first", "您好"),
                ("thing1", "茶叶"),
                ("const3", "金卡"),
                ("remark", "谢谢"),
                ("unknown9", "x"),
            ],
            Jump::Mini {
                appid: " wxMini ".into(),
                pagepath: " pages/o ".into(),
            },
        ),
    );
    assert_eq!(spec.title, "发货通知", "a blank title takes the template's");
    let Payload::Template {
        data, miniprogram, ..
    } = &spec.payload
    else {
        panic!("{:?}", spec.payload)
    };
    assert_eq!(
        data.keys().map(String::as_str).collect::<Vec<_>>(),
        ["const3", "first", "remark", "thing1"],
        "a key the template does not have is not sent"
    );
    assert_eq!(
        miniprogram
            .as_ref()
            .map(|m| (m.appid.as_str(), m.pagepath.as_str())),
        Some(("wxMini", "pages/o"))
    );
    let rule = spec.field_rules.iter().find(|r| r.key == "const3").unwrap();
    assert_eq!(rule.allowed, Some(vec!["金卡".to_string()]));
    // Each rule carries the keyword's title, so a skipped row names 等级, not const3; the
    // untitled first/remark fall back to their keys.
    assert_eq!(rule.title.as_deref(), Some("等级"));
    let first = spec.field_rules.iter().find(|r| r.key == "first").unwrap();
    assert_eq!(first.title, None);
}

#[test]
fn the_check_flags_broken_values_missing_variables_and_previews_each_recipient() {
    let t = template("商品：{{thing1.DATA}}\n单号：{{character_string2.DATA}}");
    let sample = || Resolved {
        recipients: vec![
            Recipient {
                openid: "o1".into(),
                vars: [("商品".to_string(), "茶叶".to_string())].into(),
            },
            Recipient::new("o2"),
        ],
        variables: vec!["商品".into()],
        ..Resolved::default()
    };

    // A fixed value breaking its rule is flagged on its field; the templated one is checked
    // per recipient instead.
    let bad = draft(
        &[
            ("thing1", "{{商品}}"),
            ("character_string2", "A-1 中文不行"),
        ],
        Jump::None,
    );
    let c = check::check(&t, &bad, &spec_of(&t, &bad), sample(), true);
    assert!(!c.ok);
    let cs = c
        .fields
        .iter()
        .find(|f| f.key == "character_string2")
        .unwrap();
    assert!(cs.problem.is_some(), "{cs:?}");
    let thing = c.fields.iter().find(|f| f.key == "thing1").unwrap();
    assert!(thing.templated && thing.problem.is_none());

    // Each card is its recipient's; one without the variable says why it would be skipped.
    let good = draft(
        &[("thing1", "{{商品}}"), ("character_string2", "A-1")],
        Jump::None,
    );
    let c = check::check(&t, &good, &spec_of(&t, &good), sample(), true);
    assert!(c.ok, "{c:?}");
    assert!(c.missing_variables.is_empty());
    assert_eq!(c.cards.len(), 2);
    assert_eq!(c.cards[0].lines[0].text, "茶叶");
    assert_eq!(c.cards[0].problem, None);
    assert_eq!(
        c.cards[1].problem,
        Some(RenderProblem::MissingVar {
            name: "商品".into()
        })
    );

    // A variable no column provides makes the draft unsendable.
    let c = check::check(&t, &good, &spec_of(&t, &good), Resolved::default(), false);
    assert!(!c.ok);
    assert_eq!(c.missing_variables, vec!["商品".to_string()]);

    // No source chosen: one 示例 card of the raw message. An empty source: no card for a
    // recipient who does not exist, and nothing to send.
    let fixed = draft(
        &[("thing1", "茶叶"), ("character_string2", "A-1")],
        Jump::None,
    );
    let c = check::check(&t, &fixed, &spec_of(&t, &fixed), Resolved::default(), false);
    assert!(c.ok && !c.empty_source);
    assert_eq!(c.cards.len(), 1);
    assert_eq!(c.cards[0].openid, "");
    let c = check::check(&t, &fixed, &spec_of(&t, &fixed), Resolved::default(), true);
    assert!(!c.ok && c.empty_source, "{c:?}");
    assert!(c.cards.is_empty());
}

use crate::send::render::RenderProblem;
