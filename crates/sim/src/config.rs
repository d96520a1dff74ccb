//! `SimConfig`: every key of DESIGN.md's wxdesk-sim section, from a TOML file, flags and
//! `WXDESK_SIM_<KEY>` environment variables (flag > environment > file > default).

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Sandbox platform credentials (contracts.md), shared by the sim, the relay sandbox and the app.
pub const SANDBOX_COMPONENT_APPID: &str = "wx5a9d0c0e7f3b1a2c";
pub const SANDBOX_COMPONENT_APPSECRET: &str = "sandbox-secret-0123456789abcdef0123";
pub const SANDBOX_COMPONENT_TOKEN: &str = "wxdesksandbox";
pub const SANDBOX_COMPONENT_AES_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
pub const SANDBOX_AUTH_DOMAIN: &str = "127.0.0.1";

/// The simulator's configuration. `Default` is the sandbox platform.
#[derive(Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimConfig {
    /// Address to bind, `127.0.0.1:0` for any free port.
    pub listen: String,
    /// Base URL of the relay that receives pushes (`{relay_url}/wechat/component` and
    /// `{relay_url}/wechat/{appid}/callback`). Empty: pushes are counted but not sent.
    pub relay_url: String,
    pub component_appid: String,
    pub component_appsecret: String,
    pub component_token: String,
    pub component_aes_key: String,
    /// The registered 授权发起页 domain (exact host).
    pub auth_domain: String,
    /// Added to every API answer, plus up to `jitter_ms`.
    pub latency_ms: u64,
    pub jitter_ms: u64,
    /// Share of API calls answered `{"errcode":-1,"errmsg":"system error"}`.
    pub busy_rate: f64,
    /// Share of API calls answered HTTP 503.
    pub http5xx_rate: f64,
    /// Share of API calls whose connection is dropped without any answer.
    pub reset_rate: f64,
    /// Share of accepted template messages whose TEMPLATESENDJOBFINISH reports a failure.
    pub delivery_fail_rate: f64,
    /// Number of authorizer accounts (official accounts and mini programs) in the world.
    pub accounts: u32,
    /// Followers per official account (users per mini program).
    pub followers: u32,
    pub seed: u64,
    /// How much faster than real time the sim clock runs.
    pub clock_speed: f64,
    /// Sim seconds between component_verify_ticket pushes (the first is pushed at start).
    pub ticket_interval_secs: u64,
    /// Share of API calls delayed by `slow_ms` (slow responses).
    pub slow_rate: f64,
    pub slow_ms: u64,
    /// Real milliseconds between push retries (original + `push_retries`).
    pub push_retry_interval_ms: u64,
    pub push_retries: u32,
    /// Capacity of the background push queue; pushes beyond it are dropped and counted.
    pub push_queue: usize,
    /// Daily quota overrides by API path, e.g. `"/cgi-bin/message/template/send" = 100000`.
    pub quotas: BTreeMap<String, u64>,
    /// The platform's API IP whitelist; empty allows every caller. Others get 61004
    /// (`cgi-bin/token`: 40164).
    pub ip_whitelist: Vec<String>,
    /// Accounts already authorized when the sim starts, with the refresh token the platform
    /// holds for each: WeChat remembers authorizations across the app's restarts, so the
    /// sandbox, which starts a new sim each launch, hands them back (from the keychain).
    pub authorized: Vec<PreAuthorized>,
    /// Sim seconds from submit_audit to the audit's result (protocol L.8: days at WeChat). An
    /// ext.json whose top level has `"sim_audit": "fail"` is rejected then, `"delay"` is
    /// delayed then and passes `audit_secs` later; anything else passes.
    pub audit_secs: u64,
    /// The platform's monthly audit quota (queryquota `limit`); 85085 beyond it.
    pub audit_quota: u32,
    /// Sim seconds after a commit during which submit_audit answers 61039 (the privacy-API
    /// check; about 60 at WeChat).
    pub privacy_check_secs: u64,
    /// Permission sets (func_info ids) the accounts do NOT grant the platform, e.g. `[89]`: the
    /// APIs of that set then answer 61007 (89 服务号订阅通知 for bizsend; the newtmpl APIs need 18
    /// or 89).
    pub withheld_permission_sets: Vec<u32>,
    /// Whether several accepts of a one-time 订阅通知 add up (protocol G.4, UNCERTAIN for
    /// official accounts; true follows the recommendation) or leave one send.
    pub subscribe_accumulate: bool,
    /// Errcode of a template/bizsend jump to a mini program not linked to the official account
    /// (protocol H.2 recommends 40013; one report says 40165).
    pub unlinked_mini_errcode: i64,
    /// Customer-service messages a user's message allows within 48 hours (protocol I.1: 5 since
    /// 2023; 20 before).
    pub cs_message_quota: u32,
    /// … and a push-menu click, a follow or a QR scan within 1 minute.
    pub cs_event_quota: u32,
    /// Whether a customer-service mini-program card's `thumb_media_id` must be a live temporary
    /// media of the account (40007 otherwise). WeChat documents the field as a media id and
    /// temporary media as expiring after 3 days; its exact check is not documented, so it can
    /// be turned off to model a lenient WeChat.
    pub cs_check_thumb_media: bool,
}

