//! Power loss resends nothing: the commit that moves rows to `in_flight` is on disk before the
//! request for them leaves. The store runs WAL with synchronous=NORMAL, whose commits are not
//! fsync'd; the engine makes the claim's commit durable. Checked from the outside: a child
//! process (this test binary, re-executed) sends a job against the real wxdesk-sim under
//! `strace -f`, and the trace must show, before every send request is written to its socket, a
//! completed fsync/fdatasync of the database's -wal file covering every WAL write made so far
//! (the claim of that row included).
#![allow(clippy::unwrap_used)]

use crate::send_support;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use send_support::sim::*;
use wxdesk_core::send::http::{Endpoint, HttpSendApi};
use wxdesk_core::send::{EngineConfig, JobStatus, SendEngine};
use wxdesk_core::store::Store;

/// Set in the child's environment: `data_dir\tbase_url\tappid\tappsecret\tjob_id`.
const CHILD_ENV: &str = "WXDESK_SEND_DURABILITY_CHILD";
/// The request line's start, as the HTTP client writes it.
const SEND_REQUEST: &str = "POST /cgi-bin/message/template/send";
const N: usize = 6;

fn engine_for(base_url: &str, appid: &str, appsecret: &str, store: Store) -> SendEngine {
    let tokens = Arc::new(SimTokens::from_parts(base_url, appid, appsecret));
    let api = HttpSendApi::new(
        Endpoint {
            base_url: base_url.to_string(),
            bearer: None,
        },
        tokens,
    )
    .unwrap();
    SendEngine::new(store, Arc::new(api), EngineConfig::default())
}

