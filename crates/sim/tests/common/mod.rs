//! Shared helpers of the sim's integration tests: a running sim, a tiny push receiver that
//! verifies and decrypts what the sim pushes, and the usual token dances.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::Uri;
use serde_json::{Value, json};
use wxdesk_sim::{SimConfig, SimHandle};
use wxdesk_wechat::crypto::MsgCrypt;

/// One push as the receiver saw it.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub query: std::collections::HashMap<String, String>,
    pub body: String,
}

#[derive(Clone, Default)]
pub struct Receiver {
    pub got: Arc<Mutex<Vec<Received>>>,
    /// How many answers of `fail` to give before `success` (retry tests).
    pub fail_first: Arc<Mutex<u32>>,
}

async fn receive(
    State(r): State<Receiver>,
    uri: Uri,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> &'static str {
    let query = url::form_urlencoded::parse(q.unwrap_or_default().as_bytes())
        .into_owned()
        .collect();
    r.got
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(Received {
            path: uri.path().to_string(),
            query,
            body: String::from_utf8_lossy(&body).into_owned(),
        });
    let mut f = r.fail_first.lock().unwrap_or_else(|p| p.into_inner());
    if *f > 0 {
        *f -= 1;
        "fail"
    } else {
        "success"
    }
}

/// Start a receiver on loopback; returns its base URL.
pub async fn receiver() -> (String, Receiver) {
    let r = Receiver::default();
    let app = Router::new().fallback(receive).with_state(r.clone());
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind receiver");
    let url = format!("http://{}", l.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(l, app).await;
    });
    (url, r)
}

pub fn crypt() -> MsgCrypt {
    MsgCrypt::new(
        wxdesk_sim::SANDBOX_COMPONENT_TOKEN,
        wxdesk_sim::SANDBOX_COMPONENT_AES_KEY,
        wxdesk_sim::SANDBOX_COMPONENT_APPID,
    )
    .expect("sandbox crypto")
}

/// Verify signatures and decrypt one push.
pub fn open(p: &Received) -> String {
    let c = crypt();
    let q = |k: &str| p.query.get(k).cloned().unwrap_or_default();
    assert!(
        c.verify_url_signature(&q("signature"), &q("timestamp"), &q("nonce")),
        "bad url signature"
    );
    assert_eq!(q("encrypt_type"), "aes");
    c.decrypt_push(
        &q("msg_signature"),
        &q("timestamp"),
        &q("nonce"),
        p.body.as_bytes(),
    )
    .expect("push verifies and decrypts")
}

/// Text of `<Tag>` in decrypted XML (CDATA or not).
pub fn field(xml: &str, tag: &str) -> Option<String> {
    let start = xml.find(&format!("<{tag}>"))? + tag.len() + 2;
    let end = xml[start..].find(&format!("</{tag}>"))? + start;
    let v = &xml[start..end];
    Some(
        v.strip_prefix("<![CDATA[")
            .and_then(|x| x.strip_suffix("]]>"))
            .unwrap_or(v)
            .to_string(),
    )
}

pub struct Env {
    pub sim: SimHandle,
    pub http: reqwest::Client,
    pub rx: Receiver,
}

