//! The token authority: in team mode the server is the only thing that calls WeChat's token
//! endpoints. The wechat crate's `TokenCache` does the single-flight within a process; the
//! hooks here make it single-flight across every server process on the database:
//!
//! * the refresh lock is `pg_advisory_xact_lock` taken in a transaction of a session of its own
//!   (its owner; the lock ends with that session, so a process that dies mid-refresh frees it),
//!   bounded by `lock_timeout`;
//! * after taking it the cache re-reads the row and adopts a token a peer stored meanwhile;
//! * writes are versioned and never replace a token that expires later than the one written;
//! * a 40001/42001 expires the row only if it still holds the refused token (compare-and-expire
//!   by the token's SHA-256; the token itself is sealed).
//!
//! Access tokens and refresh tokens are sealed with the server key; the ticket comes from the
//! relay's own store (sealed with the component EncodingAESKey). None of them leaves the server.

use std::sync::Arc;

use sha2::{Digest, Sha256};
use tokio_postgres::Client;
use wxdesk_wechat::Secret as WxSecret;
use wxdesk_wechat::api::{Client as WxClient, ClientConfig};
use wxdesk_wechat::crypto::MsgCrypt;
use wxdesk_wechat::token::{
    BoxFuture, ComponentCredentials, RefreshTokenStore, SharedLockGuard, SharedToken, SharedTokens,
    TicketSource, TokenCache, TokenCacheConfig, TokenKey,
};

use super::db::{Db, lock};
use super::seal::SealKey;
use crate::config::{RelayConfig, TeamConfig};
use crate::error::{Error, Result};
use crate::store::Store;

/// How long a refresher waits for a peer's refresh before giving up with an error.
const LOCK_TIMEOUT: &str = "15s";

fn store_err(e: impl std::fmt::Display) -> wxdesk_wechat::Error {
    wxdesk_wechat::Error::Store(format!("团队数据库 / team database: {e}"))
}

fn context(key: &TokenKey) -> String {
    format!("token:{}:{}", key.kind(), key.appid())
}

fn value_hash(value: &WxSecret) -> Vec<u8> {
    Sha256::digest(value.expose().as_bytes()).to_vec()
}

/// Tokens and refresh tokens in PostgreSQL, sealed.
pub struct PgTokens {
    db: Db,
    seal: SealKey,
}

impl PgTokens {
    pub fn new(db: Db, seal: SealKey) -> Self {
        Self { db, seal }
    }

    async fn load_row(&self, key: &TokenKey) -> Result<Option<SharedToken>> {
        let conn = self.db.get().await?;
        let row = conn
            .query_opt(
                "SELECT sealed, expires_at, expires_in FROM team_tokens WHERE kind = $1 AND appid = $2",
                &[&key.kind(), &key.appid()],
            )
            .await?;
        let Some(row) = row else { return Ok(None) };
        let value = self.seal.open(&context(key), row.get(0))?;
        Ok(Some(SharedToken {
            value: WxSecret::new(value.expose()),
            expires_at: row.get(1),
            expires_in: row.get(2),
        }))
    }

    async fn store_row(&self, key: &TokenKey, t: &SharedToken) -> Result<()> {
        let sealed = self.seal.seal(&context(key), t.value.expose())?;
        let mut conn = self.db.get().await?;
        let tx = conn.transaction().await?;
        // An older token finishing late never replaces one that lives longer.
        tx.execute(
            "INSERT INTO team_tokens (kind, appid, sealed, value_hash, expires_at, expires_in)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (kind, appid) DO UPDATE
                SET sealed = EXCLUDED.sealed, value_hash = EXCLUDED.value_hash,
                    expires_at = EXCLUDED.expires_at, expires_in = EXCLUDED.expires_in,
                    version = team_tokens.version + 1, updated_at = now()
              WHERE team_tokens.expires_at <= EXCLUDED.expires_at",
            &[
                &key.kind(),
                &key.appid(),
                &sealed,
                &value_hash(&t.value),
                &t.expires_at,
                &t.expires_in,
            ],
        )
        .await?;
        tx.execute(
            "INSERT INTO team_token_issues (kind, appid) VALUES ($1, $2)",
            &[&key.kind(), &key.appid()],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn lock_row(&self, key: &TokenKey) -> Result<PgLock> {
        let client = self.db.dedicated().await?;
        client
            .batch_execute(&format!("BEGIN; SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
            .await?;
        let name = format!("{}:{}", key.kind(), key.appid());
        client
            .execute(
                "SELECT pg_advisory_xact_lock($1, hashtext($2))",
                &[&lock::TOKEN, &name],
            )
            .await
            .map_err(|e| {
                Error::Team(format!(
                    "另一个服务进程刷新令牌超过 {LOCK_TIMEOUT} 未完成 / another server process \
                     held the token refresh lock for over {LOCK_TIMEOUT}: {e}"
                ))
            })?;
        Ok(PgLock(client))
    }
}

/// The refresh lock: a session in a transaction holding `pg_advisory_xact_lock`. Dropping it
/// drops the session, which ends the transaction and frees the lock.
struct PgLock(#[allow(dead_code)] Client);

impl SharedTokens for PgTokens {
    fn load<'a>(
        &'a self,
        key: &'a TokenKey,
    ) -> BoxFuture<'a, wxdesk_wechat::Result<Option<SharedToken>>> {
        Box::pin(async move { self.load_row(key).await.map_err(store_err) })
    }

    fn store<'a>(
        &'a self,
        key: &'a TokenKey,
        token: &'a SharedToken,
    ) -> BoxFuture<'a, wxdesk_wechat::Result<()>> {
        Box::pin(async move { self.store_row(key, token).await.map_err(store_err) })
    }

    fn remove<'a>(&'a self, key: &'a TokenKey) -> BoxFuture<'a, wxdesk_wechat::Result<()>> {
        Box::pin(async move {
            let conn = self.db.get().await.map_err(store_err)?;
            conn.execute(
                "DELETE FROM team_tokens WHERE kind = $1 AND appid = $2",
                &[&key.kind(), &key.appid()],
            )
            .await
            .map_err(store_err)?;
            Ok(())
        })
    }

    fn lock<'a>(
        &'a self,
        key: &'a TokenKey,
    ) -> BoxFuture<'a, wxdesk_wechat::Result<SharedLockGuard>> {
        Box::pin(async move {
            self.lock_row(key)
                .await
                .map(SharedLockGuard::new)
                .map_err(store_err)
        })
    }

    fn expire_if<'a>(
        &'a self,
        key: &'a TokenKey,
        used: &'a WxSecret,
    ) -> BoxFuture<'a, wxdesk_wechat::Result<()>> {
        Box::pin(async move {
            let conn = self.db.get().await.map_err(store_err)?;
            conn.execute(
                "UPDATE team_tokens SET expires_at = 0, version = version + 1, updated_at = now()
                  WHERE kind = $1 AND appid = $2 AND value_hash = $3",
                &[&key.kind(), &key.appid(), &value_hash(used)],
            )
            .await
            .map_err(store_err)?;
            Ok(())
        })
    }
}

