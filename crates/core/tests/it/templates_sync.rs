//! Template sync, add, delete, notes and industry against the real wxdesk-sim, including the
//! 25-template limit and an account without template permission.

#![allow(clippy::unwrap_used)]

use crate::audience_support;

use audience_support::{Sim, store, templates};
use wxdesk_core::gateway::AccountApi;
use wxdesk_core::templates::keywords::{Field, KeywordType as K};
use wxdesk_core::templates::{
    add_template, delete_template, get_industry, set_industry, sync_templates,
};

fn kinds(fields: &[Field]) -> Vec<(&str, K)> {
    fields.iter().map(|f| (f.key.as_str(), f.kind)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_stores_the_seeded_templates_with_typed_fields_and_keeps_notes() {
    let sim = Sim::start(10).await;
    let api = sim.api().await;
    let store = store();
    let appid = sim.appid(0);

    let r = sync_templates(&api, &store, &appid).await.unwrap();
    assert_eq!((r.added, r.updated, r.removed, r.total), (6, 0, 0, 6));
    let list = templates(&store).list(&appid).await.unwrap();
    let by_title = |title: &str| list.iter().find(|t| t.title == title).unwrap().clone();

    let shipped = by_title("订单发货通知");
    assert_eq!(
        kinds(&shipped.fields),
        vec![
            ("character_string1", K::CharacterString),
            ("thing2", K::Thing),
            ("time3", K::Time),
            ("thing4", K::Thing),
            ("amount5", K::Amount),
            ("const6", K::Const),
        ]
    );
    assert_eq!(shipped.fields[0].label, "订单编号");
    assert_eq!(
        kinds(&by_title("预约成功通知").fields),
        vec![
            ("name1", K::Name),
            ("thing2", K::Thing),
            ("time3", K::Time),
            ("phone_number4", K::PhoneNumber),
            ("thing5", K::Thing),
            ("phrase6", K::Phrase),
        ]
    );
    assert_eq!(
        kinds(&by_title("车辆入场通知").fields),
        vec![
            ("car_number1", K::CarNumber),
            ("time2", K::Time),
            ("thing3", K::Thing),
            ("amount4", K::Amount),
            ("date5", K::Date),
        ]
    );
    assert_eq!(
        kinds(&by_title("积分变动提醒").fields),
        vec![
            ("thing1", K::Thing),
            ("number2", K::Number),
            ("letter3", K::Letter),
            ("symbol4", K::Symbol),
            ("date5", K::Date),
        ]
    );
    assert_eq!(
        kinds(&by_title("订单支付成功").fields),
        vec![
            ("first", K::First),
            ("keyword1", K::Keyword),
            ("keyword2", K::Keyword),
            ("remark", K::Remark)
        ]
    );
    // The sim's examples pass our rules: the rules are not stricter than WeChat's own examples.
    for t in &list {
        for (field, line) in t.fields.iter().zip(t.example.lines()) {
            let value = line.split_once('：').map_or(line, |(_, v)| v);
            assert_eq!(
                wxdesk_core::templates::keywords::validate(field.kind, value),
                Ok(()),
                "{} {} = {value:?}",
                t.title,
                field.key
            );
        }
    }

    // Local notes and const values survive the next sync.
    templates(&store)
        .set_notes(&appid, &shipped.template_id, "发货", "仅用于电商订单")
        .await
        .unwrap();
    templates(&store)
        .set_const_values(
            &appid,
            &shipped.template_id,
            "const6",
            vec!["已发货".into(), " 已签收 ".into()],
        )
        .await
        .unwrap();
    let r = sync_templates(&api, &store, &appid).await.unwrap();
    assert_eq!((r.added, r.updated, r.removed), (0, 0, 0));
    let t = templates(&store)
        .get(&appid, &shipped.template_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (t.alias.as_str(), t.note.as_str()),
        ("发货", "仅用于电商订单")
    );
    assert_eq!(
        t.const_values["const6"],
        vec!["已发货".to_string(), "已签收".to_string()]
    );
    let err = templates(&store)
        .set_const_values(&appid, &shipped.template_id, "const9", vec!["x".into()])
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("模板 {} 没有关键词 const9", shipped.template_id)
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_and_delete_round_trip_through_wechat_and_the_limit_is_explained() {
    let sim = Sim::start(10).await;
    let api = sim.api().await;
    let store = store();
    let appid = sim.appid(0);
    sync_templates(&api, &store, &appid).await.unwrap();

    // A category template with two chosen keywords, in the chosen order.
    let t = add_template(
        &api,
        &store,
        &appid,
        "47123",
        &["订单金额".into(), "订单编号".into()],
    )
    .await
    .unwrap();
    assert_eq!(t.title, "订单发货通知");
    assert_eq!(
        kinds(&t.fields),
        vec![
            ("amount5", K::Amount),
            ("character_string1", K::CharacterString)
        ]
    );
    // A legacy industry template takes no keywords.
    let legacy = add_template(&api, &store, &appid, "TM00015", &[])
        .await
        .unwrap();
    assert_eq!(legacy.fields.len(), 4);
    assert_eq!(templates(&store).list(&appid).await.unwrap().len(), 8);

    let err = add_template(&api, &store, &appid, "47123", &["不存在的关键词".into()])
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "添加模板失败（errcode 40246）：关键词列表无效：类目模板须从模板库选择至少一个、且名称与模板库完全一致的关键词。"
    );
    let err = add_template(&api, &store, &appid, "47123", &[])
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "类目模板须选择至少一个关键词");

    delete_template(&api, &store, &appid, &t.template_id)
        .await
        .unwrap();
    let ids: Vec<String> = templates(&store)
        .list(&appid)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.template_id)
        .collect();
    assert_eq!(ids.len(), 7);
    assert!(!ids.contains(&t.template_id));
    // WeChat no longer has it either: a fresh sync removes nothing and adds nothing.
    let r = sync_templates(&api, &store, &appid).await.unwrap();
    assert_eq!((r.added, r.removed, r.total), (0, 0, 7));

    // Fill up to 25, then the 26th is refused with the limit explained.
    for _ in 7..25 {
        add_template(&api, &store, &appid, "36655", &["变动积分".into()])
            .await
            .unwrap();
    }
    let err = add_template(&api, &store, &appid, "36655", &["变动积分".into()])
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "添加模板失败（errcode 45026）：该公众号的模板已达上限（25 个）。请先在「模板」中删除不再使用的模板，再添加新模板。"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_template_removed_at_wechat_disappears_on_sync_and_industry_reads_back() {
    let sim = Sim::start(10).await;
    let api = sim.api().await;
    let store = store();
    let appid = sim.appid(0);
    sync_templates(&api, &store, &appid).await.unwrap();
    let victim = templates(&store).list(&appid).await.unwrap().remove(0);
    // Deleted behind our back (another tool, the mp.weixin.qq.com console).
    let token = AccountApi::access_token(&api, &appid).await.unwrap();
    AccountApi::client(&api)
        .template_delete(&token, &victim.template_id)
        .await
        .unwrap();
    let r = sync_templates(&api, &store, &appid).await.unwrap();
    assert_eq!((r.removed, r.total), (1, 5));
    // Deleting it again from the app is not an error: the local copy is simply dropped.
    delete_template(&api, &store, &appid, &victim.template_id)
        .await
        .unwrap();

    set_industry(&api, &appid, "10", "2").await.unwrap();
    let i = get_industry(&api, &appid).await.unwrap();
    assert_eq!(
        (
            i.primary_first.as_str(),
            i.primary_second.as_str(),
            i.secondary_second.as_str()
        ),
        ("交通工具", "停车服务", "IT软件与服务")
    );
    let err = set_industry(&api, &appid, "9999", "2").await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "设置行业失败（errcode 40102）：行业编号无效：请从行业列表中选择。"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_without_template_permission_gets_the_reason_in_chinese() {
    let sim = Sim::start(10).await;
    let api = sim.api().await;
    let store = store();
    // Account 2 is a subscription account: no template messages.
    let appid = sim.appid(2);
    let err = sync_templates(&api, &store, &appid).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "同步模板失败（errcode 48001）：该账号没有模板消息权限：模板消息仅对已认证的服务号开放，请确认账号类型与认证状态。"
    );
    sim.shutdown().await;
}
