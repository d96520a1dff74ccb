//! 订阅通知 (protocol G) and the template message's mini-program jump (H) over real HTTP on
//! loopback: the newtmpl template family with its errcodes, bizsend's rules (one accept → one
//! send, long-term many, 43101, 61007 without set 89, 48001 for mini programs and unverified
//! accounts), the pushes a user's choice and a send cause, and the jump checks (40013 unlinked,
//! 40165 not a released page) with every jump recorded in `/__sim/state`.

mod common;

use common::{Env, errcode, field};
use serde_json::{Map, Value, json};
use wxdesk_sim::SimConfig;

fn cfg() -> SimConfig {
    SimConfig {
        seed: 11,
        accounts: 6,
        followers: 50,
        ..SimConfig::default()
    }
}

struct Oa {
    appid: String,
    aat: String,
    fan: String,
    former: String,
}

async fn service(env: &Env) -> Oa {
    let appid = env.appid("service", true).await;
    let (_, aat, _) = env.authorize(&appid).await;
    let acct = env.account(&appid).await;
    Oa {
        fan: acct["sample_openids"][0]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        former: acct["former_openid"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        appid,
        aat,
    }
}

/// The account's seeded 订阅通知 template of `kind` (2 one-time, 3 long-term): id and valid data.
async fn seeded(env: &Env, appid: &str, kind: i64) -> (String, Value) {
    let acct = env.account(appid).await;
    let t = acct["subscribe_templates"]
        .as_array()
        .and_then(|l| l.iter().find(|t| t["type"] == kind))
        .cloned()
        .unwrap_or_else(|| panic!("no seeded template of type {kind}: {acct}"));
    let data: Map<String, Value> = t["keys"]
        .as_array()
        .into_iter()
        .flatten()
        .zip(t["examples"].as_array().into_iter().flatten())
        .map(|(k, v)| {
            (
                k.as_str().unwrap_or_default().to_string(),
                json!({"value": v}),
            )
        })
        .collect();
    (
        t["priTmplId"].as_str().unwrap_or_default().to_string(),
        Value::Object(data),
    )
}

async fn bizsend(env: &Env, oa: &Oa, body: Value) -> Value {
    env.post(
        &format!("/cgi-bin/message/subscribe/bizsend?access_token={}", oa.aat),
        body,
    )
    .await
}

async fn accept(env: &Env, oa: &Oa, openid: &str, template: &str, action: &str) -> Value {
    env.post(
        "/__sim/subscribe",
        json!({"authorizer_appid": oa.appid, "openid": openid, "template_id": template, "action": action}),
    )
    .await
}

#[tokio::test]
async fn the_template_family_lists_the_library_adds_lists_and_deletes_with_its_errcodes() {
    let env = Env::new(cfg()).await;
    let oa = service(&env).await;
    let at = format!("access_token={}", oa.aat);
    let cats = env.get(&format!("/wxaapi/newtmpl/getcategory?{at}")).await;
    let ids: Vec<i64> = cats["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["id"].as_i64())
        .collect();
    assert!(ids.contains(&307), "{cats}");

    let e = &env;
    let titles = |q: &str| {
        let path = format!("/wxaapi/newtmpl/getpubtemplatetitles?{at}&{q}");
        async move { e.get(&path).await }
    };
    let page = titles("ids=307,616&start=0&limit=30").await;
    assert_eq!(errcode(&page), 0, "{page}");
    assert_eq!(page["count"], 3);
    assert_eq!(page["data"][0]["tid"], 501);
    assert_eq!(page["data"][0]["categoryId"], "307");
    assert_eq!(
        titles("ids=307&start=1&limit=1").await["data"][0]["tid"],
        502
    );
    assert_eq!(errcode(&titles("start=0&limit=30").await), 200018);
    assert_eq!(
        errcode(&titles("ids=%22307%22&start=0&limit=30").await),
        200019
    );
    assert_eq!(errcode(&titles("ids=307&start=x&limit=30").await), 200016);
    assert_eq!(errcode(&titles("ids=307&start=0&limit=31").await), 200017);

    let kws = env
        .get(&format!(
            "/wxaapi/newtmpl/getpubtemplatekeywords?{at}&tid=502"
        ))
        .await;
    assert_eq!(kws["data"][0]["rule"], "character_string");
    assert_eq!(kws["data"][0]["kid"], 1);
    let unknown = env
        .get(&format!(
            "/wxaapi/newtmpl/getpubtemplatekeywords?{at}&tid=9"
        ))
        .await;
    assert_eq!(errcode(&unknown), 200014);

    let add = format!("/wxaapi/newtmpl/addtemplate?{at}");
    let bad = |b: Value| env.post(&add, b);
    assert_eq!(
        errcode(&bad(json!({"kidList": [1, 2], "sceneDesc": "取件"})).await),
        200014
    );
    assert_eq!(
        errcode(&bad(json!({"tid": "502", "kidList": [1], "sceneDesc": "取件"})).await),
        200020
    );
    assert_eq!(
        errcode(&bad(json!({"tid": "502", "kidList": [1, 9], "sceneDesc": "取件"})).await),
        200020
    );
    assert_eq!(
        errcode(&bad(json!({"tid": "502", "kidList": [1, 1], "sceneDesc": "取件"})).await),
        200020
    );
    assert_eq!(
        errcode(&bad(json!({"tid": "502", "kidList": [1, 2], "sceneDesc": ""})).await),
        200021
    );
    assert_eq!(
        errcode(&bad(json!({"tid": "502", "kidList": [1, 2], "sceneDesc": "一二三四五六七八九十一二三四五六"})).await),
        200021
    );
    let added = bad(json!({"tid": "502", "kidList": [4, 1], "sceneDesc": "到站取件"})).await;
    assert_eq!(errcode(&added), 0, "{added}");
    let id = added["priTmplId"].as_str().unwrap_or_default().to_string();
    assert_eq!(id.len(), 43);
    // The form body the newer mini-program page asks for is accepted too (G.3, UNCERTAIN).
    let form = env
        .http
        .post(env.url(&add))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("tid=616&kidList=1&kidList=3&sceneDesc=%E5%88%B0%E7%AB%99")
        .send()
        .await
        .expect("request")
        .json::<Value>()
        .await
        .expect("json");
    assert_eq!(errcode(&form), 0, "{form}");

    let list = env.get(&format!("/wxaapi/newtmpl/gettemplate?{at}")).await;
    let mine = list["data"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|t| t["priTmplId"] == id.as_str())
        .cloned()
        .unwrap_or_else(|| panic!("{list}"));
    assert_eq!(mine["title"], "取件提醒");
    assert_eq!(mine["type"], 2);
    assert_eq!(
        mine["content"],
        "到站时间:{{time4.DATA}}\n取件码:{{character_string1.DATA}}\n"
    );
    let before = list["data"].as_array().map_or(0, Vec::len);

    let del = format!("/wxaapi/newtmpl/deltemplate?{at}");
    assert_eq!(errcode(&env.post(&del, json!({"priTmplId": id})).await), 0);
    assert_eq!(
        errcode(&env.post(&del, json!({"priTmplId": id})).await),
        20002
    );
    let after = env.get(&format!("/wxaapi/newtmpl/gettemplate?{at}")).await;
    assert_eq!(after["data"].as_array().map_or(0, Vec::len), before - 1);
}

#[tokio::test]
async fn an_account_keeps_at_most_fifty_templates() {
    let env = Env::new(cfg()).await;
    let oa = service(&env).await;
    let add = format!("/wxaapi/newtmpl/addtemplate?access_token={}", oa.aat);
    let body = json!({"tid": "501", "kidList": [1, 2], "sceneDesc": "发货"});
    // Three are seeded.
    for n in 3..50 {
        assert_eq!(
            errcode(&env.post(&add, body.clone()).await),
            0,
            "template {n}"
        );
    }
    assert_eq!(errcode(&env.post(&add, body).await), 200012);
}

#[tokio::test]
async fn a_one_time_accept_allows_one_send_and_each_step_is_pushed() {
    let env = Env::new(cfg()).await;
    let oa = service(&env).await;
    let (id, data) = seeded(&env, &oa.appid, 2).await;
    let body = json!({"touser": oa.fan, "template_id": id, "data": data, "page": "https://m.example.com/o/1"});
    assert_eq!(errcode(&bizsend(&env, &oa, body.clone()).await), 43101);

    let r = accept(&env, &oa, &oa.fan, &id, "accept").await;
    assert_eq!(r["grants"][&id]["remaining"], 1, "{r}");
    let popup = env
        .wait_pushes(1, |_, x| x.contains("subscribe_msg_popup_event"))
        .await;
    let (p, xml) = &popup[0];
    assert_eq!(p.path, format!("/wechat/{}/callback", oa.appid));
    assert_eq!(p.query.get("openid"), Some(&oa.fan));
    assert!(xml.contains("<SubscribeMsgPopupEvent><List>"), "{xml}");
    assert_eq!(field(xml, "TemplateId").as_deref(), Some(id.as_str()));
    assert_eq!(
        field(xml, "SubscribeStatusString").as_deref(),
        Some("accept")
    );
    assert_eq!(field(xml, "PopupScene").as_deref(), Some("1"));

    let sent = bizsend(&env, &oa, body.clone()).await;
    assert_eq!(errcode(&sent), 0, "{sent}");
    let msgid = sent["msgid"].as_i64().unwrap_or_default();
    assert!(msgid > 0);
    assert_eq!(errcode(&bizsend(&env, &oa, body).await), 43101);
    let result = env
        .wait_pushes(1, |_, x| x.contains("subscribe_msg_sent_event"))
        .await;
    let xml = &result[0].1;
    assert_eq!(field(xml, "MsgID"), Some(msgid.to_string()));
    assert_eq!(field(xml, "ErrorCode").as_deref(), Some("0"));
    assert_eq!(field(xml, "ErrorStatus").as_deref(), Some("success"));
    let state = env.state().await;
    assert_eq!(state["sends"]["bizsend_accepted"], 1);
    let jump = &state["jumps"][0];
    assert_eq!(jump["kind"], "subscribe");
    assert_eq!(jump["url"], "https://m.example.com/o/1");
}

#[tokio::test]
async fn accepts_add_up_unless_configured_not_to_and_switching_off_clears_them() {
    for accumulate in [true, false] {
        let env = Env::new(SimConfig {
            subscribe_accumulate: accumulate,
            ..cfg()
        })
        .await;
        let oa = service(&env).await;
        let (id, data) = seeded(&env, &oa.appid, 2).await;
        let body = json!({"touser": oa.fan, "template_id": id, "data": data});
        accept(&env, &oa, &oa.fan, &id, "accept").await;
        accept(&env, &oa, &oa.fan, &id, "accept").await;
        // 取消 in the popup changes nothing.
        accept(&env, &oa, &oa.fan, &id, "reject").await;
        let mut sent = 0;
        while errcode(&bizsend(&env, &oa, body.clone()).await) == 0 {
            sent += 1;
            assert!(sent < 5);
        }
        assert_eq!(sent, if accumulate { 2 } else { 1 });

        accept(&env, &oa, &oa.fan, &id, "accept").await;
        accept(&env, &oa, &oa.fan, &id, "switch_off").await;
        assert_eq!(errcode(&bizsend(&env, &oa, body.clone()).await), 43101);
        let change = env
            .wait_pushes(1, |_, x| x.contains("subscribe_msg_change_event"))
            .await;
        let xml = &change[0].1;
        assert!(xml.contains("<SubscribeMsgChangeEvent><List>"), "{xml}");
        assert_eq!(
            field(xml, "SubscribeStatusString").as_deref(),
            Some("reject")
        );
    }
}

#[tokio::test]
async fn a_long_term_accept_allows_many_sends_and_a_former_follower_still_receives() {
    let env = Env::new(cfg()).await;
    let oa = service(&env).await;
    let (id, data) = seeded(&env, &oa.appid, 3).await;
    accept(&env, &oa, &oa.former, &id, "accept").await;
    let body = json!({"touser": oa.former, "template_id": id, "data": data});
    for _ in 0..3 {
        assert_eq!(errcode(&bizsend(&env, &oa, body.clone()).await), 0);
    }
}

#[tokio::test]
async fn bizsend_refuses_bad_templates_values_openids_and_jumps() {
    let env = Env::new(cfg()).await;
    let oa = service(&env).await;
    let (id, data) = seeded(&env, &oa.appid, 2).await;
    accept(&env, &oa, &oa.fan, &id, "accept").await;
    let send = |b: Value| bizsend(&env, &oa, b);
    let mut long = data.clone();
    long["thing2"] = json!({"value": "这是一个超过二十个字的商品名称这是一个超过二十个字"});
    let v = send(json!({"touser": oa.fan, "template_id": id, "data": long})).await;
    assert_eq!(errcode(&v), 47003);
    assert!(
        v["errmsg"]
            .as_str()
            .unwrap_or_default()
            .contains("data.thing2.value"),
        "{v}"
    );
    assert_eq!(
        errcode(
            &send(json!({"touser": oa.fan, "template_id": "T".repeat(43), "data": data})).await
        ),
        40037
    );
    assert_eq!(
        errcode(&send(json!({"touser": "o-not-ours", "template_id": id, "data": data})).await),
        40003
    );
    let linked = env.account(&oa.appid).await["linked_minis"][0]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let jump = |appid: &str, page: &str| {
        json!({"touser": oa.fan, "template_id": id, "data": data,
               "miniprogram": {"appid": appid, "pagepath": page}})
    };
    let mini_other = env.appid("miniprogram", false).await;
    assert_eq!(
        errcode(&send(jump(&mini_other, "pages/index/index")).await),
        40013
    );
    assert_eq!(errcode(&send(jump(&linked, "index?foo=bar")).await), 40165);
    // None of the refusals used the grant.
    let ok = send(jump(&linked, "pages/order/list?id=7")).await;
    assert_eq!(errcode(&ok), 0, "{ok}");
    let state = env.state().await;
    assert_eq!(
        state["jumps"][0]["miniprogram"],
        json!({"appid": linked, "pagepath": "pages/order/list?id=7"})
    );
}

#[tokio::test]
async fn bizsend_needs_set_89_a_verified_service_account_and_an_official_account_token() {
    let env = Env::new(SimConfig {
        withheld_permission_sets: vec![89],
        ..cfg()
    })
    .await;
    let oa = service(&env).await;
    let (id, data) = seeded(&env, &oa.appid, 2).await;
    accept(&env, &oa, &oa.fan, &id, "accept").await;
    let body = json!({"touser": oa.fan, "template_id": id, "data": data});
    assert_eq!(errcode(&bizsend(&env, &oa, body.clone()).await), 61007);
    // The template APIs also take set 18, which an official account does not grant either.
    let list = env
        .get(&format!(
            "/wxaapi/newtmpl/gettemplate?access_token={}",
            oa.aat
        ))
        .await;
    assert_eq!(errcode(&list), 61007);
    // The account's own token (not through the platform) is not subject to the sets.
    let own = {
        let secret = env.account(&oa.appid).await["appsecret"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        env.get(&format!(
            "/cgi-bin/token?grant_type=client_credential&appid={}&secret={secret}",
            oa.appid
        ))
        .await["access_token"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let v = env
        .post(
            &format!("/cgi-bin/message/subscribe/bizsend?access_token={own}"),
            body,
        )
        .await;
    assert_eq!(errcode(&v), 0, "{v}");

    // With every set granted: a mini program's token and an unverified service account's.
    let env = Env::new(cfg()).await;
    let mini = env.appid("miniprogram", true).await;
    let (_, mini_aat, _) = env.authorize(&mini).await;
    let v = env
        .post(
            &format!("/cgi-bin/message/subscribe/bizsend?access_token={mini_aat}"),
            json!({"touser": "x", "template_id": id, "data": {}}),
        )
        .await;
    assert_eq!(errcode(&v), 48001);
    let unverified = env.appid("service", false).await;
    let (_, aat2, _) = env.authorize(&unverified).await;
    let v = env
        .post(
            &format!("/cgi-bin/message/subscribe/bizsend?access_token={aat2}"),
            json!({"touser": "x", "template_id": id, "data": {}}),
        )
        .await;
    assert_eq!(errcode(&v), 48001);
}

/// The template message's jump (protocol H): linked and released → sent and recorded for the
/// recipient; unlinked → 40013 (or the configured code); not a released page → 40165.
#[tokio::test]
async fn the_template_messages_mini_program_jump_is_checked_and_recorded() {
    let env = Env::new(cfg()).await;
    let oa = service(&env).await;
    let tpl = env
        .get(&format!(
            "/cgi-bin/template/get_all_private_template?access_token={}",
            oa.aat
        ))
        .await;
    let t = tpl["template_list"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|t| t["title"] == "订单支付成功")
        .cloned()
        .unwrap_or_else(|| panic!("{tpl}"));
    let tid = t["template_id"].as_str().unwrap_or_default().to_string();
    let path = format!("/cgi-bin/message/template/send?access_token={}", oa.aat);
    let send = |mp: Value| {
        env.post(
            &path,
            json!({"touser": oa.fan, "template_id": tid, "url": "https://m.example.com",
                   "miniprogram": mp, "data": {"keyword1": {"value": "¥1"}, "keyword2": {"value": "茶"}}}),
        )
    };
    let linked = env.account(&oa.appid).await["linked_minis"][0]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let other = env.appid("miniprogram", false).await;
    assert_eq!(
        errcode(&send(json!({"appid": other, "pagepath": "pages/index/index"})).await),
        40013
    );
    assert_eq!(
        errcode(&send(json!({"appid": linked, "pagepath": "pages/nowhere"})).await),
        40165
    );
    let ok = send(json!({"appid": linked, "pagepath": "pages/index/index?from=tm"})).await;
    assert_eq!(errcode(&ok), 0, "{ok}");
    let jumps = env.state().await["jumps"].clone();
    assert_eq!(jumps.as_array().map_or(0, Vec::len), 1, "{jumps}");
    assert_eq!(jumps[0]["openid"], oa.fan.as_str());
    assert_eq!(jumps[0]["kind"], "template");
    assert_eq!(jumps[0]["msgid"], ok["msgid"]);
    assert_eq!(jumps[0]["url"], "https://m.example.com");
    assert_eq!(
        jumps[0]["miniprogram"],
        json!({"appid": linked, "pagepath": "pages/index/index?from=tm"})
    );
}

#[tokio::test]
async fn an_unreleased_linked_mini_program_and_the_configured_unlinked_code_give_40165() {
    let env = Env::new(SimConfig {
        unlinked_mini_errcode: 40165,
        ..cfg()
    })
    .await;
    // Account 5 (a verified service account) shares its principal with account 4, an
    // unverified mini program that was never released.
    let state = env.state().await;
    let accounts = state["accounts"].as_array().cloned().unwrap_or_default();
    let appid = accounts[5]["appid"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let unreleased = accounts[4]["appid"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(accounts[5]["kind"], "service");
    let (_, aat, _) = env.authorize(&appid).await;
    let acct = env.account(&appid).await;
    assert_eq!(acct["linked_minis"], json!([unreleased]));
    let (id, data) = seeded(&env, &appid, 2).await;
    let fan = acct["sample_openids"][0].as_str().unwrap_or_default();
    env.post(
        "/__sim/subscribe",
        json!({"authorizer_appid": appid, "openid": fan, "template_id": id}),
    )
    .await;
    let path = format!("/cgi-bin/message/subscribe/bizsend?access_token={aat}");
    let jump = |mini: &str| {
        json!({"touser": fan, "template_id": id, "data": data,
               "miniprogram": {"appid": mini, "pagepath": "pages/index/index"}})
    };
    assert_eq!(errcode(&env.post(&path, jump(&unreleased)).await), 40165);
    let unlinked = accounts[1]["appid"].as_str().unwrap_or_default();
    assert_eq!(errcode(&env.post(&path, jump(unlinked)).await), 40165);
}

/// Protocol I: 5 messages within 48 h of a user's message (configurable: 20 before 2023), and a
/// click during a live message window leaves the larger allowance.
#[tokio::test]
async fn the_customer_service_allowance_follows_the_configured_quota() {
    for (quota, allowed) in [(5u32, 5usize), (20, 20)] {
        let env = Env::new(SimConfig {
            cs_message_quota: quota,
            ..cfg()
        })
        .await;
        let oa = service(&env).await;
        env.post(
            "/__sim/message",
            json!({"authorizer_appid": oa.appid, "openid": oa.fan, "content": "在吗"}),
        )
        .await;
        let send = format!("/cgi-bin/message/custom/send?access_token={}", oa.aat);
        let text = json!({"touser": oa.fan, "msgtype": "text", "text": {"content": "您好"}});
        let mut n = 0;
        while errcode(&env.post(&send, text.clone()).await) == 0 {
            n += 1;
            assert!(n <= 30);
        }
        assert_eq!(n, allowed);
        assert_eq!(errcode(&env.post(&send, text.clone()).await), 45047);
        // A menu click now allows three more within the minute; the 48 hours stay.
        env.post(
            "/__sim/event",
            json!({"authorizer_appid": oa.appid, "openid": oa.fan, "event": "CLICK", "event_key": "K"}),
        )
        .await;
        for _ in 0..3 {
            assert_eq!(errcode(&env.post(&send, text.clone()).await), 0);
        }
        assert_eq!(errcode(&env.post(&send, text.clone()).await), 45047);
    }
}

#[tokio::test]
async fn the_state_counts_api_callers_by_ip() {
    let env = Env::new(cfg()).await;
    let _ = service(&env).await;
    let callers = env.state().await["callers"].clone();
    assert!(callers["127.0.0.1"].as_u64().unwrap_or(0) >= 3, "{callers}");
}