/// One authorization the sim starts with.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PreAuthorized {
    pub appid: String,
    pub refresh_token: String,
}

impl fmt::Debug for PreAuthorized {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PreAuthorized")
            .field("appid", &self.appid)
            .field("refresh_token", &"<redacted>")
            .finish()
    }
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            listen: "127.0.0.1:0".into(),
            relay_url: String::new(),
            component_appid: SANDBOX_COMPONENT_APPID.into(),
            component_appsecret: SANDBOX_COMPONENT_APPSECRET.into(),
            component_token: SANDBOX_COMPONENT_TOKEN.into(),
            component_aes_key: SANDBOX_COMPONENT_AES_KEY.into(),
            auth_domain: SANDBOX_AUTH_DOMAIN.into(),
            latency_ms: 0,
            jitter_ms: 0,
            busy_rate: 0.0,
            http5xx_rate: 0.0,
            reset_rate: 0.0,
            delivery_fail_rate: 0.0,
            accounts: 5,
            followers: 1000,
            seed: 1,
            clock_speed: 1.0,
            ticket_interval_secs: 600,
            slow_rate: 0.0,
            slow_ms: 3000,
            push_retry_interval_ms: 5000,
            push_retries: 2,
            push_queue: 10_000,
            quotas: BTreeMap::new(),
            ip_whitelist: Vec::new(),
            authorized: Vec::new(),
            audit_secs: 2,
            audit_quota: 100,
            privacy_check_secs: 0,
            withheld_permission_sets: Vec::new(),
            subscribe_accumulate: true,
            unlinked_mini_errcode: 40013,
            cs_message_quota: crate::state::WINDOW_QUOTA,
            cs_event_quota: crate::state::EVENT_WINDOW_QUOTA,
            cs_check_thumb_media: true,
        }
    }
}

impl fmt::Debug for SimConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimConfig")
            .field("listen", &self.listen)
            .field("relay_url", &self.relay_url)
            .field("component_appid", &self.component_appid)
            .field("component_appsecret", &"<redacted>")
            .field("component_token", &"<redacted>")
            .field("component_aes_key", &"<redacted>")
            .field("auth_domain", &self.auth_domain)
            .field("latency_ms", &self.latency_ms)
            .field("jitter_ms", &self.jitter_ms)
            .field("busy_rate", &self.busy_rate)
            .field("http5xx_rate", &self.http5xx_rate)
            .field("reset_rate", &self.reset_rate)
            .field("delivery_fail_rate", &self.delivery_fail_rate)
            .field("accounts", &self.accounts)
            .field("followers", &self.followers)
            .field("seed", &self.seed)
            .field("clock_speed", &self.clock_speed)
            .field("ticket_interval_secs", &self.ticket_interval_secs)
            .field("authorized", &self.authorized)
            .field("withheld_permission_sets", &self.withheld_permission_sets)
            .field("subscribe_accumulate", &self.subscribe_accumulate)
            .field("unlinked_mini_errcode", &self.unlinked_mini_errcode)
            .field("cs_message_quota", &self.cs_message_quota)
            .field("cs_event_quota", &self.cs_event_quota)
            .field("cs_check_thumb_media", &self.cs_check_thumb_media)
            .finish_non_exhaustive()
    }
}

