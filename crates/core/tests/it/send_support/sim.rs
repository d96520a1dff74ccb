//! The real wxdesk-sim for the send tests: a verified official account, its own access token
//! (cgi-bin/token, which the sim accepts like an authorizer token), a template of it with valid
//! values, and follower openids. Setup calls retry through the sim's faults.
#![allow(dead_code, clippy::unwrap_used)]

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Value, json};
use wxdesk_core::send::http::TokenSource;
use wxdesk_core::send::{BoxFuture, JobSpec, Payload, Recipient, SendFailure};
use wxdesk_core::templates::keywords::parse_content;
use wxdesk_sim::{SimConfig, SimHandle};
use wxdesk_wechat::Secret;

pub struct SimEnv {
    pub sim: SimHandle,
    pub http: reqwest::Client,
    pub appid: String,
    pub appsecret: String,
    pub template_id: String,
    /// keyword key → a value the sim accepts.
    pub data: std::collections::BTreeMap<String, String>,
}

pub fn quiet_config() -> SimConfig {
    // No relay: pushes go nowhere and are dropped after their retries.
    SimConfig {
        listen: "127.0.0.1:0".into(),
        relay_url: "http://127.0.0.1:9".into(),
        push_retries: 0,
        ..SimConfig::default()
    }
}

impl SimEnv {
    pub async fn start(cfg: SimConfig) -> SimEnv {
        let sim = wxdesk_sim::start(cfg).await.unwrap();
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let state: Value = get_retry(&http, &format!("{}/__sim/state", sim.base_url)).await;
        let appid = verified_service_account(&state);
        let acct: Value =
            get_retry(&http, &format!("{}/__sim/accounts/{appid}", sim.base_url)).await;
        let appsecret = acct["appsecret"].as_str().unwrap().to_string();
        let mut env = SimEnv {
            sim,
            http,
            appid,
            appsecret,
            template_id: String::new(),
            data: Default::default(),
        };
        let token = env.fresh_token().await;
        let list: Value = env
            .get_api(&format!(
                "/cgi-bin/template/get_all_private_template?access_token={token}"
            ))
            .await;
        // A template without const/enum fields, filled from its own example text.
        for t in list["template_list"].as_array().unwrap() {
            let content = t["content"].as_str().unwrap_or_default();
            let example = t["example"].as_str().unwrap_or_default();
            let fields = parse_content(content);
            let mut data = std::collections::BTreeMap::new();
            for (f, line) in fields.iter().zip(example.lines()) {
                let value = line.split_once('：').map_or(line, |(_, v)| v);
                data.insert(f.key.clone(), value.to_string());
            }
            let typed_const = fields
                .iter()
                .any(|f| f.key.starts_with("const") || f.key.starts_with("enum"));
            if !typed_const && data.len() == fields.len() && !fields.is_empty() {
                env.template_id = t["template_id"].as_str().unwrap().to_string();
                env.data = data;
                break;
            }
        }
        assert!(
            !env.template_id.is_empty(),
            "the sim account has a template without const fields"
        );
        env
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.sim.base_url, path)
    }

    pub async fn get_api(&self, path: &str) -> Value {
        get_retry(&self.http, &self.url(path)).await
    }

    pub async fn post_api(&self, path: &str, body: Value) -> Value {
        for _ in 0..50 {
            if let Ok(r) = self.http.post(self.url(path)).json(&body).send().await
                && let Ok(v) = r.json::<Value>().await
                && v["errcode"].as_i64().unwrap_or(0) != -1
            {
                return v;
            }
        }
        panic!("{path} kept failing");
    }

    /// A new access token for the account from cgi-bin/token.
    pub async fn fresh_token(&self) -> String {
        let v = self
            .get_api(&format!(
                "/cgi-bin/token?grant_type=client_credential&appid={}&secret={}",
                self.appid, self.appsecret
            ))
            .await;
        v["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no token: {v}"))
            .to_string()
    }

    /// The first `n` followers' openids (user/get pages of 10,000).
    pub async fn followers(&self, n: usize) -> Vec<String> {
        let token = self.fresh_token().await;
        let mut out = Vec::new();
        let mut next = String::new();
        while out.len() < n {
            let v = self
                .get_api(&format!(
                    "/cgi-bin/user/get?access_token={token}&next_openid={next}"
                ))
                .await;
            let page = v["data"]["openid"].as_array().cloned().unwrap_or_default();
            if page.is_empty() {
                break;
            }
            out.extend(page.iter().filter_map(|o| o.as_str().map(String::from)));
            next = v["next_openid"].as_str().unwrap_or_default().to_string();
        }
        out.truncate(n);
        assert_eq!(out.len(), n, "the sim account has enough followers");
        out
    }

    pub fn spec(&self) -> JobSpec {
        JobSpec {
            appid: self.appid.clone(),
            title: "模拟器发送".into(),
            payload: Payload::Template {
                template_id: self.template_id.clone(),
                data: self.data.clone(),
                url: Some("https://example.com/o/{{订单号}}".into()),
                miniprogram: None,
            },
            field_rules: Vec::new(),
            concurrency: Some(8),
            rate_per_sec: Some(10_000),
            max_attempts: Some(12),
        }
    }

    pub async fn recipients(&self, n: usize) -> Vec<Recipient> {
        self.followers(n)
            .await
            .into_iter()
            .enumerate()
            .map(|(i, openid)| Recipient {
                openid,
                vars: [("订单号".to_string(), format!("SO{i}"))].into(),
            })
            .collect()
    }

    /// `sends` of /__sim/state.
    pub fn sends(&self) -> Value {
        self.sim.state()["sends"].clone()
    }

    pub fn tokens_issued(&self) -> Value {
        self.sim.state()["tokens_issued"].clone()
    }
}

