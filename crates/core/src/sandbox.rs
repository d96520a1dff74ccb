//! 体验沙箱: wxdesk-sim (the WeChat stand-in) and wxdesk-relay run in-process on loopback with
//! the sandbox credentials, and the platform settings point at them, so the whole journey
//! works offline. The relay keeps its log in `<data dir>/sandbox-relay`; its port is reused
//! across restarts when free, so the feed cursor stays valid.

use std::collections::{HashMap, HashSet};
use std::net::TcpListener;
use std::path::Path;
use std::sync::OnceLock;

use wxdesk_relay::{RelayConfig, RelayHandle};
use wxdesk_sim::{SimConfig, SimHandle};

use crate::accounts::{AccountRow, AccountStatus};
use crate::error::{Error, Result};
use crate::platform::{Platform, SettingsInput};
use crate::secrets::{Secret, SecretKey};
use crate::store::settings::{Egress, Mode};

/// The relay's data directory inside the app's.
pub const RELAY_DIR: &str = "sandbox-relay";

/// The sandbox's own platform: every account authorized in 体验沙箱 is recorded under it.
pub const COMPONENT_APPID: &str = wxdesk_sim::SANDBOX_COMPONENT_APPID;

/// Whether `appid` is one of the sandbox's simulated accounts. The sandbox's world is generated
/// from a fixed seed, so its appids are the same on every computer and in every run; all the
/// indices the simulator can generate are covered, whatever number of accounts it was given.
pub fn is_world_account(appid: &str) -> bool {
    static APPIDS: OnceLock<HashSet<String>> = OnceLock::new();
    APPIDS
        .get_or_init(|| {
            let seed = wxdesk_sim::SimConfig::default().seed;
            wxdesk_sim::world::World::generate(seed, 1000, 1, 0)
                .accounts
                .into_iter()
                .filter(|a| !a.release_test)
                .map(|a| a.appid)
                .collect()
        })
        .contains(appid)
}

/// The appids of the accounts the sandbox offers by default (its authorization page lists
/// them): what the window marks 沙箱 in jobs and history even after the archive is removed.
pub fn default_world_appids() -> Vec<String> {
    let cfg = wxdesk_sim::SimConfig::default();
    wxdesk_sim::world::World::generate(cfg.seed, cfg.accounts, 1, 0)
        .accounts
        .into_iter()
        .filter(|a| !a.release_test)
        .map(|a| a.appid)
        .collect()
}

/// A running sandbox. Dropping it without `shutdown` leaves the servers to the runtime.
pub struct Sandbox {
    /// The simulated WeChat API and login pages (`api_base` in sandbox mode).
    pub sim_url: String,
    /// The relay (`relay_url` in sandbox mode).
    pub relay_url: String,
    sim: SimHandle,
    relay: RelayHandle,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("sim_url", &self.sim_url)
            .field("relay_url", &self.relay_url)
            .finish_non_exhaustive()
    }
}

impl Sandbox {
    /// The simulator's state (`GET /__sim/state` without HTTP), for tests and the debug page.
    pub fn sim_state(&self) -> serde_json::Value {
        self.sim.state()
    }

    pub async fn shutdown(self) {
        self.sim.shutdown().await;
        self.relay.shutdown().await;
    }
}

/// The sandbox accounts authorized in an earlier run, with their refresh tokens from the
/// keychain. WeChat keeps authorizations while the app is closed; the simulator starts afresh
/// each launch, so it is handed them back and nobody has to authorize the sandbox again.
async fn earlier_authorizations(
    platform: &Platform,
    accounts: &[AccountRow],
) -> Result<Vec<wxdesk_sim::PreAuthorized>> {
    let mut authorized = Vec::new();
    for a in accounts
        .iter()
        .filter(|a| a.status == AccountStatus::Authorized)
    {
        if let Some(token) = platform
            .secrets()
            .get(SecretKey::RefreshToken(a.appid.clone()))
            .await?
            .filter(|t| !t.is_empty())
        {
            authorized.push(wxdesk_sim::PreAuthorized {
                appid: a.appid.clone(),
                refresh_token: token.expose().to_string(),
            });
        }
    }
    Ok(authorized)
}

/// Access tokens an earlier sandbox issued, shared through the keychain: the new simulator
/// never issued them, so using one would cost every first call a 40001 and a retry.
async fn forget_access_tokens(platform: &Platform, accounts: &[AccountRow]) -> Result<()> {
    let secrets = platform.secrets();
    secrets
        .delete(SecretKey::ComponentAccessToken(
            wxdesk_sim::SANDBOX_COMPONENT_APPID.into(),
        ))
        .await?;
    for a in accounts {
        secrets
            .delete(SecretKey::AuthorizerAccessToken(a.appid.clone()))
            .await?;
        secrets
            .delete(SecretKey::ClientAccessToken(a.appid.clone()))
            .await?;
    }
    Ok(())
}

/// A free loopback port: `preferred` if it can be bound, else any.
fn reserve_port(preferred: Option<u16>) -> Result<u16> {
    if let Some(p) = preferred.filter(|p| *p != 0)
        && let Ok(l) = TcpListener::bind(("127.0.0.1", p))
    {
        drop(l);
        return Ok(p);
    }
    let l = TcpListener::bind(("127.0.0.1", 0))
        .map_err(|e| Error::Sandbox(format!("127.0.0.1: {e}")))?;
    let port = l
        .local_addr()
        .map_err(|e| Error::Sandbox(e.to_string()))?
        .port();
    Ok(port)
}

