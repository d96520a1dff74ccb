//! Sending, followers, quotas, pushes and faults, over real HTTP on loopback.

mod common;

use common::{Env, errcode, field};
use serde_json::{Value, json};
use wxdesk_sim::{SANDBOX_COMPONENT_APPID as CAPPID, SimConfig};

fn cfg() -> SimConfig {
    SimConfig {
        seed: 7,
        ..SimConfig::default()
    }
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
    let tpl = &env.account(&appid).await["subscribe_templates"][0];
    let id = tpl["priTmplId"].as_str().unwrap_or_default().to_string();
    let data: serde_json::Map<String, Value> = tpl["keys"]
        .as_array()
        .into_iter()
        .flatten()
        .zip(tpl["examples"].as_array().into_iter().flatten())
        .map(|(k, v)| {
            (
                k.as_str().unwrap_or_default().to_string(),
                json!({"value": v}),
            )
        })
        .collect();
    let body = json!({"touser": fan, "template_id": id, "data": data});
    let path = format!("/cgi-bin/message/subscribe/bizsend?access_token={aat}");
    assert_eq!(errcode(&env.post(&path, body.clone()).await), 43101);
    env.post(
        "/__sim/subscribe",
        json!({"authorizer_appid": appid, "openid": fan, "template_id": id}),
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
async fn unfollowing_and_following_change_who_can_be_sent_to_and_are_pushed() {
    let env = Env::new(SimConfig {
        followers: 30,
        ..cfg()
    })
    .await;
    let (aat, appid, tid, _) = service(&env).await;
    let acct = env.account(&appid).await;
    let fan = acct["sample_openids"][0]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let former = acct["former_openid"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let follow =
        |openid: &str, f: bool| json!({"authorizer_appid": appid, "openid": openid, "follow": f});
    assert_eq!(
        env.post("/__sim/follow", follow(&fan, false)).await["following"],
        false
    );
    let pushed = env
        .wait_pushes(1, |_, x| x.contains("<Event><![CDATA[unsubscribe]]>"))
        .await;
    assert_eq!(pushed[0].0.query.get("openid"), Some(&fan));
    assert_eq!(field(&pushed[0].1, "FromUserName"), Some(fan.clone()));
    let send = format!("/cgi-bin/message/template/send?access_token={aat}");
    let body = |to: &str| json!({"touser": to, "template_id": tid, "data": order_data("绿茶")});
    assert_eq!(errcode(&env.post(&send, body(&fan)).await), 43004);

    env.post("/__sim/follow", follow(&former, true)).await;
    env.wait_pushes(1, |_, x| x.contains("<Event><![CDATA[subscribe]]>"))
        .await;
    assert_eq!(errcode(&env.post(&send, body(&former)).await), 0);

    let v = env
        .get(&format!("/cgi-bin/user/get?access_token={aat}"))
        .await;
    assert_eq!(v["total"], 30);
    let ids: Vec<String> = v["data"]["openid"]
        .as_array()
        .map(|l| {
            l.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(ids.len(), 30);
    assert!(!ids.contains(&fan));
    assert_eq!(ids.last(), Some(&former));
    assert_eq!(v["next_openid"], "");
    let info = env
        .post(
            &format!("/cgi-bin/user/info/batchget?access_token={aat}"),
            json!({"user_list": [{"openid": fan}, {"openid": former}]}),
        )
        .await;
    assert_eq!(
        info["user_info_list"][0],
        json!({"subscribe": 0, "openid": fan})
    );
    assert_eq!(info["user_info_list"][1]["subscribe"], 1);
}

#[tokio::test]
async fn industry_and_stable_token_behave_as_documented() {
    let env = Env::new(cfg()).await;
    let (aat, appid, _, _) = service(&env).await;
    let set = format!("/cgi-bin/template/api_set_industry?access_token={aat}");
    assert_eq!(
        errcode(
            &env.post(&set, json!({"industry_id1": "999", "industry_id2": "1"}))
                .await
        ),
        40102
    );
    assert_eq!(
        errcode(
            &env.post(&set, json!({"industry_id1": "10", "industry_id2": "26"}))
                .await
        ),
        0
    );
    let v = env
        .get(&format!(
            "/cgi-bin/template/get_industry?access_token={aat}"
        ))
        .await;
    assert_eq!(
        v["primary_industry"],
        json!({"first_class": "交通工具", "second_class": "停车服务"})
    );
    assert_eq!(
        v["secondary_industry"],
        json!({"first_class": "生活服务", "second_class": "快递"})
    );

    let secret = env.account(&appid).await["appsecret"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let stable = |force: bool| json!({"grant_type": "client_credential", "appid": appid, "secret": secret, "force_refresh": force});
    let a = env.post("/cgi-bin/stable_token", stable(false)).await;
    let b = env.post("/cgi-bin/stable_token", stable(false)).await;
    assert_eq!(a["access_token"], b["access_token"]);
    let c = env.post("/cgi-bin/stable_token", stable(true)).await;
    assert_ne!(a["access_token"], c["access_token"]);
    assert_eq!(c["expires_in"], 7200);
    // A subscription account cannot use template messages at all.
    let sub = env.appid("subscription", true).await;
    let (_, sub_aat, _) = env.authorize(&sub).await;
    let v = env
        .get(&format!(
            "/cgi-bin/template/get_all_private_template?access_token={sub_aat}"
        ))
        .await;
    assert_eq!(errcode(&v), 48001);
}

#[tokio::test]
async fn a_million_followers_per_account_are_served_without_being_stored() {
    let env = Env::new(SimConfig {
        followers: 1_000_000,
        ..cfg()
    })
    .await;
    let appid = env.appid("service", true).await;
    let (_, aat, _) = env.authorize(&appid).await;
    let cursor = env
        .get(&format!("/__sim/openid?appid={appid}&index=989999"))
        .await["openid"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let v = env
        .get(&format!(
            "/cgi-bin/user/get?access_token={aat}&next_openid={cursor}"
        ))
        .await;
    assert_eq!(v["total"], 1_000_000);
    assert_eq!(v["count"], 10_000);
    assert_eq!(v["next_openid"], "");
    let last = env
        .get(&format!("/__sim/openid?appid={appid}&index=999999"))
        .await["openid"]
        .clone();
    assert_eq!(v["data"]["openid"][9999], last);
}
