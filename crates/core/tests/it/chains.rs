//! Three chains tested whole, each with every link real (wxdesk-sim, wxdesk-relay, the app's own
//! feed follower with the handlers `Context` registers), so cutting one link fails the test:
//!
//! 1. a template message's delivery report: the sim's TEMPLATESENDJOBFINISH → the relay → the
//!    app's feed → the 发送记录 row's 已送达 (the delivery handler's registration is a link);
//! 2. the 全网发布 release test the sim runs against the relay (passive replies, the event case)
//!    and the app's feed follower (QUERY_AUTH_CODE → api_query_auth + customer-service reply);
//! 3. sending with egress through the relay: WeChat's IP whitelist admits only the relay's
//!    address, and the sim sees every API call come from it.
#![allow(clippy::unwrap_used)]

use crate::messaging_support;

use std::collections::HashMap;
use std::net::TcpListener;
use std::time::Duration;

use messaging_support::World;
use serde_json::json;
use tokio_util::sync::CancellationToken;
use wxdesk_core::compose::{Jump, RecipientSource, TemplateDraft};
use wxdesk_core::context::Context;
use wxdesk_core::platform::{Egress, Mode, SettingsInput};
use wxdesk_core::secrets::{Secret, Secrets};
use wxdesk_core::send::{Delivery, HistoryFilter, JobStatus};
use wxdesk_relay::RelayConfig;
use wxdesk_sim::SimConfig;