/// The first verified service account in a sim's `/__sim/state` (one that may send template
/// messages).
pub fn verified_service_account(sim_state: &Value) -> String {
    sim_state["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "service" && a["verified"] == true)
        .and_then(|a| a["appid"].as_str())
        .unwrap()
        .to_string()
}

async fn get_retry(http: &reqwest::Client, url: &str) -> Value {
    for _ in 0..50 {
        if let Ok(r) = http.get(url).send().await
            && let Ok(v) = r.json::<Value>().await
            && v["errcode"].as_i64().unwrap_or(0) != -1
        {
            return v;
        }
    }
    panic!("{url} kept failing");
}

/// Tokens from the sim's cgi-bin/token; counts refreshes.
pub struct SimTokens {
    pub base_url: String,
    pub appid: String,
    pub appsecret: String,
    pub http: reqwest::Client,
    pub current: Mutex<Option<String>>,
    pub refreshes: AtomicU64,
    /// One fetch at a time, like the platform's token service.
    single_flight: tokio::sync::Mutex<()>,
}

impl SimTokens {
    pub fn new(env: &SimEnv) -> SimTokens {
        SimTokens::from_parts(&env.sim.base_url, &env.appid, &env.appsecret)
    }

    /// For a child process that only knows where the sim is.
    pub fn from_parts(base_url: &str, appid: &str, appsecret: &str) -> SimTokens {
        SimTokens {
            base_url: base_url.to_string(),
            appid: appid.to_string(),
            appsecret: appsecret.to_string(),
            http: reqwest::Client::builder().no_proxy().build().unwrap(),
            current: Mutex::new(None),
            refreshes: AtomicU64::new(0),
            single_flight: tokio::sync::Mutex::new(()),
        }
    }

    async fn fetch(&self) -> Result<String, SendFailure> {
        let url = format!(
            "{}/cgi-bin/token?grant_type=client_credential&appid={}&secret={}",
            self.base_url, self.appid, self.appsecret
        );
        for _ in 0..50 {
            if let Ok(r) = self.http.get(&url).send().await
                && let Ok(v) = r.json::<Value>().await
                && let Some(t) = v["access_token"].as_str()
            {
                *self.current.lock().unwrap() = Some(t.to_string());
                return Ok(t.to_string());
            }
        }
        Err(SendFailure::Token {
            detail: "cgi-bin/token kept failing".into(),
        })
    }
}

impl TokenSource for SimTokens {
    fn token<'a>(&'a self, _appid: &'a str) -> BoxFuture<'a, Result<Secret, SendFailure>> {
        Box::pin(async move {
            let _one = self.single_flight.lock().await;
            let cached = self.current.lock().unwrap().clone();
            match cached {
                Some(t) => Ok(Secret::new(t)),
                None => Ok(Secret::new(self.fetch().await?)),
            }
        })
    }

    fn refresh<'a>(&'a self, _appid: &'a str) -> BoxFuture<'a, Result<(), SendFailure>> {
        Box::pin(async move {
            let _one = self.single_flight.lock().await;
            self.refreshes.fetch_add(1, Ordering::SeqCst);
            self.fetch().await.map(|_| ())
        })
    }
}

pub fn body_has_no_token(v: &Value) -> bool {
    !v.to_string().contains("access_token")
}

pub fn json_sends(v: &Value) -> (u64, u64, u64) {
    (
        v["accepted"].as_u64().unwrap(),
        v["distinct_recipients"].as_u64().unwrap(),
        v["max_per_recipient"].as_u64().unwrap(),
    )
}

pub fn clear_quota_body(appid: &str) -> Value {
    json!({ "appid": appid })
}
