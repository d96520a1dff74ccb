//! 设置: load and save the platform configuration. Plain fields go to SQLite, the four secrets
//! to the keychain; the UI only ever learns whether each secret is saved ("已保存在系统钥匙串").

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::secrets::{Secret, SecretKey, Secrets};
use crate::store::settings::{Egress, Mode, PlatformSettings};
use crate::store::{Store, audit, cursor, settings};

/// What the Settings page shows. Secrets are never sent back: only whether the keychain holds
/// each.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SettingsView {
    /// `None` until the platform or the sandbox has been set up.
    pub settings: Option<PlatformSettings>,
    pub appsecret_saved: bool,
    pub token_saved: bool,
    pub aes_key_saved: bool,
    pub relay_key_saved: bool,
}

/// What the Settings page submits. A secret left `None` keeps the saved one (secrets are
/// write-only in the UI); an empty string is refused rather than silently clearing it.
#[derive(Debug, Clone, Deserialize)]
pub struct SettingsInput {
    #[serde(default = "production")]
    pub mode: Mode,
    pub component_appid: String,
    pub relay_url: String,
    pub egress: Egress,
    #[serde(default)]
    pub api_base: Option<String>,
    #[serde(default)]
    pub component_appsecret: Option<Secret>,
    #[serde(default)]
    pub component_token: Option<Secret>,
    #[serde(default)]
    pub component_aes_key: Option<Secret>,
    #[serde(default)]
    pub relay_key: Option<Secret>,
}

fn production() -> Mode {
    Mode::Production
}

/// What the window's 保存 sends for a real platform (mode 正式). A secret left `null` or blank
/// keeps the one in the keychain.
#[derive(Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SettingsForm {
    pub component_appid: String,
    pub relay_url: String,
    pub egress: Egress,
    /// Where direct calls go (egress 直连); blank or absent is WeChat's own
    /// `https://api.weixin.qq.com`. A company's forward proxy, or a simulator on loopback.
    #[serde(default)]
    pub api_base: Option<String>,
    pub component_appsecret: Option<String>,
    pub component_token: Option<String>,
    pub component_aes_key: Option<String>,
    pub relay_key: Option<String>,
}

/// The form holds secrets: never printed.
impl std::fmt::Debug for SettingsForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SettingsForm")
            .field("component_appid", &self.component_appid)
            .field("relay_url", &self.relay_url)
            .field("egress", &self.egress)
            .field("api_base", &self.api_base)
            .finish_non_exhaustive()
    }
}

impl From<SettingsForm> for SettingsInput {
    fn from(f: SettingsForm) -> Self {
        let secret = |v: Option<String>| {
            v.map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .map(Secret::new)
        };
        SettingsInput {
            mode: Mode::Production,
            component_appid: f.component_appid,
            relay_url: f.relay_url,
            egress: f.egress,
            api_base: f.api_base,
            component_appsecret: secret(f.component_appsecret),
            component_token: secret(f.component_token),
            component_aes_key: secret(f.component_aes_key),
            relay_key: secret(f.relay_key),
        }
    }
}

pub async fn load_settings(store: &Store, secrets: &Secrets) -> Result<SettingsView> {
    Ok(SettingsView {
        settings: store.call(|c| settings::load(c)).await?,
        appsecret_saved: secrets.is_set(SecretKey::ComponentAppsecret).await?,
        token_saved: secrets.is_set(SecretKey::ComponentToken).await?,
        aes_key_saved: secrets.is_set(SecretKey::ComponentAesKey).await?,
        relay_key_saved: secrets.is_set(SecretKey::RelayKey).await?,
    })
}

