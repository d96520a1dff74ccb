//! 授权账号: the accounts table and its actions — list, show, refresh info, remove, token
//! health, and rebuilding lost refresh tokens from api_get_authorizer_list.

pub mod permissions;

use serde::Serialize;

pub use permissions::Permission;

use crate::error::{Error, Result};
use crate::platform::{AuthorizerInfo, Platform};
use crate::secrets::SecretKey;
use crate::store::accounts::{self as rows, AccountKind, AccountRow, AccountStatus};
use crate::store::audit;

/// One account as the card and the table show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountCard {
    pub appid: String,
    pub kind: AccountKind,
    /// 公众号 / 小程序
    pub kind_label: String,
    pub nickname: String,
    pub head_img: String,
    /// The original id, `gh_…`.
    pub user_name: String,
    pub principal: String,
    /// 订阅号 / 服务号 / 小程序
    pub type_label: String,
    pub verified: bool,
    /// 微信认证 / 未认证 / …
    pub verify_label: String,
    pub permissions: Vec<Permission>,
    /// An official account that did not grant 群发与通知权限 cannot send template messages.
    pub missing_template_permission: bool,
    pub status: AccountStatus,
    /// 已授权 / 已取消授权 / 需要重新授权
    pub status_label: String,
    pub authorized_at: Option<i64>,
    pub updated_at: i64,
    /// Whether the keychain holds this account's refresh token (没有就无法调用接口).
    pub has_refresh_token: bool,
}

impl AccountCard {
    pub fn from_row(r: AccountRow, has_refresh_token: bool) -> AccountCard {
        let type_label = match (r.kind, r.service_type) {
            (AccountKind::Mini, _) => "小程序",
            (AccountKind::Oa, Some(2)) => "服务号",
            (AccountKind::Oa, Some(0 | 1)) => "订阅号",
            (AccountKind::Oa, _) => "公众号",
        };
        let verify_label = match r.verify_type {
            None | Some(-1) => "未认证",
            Some(0) => "微信认证",
            Some(1) => "新浪微博认证",
            Some(2) => "腾讯微博认证",
            Some(_) => "资质认证（名称未认证）",
        };
        AccountCard {
            kind_label: r.kind.label_zh().into(),
            type_label: type_label.into(),
            verified: r.verify_type.is_some_and(|v| v >= 0),
            verify_label: verify_label.into(),
            permissions: permissions::describe(r.kind, &r.func_info),
            missing_template_permission: permissions::missing_template_permission(
                r.kind,
                &r.func_info,
            ),
            status_label: r.status.label_zh().into(),
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
}

/// Builds the stored row from api_get_authorizer_info; `func_info` from api_query_auth wins
/// when given (it is what this very authorization granted).
pub(crate) fn row_from_info(
    appid: &str,
    info: &AuthorizerInfo,
    func_info: Option<&[i64]>,
    status: AccountStatus,
    authorized_at: Option<i64>,
) -> AccountRow {
    AccountRow {
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
pub struct TokenHealth {
    pub appid: String,
    pub has_refresh_token: bool,
    /// An authorizer_access_token could be obtained just now.
    pub access_token_ok: bool,
    pub detail: String,
    pub hint: Option<String>,
}

/// What 恢复刷新令牌 did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
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

    async fn card(&self, row: AccountRow) -> Result<AccountCard> {
        let has = self
            .platform
            .secrets()
            .is_set(SecretKey::RefreshToken(row.appid.clone()))
            .await?;
        Ok(AccountCard::from_row(row, has))
    }

    pub async fn list(&self) -> Result<Vec<AccountCard>> {
        let rows = self.platform.store().call(|c| rows::list(c)).await?;
        let mut cards = Vec::with_capacity(rows.len());
        for r in rows {
            cards.push(self.card(r).await?);
        }
        Ok(cards)
    }

    pub async fn show(&self, appid: &str) -> Result<AccountCard> {
        let id = appid.to_string();
        let row = self
            .platform
            .store()
            .call(move |c| rows::get(c, &id))
            .await?;
        self.card(row.ok_or_else(|| Error::AccountNotFound(appid.to_string()))?)
            .await
    }

    /// Re-reads api_get_authorizer_info. 61003 (no longer authorized) marks the account
    /// 已取消授权 instead of failing.
    pub async fn refresh_info(&self, appid: &str) -> Result<AccountCard> {
        let existing = self.show(appid).await?;
        let api = self.platform.api().await?;
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
        if !card.has_refresh_token {
            return Ok(TokenHealth {
                appid: appid.into(),
                has_refresh_token: false,
                access_token_ok: false,
                detail: "钥匙串中没有此账号的刷新令牌".into(),
                hint: Some("点击「恢复刷新令牌」，或重新授权此账号。".into()),
            });
        }
        let api = self.platform.api().await?;
        match api.authorizer_token(appid).await {
            Ok(_) => Ok(TokenHealth {
                appid: appid.into(),
                has_refresh_token: true,
                access_token_ok: true,
                detail: "令牌正常".into(),
                hint: None,
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
                    detail: e.to_string(),
                    hint: e.hint(crate::error::Lang::Zh),
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
            );
            store.call(move |c| rows::upsert(c, &row)).await?;
            if known.is_some() {
                report.restored.push(item.appid.clone());
            } else {
                report.added.push(item.appid.clone());
            }
        }
        for r in local
            .iter()
            .filter(|r| !listed.iter().any(|l| l.appid == r.appid))
        {
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
        }
    }

    #[test]
    fn card_labels_follow_type_verification_status_and_permissions() {
        let c = AccountCard::from_row(row(AccountKind::Oa, Some(2), Some(0), &[1, 7]), true);
        assert_eq!(
            (
                c.kind_label.as_str(),
                c.type_label.as_str(),
                c.verified,
                c.verify_label.as_str()
            ),
            ("公众号", "服务号", true, "微信认证")
        );
        assert_eq!(c.status_label, "需要重新授权");
        assert_eq!(
            c.permissions,
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

        let c = AccountCard::from_row(row(AccountKind::Oa, Some(0), Some(-1), &[1]), false);
        assert_eq!(
            (c.type_label.as_str(), c.verified, c.verify_label.as_str()),
            ("订阅号", false, "未认证")
        );
        assert!(c.missing_template_permission);
        assert!(!c.has_refresh_token);

        let c = AccountCard::from_row(row(AccountKind::Mini, Some(0), Some(0), &[17]), true);
        assert_eq!(c.type_label, "小程序");
        assert!(!c.missing_template_permission);
    }
}
