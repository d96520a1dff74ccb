//! 授权账号: the accounts table and its actions — list, show, refresh info, remove, token
//! health, and rebuilding lost refresh tokens from api_get_authorizer_list.

pub mod archive;
pub(crate) mod db;
pub mod permissions;

use serde::Serialize;

pub use archive::{ArchivedPlatform, PurgeReport};
pub use db::{AccountKind, AccountRow, AccountStatus};
pub use permissions::Permission;

use crate::error::{Error, ErrorReport, Result};
use crate::platform::{AuthorizerInfo, Platform};
use crate::secrets::SecretKey;
use crate::store::audit;
use db as rows;

/// What kind of account, from WeChat's service_type_info.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum AccountType {
    /// 订阅号
    Subscription,
    /// 服务号
    Service,
    /// 公众号 whose type WeChat did not say.
    OfficialAccount,
    /// 小程序
    MiniProgram,
}

impl AccountType {
    fn of(kind: AccountKind, service_type: Option<i64>) -> AccountType {
        match (kind, service_type) {
            (AccountKind::Mini, _) => AccountType::MiniProgram,
            (AccountKind::Oa, Some(2)) => AccountType::Service,
            (AccountKind::Oa, Some(0 | 1)) => AccountType::Subscription,
            (AccountKind::Oa, _) => AccountType::OfficialAccount,
        }
    }

    /// In Chinese (the CLI; the UI names it in its own language).
    pub fn label_zh(self) -> &'static str {
        match self {
            AccountType::Subscription => "订阅号",
            AccountType::Service => "服务号",
            AccountType::OfficialAccount => "公众号",
            AccountType::MiniProgram => "小程序",
        }
    }
}

/// The verification WeChat reports (verify_type_info).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Verification {
    /// 未认证
    None,
    /// 微信认证
    Wechat,
    /// 新浪微博认证
    SinaWeibo,
    /// 腾讯微博认证
    TencentWeibo,
    /// 资质认证，名称未认证
    QualificationOnly,
}

impl Verification {
    fn of(verify_type: Option<i64>) -> Verification {
        match verify_type {
            None | Some(-1) => Verification::None,
            Some(0) => Verification::Wechat,
            Some(1) => Verification::SinaWeibo,
            Some(2) => Verification::TencentWeibo,
            Some(_) => Verification::QualificationOnly,
        }
    }

    /// In Chinese (the CLI; the UI names it in its own language).
    pub fn label_zh(self) -> &'static str {
        match self {
            Verification::None => "未认证",
            Verification::Wechat => "微信认证",
            Verification::SinaWeibo => "新浪微博认证",
            Verification::TencentWeibo => "腾讯微博认证",
            Verification::QualificationOnly => "资质认证（名称未认证）",
        }
    }
}

/// One account as the card and the table show it (codes only: each face names them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AccountCard {
    pub appid: String,
    pub kind: AccountKind,
    pub account_type: AccountType,
    pub nickname: String,
    pub head_img: String,
    /// The original id, `gh_…`.
    pub user_name: String,
    pub principal: String,
    pub verified: bool,
    pub verification: Verification,
    /// The permission sets (权限集, `func_info` ids) the account granted the platform.
    #[cfg_attr(feature = "specta", specta(type = Vec<specta_typescript::Number>))]
    pub permissions: Vec<i64>,
    /// An official account that did not grant 群发与通知权限 cannot send template messages.
    pub missing_template_permission: bool,
    pub status: AccountStatus,
    /// Unix seconds.
    #[cfg_attr(feature = "specta", specta(type = Option<specta_typescript::Number>))]
    pub authorized_at: Option<i64>,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub updated_at: i64,
    /// Whether the keychain holds this account's refresh token (没有就无法调用接口).
    pub has_refresh_token: bool,
    /// The third-party platform the account was authorized under (empty: not known).
    pub component_appid: String,
    /// Authorized in 体验沙箱: a simulated account, never a real one.
    pub sandbox: bool,
    /// Authorized under the platform configured now, so usable. An account of another platform
    /// (the sandbox's, or a real platform used before) is kept as an archive and never called.
    pub current_platform: bool,
}

