//! End to end with wxdesk-sim as WeChat: the sim's ticket push reaches the relay and is the one
//! the sim accepts, and an authorization done in the sim reaches a client already waiting on the
//! relay's long-poll.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{Value, json};
use wxdesk_sim::{
    SANDBOX_COMPONENT_AES_KEY, SANDBOX_COMPONENT_APPSECRET, SANDBOX_COMPONENT_TOKEN, SimConfig,
};

async fn post_json(url: String, body: Value) -> Value {
    client()
        .post(url)
        .json(&body)
        .send()
        .await
        .expect("post")
        .json()
        .await
        .expect("json")
}

#[tokio::test]
async fn a_ticket_and_an_authorization_pushed_by_the_sim_reach_the_relays_clients() {
    let dir = tempfile::tempdir().expect("tempdir");
    let relay = Relay::spawn(
        dir.path(),
        &[
            ("WXDESK_RELAY_COMPONENT_TOKEN", SANDBOX_COMPONENT_TOKEN),
            ("WXDESK_RELAY_COMPONENT_AES_KEY", SANDBOX_COMPONENT_AES_KEY),
        ],
    );
    // The sim pushes its first ticket as soon as it starts.
    let sim = wxdesk_sim::start(SimConfig {
        relay_url: relay.base.clone(),
        ..SimConfig::default()
    })
    .await
    .expect("sim starts");

    // Wait (bounded) for the push to land; this is not a speed assertion.
    let mut ticket = None;
    for _ in 0..100 {
        let (status, body) = api_get(&relay, "/api/v1/ticket").await;
        if status == 200 {
            ticket = body["ticket"].as_str().map(str::to_owned);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ticket = ticket.expect("the sim's ticket reached the relay");

    // The ticket the relay serves is the sim's latest: the sim issues a component token for it.
    let token = post_json(
        format!("{}/cgi-bin/component/api_component_token", sim.base_url),
        json!({
            "component_appid": COMPONENT_APPID,
            "component_appsecret": SANDBOX_COMPONENT_APPSECRET,
            "component_verify_ticket": ticket,
        }),
    )
    .await;
    let cat = token["component_access_token"]
        .as_str()
        .expect("component token issued")
        .to_owned();
    let pre = post_json(
        format!(
            "{}/cgi-bin/component/api_create_preauthcode?component_access_token={cat}",
            sim.base_url
        ),
        json!({ "component_appid": COMPONENT_APPID }),
    )
    .await;
    let pre_auth_code = pre["pre_auth_code"]
        .as_str()
        .expect("pre_auth_code")
        .to_owned();

    // A client waits on the long-poll before anything is authorized.
    let url = relay.url("/api/v1/events?after=0&wait=25");
    let mut waiting = tokio::spawn(async move {
        client()
            .get(url)
            .bearer_auth(API_KEY)
            .send()
            .await
            .expect("poll")
            .json::<Value>()
            .await
            .expect("json")
    });
    assert!(
        tokio::time::timeout(Duration::from_millis(300), &mut waiting)
            .await
            .is_err(),
        "poll is holding"
    );

    let appid = sim.state()["accounts"][0]["appid"]
        .as_str()
        .expect("an account")
        .to_owned();
    let done = post_json(
        format!("{}/__sim/authorize", sim.base_url),
        json!({ "pre_auth_code": pre_auth_code, "authorizer_appid": appid }),
    )
    .await;
    let auth_code = done["auth_code"].as_str().expect("authorized").to_owned();

    let batch = waiting.await.expect("join");
    let ev = &batch["events"][0];
    assert_eq!(ev["kind"], "authorized");
    assert_eq!(ev["appid"], appid.as_str());
    assert_eq!(ev["data"]["authorizer_appid"], appid.as_str());
    assert_eq!(ev["data"]["authorization_code"], auth_code.as_str());
    assert_eq!(ev["data"]["pre_auth_code"], pre_auth_code.as_str());
    sim.shutdown().await;
}
