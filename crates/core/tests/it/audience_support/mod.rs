//! Shared by the templates_* and audience_* tests: a real wxdesk-sim in-process, and an
//! `AccountApi` that takes each account's own access token from the sim's cgi-bin/token (the
//! sim hands tests the account's AppSecret through /__sim/accounts/{appid}), plus the follower
//! sync steps and the reads (through the `Audience` handle) the audience_sync* tests share.

#![allow(dead_code, clippy::unwrap_used)]

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;
use tokio_util::sync::CancellationToken;
use wxdesk_core::Result;
use wxdesk_core::audience::{
    Audience, FollowEvents, Follower, FollowerCounts, FollowerFilter, SyncOptions, SyncReport,
    sync_followers,
};
use wxdesk_core::feed::{EventHandler, EventKind, FeedEvent};
use wxdesk_core::gateway::AccountApi;
use wxdesk_core::platform::Platform;
use wxdesk_core::secrets::{Secret, Secrets};
use wxdesk_core::store::Store;
use wxdesk_sim::{SimConfig, SimHandle};
use wxdesk_wechat::api::{Client, ClientConfig};

pub struct Sim {
    pub handle: SimHandle,
    pub http: reqwest::Client,
}

impl Sim {
    pub async fn start(followers: u32) -> Sim {
        Self::start_with(SimConfig {
            followers,
            ..SimConfig::default()
        })
        .await
    }

    pub async fn start_with(cfg: SimConfig) -> Sim {
        let handle = wxdesk_sim::start(cfg).await.unwrap();
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        Sim { handle, http }
    }

    pub fn base(&self) -> &str {
        &self.handle.base_url
    }

