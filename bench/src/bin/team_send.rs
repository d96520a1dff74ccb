//! Team-mode bulk send (#17): a job run by the team server's workers, with one relay process and
//! then with two on the same PostgreSQL, timed from `POST /api/v1/team/jobs` to the watch that
//! reports `completed`.
//!
//! `team_send [latency_ms=100] [reps=3] [recipients=5000] [relay binary]`
//!
//! One run: a throwaway PostgreSQL cluster (relay feature `pg-testing`), wxdesk-sim at the given
//! latency in this process, and real `wxdesk-relay` processes in team mode (the binary next to
//! this one unless a path is given). A setup process authorizes one account and adds a template;
//! then runs alternate 1 process / 2 processes (1, 2, 1, 2, …) so both see the same machine load,
//! each with fresh processes and a fresh job of `recipients` template messages at concurrency 50
//! (per process, as the server defines it). Every job must end with every row sent and the sim
//! must have accepted each recipient exactly once more than before the job.
//!
//! The job asks for `rate_per_sec` 1000, the server's maximum (it clamps anything higher): with
//! two processes at 100 ms that equals the concurrency bound (2 × 50 / 0.1 s), so the account's
//! pace is as loose as the server allows, not looser. The sim's delivery reports are pushed to
//! the run's first process as WeChat would push them; `WXDESK_BENCH_NO_PUSHES=1` turns them off.
//!
//! Prints a table and, last, one JSON line `{"bench":"team_send", …}` (bench-all.sh collects it).

use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};
use wxdesk_bench::{BoxError, arg};
use wxdesk_relay::team::testing::PgCluster;
use wxdesk_sim::{SimConfig, SimHandle};

const API_KEY: &str = "bench-team-api-key-0123456789abcdef";
const SEND: &str = "/cgi-bin/message/template/send";
const CONCURRENCY: u32 = 50;
/// The server's maximum account pace (team/jobs.rs MAX_RATE); higher values are clamped.
const RATE: u32 = 1000;

/// A running relay process; killed on drop if not terminated.
struct Proc {
    child: Child,
    base: String,
    logs: Arc<Mutex<VecDeque<String>>>,
    _dir: tempfile::TempDir,
}

impl Proc {
    fn spawn(bin: &Path, env: &[(String, String)]) -> Result<Proc, BoxError> {
        let dir = tempfile::tempdir()?;
        let mut child = Command::new(bin)
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("WXDESK_RELAY_LISTEN", "127.0.0.1:0")
            .env("WXDESK_RELAY_DATA_DIR", dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
        let stderr = child.stderr.take().ok_or("no stderr")?;
        let logs = Arc::new(Mutex::new(VecDeque::new()));
        let sink = logs.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        // Drained for the whole life of the process (a full pipe would stall it); the last
        // lines are kept for an error message.
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.strip_prefix("wxdesk-relay listening on ")
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(rest.trim().to_owned());
                }
                if let Ok(mut l) = sink.lock() {
                    if l.len() >= 50 {
                        l.pop_front();
                    }
                    l.push_back(line);
                }
            }
        });
        let mut p = Proc {
            child,
            base: String::new(),
            logs,
            _dir: dir,
        };
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(base) => p.base = base,
            Err(_) => return Err(format!("relay did not start:\n{}", p.logs()).into()),
        }
        Ok(p)
    }

    fn logs(&self) -> String {
        self.logs
            .lock()
            .map(|l| l.iter().cloned().collect::<Vec<_>>().join("\n"))
            .unwrap_or_default()
    }

    /// Peak resident set so far (VmHWM), KiB.
    fn peak_rss_kib(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmHWM:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|v| v.parse().ok())
            })
            .unwrap_or(0)
    }

    /// SIGTERM and wait: the worker unregisters, so the next run starts with no stale worker.
    fn terminate(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Bench {
    _pg: PgCluster,
    db: Arc<tokio_postgres::Client>,
    sim: SimHandle,
    bin: PathBuf,
    env: Vec<(String, String)>,
    http: reqwest::Client,
    key: String,
    appid: String,
    template_id: String,
    openids: Vec<String>,
    pushes: bool,
}

async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    key: &str,
    body: Option<&Value>,
) -> Result<(u16, Value), BoxError> {
    let mut r = http.request(method, url).bearer_auth(key);
    if let Some(b) = body {
        r = r.json(b);
    }
    let resp = r.send().await?;
    let status = resp.status().as_u16();
    Ok((status, resp.json().await.unwrap_or(Value::Null)))
}

