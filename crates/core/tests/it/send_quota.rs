//! The template-send quota left today (openapi/quota/get) through the platform's authorizer
//! token, against the real sandbox (wxdesk-sim + wxdesk-relay on loopback) with a small
//! configured daily quota: it starts at the limit, drops by exactly what the sim accepted from a
//! job, and is 0 once a job has paused on 45009. The sim's /__sim/state is the judge.
#![allow(clippy::unwrap_used)]

use crate::support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use wxdesk_core::auth::{AuthScope, Authorizer};
use wxdesk_core::platform::Platform;
use wxdesk_core::sandbox::{Sandbox, start_sandbox_with};
use wxdesk_core::secrets::{MemoryStore, Secret, Secrets};
use wxdesk_core::send::platform::platform_send_api;
use wxdesk_core::send::quota::{ApiQuota, TEMPLATE_SEND_PATH, api_quota, template_send_quota};
use wxdesk_core::send::{EngineConfig, JobSpec, JobStatus, Payload, Recipient, SendEngine};
use wxdesk_core::store::Store;
use wxdesk_core::templates::keywords::parse_content;
use wxdesk_sim::SimConfig;

use support::{sim_authorize, sim_openid};

struct Env {
    _dir: tempfile::TempDir,
    store: Store,
    platform: Platform,
    sandbox: Sandbox,
    http: reqwest::Client,
    appid: String,
}

impl Env {
    /// The sandbox with `quotas` (API path → daily limit), and its verified official account
    /// authorized the way an admin does it (pre_auth_code, 授权 on the sim, the code completed).
    async fn start(quotas: &[(&str, u64)]) -> Env {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in_dir(dir.path()).await.unwrap();
        let platform = Platform::new(
            store.clone(),
            Secrets::new(Arc::new(MemoryStore::default())),
        );
        let sandbox = start_sandbox_with(&platform, dir.path(), |c: &mut SimConfig| {
            for (path, n) in quotas {
                c.quotas.insert((*path).to_string(), *n);
            }
        })
        .await
        .unwrap();
        let appid = crate::send_support::sim::verified_service_account(&sandbox.sim_state());
        let env = Env {
            _dir: dir,
            store,
            platform,
            sandbox,
            http: reqwest::Client::builder().no_proxy().build().unwrap(),
            appid,
        };
        env.authorize().await;
        env
    }

