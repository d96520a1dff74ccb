//! Each WeChat rule the sim enforces, shown over real HTTP on loopback.

mod common;

use common::{Env, errcode, field};
use serde_json::json;
use wxdesk_sim::{
    SANDBOX_COMPONENT_APPID as CAPPID, SANDBOX_COMPONENT_APPSECRET as CSECRET, SimConfig,
};

fn cfg() -> SimConfig {
    SimConfig {
        seed: 7,
        ..SimConfig::default()
    }
}

#[tokio::test]
async fn component_token_needs_the_latest_ticket_and_the_right_secret() {
    let env = Env::new(cfg()).await;
    let ticket = env.latest_ticket().await;
    let ask = |secret: &str, ticket: &str| json!({"component_appid": CAPPID, "component_appsecret": secret, "component_verify_ticket": ticket});
    let v = env
        .post(
            "/cgi-bin/component/api_component_token",
            ask("wrong", &ticket),
        )
        .await;
    assert_eq!(errcode(&v), 40125);
    let v = env
        .post(
            "/cgi-bin/component/api_component_token",
            ask(CSECRET, "ticket@@@forged"),
        )
        .await;
    assert_eq!(errcode(&v), 61006);
    assert!(
        v["errmsg"].as_str().is_some_and(|m| m.contains(" rid: ")),
        "{v}"
    );
    let v = env
        .post(
            "/cgi-bin/component/api_component_token",
            ask(CSECRET, &ticket),
        )
        .await;
    assert_eq!(v["expires_in"], 7200);
    assert!(v["component_access_token"].is_string());

    // A newer ticket makes the old one invalid.
    env.post("/__sim/push-ticket", json!({})).await;
    env.wait_pushes(2, |p, _| p.path == "/wechat/component")
        .await;
    let v = env
        .post(
            "/cgi-bin/component/api_component_token",
            ask(CSECRET, &ticket),
        )
        .await;
    assert_eq!(errcode(&v), 61006);
    // The latest ticket expires after 12 hours without a new push.
    let latest = env.latest_ticket().await;
    env.advance(12.0 * 3600.0 + 1.0).await;
    let v = env
        .post(
            "/cgi-bin/component/api_component_token",
            ask(CSECRET, &latest),
        )
        .await;
    assert_eq!(errcode(&v), 61005);
}

#[tokio::test]
async fn an_expired_token_is_refused_and_both_token_spellings_work() {
    let env = Env::new(cfg()).await;
    let cat = env.component_token().await;
    let body = json!({"component_appid": CAPPID});
    let v = env
        .post(
            &format!("/cgi-bin/component/api_create_preauthcode?component_access_token={cat}"),
            body.clone(),
        )
        .await;
    assert_eq!(v["expires_in"], 600);
    let v = env
        .post(
            &format!("/cgi-bin/component/api_create_preauthcode?access_token={cat}"),
            body.clone(),
        )
        .await;
    assert!(
        v["pre_auth_code"]
            .as_str()
            .is_some_and(|c| c.starts_with("preauthcode@@@"))
    );
    let v = env
        .post("/cgi-bin/component/api_create_preauthcode", body.clone())
        .await;
    assert_eq!(errcode(&v), 41001);
    let v = env
        .post(
            "/cgi-bin/component/api_create_preauthcode?access_token=nope",
            body.clone(),
        )
        .await;
    assert_eq!(errcode(&v), 40001);
    env.advance(7200.0).await;
    let v = env
        .post(
            &format!("/cgi-bin/component/api_create_preauthcode?access_token={cat}"),
            body,
        )
        .await;
    assert_eq!(errcode(&v), 42001);
}

#[tokio::test]
async fn a_pre_auth_code_works_once_and_expires_after_ten_minutes() {
    let env = Env::new(cfg()).await;
    let appid = env.appid("service", true).await;
    let cat = env.component_token().await;
    let code = env.pre_auth_code(&cat).await;
    let req = || {
        env.http
            .post(env.url("/__sim/authorize"))
            .json(&json!({"pre_auth_code": code, "authorizer_appid": appid}))
    };
    assert_eq!(req().send().await.expect("send").status(), 200);
    let second = req().send().await.expect("send");
    assert_eq!(second.status(), 400);
    let v: serde_json::Value = second.json().await.expect("json");
    assert_eq!(v["error"], "pre_auth_code_used");

    let late = env.pre_auth_code(&cat).await;
    env.advance(600.0).await;
    let v: serde_json::Value = env
        .http
        .post(env.url("/__sim/authorize"))
        .json(&json!({"pre_auth_code": late, "authorizer_appid": appid}))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(v["error"], "pre_auth_code_expired");
    assert_eq!(env.state().await["tokens_issued"]["pre_auth_code"], 2);
}

