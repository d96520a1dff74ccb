//! The bulk send as the operator experiences it: the real `wxdesk-cli` binary, spawned as a
//! shell would, `send template --list L --concurrency C` against wxdesk-sim (and the real relay)
//! in this process, timed from spawn to exit. Process start, the keychain, tokens, list
//! expansion, job creation, the ramp and the tail all count.
//!
//! `send_cli <recipients> <latency_ms> <concurrency> <reps> <cli> [<baseline cli>]`
//!
//! Each binary gets its own world (sim, relay, data dir, keychain entries — run under
//! `scripts/with-keyring.sh`), set up through the CLI itself: platform set, authorization,
//! templates and followers sync, a saved list of `recipients` followers. The runs then alternate
//! (baseline, new, baseline, new, …) so both see the same machine load. Per run it reports the
//! wall time, when the sim accepted the first and the last message (polled every 10 ms), the
//! tail from the last acceptance to exit, and the child's peak RSS (VmHWM, polled).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use wxdesk_bench::{BoxError, SimAccount, arg, emit};
use wxdesk_relay::{RelayConfig, RelayHandle};
use wxdesk_sim::{SimConfig, SimHandle};

const RELAY_KEY: &str = "bench-relay-key-0123456789abcdef";
const LIST: &str = "bench-list";

struct World {
    _dir: tempfile::TempDir,
    data: PathBuf,
    sim: SimHandle,
    _relay: RelayHandle,
    cli: PathBuf,
    appid: String,
    template: String,
    keys: Vec<String>,
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

async fn run(cli: &Path, data: &Path, args: &[&str], stdin: &str) -> Result<Out, BoxError> {
    let mut child = tokio::process::Command::new(cli)
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("WXDESK_DATA_DIR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    if let Some(mut input) = child.stdin.take() {
        input.write_all(stdin.as_bytes()).await?;
    }
    let out = child.wait_with_output().await?;
    Ok(Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
    })
}

/// Runs a setup step; its last stdout line as JSON.
async fn step(w: &World, args: &[&str], stdin: &str) -> Result<Value, BoxError> {
    let o = run(&w.cli, &w.data, args, stdin).await?;
    if o.code != 0 {
        return Err(format!("{args:?} exited {}: {}{}", o.code, o.stdout, o.stderr).into());
    }
    let last = o.stdout.lines().last().unwrap_or("null");
    Ok(serde_json::from_str(last).unwrap_or(Value::Null))
}

fn free_port() -> Result<u16, BoxError> {
    Ok(std::net::TcpListener::bind(("127.0.0.1", 0))?
        .local_addr()?
        .port())
}

