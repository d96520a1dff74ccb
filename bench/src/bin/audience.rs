//! Audience benchmark: follower sync of N followers from wxdesk-sim at a given API latency, then
//! the import of an N-row CSV list (with two variable columns) checked against those followers.
//!
//! `cargo run --release -p wxdesk-bench --bin audience -- [followers] [latency_ms] [rows]`
//! (defaults 1000000 50 1000000). Figures go to bench/RESULTS.md.
//!
//! `audience curve LATENCY_MS N...` (#19 item 6): the sync alone (no import) at each size, each in
//! a child process of its own so its peak RSS is its own (`VmHWM` polled every 20 ms; the sim is
//! in that process too, as in the single run). With `WXDESK_AUDIENCE_BASELINE=PATH` (an
//! `audience` binary built from an earlier commit) every size runs the baseline first, then this
//! build, alternately, so both see the same machine. Ends with a table and one RESULT per run.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Mutex;
use std::time::Instant;

use tokio_util::sync::CancellationToken;
use wxdesk_core::Result;
use wxdesk_core::audience::{
    Audience, ImportOptions, ImportSource, SyncOptions, SyncProgress, sync_followers,
};
use wxdesk_core::gateway::AccountApi;
use wxdesk_core::platform::Platform;
use wxdesk_core::secrets::{Secret, Secrets};
use wxdesk_core::store::Store;
use wxdesk_wechat::api::{Client, ClientConfig};

/// The account's own token from the sim's cgi-bin/token (the sim gives benches its AppSecret).
struct SimApi {
    client: Client,
    secret: Secret,
    token: Mutex<Option<Secret>>,
}

