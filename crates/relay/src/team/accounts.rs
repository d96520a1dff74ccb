//! Accounts of the shared workspace. An authorization finishes on the server, whichever desk
//! started it: the `authorized` push (at any server process) is redeemed once with the server's
//! component token, the refresh token goes into the token authority (sealed) and the account
//! row appears for every desk. Desks never see the refresh token.

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::TeamState;
use super::members::audit;
use crate::error::{Error, Result};

/// An account as desks list it.
#[derive(Debug, Clone, Serialize)]
pub struct TeamAccount {
    pub appid: String,
    pub authorized: bool,
    /// Permission set ids WeChat granted.
    pub func_info: Vec<i64>,
    pub authorized_at: i64,
    pub updated_by: Option<String>,
}

/// Redeems `code` for `appid` unless some process already did. `Ok(false)`: already redeemed.
pub async fn redeem(
    team: &TeamState,
    component_appid: &str,
    appid: &str,
    code: &str,
    pre_auth_code: Option<&str>,
    now: i64,
) -> Result<bool> {
    let hash = Sha256::digest(code.as_bytes()).to_vec();
    let conn = team.db.get().await?;
    // The member whose pre_auth_code this authorization used (asked for through the server).
    let member: Option<String> = match pre_auth_code {
        Some(p) => conn
            .query_opt(
                "SELECT member FROM team_pre_auth WHERE code_hash = $1",
                &[&Sha256::digest(p.as_bytes()).to_vec()],
            )
            .await?
            .map(|r| r.get(0)),
        None => None,
    };
    let fresh = conn
        .execute(
            "INSERT INTO team_auth_codes (code_hash, appid) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&hash, &appid],
        )
        .await?;
    drop(conn);
    if fresh == 0 {
        return Ok(false);
    }
    let cache = &team.tokens;
    let info = cache
        .call_with_component_token(|cat| async move {
            cache
                .client()
                .api_query_auth(&cat, component_appid, code)
                .await
        })
        .await;
    let info = match info {
        Ok(i) => i,
        Err(e) => {
            // Let a retry (the browser's callback, WeChat's re-push) try again.
            if let Ok(conn) = team.db.get().await {
                let _ = conn
                    .execute("DELETE FROM team_auth_codes WHERE code_hash = $1", &[&hash])
                    .await;
            }
            return Err(Error::Team(format!("api_query_auth: {e}")));
        }
    };
    if info.authorizer_appid != appid {
        tracing::warn!(pushed = appid, redeemed = %info.authorizer_appid, "authorization code named another account");
    }
    cache
        .store_authorization(&info)
        .await
        .map_err(|e| Error::Team(e.to_string()))?;
    let sets: Vec<i64> = info
        .func_info
        .iter()
        .map(|f| f.funcscope_category.id)
        .collect();
    let conn = team.db.get().await?;
    conn.execute(
        "INSERT INTO team_accounts (appid, authorized, func_info, authorized_at, updated_by)
         VALUES ($1, true, $2, $3, $4)
         ON CONFLICT (appid) DO UPDATE SET authorized = true, func_info = EXCLUDED.func_info,
             authorized_at = EXCLUDED.authorized_at, updated_by = EXCLUDED.updated_by,
             updated_at = now()",
        &[
            &info.authorizer_appid,
            &tokio_postgres::types::Json(&sets),
            &now,
            &member,
        ],
    )
    .await?;
    audit(
        &team.db,
        member.as_deref(),
        "account.authorized",
        serde_json::json!({ "appid": info.authorizer_appid, "func_info": sets }),
    )
    .await?;
    tracing::info!(appid = %info.authorizer_appid, "team account authorized");
    Ok(true)
}

/// Remembers that `member` asked for `pre_auth_code` (see [`redeem`]).
pub async fn note_pre_auth(team: &TeamState, member: &str, pre_auth_code: &str) -> Result<()> {
    let conn = team.db.get().await?;
    conn.execute(
        "INSERT INTO team_pre_auth (code_hash, member) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        &[&Sha256::digest(pre_auth_code.as_bytes()).to_vec(), &member],
    )
    .await?;
    Ok(())
}

