//! Token storm across processes (issue #10, item 7): two OS processes of the core (the app and
//! the CLI share one core, so two processes opening `Context` on one data dir are the faithful
//! case) start at the same moment, just after the sim's clock has run past the authorizer and
//! component tokens' two hours: one sends a 100-recipient template job through the send engine
//! at concurrency 100 (the app sending), the other makes 100 concurrent API calls for the same
//! account (the CLI syncing; two engines never run at once on one data dir — `send.lock`). The simulator must see exactly ONE
//! authorizer refresh and ONE component token fetch between them: the peers coordinate through
//! the OS keychain and `<data dir>/locks/`. (Counted as the sim's `tokens_issued`: a refresh
//! WeChat granted. With the sharing disabled in `Context::open_with_secrets`, the same run
//! counts 2 and 2.)
//!
//! The processes are this test binary re-executed in child mode (`WXDESK_TOKEN_CHILD` set), so
//! no other binary needs building. Needs the real Secret Service (both processes must see one
//! keychain): run under `scripts/with-keyring.sh` with WXDESK_TEST_KEYCHAIN=1; without it the
//! test says so and returns.
#![allow(clippy::unwrap_used)]

use crate::reliability_support;
use crate::support;

use std::io::Write;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use wxdesk_core::context::Context;
use wxdesk_core::sandbox::start_sandbox;
use wxdesk_core::secrets::MemoryStore;
use wxdesk_core::send::SendLock;
use wxdesk_core::send::{JobSpec, JobStatus, Recipient};

use support::World;

/// Set in a child: the data dir to open.
const CHILD_DIR: &str = "WXDESK_TOKEN_CHILD";
/// Set in a child: the authorized account to call for.
const CHILD_APPID: &str = "WXDESK_TOKEN_CHILD_APPID";
/// Set in the sending child: a JSON file with the job spec and the recipients' openids.
const CHILD_JOB: &str = "WXDESK_TOKEN_CHILD_JOB";
const CALLS_PER_PROCESS: usize = 100;
const READY: &str = "WXDESK-CHILD READY";
const DONE: &str = "WXDESK-CHILD DONE ok=";

fn issued(s: &Value) -> (u64, u64) {
    let t = &s["tokens_issued"];
    (
        t["component"].as_u64().unwrap(),
        t["authorizer"].as_u64().unwrap(),
    )
}

/// A child process (this test binary again, running the storm test with `WXDESK_TOKEN_CHILD`
/// set): open the data dir, say ready, wait for "go" on stdin, then either run the send job of
/// `WXDESK_TOKEN_CHILD_JOB` or make `CALLS_PER_PROCESS` concurrent API calls needing the
/// account's authorizer token; report how many succeeded.
async fn child_mode(dir: std::ffi::OsString, appid: String) {
    let dir = std::path::PathBuf::from(dir);
    let ctx = Context::open(&dir).await.unwrap();
    let ok = match std::env::var_os(CHILD_JOB) {
        Some(job) => {
            let (spec, openids): (JobSpec, Vec<String>) =
                serde_json::from_slice(&std::fs::read(job).unwrap()).unwrap();
            // As the app and the CLI do before running the engine.
            let _sender = SendLock::acquire(&dir, None).await.unwrap();
            let engine = reliability_support::storm_engine(&ctx.platform, CALLS_PER_PROCESS).await;
            wait_for_go();
            let job = engine
                .create_and_start(spec, openids.into_iter().map(Recipient::new))
                .await
                .unwrap();
            let done = engine.wait_idle(job).await.unwrap();
            assert_eq!(done.status, JobStatus::Completed, "{done:?}");
            done.counts.sent as usize
        }
        None => {
            let api = ctx.platform.api().await.unwrap();
            wait_for_go();
            let calls: Vec<_> = (0..CALLS_PER_PROCESS)
                .map(|_| {
                    let (api, appid) = (Arc::clone(&api), appid.clone());
                    tokio::spawn(async move {
                        let client = api.client().clone();
                        api.tokens()
                            .call_with_authorizer_token(&appid, |aat| {
                                let client = client.clone();
                                async move { client.tags_get(&aat).await }
                            })
                            .await
                    })
                })
                .collect();
            let mut ok = 0;
            for c in calls {
                match c.await.unwrap() {
                    Ok(_) => ok += 1,
                    Err(e) => eprintln!("call failed: {e}"),
                }
            }
            ok
        }
    };
    say(&format!("{DONE}{ok}"));
}

/// Tells the parent this process is connected and idle, then waits for its "go".
fn wait_for_go() {
    say(READY);
    let mut go = String::new();
    std::io::stdin().read_line(&mut go).unwrap();
    assert_eq!(go.trim(), "go");
}

/// A line to the parent, flushed at once.
fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").unwrap();
    out.flush().unwrap();
}

struct Peer {
    child: Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
}

