//! A CLI send while another process holds the data dir's send lock (the desktop app keeps it for
//! as long as its send engine runs): the real `wxdesk-cli send` says who holds it, waits at most
//! `--wait` seconds and gives up with exit 4 and one line, having created no job; when the lock
//! is released while it waits, it takes it and sends. The platform is set up with its secrets
//! in the environment (the other tests use stdin).
#![allow(clippy::unwrap_used)]

mod support;

use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use wxdesk_core::send::SendLock;
use wxdesk_sim::SimConfig;

use support::{SecretsVia, World, cli_command, require_keychain, send_template_args};

async fn job_count(w: &World) -> usize {
    let jobs = w.cli(&["--json", "jobs", "list"]).await.ok().json();
    jobs.as_array().unwrap().len()
}

async fn first_follower(w: &World, appid: &str) -> String {
    w.cli(&["followers", "sync", appid]).await.ok();
    let list = w
        .cli(&["--json", "followers", "list", appid])
        .await
        .ok()
        .json();
    list["followers"][0]["openid"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the OS keychain: WXDESK_TEST_KEYCHAIN=1 scripts/with-keyring.sh cargo test -- --include-ignored"]
async fn a_send_while_the_lock_is_held_waits_at_most_wait_creates_nothing_and_proceeds_once_released()
 {
    require_keychain();
    let w = World::start(SimConfig {
        followers: 3,
        ..SimConfig::default()
    })
    .await;
    let appid = w.set_up_and_authorize_via(SecretsVia::Env).await;
    w.cli(&["templates", "sync", &appid]).await.ok();
    let (template, keys) = w.legacy_template(&appid).await;
    let openid = first_follower(&w, &appid).await;
    let data = w.data_dir();
    let accepted = || async { w.sim_state().await["sends"]["accepted"].as_u64().unwrap() };
    let before = accepted().await;

    // As another sender with job 42 running would hold it.
    let held = SendLock::try_acquire(&data, Some(42)).unwrap().unwrap();
    let mut args = send_template_args(&appid, &template, &["--to", &openid], &keys, "锁");
    args.extend(["--wait".into(), "1".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let started = Instant::now();
    let r = tokio::time::timeout(Duration::from_secs(60), w.cli(&args))
        .await
        .expect("the CLI send hung behind the held lock");
    let took = started.elapsed();
    assert_eq!(r.code, 4, "{r:?}");
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(30),
        "gave up after --wait, not before and not much later: {took:?}"
    );
    let me = std::process::id().to_string();
    let lines: Vec<&str> = r.stderr.trim_end().lines().collect();
    assert_eq!(
        lines.len(),
        2,
        "the waiting note and the one-line reason: {lines:?}"
    );
    for line in &lines {
        assert!(line.contains(&me), "names the holder's pid: {line}");
        assert!(line.contains("任务 42"), "and its job: {line}");
        assert!(line.contains("jobs pause 42"), "and what to do: {line}");
    }
    assert!(lines[1].starts_with("错误："), "{}", lines[1]);
    assert!(lines[1].contains("没有创建"), "{}", lines[1]);
    let waiting: Value = serde_json::from_str(r.stdout.lines().next().unwrap()).unwrap();
    assert_eq!(waiting["event"], "waiting");
    assert_eq!(waiting["holder_pid"], std::process::id());
    assert_eq!(waiting["holder_job_id"], 42);
    assert_eq!(r.json()["error"]["code"], "send_busy");
    assert_eq!(job_count(&w).await, 0, "a send that gave up left no job");
    assert_eq!(accepted().await, before);

    // Released while the CLI waits: it takes the lock, creates its job and sends.
    let mut args = send_template_args(&appid, &template, &["--to", &openid], &keys, "锁");
    args.extend(["--wait".into(), "120".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut child = cli_command(Some(&data), &args).spawn().unwrap();
    drop(child.stdin.take());
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let first: Value = serde_json::from_str(&stdout.next_line().await.unwrap().unwrap()).unwrap();
    assert_eq!(first["event"], "waiting", "{first}");
    assert_eq!(job_count(&w).await, 0, "nothing is written while it waits");
    drop(held);

    let mut events = Vec::new();
    while let Some(line) = stdout.next_line().await.unwrap() {
        events.push(serde_json::from_str::<Value>(&line).unwrap());
    }
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .await
        .unwrap();
    let status = child.wait().await.unwrap();
    assert!(status.success(), "{stderr}\n{events:?}");
    assert!(events.iter().any(|e| e["event"] == "created"), "{events:?}");
    let done = events.iter().find(|e| e["event"] == "done").unwrap();
    assert_eq!(done["job"]["counts"]["sent"], 1, "{done}");
    assert_eq!(job_count(&w).await, 1);
    assert_eq!(accepted().await, before + 1);
}
