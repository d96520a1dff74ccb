//! Load generator for the relay's callback path (verify msg_signature + decrypt + parse + durable
//! group-committed append + `success`), at a fixed offered rate on loopback.
//!
//! It starts the real `wxdesk-relay` binary (built with the bench profile) on port 0 with a fresh
//! data_dir, pre-encrypts distinct text-message pushes (each one is stored, none is a duplicate),
//! then sends them open-loop: request i is due at start + i/rate, and its latency is measured from
//! that due time, so a stalled server cannot hide its queueing (no coordinated omission).
//!
//! With `--pg` the relay runs in team mode: a throwaway PostgreSQL cluster (team::testing, as the
//! tests use) holds the event log, `--procs N` relay processes share it and the pushes are spread
//! over them round-robin (a load balancer). The relays log their write batches' profile (size,
//! time waiting for the head lock, time to insert and commit) every 5 s; at the end the log is
//! counted in PostgreSQL (every acknowledged push stored once, seqs gapless).
//!
//! Run:   cargo bench -p wxdesk-relay --bench callback_load -- --short
//!        cargo bench -p wxdesk-relay --bench callback_load -- --rate 4000 --secs 20
//!        cargo bench -p wxdesk-relay --bench callback_load -- --pg --procs 2 --rate 10000 --secs 20
//! Flags: --rate N (req/s, default 3000) --secs N (default 15) --max-in-flight N (default 512)
//!        --short (500 req/s for 3 s: a smoke run) --pg (team mode) --procs N (with --pg, default 1)
//! Env:   WXDESK_BENCH_RELAY=PATH runs that relay binary instead of this tree's (a baseline).
//! Prints one human line and one JSON line (for bench/RESULTS.md).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use wxdesk_relay::team::testing::PgCluster;
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
    pg: bool,
    procs: usize,
}

fn parse_opts() -> Opts {
    let mut o = Opts {
        rate: 3000,
        secs: 15,
        max_in_flight: 512,
        pg: false,
        procs: 1,
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
            ("--pg", _) => o.pg = true,
            ("--procs", Some(n)) => {
                o.procs = (n as usize).clamp(1, 16);
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

/// One relay process on port 0 with `env` on top of the common settings; its base URL. Its
/// stderr is forwarded with a `relay N:` prefix (warnings, and the batch profile in team mode).
fn spawn_relay(n: usize, data_dir: &std::path::Path, env: &[(String, String)]) -> (Child, String) {
    // WXDESK_BENCH_RELAY runs another build (a baseline) under the same load.
    let bin = std::env::var_os("WXDESK_BENCH_RELAY")
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_wxdesk-relay").into());
    let mut child = Command::new(bin)
        .env_clear()
        .env("RUST_LOG", "warn,wxdesk_relay::store::pg=debug")
        .env("WXDESK_RELAY_LISTEN", "127.0.0.1:0")
        .env("WXDESK_RELAY_DATA_DIR", data_dir)
        .env("WXDESK_RELAY_COMPONENT_APPID", APPID)
        .env("WXDESK_RELAY_COMPONENT_TOKEN", TOKEN)
        .env("WXDESK_RELAY_COMPONENT_AES_KEY", AES_KEY)
        .env("WXDESK_RELAY_API_KEY", API_KEY)
        .env("WXDESK_RELAY_PUBLIC_BASE_URL", "https://relay.example.com")
        // The pushes are encrypted before the clock starts; do not let them go stale.
        .env("WXDESK_RELAY_REPLAY_WINDOW_SECS", "0")
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
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
                None => eprintln!("relay {n}: {line}"),
            }
        }
    });
    let base = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("relay started");
    (child, base)
}