/// One line of the audit log.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    /// RFC 3339, UTC.
    pub at: String,
    /// `None`: the server's operator at its shell, or WeChat.
    pub member: Option<String>,
    pub action: String,
    pub detail: serde_json::Value,
}

/// The newest audit entries, newest first (at most `limit`, before `before` when given).
pub async fn audit_log(
    team: &TeamState,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<AuditEntry>> {
    let conn = team.db.get().await?;
    let rows = conn
        .query(
            "SELECT id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), member, action, detail
               FROM team_audit WHERE id < coalesce($1, 9223372036854775807)
              ORDER BY id DESC LIMIT $2",
            &[&before, &limit],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| AuditEntry {
            id: r.get(0),
            at: r.get(1),
            member: r.get(2),
            action: r.get(3),
            detail: r
                .get::<_, tokio_postgres::types::Json<serde_json::Value>>(4)
                .0,
        })
        .collect())
}

/// 全网发布 (protocol F case 3): exchange WeChat's query_auth_code with the server's component
/// token and answer the tester with `<code>_from_api` as a customer-service text. The test
/// account is not stored and its tokens are not kept.
pub async fn answer_release_test(
    team: &TeamState,
    component_appid: &str,
    openid: &str,
    code: &str,
) -> Result<()> {
    let cache = &team.tokens;
    let info = cache
        .call_with_component_token(|cat| async move {
            cache
                .client()
                .api_query_auth(&cat, component_appid, code)
                .await
        })
        .await
        .map_err(|e| Error::Team(format!("api_query_auth: {e}")))?;
    let token = info.authorizer_access_token.ok_or_else(|| {
        Error::Team("api_query_auth 没有返回 authorizer_access_token / no access token".into())
    })?;
    let msg = wxdesk_wechat::api::CustomMessage::Text {
        touser: openid.to_owned(),
        content: format!("{code}_from_api"),
    };
    cache
        .client()
        .custom_send(&token, &msg)
        .await
        .map_err(|e| Error::Team(format!("custom/send: {e}")))
}

/// The account withdrew its authorization: tokens forgotten, row kept as not authorized.
pub async fn unauthorized(team: &TeamState, appid: &str) -> Result<()> {
    team.tokens
        .forget_authorizer(appid)
        .await
        .map_err(|e| Error::Team(e.to_string()))?;
    let conn = team.db.get().await?;
    conn.execute(
        "UPDATE team_accounts SET authorized = false, updated_at = now() WHERE appid = $1",
        &[&appid],
    )
    .await?;
    audit(
        &team.db,
        None,
        "account.unauthorized",
        serde_json::json!({ "appid": appid }),
    )
    .await
}

/// Every account of the workspace, authorized first.
pub async fn list(team: &TeamState) -> Result<Vec<TeamAccount>> {
    let conn = team.db.get().await?;
    let rows = conn
        .query(
            "SELECT appid, authorized, func_info, authorized_at, updated_by
               FROM team_accounts ORDER BY authorized DESC, authorized_at DESC, appid",
            &[],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| TeamAccount {
            appid: r.get(0),
            authorized: r.get(1),
            func_info: r.get::<_, tokio_postgres::types::Json<Vec<i64>>>(2).0,
            authorized_at: r.get(3),
            updated_by: r.get(4),
        })
        .collect())
}

/// Refuses work for an account the team does not have (a list, a sync, templates).
pub(crate) async fn require_known(
    conn: &tokio_postgres::Client,
    appid: &str,
) -> std::result::Result<(), super::jobs::Refused> {
    let known = conn
        .query_opt("SELECT 1 FROM team_accounts WHERE appid = $1", &[&appid])
        .await?;
    match known {
        Some(_) => Ok(()),
        None => Err(super::jobs::Refused::Invalid(
            "unknown_account",
            format!("团队里没有账号 {appid}"),
            format!("The team has no account {appid}."),
        )),
    }
}