impl SimConfig {
    /// Reject values that would make the world or the fault model meaningless.
    pub fn validate(&self) -> Result<()> {
        let rates = [
            ("busy_rate", self.busy_rate),
            ("http5xx_rate", self.http5xx_rate),
            ("reset_rate", self.reset_rate),
            ("delivery_fail_rate", self.delivery_fail_rate),
            ("slow_rate", self.slow_rate),
        ];
        for (name, r) in rates {
            if !(0.0..=1.0).contains(&r) {
                return Err(Error::ConfigInvalid(format!(
                    "{name} 必须在 0 到 1 之间 / must be in [0, 1]"
                )));
            }
        }
        if !(self.clock_speed.is_finite() && self.clock_speed > 0.0) {
            return Err(Error::ConfigInvalid(
                "clock_speed 必须大于 0 / must be > 0".into(),
            ));
        }
        if self.accounts == 0 || self.accounts > 1000 {
            return Err(Error::ConfigInvalid(
                "accounts 必须在 1 到 1000 之间 / must be 1..=1000".into(),
            ));
        }
        if self.component_aes_key.len() != 43 {
            return Err(Error::ConfigInvalid(
                "component_aes_key 必须为 43 个字符 / must be 43 chars".into(),
            ));
        }
        if self.cs_message_quota == 0 || self.cs_event_quota == 0 {
            return Err(Error::ConfigInvalid(
                "cs_message_quota / cs_event_quota 必须大于 0 / must be > 0".into(),
            ));
        }
        if self.ticket_interval_secs == 0 {
            return Err(Error::ConfigInvalid(
                "ticket_interval_secs 必须大于 0 / must be > 0".into(),
            ));
        }
        Ok(())
    }

    /// Parse a TOML document.
    pub fn from_toml(text: &str) -> Result<Self> {
        Ok(toml::from_str(text)?)
    }
}