impl AccountCard {
    /// `current` is the component appid of the platform configured now (empty: none).
    pub fn from_row(r: AccountRow, has_refresh_token: bool, current: &str) -> AccountCard {
        AccountCard {
            sandbox: r.component_appid == crate::sandbox::COMPONENT_APPID,
            current_platform: archive::belongs_to(&r.component_appid, current),
            component_appid: r.component_appid,
            account_type: AccountType::of(r.kind, r.service_type),
            verified: r.verify_type.is_some_and(|v| v >= 0),
            verification: Verification::of(r.verify_type),
            missing_template_permission: permissions::missing_template_permission(
                r.kind,
                &r.func_info,
            ),
            permissions: r.func_info,
            status: r.status,
            appid: r.appid,
            kind: r.kind,
            nickname: r.nickname,
            head_img: r.head_img,
            user_name: r.user_name,
            principal: r.principal,
            authorized_at: r.authorized_at,
            updated_at: r.updated_at,
            has_refresh_token,
        }
    }

    /// The granted permission sets with their Chinese names (the CLI).
    pub fn permission_names_zh(&self) -> Vec<Permission> {
        permissions::describe(self.kind, &self.permissions)
    }
}

/// Builds the stored row from api_get_authorizer_info; `func_info` from api_query_auth wins
/// when given (it is what this very authorization granted). `component_appid` is the platform
/// that authorization was made under (the connection's).
pub(crate) fn row_from_info(
    appid: &str,
    info: &AuthorizerInfo,
    func_info: Option<&[i64]>,
    status: AccountStatus,
    authorized_at: Option<i64>,
    component_appid: &str,
) -> AccountRow {
    AccountRow {
        component_appid: component_appid.to_string(),
        appid: appid.to_string(),
        kind: if info.is_mini_program {
            AccountKind::Mini
        } else {
            AccountKind::Oa
        },
        nickname: info.nickname.clone(),
        head_img: info.head_img.clone(),
        user_name: info.user_name.clone(),
        principal: info.principal_name.clone(),
        service_type: info.service_type,
        verify_type: info.verify_type,
        func_info: func_info.map_or_else(|| info.func_info.clone(), <[i64]>::to_vec),
        status,
        authorized_at,
        updated_at: 0,
    }
}

/// Result of a token health check, for the table's 令牌状态 column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TokenHealth {
    pub appid: String,
    pub has_refresh_token: bool,
    /// An authorizer_access_token could be obtained just now.
    pub access_token_ok: bool,
    /// Why no token could be obtained, when the refresh token is there but did not work.
    pub problem: Option<ErrorReport>,
}

impl TokenHealth {
    /// What the check found, in Chinese (the CLI).
    pub fn detail_zh(&self) -> String {
        match &self.problem {
            _ if !self.has_refresh_token => "钥匙串中没有此账号的刷新令牌".into(),
            Some(p) => p.message.zh.clone(),
            None => "令牌正常".into(),
        }
    }

    /// What to do, in Chinese (the CLI).
    pub fn hint_zh(&self) -> Option<String> {
        if !self.has_refresh_token {
            return Some("点击「恢复刷新令牌」，或重新授权此账号。".into());
        }
        self.problem
            .as_ref()
            .and_then(|p| p.hint.as_ref())
            .map(|h| h.zh.clone())
    }
}

/// What 恢复刷新令牌 did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RecoverReport {
    /// Accounts whose refresh token was missing here and is now restored.
    pub restored: Vec<String>,
    /// Accounts authorized at WeChat that were not in the table and were added.
    pub added: Vec<String>,
    /// Listed by WeChat without a refresh token: these need re-authorization.
    pub without_token: Vec<String>,
    /// In the table but no longer authorized at WeChat: marked 需要重新授权.
    pub not_authorized: Vec<String>,
    /// Already fine.
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub unchanged: usize,
}

