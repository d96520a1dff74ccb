//! The `accounts` table: authorized accounts (公众号 / 小程序) as last seen from
//! api_get_authorizer_info.

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// 公众号 or 小程序.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    /// 公众号
    Oa,
    /// 小程序
    Mini,
}

impl AccountKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountKind::Oa => "oa",
            AccountKind::Mini => "mini",
        }
    }
    /// The kind in Chinese (the CLI; the UI names it in its own language).
    pub fn label_zh(self) -> &'static str {
        match self {
            AccountKind::Oa => "公众号",
            AccountKind::Mini => "小程序",
        }
    }
    fn parse(s: &str) -> Result<Self> {
        match s {
            "oa" => Ok(AccountKind::Oa),
            "mini" => Ok(AccountKind::Mini),
            other => Err(Error::input(
                format!("未知的账号类型 {other}"),
                format!("Unknown account kind {other} in the database."),
            )),
        }
    }
}

/// 已授权 / 已取消授权 / 需要重新授权.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    /// 已授权
    Authorized,
    /// 已取消授权 (an `unauthorized` event)
    Unauthorized,
    /// 需要重新授权 (no usable refresh token, or WeChat refused it)
    NeedsReauth,
}

impl AccountStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Authorized => "authorized",
            AccountStatus::Unauthorized => "unauthorized",
            AccountStatus::NeedsReauth => "needs_reauth",
        }
    }
    /// The status in Chinese (the CLI; the UI names it in its own language).
    pub fn label_zh(self) -> &'static str {
        match self {
            AccountStatus::Authorized => "已授权",
            AccountStatus::Unauthorized => "已取消授权",
            AccountStatus::NeedsReauth => "需要重新授权",
        }
    }
    fn parse(s: &str) -> Result<Self> {
        match s {
            "authorized" => Ok(AccountStatus::Authorized),
            "unauthorized" => Ok(AccountStatus::Unauthorized),
            "needs_reauth" => Ok(AccountStatus::NeedsReauth),
            other => Err(Error::input(
                format!("未知的账号状态 {other}"),
                format!("Unknown account status {other} in the database."),
            )),
        }
    }
}

/// One row of `accounts`. `func_info` is the list of granted permission-set ids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRow {
    pub appid: String,
    pub kind: AccountKind,
    pub nickname: String,
    pub head_img: String,
    pub user_name: String,
    pub principal: String,
    pub service_type: Option<i64>,
    pub verify_type: Option<i64>,
    pub func_info: Vec<i64>,
    pub status: AccountStatus,
    pub authorized_at: Option<i64>,
    pub updated_at: i64,
    /// The third-party platform the account was authorized under (its component appid): the
    /// account's tokens work with that platform only. Empty: not known (a row from before
    /// migration 0012 on a data dir with no platform saved).
    pub component_appid: String,
}

const COLUMNS: &str = "appid, kind, nickname, head_img, user_name, principal, service_type, \
                       verify_type, func_info, status, authorized_at, updated_at, component_appid";

fn from_row(r: &Row<'_>) -> rusqlite::Result<(AccountRow, String, String, String)> {
    Ok((
        AccountRow {
            appid: r.get(0)?,
            kind: AccountKind::Oa,
            nickname: r.get(2)?,
            head_img: r.get(3)?,
            user_name: r.get(4)?,
            principal: r.get(5)?,
            service_type: r.get(6)?,
            verify_type: r.get(7)?,
            func_info: Vec::new(),
            status: AccountStatus::Authorized,
            authorized_at: r.get(10)?,
            updated_at: r.get(11)?,
            component_appid: r.get(12)?,
        },
        r.get(1)?,
        r.get(8)?,
        r.get(9)?,
    ))
}

fn finish(
    (mut row, kind, func_info, status): (AccountRow, String, String, String),
) -> Result<AccountRow> {
    row.kind = AccountKind::parse(&kind)?;
    row.status = AccountStatus::parse(&status)?;
    row.func_info = serde_json::from_str(&func_info).map_err(|e| {
        Error::input(
            format!("账号 {} 的权限集数据损坏：{e}", row.appid),
            format!(
                "The permission sets of account {} are damaged: {e}",
                row.appid
            ),
        )
    })?;
    Ok(row)
}

/// Inserts or replaces everything about an account; `updated_at` is set to now.
pub fn upsert(conn: &Connection, a: &AccountRow) -> Result<()> {
    let func_info = serde_json::to_string(&a.func_info).map_err(|e| {
        Error::input(
            format!("权限集无法保存：{e}"),
            format!("The permission sets could not be saved: {e}"),
        )
    })?;
    conn.execute(
        &format!(
            "INSERT INTO accounts ({COLUMNS})
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
             ON CONFLICT (appid) DO UPDATE SET kind = excluded.kind, nickname = excluded.nickname,
               head_img = excluded.head_img, user_name = excluded.user_name,
               principal = excluded.principal, service_type = excluded.service_type,
               verify_type = excluded.verify_type, func_info = excluded.func_info,
               status = excluded.status, authorized_at = excluded.authorized_at,
               updated_at = excluded.updated_at, component_appid = excluded.component_appid"
        ),
        params![
            a.appid,
            a.kind.as_str(),
            a.nickname,
            a.head_img,
            a.user_name,
            a.principal,
            a.service_type,
            a.verify_type,
            func_info,
            a.status.as_str(),
            a.authorized_at,
            crate::store::now(),
            a.component_appid,
        ],
    )?;
    Ok(())
}

