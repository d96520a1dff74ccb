//! Rough throughput check of the sim alone: the sim runs on ONE tokio worker thread, a client on
//! another thread sends N template messages over 32 keep-alive connections, and the rate and
//! `/__sim/state` are printed. Not a test (no timing assertions); the benchmarks live in bench/.
//!
//! `cargo run -p wxdesk-sim --release --example load -- 100000`

use std::time::Instant;

use serde_json::{Value, json};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);
    let (tx, rx) = std::sync::mpsc::channel();
    // The sim on a single-threaded runtime: "one core".
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build();
        let Ok(rt) = rt else { return };
        rt.block_on(async move {
            let cfg = wxdesk_sim::SimConfig {
                followers: 200_000,
                ..Default::default()
            };
            match wxdesk_sim::start(cfg).await {
                Ok(h) => {
                    let _ = tx.send(h.base_url.clone());
                    std::future::pending::<()>().await;
                }
                Err(e) => eprintln!("{e}"),
            }
        });
    });
    let base = rx.recv()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let http = reqwest::Client::builder().no_proxy().pool_max_idle_per_host(64).build()?;
        let state: Value = http.get(format!("{base}/__sim/state")).send().await?.json().await?;
        let appid = state["accounts"][0]["appid"].as_str().unwrap_or_default().to_string();
        let acct: Value = http.get(format!("{base}/__sim/accounts/{appid}")).send().await?.json().await?;
        let secret = acct["appsecret"].as_str().unwrap_or_default();
        let tok: Value = http
            .get(format!("{base}/cgi-bin/token?grant_type=client_credential&appid={appid}&secret={secret}"))
            .send()
            .await?
            .json()
            .await?;
        let at = tok["access_token"].as_str().unwrap_or_default().to_string();
        let list: Value = http
            .get(format!("{base}/cgi-bin/template/get_all_private_template?access_token={at}"))
            .send()
            .await?
            .json()
            .await?;
        let tid = list["template_list"][4]["template_id"].as_str().unwrap_or_default().to_string();
        let started = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for w in 0..32u64 {
            let (http, base, at, tid, appid) = (http.clone(), base.clone(), at.clone(), tid.clone(), appid.clone());
            tasks.spawn(async move {
                let mut ok = 0u64;
                let mut i = w;
                while i < n {
                    let o: Value = http
                        .get(format!("{base}/__sim/openid?appid={appid}&index={}", i % 200_000))
                        .send()
                        .await?
                        .json()
                        .await?;
                    let body = json!({"touser": o["openid"], "template_id": tid,
                        "data": {"first": {"value": "您好"}, "keyword1": {"value": "¥1.00"}, "keyword2": {"value": "测试"}}});
                    let v: Value = http
                        .post(format!("{base}/cgi-bin/message/template/send?access_token={at}"))
                        .json(&body)
                        .send()
                        .await?
                        .json()
                        .await?;
                    if v["errcode"] == 0 {
                        ok += 1;
                    }
                    i += 32;
                }
                Ok::<u64, reqwest::Error>(ok)
            });
        }
        let mut ok = 0;
        while let Some(r) = tasks.join_next().await {
            ok += r??;
        }
        let secs = started.elapsed().as_secs_f64();
        let state: Value = http.get(format!("{base}/__sim/state")).send().await?.json().await?;
        println!(
            "{ok} sends accepted of {n} in {secs:.2}s: {:.0} sends/s ({:.0} HTTP requests/s incl. openid lookups)",
            ok as f64 / secs,
            2.0 * n as f64 / secs
        );
        println!("sends: {}", state["sends"]);
        Ok::<(), Box<dyn std::error::Error>>(())
    })
}
