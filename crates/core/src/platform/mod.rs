//! The platform: its configuration (settings in SQLite, secrets in the keychain) and a
//! connection to the WeChat API built from it — the egress choice, the component token
//! (ticket from the relay, appsecret from the keychain) and authorizer tokens (refresh tokens
//! in the keychain). Access tokens are cached in memory and, for a platform opened on a data
//! dir, shared with the other processes on it through the keychain and a lock file
//! ([`shared_tokens`]), so the app and the CLI refresh each token once between them.

pub mod check;
pub mod settings;
pub mod shared_tokens;
mod tokens;

use std::path::Path;
use std::sync::Arc;

use tokio::sync::RwLock;
use wxdesk_wechat::api::{Client, ClientConfig};

pub use crate::store::settings::{Egress, Mode, PlatformSettings};
pub use check::{CheckDetail, CheckStep, CheckStepId, KeyMatch, SkipReason, TicketStatus};
pub use settings::{SettingsForm, SettingsInput, SettingsView};
pub use tokens::{AuthorizerInfo, ListedAuthorizer, QueryAuth, WxApi};

use crate::error::{Error, Missing, Result};
use crate::relay::RelayClient;
use crate::secrets::{Secret, SecretKey, Secrets};
use crate::store::Store;
use shared_tokens::KeychainSharedTokens;

/// A small cloneable handle: the store, the secrets, and the API connection built lazily from
/// them (rebuilt after the settings change).
#[derive(Clone)]
pub struct Platform {
    store: Store,
    secrets: Secrets,
    api: Arc<RwLock<Option<Arc<WxApi>>>>,
    /// Set when the platform belongs to a data dir other processes may open too.
    shared_tokens: Option<KeychainSharedTokens>,
    /// A team workspace (see [`crate::team`]): WeChat calls go to the team server, which adds
    /// the tokens; this desk holds no platform secret.
    team: bool,
    /// Whether WeChat answers, as every connection's account calls tell it.
    health: crate::health::WeChatHealth,
}