impl AccountApi for SimApi {
    fn client(&self) -> &Client {
        &self.client
    }
    async fn access_token(&self, appid: &str) -> Result<Secret> {
        if let Some(t) = self.token.lock().unwrap_or_else(|p| p.into_inner()).clone() {
            return Ok(t);
        }
        let t = self
            .client
            .client_credential_token(appid, &self.secret)
            .await?
            .access_token;
        *self.token.lock().unwrap_or_else(|p| p.into_inner()) = Some(t.clone());
        Ok(t)
    }
    async fn token_refused(&self, _appid: &str) {
        *self.token.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

fn arg(n: usize, default: u64) -> u64 {
    std::env::args()
        .nth(n)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

/// One child run's figures.
struct Run {
    sync_s: f64,
    floor_s: f64,
    listing_s: Option<f64>,
    peak_kib: u64,
}

/// Runs `bin FOLLOWERS LATENCY 0` and polls its peak RSS until it exits.
fn child_run(bin: &std::path::Path, followers: u64, latency_ms: u64) -> std::io::Result<Run> {
    use std::process::{Command, Stdio};
    let child = Command::new(bin)
        .args([followers.to_string(), latency_ms.to_string(), "0".into()])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let status = format!("/proc/{}/status", child.id());
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = done.clone();
    // VmHWM only grows, so the last reading before the exit is the peak (to within 20 ms).
    let poller = std::thread::spawn(move || {
        let mut peak = 0u64;
        while !flag.load(std::sync::atomic::Ordering::Relaxed) {
            if let Some(v) = std::fs::read_to_string(&status).ok().and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmHWM:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|v| v.parse::<u64>().ok())
            }) {
                peak = peak.max(v);
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        peak
    });
    let out = child.wait_with_output()?;
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let peak_kib = poller.join().unwrap_or(0);
    let text = String::from_utf8_lossy(&out.stdout);
    let result: serde_json::Value = text
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .and_then(|j| serde_json::from_str(j).ok())
        .ok_or_else(|| {
            std::io::Error::other(format!("{} printed no RESULT: {text}", bin.display()))
        })?;
    // "phase starts: [("Listing", 0.0), ("Details", 12.4), …]": the listing ends where details start.
    let listing_s = text
        .split("(\"Details\", ")
        .nth(1)
        .and_then(|r| r.split(')').next().and_then(|v| v.trim().parse().ok()));
    Ok(Run {
        sync_s: result["sync_s"].as_f64().unwrap_or(f64::NAN),
        floor_s: result["api_floor_s"].as_f64().unwrap_or(f64::NAN),
        listing_s,
        peak_kib,
    })
}

fn curve() -> std::result::Result<(), Box<dyn std::error::Error>> {
    let latency_ms: u64 = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(50);
    let sizes: Vec<u64> = std::env::args()
        .skip(3)
        .filter_map(|a| a.parse().ok())
        .collect();
    let me = std::env::current_exe()?;
    let baseline = std::env::var_os("WXDESK_AUDIENCE_BASELINE").map(std::path::PathBuf::from);
    let mut rows = Vec::new();
    for &n in &sizes {
        let mut variants = Vec::new();
        if let Some(b) = &baseline {
            variants.push(("baseline", b.clone()));
        }
        variants.push(("new", me.clone()));
        for (name, bin) in variants {
            let r = child_run(&bin, n, latency_ms)?;
            println!(
                "  {name:8} {n:>9} followers: sync {:.2} s (listing {}), floor {:.2} s ({:.0} % of it), peak RSS {:.0} MiB",
                r.sync_s,
                r.listing_s.map_or("?".into(), |l| format!("{l:.2} s")),
                r.floor_s,
                100.0 * r.sync_s / r.floor_s,
                r.peak_kib as f64 / 1024.0
            );
            wxdesk_bench::emit(&serde_json::json!({
                "bench": "follower_sync_curve", "variant": name, "followers": n,
                "latency_ms": latency_ms, "sync_s": r.sync_s, "listing_s": r.listing_s,
                "api_floor_s": r.floor_s, "peak_rss_kib": r.peak_kib,
            }));
            rows.push((name, n, r));
        }
    }
    println!("\n| variant | followers | sync | listing | floor | sync / floor | peak RSS |");
    println!("|---|---|---|---|---|---|---|");
    for (name, n, r) in &rows {
        println!(
            "| {name} | {n} | {:.2} s | {} | {:.2} s | {:.2} | {:.0} MiB |",
            r.sync_s,
            r.listing_s.map_or("?".into(), |l| format!("{l:.2} s")),
            r.floor_s,
            r.sync_s / r.floor_s,
            r.peak_kib as f64 / 1024.0
        );
    }
    Ok(())
}

fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    if std::env::args().nth(1).as_deref() == Some("curve") {
        return curve();
    }
    single()
}

#[tokio::main]
async fn single() -> std::result::Result<(), Box<dyn std::error::Error>> {
    let (followers, latency_ms, rows) = (arg(1, 1_000_000), arg(2, 50), arg(3, 1_000_000));
    let mut quotas = std::collections::BTreeMap::new();
    quotas.insert("/cgi-bin/user/get".to_string(), 1_000_000);
    quotas.insert("/cgi-bin/user/info/batchget".to_string(), 10_000_000);
    let cfg = wxdesk_sim::SimConfig {
        followers: u32::try_from(followers)?,
        latency_ms,
        accounts: 2,
        quotas,
        ..wxdesk_sim::SimConfig::default()
    };
    let sim = wxdesk_sim::start(cfg).await?;
    let state = sim.state();
    let appid = state["accounts"][0]["appid"]
        .as_str()
        .ok_or("no account")?
        .to_string();
    let http = reqwest::Client::builder().no_proxy().build()?;
    let info: serde_json::Value = http
        .get(format!("{}/__sim/accounts/{appid}", sim.base_url))
        .send()
        .await?
        .json()
        .await?;
    let api = SimApi {
        client: Client::new(ClientConfig::with_base_url(&sim.base_url))?,
        secret: Secret::new(info["appsecret"].as_str().ok_or("no appsecret")?),
        token: Mutex::new(None),
    };
    let dir = tempfile::tempdir()?;
    let store = Store::open_in_dir(dir.path()).await?;

    let opts = SyncOptions::default();
    println!(
        "follower sync: {followers} followers, {latency_ms} ms API latency, {} batchget in flight",
        opts.concurrency
    );
    let start = Instant::now();
    let phases: Mutex<HashMap<String, f64>> = Mutex::new(HashMap::new());
    let on_progress = |p: SyncProgress| {
        let key = format!("{:?}", p.phase);
        let mut m = phases.lock().unwrap_or_else(|e| e.into_inner());
        m.entry(key)
            .or_insert_with(|| start.elapsed().as_secs_f64());
    };
    let cancel = CancellationToken::new();
    let report = sync_followers(&api, &store, &appid, opts, &on_progress, &cancel).await?;
    let sync_secs = start.elapsed().as_secs_f64();
    let mut starts: Vec<(String, f64)> = phases
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
        .into_iter()
        .collect();
    starts.sort_by(|a, b| a.1.total_cmp(&b.1));
    println!("  total {sync_secs:.1} s; phase starts: {starts:?}");
    println!("  report: {report:?}");
    let api_floor = (followers as f64 / 10_000.0).ceil() * latency_ms as f64 / 1000.0
        + (followers as f64 / 100.0 / opts.concurrency as f64).ceil() * latency_ms as f64 / 1000.0;
    println!(
        "  API-latency floor (pages in series + batchget {}-wide): {api_floor:.1} s",
        opts.concurrency
    );

    // A list file with the synced openids (so the following check hits) and two variables.
    let id = appid.clone();
    let openids: Vec<String> = store
        .call(move |c| {
            let mut stmt = c.prepare("SELECT openid FROM followers WHERE appid = ?1")?;
            let rows = stmt.query_map([&id], |r| r.get::<_, String>(0))?;
            Ok(rows.collect::<std::result::Result<Vec<_>, _>>()?)
        })
        .await
        .unwrap_or_default();
    let path = dir.path().join("list.csv");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path)?);
    writeln!(f, "openid,姓名,订单号")?;
    for i in 0..rows as usize {
        let openid = openids
            .get(i % openids.len().max(1))
            .map_or("", String::as_str);
        writeln!(f, "{openid},客户{i},SO{i:010}")?;
    }
    f.flush()?;
    drop(f);
    let size = std::fs::metadata(&path)?.len();
    println!(
        "list import: {rows} rows, {:.1} MB UTF-8 CSV",
        size as f64 / 1e6
    );
    // The handle reads the file for the preview and again for the save (the file is the
    // truth; nothing is kept between the two), as the app and the CLI do.
    let audience = Audience::new(Platform::new(store.clone(), Secrets::memory()));
    let start = Instant::now();
    let p = audience
        .import_preview(
            &appid,
            ImportSource::File(path.clone()),
            ImportOptions::default(),
        )
        .await?;
    let preview_secs = start.elapsed().as_secs_f64();
    let saved = audience
        .import_save(
            &appid,
            "bench",
            ImportSource::File(path),
            ImportOptions::default(),
        )
        .await?;
    let total = start.elapsed().as_secs_f64();
    println!(
        "  preview {preview_secs:.2} s (valid {}, duplicates {}, not following {}), read again and saved as list {saved:?} in {:.2} s more; total {total:.2} s",
        p.valid,
        p.duplicates_removed,
        p.not_following_count,
        total - preview_secs
    );
    wxdesk_bench::emit(&serde_json::json!({
        "bench": "follower_sync", "followers": followers, "latency_ms": latency_ms,
        "sync_s": sync_secs, "api_floor_s": api_floor, "import_rows": rows,
        "import_preview_s": preview_secs, "import_total_s": total,
        "peak_rss_kib": wxdesk_bench::peak_rss_kib(),
    }));
    sim.shutdown().await;
    Ok(())
}