impl Env {
    pub async fn new(cfg: SimConfig) -> Env {
        let (url, rx) = receiver().await;
        let cfg = SimConfig {
            relay_url: url,
            push_retry_interval_ms: 50,
            ..cfg
        };
        let sim = wxdesk_sim::start(cfg).await.expect("sim starts");
        let http = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Env { sim, http, rx }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.sim.base_url, path)
    }

    pub async fn post(&self, path: &str, body: Value) -> Value {
        let r = self
            .http
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .expect("request");
        r.json().await.expect("json")
    }

    pub async fn get(&self, path: &str) -> Value {
        self.http
            .get(self.url(path))
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("json")
    }

    /// Decrypted pushes received so far, waiting until at least `n` match `pred`.
    pub async fn wait_pushes(
        &self,
        n: usize,
        pred: impl Fn(&Received, &str) -> bool,
    ) -> Vec<(Received, String)> {
        for _ in 0..200 {
            let got: Vec<(Received, String)> = self
                .rx
                .got
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
                .map(|p| (p.clone(), open(p)))
                .filter(|(p, x)| pred(p, x))
                .collect();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("expected {n} matching pushes");
    }

    /// The latest ticket pushed to the component URL.
    pub async fn latest_ticket(&self) -> String {
        let pushes = self
            .wait_pushes(1, |p, x| {
                p.path == "/wechat/component" && x.contains("component_verify_ticket")
            })
            .await;
        let (_, xml) = pushes.last().expect("a ticket push");
        field(xml, "ComponentVerifyTicket").expect("ticket field")
    }

    pub async fn component_token(&self) -> String {
        let ticket = self.latest_ticket().await;
        let v = self
            .post(
                "/cgi-bin/component/api_component_token",
                json!({"component_appid": wxdesk_sim::SANDBOX_COMPONENT_APPID,
                       "component_appsecret": wxdesk_sim::SANDBOX_COMPONENT_APPSECRET,
                       "component_verify_ticket": ticket}),
            )
            .await;
        v["component_access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no token: {v}"))
            .to_string()
    }

    pub async fn pre_auth_code(&self, cat: &str) -> String {
        let v = self
            .post(
                &format!("/cgi-bin/component/api_create_preauthcode?component_access_token={cat}"),
                json!({"component_appid": wxdesk_sim::SANDBOX_COMPONENT_APPID}),
            )
            .await;
        v["pre_auth_code"]
            .as_str()
            .unwrap_or_else(|| panic!("no code: {v}"))
            .to_string()
    }

    /// Authorize account `appid` through /__sim/authorize + api_query_auth; returns
    /// (cat, authorizer_access_token, refresh_token).
    pub async fn authorize(&self, appid: &str) -> (String, String, String) {
        let cat = self.component_token().await;
        let code = self.pre_auth_code(&cat).await;
        let a = self
            .post(
                "/__sim/authorize",
                json!({"pre_auth_code": code, "authorizer_appid": appid}),
            )
            .await;
        let auth_code = a["auth_code"]
            .as_str()
            .unwrap_or_else(|| panic!("{a}"))
            .to_string();
        let v = self
            .post(
                &format!("/cgi-bin/component/api_query_auth?access_token={cat}"),
                json!({"component_appid": wxdesk_sim::SANDBOX_COMPONENT_APPID, "authorization_code": auth_code}),
            )
            .await;
        let info = &v["authorization_info"];
        (
            cat,
            info["authorizer_access_token"]
                .as_str()
                .unwrap_or_else(|| panic!("{v}"))
                .to_string(),
            info["authorizer_refresh_token"]
                .as_str()
                .unwrap_or_else(|| panic!("{v}"))
                .to_string(),
        )
    }

    pub async fn state(&self) -> Value {
        self.get("/__sim/state").await
    }

    /// appid of the first account of `kind` (verified when asked).
    pub async fn appid(&self, kind: &str, verified: bool) -> String {
        let s = self.state().await;
        s["accounts"]
            .as_array()
            .and_then(|l| {
                l.iter()
                    .find(|a| a["kind"] == kind && a["verified"] == verified)
            })
            .and_then(|a| a["appid"].as_str())
            .unwrap_or_else(|| panic!("no {kind} account"))
            .to_string()
    }

    pub async fn account(&self, appid: &str) -> Value {
        self.get(&format!("/__sim/accounts/{appid}")).await
    }

    /// Move the sim clock forward without pushing tickets (as if pushes had stopped).
    pub async fn advance(&self, secs: f64) {
        self.post(
            "/__sim/advance-clock",
            json!({"secs": secs, "tickets": false}),
        )
        .await;
    }

    /// Move the sim clock forward and wait for the fresh ticket the timer would have pushed.
    pub async fn advance_with_ticket(&self, secs: f64) {
        let before = self
            .rx
            .got
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|p| {
                p.path == "/wechat/component" && open(p).contains("component_verify_ticket")
            })
            .count();
        self.post("/__sim/advance-clock", json!({"secs": secs}))
            .await;
        self.wait_pushes(before + 1, |p, x| {
            p.path == "/wechat/component" && x.contains("component_verify_ticket")
        })
        .await;
    }
}

pub fn errcode(v: &Value) -> i64 {
    v["errcode"].as_i64().unwrap_or(0)
}
