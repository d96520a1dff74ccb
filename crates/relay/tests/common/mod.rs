//! Shared helpers: run the real `wxdesk-relay` binary on port 0 with a private data_dir, and
//! build WeChat pushes exactly as WeChat does (MsgCrypt::encrypt_push).
#![allow(dead_code)] // each test binary uses a different subset

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use wxdesk_wechat::crypto::{Envelope, MsgCrypt};

pub const COMPONENT_APPID: &str = "wx5a9d0c0e7f3b1a2c";
/// Distinctive values so a test can search the logs for them.
pub const TOKEN: &str = "relayTestToken7731";
pub const AES_KEY: &str = "Zq4TlWm8kX2pRf6bHn1sVd9yJc3gLe5uAo7iKt0wQxB";
pub const OLD_AES_KEY: &str = "Pk2Lm4Nb6Vc8Xz0Aq1Sw3De5Fr7Gt9Hy2Ju4Ki6Ol8M";
pub const API_KEY: &str = "relay-test-api-key-5f3e9a0c";

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

pub fn crypt() -> MsgCrypt {
    MsgCrypt::new(TOKEN, AES_KEY, COMPONENT_APPID).expect("test crypto config is valid")
}

/// A running relay binary; killed on drop.
pub struct Relay {
    child: Child,
    pub base: String,
    pub data_dir: PathBuf,
    logs: Arc<Mutex<String>>,
}

