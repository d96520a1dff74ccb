//! 发送 → 订阅通知 and → 统一服务消息 as an operator uses them, in the sandbox:
//!
//! - a follower accepts the account's 订阅通知 popup (the sim pushes `subscribe_msg_popup_event`
//!   through the app's relay, the app's feed keeps it); the composer's picker lists them as able
//!   to receive the template, the operator picks them, fills the typed fields and sends: the sim's
//!   `/__sim/state` (sends.bizsend_accepted) is the judge;
//! - the 统一服务消息 tab is marked 已被微信下线; attempting it reaches the sim, which answers 45109,
//!   the window says so and offers the replacement, and one click opens the template composer
//!   with the mini-program jump filled in.

mod common;

use std::time::Duration;

use serde_json::{Value, json};
use wxdesk_core::auth::AuthScope;
use wxdesk_e2e::{Error, Harness, RENDER_TIMEOUT, Result};

use common::{SimAccount, authorize_verified_account, start_in_sandbox, wait_for_contains, wd};

/// A seeded one-time 订阅通知 template of the sim's verified service accounts.
const SUBSCRIBE_TITLE: &str = "订单发货提醒";
/// A seeded template message whose keywords take any text (legacy TM…).
const TEMPLATE_TITLE: &str = "订单支付成功";

async fn post(http: &reqwest::Client, url: &str, body: Value) -> Value {
    http.post(url)
        .json(&body)
        .send()
        .await
        .expect("sim reachable")
        .json()
        .await
        .expect("sim answers JSON")
}

