//! A workspace for the messaging tests (订阅通知, quota tools, mini-program login, the jump):
//! the sandbox — real wxdesk-sim and wxdesk-relay on loopback — with every account of a small
//! world already authorized, the workspace knowing them, and helpers to act as WeChat's users.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};
use wxdesk_core::context::Context;
use wxdesk_core::sandbox::{Sandbox, start_sandbox_with};
use wxdesk_core::secrets::Secrets;
use wxdesk_sim::SimConfig;
use wxdesk_sim::world::{Kind, World as SimWorld};

pub struct World {
    pub dir: tempfile::TempDir,
    pub ctx: Context,
    pub sandbox: Sandbox,
    /// The verified service account (sim account 0).
    pub oa: String,
    /// The verified mini program linked to it (same principal, sim account 1).
    pub mini: String,
    pub http: reqwest::Client,
}

/// Every non-test account of the world `cfg` generates: (appid, kind, verified).
pub fn accounts(cfg: &SimConfig) -> Vec<(String, Kind, bool)> {
    SimWorld::generate(cfg.seed, cfg.accounts, 1, 0)
        .accounts
        .iter()
        .filter(|a| !a.release_test)
        .map(|a| (a.appid.clone(), a.kind, a.verified))
        .collect()
}

pub fn cfg() -> SimConfig {
    SimConfig {
        seed: 18,
        accounts: 6,
        followers: 30,
        ..SimConfig::default()
    }
}

impl World {
    pub async fn start() -> World {
        World::start_with(cfg()).await
    }

    /// The sandbox with `cfg`, every account of its world authorized and recovered into the
    /// workspace (as after authorizing each one).
    pub async fn start_with(cfg: SimConfig) -> World {
        let dir = tempfile::tempdir().unwrap();
        let ctx = Context::open_with_secrets(dir.path(), Secrets::memory())
            .await
            .unwrap();
        let all = accounts(&cfg);
        let authorized: Vec<wxdesk_sim::PreAuthorized> = all
            .iter()
            .enumerate()
            .map(|(i, (appid, _, _))| wxdesk_sim::PreAuthorized {
                appid: appid.clone(),
                refresh_token: format!("refreshtoken@@@messaging-{i}"),
            })
            .collect();
        let sandbox = start_sandbox_with(&ctx.platform, dir.path(), move |c| {
            *c = SimConfig { authorized, ..cfg };
        })
        .await
        .unwrap();
        let w = World {
            oa: all[0].0.clone(),
            mini: all[1].0.clone(),
            dir,
            ctx,
            sandbox,
            http: reqwest::Client::new(),
        };
        w.wait_for_ticket().await;
        let report = w.ctx.accounts.recover_refresh_tokens().await.unwrap();
        assert_eq!(report.added.len(), all.len(), "{report:?}");
        w
    }

    async fn wait_for_ticket(&self) {
        let relay = self.ctx.platform.relay().await.unwrap();
        for _ in 0..200 {
            if relay.fetch_ticket().await.unwrap().is_some() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the relay never received the sandbox ticket");
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub async fn sim_post(&self, path: &str, body: Value) -> Value {
        let r = self
            .http
            .post(format!("{}{path}", self.sandbox.sim_url))
            .json(&body)
            .send()
            .await
            .unwrap();
        r.json().await.unwrap()
    }

    pub async fn sim_get(&self, path: &str) -> Value {
        self.http
            .get(format!("{}{path}", self.sandbox.sim_url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// The sim's facts about an account (sample openids, seeded 订阅通知 templates…).
    pub async fn sim_account(&self, appid: &str) -> Value {
        self.sim_get(&format!("/__sim/accounts/{appid}")).await
    }

    /// Follower `index` of `appid` (openid, unionid).
    pub async fn openid(&self, appid: &str, index: u32) -> (String, Option<String>) {
        let v = self
            .sim_get(&format!("/__sim/openid?appid={appid}&index={index}"))
            .await;
        (
            v["openid"].as_str().unwrap().to_string(),
            v["unionid"].as_str().map(str::to_string),
        )
    }

    /// A user answers the 订阅通知 popup (or switches it off): the sim pushes it to the relay.
    pub async fn user_subscribes(&self, openid: &str, template_id: &str, action: &str) {
        let v = self
            .sim_post(
                "/__sim/subscribe",
                json!({"authorizer_appid": self.oa, "openid": openid, "template_id": template_id, "action": action}),
            )
            .await;
        assert_eq!(v["ok"], true, "{v}");
    }

    /// Applies what the relay holds until `done` holds (bounded): the app's own feed, with
    /// every handler the app registers.
    pub async fn feed_until<F, Fut>(&self, what: &str, mut done: F)
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = bool>,
    {
        let feed = self.ctx.feed().await.unwrap().with_wait_secs(0);
        for _ in 0..200 {
            feed.poll_once().await.unwrap();
            if done().await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the feed never brought: {what}");
    }

    pub fn sim_state(&self) -> Value {
        self.sandbox.sim_state()
    }
}
