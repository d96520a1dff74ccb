//! `wxdesk-cli backup export|import` through the real binary and the OS keychain (issue #10,
//! item 11): an authorized workspace is exported with a passphrase, a wrong passphrase and a
//! tampered file are refused with one line and leave the new data dir empty, and the restored
//! data dir sends a template message through the restored refresh token — no re-authorization.
#![allow(clippy::unwrap_used)]

mod support;

use support::{World, assert_one_line_failure, require_keychain, run_cli, send_template_args};
use wxdesk_sim::SimConfig;

const PASS: &str = "正确的备份口令 correct horse";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the OS keychain: WXDESK_TEST_KEYCHAIN=1 scripts/with-keyring.sh cargo test -- --include-ignored"]
async fn a_cli_backup_restores_into_a_fresh_data_dir_that_sends_without_reauthorizing() {
    require_keychain();
    let (w, appid) = World::start_authorized(SimConfig {
        followers: 5,
        ..SimConfig::default()
    })
    .await;
    let out_dir = tempfile::tempdir().unwrap();
    let file = out_dir.path().join("wxdesk.wxbak");
    let f = file.to_str().unwrap();

    let short = w.cli_in(&["backup", "export", f], "short\n").await;
    assert_one_line_failure(&short);
    assert_eq!(short.code, 2, "{short:?}");
    assert!(short.stderr.contains("至少 8 个字符"), "{}", short.stderr);
    assert!(!file.exists());

    let made = w
        .cli_in(&["--json", "backup", "export", f], &format!("{PASS}\n"))
        .await
        .ok()
        .json();
    assert_eq!(made["accounts_with_refresh_token"], 1);
    // Platform appsecret, token, EncodingAESKey, relay key, and the account's refresh token.
    assert_eq!(made["secrets"], 5);
    let sealed = std::fs::read(&file).unwrap();
    for secret in [
        wxdesk_sim::SANDBOX_COMPONENT_APPSECRET,
        wxdesk_sim::SANDBOX_COMPONENT_AES_KEY,
        support::RELAY_KEY,
    ] {
        assert!(
            !sealed
                .windows(secret.len())
                .any(|win| win == secret.as_bytes()),
            "a secret is readable in the backup file"
        );
    }
    let again = w
        .cli_in(&["backup", "export", f], &format!("{PASS}\n"))
        .await;
    assert_one_line_failure(&again);
    assert!(again.stderr.contains("--force"), "{}", again.stderr);
    w.cli_in(&["backup", "export", f, "--force"], &format!("{PASS}\n"))
        .await
        .ok();

    let restored_dir = out_dir.path().join("restored");
    let restored = restored_dir.as_path();
    let wrong = run_cli(Some(restored), &["backup", "import", f], "错误的口令xyz\n").await;
    assert_one_line_failure(&wrong);
    assert!(wrong.stderr.contains("口令错误"), "{}", wrong.stderr);
    assert!(!restored.join(wxdesk_core::store::DB_FILE).exists());

    let mut bytes = std::fs::read(&file).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    let tampered = out_dir.path().join("tampered.wxbak");
    std::fs::write(&tampered, &bytes).unwrap();
    let refused = run_cli(
        Some(restored),
        &["backup", "import", tampered.to_str().unwrap()],
        &format!("{PASS}\n"),
    )
    .await;
    assert_one_line_failure(&refused);
    assert!(!restored.join(wxdesk_core::store::DB_FILE).exists());

    let done = run_cli(
        Some(restored),
        &["--json", "backup", "import", f],
        &format!("{PASS}\n"),
    )
    .await
    .ok()
    .json();
    assert_eq!(done["accounts_with_refresh_token"], 1);
    assert_eq!(done["secrets"], 5);
    // A second import into the now-used dir is refused rather than overwriting it.
    let twice = run_cli(
        Some(restored),
        &["backup", "import", f],
        &format!("{PASS}\n"),
    )
    .await;
    assert_one_line_failure(&twice);

    let accounts = run_cli(Some(restored), &["--json", "accounts", "list"], "")
        .await
        .ok()
        .json();
    assert_eq!(accounts[0]["appid"], appid.as_str());
    assert_eq!(accounts[0]["has_refresh_token"], true);

    // The restored process has no access token of its own: this send refreshes through the
    // refresh token that came out of the backup.
    let (template, keys) = w.legacy_template(&appid).await;
    let to = first_follower(restored, &appid).await;
    let before = w.sim_state().await["sends"]["accepted"].as_u64().unwrap();
    let args = send_template_args(&appid, &template, &["--to", &to], &keys, "恢复后发送");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let sent = run_cli(Some(restored), &args, "").await.ok().json();
    assert_eq!(sent["job"]["counts"]["sent"], 1, "{sent}");
    assert_eq!(
        w.sim_state().await["sends"]["accepted"].as_u64().unwrap(),
        before + 1
    );
}

/// A follower's openid via the restored workspace's own follower sync.
async fn first_follower(dir: &std::path::Path, appid: &str) -> String {
    run_cli(Some(dir), &["--json", "followers", "sync", appid], "")
        .await
        .ok();
    let list = run_cli(Some(dir), &["--json", "followers", "list", appid], "")
        .await
        .ok()
        .json();
    list["followers"][0]["openid"].as_str().unwrap().to_string()
}
