//! Benchmark harnesses for wxdesk; results are recorded in bench/RESULTS.md by
//! `scripts/bench-all.sh`. Each binary prints human lines and one `RESULT {json}` line the script
//! collects.

use std::sync::Arc;

use serde_json::Value;
use wxdesk_core::send::http::TokenSource;
use wxdesk_core::send::{BoxFuture, Payload, SendFailure};
use wxdesk_wechat::Secret;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Peak resident set of this process in KiB (`VmHWM` of /proc/self/status), 0 if unknown.
pub fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Prints the machine-readable line bench-all.sh collects.
pub fn emit(result: &Value) {
    println!("RESULT {result}");
}

/// Positional argument `n` parsed, or `default`.
pub fn arg<T: std::str::FromStr>(n: usize, default: T) -> T {
    std::env::args()
        .nth(n)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

/// A fixed access token (the sim's own cgi-bin/token, valid for the whole run).
pub struct FixedToken(pub String);

impl TokenSource for FixedToken {
    fn token<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<Secret, SendFailure>> {
        Box::pin(async move { Ok(Secret::new(self.0.clone())) })
    }
    fn refresh<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<(), SendFailure>> {
        Box::pin(async { Ok(()) })
    }
}

/// A verified service account of a running sim with its token, a sendable template and followers.
pub struct SimAccount {
    pub base_url: String,
    pub appid: String,
    pub token: String,
    pub payload: Payload,
    pub http: reqwest::Client,
}

async fn get(http: &reqwest::Client, url: &str) -> Result<Value, BoxError> {
    for _ in 0..20 {
        if let Ok(r) = http.get(url).send().await
            && let Ok(v) = r.json::<Value>().await
            && v["errcode"].as_i64().unwrap_or(0) != -1
        {
            return Ok(v);
        }
    }
    Err(format!("GET {} kept failing", url.split('?').next().unwrap_or(url)).into())
}

impl SimAccount {
    pub async fn find(base_url: &str) -> Result<SimAccount, BoxError> {
        let http = reqwest::Client::builder().no_proxy().build()?;
        let state = get(&http, &format!("{base_url}/__sim/state")).await?;
        let appid = state["accounts"]
            .as_array()
            .and_then(|l| {
                l.iter()
                    .find(|a| a["kind"] == "service" && a["verified"] == true)
            })
            .and_then(|a| a["appid"].as_str())
            .ok_or("no verified service account")?
            .to_string();
        let acct = get(&http, &format!("{base_url}/__sim/accounts/{appid}")).await?;
        let secret = acct["appsecret"].as_str().ok_or("no secret")?;
        let tok = get(
            &http,
            &format!(
                "{base_url}/cgi-bin/token?grant_type=client_credential&appid={appid}&secret={secret}"
            ),
        )
        .await?;
        let token = tok["access_token"].as_str().ok_or("no token")?.to_string();
        let list = get(
            &http,
            &format!("{base_url}/cgi-bin/template/get_all_private_template?access_token={token}"),
        )
        .await?;
        let mut payload = None;
        for t in list["template_list"].as_array().ok_or("no templates")? {
            let fields = wxdesk_core::templates::keywords::parse_content(
                t["content"].as_str().unwrap_or_default(),
            );
            let example = t["example"].as_str().unwrap_or_default();
            if fields.is_empty()
                || fields
                    .iter()
                    .any(|f| f.key.starts_with("const") || f.key.starts_with("enum"))
            {
                continue;
            }
            let data = fields
                .iter()
                .zip(example.lines())
                .map(|(f, l)| {
                    (
                        f.key.clone(),
                        l.split_once('：').map_or(l, |(_, v)| v).to_string(),
                    )
                })
                .collect();
            payload = Some(Payload::Template {
                template_id: t["template_id"].as_str().unwrap_or_default().to_string(),
                data,
                url: None,
                miniprogram: None,
            });
            break;
        }
        Ok(SimAccount {
            base_url: base_url.to_string(),
            appid,
            token,
            payload: payload.ok_or("no usable template")?,
            http,
        })
    }

    /// The first `n` follower openids (user/get pages of 10,000).
    pub async fn followers(&self, n: usize) -> Result<Vec<String>, BoxError> {
        let mut out = Vec::with_capacity(n);
        let mut next = String::new();
        while out.len() < n {
            let v = get(
                &self.http,
                &format!(
                    "{}/cgi-bin/user/get?access_token={}&next_openid={next}",
                    self.base_url, self.token
                ),
            )
            .await?;
            let page = v["data"]["openid"].as_array().cloned().unwrap_or_default();
            if page.is_empty() {
                break;
            }
            out.extend(page.iter().filter_map(|o| o.as_str().map(String::from)));
            next = v["next_openid"].as_str().unwrap_or_default().to_string();
        }
        out.truncate(n);
        if out.len() < n {
            return Err(format!("the sim has only {} followers", out.len()).into());
        }
        Ok(out)
    }

    pub fn token_source(&self) -> Arc<FixedToken> {
        Arc::new(FixedToken(self.token.clone()))
    }
}