/// Validates, stores the secrets first (so SQLite never points at a half-saved configuration),
/// then the plain settings. A different relay URL restarts the feed cursor: each relay numbers
/// its own log.
pub async fn save_settings(
    store: &Store,
    secrets: &Secrets,
    input: SettingsInput,
) -> Result<SettingsView> {
    let s = validate(&input)?;
    for (key, value) in [
        (SecretKey::ComponentAppsecret, input.component_appsecret),
        (SecretKey::ComponentToken, input.component_token),
        (SecretKey::ComponentAesKey, input.component_aes_key),
        (SecretKey::RelayKey, input.relay_key),
    ] {
        if let Some(v) = value {
            secrets.set(key, v).await?;
        }
    }
    store
        .call(move |c| {
            let tx = c.transaction()?;
            let before = settings::load(&tx)?;
            if before.as_ref().is_some_and(|b| b.relay_url != s.relay_url) {
                cursor::reset(&tx, 0)?;
            }
            settings::save(&tx, &s)?;
            audit::record(
                &tx,
                "settings_saved",
                None,
                &format!("模式：{}", s.mode.label_zh()),
            )?;
            Ok(tx.commit()?)
        })
        .await?;
    load_settings(store, secrets).await
}

pub(crate) fn validate(input: &SettingsInput) -> Result<PlatformSettings> {
    let appid = input.component_appid.trim();
    if !is_appid(appid) {
        return Err(Error::input(
            format!("第三方平台 AppID「{appid}」格式不对：应为 wx 开头的 18 位字母数字"),
            format!(
                "The platform AppID \"{appid}\" is not valid: wx followed by 16 letters or digits."
            ),
        ));
    }
    let relay_url = input.relay_url.trim().trim_end_matches('/').to_string();
    if !relay_url.is_empty() {
        check_http_url(&relay_url, RELAY_URL)?;
        check_transport(&relay_url, RELAY_URL, input.mode)?;
    }
    let api_base = input
        .api_base
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or(crate::store::settings::WECHAT_API_BASE)
        .trim_end_matches('/')
        .to_string();
    check_http_url(&api_base, API_BASE)?;
    check_transport(&api_base, API_BASE, input.mode)?;
    if input.egress == Egress::Relay && relay_url.is_empty() {
        return Err(Error::input(
            "出口模式为「经中继」时必须填写中继地址",
            "Calls through the relay need the relay URL.",
        ));
    }
    for ((zh, en), v) in [
        (("AppSecret", "The AppSecret"), &input.component_appsecret),
        (
            ("消息校验 Token", "The message token"),
            &input.component_token,
        ),
        (("中继密钥", "The relay key"), &input.relay_key),
    ] {
        if v.as_ref().is_some_and(|s| s.expose().trim().is_empty()) {
            return Err(Error::input(
                format!("{zh} 不能为空；不修改请留空该字段"),
                format!("{en} cannot be blank; leave the field empty to keep the saved one."),
            ));
        }
    }
    if let Some(k) = &input.component_aes_key {
        let k = k.expose();
        if k.len() != 43 || !k.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(Error::input(
                "EncodingAESKey 必须是 43 位字母或数字",
                "The EncodingAESKey must be 43 letters or digits.",
            ));
        }
    }
    Ok(PlatformSettings {
        mode: input.mode,
        component_appid: appid.to_string(),
        relay_url,
        egress: input.egress,
        api_base,
    })
}

/// `wx` followed by 16 letters/digits: the form WeChat issues appids in.
pub fn is_appid(s: &str) -> bool {
    s.len() == 18 && s.starts_with("wx") && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Which address a check is about, in (Chinese, English).
pub(crate) type What = (&'static str, &'static str);
pub(crate) const RELAY_URL: What = ("中继地址", "The relay URL");
pub(crate) const API_BASE: What = ("微信接口地址", "The WeChat API base URL");

fn check_http_url(s: &str, what: What) -> Result<()> {
    match url::Url::parse(s) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(()),
        _ => Err(Error::input(
            format!("{}「{s}」不是有效的 http(s) 地址", what.0),
            format!("{} \"{s}\" is not a valid http(s) address.", what.1),
        )),
    }
}