/// The child: open the data dir, send the job to the end.
async fn child(args: String) {
    let parts: Vec<&str> = args.split('\t').collect();
    let [dir, base_url, appid, appsecret, job] = parts[..] else {
        panic!("bad child args")
    };
    let store = Store::open_in_dir(Path::new(dir)).await.unwrap();
    let engine = engine_for(base_url, appid, appsecret, store);
    let job_id: i64 = job.parse().unwrap();
    engine.start(job_id).await.unwrap();
    let job = engine.wait_idle(job_id).await.unwrap();
    assert_eq!(job.status, JobStatus::Completed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_claim_is_fsynced_before_its_request_is_written_to_the_socket() {
    if let Ok(args) = std::env::var(CHILD_ENV) {
        return child(args).await;
    }
    match Command::new("strace").arg("-V").output() {
        Ok(o) if o.status.success() => {}
        _ => panic!(
            "strace is not installed: install strace (scripts/setup-system.sh) — this test reads \
             the fsync and socket writes of a real send from an strace of it"
        ),
    }
    let env = SimEnv::start(quiet_config()).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in_dir(dir.path()).await.unwrap();
    let engine = engine_for(&env.sim.base_url, &env.appid, &env.appsecret, store.clone());
    let mut spec = env.spec();
    // One row per claim and one request at a time, so each request follows its own claim.
    spec.concurrency = Some(1);
    let job_id = engine
        .create_job(spec, env.recipients(N).await)
        .await
        .unwrap();
    drop(engine);
    drop(store);

    let trace_path = dir.path().join("send.strace");
    let mut traced = Command::new("strace")
        .args(["-f", "-qq", "-tt", "-s", "256", "-o"])
        .arg(&trace_path)
        .args([
            "-e",
            "trace=openat,close,pwrite64,write,writev,sendto,sendmsg,fsync,fdatasync",
        ])
        .arg(std::env::current_exe().unwrap())
        .args([
            this_test!(every_claim_is_fsynced_before_its_request_is_written_to_the_socket).as_str(),
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(
            CHILD_ENV,
            format!(
                "{}\t{}\t{}\t{}\t{job_id}",
                dir.path().display(),
                env.sim.base_url,
                env.appid,
                env.appsecret
            ),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(s) = traced.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = traced.kill();
            panic!("the traced sender did not finish in 120 s");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let mut stderr = String::new();
    if let Some(mut e) = traced.stderr.take() {
        use std::io::Read;
        let _ = e.read_to_string(&mut stderr);
    }
    assert!(
        status.success(),
        "the traced sender failed ({status}); strace needs ptrace (CAP_SYS_PTRACE in containers): {stderr}"
    );

    let trace = std::fs::read_to_string(&trace_path).unwrap();
    let report = check_trace(&trace);
    assert!(
        report.wal_opened,
        "the trace never shows the -wal file being opened"
    );
    assert_eq!(
        report.requests, N,
        "one send request per recipient in the trace"
    );
    assert!(
        report.violations.is_empty(),
        "requests written while the WAL held commits not yet fsync'd (a power loss then could \
         bring their claimed rows back as pending and resend them):\n{}",
        report.violations.join("\n")
    );

    let store = Store::open_in_dir(dir.path()).await.unwrap();
    let sent: i64 = store
        .call(move |c| {
            Ok(
                c.query_row("SELECT sent FROM send_jobs WHERE id = ?", [job_id], |r| {
                    r.get(0)
                })?,
            )
        })
        .await
        .unwrap();
    assert_eq!(sent, N as i64);
    assert_eq!(json_sends(&env.sends()).0, N as u64);
}

struct Report {
    wal_opened: bool,
    requests: usize,
    violations: Vec<String>,
}

/// One syscall's entry or exit, in trace order.
struct Event<'a> {
    line: usize,
    pid: &'a str,
    name: &'a str,
    args: String,
    /// `Some` on the exit side.
    ret: Option<i64>,
    entry: bool,
}

/// Reads `strace -f -tt` output: `PID HH:MM:SS.us call(args) = ret`, with calls split across
/// threads as `call(args <unfinished ...>` … `<... call resumed>rest) = ret`. strace pads the
/// pid to 5 columns, so a pid below 10000 is followed by several spaces.
fn events(trace: &str) -> Vec<Event<'_>> {
    let mut out = Vec::new();
    let mut pending: HashMap<&str, String> = HashMap::new();
    for (i, raw) in trace.lines().enumerate() {
        let Some((pid, rest)) = raw.trim_start().split_once(' ') else {
            continue;
        };
        let Some((_time, rest)) = rest.trim_start().split_once(' ') else {
            continue;
        };
        let rest = rest.trim_start();
        if let Some(r) = rest.strip_prefix("<... ") {
            let Some((name, tail)) = r.split_once(" resumed>") else {
                continue;
            };
            let head = pending.remove(pid).unwrap_or_default();
            out.push(Event {
                line: i + 1,
                pid,
                name,
                args: format!("{head}{tail}"),
                ret: ret_of(tail),
                entry: false,
            });
            continue;
        }
        let Some((name, args)) = rest.split_once('(') else {
            continue;
        };
        if let Some(head) = args.strip_suffix(" <unfinished ...>") {
            pending.insert(pid, head.to_string());
            out.push(Event {
                line: i + 1,
                pid,
                name,
                args: head.to_string(),
                ret: None,
                entry: true,
            });
        } else {
            out.push(Event {
                line: i + 1,
                pid,
                name,
                args: args.to_string(),
                ret: None,
                entry: true,
            });
            out.push(Event {
                line: i + 1,
                pid,
                name,
                args: args.to_string(),
                ret: ret_of(args),
                entry: false,
            });
        }
    }
    out
}

fn ret_of(s: &str) -> Option<i64> {
    let (_, r) = s.rsplit_once(" = ")?;
    r.split_whitespace().next()?.parse().ok()
}

/// The leading fd of `7, "…"` or `7)         = 0`.
fn first_fd(args: &str) -> Option<i64> {
    let digits: String = args
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

fn check_trace(trace: &str) -> Report {
    let mut wal_fds: HashSet<i64> = HashSet::new();
    let mut wal_opened = false;
    // WAL writes so far, and how many of them a completed fsync covers.
    let (mut written, mut synced) = (0u64, 0u64);
    let mut written_at_last_request = 0u64;
    let mut sync_started: HashMap<&str, u64> = HashMap::new();
    let mut requests = 0usize;
    let mut violations = Vec::new();
    for e in events(trace) {
        let fd = first_fd(&e.args);
        let on_wal = fd.is_some_and(|fd| wal_fds.contains(&fd));
        match (e.name, e.entry) {
            ("openat", false) if e.args.contains("-wal\"") => {
                if let Some(fd) = e.ret.filter(|fd| *fd >= 0) {
                    wal_fds.insert(fd);
                    wal_opened = true;
                }
            }
            ("close", true) => {
                if let Some(fd) = fd {
                    wal_fds.remove(&fd);
                }
            }
            ("pwrite64" | "write", true) if on_wal => written += 1,
            ("fsync" | "fdatasync", true) if on_wal => {
                sync_started.insert(e.pid, written);
            }
            ("fsync" | "fdatasync", false) => {
                if let Some(covered) = sync_started.remove(e.pid)
                    && e.ret == Some(0)
                {
                    synced = synced.max(covered);
                }
            }
            ("write" | "writev" | "sendto" | "sendmsg", true)
                if !on_wal && e.args.contains(SEND_REQUEST) =>
            {
                requests += 1;
                if written == written_at_last_request {
                    violations.push(format!(
                        "line {}: request {requests} with no WAL write (its claim) since the previous request",
                        e.line
                    ));
                }
                if synced < written {
                    violations.push(format!(
                        "line {}: request {requests} written with {} of {written} WAL writes not fsync'd",
                        e.line,
                        written - synced
                    ));
                }
                written_at_last_request = written;
            }
            _ => {}
        }
    }
    Report {
        wal_opened,
        requests,
        violations,
    }
}

#[test]
fn the_trace_reader_follows_calls_split_across_threads() {
    // Short pids padded as strace writes them (`%-5d `).
    let trace = r#"100   10:00:00.000001 openat(AT_FDCWD, "/d/wxdesk.sqlite3-wal", O_RDWR|O_CREAT|O_CLOEXEC, 0644 <unfinished ...>
101   10:00:00.000002 openat(AT_FDCWD, "/d/wxdesk.sqlite3", O_RDWR|O_CREAT|O_CLOEXEC, 0644) = 6
100   10:00:00.000003 <... openat resumed>) = 7
100   10:00:00.000004 pwrite64(7, "\x37\x7f", 24, 0) = 24
101   10:00:00.000005 writev(9, [{iov_base="POST /cgi-bin/message/template/send?access_token=x HTTP/1.1\r\n", iov_len=60}], 1) = 60
100   10:00:00.000006 pwrite64(7, "\x00", 4096, 24) = 4096
100   10:00:00.000007 fdatasync(7 <unfinished ...>
101   10:00:00.000008 pwrite64(7, "\x00", 4096, 4120) = 4096
100   10:00:00.000009 <... fdatasync resumed>) = 0
101   10:00:00.000010 sendto(9, "POST /cgi-bin/message/template/send?access_token=x", 50, MSG_NOSIGNAL, NULL, 0) = 50
100   10:00:00.000011 pwrite64(7, "\x00", 4096, 8216) = 4096
100   10:00:00.000012 fsync(7)          = 0
101   10:00:00.000013 write(9, "POST /cgi-bin/message/template/send?access_token=x", 50) = 50
100   10:00:00.000014 pwrite64(6, "\x00", 4096, 0) = 4096
100   10:00:00.000015 close(7)          = 0
100   10:00:00.000016 pwrite64(7, "\x00", 10, 0) = 10
101   10:00:00.000017 write(9, "POST /cgi-bin/message/template/send?access_token=x", 50) = 50
"#;
    let r = check_trace(trace);
    assert!(r.wal_opened);
    assert_eq!(r.requests, 4);
    // 1: its WAL write not synced. 2: the sync began before the third write, which it does not
    // cover. 3: everything synced. 4: fd 6 is the database and fd 7 no longer the WAL: no WAL
    // write (claim) since request 3.
    assert_eq!(r.violations.len(), 3, "{:?}", r.violations);
    assert!(r.violations[0].starts_with("line 5: request 1 written with 1 of 1"));
    assert!(r.violations[1].starts_with("line 10: request 2 written with 1 of 3"));
    assert!(r.violations[2].starts_with("line 17: request 4 with no WAL write"));
}
