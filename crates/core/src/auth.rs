//! The authorization walk-through: a pre_auth_code and the relay's 授权发起页 links, then the
//! exchange of the authorization code (from the browser redirect or the relay's push) into a
//! stored account and a refresh token in the keychain. Also the 全网发布 API half.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::accounts::AccountStatus;
use crate::accounts::db as rows;
use crate::accounts::{AccountCard, row_from_info};
use crate::error::{Error, Result};
use crate::feed::AuthActions;
use crate::platform::Platform;
use crate::secrets::{Secret, SecretKey};
use crate::store::{audit, auth_codes, now};

/// WeChat's 全网发布 test accounts: never stored, never given business logic.
pub fn is_release_test_account(appid: &str) -> bool {
    wxdesk_wechat::release::is_test_account(appid, None)
}

/// What to authorize (the page's auth_type).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum AuthScope {
    /// 公众号 (auth_type 1)
    Oa,
    /// 小程序 (auth_type 2)
    Mini,
    /// 公众号和小程序 (auth_type 3)
    Both,
}

impl AuthScope {
    pub fn auth_type(self) -> u8 {
        match self {
            AuthScope::Oa => 1,
            AuthScope::Mini => 2,
            AuthScope::Both => 3,
        }
    }
}

/// What the wizard needs to open the page (在本机扫码) or show the QR code (发送到手机).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AuthorizationStart {
    /// Also how the wizard recognises the `authorized` push of this attempt.
    pub pre_auth_code: String,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub expires_in: i64,
    /// Unix seconds; the wizard's countdown.
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub expires_at: i64,
    /// The relay's 授权发起页: PC, or mobile when asked for.
    pub launch_url: String,
    /// The mobile link (for the QR code).
    pub mobile_url: String,
    /// Comes back on the redirect (`auth_callback` event) to match this attempt; signed with
    /// the relay key (wxdesk_relay::auth_state), which the relay checks on its pages.
    pub state: String,
}

/// Authorization actions; a small handle over the platform. One completion at a time per
/// process, so the redirect and the push of the same code do not both call WeChat.
#[derive(Clone, Debug)]
pub struct Authorizer {
    platform: Platform,
    completing: Arc<tokio::sync::Mutex<()>>,
}

impl Authorizer {
    pub fn new(platform: Platform) -> Self {
        Authorizer {
            platform,
            completing: Arc::new(tokio::sync::Mutex::new(())),
        }
    }

    /// Gets a pre_auth_code and builds the relay links that lead to WeChat's authorization page.
    /// `biz_appid` restricts the page to one account (re-authorizing it).
    pub async fn begin_authorization(
        &self,
        scope: AuthScope,
        mobile: bool,
        biz_appid: Option<&str>,
    ) -> Result<AuthorizationStart> {
        let api = self.platform.api().await?;
        let pre = api.create_pre_auth_code().await?;
        let started = now();
        // Names the attempt (the redirect's auth_callback event carries it back) and proves to
        // the relay that this desk started it: signed with the relay key, which the relay has
        // as its API key, so only codes of attempts started here are recorded.
        let state = if api.is_team() {
            // A team desk holds no relay key: the server signs the attempt for it.
            api.relay().team_auth_state().await?
        } else {
            wxdesk_relay::auth_state::issue(api.relay().key().expose(), started, rand::random())
        };
        let relay = api.relay().base_url().to_string();
        let link = |mobile: bool| -> Result<String> {
            let mut u = Url::parse(&format!("{relay}/auth/start")).map_err(|e| {
                Error::input(
                    format!("中继地址无效：{e}"),
                    format!("The relay URL is not valid: {e}"),
                )
            })?;
            {
                let mut q = u.query_pairs_mut();
                q.append_pair("pre_auth_code", &pre.pre_auth_code)
                    .append_pair("auth_type", &scope.auth_type().to_string());
                if let Some(b) = biz_appid {
                    q.append_pair("biz_appid", b);
                }
                q.append_pair("state", &state);
                if mobile {
                    q.append_pair("mobile", "1");
                }
            }
            Ok(u.into())
        };
        let mobile_url = link(true)?;
        let launch_url = if mobile {
            mobile_url.clone()
        } else {
            link(false)?
        };
        Ok(AuthorizationStart {
            expires_in: pre.expires_in,
            expires_at: started + pre.expires_in,
            pre_auth_code: pre.pre_auth_code,
            launch_url,
            mobile_url,
            state,
        })
    }