/// The accounts table's actions. A small handle over the platform.
#[derive(Clone, Debug)]
pub struct Accounts {
    platform: Platform,
}

impl Accounts {
    pub fn new(platform: Platform) -> Self {
        Accounts { platform }
    }

    /// The component appid of the platform configured now; empty when none is.
    async fn current_platform(&self) -> Result<String> {
        Ok(self
            .platform
            .store()
            .call(|c| crate::store::settings::load(c))
            .await?
            .map(|s| s.component_appid)
            .unwrap_or_default())
    }

    async fn card(&self, row: AccountRow, current: &str) -> Result<AccountCard> {
        // A team desk holds no refresh token: the server does (an account it lists as
        // authorized has one there).
        let has = self.platform.is_team()
            || self
                .platform
                .secrets()
                .is_set(SecretKey::RefreshToken(row.appid.clone()))
                .await?;
        Ok(AccountCard::from_row(row, has, current))
    }

    /// Every account, of every platform: the accounts page shows the ones of another platform
    /// apart (see [`AccountCard::current_platform`]).
    pub async fn list(&self) -> Result<Vec<AccountCard>> {
        let rows = self.platform.store().call(|c| rows::list(c)).await?;
        let current = self.current_platform().await?;
        let mut cards = Vec::with_capacity(rows.len());
        for r in rows {
            cards.push(self.card(r, &current).await?);
        }
        Ok(cards)
    }

    /// The accounts of the platform configured now: the only ones any feature may use (the
    /// pickers of 发送, 模板, 用户与名单 and 小程序代码).
    pub async fn list_current(&self) -> Result<Vec<AccountCard>> {
        Ok(self
            .list()
            .await?
            .into_iter()
            .filter(|c| c.current_platform)
            .collect())
    }

    pub async fn show(&self, appid: &str) -> Result<AccountCard> {
        let id = appid.to_string();
        let row = self
            .platform
            .store()
            .call(move |c| rows::get(c, &id))
            .await?;
        let current = self.current_platform().await?;
        self.card(
            row.ok_or_else(|| Error::AccountNotFound(appid.to_string()))?,
            &current,
        )
        .await
    }

    /// Re-reads api_get_authorizer_info. 61003 (no longer authorized) marks the account
    /// 已取消授权 instead of failing.
    pub async fn refresh_info(&self, appid: &str) -> Result<AccountCard> {
        let existing = self.show(appid).await?;
        let api = self.platform.api().await?;
        api.ensure_platform(appid).await?;
        let component = api.component_appid().to_string();
        let (status, row) = match api.authorizer_info(appid).await {
            Ok(info) => {
                // A readable account keeps its status: only events and token checks change it.
                let status = existing.status;
                (
                    status,
                    Some(row_from_info(
                        appid,
                        &info,
                        None,
                        status,
                        existing.authorized_at,
                        &component,
                    )),
                )
            }
            Err(e) if e.wechat_errcode() == Some(61003) => (AccountStatus::Unauthorized, None),
            Err(e) => return Err(e),
        };
        let id = appid.to_string();
        self.platform
            .store()
            .call(move |c| {
                let tx = c.transaction()?;
                match row {
                    Some(r) => rows::upsert(&tx, &r)?,
                    None => {
                        rows::set_status(&tx, &id, status)?;
                        audit::record(
                            &tx,
                            "unauthorized",
                            Some(&id),
                            "刷新信息时微信返回 61003：已不再授权",
                        )?;
                    }
                }
                Ok(tx.commit()?)
            })
            .await?;
        self.show(appid).await
    }