    async fn authorize(&self) {
        let authorizer = Authorizer::new(self.platform.clone());
        let mut start = None;
        // The first pre_auth_code needs the sim's first ticket to have reached the relay.
        for _ in 0..100 {
            match authorizer
                .begin_authorization(AuthScope::Oa, false, Some(&self.appid))
                .await
            {
                Ok(s) => {
                    start = Some(s);
                    break;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
        let start = start.unwrap();
        let answer = sim_authorize(
            &self.http,
            &self.sandbox.sim_url,
            &start.pre_auth_code,
            &self.appid,
        )
        .await;
        let code = answer["auth_code"].as_str().unwrap().to_string();
        authorizer
            .complete_authorization(&Secret::new(code))
            .await
            .unwrap();
    }

    /// Template sends the sim accepted for the account (/__sim/state `accounts[].sends`).
    fn sim_accepted(&self) -> u64 {
        self.sandbox.sim_state()["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["appid"] == self.appid.as_str())
            .and_then(|a| a["sends"].as_u64())
            .unwrap()
    }

    async fn quota(&self) -> ApiQuota {
        let api = self.platform.api().await.unwrap();
        template_send_quota(&api, &self.appid).await.unwrap()
    }

    /// A template of the account without const/enum fields, filled from its own example.
    async fn spec(&self) -> JobSpec {
        let api = self.platform.api().await.unwrap();
        let token = api.authorizer_token(&self.appid).await.unwrap();
        let list = api.client().template_list(&token).await.unwrap();
        let (template_id, data) = list
            .iter()
            .find_map(|t| {
                let fields = parse_content(&t.content);
                let typed_const = fields
                    .iter()
                    .any(|f| f.key.starts_with("const") || f.key.starts_with("enum"));
                let data: BTreeMap<String, String> = fields
                    .iter()
                    .zip(t.example.lines())
                    .map(|(f, line)| {
                        let v = line.split_once('：').map_or(line, |(_, v)| v);
                        (f.key.clone(), v.to_string())
                    })
                    .collect();
                (!typed_const && !fields.is_empty() && data.len() == fields.len())
                    .then(|| (t.template_id.clone(), data))
            })
            .unwrap();
        JobSpec {
            appid: self.appid.clone(),
            title: "额度测试".into(),
            payload: Payload::Template {
                template_id,
                data,
                url: None,
                miniprogram: None,
            },
            field_rules: Vec::new(),
            concurrency: Some(4),
            rate_per_sec: Some(10_000),
            max_attempts: Some(3),
        }
    }

    /// Followers `from..to` of the account.
    async fn recipients(&self, from: u32, to: u32) -> Vec<Recipient> {
        let mut out = Vec::new();
        for i in from..to {
            let openid = sim_openid(&self.http, &self.sandbox.sim_url, &self.appid, i).await;
            out.push(Recipient::new(openid));
        }
        out
    }

    async fn engine(&self) -> SendEngine {
        let api = platform_send_api(&self.platform).await.unwrap();
        SendEngine::new(self.store.clone(), api, EngineConfig::default())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remaining_quota_is_the_limit_minus_what_the_sim_accepted_and_zero_after_a_45009_pause() {
    let env = Env::start(&[(TEMPLATE_SEND_PATH, 25)]).await;
    assert_eq!(
        env.quota().await,
        ApiQuota {
            daily_limit: 25,
            used: 0,
            remaining: 25
        }
    );

    let engine = env.engine().await;
    let spec = env.spec().await;
    let first = engine
        .create_and_start(spec.clone(), env.recipients(0, 10).await)
        .await
        .unwrap();
    let job = engine.wait_idle(first).await.unwrap();
    assert_eq!((job.status, job.counts.sent), (JobStatus::Completed, 10));
    assert_eq!(env.sim_accepted(), 10);
    let q = env.quota().await;
    assert_eq!(
        q,
        ApiQuota {
            daily_limit: 25,
            used: 10,
            remaining: 25 - env.sim_accepted()
        }
    );
    assert!(!q.covers(20), "20 more recipients exceed the 15 left");

    // The next job has more recipients than are left: the sim accepts 15, then 45009 pauses it.
    let second = engine
        .create_and_start(spec, env.recipients(10, 30).await)
        .await
        .unwrap();
    let job = engine.wait_idle(second).await.unwrap();
    assert_eq!(job.status, JobStatus::PausedQuota);
    assert_eq!((job.counts.sent, job.counts.pending()), (15, 5));
    assert_eq!(env.sim_accepted(), 25);
    assert_eq!(
        env.quota().await,
        ApiQuota {
            daily_limit: 25,
            used: 25,
            remaining: 0
        }
    );
    env.sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quota_get_errors_say_in_chinese_what_failed_and_its_own_limit_is_not_the_send_quota() {
    let env = Env::start(&[("/cgi-bin/openapi/quota/get", 2)]).await;
    let api = env.platform.api().await.unwrap();

    // An API path WeChat does not know: 76021, explained.
    let e = api_quota(&api, &env.appid, "/cgi-bin/no/such/api")
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "查询今日额度失败（errcode 76021）：cgi_path 无效。检查查询额度的接口路径（以 /cgi-bin/ 开头）。"
    );
    // The query API's own daily limit (2, the 76021 call counted): the second works, the third
    // is 45009 about the query, not the template quota.
    let q = template_send_quota(&api, &env.appid).await.unwrap();
    assert_eq!((q.daily_limit, q.used, q.remaining), (100_000, 0, 100_000));
    let e = template_send_quota(&api, &env.appid).await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "查询今日额度失败（errcode 45009）：查询额度的接口今日调用次数已达上限（这不表示模板消息额度已用完），明天再查询。"
    );
    env.sandbox.shutdown().await;
}