/// Command-line flags; each also reads `WXDESK_SIM_<KEY>`.
#[derive(Debug, Default, clap::Parser)]
#[command(
    name = "wxdesk-sim",
    version,
    about = "wxdesk-sim: 本地微信服务器模拟器 / a local stand-in for the WeChat servers"
)]
pub struct SimArgs {
    /// TOML configuration file
    #[arg(long, env = "WXDESK_SIM_CONFIG")]
    pub config: Option<PathBuf>,
    #[arg(long, env = "WXDESK_SIM_LISTEN")]
    pub listen: Option<String>,
    #[arg(long, env = "WXDESK_SIM_RELAY_URL")]
    pub relay_url: Option<String>,
    #[arg(long, env = "WXDESK_SIM_COMPONENT_APPID")]
    pub component_appid: Option<String>,
    #[arg(long, env = "WXDESK_SIM_COMPONENT_APPSECRET", hide_env_values = true)]
    pub component_appsecret: Option<String>,
    #[arg(long, env = "WXDESK_SIM_COMPONENT_TOKEN", hide_env_values = true)]
    pub component_token: Option<String>,
    #[arg(long, env = "WXDESK_SIM_COMPONENT_AES_KEY", hide_env_values = true)]
    pub component_aes_key: Option<String>,
    #[arg(long, env = "WXDESK_SIM_AUTH_DOMAIN")]
    pub auth_domain: Option<String>,
    #[arg(long, env = "WXDESK_SIM_LATENCY_MS")]
    pub latency_ms: Option<u64>,
    #[arg(long, env = "WXDESK_SIM_JITTER_MS")]
    pub jitter_ms: Option<u64>,
    #[arg(long, env = "WXDESK_SIM_BUSY_RATE")]
    pub busy_rate: Option<f64>,
    #[arg(long, env = "WXDESK_SIM_HTTP5XX_RATE")]
    pub http5xx_rate: Option<f64>,
    #[arg(long, env = "WXDESK_SIM_RESET_RATE")]
    pub reset_rate: Option<f64>,
    #[arg(long, env = "WXDESK_SIM_DELIVERY_FAIL_RATE")]
    pub delivery_fail_rate: Option<f64>,
    #[arg(long, env = "WXDESK_SIM_ACCOUNTS")]
    pub accounts: Option<u32>,
    #[arg(long, env = "WXDESK_SIM_FOLLOWERS")]
    pub followers: Option<u32>,
    #[arg(long, env = "WXDESK_SIM_SEED")]
    pub seed: Option<u64>,
    #[arg(long, env = "WXDESK_SIM_CLOCK_SPEED")]
    pub clock_speed: Option<f64>,
    #[arg(long, env = "WXDESK_SIM_TICKET_INTERVAL_SECS")]
    pub ticket_interval_secs: Option<u64>,
    #[arg(long, env = "WXDESK_SIM_SLOW_RATE")]
    pub slow_rate: Option<f64>,
    #[arg(long, env = "WXDESK_SIM_SLOW_MS")]
    pub slow_ms: Option<u64>,
    #[arg(long, env = "WXDESK_SIM_PUSH_RETRY_INTERVAL_MS")]
    pub push_retry_interval_ms: Option<u64>,
    #[arg(long, env = "WXDESK_SIM_PUSH_RETRIES")]
    pub push_retries: Option<u32>,
    #[arg(long, env = "WXDESK_SIM_PUSH_QUEUE")]
    pub push_queue: Option<usize>,
    /// Daily quota override, `PATH=N`; repeatable (env: comma-separated)
    #[arg(long = "quota", env = "WXDESK_SIM_QUOTAS", value_delimiter = ',')]
    pub quotas: Vec<String>,
    /// API IP whitelist (comma-separated); empty allows everyone
    #[arg(long, env = "WXDESK_SIM_IP_WHITELIST", value_delimiter = ',')]
    pub ip_whitelist: Vec<String>,
    #[arg(long, env = "WXDESK_SIM_AUDIT_SECS")]
    pub audit_secs: Option<u64>,
    #[arg(long, env = "WXDESK_SIM_AUDIT_QUOTA")]
    pub audit_quota: Option<u32>,
    #[arg(long, env = "WXDESK_SIM_PRIVACY_CHECK_SECS")]
    pub privacy_check_secs: Option<u64>,
    /// Permission sets the accounts withhold (comma-separated ids, e.g. 89)
    #[arg(
        long,
        env = "WXDESK_SIM_WITHHELD_PERMISSION_SETS",
        value_delimiter = ','
    )]
    pub withheld_permission_sets: Vec<u32>,
    #[arg(long, env = "WXDESK_SIM_SUBSCRIBE_ACCUMULATE")]
    pub subscribe_accumulate: Option<bool>,
    #[arg(long, env = "WXDESK_SIM_UNLINKED_MINI_ERRCODE")]
    pub unlinked_mini_errcode: Option<i64>,
    #[arg(long, env = "WXDESK_SIM_CS_MESSAGE_QUOTA")]
    pub cs_message_quota: Option<u32>,
    #[arg(long, env = "WXDESK_SIM_CS_EVENT_QUOTA")]
    pub cs_event_quota: Option<u32>,
}