async fn world(cli: &Path, recipients: usize, latency_ms: u64) -> Result<World, BoxError> {
    let dir = tempfile::tempdir()?;
    let (relay_port, sim_port) = (free_port()?, free_port()?);
    let relay_url = format!("http://127.0.0.1:{relay_port}");
    let sim_url = format!("http://127.0.0.1:{sim_port}");
    let relay_dir = dir.path().join("relay");
    let env: HashMap<&str, String> = HashMap::from([
        ("WXDESK_RELAY_LISTEN", format!("127.0.0.1:{relay_port}")),
        ("WXDESK_RELAY_DATA_DIR", relay_dir.display().to_string()),
        (
            "WXDESK_RELAY_COMPONENT_APPID",
            wxdesk_sim::SANDBOX_COMPONENT_APPID.into(),
        ),
        (
            "WXDESK_RELAY_COMPONENT_TOKEN",
            wxdesk_sim::SANDBOX_COMPONENT_TOKEN.into(),
        ),
        (
            "WXDESK_RELAY_COMPONENT_AES_KEY",
            wxdesk_sim::SANDBOX_COMPONENT_AES_KEY.into(),
        ),
        ("WXDESK_RELAY_API_KEY", RELAY_KEY.into()),
        ("WXDESK_RELAY_PUBLIC_BASE_URL", relay_url.clone()),
        ("WXDESK_RELAY_UPSTREAM", sim_url.clone()),
        ("WXDESK_RELAY_LOGIN_BASE", sim_url.clone()),
    ]);
    let relay =
        wxdesk_relay::start(RelayConfig::load_with_env(None, |k| env.get(k).cloned())?).await?;
    let mut quotas = std::collections::BTreeMap::new();
    quotas.insert("/cgi-bin/message/template/send".to_string(), 100_000_000);
    quotas.insert("/cgi-bin/user/get".to_string(), 1_000_000);
    let sim = wxdesk_sim::start(SimConfig {
        listen: format!("127.0.0.1:{sim_port}"),
        relay_url: relay.base_url.clone(),
        auth_domain: "127.0.0.1".into(),
        followers: u32::try_from(recipients + 10).unwrap_or(u32::MAX),
        latency_ms,
        quotas,
        ..SimConfig::default()
    })
    .await?;
    let acct = SimAccount::find(&sim.base_url).await?;
    let mut w = World {
        data: dir.path().join("data"),
        _dir: dir,
        sim,
        _relay: relay,
        cli: cli.to_path_buf(),
        appid: acct.appid.clone(),
        template: String::new(),
        keys: Vec::new(),
    };
    let secrets = format!(
        "WXDESK_COMPONENT_SECRET={}\nWXDESK_COMPONENT_TOKEN={}\nWXDESK_COMPONENT_AES_KEY={}\nWXDESK_RELAY_KEY={RELAY_KEY}\n",
        wxdesk_sim::SANDBOX_COMPONENT_APPSECRET,
        wxdesk_sim::SANDBOX_COMPONENT_TOKEN,
        wxdesk_sim::SANDBOX_COMPONENT_AES_KEY,
    );
    let relay_base = w._relay.base_url.clone();
    let sim_base = w.sim.base_url.clone();
    step(
        &w,
        &[
            "--json",
            "platform",
            "set",
            "--appid",
            wxdesk_sim::SANDBOX_COMPONENT_APPID,
            "--relay-url",
            &relay_base,
            "--api-base",
            &sim_base,
        ],
        &secrets,
    )
    .await?;
    // The sim pushes a ticket at start; the platform works once the relay holds it.
    let mut ok = false;
    for _ in 0..100 {
        if run(&w.cli, &w.data, &["--json", "platform", "status"], "")
            .await?
            .code
            == 0
        {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if !ok {
        return Err("platform status never passed".into());
    }
    authorize(&w, &acct).await?;
    step(&w, &["templates", "sync", &w.appid], "").await?;
    step(&w, &["followers", "sync", &w.appid], "").await?;
    let (template, keys) = legacy_template(&w).await?;
    w.template = template;
    w.keys = keys;
    let openids = acct.followers(recipients).await?;
    let csv = w._dir.path().join("list.csv");
    std::fs::write(&csv, format!("openid\n{}\n", openids.join("\n")))?;
    let created = step(
        &w,
        &[
            "--json",
            "lists",
            "create",
            LIST,
            "--account",
            &w.appid,
            "--csv",
            &csv.display().to_string(),
        ],
        "",
    )
    .await?;
    if created["list"]["member_count"].as_u64() != Some(recipients as u64) {
        return Err(format!("the list has {}", created["list"]["member_count"]).into());
    }
    Ok(w)
}

/// auth link → the admin approves in the sim → auth wait.
async fn authorize(w: &World, acct: &SimAccount) -> Result<(), BoxError> {
    let link = step(w, &["--json", "auth", "link"], "").await?;
    let pre = link["pre_auth_code"].as_str().ok_or("no pre_auth_code")?;
    let launch = link["launch_url"].as_str().ok_or("no launch_url")?;
    let http = &acct.http;
    let html = http.get(launch).send().await?.text().await?;
    let marker = format!("{}/cgi-bin/componentloginpage?", w.sim.base_url);
    let start = html
        .find(&marker)
        .ok_or("no login link on the launch page")?;
    let rest = &html[start..];
    let end = rest.find(['"', '\'']).ok_or("unterminated login link")?;
    let login = rest[..end].replace("&amp;", "&");
    http.get(&login).header("Referer", launch).send().await?;
    let r: Value = http
        .post(format!("{}/__sim/authorize", w.sim.base_url))
        .json(&json!({"pre_auth_code": pre, "authorizer_appid": w.appid}))
        .send()
        .await?
        .json()
        .await?;
    let redirect = r["redirect"].as_str().ok_or("no redirect")?;
    http.get(redirect).send().await?;
    let card = step(w, &["--json", "auth", "wait", "--timeout", "60"], "").await?;
    if card["appid"] != w.appid.as_str() {
        return Err(format!("authorized {card}").into());
    }
    Ok(())
}

/// A template whose keywords take any short text.
async fn legacy_template(w: &World) -> Result<(String, Vec<String>), BoxError> {
    let list = step(w, &["--json", "templates", "list", &w.appid], "").await?;
    for t in list.as_array().ok_or("no templates")? {
        let keys: Vec<String> = t["fields"]
            .as_array()
            .map(|f| {
                f.iter()
                    .filter_map(|f| f["key"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        if !keys.is_empty()
            && keys
                .iter()
                .all(|k| k.starts_with("keyword") || k == "first" || k == "remark")
        {
            let id = t["template_id"].as_str().ok_or("no template_id")?;
            return Ok((id.to_string(), keys));
        }
    }
    Err("no legacy template".into())
}

/// Peak RSS (VmHWM, KiB) of a live process.
fn vm_hwm(pid: u32) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn accepted(sim: &SimHandle) -> u64 {
    sim.state()["sends"]["accepted"].as_u64().unwrap_or(0)
}

struct Timing {
    wall: f64,
    created: Option<f64>,
    first: Option<f64>,
    last: Option<f64>,
    sent: u64,
    rss_kib: u64,
}

/// One `send template --list` run, timed from spawn to exit.
async fn send_once(w: &World, concurrency: u32) -> Result<Timing, BoxError> {
    let conc = concurrency.to_string();
    let mut args: Vec<String> = [
        "--json",
        "send",
        "template",
        "--account",
        &w.appid,
        "--template",
        &w.template,
        "--list",
        LIST,
        "--concurrency",
        &conc,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for k in &w.keys {
        args.extend(["--data".to_string(), format!("{k}=发货")]);
    }
    // Extra arguments for a look at one limit (e.g. `--rate 1000`); not used by bench-all.sh.
    if let Ok(extra) = std::env::var("WXDESK_BENCH_SEND_ARGS") {
        args.extend(extra.split_whitespace().map(String::from));
    }
    let base = accepted(&w.sim);
    let t0 = Instant::now();
    let mut child = tokio::process::Command::new(&w.cli)
        .arg("--data-dir")
        .arg(&w.data)
        .args(&args)
        .env_remove("WXDESK_DATA_DIR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let pid = child.id().unwrap_or(0);
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let (mut created, mut first, mut last, mut rss) = (None, None, None, 0u64);
    let mut done: Option<Value> = None;
    let mut seen = base;
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    loop {
        tokio::select! {
            line = lines.next_line() => match line? {
                Some(l) => {
                    if let Ok(v) = serde_json::from_str::<Value>(&l) {
                        if v["event"] == "created" && created.is_none() {
                            created = Some(t0.elapsed().as_secs_f64());
                        }
                        if v["event"] == "done" {
                            done = Some(v);
                        }
                    }
                }
                None => break,
            },
            _ = tick.tick() => {
                let now = accepted(&w.sim);
                if now > seen {
                    let t = t0.elapsed().as_secs_f64();
                    first.get_or_insert(t);
                    last = Some(t);
                    seen = now;
                }
                rss = rss.max(vm_hwm(pid).unwrap_or(0));
            }
        }
    }
    let status = child.wait().await?;
    let wall = t0.elapsed().as_secs_f64();
    let now = accepted(&w.sim);
    if now > seen {
        last = Some(wall);
    }
    let job = done.ok_or("no done event")?;
    let sent = job["job"]["counts"]["sent"].as_u64().unwrap_or(0);
    if !status.success() {
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            use tokio::io::AsyncReadExt;
            e.read_to_string(&mut err).await?;
        }
        return Err(format!("send exited {status}: {err}").into());
    }
    Ok(Timing {
        wall,
        created,
        first,
        last,
        sent,
        rss_kib: rss,
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

fn secs(t: Option<f64>) -> String {
    t.map_or("-".into(), |t| format!("{t:.2}"))
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<(), BoxError> {
    let n: usize = arg(1, 5_000);
    let latency: u64 = arg(2, 100);
    let concurrency: u32 = arg(3, 50);
    let reps: usize = arg(4, 3);
    let mut bins: Vec<(&str, PathBuf)> = Vec::new();
    let new = std::env::args().nth(5).ok_or(
        "usage: send_cli <recipients> <latency_ms> <concurrency> <reps> <cli> [<baseline cli>]",
    )?;
    if let Some(b) = std::env::args().nth(6) {
        bins.push(("baseline", PathBuf::from(b)));
    }
    bins.push(("new", PathBuf::from(new)));
    if std::env::var_os("WXDESK_TEST_KEYCHAIN").is_none()
        && std::env::var_os("WXDESK_IN_KEYRING_SESSION").is_none()
    {
        eprintln!(
            "note: the CLI keeps secrets in the OS keychain; run under scripts/with-keyring.sh"
        );
    }
    let mut worlds = Vec::new();
    for (label, bin) in &bins {
        let t = Instant::now();
        worlds.push((*label, world(bin, n, latency).await?));
        println!(
            "{label}: world set up in {:.1} s",
            t.elapsed().as_secs_f64()
        );
    }
    let bound = if latency == 0 {
        None
    } else {
        Some(n as f64 / f64::from(concurrency) * latency as f64 / 1000.0)
    };
    let mut results: HashMap<&str, Vec<Timing>> = HashMap::new();
    for rep in 0..reps {
        for (label, w) in &worlds {
            let t = send_once(w, concurrency).await?;
            println!(
                "{label} run {}: {:.2} s spawn→exit (created {}, first accepted {}, last accepted {}, tail {}), {} sent, peak RSS {} MiB",
                rep + 1,
                t.wall,
                secs(t.created),
                secs(t.first),
                secs(t.last),
                secs(t.last.map(|l| t.wall - l)),
                t.sent,
                t.rss_kib / 1024
            );
            if t.sent != n as u64 {
                return Err(format!("{label}: {} of {n} sent", t.sent).into());
            }
            results.entry(label).or_default().push(t);
        }
    }
    for (label, _) in &bins {
        let r = &results[label];
        let wall = median(r.iter().map(|t| t.wall).collect());
        let startup = median(r.iter().filter_map(|t| t.first).collect());
        let tail = median(
            r.iter()
                .filter_map(|t| t.last.map(|l| t.wall - l))
                .collect(),
        );
        let rss = r.iter().map(|t| t.rss_kib).max().unwrap_or(0);
        let frac = bound.map(|b| b / wall);
        println!(
            "{label}: median {wall:.2} s spawn→exit over {reps} runs (first acceptance at {startup:.2} s, tail {tail:.2} s){}",
            frac.map_or(String::new(), |f| format!(
                "; bound {:.2} s → {:.1} % of the bound",
                bound.unwrap_or(0.0),
                f * 100.0
            ))
        );
        emit(&json!({
            "bench": "send_cli", "binary": label, "recipients": n, "latency_ms": latency,
            "concurrency": concurrency, "runs": reps,
            "wall_s": r.iter().map(|t| (t.wall * 1000.0).round() / 1000.0).collect::<Vec<_>>(),
            "median_wall_s": wall, "median_first_accept_s": startup, "median_tail_s": tail,
            "bound_s": bound, "fraction_of_bound": frac, "peak_rss_kib": rss,
        }));
    }
    Ok(())
}