    /// Removes the account from this computer: its row, its refresh token and cached tokens.
    /// (The authorization at WeChat stays; the account's admin cancels it there.)
    pub async fn remove(&self, appid: &str) -> Result<()> {
        let id = appid.to_string();
        let existed = self
            .platform
            .store()
            .call(move |c| {
                let tx = c.transaction()?;
                let existed = rows::delete(&tx, &id)?;
                if existed {
                    audit::record(&tx, "removed", Some(&id), "已从本机移除")?;
                }
                tx.commit()?;
                Ok(existed)
            })
            .await?;
        self.platform.forget_authorizer(appid).await?;
        if existed {
            Ok(())
        } else {
            Err(Error::AccountNotFound(appid.to_string()))
        }
    }

    /// Tries to obtain an authorizer_access_token now. A refused refresh token (61023) or a
    /// cancelled authorization (61003) marks the account 需要重新授权 / 已取消授权.
    pub async fn token_health(&self, appid: &str) -> Result<TokenHealth> {
        let card = self.show(appid).await?;
        if !card.current_platform {
            return Ok(TokenHealth {
                appid: appid.into(),
                has_refresh_token: card.has_refresh_token,
                access_token_ok: false,
                problem: Some(ErrorReport::from(&archive::other_platform_error(
                    appid,
                    &card.nickname,
                    &card.component_appid,
                ))),
            });
        }
        if !card.has_refresh_token {
            return Ok(TokenHealth {
                appid: appid.into(),
                has_refresh_token: false,
                access_token_ok: false,
                problem: None,
            });
        }
        let api = self.platform.api().await?;
        match api.authorizer_token(appid).await {
            Ok(_) => Ok(TokenHealth {
                appid: appid.into(),
                has_refresh_token: true,
                access_token_ok: true,
                problem: None,
            }),
            Err(e) => {
                let status = match e.wechat_errcode() {
                    Some(61003) => Some(AccountStatus::Unauthorized),
                    Some(61023) => Some(AccountStatus::NeedsReauth),
                    _ => None,
                };
                if let Some(s) = status {
                    let id = appid.to_string();
                    self.platform
                        .store()
                        .call(move |c| rows::set_status(c, &id, s).map(|_| ()))
                        .await?;
                }
                Ok(TokenHealth {
                    appid: appid.into(),
                    has_refresh_token: true,
                    access_token_ok: false,
                    problem: Some(ErrorReport::from(&e)),
                })
            }
        }
    }

