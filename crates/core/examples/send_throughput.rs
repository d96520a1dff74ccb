//! How fast the send engine drains a job against the in-process wxdesk-sim at zero latency
//! (DESIGN.md target: ≥ 2,000 messages/s). Not a test: run it and read the figure.
//!
//! `cargo run -p wxdesk-core --example send_throughput --release -- [recipients] [concurrency]`

use std::sync::Arc;
use std::time::Instant;

use serde_json::Value;
use wxdesk_core::send::http::{Endpoint, HttpSendApi, TokenSource};
use wxdesk_core::send::{
    BoxFuture, EngineConfig, JobSpec, Payload, Recipient, SendEngine, SendFailure,
};
use wxdesk_core::store::Store;
use wxdesk_wechat::Secret;

struct Fixed(String);

impl TokenSource for Fixed {
    fn token<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<Secret, SendFailure>> {
        Box::pin(async move { Ok(Secret::new(self.0.clone())) })
    }
    fn refresh<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<(), SendFailure>> {
        Box::pin(async { Ok(()) })
    }
}

/// Answers at once, to measure the engine without HTTP (`… fake`).
struct NoNetwork(std::sync::atomic::AtomicI64);

impl wxdesk_core::send::SendApi for NoNetwork {
    fn send<'a>(
        &'a self,
        _: &'a str,
        _: &'a wxdesk_core::send::ApiRequest,
    ) -> BoxFuture<'a, Result<wxdesk_core::send::SendOk, SendFailure>> {
        let msgid = self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Box::pin(async move {
            Ok(wxdesk_core::send::SendOk {
                msgid: Some(msgid),
                response: Value::Null,
            })
        })
    }
    fn refresh_token<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<(), SendFailure>> {
        Box::pin(async { Ok(()) })
    }
}

async fn get(http: &reqwest::Client, url: &str) -> Result<Value, Box<dyn std::error::Error>> {
    Ok(http.get(url).send().await?.json().await?)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(20_000);
    let concurrency: u32 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(64);
    let sim = wxdesk_sim::start(wxdesk_sim::SimConfig {
        listen: "127.0.0.1:0".into(),
        relay_url: "http://127.0.0.1:9".into(),
        push_retries: 0,
        followers: n as u32 + 10,
        ..wxdesk_sim::SimConfig::default()
    })
    .await?;
    let http = reqwest::Client::builder().no_proxy().build()?;
    let base = sim.base_url.clone();
    let state = get(&http, &format!("{base}/__sim/state")).await?;
    let appid = state["accounts"]
        .as_array()
        .and_then(|l| {
            l.iter()
                .find(|a| a["kind"] == "service" && a["verified"] == true)
        })
        .and_then(|a| a["appid"].as_str())
        .ok_or("no verified service account")?
        .to_string();
    let acct = get(&http, &format!("{base}/__sim/accounts/{appid}")).await?;
    let secret = acct["appsecret"].as_str().ok_or("no secret")?;
    let tok = get(
        &http,
        &format!("{base}/cgi-bin/token?grant_type=client_credential&appid={appid}&secret={secret}"),
    )
    .await?;
    let token = tok["access_token"].as_str().ok_or("no token")?.to_string();
    let list = get(
        &http,
        &format!("{base}/cgi-bin/template/get_all_private_template?access_token={token}"),
    )
    .await?;
    let mut payload = None;
    for t in list["template_list"].as_array().ok_or("no templates")? {
        let fields = wxdesk_core::templates::keywords::parse_content(
            t["content"].as_str().unwrap_or_default(),
        );
        let example = t["example"].as_str().unwrap_or_default();
        if fields
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
    let mut openids: Vec<String> = Vec::with_capacity(n);
    let mut next = String::new();
    while openids.len() < n {
        let v = get(
            &http,
            &format!("{base}/cgi-bin/user/get?access_token={token}&next_openid={next}"),
        )
        .await?;
        let page = v["data"]["openid"].as_array().cloned().unwrap_or_default();
        if page.is_empty() {
            break;
        }
        openids.extend(page.iter().filter_map(|o| o.as_str().map(String::from)));
        next = v["next_openid"].as_str().unwrap_or_default().to_string();
    }
    openids.truncate(n);
    let dir = tempfile::tempdir()?;
    let store = Store::open_in_dir(dir.path()).await?;
    let fake = args.get(3).is_some_and(|m| m == "fake");
    let api: Arc<dyn wxdesk_core::send::SendApi> = if fake {
        Arc::new(NoNetwork(std::sync::atomic::AtomicI64::new(1)))
    } else {
        let endpoint = Endpoint {
            base_url: base.clone(),
            bearer: None,
        };
        Arc::new(HttpSendApi::new(endpoint, Arc::new(Fixed(token)))?)
    };
    let engine = SendEngine::new(
        store,
        api,
        EngineConfig {
            account_rate_per_sec: 1_000_000,
            ..EngineConfig::default()
        },
    );
    let spec = JobSpec {
        appid: appid.clone(),
        title: "throughput".into(),
        payload: payload.ok_or("no usable template")?,
        field_rules: Vec::new(),
        concurrency: Some(concurrency),
        rate_per_sec: Some(100_000),
        max_attempts: None,
    };
    let t0 = Instant::now();
    let job = engine
        .create_job(spec, openids.into_iter().map(Recipient::new))
        .await?;
    let created = t0.elapsed();
    let t1 = Instant::now();
    engine.start(job).await?;
    let done = engine.wait_idle(job).await?;
    let secs = t1.elapsed().as_secs_f64();
    println!(
        "recipients {n}, concurrency {concurrency}: created in {:.2}s; sent {} in {secs:.2}s = {:.0} msgs/s; sim accepted {}",
        created.as_secs_f64(),
        done.counts.sent,
        done.counts.sent as f64 / secs,
        sim.state()["sends"]["accepted"]
    );
    sim.shutdown().await;
    Ok(())
}
