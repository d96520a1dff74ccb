//! Accounts of another platform: every account belongs to the third-party platform it was
//! authorized under (its component appid). After a switch — from 体验沙箱 to a real platform, or
//! from one real platform to another — the old platform's accounts stay as an archive: listed
//! apart, never called (their tokens mean nothing to the new platform, and the sandbox's
//! simulated accounts mean nothing to WeChat), and removed only when the user asks.

use rusqlite::{Connection, params};
use serde::Serialize;

use super::Accounts;
use super::db as rows;
use crate::error::{Error, Result};
use crate::secrets::SecretKey;
use crate::store::audit;

/// Whether an account recorded under `account_platform` may be used with the platform
/// `current`. An account whose platform is not known (empty: a row from before the platform
/// was recorded, on a data dir that had none saved) is taken as the current one's.
pub fn belongs_to(account_platform: &str, current: &str) -> bool {
    account_platform.is_empty() || account_platform == current
}

/// The refusal for an account of another platform, saying what to do instead.
pub(crate) fn other_platform_error(appid: &str, nickname: &str, account_platform: &str) -> Error {
    let name = if nickname.is_empty() {
        appid.to_string()
    } else {
        format!("{nickname}（{appid}）")
    };
    let name_en = if nickname.is_empty() {
        appid.to_string()
    } else {
        format!("{nickname} ({appid})")
    };
    if account_platform == crate::sandbox::COMPONENT_APPID {
        Error::input(
            format!(
                "{name} 是体验沙箱中的模拟账号，不能用于当前的正式平台（微信并不认识它）。\
                 请在「授权账号」中授权正式平台下的账号；沙箱存档可在「设置」中保留或删除。"
            ),
            format!(
                "{name_en} is a simulated account of the sandbox and cannot be used with the real \
                 platform configured now (WeChat does not know it). Authorize the account under \
                 this platform in Accounts; the sandbox archive can be kept or removed in Settings."
            ),
        )
    } else {
        Error::input(
            format!(
                "{name} 是在另一个第三方平台（{account_platform}）下授权的，不能用于当前平台。\
                 请在「授权账号」中用当前平台重新授权它，或删除该平台的存档。"
            ),
            format!(
                "{name_en} was authorized under another third-party platform \
                 ({account_platform}) and cannot be used with the current one. Authorize it again \
                 under this platform in Accounts, or remove that platform's archive."
            ),
        )
    }
}

/// Refuses `appid` when its row says it belongs to a platform other than `current`. An account
/// with no row is let through: the authorization flow asks WeChat about an account before it
/// stores it.
pub(crate) fn check_platform(conn: &Connection, appid: &str, current: &str) -> Result<()> {
    match rows::get(conn, appid)? {
        Some(r) if !belongs_to(&r.component_appid, current) => Err(other_platform_error(
            &r.appid,
            &r.nickname,
            &r.component_appid,
        )),
        _ => Ok(()),
    }
}

/// One platform whose accounts are kept here as an archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ArchivedPlatform {
    pub component_appid: String,
    /// The sandbox's platform (体验沙箱).
    pub sandbox: bool,
    /// Its accounts' appids.
    pub appids: Vec<String>,
}

/// What removing an archive deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PurgeReport {
    pub component_appid: String,
    /// The accounts removed.
    pub appids: Vec<String>,
    /// Rows of their per-account data removed (templates, followers and tags, lists,
    /// customer-service windows, subscriptions, drafts…). Jobs and history stay.
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub data_rows: usize,
}

/// The tables that hold one account's own data, deleted with its archive. The send jobs and
/// their recipients (history), the daily counts, code rollouts and the audit log stay: they are
/// the record of what happened, and show the account as the sandbox's by its appid.
const PER_ACCOUNT_TABLES: &[&str] = &[
    "templates",
    "followers",
    "follower_tags",
    "tags",
    "follower_sync",
    "follower_sync_listed",
    "follower_sync_fetched",
    // list_members go with their lists (ON DELETE CASCADE).
    "recipient_lists",
    "interactions",
    "subscribe_templates",
    "subscriptions",
    "compose_drafts",
    "send_delivery_orphans",
    "parked_events",
];