/// Team mode's database: a throwaway cluster with an empty `relay` database, and the
/// environment that points relays at it.
fn team_database(runtime: &tokio::runtime::Runtime) -> (PgCluster, String, Vec<(String, String)>) {
    let pg = PgCluster::start().unwrap_or_else(|e| panic!("{e}"));
    let url = pg.url("relay");
    runtime.block_on(async {
        let admin = connect(&pg.url("postgres")).await;
        admin
            .batch_execute("CREATE DATABASE relay")
            .await
            .expect("create database");
    });
    let env = vec![
        ("WXDESK_RELAY_DATABASE_URL".to_owned(), url.clone()),
        (
            "WXDESK_RELAY_COMPONENT_APPSECRET".to_owned(),
            "0123456789abcdef0123456789abcdef".to_owned(),
        ),
        (
            "WXDESK_RELAY_SERVER_KEY".to_owned(),
            // base64 of 32 bytes of 0x07.
            "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=".to_owned(),
        ),
    ];
    (pg, url, env)
}

async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect to the bench cluster");
    tokio::spawn(conn);
    client
}

/// CPU time (user + system, in clock ticks) of the relays, the PostgreSQL cluster and this
/// process, from /proc.
struct Cpu {
    relay: u64,
    postgres: u64,
    load: u64,
}

impl Cpu {
    fn now(relays: &[u32], postmaster: Option<u32>) -> Cpu {
        let postgres = postmaster.map_or(0, |pm| {
            let children: u64 = proc_stats()
                .filter(|(_, ppid, _)| *ppid == pm)
                .map(|(_, _, t)| t)
                .sum();
            children + ticks(pm).unwrap_or(0)
        });
        Cpu {
            relay: relays.iter().filter_map(|p| ticks(*p)).sum(),
            postgres,
            load: ticks(std::process::id()).unwrap_or(0),
        }
    }

    fn since(&self, before: &Cpu) -> Cpu {
        Cpu {
            relay: self.relay.saturating_sub(before.relay),
            postgres: self.postgres.saturating_sub(before.postgres),
            load: self.load.saturating_sub(before.load),
        }
    }

    /// Clock ticks are 1/100 s on Linux.
    fn per_1k(&self, ticks: u64, pushes: usize) -> f64 {
        (ticks as f64 * 10.0 / (pushes.max(1) as f64 / 1000.0)).round()
    }
}

/// (pid, ppid, utime + stime) of a /proc/PID/stat line; the name may hold spaces, so fields
/// are counted after its closing parenthesis.
fn parse_stat(pid: u32, stat: &str) -> Option<(u32, u32, u64)> {
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ppid = f.get(1)?.parse().ok()?;
    let utime: u64 = f.get(11)?.parse().ok()?;
    let stime: u64 = f.get(12)?.parse().ok()?;
    Some((pid, ppid, utime + stime))
}

fn ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(pid, &stat).map(|s| s.2)
}

fn proc_stats() -> impl Iterator<Item = (u32, u32, u64)> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            parse_stat(pid, &stat)
        })
}

/// The cluster's postmaster: the parent of any of its backends.
async fn postmaster_pid(url: &str) -> Option<u32> {
    let db = connect(url).await;
    let backend: i32 = db
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .ok()?
        .get(0);
    let stat = std::fs::read_to_string(format!("/proc/{backend}/stat")).ok()?;
    parse_stat(backend as u32, &stat).map(|s| s.1)
}

/// `host:port` of a base URL `http://host:port`.
fn host_of(base: &str) -> &str {
    base.trim_start_matches("http://").trim_end_matches('/')
}

/// One answer read off a keep-alive connection: whether it was `200` with the body `success`.
/// Bytes past it (there are none: one request at a time per connection) would stay in `buf`.
async fn read_answer(stream: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<bool> {
    buf.clear();
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 16];
        let mut answer = httparse::Response::new(&mut headers);
        if let httparse::Status::Complete(head) = answer
            .parse(buf)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?
        {
            let length = answer
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                .and_then(|h| {
                    std::str::from_utf8(h.value)
                        .ok()?
                        .trim()
                        .parse::<usize>()
                        .ok()
                })
                .ok_or_else(|| std::io::Error::other("an answer without content-length"))?;
            let status = answer.code;
            while buf.len() < head + length {
                if stream.read_buf(buf).await? == 0 {
                    return Err(std::io::ErrorKind::UnexpectedEof.into());
                }
            }
            return Ok(status == Some(200) && &buf[head..head + length] == b"success");
        }
        if stream.read_buf(buf).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
    }
}

