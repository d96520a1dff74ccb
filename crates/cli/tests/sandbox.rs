//! `sandbox start` in a child process (sim + relay on loopback, the data dir configured for
//! them, stopped by SIGTERM), the mobile QR link, and a detached send paused from another
//! process.
#![allow(clippy::unwrap_used)]

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use support::{Run, require_keychain, run_cli};

struct Sandbox {
    child: std::process::Child,
    lines: BufReader<std::process::ChildStdout>,
    started: Value,
}

fn start_sandbox(dir: &std::path::Path) -> Sandbox {
    let mut child = Command::new(support::BIN)
        .arg("--data-dir")
        .arg(dir)
        .args(["--json", "sandbox", "start"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    lines.read_line(&mut first).unwrap();
    let started: Value = serde_json::from_str(&first).unwrap();
    Sandbox {
        child,
        lines,
        started,
    }
}

async fn cli(dir: &std::path::Path, args: &[&str]) -> Run {
    run_cli(Some(dir), args, "").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the OS keychain: WXDESK_TEST_KEYCHAIN=1 scripts/with-keyring.sh cargo test -- --include-ignored"]
async fn sandbox_start_serves_loopback_until_sigterm_and_a_detached_send_pauses_from_another_process()
 {
    require_keychain();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut sb = start_sandbox(dir);
    assert_eq!(sb.started["event"], "started");
    let sim = sb.started["sim_url"].as_str().unwrap().to_string();
    let relay = sb.started["relay_url"].as_str().unwrap().to_string();
    assert!(sim.starts_with("http://127.0.0.1:") && relay.starts_with("http://127.0.0.1:"));

    // The data dir now points at them: the connection check passes once the ticket is in.
    let mut passed = false;
    for _ in 0..100 {
        let r = cli(dir, &["--json", "platform", "status"]).await;
        if r.code == 0 {
            passed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(passed, "platform status never passed against the sandbox");

    // --mobile: the mobile link and a QR code drawn in the terminal.
    let mobile = cli(dir, &["auth", "link", "--mobile"]).await.ok();
    assert!(
        mobile.stdout.contains(&format!("{relay}/auth/start?")),
        "{}",
        mobile.stdout
    );
    assert!(mobile.stdout.contains("mobile=1"), "{}", mobile.stdout);
    assert!(
        mobile.stdout.contains('█') || mobile.stdout.contains('▀'),
        "{}",
        mobile.stdout
    );

    // Authorize an official account through the sim's page.
    let link = cli(dir, &["--json", "auth", "link"]).await.ok().json();
    let http = reqwest::Client::new();
    let state: Value = http
        .get(format!("{sim}/__sim/state"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let appid = state["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| !a["kind"].as_str().unwrap().contains("mini"))
        .unwrap()["appid"]
        .as_str()
        .unwrap()
        .to_string();
    let r: Value = http
        .post(format!("{sim}/__sim/authorize"))
        .json(
            &serde_json::json!({"pre_auth_code": link["pre_auth_code"], "authorizer_appid": appid}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["info_type"], "authorized", "{r}");
    let card = cli(dir, &["--json", "auth", "wait", "--timeout", "60"])
        .await
        .ok()
        .json();
    assert_eq!(card["appid"], appid.as_str());

    cli(dir, &["templates", "sync", &appid]).await.ok();
    cli(dir, &["followers", "sync", &appid]).await.ok();
    cli(
        dir,
        &[
            "lists",
            "create",
            "all",
            "--account",
            &appid,
            "--all-followers",
        ],
    )
    .await
    .ok();
    let templates = cli(dir, &["--json", "templates", "list", &appid])
        .await
        .ok()
        .json();
    let legacy = templates
        .as_array()
        .unwrap()
        .iter()
        .find(|t| {
            t["fields"].as_array().unwrap().iter().all(|f| {
                f["key"].as_str().unwrap().starts_with("keyword")
                    || f["key"] == "first"
                    || f["key"] == "remark"
            })
        })
        .unwrap();
    let tid = legacy["template_id"].as_str().unwrap();
    let key = legacy["fields"][0]["key"].as_str().unwrap();
    let data = format!("{key}=通知");

    // Detached: returns at once with the job id; a background process sends slowly.
    let detached = cli(
        dir,
        &[
            "--json",
            "send",
            "template",
            "--account",
            &appid,
            "--template",
            tid,
            "--list",
            "all",
            "--data",
            &data,
            "--rate",
            "5",
            "--concurrency",
            "1",
            "--detach",
        ],
    )
    .await
    .ok()
    .json();
    assert_eq!(detached["detached"], true);
    let job = detached["job_id"].as_i64().unwrap().to_string();
    let mut sending = false;
    for _ in 0..200 {
        let s = cli(dir, &["--json", "jobs", "show", &job])
            .await
            .ok()
            .json();
        if s["sender_pid"].is_number() && s["job"]["counts"]["sent"].as_u64().unwrap() > 0 {
            sending = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(sending, "the background sender never started");

    // Paused from here: the background process pauses its job and exits.
    let paused = cli(dir, &["--json", "jobs", "pause", &job])
        .await
        .ok()
        .json();
    assert_eq!(paused["status"], "paused");
    let shown = cli(dir, &["--json", "jobs", "show", &job])
        .await
        .ok()
        .json();
    assert_eq!(shown["sender_pid"], Value::Null);
    let sent = shown["job"]["counts"]["sent"].as_u64().unwrap();
    assert!(sent > 0 && sent < 1000, "{shown}");
    assert_eq!(
        shown["job"]["counts"]["uncertain"], 0,
        "a pause leaves nothing uncertain"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let later = cli(dir, &["--json", "jobs", "show", &job])
        .await
        .ok()
        .json();
    assert_eq!(
        later["job"]["counts"]["sent"].as_u64().unwrap(),
        sent,
        "nothing sends after the pause"
    );

    let cancelled = cli(dir, &["--json", "jobs", "cancel", &job])
        .await
        .ok()
        .json();
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(
        cancelled["counts"]["cancelled"].as_u64().unwrap(),
        1000 - sent
    );

    // SIGTERM stops the sandbox cleanly.
    let pid = sb.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = sb.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let mut last = String::new();
    sb.lines.read_line(&mut last).unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&last).unwrap()["event"],
        "stopped"
    );
}
