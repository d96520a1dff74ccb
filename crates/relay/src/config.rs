//! Relay configuration: a TOML file (`--config`) whose every key can be overridden by an
//! environment variable `WXDESK_RELAY_<KEY>`. Secrets (token, EncodingAESKey, api key) come from
//! the file, the environment, or a `<key>_file` that holds only the secret (systemd credentials,
//! Docker/K8s secrets) — never from the command line, where `ps` would show them.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};

/// Default listen address: loopback, behind a TLS reverse proxy.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8780";
/// Default WeChat API base for the egress route.
pub const DEFAULT_UPSTREAM: &str = "https://api.weixin.qq.com";
/// Default host of the authorization login page.
pub const DEFAULT_LOGIN_BASE: &str = "https://mp.weixin.qq.com";
/// Default accepted clock difference between WeChat's `timestamp` and ours.
pub const DEFAULT_REPLAY_WINDOW_SECS: u64 = 300;
/// Default number of days events are kept (0 keeps them forever).
pub const DEFAULT_RETENTION_DAYS: u64 = 30;
/// Default time a client has to send a request's headers (also how long an idle keep-alive
/// connection stays open): slow-header clients cannot hold connections open for free.
pub const DEFAULT_HEADER_READ_TIMEOUT_SECS: u64 = 15;
/// Default number of requests served at once; beyond it the relay answers 503 at once. Far above
/// what WeChat and a few desks send (long-polls included), far below what exhausts the host.
pub const DEFAULT_MAX_CONCURRENT_REQUESTS: u64 = 1024;

/// A secret string whose `Debug`/`Display` never show the value and which cannot be serialized.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wrap a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value, for the one place that needs it (crypto, the bearer comparison).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Every DESIGN.md key of wxdesk-relay, resolved and validated.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// `host:port` to bind; port 0 picks a free port (see `RelayHandle::base_url`).
    pub listen: String,
    /// Directory holding `relay.sqlite3`; created if missing.
    pub data_dir: PathBuf,
    /// The third-party platform's own appid (the receive id inside every ciphertext).
    pub component_appid: String,
    /// 消息校验Token.
    pub component_token: Secret,
    /// 消息加解密Key (EncodingAESKey, 43 characters).
    pub component_aes_key: Secret,
    /// The previous EncodingAESKey during a rotation; tried after the current one.
    pub component_aes_key_previous: Option<Secret>,
    /// The desktop app's bearer key for `/api/v1/*`.
    pub api_key: Secret,
    /// The public `https://host` WeChat and the browser reach the relay at (no trailing slash).
    pub public_base_url: String,
    /// WeChat API base for the egress route.
    pub upstream: String,
    /// The local address the egress route calls WeChat from, on a host with several (the one
    /// in the platform's IP whitelist); `None` lets the system choose.
    pub egress_source_ip: Option<std::net::IpAddr>,
    /// Host of the authorization login page (`componentloginpage`); the sandbox points it at the sim.
    pub login_base: String,
    /// Maximum |now − timestamp| of a push in seconds; 0 turns the check off (replaying captures).
    pub replay_window_secs: u64,
    /// Events older than this many days are deleted; 0 keeps them forever.
    pub retention_days: u64,
    /// Seconds a client has to send a request's headers; the connection is closed after that.
    pub header_read_timeout_secs: u64,
    /// Requests served at once (long-polls included); more are answered 503 at once.
    pub max_concurrent_requests: u64,
    /// Team mode (`None`: single-desk mode, everything as before).
    pub team: Option<TeamConfig>,
}

/// What team mode needs beside the single-desk keys: the shared database and the secrets only
/// the team server holds.
#[derive(Debug, Clone)]
pub struct TeamConfig {
    /// `postgres://user:password@host:port/db` (a secret: it carries the password).
    pub database_url: Secret,
    /// The platform's AppSecret: only the team server calls WeChat's token endpoints.
    pub component_appsecret: Secret,
    /// 32 random bytes, base64: seals authorizer refresh tokens at rest in PostgreSQL.
    pub server_key: Secret,
    /// PEM certificates to trust, beside the system's roots, for TLS to PostgreSQL (a private
    /// server's own CA); TLS itself is asked for in the URL (`sslmode=require`).
    pub database_ca_file: Option<PathBuf>,
}