fn port_of(url: &str) -> Option<u16> {
    url::Url::parse(url).ok().and_then(|u| u.port())
}

fn new_relay_key() -> Secret {
    Secret::new(hex::encode(rand::random::<[u8; 24]>()))
}

/// Starts the sandbox for this data dir and switches the platform to it (mode 沙箱).
///
/// The two servers know each other's address before either starts (the sim pushes to the relay,
/// the relay's 授权发起页 leads to the sim's login page), so both ports are reserved first;
/// the relay starts first so the sim's first ticket push finds it.
pub async fn start_sandbox(platform: &Platform, data_dir: &Path) -> Result<Sandbox> {
    start_sandbox_with(platform, data_dir, |_| {}).await
}

/// As [`start_sandbox`], with the simulator's configuration adjusted first (faults, latency,
/// an IP whitelist…): for tests, benchmarks and demonstrations of failure handling.
pub async fn start_sandbox_with(
    platform: &Platform,
    data_dir: &Path,
    adjust: impl FnOnce(&mut SimConfig),
) -> Result<Sandbox> {
    let previous = platform
        .store()
        .call(|c| crate::store::settings::load(c))
        .await?;
    if previous
        .as_ref()
        .is_some_and(|s| s.mode == Mode::Production)
    {
        // The sandbox writes its own appsecret, token, key and relay key over the keychain
        // entries: never over a real platform's.
        return Err(Error::input(
            "此数据目录已配置正式平台，切换为沙箱会覆盖钥匙串中的正式密钥；请用另一个数据目录体验沙箱",
            "This data directory is set up for a real platform, and the sandbox would overwrite \
             its secrets in the keychain: try the sandbox with another data directory.",
        ));
    }
    let relay_key = match previous {
        Some(_) => platform.secrets().get(SecretKey::RelayKey).await?,
        None => None,
    }
    .unwrap_or_else(new_relay_key);

    let relay_port = reserve_port(previous.as_ref().and_then(|s| port_of(&s.relay_url)))?;
    let sim_port = reserve_port(previous.as_ref().and_then(|s| port_of(&s.api_base)))?;
    let relay_url = format!("http://127.0.0.1:{relay_port}");
    let sim_url = format!("http://127.0.0.1:{sim_port}");

    let relay_dir = data_dir.join(RELAY_DIR);
    let env: HashMap<&str, String> = HashMap::from([
        ("WXDESK_RELAY_LISTEN", format!("127.0.0.1:{relay_port}")),
        ("WXDESK_RELAY_DATA_DIR", relay_dir.display().to_string()),
        (
            "WXDESK_RELAY_COMPONENT_APPID",
            wxdesk_sim::SANDBOX_COMPONENT_APPID.to_string(),
        ),
        (
            "WXDESK_RELAY_COMPONENT_TOKEN",
            wxdesk_sim::SANDBOX_COMPONENT_TOKEN.to_string(),
        ),
        (
            "WXDESK_RELAY_COMPONENT_AES_KEY",
            wxdesk_sim::SANDBOX_COMPONENT_AES_KEY.to_string(),
        ),
        ("WXDESK_RELAY_API_KEY", relay_key.expose().to_string()),
        ("WXDESK_RELAY_PUBLIC_BASE_URL", relay_url.clone()),
        ("WXDESK_RELAY_UPSTREAM", sim_url.clone()),
        ("WXDESK_RELAY_LOGIN_BASE", sim_url.clone()),
    ]);
    let relay_cfg = RelayConfig::load_with_env(None, |k| env.get(k).cloned())
        .map_err(|e| Error::Sandbox(format!("relay config: {e}")))?;
    let relay = wxdesk_relay::start(relay_cfg)
        .await
        .map_err(|e| Error::Sandbox(format!("relay: {e}")))?;

    let accounts = platform
        .store()
        .call(|c| crate::accounts::db::list(c))
        .await?;
    let mut sim_cfg = SimConfig {
        authorized: earlier_authorizations(platform, &accounts).await?,
        ..SimConfig::default()
    };
    forget_access_tokens(platform, &accounts).await?;
    adjust(&mut sim_cfg);
    sim_cfg.listen = format!("127.0.0.1:{sim_port}");
    sim_cfg.relay_url = relay.base_url.clone();
    sim_cfg.auth_domain = "127.0.0.1".into();
    let sim = match wxdesk_sim::start(sim_cfg).await {
        Ok(sim) => sim,
        Err(e) => {
            relay.shutdown().await;
            return Err(Error::Sandbox(format!("simulator: {e}")));
        }
    };

    platform
        .save_settings(SettingsInput {
            mode: Mode::Sandbox,
            component_appid: wxdesk_sim::SANDBOX_COMPONENT_APPID.into(),
            relay_url: relay.base_url.clone(),
            egress: Egress::Direct,
            api_base: Some(sim.base_url.clone()),
            component_appsecret: Some(Secret::new(wxdesk_sim::SANDBOX_COMPONENT_APPSECRET)),
            component_token: Some(Secret::new(wxdesk_sim::SANDBOX_COMPONENT_TOKEN)),
            component_aes_key: Some(Secret::new(wxdesk_sim::SANDBOX_COMPONENT_AES_KEY)),
            relay_key: Some(relay_key),
        })
        .await?;
    tracing::info!(sim = %sim.base_url, relay = %relay.base_url, "sandbox started");
    Ok(Sandbox {
        sim_url: sim.base_url.clone(),
        relay_url: relay.base_url.clone(),
        sim,
        relay,
    })
}
