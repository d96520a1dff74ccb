//! A desk in a team: joining a team server, its status, leaving.
//!
//! A joined desk works in a workspace of its own, `<data dir>/team/`: a local cache of the
//! shared workspace with its own SQLite file and keychain namespace, and `membership.json`
//! saying which server and member it belongs to. [`crate::context::Context::open`] opens that
//! workspace while the desk is joined, and the local one again after leaving — nothing of the
//! local workspace is touched by joining. In the team workspace the platform holds no AppSecret,
//! AES key or token: its WeChat calls go to the server (`/api/v1/team/wechat`), which adds the
//! token; the only secret on the desk is the member key, in the keychain.

mod audit;

pub use audit::{AuditEntry, AuditPage, audit, describe as describe_audit};

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::secrets::{KeychainStore, Secret, SecretKey, Secrets};
use crate::store::Store;
use crate::store::settings::{Egress, Mode, PlatformSettings, WECHAT_API_BASE};

/// The team workspace inside a data dir.
pub const WORKSPACE_DIR: &str = "team";
const MEMBERSHIP_FILE: &str = "membership.json";

/// Which server and member a team workspace belongs to (not secret; the key is in the keychain).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Membership {
    /// `https://team.example.com` (no trailing slash).
    pub server_url: String,
    pub member: String,
    /// `viewer`, `operator` or `admin`.
    pub role: String,
    pub component_appid: String,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub joined_at: i64,
}

/// `team status`: the membership and what the server says about the key now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TeamStatus {
    pub membership: Membership,
    /// The server accepted the key just now (`false` with `problem` when it refused or was
    /// unreachable).
    pub accepted: bool,
    /// The role the server gives the key now (it may have changed since joining).
    pub role_now: Option<String>,
    pub problem: Option<crate::error::Msg>,
}

/// The team workspace of `data_dir`.
pub fn workspace_dir(data_dir: &Path) -> PathBuf {
    data_dir.join(WORKSPACE_DIR)
}

/// The directory a desk works in: the team workspace while joined, else `data_dir` itself.
pub fn active_dir(data_dir: &Path) -> PathBuf {
    let ws = workspace_dir(data_dir);
    if ws.join(MEMBERSHIP_FILE).is_file() {
        ws
    } else {
        data_dir.to_path_buf()
    }
}

/// The membership of a workspace directory, if it is a team workspace.
pub fn membership_of(dir: &Path) -> Result<Option<Membership>> {
    let path = dir.join(MEMBERSHIP_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            Error::input(
                format!(
                    "团队成员信息 {} 已损坏：{e}；请 team leave 后重新加入",
                    path.display()
                ),
                format!(
                    "The team membership file {} is damaged: {e}; leave the team and join again.",
                    path.display()
                ),
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(Error::DataDir {
            path: path.display().to_string(),
            source,
        }),
    }
}

/// What `/api/v1/team/me` answers.
#[derive(Debug, Deserialize)]
struct Me {
    name: String,
    role: String,
    component_appid: String,
}

/// A team refusal: `{code, message: {zh, en}, hint: {zh, en} | null}`.
#[derive(Debug, Deserialize)]
struct Refusal {
    #[serde(default)]
    code: String,
    message: crate::error::Msg,
    #[serde(default)]
    hint: Option<crate::error::Msg>,
}

/// The server's refusal as a core error, in both languages with its hint.
pub(crate) async fn refusal_error(resp: reqwest::Response) -> Error {
    let status = resp.status().as_u16();
    match resp.bytes().await {
        Ok(body) => refusal_from(status, &body),
        Err(e) => Error::from(e),
    }
}

/// A refusal's body: `{code, message, hint}`, if it is one.
pub(crate) fn refusal_code(body: &[u8]) -> Option<String> {
    serde_json::from_slice::<Refusal>(body).ok().map(|r| r.code)
}

pub(crate) fn refusal_from(status: u16, body: &[u8]) -> Error {
    match serde_json::from_slice::<Refusal>(body) {
        Ok(r) => {
            let (zh, en) = match &r.hint {
                Some(h) => (
                    format!("{}（{}）", r.message.zh, h.zh),
                    format!("{} ({})", r.message.en, h.en),
                ),
                None => (r.message.zh.clone(), r.message.en.clone()),
            };
            tracing::warn!(status, code = %r.code, "team server refused");
            Error::input(zh, en)
        }
        Err(_) => Error::RelayStatus {
            status,
            message: "团队服务器的回答无法识别；地址可能不是团队服务器".into(),
        },
    }
}

fn normalise(server_url: &str) -> Result<String> {
    let trimmed = server_url.trim().trim_end_matches('/');
    let u = url::Url::parse(trimmed).map_err(|e| {
        Error::input(
            format!("团队服务器地址 {trimmed} 无效：{e}"),
            format!("The team server URL {trimmed} is not valid: {e}"),
        )
    })?;
    crate::platform::settings::check_transport(
        trimmed,
        crate::platform::settings::RELAY_URL,
        Mode::Production,
    )?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(Error::input(
            "团队服务器地址必须以 https:// 开头",
            "The team server URL must start with https://.",
        ));
    }
    Ok(trimmed.to_owned())
}