/// The TOML file as written by the operator; every field optional so the environment can fill it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    data_dir: Option<PathBuf>,
    component_appid: Option<String>,
    component_token: Option<String>,
    component_token_file: Option<PathBuf>,
    component_aes_key: Option<String>,
    component_aes_key_file: Option<PathBuf>,
    component_aes_key_previous: Option<String>,
    component_aes_key_previous_file: Option<PathBuf>,
    api_key: Option<String>,
    api_key_file: Option<PathBuf>,
    public_base_url: Option<String>,
    upstream: Option<String>,
    egress_source_ip: Option<String>,
    login_base: Option<String>,
    replay_window_secs: Option<u64>,
    retention_days: Option<u64>,
    header_read_timeout_secs: Option<u64>,
    max_concurrent_requests: Option<u64>,
    database_url: Option<String>,
    database_url_file: Option<PathBuf>,
    database_ca_file: Option<PathBuf>,
    component_appsecret: Option<String>,
    component_appsecret_file: Option<PathBuf>,
    server_key: Option<String>,
    server_key_file: Option<PathBuf>,
}

impl RelayConfig {
    /// Load from an optional TOML file, then apply `WXDESK_RELAY_<KEY>` from the process environment.
    pub fn load(path: Option<&Path>) -> Result<Self> {
        Self::load_with_env(path, |name| std::env::var(name).ok())
    }

    /// As [`RelayConfig::load`], reading variables through `env` (testable without touching the
    /// process environment).
    pub fn load_with_env(
        path: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self> {
        let file = match path {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| Error::ConfigFile {
                    path: p.to_path_buf(),
                    reason: e.to_string(),
                })?;
                toml::from_str::<FileConfig>(&text).map_err(|e| Error::ConfigFile {
                    path: p.to_path_buf(),
                    // toml's message quotes the offending line, which could hold a secret:
                    // keep only the first line (the kind of error and position).
                    reason: e.message().lines().next().unwrap_or_default().to_owned(),
                })?
            }
            None => FileConfig::default(),
        };
        let r = Resolver { env: &env };