pub fn get(conn: &Connection, appid: &str) -> Result<Option<AccountRow>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM accounts WHERE appid = ?1"),
        [appid],
        from_row,
    )
    .optional()?
    .map(finish)
    .transpose()
}

/// All accounts, most recently authorized first.
pub fn list(conn: &Connection) -> Result<Vec<AccountRow>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM accounts ORDER BY authorized_at DESC NULLS LAST, appid"
    ))?;
    let rows = stmt
        .query_map([], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter().map(finish).collect()
}

/// Returns whether the account existed.
pub fn set_status(conn: &Connection, appid: &str, status: AccountStatus) -> Result<bool> {
    let n = conn.execute(
        "UPDATE accounts SET status = ?2, updated_at = ?3 WHERE appid = ?1",
        params![appid, status.as_str(), crate::store::now()],
    )?;
    Ok(n > 0)
}

/// Migration 0012's step after its SQL: the sandbox's simulated accounts belong to the
/// sandbox's platform, whatever platform is configured now (the SQL gave every row the current
/// one, and a data dir switched from the sandbox to a real platform kept its sandbox accounts).
pub(crate) fn backfill_sandbox_platform(conn: &Connection) -> rusqlite::Result<()> {
    let appids = conn
        .prepare("SELECT appid FROM accounts")?
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut set = conn.prepare("UPDATE accounts SET component_appid = ?2 WHERE appid = ?1")?;
    for appid in appids
        .iter()
        .filter(|a| crate::sandbox::is_world_account(a))
    {
        set.execute(params![appid, crate::sandbox::COMPONENT_APPID])?;
    }
    Ok(())
}

/// The appids of the accounts authorized under `component_appid`.
pub fn appids_of_platform(conn: &Connection, component_appid: &str) -> Result<Vec<String>> {
    Ok(conn
        .prepare("SELECT appid FROM accounts WHERE component_appid = ?1 ORDER BY appid")?
        .query_map([component_appid], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Returns whether the account existed.
pub fn delete(conn: &Connection, appid: &str) -> Result<bool> {
    Ok(conn.execute("DELETE FROM accounts WHERE appid = ?1", [appid])? > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    pub(crate) fn sample(appid: &str) -> AccountRow {
        AccountRow {
            appid: appid.into(),
            kind: AccountKind::Oa,
            nickname: "测试公众号".into(),
            head_img: "http://img/1.png".into(),
            user_name: "gh_0123456789ab".into(),
            principal: "某某有限公司".into(),
            service_type: Some(2),
            verify_type: Some(0),
            func_info: vec![1, 7, 15],
            status: AccountStatus::Authorized,
            authorized_at: Some(1_700_000_000),
            updated_at: 0,
            component_appid: "wxcomponent".into(),
        }
    }

    #[tokio::test]
    async fn upsert_get_list_status_and_delete_round_trip() {
        let store = Store::open_in_memory().unwrap();
        store
            .call(|c| {
                upsert(c, &sample("wx1"))?;
                let mut b = sample("wx2");
                b.kind = AccountKind::Mini;
                b.authorized_at = Some(1_800_000_000);
                b.service_type = None;
                upsert(c, &b)
            })
            .await
            .unwrap();
        let got = store.call(|c| get(c, "wx1")).await.unwrap().unwrap();
        assert_eq!(
            AccountRow {
                updated_at: 0,
                ..got
            },
            sample("wx1")
        );
        let all = store.call(|c| list(c)).await.unwrap();
        let ids: Vec<_> = all.iter().map(|a| (a.appid.as_str(), a.kind)).collect();
        assert_eq!(ids, [("wx2", AccountKind::Mini), ("wx1", AccountKind::Oa)]);

        assert!(
            store
                .call(|c| set_status(c, "wx1", AccountStatus::Unauthorized))
                .await
                .unwrap()
        );
        assert!(
            !store
                .call(|c| set_status(c, "nope", AccountStatus::Unauthorized))
                .await
                .unwrap()
        );
        let got = store.call(|c| get(c, "wx1")).await.unwrap().unwrap();
        assert_eq!(got.status, AccountStatus::Unauthorized);

        assert!(store.call(|c| delete(c, "wx1")).await.unwrap());
        assert_eq!(store.call(|c| get(c, "wx1")).await.unwrap(), None);
    }
}