/// Polls the sim's state until `done` holds (at most twice the render timeout).
async fn wait_for_sim(
    h: &Harness,
    http: &reqwest::Client,
    sim_url: &str,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Result<Value> {
    let deadline = tokio::time::Instant::now() + RENDER_TIMEOUT * 2;
    loop {
        let state = common::get_json(http, &format!("{sim_url}/__sim/state")).await;
        if done(&state) {
            return Ok(state);
        }
        if tokio::time::Instant::now() >= deadline {
            h.screenshot("messaging-sim-waiting").await?;
            return Err(Error::NotFound(what.into(), state.to_string()));
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[tokio::test]
async fn a_subscription_notice_is_sent_from_the_composer_to_a_user_who_subscribed() -> Result<()> {
    let (dir, h) = start_in_sandbox("subscribe").await?;
    let http = reqwest::Client::new();
    let SimAccount {
        ctx,
        sim_url,
        appid,
        ..
    } = authorize_verified_account(dir.path(), &http).await;
    let template = ctx
        .subscriptions
        .sync(&appid)
        .await
        .expect("subscription templates listed")
        .into_iter()
        .find(|t| t.title == SUBSCRIBE_TITLE)
        .expect("the seeded one-time template");
    let account = common::get_json(&http, &format!("{sim_url}/__sim/accounts/{appid}")).await;
    let fan = account["sample_openids"][1]
        .as_str()
        .expect("a follower")
        .to_owned();
    let seeded = account["subscribe_templates"]
        .as_array()
        .and_then(|l| {
            l.iter()
                .find(|t| t["priTmplId"] == template.template_id.as_str())
        })
        .cloned()
        .expect("the template in the sim");
    // The follower accepts the popup: WeChat pushes it to the app's relay.
    let ok = post(
        &http,
        &format!("{sim_url}/__sim/subscribe"),
        json!({"authorizer_appid": appid, "openid": fan, "template_id": template.template_id}),
    )
    .await;
    assert_eq!(ok["ok"], true, "{ok}");

    h.click("[data-testid=nav-compose]").await?;
    wait_for_contains(&h, "[data-testid=account-picker]", &appid).await?;
    h.click("[data-testid=tab-subscribe]").await?;
    h.click("[data-testid=subscribe-template]").await?;
    h.pick_option(SUBSCRIBE_TITLE).await?;
    // The picker lists who can receive it once the app's feed has the accept.
    let row = format!("[data-testid=subscribe-receivers] tr[data-row-key='{fan}']");
    let deadline = tokio::time::Instant::now() + RENDER_TIMEOUT * 2;
    while h.client.find(fantoccini::Locator::Css(&row)).await.is_err() {
        if tokio::time::Instant::now() >= deadline {
            h.screenshot("subscribe-no-receiver").await?;
            return Err(Error::NotFound(row, "the subscriber never appeared".into()));
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let picker = h.text("[data-testid=subscribe-receivers]").await?;
    assert!(picker.contains("剩余 1 次"), "{picker:?}");
    h.click(&format!("{row} input[type=radio]")).await?;
    let keys = seeded["keys"].as_array().expect("keys");
    let examples = seeded["examples"].as_array().expect("examples");
    for (k, v) in keys.iter().zip(examples) {
        let key = k.as_str().expect("key");
        h.wait_for(&format!("[data-testid=subscribe-field-{key}]"))
            .await?
            .send_keys(v.as_str().expect("example"))
            .await
            .map_err(wd("typing a value"))?;
    }
    wait_for_contains(&h, "[data-testid=subscribe-reach]", "全部可接收").await?;
    h.screenshot("subscribe-ready").await?;
    h.click("[data-testid=subscribe-send]").await?;
    h.wait_for_route("/jobs").await?;
    let state = wait_for_sim(&h, &http, &sim_url, "the notice at the sim", |s| {
        s["sends"]["bizsend_accepted"] == 1
    })
    .await?;
    assert_eq!(state["sends"]["bizsend_accepted"], 1);
    h.screenshot("subscribe-sent").await?;
    h.shutdown().await;
    Ok(())
}

async fn input_value(h: &Harness, css: &str) -> Result<String> {
    let v = h
        .client
        .execute(
            "const el = document.querySelector(arguments[0]); return el ? el.value : null;",
            vec![Value::String(css.to_owned())],
        )
        .await
        .map_err(wd("reading an input"))?;
    Ok(v.as_str().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn the_withdrawn_unified_message_shows_45109_and_offers_the_replacement() -> Result<()> {
    let (dir, h) = start_in_sandbox("uniform").await?;
    let http = reqwest::Client::new();
    let SimAccount {
        ctx,
        sim_url,
        appid,
        ..
    } = authorize_verified_account(dir.path(), &http).await;
    ctx.templates.sync(&appid).await.expect("templates synced");
    let world = common::get_json(&http, &format!("{sim_url}/__sim/state")).await;
    let mini = world["accounts"]
        .as_array()
        .and_then(|a| {
            a.iter()
                .find(|a| a["kind"] == "miniprogram" && a["verified"] == true)
                .cloned()
        })
        .expect("a verified mini program in the sim's world");
    let mini_appid = mini["appid"].as_str().expect("appid").to_owned();
    let mini_name = mini["nickname"].as_str().expect("nickname").to_owned();
    common::authorize_through_sim(&ctx, &http, &sim_url, &mini_appid, AuthScope::Mini).await;
    let user = common::get_json(
        &http,
        &format!("{sim_url}/__sim/openid?appid={mini_appid}&index=1"),
    )
    .await["openid"]
        .as_str()
        .expect("a mini-program user")
        .to_owned();

    h.click("[data-testid=nav-compose]").await?;
    wait_for_contains(&h, "[data-testid=account-picker]", &appid).await?;
    let tab = h.text("[data-testid=tab-uniform]").await?;
    assert!(tab.contains("已被微信下线"), "marked withdrawn: {tab:?}");
    h.click("[data-testid=tab-uniform]").await?;
    h.click("[data-testid=uniform-mini]").await?;
    h.pick_option(&mini_name).await?;
    h.click("[data-testid=uniform-template]").await?;
    h.pick_option(TEMPLATE_TITLE).await?;
    h.wait_for("[data-testid=uniform-to]")
        .await?
        .send_keys(&user)
        .await
        .map_err(wd("typing the openid"))?;
    h.click("[data-testid=uniform-attempt]").await?;
    let refusal = wait_for_contains(&h, "[data-testid=uniform-refusal]", "45109").await?;
    assert!(
        refusal.contains("模板消息"),
        "names the replacement: {refusal:?}"
    );
    h.screenshot("uniform-45109").await?;
    // It did reach WeChat (the sim): the attempt is in 发送记录 with WeChat's answer.
    let rows = ctx
        .history
        .list(Default::default(), None, None)
        .await
        .expect("history");
    assert!(
        rows.rows
            .iter()
            .any(|r| r.errcode == Some(45109) && r.openid == user),
        "{:?}",
        rows.rows
    );

    // One click: the template composer with the mini-program jump filled in.
    h.click("[data-testid=uniform-replace]").await?;
    h.click("[data-testid=compose-template]").await?;
    h.pick_option(TEMPLATE_TITLE).await?;
    h.wait_for("[data-testid=compose-mini-appid]").await?;
    assert_eq!(
        input_value(&h, "[data-testid=compose-mini-appid]").await?,
        mini_appid
    );
    assert_eq!(
        input_value(&h, "[data-testid=compose-mini-page]").await?,
        "pages/index/index"
    );
    // The preview draws the message opening the mini program.
    let preview = wait_for_contains(&h, "[data-testid=compose-preview]", "进入小程序查看").await?;
    assert!(preview.contains(&mini_appid), "{preview:?}");
    h.screenshot("uniform-replacement").await?;
    h.shutdown().await;
    Ok(())
}