        let cfg = RelayConfig {
            listen: r
                .plain("listen", file.listen.clone())?
                .unwrap_or_else(|| DEFAULT_LISTEN.into()),
            data_dir: r
                .plain(
                    "data_dir",
                    file.data_dir.as_ref().map(|p| p.display().to_string()),
                )?
                .map(PathBuf::from)
                .ok_or(Error::MissingKey { key: "data_dir" })?,
            component_appid: r
                .plain("component_appid", file.component_appid.clone())?
                .ok_or(Error::MissingKey {
                    key: "component_appid",
                })?,
            component_token: r
                .secret(
                    "component_token",
                    &file.component_token,
                    &file.component_token_file,
                )?
                .ok_or(Error::MissingKey {
                    key: "component_token",
                })?,
            component_aes_key: r
                .secret(
                    "component_aes_key",
                    &file.component_aes_key,
                    &file.component_aes_key_file,
                )?
                .ok_or(Error::MissingKey {
                    key: "component_aes_key",
                })?,
            component_aes_key_previous: r.secret(
                "component_aes_key_previous",
                &file.component_aes_key_previous,
                &file.component_aes_key_previous_file,
            )?,
            api_key: r
                .secret("api_key", &file.api_key, &file.api_key_file)?
                .ok_or(Error::MissingKey { key: "api_key" })?,
            public_base_url: r
                .plain("public_base_url", file.public_base_url.clone())?
                .ok_or(Error::MissingKey {
                    key: "public_base_url",
                })?,
            upstream: r
                .plain("upstream", file.upstream.clone())?
                .unwrap_or_else(|| DEFAULT_UPSTREAM.into()),
            egress_source_ip: r
                .plain("egress_source_ip", file.egress_source_ip.clone())?
                .filter(|v| !v.trim().is_empty())
                .map(|v| {
                    v.trim().parse().map_err(|_| Error::InvalidKey {
                        key: "egress_source_ip",
                        reason: "应为 IP 地址 / must be an IP address".into(),
                    })
                })
                .transpose()?,
            login_base: r
                .plain("login_base", file.login_base.clone())?
                .unwrap_or_else(|| DEFAULT_LOGIN_BASE.into()),
            replay_window_secs: r
                .number("replay_window_secs", file.replay_window_secs)?
                .unwrap_or(DEFAULT_REPLAY_WINDOW_SECS),
            retention_days: r
                .number("retention_days", file.retention_days)?
                .unwrap_or(DEFAULT_RETENTION_DAYS),
            header_read_timeout_secs: r
                .number("header_read_timeout_secs", file.header_read_timeout_secs)?
                .unwrap_or(DEFAULT_HEADER_READ_TIMEOUT_SECS),
            max_concurrent_requests: r
                .number("max_concurrent_requests", file.max_concurrent_requests)?
                .unwrap_or(DEFAULT_MAX_CONCURRENT_REQUESTS),
            team: match r.secret("database_url", &file.database_url, &file.database_url_file)? {
                None => None,
                Some(database_url) => Some(TeamConfig {
                    database_url,
                    component_appsecret: r
                        .secret(
                            "component_appsecret",
                            &file.component_appsecret,
                            &file.component_appsecret_file,
                        )?
                        .ok_or(Error::MissingKey {
                            key: "component_appsecret",
                        })?,
                    server_key: r
                        .secret("server_key", &file.server_key, &file.server_key_file)?
                        .ok_or(Error::MissingKey { key: "server_key" })?,
                    database_ca_file: r
                        .plain(
                            "database_ca_file",
                            file.database_ca_file
                                .as_ref()
                                .map(|p| p.display().to_string()),
                        )?
                        .filter(|p| !p.is_empty())
                        .map(PathBuf::from),
                }),
            },
        };
        cfg.validated()
    }

    /// Check every value and normalise URLs (no trailing slash). `start` calls this too, so a
    /// config built in code gets the same checks as one loaded from a file.
    pub fn validated(mut self) -> Result<Self> {
        if self.listen.trim().is_empty() {
            return Err(Error::InvalidKey {
                key: "listen",
                reason: "为空 / empty".into(),
            });
        }
        let appid = &self.component_appid;
        if appid.is_empty()
            || appid.len() > 64
            || !appid.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(Error::InvalidKey {
                key: "component_appid",
                reason: "应为 wx 开头的字母数字 / expected an alphanumeric appid".into(),
            });
        }
        if self.component_token.expose().is_empty() {
            return Err(Error::InvalidKey {
                key: "component_token",
                reason: "为空 / empty".into(),
            });
        }
        check_aes_key("component_aes_key", &self.component_aes_key)?;
        if let Some(prev) = &self.component_aes_key_previous {
            check_aes_key("component_aes_key_previous", prev)?;
        }
        if self.api_key.expose().len() < 16 {
            return Err(Error::InvalidKey {
                key: "api_key",
                reason: "至少 16 个字符 / must be at least 16 characters".into(),
            });
        }
        if !(1..=3600).contains(&self.header_read_timeout_secs) {
            return Err(Error::InvalidKey {
                key: "header_read_timeout_secs",
                reason: "应为 1–3600 秒 / must be 1-3600 seconds".into(),
            });
        }
        if !(1..=1_000_000).contains(&self.max_concurrent_requests) {
            return Err(Error::InvalidKey {
                key: "max_concurrent_requests",
                reason: "应为 1–1000000 / must be 1-1000000".into(),
            });
        }
        if let Some(team) = &self.team {
            team.check()?;
        }
        self.public_base_url = check_base_url("public_base_url", &self.public_base_url)?;
        self.upstream = check_base_url("upstream", &self.upstream)?;
        self.login_base = check_base_url("login_base", &self.login_base)?;
        Ok(self)
    }

    /// Path of the SQLite database inside `data_dir`.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("relay.sqlite3")
    }
}

impl TeamConfig {
    fn check(&self) -> Result<()> {
        let url = self.database_url.expose();
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(Error::InvalidKey {
                key: "database_url",
                reason: "应为 postgres:// 开头的连接地址 / expected a postgres:// URL".into(),
            });
        }
        if self.component_appsecret.expose().len() < 16 {
            return Err(Error::InvalidKey {
                key: "component_appsecret",
                reason: "应为开放平台的 AppSecret（32 个字符）/ expected the platform's AppSecret"
                    .into(),
            });
        }
        crate::team::seal::SealKey::from_config(&self.server_key)?;
        Ok(())
    }
}

fn check_aes_key(key: &'static str, value: &Secret) -> Result<()> {
    let v = value.expose();
    if v.len() != 43 || !v.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(Error::InvalidKey {
            key,
            reason: "EncodingAESKey 必须是 43 个字母或数字 / must be 43 letters or digits".into(),
        });
    }
    Ok(())
}

fn check_base_url(key: &'static str, value: &str) -> Result<String> {
    let parsed = url::Url::parse(value).map_err(|e| Error::InvalidKey {
        key,
        reason: e.to_string(),
    })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(Error::InvalidKey {
            key,
            reason: "必须是 http(s)://主机 形式 / must be an http(s) URL".into(),
        });
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(Error::InvalidKey {
            key,
            reason: "不能带查询或片段 / no query or fragment".into(),
        });
    }
    Ok(value.trim_end_matches('/').to_owned())
}