/// In production, plain `http://` only to this machine: the relay key and every access token
/// travel in these requests, and on any other host they would cross the network in clear (the
/// sandbox and a relay on loopback are fine). Checked when saving, and again when a connection
/// is built from saved settings (settings saved before this check existed).
pub(crate) fn check_transport(s: &str, what: What, mode: Mode) -> Result<()> {
    let Ok(u) = url::Url::parse(s) else {
        return check_http_url(s, what);
    };
    if mode == Mode::Sandbox || u.scheme() != "http" || is_loopback(&u) {
        return Ok(());
    }
    Err(Error::input(
        format!(
            "{}「{s}」使用明文 http：正式模式只允许 https 地址（本机回环地址 127.0.0.1、::1、localhost 除外），否则中继密钥和接口令牌会以明文经过网络。请在「设置」中改用 https:// 地址。",
            what.0
        ),
        format!(
            "{} \"{s}\" uses plain http, which production refuses except for loopback \
             (127.0.0.0/8, ::1, localhost): the relay key and access tokens would cross the \
             network in clear. Use an https:// URL in Settings.",
            what.1
        ),
    ))
}

/// 127.0.0.0/8, ::1 or localhost.
fn is_loopback(u: &url::Url) -> bool {
    match u.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::MemoryStore;
    use std::sync::Arc;

    fn input() -> SettingsInput {
        SettingsInput {
            mode: Mode::Production,
            component_appid: "wx5a9d0c0e7f3b1a2c".into(),
            relay_url: "https://relay.example.com/".into(),
            egress: Egress::Relay,
            api_base: None,
            component_appsecret: Some(Secret::new("appsecret-value-0123456789abcdef")),
            component_token: Some(Secret::new("msgtoken-value")),
            component_aes_key: Some(Secret::new("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG")),
            relay_key: Some(Secret::new("relay-key-value-xyz")),
        }
    }

    #[tokio::test]
    async fn settings_round_trip_with_secrets_only_in_the_secret_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in_dir(dir.path()).await.unwrap();
        let mem = Arc::new(MemoryStore::default());
        let secrets = Secrets::new(mem.clone());

        let before = load_settings(&store, &secrets).await.unwrap();
        assert_eq!(before.settings, None);
        assert!(!before.appsecret_saved && !before.relay_key_saved);

        let view = save_settings(&store, &secrets, input()).await.unwrap();
        assert_eq!(
            view,
            SettingsView {
                settings: Some(PlatformSettings {
                    mode: Mode::Production,
                    component_appid: "wx5a9d0c0e7f3b1a2c".into(),
                    relay_url: "https://relay.example.com".into(),
                    egress: Egress::Relay,
                    api_base: "https://api.weixin.qq.com".into(),
                }),
                appsecret_saved: true,
                token_saved: true,
                aes_key_saved: true,
                relay_key_saved: true,
            }
        );
        let got = secrets
            .get(SecretKey::ComponentAppsecret)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got.expose(), "appsecret-value-0123456789abcdef");

        // Saving again without secrets keeps them.
        let keep = SettingsInput {
            component_appsecret: None,
            component_token: None,
            component_aes_key: None,
            relay_key: None,
            ..input()
        };
        let view = save_settings(&store, &secrets, keep).await.unwrap();
        assert!(
            view.appsecret_saved && view.token_saved && view.aes_key_saved && view.relay_key_saved
        );
        assert_eq!(
            secrets
                .get(SecretKey::RelayKey)
                .await
                .unwrap()
                .unwrap()
                .expose(),
            "relay-key-value-xyz"
        );

        // The view serializes for the UI without any secret, and the database file has none.
        let json = serde_json::to_string(&view).unwrap();
        drop(store);
        let mut bytes = std::fs::read(dir.path().join(crate::store::DB_FILE)).unwrap();
        if let Ok(wal) = std::fs::read(dir.path().join(format!("{}-wal", crate::store::DB_FILE))) {
            bytes.extend(wal);
        }
        for s in mem.values() {
            let needle = s.expose().as_bytes();
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "a secret is in SQLite"
            );
            assert!(
                !json.contains(s.expose()),
                "a secret is in the settings view"
            );
        }
    }

    #[tokio::test]
    async fn invalid_settings_are_refused_with_a_chinese_reason_and_nothing_saved() {
        let store = Store::open_in_memory().unwrap();
        let secrets = Secrets::memory();
        let cases: Vec<(SettingsInput, &str)> = vec![
            (
                SettingsInput {
                    component_appid: "abc".into(),
                    ..input()
                },
                "AppID",
            ),
            (
                SettingsInput {
                    relay_url: "ftp://x".into(),
                    ..input()
                },
                "中继地址",
            ),
            (
                SettingsInput {
                    relay_url: String::new(),
                    ..input()
                },
                "经中继",
            ),
            (
                SettingsInput {
                    component_aes_key: Some(Secret::new("short")),
                    ..input()
                },
                "EncodingAESKey",
            ),
            (
                SettingsInput {
                    component_appsecret: Some(Secret::new(" ")),
                    ..input()
                },
                "AppSecret",
            ),
        ];
        for (bad, word) in cases {
            let err = save_settings(&store, &secrets, bad).await.unwrap_err();
            assert!(matches!(err, Error::Input(_)), "{err:?}");
            assert!(
                err.to_string().contains(word),
                "{err} should mention {word}"
            );
        }
        assert_eq!(
            load_settings(&store, &secrets).await.unwrap().settings,
            None
        );
        assert!(!secrets.is_set(SecretKey::ComponentAppsecret).await.unwrap());
    }

    #[tokio::test]
    async fn production_refuses_plain_http_except_to_loopback_and_the_sandbox_keeps_it() {
        let store = Store::open_in_memory().unwrap();
        let secrets = Secrets::memory();
        for (relay_url, api_base) in [
            ("http://relay.example.com", None),
            ("http://10.0.0.5:8080", None),
            (
                "https://relay.example.com",
                Some("http://api.weixin.qq.com"),
            ),
            ("http://[fe80::1]:80", None),
            ("http://localhost.example.com", None),
        ] {
            let err = save_settings(
                &store,
                &secrets,
                SettingsInput {
                    relay_url: relay_url.into(),
                    api_base: api_base.map(String::from),
                    ..input()
                },
            )
            .await
            .unwrap_err();
            let msg = err.to_string();
            assert!(msg.contains("明文 http") && msg.contains("https"), "{msg}");
            let en = err.message(crate::error::Lang::En);
            assert!(
                en.contains("uses plain http") && en.contains("https://"),
                "{en}"
            );
        }
        assert_eq!(
            load_settings(&store, &secrets).await.unwrap().settings,
            None
        );
        for (mode, relay_url, api_base) in [
            (Mode::Production, "http://127.0.0.1:8080", None),
            (Mode::Production, "http://127.9.8.7", None),
            (Mode::Production, "http://[::1]:8080", None),
            (
                Mode::Production,
                "http://LocalHost:1",
                Some("http://127.0.0.1:9"),
            ),
            (Mode::Production, "https://relay.example.com", None),
            (
                Mode::Sandbox,
                "http://127.0.0.1:1",
                Some("http://127.0.0.1:2"),
            ),
        ] {
            save_settings(
                &store,
                &secrets,
                SettingsInput {
                    mode,
                    relay_url: relay_url.into(),
                    api_base: api_base.map(String::from),
                    ..input()
                },
            )
            .await
            .unwrap_or_else(|e| panic!("{relay_url} in {mode:?}: {e}"));
        }
    }

    /// The window's form carries the direct-egress API base (#16 point 8): saved as typed, blank
    /// means WeChat's own, and a plain-http one off loopback is refused like the relay's.
    #[tokio::test]
    async fn the_windows_form_saves_its_api_base_and_blank_means_wechats_own() {
        let store = Store::open_in_memory().unwrap();
        let secrets = Secrets::memory();
        let form = |api_base: Option<&str>| SettingsForm {
            component_appid: "wx5a9d0c0e7f3b1a2c".into(),
            relay_url: "https://relay.example.com".into(),
            egress: Egress::Direct,
            api_base: api_base.map(String::from),
            component_appsecret: Some("appsecret-value".into()),
            component_token: None,
            component_aes_key: None,
            relay_key: Some("relay-key".into()),
        };
        for (typed, saved) in [
            (Some("http://127.0.0.1:7001/"), "http://127.0.0.1:7001"),
            (
                Some("https://wx-proxy.example.com"),
                "https://wx-proxy.example.com",
            ),
            (Some("  "), crate::store::settings::WECHAT_API_BASE),
            (None, crate::store::settings::WECHAT_API_BASE),
        ] {
            let view = save_settings(&store, &secrets, form(typed).into())
                .await
                .unwrap();
            assert_eq!(view.settings.unwrap().api_base, saved, "{typed:?}");
        }
        let err = save_settings(&store, &secrets, form(Some("http://10.1.2.3:80")).into())
            .await
            .unwrap_err();
        assert!(err.to_string().contains("明文 http"), "{err}");
        assert_eq!(
            load_settings(&store, &secrets)
                .await
                .unwrap()
                .settings
                .unwrap()
                .api_base,
            crate::store::settings::WECHAT_API_BASE,
            "the refused form changed nothing"
        );
    }

    #[tokio::test]
    async fn a_plain_http_relay_saved_before_the_check_is_refused_when_connecting() {
        let store = Store::open_in_memory().unwrap();
        let secrets = Secrets::memory();
        save_settings(&store, &secrets, input()).await.unwrap();
        // As an older build would have stored it.
        store
            .call(|c| {
                let mut s = settings::load(c)?.unwrap();
                s.relay_url = "http://relay.example.com".into();
                settings::save(c, &s)
            })
            .await
            .unwrap();
        let platform = crate::platform::Platform::new(store.clone(), secrets);
        let err = platform.relay().await.unwrap_err();
        assert!(
            err.to_string()
                .contains("中继地址「http://relay.example.com」使用明文 http"),
            "{err}"
        );
        let Err(err) = platform.api().await else {
            panic!("an API connection over the plain-http relay was built")
        };
        assert!(err.to_string().contains("明文 http"), "{err}");

        // Direct egress to a plain-http API base, both for the client and for the send engine.
        store
            .call(|c| {
                let mut s = settings::load(c)?.unwrap();
                s.relay_url = "https://relay.example.com".into();
                s.egress = Egress::Direct;
                s.api_base = "http://api.example.com".into();
                settings::save(c, &s)
            })
            .await
            .unwrap();
        platform.reconnect().await;
        let Err(err) = platform.api().await else {
            panic!("an API connection to a plain-http API base was built")
        };
        assert!(
            err.to_string()
                .contains("微信接口地址「http://api.example.com」"),
            "{err}"
        );
        let Err(err) = crate::send::platform::platform_send_api(&platform).await else {
            panic!("a send API to a plain-http API base was built")
        };
        assert!(err.to_string().contains("明文 http"), "{err}");
    }

    #[tokio::test]
    async fn changing_the_relay_url_restarts_the_cursor_but_other_edits_keep_it() {
        let store = Store::open_in_memory().unwrap();
        let secrets = Secrets::memory();
        save_settings(&store, &secrets, input()).await.unwrap();
        store.call(|c| cursor::advance(c, 12)).await.unwrap();
        save_settings(
            &store,
            &secrets,
            SettingsInput {
                egress: Egress::Direct,
                ..input()
            },
        )
        .await
        .unwrap();
        assert_eq!(store.call(|c| cursor::get(c)).await.unwrap(), 12);
        save_settings(
            &store,
            &secrets,
            SettingsInput {
                relay_url: "https://other.example.com".into(),
                ..input()
            },
        )
        .await
        .unwrap();
        assert_eq!(store.call(|c| cursor::get(c)).await.unwrap(), 0);
    }
}
