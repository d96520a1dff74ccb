//! The `wxdesk-sim` binary: configuration from the environment, base URL on stdout.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[tokio::test]
async fn the_binary_reads_wxdesk_sim_env_vars_and_prints_its_base_url() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wxdesk-sim"))
        .env("WXDESK_SIM_LISTEN", "127.0.0.1:0")
        .env("WXDESK_SIM_ACCOUNTS", "3")
        .env("WXDESK_SIM_FOLLOWERS", "42")
        .env("WXDESK_SIM_SEED", "5")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("binary starts");
    let mut line = String::new();
    let stdout = child.stdout.take().expect("stdout");
    let read = tokio::task::spawn_blocking(move || {
        BufReader::new(stdout).read_line(&mut line).map(|_| line)
    });
    let base = read
        .await
        .expect("join")
        .expect("a line")
        .trim()
        .to_string();
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let state: serde_json::Value = http
        .get(format!("{base}/__sim/state"))
        .send()
        .await
        .expect("state")
        .json()
        .await
        .expect("json");
    let _ = child.kill();
    let _ = child.wait();
    let accounts = state["accounts"].as_array().cloned().unwrap_or_default();
    assert_eq!(accounts.len(), 3);
    assert!(accounts.iter().all(|a| a["followers"] == 42));
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
}

#[test]
fn a_bad_rate_is_refused_with_a_reason() {
    let out = Command::new(env!("CARGO_BIN_EXE_wxdesk-sim"))
        .args(["--busy-rate", "2"])
        .output()
        .expect("binary runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("busy_rate"));
}