/// Applies the precedence: environment over file, and for secrets the value over its `_file`.
struct Resolver<'a, E: Fn(&str) -> Option<String>> {
    env: &'a E,
}

impl<E: Fn(&str) -> Option<String>> Resolver<'_, E> {
    fn env_var(&self, key: &str) -> Option<String> {
        (self.env)(&format!("WXDESK_RELAY_{}", key.to_uppercase())).filter(|v| !v.is_empty())
    }

    fn plain(&self, key: &'static str, from_file: Option<String>) -> Result<Option<String>> {
        Ok(self.env_var(key).or(from_file).map(|v| v.trim().to_owned()))
    }

    fn number(&self, key: &'static str, from_file: Option<u64>) -> Result<Option<u64>> {
        match self.env_var(key) {
            Some(v) => v
                .trim()
                .parse::<u64>()
                .map(Some)
                .map_err(|_| Error::InvalidKey {
                    key,
                    reason: "应为非负整数 / expected a non-negative integer".into(),
                }),
            None => Ok(from_file),
        }
    }

    fn secret(
        &self,
        key: &'static str,
        inline: &Option<String>,
        file: &Option<PathBuf>,
    ) -> Result<Option<Secret>> {
        if let Some(v) = self.env_var(key) {
            return Ok(Some(Secret::new(v.trim())));
        }
        let file_key = format!("{key}_file");
        if let Some(p) = self.env_var(&file_key) {
            return read_secret_file(key, Path::new(&p)).map(Some);
        }
        if let Some(v) = inline {
            return Ok(Some(Secret::new(v.trim())));
        }
        match file {
            Some(p) => read_secret_file(key, p).map(Some),
            None => Ok(None),
        }
    }
}