async fn ask_me(server_url: &str, key: &Secret) -> Result<Me> {
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(20))
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let resp = http
        .get(format!("{server_url}/api/v1/team/me"))
        .bearer_auth(key.expose())
        .send()
        .await?;
    if !resp.status().is_success() {
        return Err(refusal_error(resp).await);
    }
    resp.json()
        .await
        .map_err(|e| Error::RelayBody(e.without_url().to_string()))
}

/// The keychain of a team workspace.
pub fn workspace_secrets(data_dir: &Path) -> Result<Secrets> {
    let keychain = KeychainStore::for_data_dir(&workspace_dir(data_dir))?;
    Ok(Secrets::new(std::sync::Arc::new(keychain)))
}

/// Joins the team at `server_url` with a member key: asks the server who the key belongs to
/// (refused keys change nothing), then sets up the team workspace and switches the desk to it.
pub async fn join(data_dir: &Path, server_url: &str, key: Secret) -> Result<Membership> {
    join_with_secrets(data_dir, server_url, key, workspace_secrets(data_dir)?).await
}

/// As [`join`] with the workspace's secret store given (tests).
pub async fn join_with_secrets(
    data_dir: &Path,
    server_url: &str,
    key: Secret,
    secrets: Secrets,
) -> Result<Membership> {
    let server_url = normalise(server_url)?;
    if key.expose().trim().is_empty() {
        return Err(Error::input("成员密钥为空", "The member key is empty."));
    }
    let key = Secret::new(key.expose().trim());
    let me = ask_me(&server_url, &key).await?;
    let dir = workspace_dir(data_dir);
    let store = Store::open_in_dir(&dir).await?;
    let settings = PlatformSettings {
        mode: Mode::Production,
        component_appid: me.component_appid.clone(),
        relay_url: server_url.clone(),
        egress: Egress::Relay,
        api_base: WECHAT_API_BASE.to_string(),
    };
    store
        .call(move |c| crate::store::settings::save(c, &settings))
        .await?;
    // The member key is this workspace's relay key: the feed and every call carry it.
    secrets.set(SecretKey::RelayKey, key).await?;
    let membership = Membership {
        server_url,
        member: me.name,
        role: me.role,
        component_appid: me.component_appid,
        joined_at: crate::store::now(),
    };
    write_membership(&dir, &membership)?;
    tracing::info!(member = %membership.member, role = %membership.role, "joined a team");
    Ok(membership)
}

/// Written last, atomically and durably (fsync of the file and the directory): until it is on
/// disk the desk stays in its local workspace.
fn write_membership(dir: &Path, m: &Membership) -> Result<()> {
    let io = |source| Error::DataDir {
        path: dir.display().to_string(),
        source,
    };
    let json =
        serde_json::to_vec_pretty(m).map_err(|e| Error::input(e.to_string(), e.to_string()))?;
    let tmp = dir.join(format!("{MEMBERSHIP_FILE}.tmp"));
    let mut f = std::fs::File::create(&tmp).map_err(io)?;
    f.write_all(&json).map_err(io)?;
    f.sync_all().map_err(io)?;
    std::fs::rename(&tmp, dir.join(MEMBERSHIP_FILE)).map_err(io)?;
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io)?;
    Ok(())
}