/// A legacy template (keywordN take any short text) and a draft of it to `openid`.
async fn legacy_draft(ctx: &Context, oa: &str) -> TemplateDraft {
    ctx.templates.sync(oa).await.unwrap();
    let t = ctx
        .templates
        .list(oa)
        .await
        .unwrap()
        .into_iter()
        .find(|t| {
            t.fields
                .iter()
                .all(|f| f.key.starts_with("keyword") || f.key == "first" || f.key == "remark")
        })
        .unwrap();
    TemplateDraft {
        appid: oa.to_string(),
        data: t
            .fields
            .iter()
            .filter(|f| f.key.starts_with("keyword"))
            .map(|f| (f.key.clone(), "已发货".to_string()))
            .collect(),
        template_id: t.template_id,
        title: String::new(),
        jump: Jump::None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_report_travels_sim_relay_feed_to_the_history_row() {
    let w = World::start().await;
    w.ctx.sends.share_lock_when_idle();
    let draft = legacy_draft(&w.ctx, &w.oa).await;
    let (to, _) = w.openid(&w.oa, 3).await;
    let job_id = w
        .ctx
        .sends
        .start_draft(&draft, &RecipientSource::Openid { openid: to.clone() })
        .await
        .unwrap();
    assert_eq!(
        w.ctx.sends.wait_idle(job_id).await.unwrap().status,
        JobStatus::Completed
    );
    let filter = HistoryFilter {
        job_id: Some(job_id),
        ..Default::default()
    };
    let row = &w
        .ctx
        .history
        .list(filter.clone(), None, None)
        .await
        .unwrap()
        .rows[0];
    assert_eq!(row.delivery, Some(Delivery::Pending));
    // Only the pushed report can move it: the sim pushed it to the relay, the feed applies it.
    w.feed_until("the delivery report", || async {
        w.ctx
            .history
            .list(filter.clone(), None, None)
            .await
            .unwrap()
            .rows[0]
            .delivery
            == Some(Delivery::Delivered)
    })
    .await;
    let row = &w.ctx.history.list(filter, None, None).await.unwrap().rows[0];
    assert_eq!(row.delivery_raw.as_deref(), Some("success"));
    assert!(row.delivered_at.is_some());
    assert_eq!(w.ctx.sends.job(job_id).await.unwrap().counts.delivered, 1);
    w.sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_release_test_passes_against_the_relay_and_the_apps_feed_follower() {
    let w = World::start().await;
    let cancel = CancellationToken::new();
    let (feed, _notices) = w.ctx.spawn_feed(cancel.clone()).await.unwrap();
    let result = w
        .sim_post(
            "/__sim/release-test",
            json!({"mini": true, "wait_secs": 20}),
        )
        .await;
    let cases: Vec<(String, bool)> = result["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap().to_string(), c["passed"] == true))
        .collect();
    assert_eq!(
        cases,
        [
            "ticket",
            "passive_reply",
            "api_reply",
            "event_reply",
            "mini_program_api_reply"
        ]
        .map(|n| (n.to_string(), true))
        .to_vec(),
        "{result}"
    );
    assert_eq!(result["passed"], true);
    cancel.cancel();
    let _ = feed.await;
    w.sandbox.shutdown().await;
}

/// Without the app's feed following the relay, nobody answers QUERY_AUTH_CODE: the API cases
/// fail (the relay's passive replies still pass) — the feed is a link of the chain above.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_feed_follower_the_api_reply_cases_fail() {
    let w = World::start().await;
    let result = w
        .sim_post("/__sim/release-test", json!({"wait_secs": 2}))
        .await;
    let passed: HashMap<String, bool> = result["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap().to_string(), c["passed"] == true))
        .collect();
    assert!(passed["passive_reply"], "{result}");
    assert!(passed["event_reply"], "{result}");
    assert!(!passed["api_reply"], "{result}");
    w.sandbox.shutdown().await;
}

fn free_port() -> u16 {
    TcpListener::bind(("127.0.0.1", 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The relay's egress calls WeChat from 127.0.0.2 (`egress_source_ip`), the only address in the
/// platform's whitelist: the app authorizes, syncs templates and sends through it, and the sim
/// sees every API call come from the relay's address. A call from this machine directly gets
/// 61004.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_sent_with_egress_through_the_relay_come_from_the_relays_address() {
    const RELAY_IP: &str = "127.0.0.2";
    const KEY: &str = "egress-chain-relay-key-0123456789";
    let dir = tempfile::tempdir().unwrap();
    let (relay_port, sim_port) = (free_port(), free_port());
    let sim_url = format!("http://127.0.0.1:{sim_port}");
    let relay_url = format!("http://127.0.0.1:{relay_port}");
    let env: HashMap<&str, String> = HashMap::from([
        ("WXDESK_RELAY_LISTEN", format!("127.0.0.1:{relay_port}")),
        (
            "WXDESK_RELAY_DATA_DIR",
            dir.path().join("relay").display().to_string(),
        ),
        (
            "WXDESK_RELAY_COMPONENT_APPID",
            wxdesk_sim::SANDBOX_COMPONENT_APPID.into(),
        ),
        (
            "WXDESK_RELAY_COMPONENT_TOKEN",
            wxdesk_sim::SANDBOX_COMPONENT_TOKEN.into(),
        ),
        (
            "WXDESK_RELAY_COMPONENT_AES_KEY",
            wxdesk_sim::SANDBOX_COMPONENT_AES_KEY.into(),
        ),
        ("WXDESK_RELAY_API_KEY", KEY.into()),
        ("WXDESK_RELAY_PUBLIC_BASE_URL", relay_url.clone()),
        ("WXDESK_RELAY_UPSTREAM", sim_url.clone()),
        ("WXDESK_RELAY_LOGIN_BASE", sim_url.clone()),
        ("WXDESK_RELAY_EGRESS_SOURCE_IP", RELAY_IP.into()),
    ]);
    let relay =
        wxdesk_relay::start(RelayConfig::load_with_env(None, |k| env.get(k).cloned()).unwrap())
            .await
            .unwrap();
    let cfg = messaging_support::cfg();
    let accounts = messaging_support::accounts(&cfg);
    let oa = accounts[0].0.clone();
    let sim = wxdesk_sim::start(SimConfig {
        listen: format!("127.0.0.1:{sim_port}"),
        relay_url: relay.base_url.clone(),
        ip_whitelist: vec![RELAY_IP.into()],
        authorized: vec![wxdesk_sim::PreAuthorized {
            appid: oa.clone(),
            refresh_token: "refreshtoken@@@egress-chain".into(),
        }],
        ..cfg
    })
    .await
    .unwrap();

    let ctx = Context::open_with_secrets(&dir.path().join("app"), Secrets::memory())
        .await
        .unwrap();
    ctx.platform
        .save_settings(SettingsInput {
            mode: Mode::Sandbox,
            component_appid: wxdesk_sim::SANDBOX_COMPONENT_APPID.into(),
            relay_url: relay.base_url.clone(),
            egress: Egress::Relay,
            api_base: Some(sim.base_url.clone()),
            component_appsecret: Some(Secret::new(wxdesk_sim::SANDBOX_COMPONENT_APPSECRET)),
            component_token: Some(Secret::new(wxdesk_sim::SANDBOX_COMPONENT_TOKEN)),
            component_aes_key: Some(Secret::new(wxdesk_sim::SANDBOX_COMPONENT_AES_KEY)),
            relay_key: Some(Secret::new(KEY)),
        })
        .await
        .unwrap();
    ctx.sends.share_lock_when_idle();
    let relay_client = ctx.platform.relay().await.unwrap();
    for _ in 0..200 {
        if relay_client.fetch_ticket().await.unwrap().is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let report = ctx.accounts.recover_refresh_tokens().await.unwrap();
    assert_eq!(report.added, vec![oa.clone()]);

    let draft = legacy_draft(&ctx, &oa).await;
    let http = reqwest::Client::new();
    let mut csv = String::from("openid\n");
    for i in 0..3 {
        let v: serde_json::Value = http
            .get(format!(
                "{}/__sim/openid?appid={oa}&index={i}",
                sim.base_url
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        csv.push_str(v["openid"].as_str().unwrap());
        csv.push('\n');
    }
    let file = dir.path().join("three.csv");
    std::fs::write(&file, csv).unwrap();
    let job_id = ctx
        .sends
        .start_draft(
            &draft,
            &RecipientSource::File {
                path: file.display().to_string(),
            },
        )
        .await
        .unwrap();
    let job = ctx.sends.wait_idle(job_id).await.unwrap();
    assert_eq!(job.status, JobStatus::Completed, "{job:?}");
    assert_eq!(job.counts.sent, 3);

    let state = sim.state();
    assert_eq!(state["sends"]["accepted"], 3);
    let callers: Vec<&String> = state["callers"].as_object().unwrap().keys().collect();
    assert_eq!(callers, vec![RELAY_IP], "{}", state["callers"]);
    // The whitelist is real: the same call from this machine's own address is refused.
    let direct: serde_json::Value = http
        .get(format!(
            "{}/cgi-bin/template/get_industry?access_token=x",
            sim.base_url
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(direct["errcode"], 61004);
    sim.shutdown().await;
    relay.shutdown().await;
}
