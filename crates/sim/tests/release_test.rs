//! The 全网发布 automated test (`POST /__sim/release-test`): a platform that answers as WeChat
//! expects passes; one that only says `success` fails the passive-reply case.

mod common;

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use serde_json::{Value, json};
use wxdesk_sim::{
    SANDBOX_COMPONENT_APPID as CAPPID, SANDBOX_COMPONENT_APPSECRET as CSECRET, SimConfig,
};

#[derive(Clone, Default)]
struct Platform {
    sim_url: Arc<Mutex<String>>,
    ticket: Arc<Mutex<String>>,
}

/// What a correct relay + platform do with the release-test pushes.
async fn platform(State(p): State<Platform>, RawQuery(q): RawQuery, body: Bytes) -> String {
    let q: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(q.unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let g = |k: &str| q.get(k).cloned().unwrap_or_default();
    let crypt = common::crypt();
    let Ok(xml) = crypt.decrypt_push(&g("msg_signature"), &g("timestamp"), &g("nonce"), &body)
    else {
        return "bad".into();
    };
    if let Some(t) = common::field(&xml, "ComponentVerifyTicket") {
        *p.ticket.lock().unwrap_or_else(|e| e.into_inner()) = t;
        return "success".into();
    }
    let content = common::field(&xml, "Content").unwrap_or_default();
    let from = common::field(&xml, "FromUserName").unwrap_or_default();
    let to = common::field(&xml, "ToUserName").unwrap_or_default();
    let event = common::field(&xml, "Event").unwrap_or_default();
    let answer = if content == "TESTCOMPONENT_MSG_TYPE_TEXT" {
        Some("TESTCOMPONENT_MSG_TYPE_TEXT_callback".to_string())
    } else if !event.is_empty() {
        Some(format!("{event}from_callback"))
    } else {
        None
    };
    if let Some(text) = answer {
        let reply = format!(
            "<xml><ToUserName><![CDATA[{from}]]></ToUserName><FromUserName><![CDATA[{to}]]></FromUserName><CreateTime>1</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{text}]]></Content></xml>"
        );
        return crypt.encrypt_reply(&reply, "1713424427", &g("nonce"));
    }
    if let Some(code) = content.strip_prefix("QUERY_AUTH_CODE:") {
        let (code, base, ticket) = (
            code.to_string(),
            p.sim_url.lock().unwrap_or_else(|e| e.into_inner()).clone(),
            p.ticket.lock().unwrap_or_else(|e| e.into_inner()).clone(),
        );
        // Answer at once; reply through the API afterwards, as the test expects.
        tokio::spawn(async move {
            let http = reqwest::Client::builder()
                .no_proxy()
                .build()
                .unwrap_or_default();
            let post = |path: String, body: Value| {
                let http = http.clone();
                async move {
                    http.post(path)
                        .json(&body)
                        .send()
                        .await
                        .ok()?
                        .json::<Value>()
                        .await
                        .ok()
                }
            };
            let cat = post(
                format!("{base}/cgi-bin/component/api_component_token"),
                json!({"component_appid": CAPPID, "component_appsecret": CSECRET, "component_verify_ticket": ticket}),
            )
            .await;
            let cat = cat
                .and_then(|v| v["component_access_token"].as_str().map(str::to_string))
                .unwrap_or_default();
            let auth = post(
                format!("{base}/cgi-bin/component/api_query_auth?component_access_token={cat}"),
                json!({"component_appid": CAPPID, "authorization_code": code}),
            )
            .await;
            let aat = auth
                .and_then(|v| {
                    v["authorization_info"]["authorizer_access_token"]
                        .as_str()
                        .map(str::to_string)
                })
                .unwrap_or_default();
            post(
                format!("{base}/cgi-bin/message/custom/send?access_token={aat}"),
                json!({"touser": from, "msgtype": "text", "text": {"content": format!("{code}_from_api")}}),
            )
            .await;
        });
        return String::new();
    }
    "success".into()
}

async fn start(correct: bool) -> (wxdesk_sim::SimHandle, reqwest::Client) {
    let relay = if correct {
        let p = Platform::default();
        let app = Router::new().fallback(platform).with_state(p.clone());
        let l = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", l.local_addr().expect("addr"));
        tokio::spawn(async move {
            let _ = axum::serve(l, app).await;
        });
        let sim = wxdesk_sim::start(SimConfig {
            relay_url: url,
            ..SimConfig::default()
        })
        .await
        .expect("sim");
        *p.sim_url.lock().unwrap_or_else(|e| e.into_inner()) = sim.base_url.clone();
        sim
    } else {
        let (url, _) = common::receiver().await;
        wxdesk_sim::start(SimConfig {
            relay_url: url,
            ..SimConfig::default()
        })
        .await
        .expect("sim")
    };
    (
        relay,
        reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("client"),
    )
}

#[tokio::test]
async fn a_platform_that_answers_as_wechat_expects_passes_the_release_test() {
    let (sim, http) = start(true).await;
    let v: Value = http
        .post(format!("{}/__sim/release-test", sim.base_url))
        .json(&json!({"mini": true, "wait_secs": 5}))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let names: Vec<&str> = v["cases"]
        .as_array()
        .map(|c| c.iter().filter_map(|x| x["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        names,
        vec![
            "ticket",
            "passive_reply",
            "api_reply",
            "event_reply",
            "mini_program_api_reply"
        ]
    );
    assert_eq!(v["passed"], true, "{v}");
    // The test accounts stay out of the admin-facing account list.
    let s = sim.state();
    assert!(
        s["accounts"]
            .as_array()
            .is_some_and(|l| l.iter().all(|a| a["appid"] != "wx9252c5e0bb1836fc"))
    );
}

#[tokio::test]
async fn a_platform_that_only_says_success_fails_the_passive_reply_case() {
    let (sim, http) = start(false).await;
    let v: Value = http
        .post(format!("{}/__sim/release-test", sim.base_url))
        .json(&json!({"wait_secs": 1}))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(v["passed"], false);
    assert_eq!(v["cases"][0]["passed"], true, "{v}");
    assert_eq!(v["cases"][1]["name"], "passive_reply");
    assert_eq!(v["cases"][1]["passed"], false);
    assert_eq!(v["cases"][2]["passed"], false);
    assert!(
        v["cases"][2]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("api_query_auth")),
        "{v}"
    );
}
