//! A WeChat stand-in (wxdesk-sim) and a relay (wxdesk-relay) in this test process on loopback,
//! and the real `wxdesk-cli` binary run against them.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use wxdesk_relay::{RelayConfig, RelayHandle};
use wxdesk_sim::{SimConfig, SimHandle};

pub const BIN: &str = env!("CARGO_BIN_EXE_wxdesk-cli");
pub const RELAY_KEY: &str = "cli-test-relay-key-0123456789abcdef";

/// The CLI keeps secrets in the OS keychain like the app, so these tests need the real Secret
/// Service (scripts/with-keyring.sh sets WXDESK_TEST_KEYCHAIN=1 inside a private D-Bus session).
/// They are `#[ignore]`d, so a plain `cargo test` reports them as ignored; run with
/// `--include-ignored` but without the keychain, they fail and say how to run them.
pub fn require_keychain() {
    assert!(
        std::env::var_os("WXDESK_TEST_KEYCHAIN").is_some(),
        "this test needs the OS keychain: run it as `WXDESK_TEST_KEYCHAIN=1 scripts/with-keyring.sh \
         cargo test -p wxdesk-cli -- --include-ignored` (scripts/test-all.sh does)"
    );
}

fn free_port() -> u16 {
    TcpListener::bind(("127.0.0.1", 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub struct World {
    pub dir: tempfile::TempDir,
    pub sim: SimHandle,
    pub relay: RelayHandle,
    pub http: reqwest::Client,
}

/// What one CLI run printed.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The last stdout line as JSON (the final document of a `--json` run).
    pub fn json(&self) -> Value {
        let line = self.stdout.lines().last().unwrap_or_default();
        serde_json::from_str(line).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}): {}\nstderr: {}",
                self.stdout, self.stderr
            )
        })
    }
    /// The stream line with `"event": EVENT` (progress streams end with `done`, and a job that
    /// needs a look adds an `error` document after it).
    pub fn event(&self, event: &str) -> Value {
        self.stdout
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|v| v["event"] == event)
            .unwrap_or_else(|| panic!("no {event} event: {self:?}"))
    }
    pub fn ok(self) -> Run {
        assert_eq!(
            self.code, 0,
            "stdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }
}

impl World {
    pub async fn start(sim_cfg: SimConfig) -> World {
        let dir = tempfile::tempdir().unwrap();
        let relay_port = free_port();
        let sim_port = free_port();
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
            wxdesk_relay::start(RelayConfig::load_with_env(None, |k| env.get(k).cloned()).unwrap())
                .await
                .unwrap();
        let sim = wxdesk_sim::start(SimConfig {
            listen: format!("127.0.0.1:{sim_port}"),
            relay_url: relay.base_url.clone(),
            auth_domain: "127.0.0.1".into(),
            ..sim_cfg
        })
        .await
        .unwrap();
        World {
            dir,
            sim,
            relay,
            http: reqwest::Client::new(),
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Runs `wxdesk-cli --data-dir <dir> ARGS` with `stdin`, without any WXDESK_ secret in the
    /// environment.
    pub async fn cli_in(&self, args: &[&str], stdin: &str) -> Run {
        run_cli(Some(&self.data_dir()), args, stdin).await
    }

    pub async fn cli(&self, args: &[&str]) -> Run {
        self.cli_in(args, "").await
    }

    pub async fn sim_state(&self) -> Value {
        self.http
            .get(format!("{}/__sim/state", self.sim.base_url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// The first simulated official account.
    pub async fn official_account(&self) -> String {
        let s = self.sim_state().await;
        s["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| !a["kind"].as_str().unwrap_or("").contains("mini"))
            .unwrap()["appid"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// What the admin's browser does with the printed link: open the relay's launch page, follow
    /// it to the sim's login page (the relay as Referer), press 授权, land on the redirect.
    pub async fn approve_in_browser(&self, launch_url: &str, pre_auth_code: &str, appid: &str) {
        let html = self
            .http
            .get(launch_url)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let start = html
            .find(&format!(
                "{}/cgi-bin/componentloginpage?",
                self.sim.base_url
            ))
            .unwrap_or_else(|| panic!("no login link on the launch page: {html}"));
        let rest = &html[start..];
        let login = rest[..rest.find(['"', '\'']).unwrap()].replace("&amp;", "&");
        let page = self
            .http
            .get(&login)
            .header("Referer", launch_url)
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200);
        let r: Value = self
            .http
            .post(format!("{}/__sim/authorize", self.sim.base_url))
            .json(&json!({"pre_auth_code": pre_auth_code, "authorizer_appid": appid}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let redirect = r["redirect"].as_str().unwrap();
        assert_eq!(self.http.get(redirect).send().await.unwrap().status(), 200);
    }

    /// A world whose sim runs with `sim_cfg`, the platform set up, one official account
    /// authorized (`set_up_and_authorize`) and its templates synced. Returns it and the appid.
    pub async fn start_authorized(sim_cfg: SimConfig) -> (World, String) {
        let w = World::start(sim_cfg).await;
        let appid = w.set_up_and_authorize().await;
        w.cli(&["templates", "sync", &appid]).await.ok();
        (w, appid)
    }

    /// platform set → auth link → approve → auth wait: an authorized official account.
    pub async fn set_up_and_authorize(&self) -> String {
        self.set_up_and_authorize_via(SecretsVia::Stdin).await
    }

    /// `set_up_and_authorize` with the platform's secrets passed `via` stdin or the environment.
    pub async fn set_up_and_authorize_via(&self, via: SecretsVia) -> String {
        self.platform_set_via(via).await;
        let (appid, _) = self.link_and_approve().await;
        let card = self
            .cli(&["--json", "auth", "wait", "--timeout", "60"])
            .await
            .ok()
            .json();
        assert_eq!(card["appid"], appid.as_str());
        assert_eq!(card["status"], "authorized");
        assert_eq!(card["has_refresh_token"], true);
        appid
    }

    /// `platform set` with the secrets on stdin, then wait until `platform status` passes.
    pub async fn platform_set(&self) {
        self.platform_set_via(SecretsVia::Stdin).await;
    }

    /// `platform set` with the four secrets as `NAME=value` lines on stdin or in the
    /// environment (never on argv), then wait until `platform status` passes.
    pub async fn platform_set_via(&self, via: SecretsVia) {
        let data_dir = self.data_dir();
        let secrets = [
            (
                "WXDESK_COMPONENT_SECRET",
                wxdesk_sim::SANDBOX_COMPONENT_APPSECRET,
            ),
            (
                "WXDESK_COMPONENT_TOKEN",
                wxdesk_sim::SANDBOX_COMPONENT_TOKEN,
            ),
            (
                "WXDESK_COMPONENT_AES_KEY",
                wxdesk_sim::SANDBOX_COMPONENT_AES_KEY,
            ),
            ("WXDESK_RELAY_KEY", RELAY_KEY),
        ];
        let args = [
            "--json",
            "platform",
            "set",
            "--appid",
            wxdesk_sim::SANDBOX_COMPONENT_APPID,
            "--relay-url",
            &self.relay.base_url,
            "--api-base",
            &self.sim.base_url,
        ];
        let set = match via {
            SecretsVia::Stdin => {
                let lines: String = secrets.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
                run_cli(Some(&data_dir), &args, &lines).await
            }
            SecretsVia::Env => run_cli_env(Some(&data_dir), &args, "", &secrets).await,
        }
        .ok()
        .json();
        assert_eq!(set["appsecret_saved"], true);
        assert_eq!(set["aes_key_saved"], true);
        assert_eq!(set["relay_key_saved"], true);
        assert_eq!(set["token_saved"], true);
        assert_eq!(set["settings"]["mode"], "production");
        // The secrets never reach the settings the CLI prints.
        assert!(
            !set.to_string()
                .contains(wxdesk_sim::SANDBOX_COMPONENT_APPSECRET)
        );

        self.wait_for_ticket().await;
    }

    /// `auth link`, then the admin approves it in the sim. Returns (appid, pre_auth_code).
    pub async fn link_and_approve(&self) -> (String, String) {
        let link = self.cli(&["--json", "auth", "link"]).await.ok().json();
        let pre = link["pre_auth_code"].as_str().unwrap();
        let launch = link["launch_url"].as_str().unwrap();
        assert!(
            launch.starts_with(&format!("{}/auth/start?", self.relay.base_url)),
            "{launch}"
        );
        let appid = self.official_account().await;
        self.approve_in_browser(launch, pre, &appid).await;
        (appid, pre.to_string())
    }

    /// The sim pushes a ticket at start; `platform status` passes once the relay has it.
    pub async fn wait_for_ticket(&self) {
        for _ in 0..100 {
            let r = self.cli(&["--json", "platform", "status"]).await;
            if r.code == 0 {
                assert_eq!(r.json()["ok"], true);
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("platform status never passed");
    }

    /// A template whose every keyword is legacy (`keywordN`, `first`, `remark`): any short text
    /// is a valid value, so the test sends real messages without knowing the rules.
    pub async fn legacy_template(&self, appid: &str) -> (String, Vec<String>) {
        let list = self
            .cli(&["--json", "templates", "list", appid])
            .await
            .ok()
            .json();
        let t = list
            .as_array()
            .unwrap()
            .iter()
            .find(|t| {
                t["fields"].as_array().unwrap().iter().all(|f| {
                    let k = f["key"].as_str().unwrap();
                    k.starts_with("keyword") || k == "first" || k == "remark"
                })
            })
            .unwrap_or_else(|| panic!("no legacy template in {list}"));
        let keys = t["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["key"].as_str().unwrap().to_string())
            .collect();
        (t["template_id"].as_str().unwrap().to_string(), keys)
    }
}

/// How a test hands `platform set` its secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretsVia {
    Stdin,
    Env,
}

pub async fn run_cli(data_dir: Option<&Path>, args: &[&str], stdin: &str) -> Run {
    run_cli_env(data_dir, args, stdin, &[]).await
}

/// `wxdesk-cli [--data-dir DIR] ARGS` as a command with piped stdio and no WXDESK_ secret or
/// data dir in its environment.
pub fn cli_command(data_dir: Option<&Path>, args: &[&str]) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(BIN);
    if let Some(d) = data_dir {
        cmd.arg("--data-dir").arg(d);
    }
    cmd.args(args)
        .env_remove("WXDESK_COMPONENT_SECRET")
        .env_remove("WXDESK_COMPONENT_AES_KEY")
        .env_remove("WXDESK_RELAY_KEY")
        .env_remove("WXDESK_COMPONENT_TOKEN")
        .env_remove("WXDESK_DATA_DIR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// `run_cli` with `env` set for the child.
pub async fn run_cli_env(
    data_dir: Option<&Path>,
    args: &[&str],
    stdin: &str,
    env: &[(&str, &str)],
) -> Run {
    let mut cmd = cli_command(data_dir, args);
    cmd.envs(env.iter().copied());
    let mut child = cmd.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).await.unwrap();
    drop(input);
    let out = child.wait_with_output().await.unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `--json send template --account APPID --template TEMPLATE`, then `target` (`--to OPENID`,
/// `--list NAME`…), then `--data KEY=value` for every key of the template.
pub fn send_template_args(
    appid: &str,
    template: &str,
    target: &[&str],
    keys: &[String],
    value: &str,
) -> Vec<String> {
    let mut args: Vec<String> = ["--json", "send", "template", "--account", appid]
        .into_iter()
        .chain(["--template", template])
        .chain(target.iter().copied())
        .map(str::to_string)
        .collect();
    for k in keys {
        args.extend(["--data".to_string(), format!("{k}={value}")]);
    }
    args
}

/// A failed run: non-zero, and exactly one line on stderr.
pub fn assert_one_line_failure(r: &Run) {
    assert_ne!(r.code, 0, "expected a failure: {r:?}");
    assert_eq!(
        r.stderr.trim_end().lines().count(),
        1,
        "stderr: {:?}",
        r.stderr
    );
}