impl SimArgs {
    /// The file (if any), overridden by flags and environment, validated.
    pub fn into_config(self) -> Result<SimConfig> {
        let mut cfg = match &self.config {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| Error::ConfigRead {
                    path: path.display().to_string(),
                    source,
                })?;
                SimConfig::from_toml(&text)?
            }
            None => SimConfig::default(),
        };
        macro_rules! over {
            ($($k:ident),*) => { $( if let Some(v) = self.$k { cfg.$k = v; } )* };
        }
        over!(
            listen,
            relay_url,
            component_appid,
            component_appsecret,
            component_token,
            component_aes_key,
            auth_domain,
            latency_ms,
            jitter_ms,
            busy_rate,
            http5xx_rate,
            reset_rate,
            delivery_fail_rate,
            accounts,
            followers,
            seed,
            clock_speed,
            ticket_interval_secs,
            slow_rate,
            slow_ms,
            push_retry_interval_ms,
            push_retries,
            push_queue,
            audit_secs,
            audit_quota,
            privacy_check_secs,
            subscribe_accumulate,
            unlinked_mini_errcode,
            cs_message_quota,
            cs_event_quota
        );
        if !self.withheld_permission_sets.is_empty() {
            cfg.withheld_permission_sets = self.withheld_permission_sets.clone();
        }
        for q in &self.quotas {
            let (path, n) = q.split_once('=').ok_or_else(|| {
                Error::ConfigInvalid(format!("quota 格式应为 PATH=N / expected PATH=N: {q}"))
            })?;
            let n: u64 = n
                .trim()
                .parse()
                .map_err(|_| Error::ConfigInvalid(format!("quota 数值无效 / bad number: {q}")))?;
            cfg.quotas.insert(path.trim().to_string(), n);
        }
        if !self.ip_whitelist.is_empty() {
            cfg.ip_whitelist = self
                .ip_whitelist
                .iter()
                .map(|s| s.trim().to_string())
                .collect();
        }
        cfg.validate()?;
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn default_is_the_sandbox_platform() {
        let c = SimConfig::default();
        assert_eq!(c.component_appid, "wx5a9d0c0e7f3b1a2c");
        assert_eq!(c.component_aes_key.len(), 43);
        assert_eq!(c.auth_domain, "127.0.0.1");
        assert!(c.validate().is_ok());
    }

    #[test]
    fn flags_override_the_file_and_quotas_parse() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("sim.toml");
        std::fs::write(&path, "seed = 7\nfollowers = 50\nrelay_url = \"http://a\"\n[quotas]\n\"/cgi-bin/user/get\" = 3\n")
            .unwrap_or_else(|e| panic!("{e}"));
        let args = SimArgs::parse_from([
            "wxdesk-sim",
            "--config",
            path.to_str().unwrap_or_default(),
            "--followers",
            "60",
            "--quota",
            "/cgi-bin/message/template/send=9",
        ]);
        let c = args.into_config().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.seed, 7);
        assert_eq!(c.followers, 60);
        assert_eq!(c.relay_url, "http://a");
        assert_eq!(c.quotas.get("/cgi-bin/user/get"), Some(&3));
        assert_eq!(c.quotas.get("/cgi-bin/message/template/send"), Some(&9));
    }

    #[test]
    fn audit_secs_defaults_to_two_and_comes_from_toml_or_flags() {
        assert_eq!(SimConfig::default().audit_secs, 2);
        let c = SimConfig::from_toml("audit_secs = 5\naudit_quota = 3")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((c.audit_secs, c.audit_quota), (5, 3));
        let args = SimArgs::parse_from(["wxdesk-sim", "--audit-secs", "9"]);
        assert_eq!(
            args.into_config()
                .unwrap_or_else(|e| panic!("{e}"))
                .audit_secs,
            9
        );
    }

    #[test]
    fn unknown_keys_and_bad_rates_are_refused() {
        assert!(SimConfig::from_toml("sede = 1").is_err());
        let c = SimConfig {
            busy_rate: 1.5,
            ..SimConfig::default()
        };
        assert!(c.validate().is_err());
    }

    #[test]
    fn debug_hides_the_secrets() {
        let s = format!("{:?}", SimConfig::default());
        assert!(!s.contains(SANDBOX_COMPONENT_APPSECRET));
        assert!(!s.contains(SANDBOX_COMPONENT_AES_KEY));
    }
}