    /// Appid of account `index` of the sim's world (0: verified service account, 1: its mini
    /// program, same principal; 2: subscription account).
    pub fn appid(&self, index: usize) -> String {
        self.handle.state()["accounts"][index]["appid"]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub async fn get_json(&self, path: &str) -> Value {
        let url = format!("{}{path}", self.base());
        self.http
            .get(url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// (openid, unionid) of user `index` of account `appid`.
    pub async fn user(&self, appid: &str, index: u32) -> (String, Option<String>) {
        let v = self
            .get_json(&format!("/__sim/openid?appid={appid}&index={index}"))
            .await;
        (
            v["openid"].as_str().unwrap().to_string(),
            v["unionid"].as_str().map(str::to_string),
        )
    }

    pub async fn api(&self) -> SimApi {
        SimApi::new(self).await
    }

    pub async fn shutdown(self) {
        self.handle.shutdown().await;
    }
}

/// Tokens from cgi-bin/token with each account's own AppSecret.
pub struct SimApi {
    client: Client,
    secrets: HashMap<String, String>,
    tokens: Mutex<HashMap<String, Secret>>,
    pub token_fetches: AtomicUsize,
}

impl SimApi {
    pub async fn new(sim: &Sim) -> SimApi {
        let mut secrets = HashMap::new();
        for a in sim.handle.state()["accounts"].as_array().unwrap() {
            let appid = a["appid"].as_str().unwrap();
            let info = sim.get_json(&format!("/__sim/accounts/{appid}")).await;
            secrets.insert(
                appid.to_string(),
                info["appsecret"].as_str().unwrap().to_string(),
            );
        }
        SimApi {
            client: Client::new(ClientConfig::with_base_url(sim.base())).unwrap(),
            secrets,
            tokens: Mutex::new(HashMap::new()),
            token_fetches: AtomicUsize::new(0),
        }
    }
}

impl SimApi {
    /// For a process that has only the sim's URL and one account's AppSecret.
    pub fn from_parts(base_url: &str, appid: &str, appsecret: &str) -> SimApi {
        SimApi {
            client: Client::new(ClientConfig::with_base_url(base_url)).unwrap(),
            secrets: HashMap::from([(appid.to_string(), appsecret.to_string())]),
            tokens: Mutex::new(HashMap::new()),
            token_fetches: AtomicUsize::new(0),
        }
    }

    /// The AppSecret the sim gave for `appid`.
    pub fn appsecret(&self, appid: &str) -> Option<&str> {
        self.secrets.get(appid).map(String::as_str)
    }
}

impl AccountApi for SimApi {
    fn client(&self) -> &Client {
        &self.client
    }

    async fn access_token(&self, appid: &str) -> Result<Secret> {
        if let Some(t) = self.tokens.lock().unwrap().get(appid) {
            return Ok(t.clone());
        }
        let secret = Secret::new(self.secrets.get(appid).cloned().unwrap_or_default());
        let t = self.client.client_credential_token(appid, &secret).await?;
        self.token_fetches.fetch_add(1, Ordering::SeqCst);
        self.tokens
            .lock()
            .unwrap()
            .insert(appid.to_string(), t.access_token.clone());
        Ok(t.access_token)
    }

    async fn token_refused(&self, appid: &str) {
        self.tokens.lock().unwrap().remove(appid);
    }
}

pub fn store() -> Store {
    Store::open_in_memory().unwrap()
}

/// The `ctx.templates` handle over `store` (no platform configured: the local table only).
pub fn templates(store: &Store) -> wxdesk_core::templates::Templates {
    let platform = Platform::new(store.clone(), Secrets::memory());
    let accounts = wxdesk_core::accounts::Accounts::new(platform.clone());
    wxdesk_core::templates::Templates::new(platform, accounts)
}

/// The `ctx.audience` handle over `store` (no platform configured: reads and lists only).
pub fn audience(store: &Store) -> Audience {
    Audience::new(Platform::new(store.clone(), Secrets::memory()))
}

/// A follow (`true`) or unfollow of `openid` at `at`, applied as the relay feed applies it.
pub fn apply_follow(
    tx: &rusqlite::Transaction<'_>,
    appid: &str,
    openid: &str,
    at: i64,
    follow: bool,
) -> Result<()> {
    let openid = openid.to_string();
    let kind = if follow {
        EventKind::Subscribe {
            openid,
            create_time: at,
            event_key: None,
        }
    } else {
        EventKind::Unsubscribe {
            openid,
            create_time: at,
        }
    };
    let event = FeedEvent {
        seq: 1,
        appid: Some(appid.to_string()),
        received_at: at,
        kind,
    };
    FollowEvents.apply(tx, &event)
}

impl Sim {
    /// A user follows (`true`) or unfollows the account, as in the WeChat client.
    pub async fn set_following(&self, appid: &str, openid: &str, follow: bool) {
        let url = format!("{}/__sim/follow", self.base());
        let body =
            serde_json::json!({"authorizer_appid": appid, "openid": openid, "follow": follow});
        let r = self.http.post(url).json(&body).send().await.unwrap();
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    }
}

/// The openids the store holds for `appid` — all, or only the subscribed (`Some(true)`) or
/// unsubscribed (`Some(false)`) — read page by page as the app does.
pub async fn stored_openids(
    store: &Store,
    appid: &str,
    subscribed: Option<bool>,
) -> BTreeSet<String> {
    let audience = audience(store);
    let filter = FollowerFilter {
        subscribed,
        ..Default::default()
    };
    let mut out = BTreeSet::new();
    let mut after = None;
    loop {
        let page = audience
            .followers(appid, filter.clone(), after, 5_000)
            .await
            .unwrap();
        out.extend(page.items.into_iter().map(|f| f.openid));
        match page.next_after {
            Some(n) => after = Some(n),
            None => return out,
        }
    }
}

/// Every follower of `appid` as the sim's user/get lists them (all pages), outside the sync.
pub async fn wechat_followers(api: &SimApi, appid: &str) -> BTreeSet<String> {
    api.client()
        .user_get_all(&api.access_token(appid).await.unwrap())
        .await
        .unwrap()
        .into_iter()
        .collect()
}

/// One sync run with `opts`, no progress callback and a cancel token nobody fires.
pub async fn sync_with(api: &SimApi, store: &Store, appid: &str, opts: SyncOptions) -> SyncReport {
    let cancel = CancellationToken::new();
    sync_followers(api, store, appid, opts, &|_| {}, &cancel)
        .await
        .unwrap()
}

/// One sync run with the default options (see `sync_with`).
pub async fn sync(api: &SimApi, store: &Store, appid: &str) -> SyncReport {
    sync_with(api, store, appid, SyncOptions::default()).await
}

pub async fn follower_counts(store: &Store, appid: &str) -> FollowerCounts {
    audience(store).totals(appid).await.unwrap()
}

/// The sim's world has 6 tags; each one's local member count must equal WeChat's count.
pub async fn assert_tags_match_wechat(store: &Store, appid: &str) {
    let tag_rows = audience(store).tags(appid).await.unwrap();
    assert_eq!(tag_rows.len(), 6);
    for t in &tag_rows {
        assert_eq!(t.local_count, t.count, "tag {} ({})", t.tag_id, t.name);
    }
}

/// The stored follower `openid` of `appid`; panics when the store has none.
pub async fn stored_follower(store: &Store, appid: &str, openid: &str) -> Follower {
    audience(store)
        .follower(appid, openid)
        .await
        .unwrap()
        .unwrap()
}