impl RefreshTokenStore for PgTokens {
    fn get<'a>(&'a self, appid: &'a str) -> BoxFuture<'a, wxdesk_wechat::Result<Option<WxSecret>>> {
        Box::pin(async move {
            let conn = self.db.get().await.map_err(store_err)?;
            let row = conn
                .query_opt(
                    "SELECT sealed FROM team_refresh_tokens WHERE appid = $1",
                    &[&appid],
                )
                .await
                .map_err(store_err)?;
            row.map(|r| {
                self.seal
                    .open(&format!("refresh_token:{appid}"), r.get(0))
                    .map(|s| WxSecret::new(s.expose()))
                    .map_err(store_err)
            })
            .transpose()
        })
    }

    fn put<'a>(
        &'a self,
        appid: &'a str,
        refresh_token: &'a WxSecret,
    ) -> BoxFuture<'a, wxdesk_wechat::Result<()>> {
        Box::pin(async move {
            let sealed = self
                .seal
                .seal(&format!("refresh_token:{appid}"), refresh_token.expose())
                .map_err(store_err)?;
            let conn = self.db.get().await.map_err(store_err)?;
            conn.execute(
                "INSERT INTO team_refresh_tokens (appid, sealed) VALUES ($1, $2)
                 ON CONFLICT (appid) DO UPDATE SET sealed = EXCLUDED.sealed, updated_at = now()",
                &[&appid, &sealed],
            )
            .await
            .map_err(store_err)?;
            Ok(())
        })
    }

    fn delete<'a>(&'a self, appid: &'a str) -> BoxFuture<'a, wxdesk_wechat::Result<()>> {
        Box::pin(async move {
            let conn = self.db.get().await.map_err(store_err)?;
            conn.execute(
                "DELETE FROM team_refresh_tokens WHERE appid = $1",
                &[&appid],
            )
            .await
            .map_err(store_err)?;
            Ok(())
        })
    }
}

/// The newest ticket WeChat pushed to any server process, from the shared store.
struct StoreTickets {
    store: Store,
    crypts: Vec<MsgCrypt>,
}

impl TicketSource for StoreTickets {
    fn ticket(&self) -> BoxFuture<'_, wxdesk_wechat::Result<Option<WxSecret>>> {
        Box::pin(async move {
            let Some(t) = self.store.ticket().await.map_err(store_err)? else {
                return Ok(None);
            };
            let plain = self
                .crypts
                .iter()
                .find_map(|c| c.decrypt(&t.sealed).ok())
                .ok_or_else(|| {
                    store_err("已存储的 ticket 无法解密（EncodingAESKey 已更换？）/ stored ticket does not open")
                })?;
            Ok(Some(WxSecret::new(plain)))
        })
    }
}

/// The server's token cache over PostgreSQL.
pub fn authority(
    cfg: &RelayConfig,
    team: &TeamConfig,
    db: Db,
    store: Store,
    crypts: Vec<MsgCrypt>,
) -> Result<Arc<TokenCache>> {
    let seal = SealKey::from_config(&team.server_key)?;
    let pg = Arc::new(PgTokens::new(db, seal));
    let client = WxClient::new(ClientConfig::with_base_url(cfg.upstream.clone()))
        .map_err(|e| Error::Team(e.to_string()))?;
    let cache = TokenCache::new(
        client,
        ComponentCredentials {
            component_appid: cfg.component_appid.clone(),
            component_appsecret: WxSecret::new(team.component_appsecret.expose()),
        },
        Arc::new(StoreTickets { store, crypts }),
        pg.clone(),
        TokenCacheConfig::default(),
    )
    .with_shared_tokens(pg);
    Ok(Arc::new(cache))
}
