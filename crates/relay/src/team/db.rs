//! The team server's PostgreSQL: a small connection pool and the embedded, numbered migrations.
//!
//! Several relay processes may start at once against one database: migrations run under a
//! session advisory lock, so exactly one applies them and the others find them applied. A
//! database whose schema is newer than this binary knows is refused (an older relay must not
//! write into a newer layout).
//!
//! Durability is PostgreSQL's: a transaction is on disk when COMMIT returns (the server's
//! `synchronous_commit` and `fsync` settings, on by default — docs/deploy says to keep them on).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_postgres::{Client, Statement};

use crate::config::Secret;
use crate::error::{Error, Result};

/// Lock namespaces for `pg_advisory_lock(namespace, key)`: one per purpose, so keys never clash.
pub mod lock {
    /// Applying migrations (one key).
    pub const MIGRATE: i32 = 0x7778_0001;
    /// Refreshing a token: key = hash of (kind, appid).
    pub const TOKEN: i32 = 0x7778_0002;
    /// The feed applier (one holder across processes).
    pub const FEED: i32 = 0x7778_0003;
}

/// `(version, name, sql)`, dense from 1. Never edit a released one: add the next.
const MIGRATIONS: &[(i32, &str, &str)] = &[
    (1, "0001_team", include_str!("migrations/0001_team.sql")),
    (
        2,
        "0002_event_log",
        include_str!("migrations/0002_event_log.sql"),
    ),
    (3, "0003_jobs", include_str!("migrations/0003_jobs.sql")),
    (
        4,
        "0004_history",
        include_str!("migrations/0004_history.sql"),
    ),
    (
        5,
        "0005_job_tallies",
        include_str!("migrations/0005_job_tallies.sql"),
    ),
    (6, "0006_lists", include_str!("migrations/0006_lists.sql")),
    (
        7,
        "0007_windows",
        include_str!("migrations/0007_windows.sql"),
    ),
    (
        8,
        "0008_followers",
        include_str!("migrations/0008_followers.sql"),
    ),
    (
        9,
        "0009_templates",
        include_str!("migrations/0009_templates.sql"),
    ),
    (
        10,
        "0010_quota_pause",
        include_str!("migrations/0010_quota_pause.sql"),
    ),
];

/// Connections kept open beyond the ones in use.
const DEFAULT_MAX: usize = 16;

/// A pool of connections to the team database. Cheap to clone.
#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

struct Inner {
    url: Secret,
    idle: Mutex<Vec<Session>>,
    slots: Arc<Semaphore>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Db(***)")
    }
}

/// A session with the statements prepared on it.
struct Session {
    client: Client,
    statements: HashMap<&'static str, Statement>,
}

/// A pooled connection; back to the pool on drop unless it broke.
pub struct Conn {
    session: Option<Session>,
    db: Arc<Inner>,
    _slot: OwnedSemaphorePermit,
}

impl std::ops::Deref for Conn {
    type Target = Client;
    fn deref(&self) -> &Client {
        // Present from construction until drop.
        &self
            .session
            .as_ref()
            .unwrap_or_else(|| unreachable!())
            .client
    }
}

impl std::ops::DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut Client {
        &mut self
            .session
            .as_mut()
            .unwrap_or_else(|| unreachable!())
            .client
    }
}

impl Conn {
    /// `sql` prepared once per session. A query given as text is parsed by a round trip of its
    /// own before it runs, every time: on the send path that doubled each statement's wait.
    pub async fn prepared(&mut self, sql: &'static str) -> Result<Statement> {
        let session = self.session.as_mut().unwrap_or_else(|| unreachable!());
        if let Some(s) = session.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = session.client.prepare(sql).await?;
        session.statements.insert(sql, s.clone());
        Ok(s)
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        if let Some(s) = self.session.take()
            && !s.client.is_closed()
            && let Ok(mut idle) = self.db.idle.lock()
        {
            idle.push(s);
        }
    }
}

/// Connects one session; its I/O runs on a task of its own.
pub(crate) async fn connect_one(url: &Secret) -> Result<Client> {
    let (client, connection) = tokio_postgres::connect(url.expose(), super::tls::connector()?)
        .await
        .map_err(|e| crate::team::tls::connect_error(&e))?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!(error = %e, "PostgreSQL connection ended");
        }
    });
    Ok(client)
}

impl Db {
    /// Connects (proving the URL works) and applies the migrations.
    pub async fn open(url: &Secret) -> Result<Self> {
        let db = Self::new(url, DEFAULT_MAX);
        migrate(&mut *db.get().await?).await?;
        Ok(db)
    }

    fn new(url: &Secret, max: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                url: url.clone(),
                idle: Mutex::new(Vec::new()),
                slots: Arc::new(Semaphore::new(max)),
            }),
        }
    }

    /// A connection from the pool (waits while all are in use).
    pub async fn get(&self) -> Result<Conn> {
        let slot = self
            .inner
            .slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Error::Team("连接池已关闭 / pool closed".into()))?;
        let idle = self.inner.idle.lock().ok().and_then(|mut v| v.pop());
        let session = match idle {
            Some(s) if !s.client.is_closed() => s,
            _ => Session {
                client: connect_one(&self.inner.url).await?,
                statements: HashMap::new(),
            },
        };
        Ok(Conn {
            session: Some(session),
            db: self.inner.clone(),
            _slot: slot,
        })
    }

    /// A session outside the pool (LISTEN, a lock held by a session's lifetime).
    pub async fn dedicated(&self) -> Result<Client> {
        connect_one(&self.inner.url).await
    }
}

/// The newest schema version this binary knows.
pub fn latest_version() -> i32 {
    MIGRATIONS.last().map_or(0, |m| m.0)
}

async fn migrate(client: &mut Client) -> Result<()> {
    client
        .execute("SELECT pg_advisory_lock($1, 0)", &[&lock::MIGRATE])
        .await?;
    let result = apply_missing(client).await;
    // Released explicitly; a failure here ends with the session anyway.
    let _ = client
        .execute("SELECT pg_advisory_unlock($1, 0)", &[&lock::MIGRATE])
        .await;
    result
}

async fn apply_missing(client: &mut Client) -> Result<()> {
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS team_schema (
                 version    integer PRIMARY KEY,
                 name       text NOT NULL,
                 applied_at timestamptz NOT NULL DEFAULT now()
             )",
        )
        .await?;
    let current: i32 = client
        .query_one("SELECT coalesce(max(version), 0) FROM team_schema", &[])
        .await?
        .get(0);
    let latest = latest_version();
    if current > latest {
        return Err(Error::SchemaTooNew {
            found: i64::from(current),
            supported: i64::from(latest),
        });
    }
    for (version, name, sql) in MIGRATIONS.iter().filter(|m| m.0 > current) {
        let tx = client.transaction().await?;
        tx.batch_execute(sql).await?;
        tx.execute(
            "INSERT INTO team_schema (version, name) VALUES ($1, $2)",
            &[version, name],
        )
        .await?;
        tx.commit().await?;
        tracing::info!(version, name, "team database migrated");
    }
    Ok(())
}