fn read_secret_file(key: &'static str, path: &Path) -> Result<Secret> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::SecretFile {
        key,
        path: path.to_path_buf(),
        reason: e.kind().to_string(),
    })?;
    // Files written by `echo` end in a newline that is not part of the secret.
    let value = text.trim();
    if value.is_empty() {
        return Err(Error::SecretFile {
            key,
            path: path.to_path_buf(),
            reason: "文件为空 / empty file".into(),
        });
    }
    Ok(Secret::new(value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const AES: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect();
        move |k| map.get(k).cloned()
    }

    fn full_env() -> Vec<(&'static str, &'static str)> {
        vec![
            ("WXDESK_RELAY_DATA_DIR", "/tmp/relay"),
            ("WXDESK_RELAY_COMPONENT_APPID", "wx5a9d0c0e7f3b1a2c"),
            ("WXDESK_RELAY_COMPONENT_TOKEN", "wxdesksandbox"),
            ("WXDESK_RELAY_COMPONENT_AES_KEY", AES),
            ("WXDESK_RELAY_API_KEY", "0123456789abcdef0123"),
            ("WXDESK_RELAY_PUBLIC_BASE_URL", "https://relay.example.com/"),
        ]
    }

    #[test]
    fn starts_from_environment_alone_with_defaults_for_optional_keys() {
        let cfg = RelayConfig::load_with_env(None, env_of(&full_env())).expect("config");
        assert_eq!(cfg.listen, DEFAULT_LISTEN);
        assert_eq!(cfg.public_base_url, "https://relay.example.com");
        assert_eq!(cfg.upstream, DEFAULT_UPSTREAM);
        assert_eq!(cfg.login_base, DEFAULT_LOGIN_BASE);
        assert_eq!(cfg.replay_window_secs, 300);
        assert_eq!(cfg.retention_days, 30);
        assert_eq!(cfg.header_read_timeout_secs, 15);
        assert_eq!(cfg.max_concurrent_requests, 1024);
        assert_eq!(cfg.component_aes_key.expose(), AES);
        assert!(cfg.component_aes_key_previous.is_none());
        assert_eq!(cfg.egress_source_ip, None);
    }

    #[test]
    fn the_egress_source_ip_is_an_ip_address_or_refused() {
        let mut env = full_env();
        env.push(("WXDESK_RELAY_EGRESS_SOURCE_IP", "127.0.0.2"));
        let cfg = RelayConfig::load_with_env(None, env_of(&env)).expect("config");
        assert_eq!(cfg.egress_source_ip, Some([127, 0, 0, 2].into()));
        let mut env = full_env();
        env.push(("WXDESK_RELAY_EGRESS_SOURCE_IP", "relay.example.com"));
        let err = RelayConfig::load_with_env(None, env_of(&env)).expect_err("must fail");
        assert!(
            matches!(
                err,
                Error::InvalidKey {
                    key: "egress_source_ip",
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn environment_overrides_the_file_and_secret_files_are_read_trimmed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let key_file = dir.path().join("api_key");
        std::fs::write(&key_file, "file-key-0123456789abcdef\n").expect("write");
        let toml_path = dir.path().join("relay.toml");
        std::fs::write(
            &toml_path,
            format!(
                "listen = \"127.0.0.1:0\"\ndata_dir = \"/var/lib/x\"\ncomponent_appid = \"wxfile\"\n\
                 component_token = \"t\"\ncomponent_aes_key = \"{AES}\"\napi_key_file = \"{}\"\n\
                 public_base_url = \"https://a.example\"\nreplay_window_secs = 60\n",
                key_file.display()
            ),
        )
        .expect("write");
        let cfg = RelayConfig::load_with_env(
            Some(&toml_path),
            env_of(&[
                ("WXDESK_RELAY_COMPONENT_APPID", "wxenv"),
                ("WXDESK_RELAY_REPLAY_WINDOW_SECS", "0"),
            ]),
        )
        .expect("config");
        assert_eq!(cfg.component_appid, "wxenv");
        assert_eq!(cfg.replay_window_secs, 0);
        assert_eq!(cfg.listen, "127.0.0.1:0");
        assert_eq!(cfg.api_key.expose(), "file-key-0123456789abcdef");
    }

    #[test]
    fn missing_required_key_is_named_in_the_error() {
        let env: Vec<_> = full_env()
            .into_iter()
            .filter(|(k, _)| *k != "WXDESK_RELAY_API_KEY")
            .collect();
        let err = RelayConfig::load_with_env(None, env_of(&env)).expect_err("must fail");
        assert!(
            matches!(err, Error::MissingKey { key: "api_key" }),
            "{err:?}"
        );
        assert!(err.to_string().contains("WXDESK_RELAY_API_KEY"));
    }

    #[test]
    fn debug_output_never_shows_secrets() {
        let cfg = RelayConfig::load_with_env(None, env_of(&full_env())).expect("config");
        let dbg = format!("{cfg:?}");
        assert!(!dbg.contains(AES));
        assert!(!dbg.contains("0123456789abcdef0123"));
        assert!(!dbg.contains("wxdesksandbox"));
        assert!(dbg.contains("<redacted>"));
    }

    #[test]
    fn a_short_aes_key_is_rejected_without_echoing_it() {
        let mut env = full_env();
        env.retain(|(k, _)| *k != "WXDESK_RELAY_COMPONENT_AES_KEY");
        env.push(("WXDESK_RELAY_COMPONENT_AES_KEY", "tooShortKey"));
        let err = RelayConfig::load_with_env(None, env_of(&env)).expect_err("must fail");
        assert!(matches!(
            err,
            Error::InvalidKey {
                key: "component_aes_key",
                ..
            }
        ));
        assert!(!err.to_string().contains("tooShortKey"));
    }

    #[test]
    fn the_serving_limits_come_from_file_or_environment_and_zero_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("r.toml");
        std::fs::write(
            &p,
            "header_read_timeout_secs = 5\nmax_concurrent_requests = 64\n",
        )
        .expect("write");
        let cfg = RelayConfig::load_with_env(Some(&p), env_of(&full_env())).expect("config");
        assert_eq!(
            (cfg.header_read_timeout_secs, cfg.max_concurrent_requests),
            (5, 64)
        );
        for (var, key) in [
            (
                "WXDESK_RELAY_HEADER_READ_TIMEOUT_SECS",
                "header_read_timeout_secs",
            ),
            (
                "WXDESK_RELAY_MAX_CONCURRENT_REQUESTS",
                "max_concurrent_requests",
            ),
        ] {
            let mut env = full_env();
            env.push((var, "0"));
            let err = RelayConfig::load_with_env(None, env_of(&env)).expect_err("zero");
            assert!(
                matches!(err, Error::InvalidKey { key: k, .. } if k == key),
                "{err:?}"
            );
        }
    }

    #[test]
    fn unknown_keys_in_the_file_are_rejected() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("r.toml");
        std::fs::write(&p, "lisen = \"x\"\n").expect("write");
        let err = RelayConfig::load_with_env(Some(&p), env_of(&full_env())).expect_err("must fail");
        assert!(matches!(err, Error::ConfigFile { .. }), "{err:?}");
    }
}
