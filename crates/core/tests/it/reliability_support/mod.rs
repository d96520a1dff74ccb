//! Helpers shared by the reliability tests that run against the sandbox.
#![allow(dead_code, clippy::unwrap_used)]

use serde_json::Value;
use wxdesk_core::backup::KdfParams;
use wxdesk_core::platform::Platform;
use wxdesk_core::send::{EngineConfig, JobSpec, JobStatus, Payload, Recipient, SendEngine};

use crate::support::World;

/// Cheap enough for a debug build; a backup file records the parameters it was made with, so
/// import is the same as with the app's defaults.
pub const TEST_KDF: KdfParams = KdfParams {
    m_cost_kib: 1024,
    t_cost: 1,
    p_cost: 1,
};

async fn get(http: &reqwest::Client, url: &str) -> Value {
    http.get(url).send().await.unwrap().json().await.unwrap()
}

/// A template of the account without const/enum keywords, filled from its example, and `n`
/// followers — read with the account's own token from the sim (not through the workspace).
pub async fn template_and_followers(w: &World, appid: &str, n: usize) -> (Payload, Vec<String>) {
    let sim = &w.sandbox.sim_url;
    let acct = get(&w.http, &format!("{sim}/__sim/accounts/{appid}")).await;
    let secret = acct["appsecret"].as_str().unwrap();
    let tok = get(
        &w.http,
        &format!("{sim}/cgi-bin/token?grant_type=client_credential&appid={appid}&secret={secret}"),
    )
    .await;
    let token = tok["access_token"].as_str().unwrap();
    let list = get(
        &w.http,
        &format!("{sim}/cgi-bin/template/get_all_private_template?access_token={token}"),
    )
    .await;
    let t = list["template_list"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| {
            let c = t["content"].as_str().unwrap_or_default();
            !c.contains("const") && !c.contains("enum") && c.contains("{{")
        })
        .unwrap();
    let fields = wxdesk_core::templates::keywords::parse_content(t["content"].as_str().unwrap());
    let data = fields
        .iter()
        .zip(t["example"].as_str().unwrap_or_default().lines())
        .map(|(f, l)| {
            (
                f.key.clone(),
                l.split_once('：').map_or(l, |(_, v)| v).to_string(),
            )
        })
        .collect();
    let users = get(
        &w.http,
        &format!("{sim}/cgi-bin/user/get?access_token={token}&next_openid="),
    )
    .await;
    let openids: Vec<String> = users["data"]["openid"]
        .as_array()
        .unwrap()
        .iter()
        .take(n)
        .map(|o| o.as_str().unwrap().to_string())
        .collect();
    assert_eq!(openids.len(), n);
    (
        Payload::Template {
            template_id: t["template_id"].as_str().unwrap().to_string(),
            data,
            url: None,
            miniprogram: None,
        },
        openids,
    )
}

/// A restored workspace (`platform`) sends one template message through the restored account
/// `oa`: the job completes with 1 sent, the sim starts no new authorization, issues exactly one
/// authorizer token (from the restored refresh token) and accepts the message.
pub async fn assert_restored_account_sends_once(w: &World, platform: &Platform, oa: &str) {
    let before = w.sandbox.sim_state();
    let (payload, mut openids) = template_and_followers(w, oa, 1).await;
    let engine = engine_over(platform, EngineConfig::default()).await;
    let job = engine
        .create_job(
            JobSpec {
                appid: oa.to_string(),
                title: "恢复后发送".into(),
                payload,
                field_rules: Vec::new(),
                concurrency: Some(1),
                rate_per_sec: None,
                max_attempts: Some(5),
            },
            vec![Recipient::new(openids.remove(0))],
        )
        .await
        .unwrap();
    engine.start(job).await.unwrap();
    let done = engine.wait_idle(job).await.unwrap();
    assert_eq!(
        (done.status, done.counts.sent),
        (JobStatus::Completed, 1),
        "{done:?}"
    );
    let after = w.sandbox.sim_state();
    let issued = |s: &Value, k: &str| s["tokens_issued"][k].as_u64().unwrap();
    assert_eq!(
        issued(&after, "pre_auth_code"),
        issued(&before, "pre_auth_code"),
        "no new authorization was started"
    );
    assert_eq!(
        issued(&after, "authorizer"),
        issued(&before, "authorizer") + 1,
        "the restored refresh token got one authorizer token"
    );
    let sends = |s: &Value| {
        s["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["appid"] == oa)
            .unwrap()["sends"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(sends(&after), sends(&before) + 1, "the sim got the message");
}

/// A send engine whose rate limits are far above anything a test reaches, so `concurrency`
/// sends are in flight at once (the token-storm tests).
pub async fn storm_engine(platform: &Platform, concurrency: usize) -> SendEngine {
    engine_over(
        platform,
        EngineConfig {
            concurrency: concurrency as u32,
            rate_per_sec: 100_000,
            account_rate_per_sec: 100_000,
            ..EngineConfig::default()
        },
    )
    .await
}

/// A job of `payload` for `appid` with `concurrency` sends in flight, no effective rate limit
/// and up to 5 attempts per recipient (the token-storm tests).
pub fn storm_job(appid: &str, title: &str, payload: Payload, concurrency: usize) -> JobSpec {
    JobSpec {
        appid: appid.to_string(),
        title: title.into(),
        payload,
        field_rules: Vec::new(),
        concurrency: Some(concurrency as u32),
        rate_per_sec: Some(100_000),
        max_attempts: Some(5),
    }
}

/// The send engine over the platform's saved connection, as the engine host builds it.
pub async fn engine_over(platform: &Platform, cfg: EngineConfig) -> SendEngine {
    let api = wxdesk_core::send::platform::platform_send_api(platform)
        .await
        .unwrap();
    SendEngine::new(platform.store().clone(), api, cfg)
}