impl std::fmt::Debug for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Platform")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl Platform {
    pub fn new(store: Store, secrets: Secrets) -> Self {
        Platform {
            store,
            secrets,
            api: Arc::new(RwLock::new(None)),
            shared_tokens: None,
            team: false,
            health: crate::health::WeChatHealth::default(),
        }
    }

    /// Whether WeChat's API answers this desk (every connection built from here tells it).
    pub fn wechat_health(&self) -> &crate::health::WeChatHealth {
        &self.health
    }

    /// The platform of a team workspace.
    #[must_use]
    pub fn in_team(mut self) -> Self {
        self.team = true;
        self
    }

    /// Whether this is a team workspace's platform.
    pub fn is_team(&self) -> bool {
        self.team
    }

    /// The team server of a team workspace (where its shared data lives); `None` for a local
    /// workspace.
    pub async fn team_server(&self) -> Result<Option<RelayClient>> {
        if self.team {
            Ok(Some(self.relay().await?))
        } else {
            Ok(None)
        }
    }

    /// Shares access tokens with every other process that opens `data_dir` (the app and the
    /// CLI): one refresh between them, under `<data dir>/locks/`.
    #[must_use]
    pub fn sharing_tokens_in(mut self, data_dir: &Path) -> Self {
        self.shared_tokens = Some(KeychainSharedTokens::new(self.secrets.clone(), data_dir));
        self
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn secrets(&self) -> &Secrets {
        &self.secrets
    }

    pub async fn load_settings(&self) -> Result<SettingsView> {
        settings::load_settings(&self.store, &self.secrets).await
    }

    /// Saves and drops the current API connection, so the next call uses the new settings.
    pub async fn save_settings(&self, input: SettingsInput) -> Result<SettingsView> {
        if self.team {
            // The workspace's server URL and member key came from `team join`; overwriting them
            // here would cut the desk off its team, and a team desk needs no platform secret.
            return Err(team_manages_platform());
        }
        let view = settings::save_settings(&self.store, &self.secrets, input).await?;
        self.reconnect().await;
        Ok(view)
    }

    /// Forgets the API connection and every cached access token.
    pub async fn reconnect(&self) {
        *self.api.write().await = None;
    }

    /// The saved settings, or `NotConfigured`.
    pub async fn settings(&self) -> Result<PlatformSettings> {
        self.store
            .call(|c| crate::store::settings::load(c))
            .await?
            .ok_or(Error::NotConfigured(Missing::ComponentAppid))
    }

    /// The relay's private API with the saved URL and key.
    pub async fn relay(&self) -> Result<RelayClient> {
        let s = self.settings().await?;
        self.relay_for(&s).await
    }

    async fn relay_for(&self, s: &PlatformSettings) -> Result<RelayClient> {
        let key = self.secrets.get(SecretKey::RelayKey).await?;
        relay_with(s, key)
    }

    /// The API connection, built on first use from the settings and secrets.
    pub async fn api(&self) -> Result<Arc<WxApi>> {
        if let Some(api) = self.api.read().await.as_ref() {
            return Ok(Arc::clone(api));
        }
        let mut slot = self.api.write().await;
        if let Some(api) = slot.as_ref() {
            return Ok(Arc::clone(api));
        }
        let s = self.settings().await?;
        if s.component_appid.is_empty() {
            return Err(Error::NotConfigured(Missing::ComponentAppid));
        }
        let relay = self.relay_for(&s).await?;
        let appsecret = if self.team {
            None
        } else {
            self.secrets.get(SecretKey::ComponentAppsecret).await?
        };
        let shared = self
            .shared_tokens
            .clone()
            .map(|s| Arc::new(s) as Arc<dyn wxdesk_wechat::token::SharedTokens>);
        let api = Arc::new(
            self.connect(&s, relay, appsecret, shared)?
                .checking_accounts_in(self.store.clone())
                .telling(self.health.clone()),
        );
        *slot = Some(Arc::clone(&api));
        Ok(api)
    }

    /// An API connection for `s` with the given relay and AppSecret — the saved ones
    /// ([`Platform::api`]) or a form's not yet saved ([`Platform::check_candidate`]).
    fn connect(
        &self,
        s: &PlatformSettings,
        relay: RelayClient,
        appsecret: Option<Secret>,
        shared: Option<Arc<dyn wxdesk_wechat::token::SharedTokens>>,
    ) -> Result<WxApi> {
        if s.component_appid.is_empty() {
            return Err(Error::NotConfigured(Missing::ComponentAppid));
        }
        let (base_url, bearer) = self.endpoint_via(s, &relay)?;
        let cfg = ClientConfig {
            base_url,
            extra_header: bearer.map(|b| {
                (
                    "Authorization".to_owned(),
                    Secret::new(format!("Bearer {}", b.expose())),
                )
            }),
            ..ClientConfig::default()
        };
        if self.team {
            return Ok(WxApi::team(
                Client::new(cfg)?,
                s.component_appid.clone(),
                relay,
            ));
        }
        let appsecret = appsecret.ok_or(Error::NotConfigured(Missing::ComponentAppsecret))?;
        Ok(WxApi::new(
            Client::new(cfg)?,
            s.component_appid.clone(),
            appsecret,
            relay,
            self.secrets.clone(),
            shared,
        ))
    }

    /// Where this desk's WeChat API calls go, and the bearer key they carry: WeChat itself
    /// (direct egress), the relay's egress route, or — in a team workspace — the team server,
    /// which adds the tokens. The API client and the send engine both take it from here.
    pub(crate) async fn wechat_endpoint(
        &self,
        s: &PlatformSettings,
    ) -> Result<(String, Option<Secret>)> {
        if !self.team && s.egress == Egress::Direct {
            settings::check_transport(&s.api_base, settings::API_BASE, s.mode)?;
            return Ok((s.api_base.clone(), None));
        }
        let relay = self.relay_for(s).await?;
        self.endpoint_via(s, &relay)
    }

    /// As [`Platform::wechat_endpoint`], with the relay given.
    fn endpoint_via(
        &self,
        s: &PlatformSettings,
        relay: &RelayClient,
    ) -> Result<(String, Option<Secret>)> {
        if !self.team && s.egress == Egress::Direct {
            settings::check_transport(&s.api_base, settings::API_BASE, s.mode)?;
            return Ok((s.api_base.clone(), None));
        }
        let base = if self.team {
            format!("{}/api/v1/team/wechat", relay.base_url())
        } else {
            relay.egress_base()
        };
        Ok((base, Some(relay.key().clone())))
    }

    /// The authorization is gone (revoked, or the account removed here): delete the refresh
    /// token and drop any cached access token.
    pub async fn forget_authorizer(&self, appid: &str) -> Result<()> {
        self.secrets
            .delete(SecretKey::RefreshToken(appid.to_string()))
            .await?;
        // The access token the processes share, even when this one never built a connection.
        self.secrets
            .delete(SecretKey::AuthorizerAccessToken(appid.to_string()))
            .await?;
        if let Some(api) = self.api.read().await.as_ref() {
            api.revoke_authorizer(appid).await?;
        }
        Ok(())
    }
}

/// Refusal of platform settings in a team workspace.
fn team_manages_platform() -> Error {
    Error::input(
        "本机在团队工作区中：第三方平台的设置由团队服务器管理。要改用自己的平台，先离开团队",
        "This desk works in a team workspace: the team server manages the platform's settings. \
         To use a platform of your own, leave the team first.",
    )
}

/// The relay's private API for `s` with `key` (the saved relay key, or a form's).
fn relay_with(s: &PlatformSettings, key: Option<Secret>) -> Result<RelayClient> {
    if s.relay_url.is_empty() {
        return Err(Error::NotConfigured(Missing::RelayUrl));
    }
    settings::check_transport(&s.relay_url, settings::RELAY_URL, s.mode)?;
    let key = key.ok_or(Error::NotConfigured(Missing::RelayKey))?;
    RelayClient::new(&s.relay_url, key)
}