async fn get(b: &Bench, base: &str, path: &str) -> Result<Value, BoxError> {
    let (s, v) = call(
        &b.http,
        reqwest::Method::GET,
        &format!("{base}{path}"),
        &b.key,
        None,
    )
    .await?;
    if s != 200 {
        return Err(format!("GET {path}: {s} {v}").into());
    }
    Ok(v)
}

async fn setup(
    latency_ms: u64,
    recipients: usize,
    bin: PathBuf,
    pushes: bool,
) -> Result<Bench, BoxError> {
    let pg = PgCluster::start()?;
    let (admin, conn) = tokio_postgres::connect(&pg.url("postgres"), tokio_postgres::NoTls).await?;
    tokio::spawn(conn);
    admin.batch_execute("CREATE DATABASE team").await?;
    // A diagnostic, never a figure to report as the server's: commits no longer wait for the WAL
    // flush, to see how much of a job's time is fsync under the job row's lock.
    if std::env::var("WXDESK_BENCH_PG_ASYNC_COMMIT").is_ok() {
        admin
            .batch_execute("ALTER SYSTEM SET synchronous_commit = off")
            .await?;
        admin.batch_execute("SELECT pg_reload_conf()").await?;
        println!("diagnostic: PostgreSQL synchronous_commit = off");
    }
    // A diagnostic: with WXDESK_PG_PRELOAD=pg_stat_statements the statements that took the
    // server's time are printed at the end.
    if std::env::var("WXDESK_PG_PRELOAD").is_ok_and(|v| v.contains("pg_stat_statements")) {
        let (team, conn) = tokio_postgres::connect(&pg.url("team"), tokio_postgres::NoTls).await?;
        tokio::spawn(conn);
        team.batch_execute("CREATE EXTENSION pg_stat_statements")
            .await?;
    }
    let mut quotas = std::collections::BTreeMap::new();
    quotas.insert(SEND.to_string(), 100_000_000);
    quotas.insert("/cgi-bin/user/get".to_string(), 1_000_000);
    let sim = wxdesk_sim::start(SimConfig {
        latency_ms,
        followers: u32::try_from(recipients + 10).unwrap_or(u32::MAX),
        quotas,
        // A report pushed to a process that has stopped is dropped, not queued for retries
        // that would reach the next run's processes.
        push_retries: 0,
        ..SimConfig::default()
    })
    .await?;
    let env: Vec<(String, String)> = [
        ("RUST_LOG", "warn".to_string()),
        ("WXDESK_RELAY_DATABASE_URL", pg.url("team")),
        (
            "WXDESK_RELAY_COMPONENT_APPID",
            wxdesk_sim::SANDBOX_COMPONENT_APPID.into(),
        ),
        (
            "WXDESK_RELAY_COMPONENT_APPSECRET",
            wxdesk_sim::SANDBOX_COMPONENT_APPSECRET.into(),
        ),
        (
            "WXDESK_RELAY_COMPONENT_TOKEN",
            wxdesk_sim::SANDBOX_COMPONENT_TOKEN.into(),
        ),
        (
            "WXDESK_RELAY_COMPONENT_AES_KEY",
            wxdesk_sim::SANDBOX_COMPONENT_AES_KEY.into(),
        ),
        (
            "WXDESK_RELAY_SERVER_KEY",
            base64::engine::general_purpose::STANDARD.encode([0x5cu8; 32]),
        ),
        ("WXDESK_RELAY_UPSTREAM", sim.base_url.clone()),
        ("WXDESK_RELAY_API_KEY", API_KEY.into()),
        (
            "WXDESK_RELAY_PUBLIC_BASE_URL",
            "https://relay.example.com".into(),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(60))
        .build()?;
    let setup_proc = Proc::spawn(&bin, &env)?;
    let data = tempfile::tempdir()?;
    let out = Command::new(&bin)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("WXDESK_RELAY_DATA_DIR", data.path())
        .args(["members", "add", "bench", "--role", "operator"])
        .output()?;
    if !out.status.success() {
        return Err(format!("members add: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    let key = String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .ok_or("no member key")?
        .trim()
        .to_owned();
    let (db, conn) = tokio_postgres::connect(&pg.url("team"), tokio_postgres::NoTls).await?;
    tokio::spawn(conn);
    let mut b = Bench {
        _pg: pg,
        db: Arc::new(db),
        sim,
        bin,
        env,
        http,
        key,
        appid: String::new(),
        template_id: String::new(),
        openids: Vec::new(),
        pushes,
    };
    b.sim.set_relay_url(&setup_proc.base);
    b.sim.push_ticket();
    let mut ticket = false;
    for _ in 0..100 {
        let r = b
            .http
            .get(format!("{}/api/v1/ticket", setup_proc.base))
            .bearer_auth(API_KEY)
            .send()
            .await?;
        if r.status() == 200 {
            ticket = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if !ticket {
        return Err(format!("the relay never held a ticket:\n{}", setup_proc.logs()).into());
    }
    authorize(&mut b, &setup_proc.base, recipients).await?;
    audience(&mut b, &setup_proc.base, recipients).await?;
    setup_proc.terminate();
    Ok(b)
}

/// Authorizes a verified service account with enough followers.
async fn authorize(b: &mut Bench, base: &str, recipients: usize) -> Result<(), BoxError> {
    let appid = b.sim.state()["accounts"]
        .as_array()
        .and_then(|l| {
            l.iter().find(|a| {
                a["kind"] == "service"
                    && a["verified"] == true
                    && a["followers"].as_u64().unwrap_or(0) >= recipients as u64
            })
        })
        .and_then(|a| a["appid"].as_str())
        .ok_or("no verified service account with enough followers")?
        .to_owned();
    let (s, pre) = call(
        &b.http,
        reqwest::Method::POST,
        &format!(
            "{base}/api/v1/team/wechat/cgi-bin/component/api_create_preauthcode?component_access_token=team"
        ),
        &b.key,
        Some(&json!({ "component_appid": wxdesk_sim::SANDBOX_COMPONENT_APPID })),
    )
    .await?;
    if s != 200 {
        return Err(format!("preauthcode: {s} {pre}").into());
    }
    let done: Value = b
        .http
        .post(format!("{}/__sim/authorize", b.sim.base_url))
        .json(&json!({ "pre_auth_code": pre["pre_auth_code"], "authorizer_appid": appid }))
        .send()
        .await?
        .json()
        .await?;
    if !done["auth_code"].is_string() {
        return Err(format!("sim authorize: {done}").into());
    }
    for _ in 0..100 {
        let list = get(b, base, "/api/v1/team/accounts").await?;
        if list["accounts"]
            .as_array()
            .is_some_and(|l| l.iter().any(|a| a["appid"] == appid.as_str()))
        {
            b.appid = appid;
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err("the account never appeared as authorized".into())
}

/// A template and the first `n` followers, through the team server's WeChat proxy.
async fn audience(b: &mut Bench, base: &str, n: usize) -> Result<(), BoxError> {
    let appid = b.appid.clone();
    let (s, added) = call(
        &b.http,
        reqwest::Method::POST,
        &format!(
            "{base}/api/v1/team/wechat/cgi-bin/template/api_add_template?access_token=team.{appid}"
        ),
        &b.key,
        Some(&json!({ "template_id_short": "47123", "keyword_name_list": ["订单编号"] })),
    )
    .await?;
    if s != 200 || !added["template_id"].is_string() {
        return Err(format!("api_add_template: {s} {added}").into());
    }
    b.template_id = added["template_id"].as_str().unwrap_or_default().into();
    let mut next = String::new();
    while b.openids.len() < n {
        let page = get(
            b,
            base,
            &format!(
                "/api/v1/team/wechat/cgi-bin/user/get?access_token=team.{appid}&next_openid={next}"
            ),
        )
        .await?;
        let ids: Vec<String> = page["data"]["openid"]
            .as_array()
            .map(|l| {
                l.iter()
                    .filter_map(|o| o.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        if ids.is_empty() {
            break;
        }
        b.openids.extend(ids);
        next = page["next_openid"].as_str().unwrap_or_default().into();
    }
    b.openids.truncate(n);
    if b.openids.len() != n {
        return Err(format!("only {} followers", b.openids.len()).into());
    }
    Ok(())
}

fn job_body(b: &Bench, run: usize) -> Value {
    let rows: Vec<Value> = b
        .openids
        .iter()
        .enumerate()
        .map(|(i, o)| {
            json!({ "openid": o, "body": {
                "touser": o, "template_id": b.template_id,
                "data": { "character_string1": { "value": format!("R{run}-{i:06}") } },
            }})
        })
        .collect();
    json!({
        "appid": b.appid, "kind": "template", "template_id": b.template_id,
        "title": format!("bench run {run}"), "purpose": "plain", "payload": {},
        "concurrency": CONCURRENCY, "rate_per_sec": RATE, "max_attempts": 5, "idempotent": true,
        "path": SEND, "rows": rows,
    })
}

fn sends(sim: &SimHandle) -> (u64, u64, u64) {
    let s = sim.state();
    let n = |k: &str| s["sends"][k].as_u64().unwrap_or(0);
    (
        n("accepted"),
        n("distinct_recipients"),
        n("max_per_recipient"),
    )
}

struct Run {
    procs: usize,
    total_s: f64,
    created_s: f64,
    first_s: f64,
    last_s: f64,
    rss_kib: Vec<u64>,
    /// Claim transactions (each reserves the account's pace in team_rates).
    claims: i64,
    /// Result-write transactions.
    writes: i64,
    /// Every commit in the team database during the run (heartbeats and watches too).
    commits: i64,
    /// Mean number of sessions waiting for a lock, sampled every 20 ms.
    lock_waiters: f64,
    /// The same by the waiting statement (its first 48 characters).
    waits_on: std::collections::BTreeMap<String, f64>,
    /// Mean rows in_flight (claimed, result not yet committed), sampled every 20 ms.
    in_flight: f64,
    /// The machine's CPU busy share over the run (all cores, every process): near 1.0 the run is
    /// bound by CPU, not by the database's locks or the concurrency.
    cpu_busy: Option<f64>,
}

/// (busy, total) jiffies of all CPUs from /proc/stat.
fn cpu_times() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?;
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    let total: u64 = v.iter().sum();
    // idle + iowait
    let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
    Some((total - idle, total))
}

fn cpu_busy_since(a: (u64, u64), b: (u64, u64)) -> f64 {
    let total = b.1.saturating_sub(a.1).max(1);
    round2(b.0.saturating_sub(a.0) as f64 / total as f64)
}

/// One job with `procs` fresh processes; `run` counts jobs from 1 (each recipient has then been
/// accepted exactly `run` times).
async fn run_once(b: &Bench, procs: usize, run: usize) -> Result<Run, BoxError> {
    let ps: Vec<Proc> = (0..procs)
        .map(|_| Proc::spawn(&b.bin, &b.env))
        .collect::<Result<_, _>>()?;
    b.sim.set_relay_url(if b.pushes { &ps[0].base } else { "" });
    // Every worker registered (team_workers) before the clock starts: a process that is still
    // starting would join the job late and count against the 2-process figure.
    let mut ready = false;
    for _ in 0..200 {
        let row =
            b.db.query_one("SELECT count(*) FROM team_workers", &[])
                .await?;
        if row.get::<_, i64>(0) == procs as i64 {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if !ready {
        return Err(format!("{procs} workers never registered").into());
    }
    let (before, _, _) = sends(&b.sim);
    let stats0 = stats(&b.db).await?;
    let body = job_body(b, run);
    let base = ps[0].base.clone();
    let n = b.openids.len() as u64;
    // The sim's acceptance count, polled, for when sending really started and ended.
    let state_url = format!("{}/__sim/state", b.sim.base_url);
    let http = b.http.clone();
    let db = b.db.clone();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let cpu0 = cpu_times();
    let t0 = Instant::now();
    let poller = tokio::spawn(async move {
        let (mut first, mut last) = (None, None);
        let (mut samples, mut waiting, mut in_flight) = (0u64, 0u64, 0u64);
        let mut waits_on: std::collections::BTreeMap<String, u64> = Default::default();
        let mut seen = before;
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        loop {
            tick.tick().await;
            let now = match http.get(&state_url).send().await {
                Ok(r) => r.json::<Value>().await.ok(),
                Err(_) => None,
            }
            .and_then(|s| s["sends"]["accepted"].as_u64())
            .unwrap_or(seen);
            // Sessions of the team database waiting for a lock (the job row, mostly).
            if let Ok(r) = db
                .query_one(
                    "SELECT (SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
                              WHERE NOT l.granted AND a.datname = 'team'),
                            (SELECT coalesce(sum(in_flight), 0)::bigint FROM team_jobs_now
                              WHERE status = 'running'),
                            (SELECT string_agg(left(regexp_replace(a.query, '\\s+', ' ', 'g'),
                                                    48), '|')
                               FROM pg_stat_activity a
                              WHERE a.wait_event_type = 'Lock' AND a.datname = 'team')",
                    &[],
                )
                .await
            {
                samples += 1;
                waiting += r.get::<_, i64>(0).max(0) as u64;
                in_flight += r.get::<_, i64>(1).max(0) as u64;
                if let Some(what) = r.get::<_, Option<String>>(2) {
                    for w in what.split('|') {
                        *waits_on.entry(w.to_owned()).or_default() += 1;
                    }
                }
            }
            if now > seen {
                let t = t0.elapsed().as_secs_f64();
                first.get_or_insert(t);
                last = Some(t);
                seen = now;
            }
            if *stop_rx.borrow() || seen >= before + n {
                let n = samples.max(1) as f64;
                let waits_on: std::collections::BTreeMap<String, f64> = waits_on
                    .into_iter()
                    .map(|(k, v)| (k, round2(v as f64 / n)))
                    .collect();
                return (
                    first,
                    last,
                    waiting as f64 / n,
                    in_flight as f64 / n,
                    waits_on,
                );
            }
        }
    });
    let (s, created) = call(
        &b.http,
        reqwest::Method::POST,
        &format!("{base}/api/v1/team/jobs"),
        &b.key,
        Some(&body),
    )
    .await?;
    let created_s = t0.elapsed().as_secs_f64();
    if s != 201 {
        return Err(format!("create job: {s} {created}").into());
    }
    let id = created["id"].as_i64().ok_or("no job id")?;
    let mut version = 0;
    let job = loop {
        let job = get(
            b,
            &base,
            &format!("/api/v1/team/jobs/{id}/watch?version={version}&wait=30"),
        )
        .await?;
        if job["status"] == "completed" {
            break job;
        }
        let v = job["version"].as_i64().unwrap_or(0);
        if v <= version {
            return Err(format!("no progress in 30 s: {job}\n{}", ps[0].logs()).into());
        }
        version = v;
    };
    let total_s = t0.elapsed().as_secs_f64();
    let _ = stop_tx.send(true);
    let (first, last, lock_waiters, in_flight, waits_on) = poller.await?;
    let cpu_busy = cpu0.and_then(|c0| Some(cpu_busy_since(c0, cpu_times()?)));
    let rss_kib = ps.iter().map(Proc::peak_rss_kib).collect();
    for p in ps {
        p.terminate();
    }
    // Backends report their counters when idle or at exit: give them a moment.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let stats1 = stats(&b.db).await?;
    let claims = stats1.0 - stats0.0;
    let writes: i64 =
        b.db.query_one(
            "SELECT coalesce(sum(version), 0)::bigint FROM team_job_tallies
              WHERE job_id = $1 AND lane LIKE '%/write'",
            &[&id],
        )
        .await?
        .get(0);
    let sent = job["counts"]["sent"].as_u64().unwrap_or(0);
    let (after, distinct, max) = sends(&b.sim);
    // accepted grew by n over exactly n distinct recipients, none above `run`: every recipient
    // was accepted exactly once by this job.
    if sent != n || after - before != n || distinct != n || max != run as u64 {
        return Err(format!(
            "job {id}: sent {sent}, sim accepted {} (distinct {distinct}, max per recipient {max}, want {n}/{n}/{run}): {job}",
            after - before
        )
        .into());
    }
    Ok(Run {
        procs,
        total_s,
        created_s,
        first_s: first.unwrap_or(f64::NAN),
        last_s: last.unwrap_or(f64::NAN),
        rss_kib,
        claims,
        // Each result batch adds 1 to its process's write tally's version.
        writes,
        commits: stats1.1 - stats0.1,
        lock_waiters,
        waits_on,
        in_flight,
        cpu_busy,
    })
}

/// (claims: team_rates updates + inserts, commits in the team database).
async fn stats(db: &tokio_postgres::Client) -> Result<(i64, i64), BoxError> {
    let r = db
        .query_one(
            "SELECT
               (SELECT coalesce(sum(n_tup_upd + n_tup_ins), 0)::bigint FROM pg_stat_user_tables
                 WHERE relname = 'team_rates'),
               (SELECT xact_commit FROM pg_stat_database WHERE datname = 'team')",
            &[],
        )
        .await?;
    Ok((r.get(0), r.get(1)))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        l if l % 2 == 1 => v[l / 2],
        l => (v[l / 2 - 1] + v[l / 2]) / 2.0,
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<(), BoxError> {
    let latency_ms: u64 = arg(1, 100);
    let reps: usize = arg(2, 3);
    let recipients: usize = arg(3, 5000);
    let bin = match std::env::args().nth(4) {
        Some(p) => PathBuf::from(p),
        None => std::env::current_exe()?
            .parent()
            .ok_or("no directory")?
            .join("wxdesk-relay"),
    };
    let pushes = std::env::var("WXDESK_BENCH_NO_PUSHES").is_err();
    println!(
        "team_send: {recipients} template messages, sim latency {latency_ms} ms, concurrency \
         {CONCURRENCY} per process, rate_per_sec {RATE} (the server's maximum), {reps} × (1 \
         process, 2 processes), delivery reports {}; relay {}",
        if pushes { "pushed" } else { "off" },
        bin.display()
    );
    let b = setup(latency_ms, recipients, bin, pushes).await?;
    let mut runs = Vec::new();
    println!(
        "{:>3} {:>5} {:>8} {:>8} {:>8} {:>8} {:>6} {:>12} {:>6} {:>6} {:>7} {:>6} {:>6} {:>5}",
        "run",
        "procs",
        "total_s",
        "create_s",
        "first_s",
        "last_s",
        "msg/s",
        "peak RSS MiB",
        "claims",
        "writes",
        "commits",
        "lockwt",
        "inflt",
        "cpu"
    );
    for _ in 0..reps {
        for procs in [1, 2] {
            let n = runs.len() + 1;
            let r = run_once(&b, procs, n).await?;
            let rss: Vec<String> = r
                .rss_kib
                .iter()
                .map(|k| format!("{:.0}", *k as f64 / 1024.0))
                .collect();
            println!(
                "{n:>3} {:>5} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>6.0} {:>12} {:>6} {:>6} {:>7} {:>6.2} {:>6.1} {:>5}",
                r.procs,
                r.total_s,
                r.created_s,
                r.first_s,
                r.last_s,
                recipients as f64 / r.total_s,
                rss.join("/"),
                r.claims,
                r.writes,
                r.commits,
                r.lock_waiters,
                r.in_flight,
                r.cpu_busy
                    .map_or("?".to_owned(), |c| format!("{:.0}%", c * 100.0))
            );
            runs.push(r);
        }
    }
    let of = |p: usize| -> Vec<&Run> { runs.iter().filter(|r| r.procs == p).collect() };
    let times = |p: usize| -> Vec<f64> { of(p).iter().map(|r| round2(r.total_s)).collect() };
    let (one, two) = (times(1), times(2));
    let (m1, m2) = (median(one.clone()), median(two.clone()));
    let bound = |p: f64| recipients as f64 * latency_ms as f64 / 1000.0 / (CONCURRENCY as f64 * p);
    let send_phase =
        |p: usize| -> Vec<f64> { of(p).iter().map(|r| round2(r.last_s - r.first_s)).collect() };
    let rss = |p: usize| -> Vec<Vec<u64>> { of(p).iter().map(|r| r.rss_kib.clone()).collect() };
    println!(
        "median 1 process {m1:.2} s (bound {:.2} s), 2 processes {m2:.2} s (bound {:.2} s): ratio {:.2} (goal ≥ 1.8)",
        bound(1.0),
        bound(2.0),
        m1 / m2
    );
    if std::env::var("WXDESK_PG_PRELOAD").is_ok_and(|v| v.contains("pg_stat_statements")) {
        println!("statements by total time (ms total, calls, ms mean):");
        for r in b
            .db
            .query(
                "SELECT round(total_exec_time)::bigint, calls, round(mean_exec_time::numeric, 3)::float8,
                        left(regexp_replace(query, '\\s+', ' ', 'g'), 110)
                   FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 15",
                &[],
            )
            .await?
        {
            println!(
                "{:>8} {:>8} {:>8} {}",
                r.get::<_, i64>(0),
                r.get::<_, i64>(1),
                r.get::<_, f64>(2),
                r.get::<_, String>(3)
            );
        }
    }
    println!(
        "{}",
        json!({
            "bench": "team_send",
            "recipients": recipients,
            "latency_ms": latency_ms,
            "concurrency_per_process": CONCURRENCY,
            "rate_per_sec": RATE,
            "reps": reps,
            "delivery_reports_pushed": pushes,
            "one_process_s": one,
            "two_processes_s": two,
            "median_one_s": round2(m1),
            "median_two_s": round2(m2),
            "ratio": round2(m1 / m2),
            "bound_one_s": round2(bound(1.0)),
            "bound_two_s": round2(bound(2.0)),
            "first_to_last_accept_one_s": send_phase(1),
            "first_to_last_accept_two_s": send_phase(2),
            "create_s": runs.iter().map(|r| round2(r.created_s)).collect::<Vec<_>>(),
            "peak_rss_kib_one": rss(1),
            "peak_rss_kib_two": rss(2),
            "claims_per_job": runs.iter().map(|r| r.claims).collect::<Vec<_>>(),
            "result_writes_per_job": runs.iter().map(|r| r.writes).collect::<Vec<_>>(),
            "mean_lock_waiters": runs.iter().map(|r| round2(r.lock_waiters)).collect::<Vec<_>>(),
            "mean_in_flight": runs.iter().map(|r| round2(r.in_flight)).collect::<Vec<_>>(),
            "mean_lock_waiters_by_target": runs.iter().map(|r| r.waits_on.clone()).collect::<Vec<_>>(),
            "cpu_busy": runs.iter().map(|r| r.cpu_busy).collect::<Vec<_>>(),
        })
    );
    Ok(())
}
