//! The sandbox (real wxdesk-sim + wxdesk-relay in-process) and a browser stand-in for the
//! authorization journey tests.
#![allow(dead_code, clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use wxdesk_core::auth::{AuthScope, Authorizer};
use wxdesk_core::feed::{FeedFollower, FeedNotice};
use wxdesk_core::platform::Platform;
use wxdesk_core::sandbox::{Sandbox, start_sandbox};
use wxdesk_core::secrets::{MemoryStore, Secrets};
use wxdesk_core::store::Store;

pub struct World {
    pub dir: tempfile::TempDir,
    pub store: Store,
    pub mem: Arc<MemoryStore>,
    pub platform: Platform,
    pub sandbox: Sandbox,
    pub authorizer: Authorizer,
    pub http: reqwest::Client,
}

impl World {
    pub async fn start() -> World {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in_dir(dir.path()).await.unwrap();
        let mem = Arc::new(MemoryStore::default());
        let platform = Platform::new(store.clone(), Secrets::new(mem.clone()));
        let sandbox = start_sandbox(&platform, dir.path()).await.unwrap();
        let authorizer = Authorizer::new(platform.clone());
        let w = World {
            dir,
            store,
            mem,
            platform,
            sandbox,
            authorizer,
            http: reqwest::Client::new(),
        };
        w.wait_for_ticket().await;
        w
    }

    /// The sim pushes a ticket when it starts; wait until the relay has it (bounded).
    async fn wait_for_ticket(&self) {
        let relay = self.platform.relay().await.unwrap();
        for _ in 0..200 {
            if relay.fetch_ticket().await.unwrap().is_some() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the relay never received the sandbox ticket");
    }

    pub async fn follower(&self) -> FeedFollower<Authorizer> {
        let relay = self.platform.relay().await.unwrap();
        FeedFollower::new(relay, self.store.clone(), Arc::new(self.authorizer.clone()))
            .with_wait_secs(2)
    }

    /// The first simulated account of a kind (`official_account`/`service`… or mini).
    pub fn account(&self, mini: bool) -> Value {
        let state = self.sandbox.sim_state();
        state["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| (a["kind"].as_str().unwrap_or("").contains("mini")) == mini)
            .cloned()
            .unwrap()
    }

    /// What the admin's browser does: open the relay's launch page, follow it to the sim's
    /// login page (with the relay as Referer), press 授权 (`/__sim/authorize`), and land on the
    /// relay's redirect_uri. Returns the redirect the sim answered with.
    pub async fn authorize_in_browser(&self, appid: &str, scope: AuthScope) -> (String, String) {
        let start = self
            .authorizer
            .begin_authorization(scope, false, None)
            .await
            .unwrap();
        let page = self.http.get(&start.launch_url).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        let login = extract_login_link(&html, &self.sandbox.sim_url);
        let r = self
            .http
            .get(&login)
            .header("Referer", &start.launch_url)
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            200,
            "login page refused: {}",
            r.text().await.unwrap_or_default()
        );
        let r = sim_authorize(
            &self.http,
            &self.sandbox.sim_url,
            &start.pre_auth_code,
            appid,
        )
        .await;
        let redirect = r["redirect"].as_str().unwrap().to_string();
        let done = self.http.get(&redirect).send().await.unwrap();
        assert_eq!(done.status(), 200);
        (redirect, start.state)
    }

    /// Authorizes the first official account in the browser and follows the feed until the
    /// account is authorized. Returns its appid.
    pub async fn authorize_first_oa(&self) -> String {
        let follower = self.follower().await;
        let mut rx = follower.subscribe();
        let oa = self.account(false)["appid"].as_str().unwrap().to_string();
        self.authorize_in_browser(&oa, AuthScope::Oa).await;
        follow_until(&follower, &mut rx, |n| {
            matches!(n, FeedNotice::AccountAuthorized { .. })
        })
        .await;
        oa
    }

    /// Moves the sim's clock `secs` forward (tokens and codes age; tickets stay valid).
    pub async fn advance_sim_clock(&self, secs: u64) {
        let r = self
            .http
            .post(format!("{}/__sim/advance-clock", self.sandbox.sim_url))
            .json(&json!({"secs": secs, "tickets": false}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }

    pub async fn revoke(&self, appid: &str) {
        let r = self
            .http
            .post(format!("{}/__sim/revoke", self.sandbox.sim_url))
            .json(&json!({"authorizer_appid": appid}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }
}

/// The admin presses 授权 at the sim for `appid` on the authorization that made
/// `pre_auth_code`. Returns the sim's answer (`auth_code`, `redirect`).
pub async fn sim_authorize(
    http: &reqwest::Client,
    sim_url: &str,
    pre_auth_code: &str,
    appid: &str,
) -> Value {
    http.post(format!("{sim_url}/__sim/authorize"))
        .json(&json!({"pre_auth_code": pre_auth_code, "authorizer_appid": appid}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The openid of user `index` of account `appid` in the sim's world.
pub async fn sim_openid(http: &reqwest::Client, sim_url: &str, appid: &str, index: u32) -> String {
    let v: Value = http
        .get(format!(
            "{sim_url}/__sim/openid?appid={appid}&index={index}"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["openid"].as_str().unwrap().to_string()
}

/// Polls the feed until `want` is noticed (bounded).
pub async fn follow_until(
    f: &FeedFollower<Authorizer>,
    rx: &mut tokio::sync::broadcast::Receiver<FeedNotice>,
    want: impl Fn(&FeedNotice) -> bool,
) -> Vec<FeedNotice> {
    let mut seen = Vec::new();
    for _ in 0..50 {
        f.poll_once().await.unwrap();
        while let Ok(n) = rx.try_recv() {
            let hit = want(&n);
            seen.push(n);
            if hit {
                return seen;
            }
        }
    }
    panic!("never saw the expected notice; saw {seen:?}");
}

fn extract_login_link(html: &str, sim_url: &str) -> String {
    let start = html
        .find(&format!("{sim_url}/cgi-bin/componentloginpage?"))
        .unwrap();
    let rest = &html[start..];
    let end = rest.find(['"', '\'']).unwrap();
    rest[..end].replace("&amp;", "&")
}
