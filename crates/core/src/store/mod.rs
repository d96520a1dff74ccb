//! The SQLite store: one file (`wxdesk.sqlite3`) in the data dir, WAL mode, embedded migrations.
//!
//! # Migration convention
//! Migrations live in `store/migrations/NNNN_name.sql` and are listed in order in
//! `migrate::MIGRATIONS`; the number is the schema version (`PRAGMA user_version`) after it runs.
//! Numbers are dense and never reused: the next feature adds `0002_templates.sql` (or whatever
//! number is next when it lands) and one line to the list. A migration is never edited after it
//! is committed — add a new one. Each runs in one transaction with its version bump, and a
//! database with a higher version than this build knows is refused (`Error::SchemaTooNew`).
//!
//! # Access
//! [`Store`] is a small cloneable handle. Work runs on a blocking thread against one writer
//! connection (`Store::call`); the table modules (`settings`, `accounts`, …) are plain functions
//! over `&Connection` so a caller can combine several in one transaction — the feed follower
//! advances the relay cursor in the same transaction as the event's effect.

/// Transition: the accounts table's SQL lives in `accounts::db`; older paths still name it here.
pub(crate) use crate::accounts::db as accounts;
pub(crate) mod audit;
pub(crate) mod auth_codes;
pub(crate) mod cursor;
mod migrate;
pub mod private;
pub(crate) mod settings;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::Connection;

use crate::error::{Error, Result};

pub use migrate::latest_version;

/// File name of the database inside the data dir.
pub const DB_FILE: &str = "wxdesk.sqlite3";

#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
    path: Option<PathBuf>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (creating if needed) the store of a data dir and migrates it. The directory is
    /// made private to this user (`private`), as is the database file.
    pub async fn open_in_dir(data_dir: &Path) -> Result<Self> {
        let dir = data_dir.to_path_buf();
        tokio::task::spawn_blocking(move || {
            private::private_dir(&dir).map_err(|source| Error::DataDir {
                path: dir.display().to_string(),
                source,
            })?;
            Self::open_blocking(&dir.join(DB_FILE))
        })
        .await?
    }

    /// Opens a database file (created 0600 on Unix) and migrates it (blocking; for callers
    /// without a runtime).
    pub fn open_blocking(path: &Path) -> Result<Self> {
        private::prepare_database_file(path).map_err(|source| Error::DataDir {
            path: path.display().to_string(),
            source,
        })?;
        let mut conn = Connection::open(path)?;
        configure(&conn, true)?;
        migrate::migrate(&mut conn)?;
        Ok(Store {
            conn: Arc::new(Mutex::new(conn)),
            path: Some(path.to_path_buf()),
        })
    }

    /// A private in-memory database, migrated; for tests.
    pub fn open_in_memory() -> Result<Self> {
        let mut conn = Connection::open_in_memory()?;
        configure(&conn, false)?;
        migrate::migrate(&mut conn)?;
        Ok(Store {
            conn: Arc::new(Mutex::new(conn)),
            path: None,
        })
    }

    /// The database file, `None` for an in-memory store.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Runs `f` with the connection on a blocking thread. Use `conn.transaction()` inside when
    /// several writes must land together.
    pub async fn call<R, F>(&self, f: F) -> Result<R>
    where
        F: FnOnce(&mut Connection) -> Result<R> + Send + 'static,
        R: Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            // A panic while holding the lock poisons it; the connection itself is still sound
            // (SQLite rolls back an unfinished transaction), so carry on with it.
            let mut guard = conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut guard)
        })
        .await?
    }
}

/// Every connection pragma in one place.
fn configure(conn: &Connection, file: bool) -> Result<()> {
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.pragma_update(None, "foreign_keys", true)?;
    if file {
        // WAL lets the CLI read while the app writes; NORMAL is durable at checkpoints and
        // never corrupts in WAL mode.
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(%mode, "SQLite refused WAL mode");
        }
        conn.pragma_update(None, "synchronous", "NORMAL")?;
    }
    Ok(())
}

/// Unix seconds now.
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn file_store_uses_wal_and_foreign_keys() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in_dir(dir.path()).await.unwrap();
        let (mode, fk): (String, i64) = store
            .call(|c| {
                let mode = c.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
                let fk = c.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?;
                Ok((mode, fk))
            })
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        assert_eq!(fk, 1);
        assert_eq!(store.path(), Some(dir.path().join(DB_FILE).as_path()));
    }

    #[tokio::test]
    async fn reopening_a_file_written_by_a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open_in_dir(dir.path()).await.unwrap();
            store
                .call(|c| Ok(c.pragma_update(None, "user_version", latest_version() + 1)?))
                .await
                .unwrap();
        }
        let err = Store::open_in_dir(dir.path()).await.unwrap_err();
        assert!(matches!(err, Error::SchemaTooNew { .. }), "{err:?}");
        assert!(err.to_string().contains("请升级 wxdesk"), "{err}");
    }
}