    /// 恢复刷新令牌: walks api_get_authorizer_list and puts back every refresh token missing
    /// from the keychain; adds accounts authorized at WeChat but unknown here; marks accounts
    /// WeChat no longer lists as 需要重新授权.
    pub async fn recover_refresh_tokens(&self) -> Result<RecoverReport> {
        let api = self.platform.api().await?;
        let listed = api.authorizer_list().await?;
        let secrets = self.platform.secrets();
        let store = self.platform.store();
        let mut report = RecoverReport::default();
        let local = store.call(|c| rows::list(c)).await?;
        for item in &listed {
            let key = SecretKey::RefreshToken(item.appid.clone());
            let known = local.iter().find(|r| r.appid == item.appid);
            let had = secrets.is_set(key.clone()).await?;
            match (&item.refresh_token, had) {
                (_, true) if known.is_some_and(|r| r.status == AccountStatus::Authorized) => {
                    report.unchanged += 1;
                    continue;
                }
                (Some(rt), _) => secrets.set(key, rt.clone()).await?,
                (None, true) => {}
                (None, false) => {
                    report.without_token.push(item.appid.clone());
                    continue;
                }
            }
            let info = api.authorizer_info(&item.appid).await?;
            let row = row_from_info(
                &item.appid,
                &info,
                None,
                AccountStatus::Authorized,
                Some(item.auth_time)
                    .filter(|t| *t > 0)
                    .or(known.and_then(|k| k.authorized_at)),
                api.component_appid(),
            );
            store.call(move |c| rows::upsert(c, &row)).await?;
            if known.is_some() {
                report.restored.push(item.appid.clone());
            } else {
                report.added.push(item.appid.clone());
            }
        }
        // Another platform's accounts are not in this platform's list: they stay as archived.
        for r in local.iter().filter(|r| {
            archive::belongs_to(&r.component_appid, api.component_appid())
                && !listed.iter().any(|l| l.appid == r.appid)
        }) {
            if r.status == AccountStatus::Authorized {
                let id = r.appid.clone();
                store
                    .call(move |c| rows::set_status(c, &id, AccountStatus::NeedsReauth).map(|_| ()))
                    .await?;
                report.not_authorized.push(r.appid.clone());
            }
        }
        let detail = format!(
            "恢复 {} 个，新增 {} 个，无令牌 {} 个，未授权 {} 个",
            report.restored.len(),
            report.added.len(),
            report.without_token.len(),
            report.not_authorized.len()
        );
        store
            .call(move |c| audit::record(c, "recover_refresh_tokens", None, &detail))
            .await?;
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(
        kind: AccountKind,
        service_type: Option<i64>,
        verify_type: Option<i64>,
        func: &[i64],
    ) -> AccountRow {
        AccountRow {
            appid: "wx1".into(),
            kind,
            nickname: "n".into(),
            head_img: "h".into(),
            user_name: "gh_1".into(),
            principal: "p".into(),
            service_type,
            verify_type,
            func_info: func.to_vec(),
            status: AccountStatus::NeedsReauth,
            authorized_at: Some(5),
            updated_at: 6,
            component_appid: "wxcomponent".into(),
        }
    }

    #[test]
    fn card_codes_follow_type_verification_status_and_permissions() {
        let c = AccountCard::from_row(
            row(AccountKind::Oa, Some(2), Some(0), &[1, 7]),
            true,
            "wxcomponent",
        );
        assert_eq!(
            (c.kind, c.account_type, c.verified, c.verification),
            (
                AccountKind::Oa,
                AccountType::Service,
                true,
                Verification::Wechat
            )
        );
        assert_eq!(c.status, AccountStatus::NeedsReauth);
        assert_eq!(c.permissions, [1, 7]);
        assert_eq!(
            c.permission_names_zh(),
            [
                Permission {
                    id: 1,
                    name: "消息管理权限".into()
                },
                Permission {
                    id: 7,
                    name: "群发与通知权限".into()
                }
            ]
        );
        assert!(!c.missing_template_permission);
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["account_type"], "service");
        assert_eq!(json["verification"], "wechat");
        assert_eq!(json["status"], "needs_reauth");
        assert!(
            !json
                .to_string()
                .chars()
                .any(|ch| ('\u{4e00}'..='\u{9fff}').contains(&ch)),
            "codes only, no Chinese labels: {json}"
        );

        let c = AccountCard::from_row(
            row(AccountKind::Oa, Some(0), Some(-1), &[1]),
            false,
            "wxcomponent",
        );
        assert_eq!(
            (c.account_type, c.verified, c.verification),
            (AccountType::Subscription, false, Verification::None)
        );
        assert_eq!(
            (c.account_type.label_zh(), c.verification.label_zh()),
            ("订阅号", "未认证")
        );
        assert!(c.missing_template_permission);
        assert!(!c.has_refresh_token);

        let c = AccountCard::from_row(
            row(AccountKind::Mini, Some(0), Some(0), &[17]),
            true,
            "wxcomponent",
        );
        assert_eq!(c.account_type, AccountType::MiniProgram);
        assert!(!c.missing_template_permission);
        let c = AccountCard::from_row(
            row(AccountKind::Oa, None, Some(5), &[]),
            true,
            "wxcomponent",
        );
        assert_eq!(
            (c.account_type, c.verification),
            (
                AccountType::OfficialAccount,
                Verification::QualificationOnly
            )
        );
    }
}