/// This binary again, in child mode (sending `job` when given); killed if the test gives up
/// on it.
fn spawn_peer(dir: &std::path::Path, appid: &str, job: Option<&std::path::Path>) -> Peer {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    if let Some(job) = job {
        cmd.env(CHILD_JOB, job);
    }
    let mut child = cmd
        .args([
            "--exact",
            this_test!(two_processes_on_one_data_dir_refresh_an_expired_authorizer_token_once)
                .as_str(),
            "--include-ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_DIR, dir)
        .env(CHILD_APPID, appid)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stdin = child.stdin.take().unwrap();
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    Peer {
        child,
        stdin,
        lines,
    }
}

/// Reads the child's stdout until a line containing `marker`; returns what follows it. (Not
/// "starting with": the harness prints `test <name> ... ` before the test's own output.)
async fn wait_for(lines: &mut Lines<BufReader<ChildStdout>>, marker: &str) -> String {
    while let Some(line) = lines.next_line().await.unwrap() {
        if let Some((_, rest)) = line.split_once(marker) {
            return rest.trim().to_string();
        }
    }
    panic!("the child process ended before printing {marker:?}");
}

/// Starts the sender and the API caller, waits until both are connected, releases them
/// together, and returns each one's count of successes and whether it exited cleanly.
async fn run_peers(
    dir: &std::path::Path,
    appid: &str,
    job: &std::path::Path,
) -> Vec<(String, bool)> {
    let mut peers = vec![
        spawn_peer(dir, appid, Some(job)),
        spawn_peer(dir, appid, None),
    ];
    for p in &mut peers {
        wait_for(&mut p.lines, READY).await;
    }
    for p in &mut peers {
        p.stdin.write_all(b"go\n").await.unwrap();
        p.stdin.flush().await.unwrap();
    }
    let mut out = Vec::new();
    for mut p in peers {
        let ok = wait_for(&mut p.lines, DONE).await;
        out.push((ok, p.child.wait().await.unwrap().success()));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs the OS keychain: WXDESK_TEST_KEYCHAIN=1 scripts/with-keyring.sh cargo test -- --include-ignored"]
async fn two_processes_on_one_data_dir_refresh_an_expired_authorizer_token_once() {
    if let (Some(dir), Ok(appid)) = (std::env::var_os(CHILD_DIR), std::env::var(CHILD_APPID)) {
        return child_mode(dir, appid).await;
    }
    assert!(
        std::env::var_os("WXDESK_TEST_KEYCHAIN").is_some(),
        "needs the OS keychain shared by two processes: run under scripts/with-keyring.sh with WXDESK_TEST_KEYCHAIN=1"
    );
    let dir = tempfile::tempdir().unwrap();
    let ctx = Context::open(dir.path()).await.unwrap();
    let sandbox = start_sandbox(&ctx.platform, dir.path()).await.unwrap();
    let relay = ctx.platform.relay().await.unwrap();
    let mut ticket = None;
    for _ in 0..200 {
        ticket = relay.fetch_ticket().await.unwrap();
        if ticket.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        ticket.is_some(),
        "the relay never received the sandbox ticket"
    );
    let w = World {
        // The secrets are in the keychain; this store stays empty.
        mem: Arc::new(MemoryStore::default()),
        store: ctx.platform.store().clone(),
        platform: ctx.platform.clone(),
        authorizer: ctx.authorizer.clone(),
        sandbox,
        http: reqwest::Client::new(),
        dir,
    };
    let oa = w.authorize_first_oa().await;
    // This process holds the tokens query_auth and the pre-auth code brought (shared with the
    // peers through the keychain).
    ctx.platform
        .api()
        .await
        .unwrap()
        .authorizer_token(&oa)
        .await
        .unwrap();
    let (payload, openids) =
        reliability_support::template_and_followers(&w, &oa, CALLS_PER_PROCESS).await;
    let spec =
        reliability_support::storm_job(&oa, "令牌风暴（双进程）", payload, CALLS_PER_PROCESS);
    let job = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(job.path(), serde_json::to_vec(&(spec, openids)).unwrap()).unwrap();

    // Two hours and a bit later at WeChat: both tokens are dead (the ticket stays), while by
    // the processes' own clocks they still look good — the storm is all 42001s.
    w.advance_sim_clock(7300).await;
    let before = issued(&w.sandbox.sim_state());
    let sent_before = w.sandbox.sim_state()["sends"]["accepted"].as_u64().unwrap();

    // A bound, not a measurement: a hung peer fails the test instead of wedging CI (the
    // children are killed when their handles drop).
    let outcome = tokio::time::timeout(
        Duration::from_secs(180),
        run_peers(w.dir.path(), &oa, job.path()),
    )
    .await
    .expect("the two processes did not finish within 180 s");
    let want = CALLS_PER_PROCESS.to_string();
    assert_eq!(
        outcome,
        vec![(want.clone(), true), (want, true)],
        "every send and every call succeeded"
    );
    let state = w.sandbox.sim_state();
    assert_eq!(
        state["sends"]["accepted"].as_u64().unwrap() - sent_before,
        CALLS_PER_PROCESS as u64
    );
    let after = issued(&state);
    assert_eq!(
        (after.0 - before.0, after.1 - before.1),
        (1, 1),
        "exactly one component token fetch and one authorizer refresh between the two processes"
    );
    w.sandbox.shutdown().await;
}
