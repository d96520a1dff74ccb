//! 订阅通知 through `ctx.subscriptions` against the sandbox (real sim and relay): the template
//! library and the account's templates, and the users' choices travelling as WeChat pushes them
//! — sim → relay → the app's own feed → who can receive which template.

#![allow(clippy::unwrap_used)]

use crate::messaging_support;

use messaging_support::World;
use wxdesk_core::subscriptions::SubscribeKind;
use wxdesk_core::templates::keywords::KeywordType;

#[tokio::test]
async fn the_library_and_the_accounts_templates_round_trip_with_typed_fields() {
    let w = World::start().await;
    let s = &w.ctx.subscriptions;
    let cats = s.categories(&w.oa).await.unwrap();
    assert!(cats.iter().any(|c| c.id == 307), "{cats:?}");
    let page = s.library(&w.oa, &[], 0, 30).await.unwrap();
    assert_eq!(page.count, 4);
    let long = page.titles.iter().find(|t| t.tid == "701").unwrap();
    assert_eq!(long.kind, SubscribeKind::LongTerm);
    let kws = s.keywords(&w.oa, "502").await.unwrap();
    assert_eq!(kws[0].key, "character_string1");
    assert_eq!(kws[0].kind, KeywordType::CharacterString);

    // The seeded three, stored for the composer.
    let listed = s.sync(&w.oa).await.unwrap();
    assert_eq!(listed.len(), 3);
    assert_eq!(s.list(&w.oa).await.unwrap(), listed);

    let added = s.add(&w.oa, "502", &[4, 1], "到站取件").await.unwrap();
    assert_eq!(added.title, "取件提醒");
    assert_eq!(added.kind, SubscribeKind::OneTime);
    assert_eq!(
        added.content,
        "到站时间:{{time4.DATA}}\n取件码:{{character_string1.DATA}}\n"
    );
    let keys: Vec<(&str, &str, KeywordType)> = added
        .fields
        .iter()
        .map(|f| (f.key.as_str(), f.label.as_str(), f.kind))
        .collect();
    assert_eq!(
        keys,
        vec![
            ("time4", "到站时间", KeywordType::Time),
            ("character_string1", "取件码", KeywordType::CharacterString)
        ]
    );
    assert_eq!(s.list(&w.oa).await.unwrap().len(), 4);

    s.delete(&w.oa, &added.template_id).await.unwrap();
    assert_eq!(s.list(&w.oa).await.unwrap().len(), 3);
    // WeChat's own refusal comes back with its errcode and explanation.
    let e = s.keywords(&w.oa, "9").await.unwrap_err();
    assert_eq!(e.wechat_errcode(), Some(200014));
    assert!(e.hint(wxdesk_core::Lang::Zh).unwrap().contains("tid"));
    let e = s.delete(&w.oa, &added.template_id).await.unwrap_err();
    assert_eq!(e.wechat_errcode(), Some(20002));
    // Refused here, before WeChat is asked.
    let e = s.add(&w.oa, "502", &[1], "取件").await.unwrap_err();
    assert_eq!(e.code(), "invalid");
    let e = s.categories(&w.mini).await.unwrap_err();
    assert!(e.to_string().contains("小程序"), "{e}");
    w.sandbox.shutdown().await;
}

#[tokio::test]
async fn a_users_accept_reaches_the_picker_through_relay_and_feed_and_a_send_uses_it() {
    let w = World::start().await;
    let s = &w.ctx.subscriptions;
    let templates = s.sync(&w.oa).await.unwrap();
    let one_time = templates
        .iter()
        .find(|t| t.kind == SubscribeKind::OneTime)
        .unwrap()
        .template_id
        .clone();
    let long = templates
        .iter()
        .find(|t| t.kind == SubscribeKind::LongTerm)
        .unwrap()
        .template_id
        .clone();
    let (a, _) = w.openid(&w.oa, 1).await;
    let (b, _) = w.openid(&w.oa, 2).await;
    assert_eq!(s.receivers(&w.oa, &one_time, 50).await.unwrap().total, 0);

    w.user_subscribes(&a, &one_time, "accept").await;
    w.user_subscribes(&a, &long, "accept").await;
    w.user_subscribes(&b, &one_time, "reject").await;
    w.feed_until("a's two accepts", || async {
        s.receivers(&w.oa, &long, 50).await.unwrap().total == 1
            && s.receivers(&w.oa, &one_time, 50).await.unwrap().total == 1
    })
    .await;
    let r = s.receivers(&w.oa, &one_time, 50).await.unwrap();
    assert_eq!(r.receivers[0].openid, a);
    assert_eq!(r.receivers[0].remaining, 1);
    let reach = s
        .reach(&w.oa, &one_time, &[a.clone(), b.clone()])
        .await
        .unwrap();
    assert_eq!(
        (reach.allowed, reach.refused),
        (vec![a.clone()], vec![b.clone()])
    );

    // The account sends (here straight to the sim): WeChat's sent event uses the accept.
    let acct = w.sim_account(&w.oa).await;
    let tpl = acct["subscribe_templates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["priTmplId"] == one_time.as_str())
        .unwrap()
        .clone();
    let data: serde_json::Map<String, serde_json::Value> = tpl["keys"]
        .as_array()
        .unwrap()
        .iter()
        .zip(tpl["examples"].as_array().unwrap())
        .map(|(k, v)| {
            (
                k.as_str().unwrap().to_string(),
                serde_json::json!({"value": v}),
            )
        })
        .collect();
    let api = w.ctx.platform.api().await.unwrap();
    let aat = api.authorizer_token(&w.oa).await.unwrap();
    let sent = w
        .sim_post(
            &format!(
                "/cgi-bin/message/subscribe/bizsend?access_token={}",
                aat.expose()
            ),
            serde_json::json!({"touser": a, "template_id": one_time, "data": data}),
        )
        .await;
    assert_eq!(sent["errcode"], 0, "{sent}");
    w.feed_until("the sent event", || async {
        s.receivers(&w.oa, &one_time, 50).await.unwrap().total == 0
    })
    .await;
    // The long-term one stays until the user switches it off.
    assert_eq!(s.receivers(&w.oa, &long, 50).await.unwrap().total, 1);
    w.user_subscribes(&a, &long, "switch_off").await;
    w.feed_until("the switch-off", || async {
        s.receivers(&w.oa, &long, 50).await.unwrap().total == 0
    })
    .await;
    w.sandbox.shutdown().await;
}
