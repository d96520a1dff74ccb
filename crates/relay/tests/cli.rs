//! The binary's command line and configuration: --help, no secrets on argv, clear errors for a
//! missing key, and a start from a TOML file whose secrets live in separate files.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;

fn relay_cmd() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_wxdesk-relay"));
    c.env_clear();
    c
}

#[test]
fn help_documents_the_config_and_the_environment() {
    let out = relay_cmd().arg("--help").output().expect("run");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "--config",
        "--ready-file",
        "WXDESK_RELAY_",
        "replay_window_secs",
        "_file",
    ] {
        assert!(text.contains(needle), "--help mentions {needle}:\n{text}");
    }
}

#[test]
fn secrets_cannot_be_given_on_the_command_line() {
    for flag in ["--api-key", "--component-token", "--component-aes-key"] {
        let out = relay_cmd().args([flag, "x"]).output().expect("run");
        assert_eq!(out.status.code(), Some(2), "{flag} is not an option");
    }
}

#[test]
fn a_missing_required_key_stops_the_relay_with_a_message_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = relay_cmd()
        .env("WXDESK_RELAY_DATA_DIR", dir.path())
        .env("WXDESK_RELAY_COMPONENT_APPID", COMPONENT_APPID)
        .env("WXDESK_RELAY_COMPONENT_TOKEN", TOKEN)
        .env("WXDESK_RELAY_COMPONENT_AES_KEY", AES_KEY)
        .env("WXDESK_RELAY_PUBLIC_BASE_URL", "https://relay.example.com")
        .stdout(Stdio::null())
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("api_key") && err.contains("WXDESK_RELAY_API_KEY"),
        "{err}"
    );
    assert!(
        !err.contains(AES_KEY) && !err.contains(TOKEN),
        "no secret in the error: {err}"
    );
}

#[tokio::test]
async fn starts_from_a_toml_file_with_secrets_in_files_and_reports_its_address() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = |name: &str| dir.path().join(name);
    std::fs::write(p("token"), format!("{TOKEN}\n")).expect("write");
    std::fs::write(p("aes"), format!("{AES_KEY}\n")).expect("write");
    std::fs::write(p("api"), format!("{API_KEY}\n")).expect("write");
    let toml = format!(
        "listen = \"127.0.0.1:0\"\ndata_dir = \"{}\"\ncomponent_appid = \"{COMPONENT_APPID}\"\n\
         component_token_file = \"{}\"\ncomponent_aes_key_file = \"{}\"\napi_key_file = \"{}\"\n\
         public_base_url = \"https://relay.example.com\"\n",
        p("data").display(),
        p("token").display(),
        p("aes").display(),
        p("api").display()
    );
    std::fs::write(p("relay.toml"), toml).expect("write");
    let mut child = relay_cmd()
        .arg("--config")
        .arg(p("relay.toml"))
        .arg("--ready-file")
        .arg(p("ready"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut base = None;
    for _ in 0..300 {
        if let Ok(text) = std::fs::read_to_string(p("ready"))
            && text.ends_with('\n')
        {
            base = Some(text.trim().to_owned());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let base = base.expect("ready file written");
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    let resp = client()
        .get(format!("{base}/api/v1/events?after=0"))
        .bearer_auth(API_KEY)
        .send()
        .await
        .expect("get");
    assert_eq!(
        resp.status().as_u16(),
        200,
        "the key read from api_key_file works"
    );
    let _ = child.kill();
    let _ = child.wait();
}