#[tokio::test]
async fn an_authorization_code_is_single_use_and_expires() {
    let env = Env::new(cfg()).await;
    let appid = env.appid("service", true).await;
    let cat = env.component_token().await;
    let query = |code: String| json!({"component_appid": CAPPID, "authorization_code": code});
    let code = env.pre_auth_code(&cat).await;
    let a = env
        .post(
            "/__sim/authorize",
            json!({"pre_auth_code": code, "authorizer_appid": appid}),
        )
        .await;
    let auth_code = a["auth_code"].as_str().unwrap_or_default().to_string();
    let path = format!("/cgi-bin/component/api_query_auth?component_access_token={cat}");
    let v = env.post(&path, query(auth_code.clone())).await;
    assert_eq!(v["authorization_info"]["authorizer_appid"], appid.as_str());
    assert!(
        v["authorization_info"]["func_info"]
            .as_array()
            .is_some_and(|f| !f.is_empty())
    );
    assert_eq!(errcode(&env.post(&path, query(auth_code)).await), 61009);

    let code = env.pre_auth_code(&cat).await;
    let a = env
        .post(
            "/__sim/authorize",
            json!({"pre_auth_code": code, "authorizer_appid": appid}),
        )
        .await;
    assert_eq!(a["info_type"], "updateauthorized");
    env.advance(601.0).await;
    let v = env
        .post(
            &path,
            query(a["auth_code"].as_str().unwrap_or_default().to_string()),
        )
        .await;
    assert_eq!(errcode(&v), 61010);
}

#[tokio::test]
async fn a_refresh_token_dies_on_revoke_and_reauthorizing_issues_a_new_one() {
    let env = Env::new(cfg()).await;
    let appid = env.appid("service", true).await;
    let (cat, aat, refresh) = env.authorize(&appid).await;
    let path = format!("/cgi-bin/component/api_authorizer_token?component_access_token={cat}");
    let ask = |r: &str| json!({"component_appid": CAPPID, "authorizer_appid": appid, "authorizer_refresh_token": r});
    let v = env.post(&path, ask(&refresh)).await;
    assert!(v["authorizer_access_token"].is_string(), "{v}");
    assert_eq!(v["authorizer_refresh_token"], refresh.as_str());
    assert_eq!(
        errcode(&env.post(&path, ask("refreshtoken@@@bogus")).await),
        61023
    );

    let r = env
        .post("/__sim/revoke", json!({"authorizer_appid": appid}))
        .await;
    assert_eq!(r["ok"], true);
    assert_eq!(errcode(&env.post(&path, ask(&refresh)).await), 61003);
    // The account's access tokens died with the authorization.
    let v = env
        .get(&format!(
            "/cgi-bin/template/get_all_private_template?access_token={aat}"
        ))
        .await;
    assert_eq!(errcode(&v), 40001);
    let pushed = env
        .wait_pushes(1, |_, x| x.contains("<InfoType><![CDATA[unauthorized]]>"))
        .await;
    assert_eq!(
        field(&pushed[0].1, "AuthorizerAppid").as_deref(),
        Some(appid.as_str())
    );

    let (cat2, _, refresh2) = env.authorize(&appid).await;
    assert_ne!(refresh, refresh2);
    let path2 = format!("/cgi-bin/component/api_authorizer_token?component_access_token={cat2}");
    assert_eq!(errcode(&env.post(&path2, ask(&refresh)).await), 61023);
    assert!(env.post(&path2, ask(&refresh2)).await["authorizer_access_token"].is_string());
}

