//! The non-secret platform settings (one row). Secrets are in the keychain, see `secrets`.

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The real WeChat API host.
pub const WECHAT_API_BASE: &str = "https://api.weixin.qq.com";

/// Which platform the data dir talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// wxdesk-sim and a relay in-process on loopback (沙箱).
    Sandbox,
    /// A real third-party platform (正式).
    Production,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Sandbox => "sandbox",
            Mode::Production => "production",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Mode::Sandbox => "沙箱",
            Mode::Production => "正式",
        }
    }
    fn parse(s: &str) -> Result<Self> {
        match s {
            "sandbox" => Ok(Mode::Sandbox),
            "production" => Ok(Mode::Production),
            other => Err(Error::input(
                format!("未知的模式 {other}"),
                format!("Unknown mode {other} in the database."),
            )),
        }
    }
}

/// How API calls reach WeChat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Egress {
    /// Straight to `api_base`; this machine's IP must be whitelisted.
    Direct,
    /// Through the relay's `/api/v1/wechat` route; only the relay's IP needs whitelisting.
    Relay,
}

impl Egress {
    pub fn as_str(self) -> &'static str {
        match self {
            Egress::Direct => "direct",
            Egress::Relay => "relay",
        }
    }
    fn parse(s: &str) -> Result<Self> {
        match s {
            "direct" => Ok(Egress::Direct),
            "relay" => Ok(Egress::Relay),
            other => Err(Error::input(
                format!("未知的出口模式 {other}"),
                format!("Unknown egress {other} in the database."),
            )),
        }
    }
}

/// What the Settings page shows and edits, minus the secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PlatformSettings {
    pub mode: Mode,
    pub component_appid: String,
    pub relay_url: String,
    pub egress: Egress,
    pub api_base: String,
}

impl Default for PlatformSettings {
    fn default() -> Self {
        PlatformSettings {
            mode: Mode::Production,
            component_appid: String::new(),
            relay_url: String::new(),
            egress: Egress::Direct,
            api_base: WECHAT_API_BASE.to_string(),
        }
    }
}

/// `None` until the platform (or the sandbox) has been set up once.
pub fn load(conn: &Connection) -> Result<Option<PlatformSettings>> {
    let row = conn
        .query_row(
            "SELECT mode, component_appid, relay_url, egress, api_base FROM platform_settings WHERE id = 1",
            [],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                ))
            },
        )
        .optional()?;
    row.map(|(mode, component_appid, relay_url, egress, api_base)| {
        Ok(PlatformSettings {
            mode: Mode::parse(&mode)?,
            component_appid,
            relay_url,
            egress: Egress::parse(&egress)?,
            api_base,
        })
    })
    .transpose()
}

pub fn save(conn: &Connection, s: &PlatformSettings) -> Result<()> {
    conn.execute(
        "INSERT INTO platform_settings (id, mode, component_appid, relay_url, egress, api_base, updated_at)
         VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (id) DO UPDATE SET mode = excluded.mode, component_appid = excluded.component_appid,
           relay_url = excluded.relay_url, egress = excluded.egress, api_base = excluded.api_base,
           updated_at = excluded.updated_at",
        params![
            s.mode.as_str(),
            s.component_appid,
            s.relay_url,
            s.egress.as_str(),
            s.api_base,
            super::now()
        ],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[tokio::test]
    async fn nothing_is_configured_on_a_new_store_and_a_save_reads_back_exactly() {
        let store = Store::open_in_memory().unwrap();
        assert_eq!(store.call(|c| load(c)).await.unwrap(), None);
        let s = PlatformSettings {
            mode: Mode::Sandbox,
            component_appid: "wx5a9d0c0e7f3b1a2c".into(),
            relay_url: "http://127.0.0.1:4000".into(),
            egress: Egress::Relay,
            api_base: "http://127.0.0.1:4001".into(),
        };
        let saved = s.clone();
        store.call(move |c| save(c, &saved)).await.unwrap();
        assert_eq!(store.call(|c| load(c)).await.unwrap(), Some(s.clone()));
        let changed = PlatformSettings {
            mode: Mode::Production,
            ..s
        };
        let saved = changed.clone();
        store.call(move |c| save(c, &saved)).await.unwrap();
        assert_eq!(store.call(|c| load(c)).await.unwrap(), Some(changed));
    }
}