impl Relay {
    /// Start the binary with the test credentials in the environment and `extra` env on top.
    pub fn spawn(data_dir: &Path, extra: &[(&str, &str)]) -> Relay {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_wxdesk-relay"));
        cmd.env_clear()
            .env("RUST_LOG", "debug")
            .env("WXDESK_RELAY_LISTEN", "127.0.0.1:0")
            .env("WXDESK_RELAY_DATA_DIR", data_dir)
            .env("WXDESK_RELAY_COMPONENT_APPID", COMPONENT_APPID)
            .env("WXDESK_RELAY_COMPONENT_TOKEN", TOKEN)
            .env("WXDESK_RELAY_COMPONENT_AES_KEY", AES_KEY)
            .env("WXDESK_RELAY_API_KEY", API_KEY)
            .env("WXDESK_RELAY_PUBLIC_BASE_URL", "https://relay.example.com")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in extra {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn wxdesk-relay");
        let stderr = child.stderr.take().expect("piped stderr");
        let logs = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let sink = logs.clone();
        // Keep draining stderr for the whole life of the process (a full pipe would block it).
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.strip_prefix("wxdesk-relay listening on ")
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(rest.trim().to_owned());
                }
                if let Ok(mut l) = sink.lock() {
                    l.push_str(&line);
                    l.push('\n');
                }
            }
        });
        let base = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(b) => b,
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "relay did not start; logs:\n{}",
                    logs.lock().map(|l| l.clone()).unwrap_or_default()
                );
            }
        };
        Relay {
            child,
            base,
            data_dir: data_dir.to_path_buf(),
            logs,
        }
    }

    pub fn logs(&self) -> String {
        self.logs.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// SIGKILL through a shared reference, for a kill in the middle of traffic that still holds
    /// the relay; the process is reaped on drop.
    pub fn kill9_now(&self) {
        let status = std::process::Command::new("kill")
            .args(["-9", &self.child.id().to_string()])
            .status()
            .expect("kill -9");
        assert!(status.success(), "kill -9 failed");
    }

    /// The relay's resident set size and its peak so far, in KiB (Linux /proc).
    pub fn rss_kib(&self) -> Option<(u64, u64)> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        };
        Some((field("VmRSS:")?, field("VmHWM:")?))
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// SIGKILL: no chance to flush anything.
    pub fn kill9(mut self) {
        self.child.kill().expect("kill -9");
        self.child.wait().expect("reap");
    }

    /// SIGTERM, then wait for a clean exit; returns the exit status success flag.
    pub fn terminate(mut self) -> bool {
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill");
        assert!(status.success());
        self.child.wait().expect("wait").success()
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP client for the whole test binary: building a client loads the system's root
/// certificates, which cost more than the request itself when a test makes thousands.
pub fn client() -> reqwest::Client {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    CLIENT
        .get_or_init(|| {
            reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                // The relay closes connections idle for header_read_timeout (15 s); a pooled one
                // reused at that moment fails a POST (seen in CI). Drop idle ones well before.
                .pool_idle_timeout(Duration::from_secs(5))
                .build()
                .expect("client")
        })
        .clone()
}

/// A client that opens a new connection per request: the relay drops a connection whose body it
/// refused (oversized, malformed), so hostile traffic must not share a pool with genuine pushes
/// — WeChat's servers never send ours down an attacker's connection either.
pub fn unpooled_client() -> reqwest::Client {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    CLIENT
        .get_or_init(|| {
            reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .pool_max_idle_per_host(0)
                .build()
                .expect("client")
        })
        .clone()
}

/// A signed, encrypted push: (query string, body).
pub fn seal(crypt: &MsgCrypt, plain: &str, envelope: Envelope, timestamp: i64) -> (String, String) {
    let ts = timestamp.to_string();
    let nonce = "1590219412";
    let (body, sig) = crypt.encrypt_push(plain, &envelope, &ts, nonce);
    let query = format!(
        "signature={}&timestamp={ts}&nonce={nonce}&encrypt_type=aes&msg_signature={sig}",
        crypt.url_signature(&ts, nonce)
    );
    (query, body)
}

pub async fn post_component(relay: &Relay, plain: &str) -> reqwest::Response {
    post_component_with(relay, &crypt(), plain, now()).await
}

pub async fn post_component_with(
    relay: &Relay,
    crypt: &MsgCrypt,
    plain: &str,
    ts: i64,
) -> reqwest::Response {
    let (query, body) = seal(crypt, plain, Envelope::AppId(COMPONENT_APPID.into()), ts);
    client()
        .post(relay.url(&format!("/wechat/component?{query}")))
        .body(body)
        .send()
        .await
        .expect("post component push")
}

pub async fn post_message(
    relay: &Relay,
    appid: &str,
    to_gh: &str,
    plain: &str,
) -> reqwest::Response {
    let (query, body) = seal(&crypt(), plain, Envelope::ToUserName(to_gh.into()), now());
    client()
        .post(relay.url(&format!("/wechat/{appid}/callback?{query}&openid=o1")))
        .body(body)
        .send()
        .await
        .expect("post message push")
}

pub fn ticket_xml(ticket: &str, create_time: i64) -> String {
    format!(
        "<xml><AppId><![CDATA[{COMPONENT_APPID}]]></AppId><CreateTime>{create_time}</CreateTime>\
         <InfoType><![CDATA[component_verify_ticket]]></InfoType>\
         <ComponentVerifyTicket><![CDATA[{ticket}]]></ComponentVerifyTicket></xml>"
    )
}

pub fn authorized_xml(authorizer: &str, code: &str, create_time: i64) -> String {
    format!(
        "<xml><AppId><![CDATA[{COMPONENT_APPID}]]></AppId><CreateTime>{create_time}</CreateTime>\
         <InfoType><![CDATA[authorized]]></InfoType><AuthorizerAppid><![CDATA[{authorizer}]]></AuthorizerAppid>\
         <AuthorizationCode><![CDATA[{code}]]></AuthorizationCode>\
         <AuthorizationCodeExpiredTime>{}</AuthorizationCodeExpiredTime>\
         <PreAuthCode><![CDATA[preauthcode@@@abc]]></PreAuthCode></xml>",
        create_time + 600
    )
}

pub fn text_xml(to_gh: &str, openid: &str, content: &str, msg_id: i64) -> String {
    format!(
        "<xml><ToUserName><![CDATA[{to_gh}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>\
         <CreateTime>{}</CreateTime><MsgType><![CDATA[text]]></MsgType>\
         <Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>",
        now()
    )
}

/// GET with the bearer key; returns (status, JSON body).
pub async fn api_get(relay: &Relay, path_and_query: &str) -> (u16, serde_json::Value) {
    let resp = client()
        .get(relay.url(path_and_query))
        .bearer_auth(API_KEY)
        .send()
        .await
        .expect("api request");
    let status = resp.status().as_u16();
    let body = resp.json().await.unwrap_or(serde_json::Value::Null);
    (status, body)
}

/// Every event in the log (up to 1000).
pub async fn all_events(relay: &Relay) -> Vec<serde_json::Value> {
    let (status, body) = api_get(relay, "/api/v1/events?after=0&limit=1000").await;
    assert_eq!(status, 200, "{body}");
    body["events"].as_array().cloned().unwrap_or_default()
}