/// Offers every request open-loop at `rate`/s, spread round-robin over the relays: request i
/// is due at start + i/rate and goes to relay i mod n, on a keep-alive connection of that
/// relay's pool — the most recently freed one, or a new one while fewer than `max_in_flight`
/// requests are in flight (as an HTTP client's pool behaves: only as many connections as the
/// load needs). When `max_in_flight` are in flight the next request waits, and its latency,
/// measured from its due time, shows it. A connection that fails is dropped. Returns
/// (latencies of the good answers, good, failed, elapsed).
///
/// Written on a raw socket instead of an HTTP client library: at 40,000 requests/s reqwest's
/// per-request work (URL parsing, its pool, its dispatch tasks) cost 29 ms of CPU per 1,000
/// requests on the cores the relay needs (12 ms with this).
async fn offer(
    requests: Arc<Vec<Vec<u8>>>,
    hosts: Vec<String>,
    rate: u64,
    max_in_flight: usize,
) -> (Vec<Duration>, usize, usize, Duration) {
    type Pool = Arc<Mutex<Vec<TcpStream>>>;
    let total = requests.len();
    let pools: Vec<Pool> = hosts.iter().map(|_| Pool::default()).collect();
    let gate = Arc::new(Semaphore::new(max_in_flight));
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let start = tokio::time::Instant::now();
    let mut tasks = Vec::with_capacity(total);
    for i in 0..total {
        let due = start + interval.mul_f64(i as f64);
        if tokio::time::Instant::now() < due {
            tokio::time::sleep_until(due).await;
        }
        let permit = gate
            .clone()
            .acquire_owned()
            .await
            .expect("the gate is never closed");
        let (requests, pool) = (requests.clone(), pools[i % hosts.len()].clone());
        let host = hosts[i % hosts.len()].clone();
        tasks.push(tokio::spawn(async move {
            let _permit = permit;
            let idle = pool.lock().expect("pool").pop();
            let answered = async {
                let mut stream = match idle {
                    Some(s) => s,
                    None => {
                        let s = TcpStream::connect(&host).await?;
                        s.set_nodelay(true)?;
                        s
                    }
                };
                let mut buf = Vec::with_capacity(256);
                stream.write_all(&requests[i]).await?;
                let good = read_answer(&mut stream, &mut buf).await?;
                pool.lock().expect("pool").push(stream);
                std::io::Result::Ok(good)
            };
            let good = matches!(
                tokio::time::timeout(Duration::from_secs(10), answered).await,
                Ok(Ok(true))
            );
            (good, due.elapsed())
        }));
    }
    let mut latencies = Vec::with_capacity(total);
    let mut failed = 0usize;
    for t in tasks {
        match t.await {
            Ok((true, latency)) => latencies.push(latency),
            _ => failed += 1,
        }
    }
    let ok = latencies.len();
    (latencies, ok, failed, Instant::now() - start.into_std())
}

