//! A workspace for the code-management tests: the sandbox (real wxdesk-sim and wxdesk-relay on
//! loopback) with N mini programs already authorized, their refresh tokens recovered into a
//! secret store kept in a file — so a child process (a kill -9 test) opens the very same
//! workspace — and helpers to read the sim's state.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use wxdesk_core::context::Context;
use wxdesk_core::sandbox::{Sandbox, start_sandbox_with};
use wxdesk_core::secrets::{Secret, SecretKey, SecretStore, Secrets};
use wxdesk_sim::SimConfig;
use wxdesk_sim::world::{Kind, World as SimWorld};

/// Secrets in a JSON file, shared by every process that opens it (a file lock around each
/// read-modify-write). For tests only: the values are in clear.
pub struct FileSecrets {
    path: PathBuf,
    lock: Mutex<()>,
}

impl FileSecrets {
    pub fn new(path: &Path) -> FileSecrets {
        FileSecrets {
            path: path.to_path_buf(),
            lock: Mutex::new(()),
        }
    }

    fn with_map<R>(&self, f: impl FnOnce(&mut HashMap<String, String>) -> (R, bool)) -> R {
        let _g = self.lock.lock().unwrap();
        let lock_file: File = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.path.with_extension("lock"))
            .unwrap();
        lock_file.lock().unwrap();
        let mut map: HashMap<String, String> = std::fs::read(&self.path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        let (r, changed) = f(&mut map);
        if changed {
            let tmp = self.path.with_extension("tmp");
            std::fs::write(&tmp, serde_json::to_vec(&map).unwrap()).unwrap();
            std::fs::rename(&tmp, &self.path).unwrap();
        }
        r
    }
}

impl SecretStore for FileSecrets {
    fn get(&self, key: &SecretKey) -> wxdesk_core::Result<Option<Secret>> {
        Ok(self.with_map(|m| (m.get(&key.name()).map(Secret::new), false)))
    }
    fn set(&self, key: &SecretKey, value: &Secret) -> wxdesk_core::Result<()> {
        self.with_map(|m| {
            m.insert(key.name(), value.expose().to_string());
            ((), true)
        });
        Ok(())
    }
    fn delete(&self, key: &SecretKey) -> wxdesk_core::Result<()> {
        self.with_map(|m| {
            let had = m.remove(&key.name()).is_some();
            ((), had)
        });
        Ok(())
    }
}

/// The data dir's secret file.
pub fn secrets_file(dir: &Path) -> PathBuf {
    dir.join("test-secrets.json")
}

/// A Context on `dir` with the file-backed secrets (what a child process opens too).
pub async fn open(dir: &Path) -> Context {
    let secrets = Secrets::new(Arc::new(FileSecrets::new(&secrets_file(dir))));
    Context::open_with_secrets(dir, secrets).await.unwrap()
}

pub struct World {
    pub dir: tempfile::TempDir,
    pub ctx: Context,
    pub sandbox: Sandbox,
    /// The authorized mini programs, in the sim's order.
    pub minis: Vec<String>,
    pub http: reqwest::Client,
}

/// Mini programs of a sim world with `accounts` accounts (seed as in `cfg`).
pub fn mini_appids(cfg: &SimConfig) -> Vec<String> {
    SimWorld::generate(cfg.seed, cfg.accounts, 1, 0)
        .accounts
        .iter()
        .filter(|a| a.kind == Kind::MiniProgram && !a.release_test)
        .map(|a| a.appid.clone())
        .collect()
}

impl World {
    /// The sandbox with `cfg` (followers kept small) where every mini program of the world is
    /// authorized and known to the workspace.
    pub async fn start(cfg: SimConfig) -> World {
        let dir = tempfile::tempdir().unwrap();
        let ctx = open(dir.path()).await;
        let cfg = SimConfig {
            followers: 10,
            ..cfg
        };
        let minis = mini_appids(&cfg);
        let authorized: Vec<wxdesk_sim::PreAuthorized> = minis
            .iter()
            .enumerate()
            .map(|(i, a)| wxdesk_sim::PreAuthorized {
                appid: a.clone(),
                refresh_token: format!("refreshtoken@@@code-test-{i}"),
            })
            .collect();
        // The sandbox sets the addresses after this, so the whole config can be ours.
        let sandbox = start_sandbox_with(&ctx.platform, dir.path(), move |c| {
            *c = SimConfig { authorized, ..cfg };
        })
        .await
        .unwrap();
        let w = World {
            dir,
            ctx,
            sandbox,
            minis,
            http: reqwest::Client::new(),
        };
        w.wait_for_ticket().await;
        let report = w.ctx.accounts.recover_refresh_tokens().await.unwrap();
        assert_eq!(report.added.len(), w.minis.len(), "{report:?}");
        w
    }

    async fn wait_for_ticket(&self) {
        let relay = self.ctx.platform.relay().await.unwrap();
        for _ in 0..200 {
            if relay.fetch_ticket().await.unwrap().is_some() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the relay never received the sandbox ticket");
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `code` of one mini program in the sim's `/__sim/state`.
    pub fn sim_code(&self, appid: &str) -> Value {
        let s = self.sandbox.sim_state();
        s["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["appid"] == appid)
            .map(|a| a["code"].clone())
            .unwrap()
    }

    /// Moves the sim clock forward (audits end on it).
    pub async fn advance(&self, secs: f64) {
        let r = self
            .http
            .post(format!("{}/__sim/advance-clock", self.sandbox.sim_url))
            .json(&serde_json::json!({"secs": secs, "tickets": false}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }

    /// Runs `f` on the workspace's database file itself (what a crashed process left there is
    /// read and staged this way, beside the Context's own connection).
    pub async fn sql<R: Send + 'static>(
        &self,
        f: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<R> + Send + 'static,
    ) -> R {
        let path = self.path().join("wxdesk.sqlite3");
        tokio::task::spawn_blocking(move || {
            let c = rusqlite::Connection::open(path).unwrap();
            c.busy_timeout(Duration::from_secs(5)).unwrap();
            f(&c).unwrap()
        })
        .await
        .unwrap()
    }

    /// A CSV file in the data dir.
    pub fn csv(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    }
}

/// Polls `f` until it returns `Some`, at most `secs` seconds.
pub async fn eventually<T, F, Fut>(secs: u64, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