    /// Exchanges an authorization code: api_query_auth, the refresh token into the keychain,
    /// api_get_authorizer_info, the account stored. A code already exchanged (it arrives by
    /// redirect and by push) returns the stored account without calling WeChat again.
    pub async fn complete_authorization(&self, code: &Secret) -> Result<AccountCard> {
        let _one_at_a_time = self.completing.lock().await;
        let store = self.platform.store();
        let accounts = crate::accounts::Accounts::new(self.platform.clone());
        let c = code.clone();
        if let Some(appid) = store
            .call(move |s| auth_codes::consumed_for(s, c.expose()))
            .await?
        {
            return accounts.show(&appid).await;
        }
        let api = self.platform.api().await?;
        if api.is_team() {
            return Err(Error::input(
                "团队工位不兑换授权码：由团队服务器完成授权",
                "A team desk does not redeem authorization codes: the team server does.",
            ));
        }
        let q = api.query_auth(code).await?;
        let appid = q.authorizer_appid.clone();
        // The refresh token into the keychain and the access token into the cache, first:
        // if anything below fails, the authorization is not lost.
        api.store_authorization(&q).await?;
        let mut has_refresh = q
            .authorizer_refresh_token
            .as_ref()
            .is_some_and(|t| !t.is_empty());
        let info = api.authorizer_info(&appid).await?;
        if !has_refresh {
            // Accounts without API permissions get no tokens from api_query_auth; the list
            // may still carry one.
            let listed = api
                .authorizer_list()
                .await?
                .into_iter()
                .find(|l| l.appid == appid);
            if let Some(rt) = listed.and_then(|l| l.refresh_token) {
                self.platform
                    .secrets()
                    .set(SecretKey::RefreshToken(appid.clone()), rt)
                    .await?;
                has_refresh = true;
            }
        }
        let status = if has_refresh {
            AccountStatus::Authorized
        } else {
            AccountStatus::NeedsReauth
        };
        let granted = q.granted_ids();
        let row = row_from_info(
            &appid,
            &info,
            Some(&granted),
            status,
            Some(now()),
            api.component_appid(),
        );
        let c = code.clone();
        store
            .call(move |s| {
                let tx = s.transaction()?;
                rows::upsert(&tx, &row)?;
                auth_codes::mark_consumed(&tx, c.expose(), &row.appid)?;
                audit::record(
                    &tx,
                    "authorized",
                    Some(&row.appid),
                    &format!("已授权：{}", row.nickname),
                )?;
                Ok(tx.commit()?)
            })
            .await?;
        tracing::info!(appid = %appid, "authorization completed");
        accounts.show(&appid).await
    }

    /// A team desk: the account the server authorized (it redeems the code when WeChat pushes
    /// it), stored here once the server lists it, with its details from WeChat through the
    /// server. Not listed yet: an error the feed retries (the server may still be redeeming).
    pub async fn adopt_team_account(
        &self,
        appid: &str,
        code: Option<&Secret>,
    ) -> Result<AccountCard> {
        let api = self.platform.api().await?;
        let listed = api
            .relay()
            .team_accounts()
            .await?
            .into_iter()
            .find(|a| a.appid == appid && a.authorized);
        let Some(listed) = listed else {
            return Err(Error::RelayStatus {
                status: 409,
                message: format!("团队服务器还没有完成 {appid} 的授权，稍后重试"),
            });
        };
        let info = api.authorizer_info(appid).await?;
        let granted = listed.func_info.clone();
        let authorized_at = Some(listed.authorized_at)
            .filter(|t| *t > 0)
            .unwrap_or_else(now);
        let row = row_from_info(
            appid,
            &info,
            Some(&granted),
            AccountStatus::Authorized,
            Some(authorized_at),
            api.component_appid(),
        );
        let code = code.map(|c| c.expose().to_owned());
        let by = listed.updated_by.unwrap_or_default();
        self.platform
            .store()
            .call(move |s| {
                let tx = s.transaction()?;
                rows::upsert(&tx, &row)?;
                if let Some(c) = &code {
                    auth_codes::mark_consumed(&tx, c, &row.appid)?;
                }
                let detail = if by.is_empty() {
                    format!("已授权（团队）：{}", row.nickname)
                } else {
                    format!("已授权（团队，{by}）：{}", row.nickname)
                };
                audit::record(&tx, "authorized", Some(&row.appid), &detail)?;
                Ok(tx.commit()?)
            })
            .await?;
        crate::accounts::Accounts::new(self.platform.clone())
            .show(appid)
            .await
    }