/// Deletes the accounts of `component_appid` and their per-account data, in one transaction.
fn purge_rows(conn: &mut Connection, component_appid: &str) -> Result<PurgeReport> {
    let tx = conn.transaction()?;
    let appids = rows::appids_of_platform(&tx, component_appid)?;
    let mut data_rows = 0;
    for appid in &appids {
        for table in PER_ACCOUNT_TABLES {
            data_rows += tx.execute(&format!("DELETE FROM {table} WHERE appid = ?1"), [appid])?;
        }
        tx.execute("DELETE FROM accounts WHERE appid = ?1", params![appid])?;
    }
    let what = if component_appid == crate::sandbox::COMPONENT_APPID {
        "体验沙箱".to_string()
    } else {
        format!("平台 {component_appid}")
    };
    audit::record(
        &tx,
        "archive_removed",
        None,
        &format!("已删除{what}的存档：{} 个账号", appids.len()),
    )?;
    tx.commit()?;
    Ok(PurgeReport {
        component_appid: component_appid.to_string(),
        appids,
        data_rows,
    })
}

impl Accounts {
    /// The appids a face marks 沙箱 wherever an account shows, jobs and history included: the
    /// accounts recorded under the sandbox's platform and the sandbox's own simulated ones (so
    /// a job stays marked after its account's archive is removed).
    pub async fn sandbox_appids(&self) -> Result<Vec<String>> {
        let mut appids = self
            .platform
            .store()
            .call(|c| rows::appids_of_platform(c, crate::sandbox::COMPONENT_APPID))
            .await?;
        for a in crate::sandbox::default_world_appids() {
            if !appids.contains(&a) {
                appids.push(a);
            }
        }
        Ok(appids)
    }

    /// The platforms other than the current one that have accounts here.
    pub async fn archived_platforms(&self) -> Result<Vec<ArchivedPlatform>> {
        let mut out: Vec<ArchivedPlatform> = Vec::new();
        for card in self
            .list()
            .await?
            .into_iter()
            .filter(|c| !c.current_platform)
        {
            match out
                .iter_mut()
                .find(|p| p.component_appid == card.component_appid)
            {
                Some(p) => p.appids.push(card.appid),
                None => out.push(ArchivedPlatform {
                    sandbox: card.sandbox,
                    component_appid: card.component_appid,
                    appids: vec![card.appid],
                }),
            }
        }
        Ok(out)
    }

    /// Removes the archive of platform `component_appid`: its accounts, their per-account
    /// data and their tokens in the keychain. The current platform's accounts are refused (移除
    /// removes one of them); jobs and history stay.
    pub async fn purge_archived(&self, component_appid: &str) -> Result<PurgeReport> {
        let current = self.current_platform().await?;
        if component_appid.is_empty() || component_appid == current {
            return Err(Error::input(
                "这是当前平台的账号，不是存档：要移除某个账号，请在「授权账号」中逐个移除",
                "These are the current platform's accounts, not an archive: remove an account \
                 one at a time in Accounts.",
            ));
        }
        let platform = component_appid.to_string();
        let report = self
            .platform
            .store()
            .call(move |c| purge_rows(c, &platform))
            .await?;
        let secrets = self.platform.secrets();
        for appid in &report.appids {
            // Straight to the keychain: the connection, built for the current platform, never
            // held these accounts' tokens.
            secrets
                .delete(SecretKey::RefreshToken(appid.clone()))
                .await?;
            secrets
                .delete(SecretKey::AuthorizerAccessToken(appid.clone()))
                .await?;
            secrets
                .delete(SecretKey::ClientAccessToken(appid.clone()))
                .await?;
        }
        tracing::info!(
            component_appid,
            accounts = report.appids.len(),
            "archived accounts removed"
        );
        Ok(report)
    }
}
