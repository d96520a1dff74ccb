//! Load generator for the relay's callback path (verify msg_signature + decrypt + parse + durable
//! group-committed append + `success`), at a fixed offered rate on loopback.
//!
//! It starts the real `wxdesk-relay` binary (built with the bench profile) on port 0 with a fresh
//! data_dir, pre-encrypts distinct text-message pushes (each one is stored, none is a duplicate),
//! then sends them open-loop: request i is due at start + i/rate, and its latency is measured from
//! that due time, so a stalled server cannot hide its queueing (no coordinated omission).
//!
//! Run:   cargo bench -p wxdesk-relay --bench callback_load -- --short
//!        cargo bench -p wxdesk-relay --bench callback_load -- --rate 4000 --secs 20
//! Flags: --rate N (req/s, default 3000) --secs N (default 15) --max-in-flight N (default 512)
//!        --short (500 req/s for 3 s: a smoke run)
//! Prints one human line and one JSON line (for bench/RESULTS.md).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use wxdesk_wechat::crypto::{Envelope, MsgCrypt};

const APPID: &str = "wx5a9d0c0e7f3b1a2c";
const TOKEN: &str = "wxdesksandbox";
const AES_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const API_KEY: &str = "bench-api-key-0123456789";
const AUTHORIZER: &str = "wx1111111111111111";

struct Opts {
    rate: u64,
    secs: u64,
    max_in_flight: usize,
}

fn parse_opts() -> Opts {
    let mut o = Opts {
        rate: 3000,
        secs: 15,
        max_in_flight: 512,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let next = args.get(i + 1).and_then(|v| v.parse::<u64>().ok());
        match (args[i].as_str(), next) {
            ("--short", _) => {
                o.rate = 500;
                o.secs = 3;
            }
            ("--rate", Some(n)) => {
                o.rate = n.max(1);
                i += 1;
            }
            ("--secs", Some(n)) => {
                o.secs = n.max(1);
                i += 1;
            }
            ("--max-in-flight", Some(n)) => {
                o.max_in_flight = (n as usize).max(1);
                i += 1;
            }
            _ => {} // cargo passes --bench; ignore what we do not know
        }
        i += 1;
    }
    o
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn main() {
    let opts = parse_opts();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_wxdesk-relay"))
        .env_clear()
        .env("RUST_LOG", "warn")
        .env("WXDESK_RELAY_LISTEN", "127.0.0.1:0")
        .env("WXDESK_RELAY_DATA_DIR", dir.path())
        .env("WXDESK_RELAY_COMPONENT_APPID", APPID)
        .env("WXDESK_RELAY_COMPONENT_TOKEN", TOKEN)
        .env("WXDESK_RELAY_COMPONENT_AES_KEY", AES_KEY)
        .env("WXDESK_RELAY_API_KEY", API_KEY)
        .env("WXDESK_RELAY_PUBLIC_BASE_URL", "https://relay.example.com")
        // The pushes are encrypted before the clock starts; do not let them go stale.
        .env("WXDESK_RELAY_REPLAY_WINDOW_SECS", "0")
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn wxdesk-relay");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            match line.strip_prefix("wxdesk-relay listening on ") {
                Some(base) => {
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(base.trim().to_owned());
                    }
                }
                None => eprintln!("relay: {line}"),
            }
        }
    });
    let base = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("relay started");

    let total = (opts.rate * opts.secs) as usize;
    eprintln!("pre-encrypting {total} pushes…");
    let crypt = MsgCrypt::new(TOKEN, AES_KEY, APPID).expect("crypt");
    let ts = "1700000000";
    let nonce = "1590219412";
    let requests: Vec<(String, String)> = (0..total)
        .map(|i| {
            let xml = format!(
                "<xml><ToUserName><![CDATA[gh_aaaaaaaaaaaa]]></ToUserName><FromUserName><![CDATA[oBenchUser{i}]]></FromUserName>\
                 <CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType>\
                 <Content><![CDATA[load test message {i}]]></Content><MsgId>{}</MsgId></xml>",
                10_000_000_000_i64 + i as i64
            );
            let (body, sig) = crypt.encrypt_push(&xml, &Envelope::ToUserName("gh_aaaaaaaaaaaa".into()), ts, nonce);
            let url = format!("{base}/wechat/{AUTHORIZER}/callback?timestamp={ts}&nonce={nonce}&encrypt_type=aes&msg_signature={sig}");
            (url, body)
        })
        .collect();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (latencies, ok, failed, elapsed) = runtime.block_on(async move {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(opts.max_in_flight)
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client");
        let gate = Arc::new(Semaphore::new(opts.max_in_flight));
        let interval = Duration::from_secs_f64(1.0 / opts.rate as f64);
        let start = tokio::time::Instant::now();
        let mut tasks = Vec::with_capacity(total);
        for (i, (url, body)) in requests.into_iter().enumerate() {
            let due = start + interval.mul_f64(i as f64);
            tokio::time::sleep_until(due).await;
            let client = client.clone();
            let gate = gate.clone();
            tasks.push(tokio::spawn(async move {
                let _permit = gate.acquire_owned().await.ok();
                let resp = client.post(url).body(body).send().await;
                let good = match resp {
                    Ok(r) if r.status().is_success() => {
                        r.text().await.map(|t| t == "success").unwrap_or(false)
                    }
                    _ => false,
                };
                (good, due.elapsed())
            }));
        }
        let mut latencies = Vec::with_capacity(total);
        let (mut ok, mut failed) = (0usize, 0usize);
        for t in tasks {
            match t.await {
                Ok((true, lat)) => {
                    ok += 1;
                    latencies.push(lat);
                }
                _ => failed += 1,
            }
        }
        (latencies, ok, failed, Instant::now() - start.into_std())
    });

    let mut sorted = latencies;
    sorted.sort();
    let achieved = ok as f64 / elapsed.as_secs_f64();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let (p50, p90, p99, max) = (
        percentile(&sorted, 0.50),
        percentile(&sorted, 0.90),
        percentile(&sorted, 0.99),
        sorted.last().copied().unwrap_or_default(),
    );
    println!(
        "callback path: offered {} req/s for {} s -> {ok} ok, {failed} failed, {achieved:.0} req/s, \
         p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        opts.rate,
        opts.secs,
        ms(p50),
        ms(p90),
        ms(p99),
        ms(max)
    );
    println!(
        "{}",
        serde_json::json!({
            "bench": "relay_callback_path", "offered_rps": opts.rate, "secs": opts.secs,
            "ok": ok, "failed": failed, "achieved_rps": achieved.round(),
            "p50_ms": ms(p50), "p90_ms": ms(p90), "p99_ms": ms(p99), "max_ms": ms(max),
        })
    );
    let _ = child.kill();
    let _ = child.wait();
}
