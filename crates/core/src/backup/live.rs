//! Restoring a backup into the workspace a running app already has open (the desktop app's
//! 从备份恢复 on a new computer). [`super::import`] refuses a data dir that holds a database,
//! but the app opened (and so created) its database at start-up; here the backup's database
//! replaces the content of that open database through SQLite's online backup API, on the
//! store's own connection, so every clone of the [`Store`] sees the restored data at once.
//!
//! Only an empty workspace (no platform settings, no accounts, no send jobs, no recipient
//! lists) is replaced: a restore must never overwrite someone's work. The order keeps every
//! refusal harmless: the file is decrypted and authenticated, the backup's database is staged
//! and migrated to this build's schema, and only then the live database is replaced and the
//! keychain entries written. If a keychain write fails, the entries already written go back to
//! what they were and the (empty) database is put back.

use std::path::{Path, PathBuf};

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, MAIN_DB};
use serde::Serialize;

use zeroize::Zeroizing;

use super::{
    BackupSummary, READ_BACKUP, WRITE, invalid, io, manifest_keys, open_backup,
    unreadable_database, write_private,
};
use crate::error::Result;
use crate::secrets::Secrets;
use crate::store::Store;

/// What a workspace holds that a restore would overwrite (counts only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct WorkspaceContents {
    pub platform_configured: bool,
    pub accounts: u64,
    pub jobs: u64,
    pub lists: u64,
}

impl WorkspaceContents {
    /// Nothing to lose: a restore may replace this workspace.
    pub fn is_empty(&self) -> bool {
        !self.platform_configured && self.accounts == 0 && self.jobs == 0 && self.lists == 0
    }
}

fn contents_of(c: &Connection) -> Result<WorkspaceContents> {
    let count = |table: &str| -> Result<u64> {
        let n: i64 = c.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))?;
        Ok(u64::try_from(n).unwrap_or(0))
    };
    Ok(WorkspaceContents {
        platform_configured: count("platform_settings")? > 0,
        accounts: count("accounts")?,
        jobs: count("send_jobs")?,
        lists: count("recipient_lists")?,
    })
}

/// What the workspace of `store` holds; the app enables 从备份恢复 only when it is empty.
pub async fn workspace_contents(store: &Store) -> Result<WorkspaceContents> {
    store.call(|c| contents_of(c)).await
}

fn not_empty() -> crate::Error {
    invalid(
        "当前工作区不是空的（已有平台设置、授权账号、发送任务或名单），从备份恢复会覆盖它们；请用新的数据目录（环境变量 WXDESK_DATA_DIR）启动 wxdesk 后再恢复，或使用命令行 wxdesk-cli backup import。未做任何更改",
        "This workspace is not empty (it has platform settings, accounts, send jobs or lists), \
         and a restore would overwrite them: start wxdesk with a new data directory \
         (WXDESK_DATA_DIR) and restore there, or use wxdesk-cli backup import. Nothing was \
         changed.",
    )
}

/// Copies every page of `src` over the main database of `dst` in one step, so the destination
/// changes in a single write transaction: all of it or (on an error) none of it.
fn replace_database(src: &Path, dst: &mut Connection) -> Result<()> {
    let src = Connection::open(src)?;
    let backup = Backup::new_with_names(&src, MAIN_DB, dst, MAIN_DB)?;
    match backup.step(-1)? {
        StepResult::Done => Ok(()),
        // We hold the store's only connection; another process (the CLI) is writing.
        _ => Err(invalid(
            "数据库正被另一个程序（例如 wxdesk-cli）使用，无法恢复；关闭它后重试。未做任何更改",
            "Another program (wxdesk-cli?) is using the database, so it cannot be restored: \
             close it and try again. Nothing was changed.",
        )),
    }
}

/// Temporary database files (a restore's staging copies, an export's snapshot), removed with
/// their SQLite companions on drop whatever happens.
#[derive(Default)]
pub(super) struct Scratch(Vec<PathBuf>);