#[tokio::test]
async fn client_credential_keeps_the_previous_token_for_five_minutes() {
    let env = Env::new(cfg()).await;
    let appid = env.appid("service", true).await;
    let secret = env.account(&appid).await["appsecret"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let token = |s: String| {
        let env = &env;
        let appid = appid.clone();
        async move {
            env.get(&format!(
                "/cgi-bin/token?grant_type=client_credential&appid={appid}&secret={s}"
            ))
            .await
        }
    };
    assert_eq!(errcode(&token("nope".into()).await), 40125);
    let v = env
        .get(&format!(
            "/cgi-bin/token?grant_type=client_credential&appid={CAPPID}&secret={CSECRET}"
        ))
        .await;
    assert_eq!(errcode(&v), 61024);
    let old = token(secret.clone()).await["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let new = token(secret).await["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_ne!(old, new);
    let tags = |t: &str| format!("/cgi-bin/tags/get?access_token={t}");
    assert!(env.get(&tags(&old)).await["tags"].is_array());
    env.advance(299.0).await;
    assert!(env.get(&tags(&old)).await["tags"].is_array());
    env.advance(2.0).await;
    assert_eq!(errcode(&env.get(&tags(&old)).await), 40001);
    assert!(env.get(&tags(&new)).await["tags"].is_array());
    assert_eq!(env.state().await["tokens_issued"]["client"], 2);
}

/// Authorize the verified service account; returns (aat, appid, its first template's id & content).
async fn service(env: &Env) -> (String, String, String, String) {
    let appid = env.appid("service", true).await;
    let (_, aat, _) = env.authorize(&appid).await;
    let v = env
        .get(&format!(
            "/cgi-bin/template/get_all_private_template?access_token={aat}"
        ))
        .await;
    let t = &v["template_list"][0];
    (
        aat,
        appid,
        t["template_id"].as_str().unwrap_or_default().to_string(),
        t["content"].as_str().unwrap_or_default().to_string(),
    )
}

fn order_data(thing: &str) -> serde_json::Value {
    json!({
        "character_string1": {"value": "SO20240101001"},
        "thing2": {"value": thing},
        "time3": {"value": "2024年1月1日 12:00"},
        "thing4": {"value": "顺丰速运"},
        "amount5": {"value": "¥128.00"},
        "const6": {"value": "已发货"},
    })
}

#[tokio::test]
async fn template_send_checks_keywords_recipients_and_is_idempotent() {
    let env = Env::new(cfg()).await;
    let (aat, appid, tid, content) = service(&env).await;
    assert!(content.contains("{{thing2.DATA}}"), "{content}");
    assert!(content.contains("{{const6.DATA}}"), "{content}");
    let acct = env.account(&appid).await;
    let fan = acct["sample_openids"][0]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let path = format!("/cgi-bin/message/template/send?access_token={aat}");
    let send = |to: &str, tid: &str, data: serde_json::Value, cmid: &str| json!({"touser": to, "template_id": tid, "data": data, "client_msg_id": cmid, "url": "https://example.com"});

    let v = env
        .post(&path, send(&fan, &tid, order_data(&"长".repeat(21)), ""))
        .await;
    assert_eq!(errcode(&v), 47003);
    assert!(
        v["errmsg"]
            .as_str()
            .is_some_and(|m| m.starts_with("argument invalid! data.thing2.value invalid rid: ")),
        "{v}"
    );
    let mut bad_const = order_data("绿茶");
    bad_const["const6"]["value"] = json!("已付款");
    assert_eq!(
        errcode(&env.post(&path, send(&fan, &tid, bad_const, "")).await),
        47003
    );
    let unknown = "x".repeat(43);
    assert_eq!(
        errcode(
            &env.post(&path, send(&fan, &unknown, order_data("绿茶"), ""))
                .await
        ),
        40037
    );
    let former = acct["former_openid"].as_str().unwrap_or_default();
    assert_eq!(
        errcode(
            &env.post(&path, send(former, &tid, order_data("绿茶"), ""))
                .await
        ),
        43004
    );
    let other = env.appid("subscription", true).await;
    let stranger = env.account(&other).await["sample_openids"][0]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(
        errcode(
            &env.post(&path, send(&stranger, &tid, order_data("绿茶"), ""))
                .await
        ),
        40003
    );

    let first = env
        .post(&path, send(&fan, &tid, order_data("绿茶"), "job-1"))
        .await;
    assert_eq!(errcode(&first), 0);
    let again = env
        .post(&path, send(&fan, &tid, order_data("绿茶"), "job-1"))
        .await;
    assert_eq!(again["msgid"], first["msgid"]);
    let other_id = env
        .post(&path, send(&fan, &tid, order_data("绿茶"), "job-2"))
        .await;
    assert_ne!(other_id["msgid"], first["msgid"]);
    // After ten sim-minutes the same client_msg_id is a new message.
    env.advance(601.0).await;
    let later = env
        .post(&path, send(&fan, &tid, order_data("绿茶"), "job-1"))
        .await;
    assert_ne!(later["msgid"], first["msgid"]);

    let s = env.state().await;
    assert_eq!(s["sends"]["accepted"], 3);
    assert_eq!(s["sends"]["distinct_recipients"], 1);
    assert_eq!(s["sends"]["max_per_recipient"], 3);
    assert_eq!(s["sends"]["by_status"]["success"], 3);
}

#[tokio::test]
async fn every_accepted_template_message_gets_a_signed_job_finish_push() {
    let env = Env::new(SimConfig {
        delivery_fail_rate: 1.0,
        ..cfg()
    })
    .await;
    let (aat, appid, tid, _) = service(&env).await;
    let acct = env.account(&appid).await;
    let fan = acct["sample_openids"][1]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let user_name = acct["user_name"].as_str().unwrap_or_default().to_string();
    let v = env
        .post(
            &format!("/cgi-bin/message/template/send?access_token={aat}"),
            json!({"touser": fan, "template_id": tid, "data": order_data("绿茶")}),
        )
        .await;
    let msgid = v["msgid"].as_i64().unwrap_or_default();
    let pushes = env
        .wait_pushes(1, |_, x| x.contains("TEMPLATESENDJOBFINISH"))
        .await;
    let (p, xml) = &pushes[0];
    assert_eq!(p.path, format!("/wechat/{appid}/callback"));
    assert!(
        p.body
            .contains(&format!("<ToUserName><![CDATA[{user_name}]]></ToUserName>")),
        "{}",
        p.body
    );
    assert_eq!(field(xml, "MsgID"), Some(msgid.to_string()));
    assert_eq!(field(xml, "FromUserName").as_deref(), Some(fan.as_str()));
    let status = field(xml, "Status").unwrap_or_default();
    assert!(
        status == "failed:user block" || status == "failed: system failed",
        "{status}"
    );
    // The ticket goes to the component URL in the AppId envelope.
    let t = env
        .wait_pushes(1, |p, _| p.path == "/wechat/component")
        .await;
    assert!(
        t[0].0
            .body
            .contains(&format!("<AppId><![CDATA[{CAPPID}]]></AppId>"))
    );
    let s = env.state().await;
    assert_eq!(s["sends"]["by_status"]["success"], serde_json::Value::Null);
}

#[tokio::test]
async fn a_push_not_answered_success_is_retried_twice() {
    let env = Env::new(cfg()).await;
    *env.rx.fail_first.lock().unwrap_or_else(|p| p.into_inner()) = 10;
    env.post("/__sim/push-ticket", json!({})).await;
    // Start ticket + the pushed one, each tried 3 times.
    env.wait_pushes(6, |p, _| p.path == "/wechat/component")
        .await;
    for _ in 0..100 {
        if env.state().await["pushes"]["failed"] == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let s = env.state().await;
    assert_eq!(s["pushes"]["failed"], 2);
    assert_eq!(s["pushes"]["attempts"], 6);
}

#[tokio::test]
async fn custom_messages_need_the_48_hour_window() {
    let env = Env::new(cfg()).await;
    let appid = env.appid("service", true).await;
    let (_, aat, _) = env.authorize(&appid).await;
    let acct = env.account(&appid).await;
    let quiet = acct["quiet_openid"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let path = format!("/cgi-bin/message/custom/send?access_token={aat}");
    let text = |to: &str| json!({"touser": to, "msgtype": "text", "text": {"content": "您好"}});
    let v = env.post(&path, text(&quiet)).await;
    assert_eq!(errcode(&v), 45015);
    assert!(
        v["errmsg"]
            .as_str()
            .is_some_and(|m| m.starts_with("response out of time limit"))
    );

    let m = env
        .post(
            "/__sim/message",
            json!({"authorizer_appid": appid, "openid": quiet, "content": "在吗"}),
        )
        .await;
    assert_eq!(m["ok"], true);
    let pushed = env
        .wait_pushes(1, |_, x| x.contains("<MsgType><![CDATA[text]]>"))
        .await;
    assert_eq!(pushed[0].0.query.get("openid"), Some(&quiet));
    assert_eq!(field(&pushed[0].1, "Content").as_deref(), Some("在吗"));
    for _ in 0..5 {
        assert_eq!(errcode(&env.post(&path, text(&quiet)).await), 0);
    }
    assert_eq!(errcode(&env.post(&path, text(&quiet)).await), 45047);
    env.advance_with_ticket(48.0 * 3600.0).await;
    let (_, aat, _) = env.authorize(&appid).await;
    let path = format!("/cgi-bin/message/custom/send?access_token={aat}");
    assert_eq!(errcode(&env.post(&path, text(&quiet)).await), 45015);
    // A follower from the generated past who wrote within 48 h can be answered.
    let recent = acct["recent_openid"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let env2 = Env::new(cfg()).await;
    let (_, aat2, _) = env2.authorize(&appid).await;
    let v = env2
        .post(
            &format!("/cgi-bin/message/custom/send?access_token={aat2}"),
            text(&recent),
        )
        .await;
    assert_eq!(errcode(&v), 0);
}

#[tokio::test]
async fn uniform_send_is_withdrawn_and_bizsend_needs_a_subscription() {
    let env = Env::new(cfg()).await;
    let mini = env.appid("miniprogram", true).await;
    let (_, aat, _) = env.authorize(&mini).await;
    let v = env
        .post(
            &format!("/cgi-bin/message/wxopen/template/uniform_send?access_token={aat}"),
            json!({"touser": "x"}),
        )
        .await;
    assert_eq!(errcode(&v), 45109);

    let appid = env.appid("service", true).await;
    let (_, aat, _) = env.authorize(&appid).await;
    let fan = env.account(&appid).await["sample_openids"][0]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let body = json!({"touser": fan, "template_id": "sub-tpl-1", "data": {"thing1": {"value": "到货提醒"}}});
    let path = format!("/cgi-bin/message/subscribe/bizsend?access_token={aat}");
    assert_eq!(errcode(&env.post(&path, body.clone()).await), 43101);
    env.post(
        "/__sim/subscribe",
        json!({"authorizer_appid": appid, "openid": fan, "template_id": "sub-tpl-1"}),
    )
    .await;
    assert_eq!(errcode(&env.post(&path, body.clone()).await), 0);
    assert_eq!(errcode(&env.post(&path, body).await), 43101);
}

#[tokio::test]
async fn a_daily_quota_runs_out_with_45009_and_clear_quota_resets_it_ten_times_a_month() {
    let mut c = cfg();
    c.quotas.insert("/cgi-bin/tags/get".into(), 2);
    let env = Env::new(c).await;
    let appid = env.appid("service", true).await;
    let (_, aat, _) = env.authorize(&appid).await;
    let tags = format!("/cgi-bin/tags/get?access_token={aat}");
    assert!(env.get(&tags).await["tags"].is_array());
    assert!(env.get(&tags).await["tags"].is_array());
    assert_eq!(errcode(&env.get(&tags).await), 45009);
    let q = env
        .post(
            &format!("/cgi-bin/openapi/quota/get?access_token={aat}"),
            json!({"cgi_path": "/cgi-bin/tags/get"}),
        )
        .await;
    assert_eq!(
        q["quota"],
        json!({"daily_limit": 2, "used": 2, "remain": 0})
    );
    let unknown = env
        .post(
            &format!("/cgi-bin/openapi/quota/get?access_token={aat}"),
            json!({"cgi_path": "/cgi-bin/nope"}),
        )
        .await;
    assert_eq!(errcode(&unknown), 76021);
    let clear = format!("/cgi-bin/clear_quota?access_token={aat}");
    assert_eq!(errcode(&env.post(&clear, json!({"appid": appid})).await), 0);
    assert!(env.get(&tags).await["tags"].is_array());
    for _ in 1..10 {
        assert_eq!(errcode(&env.post(&clear, json!({"appid": appid})).await), 0);
    }
    assert_eq!(
        errcode(&env.post(&clear, json!({"appid": appid})).await),
        48006
    );
    // A new day restores the quota.
    env.advance_with_ticket(86_400.0).await;
    let (_, aat, _) = env.authorize(&appid).await;
    assert!(
        env.get(&format!("/cgi-bin/tags/get?access_token={aat}"))
            .await["tags"]
            .is_array()
    );
}

#[tokio::test]
async fn user_get_pages_ten_thousand_at_a_time() {
    let env = Env::new(SimConfig {
        followers: 25_000,
        ..cfg()
    })
    .await;
    let appid = env.appid("service", true).await;
    let (_, aat, _) = env.authorize(&appid).await;
    let mut next = String::new();
    let mut seen = std::collections::HashSet::new();
    let mut counts = Vec::new();
    loop {
        let v = env
            .get(&format!(
                "/cgi-bin/user/get?access_token={aat}&next_openid={next}"
            ))
            .await;
        assert_eq!(v["total"], 25_000);
        let ids = v["data"]["openid"].as_array().cloned().unwrap_or_default();
        assert_eq!(v["count"].as_u64(), Some(ids.len() as u64));
        counts.push(ids.len());
        for id in &ids {
            assert!(
                seen.insert(id.as_str().unwrap_or_default().to_string()),
                "duplicate openid"
            );
        }
        next = v["next_openid"].as_str().unwrap_or_default().to_string();
        if next.is_empty() {
            break;
        }
        assert_eq!(Some(&serde_json::Value::String(next.clone())), ids.last());
    }
    assert_eq!(counts, vec![10_000, 10_000, 5_000]);
    assert_eq!(seen.len(), 25_000);

    let first: Vec<_> = seen
        .iter()
        .take(2)
        .map(|o| json!({"openid": o, "lang": "zh_CN"}))
        .collect();
    let v = env
        .post(
            &format!("/cgi-bin/user/info/batchget?access_token={aat}"),
            json!({"user_list": first}),
        )
        .await;
    let users = v["user_info_list"].as_array().cloned().unwrap_or_default();
    assert_eq!(users.len(), 2);
    assert_eq!(users[0]["subscribe"], 1);
    assert!(users[0]["unionid"].is_string());
    let too_many: Vec<_> = seen
        .iter()
        .take(101)
        .map(|o| json!({"openid": o}))
        .collect();
    let v = env
        .post(
            &format!("/cgi-bin/user/info/batchget?access_token={aat}"),
            json!({"user_list": too_many}),
        )
        .await;
    assert_eq!(errcode(&v), 40032);
}

#[tokio::test]
async fn add_template_enforces_keywords_and_the_25_template_limit() {
    let env = Env::new(cfg()).await;
    let (aat, _, _, _) = service(&env).await;
    let path = format!("/cgi-bin/template/api_add_template?access_token={aat}");
    let v = env
        .post(
            &path,
            json!({"template_id_short": "47123", "keyword_name_list": []}),
        )
        .await;
    assert_eq!(errcode(&v), 40246);
    let v = env
        .post(
            &path,
            json!({"template_id_short": "47123", "keyword_name_list": ["不存在"]}),
        )
        .await;
    assert_eq!(errcode(&v), 40246);
    let v = env
        .post(
            &path,
            json!({"template_id_short": "47123", "keyword_name_list": ["商品名称", "订单金额"]}),
        )
        .await;
    let tid = v["template_id"].as_str().unwrap_or_default().to_string();
    assert_eq!(tid.len(), 43);
    let list = env
        .get(&format!(
            "/cgi-bin/template/get_all_private_template?access_token={aat}"
        ))
        .await;
    let added = list["template_list"]
        .as_array()
        .and_then(|l| l.iter().find(|t| t["template_id"] == tid.as_str()).cloned());
    assert_eq!(
        added.map(|t| t["content"].clone()),
        Some(json!(
            "商品名称：{{thing2.DATA}}\n订单金额：{{amount5.DATA}}"
        ))
    );
    let mut n = list["template_list"].as_array().map(Vec::len).unwrap_or(0);
    while n < 25 {
        assert_eq!(
            errcode(
                &env.post(&path, json!({"template_id_short": "TM00015"}))
                    .await
            ),
            0
        );
        n += 1;
    }
    assert_eq!(
        errcode(
            &env.post(&path, json!({"template_id_short": "TM00015"}))
                .await
        ),
        45026
    );
    let del = format!("/cgi-bin/template/del_private_template?access_token={aat}");
    assert_eq!(
        errcode(&env.post(&del, json!({"template_id": tid})).await),
        0
    );
    assert_eq!(
        errcode(&env.post(&del, json!({"template_id": tid})).await),
        40037
    );
}

#[tokio::test]
async fn the_login_page_checks_referer_and_redirect_domains() {
    let env = Env::new(cfg()).await;
    let cat = env.component_token().await;
    let code = env.pre_auth_code(&cat).await;
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let page = |referer: Option<&str>, redirect: &str, extra: &str| {
        let mut r = env.http.get(env.url(&format!(
            "/cgi-bin/componentloginpage?component_appid={CAPPID}&pre_auth_code={}&redirect_uri={}{extra}",
            enc(&code),
            enc(redirect)
        )));
        if let Some(x) = referer {
            r = r.header("Referer", x);
        }
        async move { r.send().await.expect("send").text().await.expect("text") }
    };
    let good_redirect = "http://127.0.0.1:9/auth/callback?state=s1";
    let html = page(None, good_redirect, "").await;
    assert!(html.contains("授权入口页所在域名：空"), "{html}");
    let html = page(Some("http://evil.example.com/start"), good_redirect, "").await;
    assert!(
        html.contains("授权入口页所在域名：evil.example.com"),
        "{html}"
    );
    assert!(!html.contains("authorize-"));
    let html = page(
        Some("http://127.0.0.1:9/auth/start"),
        "http://other.example/cb",
        "",
    )
    .await;
    assert!(html.contains("授权回调页所在域名：other.example"), "{html}");

    let appid = env.appid("service", true).await;
    let mini = env.appid("miniprogram", true).await;
    let html = page(
        Some("http://127.0.0.1:9/auth/start"),
        good_redirect,
        "&auth_type=1",
    )
    .await;
    assert!(
        html.contains(&format!("id=\"authorize-{appid}\"")),
        "{html}"
    );
    assert!(!html.contains(&format!("id=\"authorize-{mini}\"")));
    let html = page(
        Some("http://127.0.0.1:9/auth/start"),
        good_redirect,
        &format!("&biz_appid={mini}"),
    )
    .await;
    assert!(
        html.contains(&format!("id=\"authorize-{mini}\""))
            && !html.contains(&format!("id=\"authorize-{appid}\""))
    );
    let mobile = env
        .http
        .get(env.url(&format!(
            "/wxaopen/safe/bindcomponent?action=bindcomponent&no_scan=1&component_appid={CAPPID}&pre_auth_code={}&redirect_uri={}",
            enc(&code),
            enc(good_redirect)
        )))
        .header("Referer", "http://127.0.0.1/auth/start")
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("text");
    assert!(mobile.contains("授权</button>"));

    // Pressing 授权: a redirect with auth_code and expires_in, appended with `&`.
    let r = env
        .http
        .post(env.url("/__sim/login/confirm"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!(
            "pre_auth_code={}&authorizer_appid={appid}",
            enc(&code)
        ))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 303);
    let to = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(
        to.starts_with(
            "http://127.0.0.1:9/auth/callback?state=s1&auth_code=queryauthcode%40%40%40"
        ),
        "{to}"
    );
    assert!(to.ends_with("&expires_in=600"), "{to}");
    let pushed = env
        .wait_pushes(1, |_, x| x.contains("<InfoType><![CDATA[authorized]]>"))
        .await;
    let code_in_push = field(&pushed[0].1, "AuthorizationCode").unwrap_or_default();
    assert!(to.contains(&enc(&code_in_push)));
    assert_eq!(field(&pushed[0].1, "PreAuthCode"), Some(code.clone()));
    // The code is spent: the page now refuses it.
    let html = page(Some("http://127.0.0.1:9/auth/start"), good_redirect, "").await;
    assert!(html.contains("预授权码已被使用"), "{html}");
}

#[tokio::test]
async fn faults_are_injected_on_demand() {
    let busy = Env::new(SimConfig {
        busy_rate: 1.0,
        ..cfg()
    })
    .await;
    let v = busy
        .get("/cgi-bin/token?grant_type=client_credential&appid=x&secret=y")
        .await;
    assert_eq!(errcode(&v), -1);
    assert!(
        v["errmsg"]
            .as_str()
            .is_some_and(|m| m.starts_with("system error rid: "))
    );
    // Test routes are never faulted.
    assert!(busy.state().await["accounts"].is_array());

    let down = Env::new(SimConfig {
        http5xx_rate: 1.0,
        ..cfg()
    })
    .await;
    let r = down
        .http
        .get(down.url("/cgi-bin/token"))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 503);

    let reset = Env::new(SimConfig {
        reset_rate: 1.0,
        ..cfg()
    })
    .await;
    let r = reset.http.get(reset.url("/cgi-bin/token")).send().await;
    assert!(r.is_err(), "a reset connection gives no answer");

    // Half the calls busy, deterministically: two sims with the same seed agree call by call.
    let run = |seed: u64| async move {
        let env = Env::new(SimConfig {
            busy_rate: 0.5,
            seed,
            ..SimConfig::default()
        })
        .await;
        let mut out = Vec::new();
        for _ in 0..20 {
            out.push(errcode(&env.get("/cgi-bin/token?grant_type=x").await));
        }
        out
    };
    let (a, b) = (run(3).await, run(3).await);
    assert_eq!(a, b);
    assert!(a.contains(&-1) && a.contains(&40002), "{a:?}");
}

#[tokio::test]
async fn mini_program_login_shares_unionids_with_the_same_principal() {
    let env = Env::new(cfg()).await;
    let mini = env.appid("miniprogram", true).await;
    let (cat, _, _) = env.authorize(&mini).await;
    let path = |code: &str| {
        format!(
            "/sns/component/jscode2session?appid={mini}&js_code={code}&grant_type=authorization_code&component_appid={CAPPID}&component_access_token={cat}"
        )
    };
    let v = env.get(&path("code-1")).await;
    assert!(
        v["openid"].is_string() && v["session_key"].is_string(),
        "{v}"
    );
    let union = v["unionid"].as_str().unwrap_or_default().to_string();
    assert_eq!(errcode(&env.get(&path("code-1")).await), 40163);
    // The same person on the service account of the same principal has the same unionid.
    let s = env.state().await;
    let accts = s["accounts"].as_array().cloned().unwrap_or_default();
    let pos = accts
        .iter()
        .position(|a| a["appid"] == mini.as_str())
        .unwrap_or(0);
    let svc = accts[pos - 1]["appid"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(
        accts[pos - 1]["principal_name"],
        accts[pos]["principal_name"]
    );
    let mut found = false;
    for i in 0..1000 {
        let u = env
            .get(&format!("/__sim/openid?appid={svc}&index={i}"))
            .await;
        if u["unionid"] == union.as_str() {
            found = true;
            break;
        }
    }
    assert!(
        found,
        "unionid {union} not among the service account's followers"
    );
}

#[tokio::test]
async fn state_reports_accounts_and_authorizer_info_matches_the_world() {
    let env = Env::new(cfg()).await;
    let s = env.state().await;
    let accts = s["accounts"].as_array().cloned().unwrap_or_default();
    assert_eq!(accts.len(), 5);
    for a in &accts {
        assert!(
            a["appid"]
                .as_str()
                .is_some_and(|x| x.starts_with("wx") && x.len() == 18)
        );
        assert!(
            a["user_name"]
                .as_str()
                .is_some_and(|x| x.starts_with("gh_"))
        );
        assert_eq!(a["followers"], 1000);
    }
    let appid = env.appid("service", true).await;
    let (cat, _, _) = env.authorize(&appid).await;
    let v = env
        .post(
            &format!("/cgi-bin/component/api_get_authorizer_info?component_access_token={cat}"),
            json!({"component_appid": CAPPID, "authorizer_appid": appid}),
        )
        .await;
    let info = &v["authorizer_info"];
    assert_eq!(info["service_type_info"]["id"], 2);
    assert_eq!(info["verify_type_info"]["id"], 0);
    assert!(info.get("MiniProgramInfo").is_none());
    let list = env
        .post(
            &format!("/cgi-bin/component/api_get_authorizer_list?component_access_token={cat}"),
            json!({"component_appid": CAPPID, "offset": 0, "count": 100}),
        )
        .await;
    assert_eq!(list["total_count"], 1);
    assert_eq!(list["list"][0]["authorizer_appid"], appid.as_str());
    let s = env.state().await;
    assert_eq!(s["tokens_issued"]["component"], 1);
    assert_eq!(s["tokens_issued"]["authorizer"], 1);
}