/// The team this data dir belongs to, checked with the server now; `None` when not joined.
pub async fn status(data_dir: &Path) -> Result<Option<TeamStatus>> {
    status_with_secrets(data_dir, workspace_secrets(data_dir)?).await
}

pub async fn status_with_secrets(data_dir: &Path, secrets: Secrets) -> Result<Option<TeamStatus>> {
    let Some(membership) = membership_of(&workspace_dir(data_dir))? else {
        return Ok(None);
    };
    let key = secrets.get(SecretKey::RelayKey).await?;
    let checked = match key {
        Some(k) => ask_me(&membership.server_url, &k).await,
        None => Err(Error::input(
            "钥匙串里没有成员密钥；请 team leave 后用新密钥重新加入",
            "The member key is missing from the keychain; leave and join again with a key.",
        )),
    };
    Ok(Some(match checked {
        Ok(me) => TeamStatus {
            membership,
            accepted: true,
            role_now: Some(me.role),
            problem: None,
        },
        Err(e) => TeamStatus {
            membership,
            accepted: false,
            role_now: None,
            problem: Some(crate::error::Msg::new(
                e.to_string(),
                e.message(crate::error::Lang::En),
            )),
        },
    }))
}

/// Leaves the team: the desk returns to its local workspace. The team workspace's cache and
/// its member key are removed (the shared data stays on the server). `false` if not joined.
pub async fn leave(data_dir: &Path) -> Result<bool> {
    leave_with_secrets(data_dir, workspace_secrets(data_dir)?).await
}

pub async fn leave_with_secrets(data_dir: &Path, secrets: Secrets) -> Result<bool> {
    let dir = workspace_dir(data_dir);
    if membership_of(&dir)?.is_none() {
        return Ok(false);
    }
    // The membership first: from here on the desk opens its local workspace.
    let io = |source| Error::DataDir {
        path: dir.display().to_string(),
        source,
    };
    std::fs::remove_file(dir.join(MEMBERSHIP_FILE)).map_err(io)?;
    std::fs::File::open(&dir)
        .and_then(|d| d.sync_all())
        .map_err(io)?;
    secrets.delete(SecretKey::RelayKey).await?;
    std::fs::remove_dir_all(&dir).map_err(io)?;
    tracing::info!("left the team");
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::{Platform, SettingsInput};

    #[tokio::test]
    async fn a_team_workspace_refuses_platform_settings_and_keeps_the_servers() {
        let dir = tempfile::tempdir().expect("dir");
        let store = Store::open_in_dir(dir.path()).await.expect("store");
        let joined = PlatformSettings {
            mode: Mode::Production,
            component_appid: "wx5a9d0c0e7f3b1a2c".into(),
            relay_url: "https://team.example.com".into(),
            egress: Egress::Relay,
            api_base: WECHAT_API_BASE.into(),
        };
        let s = joined.clone();
        store
            .call(move |c| crate::store::settings::save(c, &s))
            .await
            .expect("saved");
        let platform = Platform::new(store, Secrets::memory()).in_team();
        let input = SettingsInput {
            mode: Mode::Production,
            component_appid: "wx0000000000000000".into(),
            relay_url: "https://relay.example.com".into(),
            egress: Egress::Relay,
            api_base: None,
            component_appsecret: Some(Secret::new("an-appsecret-typed-by-mistake")),
            component_token: None,
            component_aes_key: None,
            relay_key: Some(Secret::new("another-relay-key-0123456789")),
        };
        let err = platform.save_settings(input).await.expect_err("refused");
        assert!(err.to_string().contains("团队"), "{err}");
        assert_eq!(platform.settings().await.expect("settings"), joined);
        assert!(
            platform
                .secrets()
                .get(SecretKey::ComponentAppsecret)
                .await
                .expect("keychain")
                .is_none()
        );
    }
}