fn main() {
    let opts = parse_opts();
    // One thread: the load generator needs a fraction of a core, and a second worker would only
    // add wake-ups between threads on the cores the relay needs.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let team = opts.pg.then(|| team_database(&runtime));
    let env = team.as_ref().map(|t| t.2.clone()).unwrap_or_default();
    let procs = if opts.pg { opts.procs } else { 1 };
    let relays: Vec<(Child, String)> = (0..procs)
        .map(|n| {
            let data = dir.path().join(format!("relay{n}"));
            spawn_relay(n, &data, &env)
        })
        .collect();
    let bases: Vec<String> = relays.iter().map(|r| r.1.clone()).collect();

    let total = (opts.rate * opts.secs) as usize;
    eprintln!("pre-encrypting {total} pushes…");
    let crypt = MsgCrypt::new(TOKEN, AES_KEY, APPID).expect("crypt");
    let ts = "1700000000";
    let nonce = "1590219412";
    // Each push is a whole HTTP/1.1 request, built here so that the timed phase only writes
    // bytes: the load generator shares the two cores with the relay, and every microsecond it
    // spends building requests is one the relay does not get.
    let requests: Vec<Vec<u8>> = (0..total)
        .map(|i| {
            let xml = format!(
                "<xml><ToUserName><![CDATA[gh_aaaaaaaaaaaa]]></ToUserName><FromUserName><![CDATA[oBenchUser{i}]]></FromUserName>\
                 <CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType>\
                 <Content><![CDATA[load test message {i}]]></Content><MsgId>{}</MsgId></xml>",
                10_000_000_000_i64 + i as i64
            );
            let (body, sig) = crypt.encrypt_push(&xml, &Envelope::ToUserName("gh_aaaaaaaaaaaa".into()), ts, nonce);
            let host = host_of(&bases[i % bases.len()]);
            format!(
                "POST /wechat/{AUTHORIZER}/callback?timestamp={ts}&nonce={nonce}&encrypt_type=aes&msg_signature={sig} HTTP/1.1\r\n\
                 Host: {host}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
            .into_bytes()
        })
        .collect();

    // Where the CPU goes during the load: relays, PostgreSQL (every process of the cluster),
    // and this load generator.
    let relay_pids: Vec<u32> = relays.iter().map(|r| r.0.id()).collect();
    let postmaster = team
        .as_ref()
        .and_then(|(_, url, _)| runtime.block_on(postmaster_pid(url)));
    let cpu_before = Cpu::now(&relay_pids, postmaster);
    let hosts: Vec<String> = bases.iter().map(|b| host_of(b).to_owned()).collect();
    let (latencies, ok, failed, elapsed) = runtime.block_on(offer(
        Arc::new(requests),
        hosts,
        opts.rate,
        opts.max_in_flight,
    ));

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
    // Team mode: every acknowledged push is in the shared log once, numbered 1..=n.
    let cpu = Cpu::now(&relay_pids, postmaster).since(&cpu_before);
    let stored = team.as_ref().map(|(_, url, _)| {
        runtime.block_on(async {
            let db = connect(url).await;
            let row = db
                .query_one(
                    "SELECT count(*), coalesce(max(seq), 0), count(DISTINCT seq) FROM relay_events",
                    &[],
                )
                .await
                .expect("count the log");
            let (n, max, distinct): (i64, i64, i64) = (row.get(0), row.get(1), row.get(2));
            assert!(
                n == max && n == distinct && n as usize >= ok,
                "the shared log is not 1..=n with every acknowledged push: {n} rows, max {max}, {ok} ok"
            );
            n
        })
    });
    eprintln!(
        "cpu per 1,000 pushes: relay {} ms, postgres {} ms, load generator {} ms",
        cpu.per_1k(cpu.relay, ok),
        cpu.per_1k(cpu.postgres, ok),
        cpu.per_1k(cpu.load, ok)
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
            "store": if opts.pg { "postgres" } else { "sqlite" }, "procs": procs,
            "stored": stored,
            // CPU milliseconds per 1,000 acknowledged pushes.
            "cpu_ms_per_1k": {
                "relay": cpu.per_1k(cpu.relay, ok), "postgres": cpu.per_1k(cpu.postgres, ok),
                "load_generator": cpu.per_1k(cpu.load, ok),
            },
        })
    );
    for (mut child, _) in relays {
        let _ = child.kill();
        let _ = child.wait();
    }
    // The cluster stops when `team` drops, after the relays that used it.
    drop(team);
}