impl Scratch {
    pub(super) fn path(&mut self, dir: &Path, what: &str) -> PathBuf {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let p = dir.join(format!(
            ".wxdesk-{what}-{}-{nanos}.sqlite3",
            std::process::id()
        ));
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut s = p.clone().into_os_string();
            s.push(suffix);
            self.0.push(PathBuf::from(s));
        }
        p
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Restores the backup `file` into the open, empty workspace of `store` and its keychain
/// namespace `secrets`. A wrong passphrase, a tampered file, a backup from a newer wxdesk or a
/// workspace that is not empty is refused with the database and the keychain unchanged.
/// Services that cached state from the old (empty) workspace should restart afterwards (the app
/// restarts itself).
pub async fn restore_into_empty(
    store: &Store,
    secrets: &Secrets,
    passphrase: &str,
    file: &Path,
) -> Result<BackupSummary> {
    let bytes = std::fs::read(file).map_err(|e| io(READ_BACKUP, file, &e))?;
    let pass = Zeroizing::new(passphrase.to_string());
    let (manifest, db) = tokio::task::spawn_blocking(move || open_backup(&bytes, &pass)).await??;
    let keys = manifest_keys(&manifest)?;
    if !workspace_contents(store).await?.is_empty() {
        return Err(not_empty());
    }

    // Staged next to the live database (same disk, no secret in it: secrets are never in
    // SQLite), then opened as a store of its own: that checks it, refuses a newer schema and
    // migrates an older one before the live database is touched.
    let dir = store
        .path()
        .and_then(Path::parent)
        .map_or_else(std::env::temp_dir, Path::to_path_buf);
    let mut scratch = Scratch(Vec::new());
    let staged = scratch.path(&dir, "restore");
    let undo = scratch.path(&dir, "restore-undo");
    write_private(&staged, &db).map_err(|e| io(WRITE, &staged, &e))?;
    let db_len = db.len();
    drop(db);
    {
        let staged = staged.clone();
        tokio::task::spawn_blocking(move || {
            let unreadable = unreadable_database;
            {
                let c = Connection::open(&staged).map_err(|_| unreadable())?;
                let ok: String = c
                    .query_row("PRAGMA integrity_check", [], |r| r.get(0))
                    .map_err(|_| unreadable())?;
                if ok != "ok" {
                    return Err(unreadable());
                }
            }
            // Migrates (WAL like the live database, so the page copy keeps its journal mode).
            drop(Store::open_blocking(&staged)?);
            Ok(())
        })
        .await??;
    }

    // The emptiness check again, under the connection lock with the swap, so nothing written
    // between the first check and now is lost. The empty database is kept to put back if the
    // keychain refuses the secrets.
    {
        let (staged, undo) = (staged.clone(), undo.clone());
        store
            .call(move |c| {
                if !contents_of(c)?.is_empty() {
                    return Err(not_empty());
                }
                c.execute("VACUUM INTO ?1", [undo.to_string_lossy().as_ref()])?;
                replace_database(&staged, c)
            })
            .await?;
    }

    let mut previous = Vec::with_capacity(keys.len());
    for (key, value) in keys {
        let before = match secrets.get(key.clone()).await {
            Ok(v) => v,
            Err(e) => {
                put_back(store, secrets, previous, &undo).await;
                return Err(e);
            }
        };
        previous.push((key.clone(), before));
        if let Err(e) = secrets.set(key, value).await {
            put_back(store, secrets, previous, &undo).await;
            return Err(e);
        }
    }
    Ok(manifest.summary(db_len))
}

/// Undoes a restore whose keychain writes failed: each entry back to its earlier value (or
/// removed), and the empty database copied back. Best effort: the caller reports the first
/// error.
async fn put_back(
    store: &Store,
    secrets: &Secrets,
    previous: Vec<(crate::secrets::SecretKey, Option<crate::secrets::Secret>)>,
    undo: &Path,
) {
    for (key, before) in previous.into_iter().rev() {
        let r = match before {
            Some(v) => secrets.set(key, v).await,
            None => secrets.delete(key).await,
        };
        if let Err(e) = r {
            tracing::warn!(error = %e, "could not undo a keychain entry after a failed restore");
        }
    }
    let undo = undo.to_path_buf();
    if let Err(e) = store.call(move |c| replace_database(&undo, c)).await {
        tracing::error!(error = %e, "could not put the empty database back after a failed restore");
    }
}