    /// Stores an account WeChat lists as authorized without exchanging a code: used when an
    /// `authorized` event's code expired before the app saw it (it was closed). The refresh
    /// token comes from api_get_authorizer_list; without one the account needs re-authorizing.
    pub async fn adopt_authorizer(&self, appid: &str) -> Result<AccountCard> {
        let api = self.platform.api().await?;
        let listed = api
            .authorizer_list()
            .await?
            .into_iter()
            .find(|l| l.appid == appid);
        let listed = listed.ok_or_else(|| Error::AccountNotFound(appid.to_string()))?;
        let info = api.authorizer_info(appid).await?;
        let status = match listed.refresh_token {
            Some(rt) => {
                let key = SecretKey::RefreshToken(appid.to_string());
                self.platform.secrets().set(key, rt).await?;
                AccountStatus::Authorized
            }
            None => AccountStatus::NeedsReauth,
        };
        let authorized_at = Some(listed.auth_time)
            .filter(|t| *t > 0)
            .unwrap_or_else(now);
        let row = row_from_info(
            appid,
            &info,
            None,
            status,
            Some(authorized_at),
            api.component_appid(),
        );
        self.platform
            .store()
            .call(move |s| {
                let tx = s.transaction()?;
                rows::upsert(&tx, &row)?;
                let detail = format!("授权码已过期，已从授权列表恢复：{}", row.nickname);
                audit::record(&tx, "authorized", Some(&row.appid), &detail)?;
                Ok(tx.commit()?)
            })
            .await?;
        crate::accounts::Accounts::new(self.platform.clone())
            .show(appid)
            .await
    }

    /// 全网发布 test, API half: exchange the query_auth_code and answer the tester with a
    /// customer-service text `<code>_from_api`. Test accounts are not stored.
    pub async fn answer_release_test(&self, openid: &str, query_auth_code: &Secret) -> Result<()> {
        let api = self.platform.api().await?;
        let q = api.query_auth(query_auth_code).await?;
        let token = q.authorizer_access_token.ok_or_else(|| {
            Error::input(
                "全网发布测试：api_query_auth 没有返回 authorizer_access_token",
                "Release test: api_query_auth returned no authorizer_access_token.",
            )
        })?;
        let content = format!("{}_from_api", query_auth_code.expose());
        api.send_text_with(&token, openid, &content).await
    }
}

impl AuthActions for Authorizer {
    async fn complete_authorization(&self, code: Secret) -> Result<String> {
        Ok(Authorizer::complete_authorization(self, &code).await?.appid)
    }

    async fn answer_release_test(
        &self,
        _appid: Option<&str>,
        openid: &str,
        code: Secret,
    ) -> Result<()> {
        Authorizer::answer_release_test(self, openid, &code).await
    }

    async fn adopt_authorizer(&self, appid: &str) -> Result<String> {
        if self.platform.is_team() {
            self.adopt_team_account(appid, None).await?;
        } else {
            Authorizer::adopt_authorizer(self, appid).await?;
        }
        Ok(appid.to_string())
    }

    fn redeems_codes(&self) -> bool {
        !self.platform.is_team()
    }

    async fn forget_authorizer(&self, appid: &str) -> Result<()> {
        self.platform.forget_authorizer(appid).await
    }
}
