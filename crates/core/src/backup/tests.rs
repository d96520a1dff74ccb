//! Restore into the open workspace: schema handling and the undo when the keychain fails. The
//! journey through the sandbox (export from one workspace, restore into another, send) is in
//! tests/backup_restore_live.rs.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rusqlite::Connection;

use super::*;
use crate::secrets::{MemoryStore, SecretStore};
use crate::store::latest_version;

const FAST: KdfParams = KdfParams {
    m_cost_kib: 64,
    t_cost: 1,
    p_cost: 1,
};
const PASS: &str = "口令 passphrase 1";

fn sealed_file(dir: &Path, db: &[u8], secrets: &[(&str, &str)]) -> std::path::PathBuf {
    let manifest = Manifest {
        format: 1,
        created_at: 1_700_000_000,
        secrets: secrets
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    };
    let file = dir.join("b.wxbak");
    std::fs::write(&file, seal(&manifest, db, PASS, FAST).unwrap()).unwrap();
    file
}

/// A database file written with `setup`, read back as bytes.
fn db_bytes(dir: &Path, setup: impl FnOnce(&Connection)) -> Vec<u8> {
    let path = dir.join("src.sqlite3");
    {
        let c = Connection::open(&path).unwrap();
        setup(&c);
    }
    std::fs::read(&path).unwrap()
}

async fn fresh() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in_dir(&dir.path().join("data")).await.unwrap();
    (dir, store)
}

async fn version(store: &Store) -> i64 {
    store
        .call(|c| Ok(c.query_row("PRAGMA user_version", [], |r| r.get(0))?))
        .await
        .unwrap()
}

async fn account_appids(store: &Store) -> Vec<String> {
    store
        .call(|c| {
            Ok(crate::store::accounts::list(c)?
                .into_iter()
                .map(|a| a.appid)
                .collect())
        })
        .await
        .unwrap()
}

fn insert_account(c: &Connection, appid: &str) {
    c.execute(
        "INSERT INTO accounts (appid, kind, status, updated_at) VALUES (?1, 'oa', 'authorized', 1)",
        [appid],
    )
    .unwrap();
}

/// A database at the latest schema with one account, as a backup made by this build holds.
fn current_db(dir: &Path, appid: &str) -> Vec<u8> {
    let path = dir.join("current.sqlite3");
    {
        let store = Store::open_blocking(&path).unwrap();
        let appid = appid.to_string();
        tokio::task::block_in_place(|| {
            tokio::runtime::Handle::current()
                .block_on(store.call(move |c| {
                    insert_account(c, &appid);
                    // A self-contained file: fold the WAL back in before reading its bytes.
                    c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
                    Ok(())
                }))
                .unwrap()
        });
    }
    std::fs::read(&path).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_replaces_the_open_database_and_every_clone_of_the_store_sees_it() {
    let (dir, store) = fresh().await;
    let other_handle = store.clone();
    let db = current_db(dir.path(), "wxrestored0000001");
    let file = sealed_file(
        dir.path(),
        &db,
        &[("refresh_token:wxrestored0000001", "rt-1")],
    );
    let secrets = Secrets::memory();

    let summary = restore_into_empty(&store, &secrets, PASS, &file)
        .await
        .unwrap();
    assert_eq!(
        (summary.secrets, summary.accounts_with_refresh_token),
        (1, 1)
    );
    assert_eq!(account_appids(&other_handle).await, ["wxrestored0000001"]);
    let mode: String = store
        .call(|c| Ok(c.query_row("PRAGMA journal_mode", [], |r| r.get(0))?))
        .await
        .unwrap();
    assert_eq!(mode, "wal", "the live database keeps its journal mode");
    let rt = secrets
        .get(SecretKey::RefreshToken("wxrestored0000001".into()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rt.expose(), "rt-1");
    // No staging file is left in the data dir.
    let data = store.path().unwrap().parent().unwrap();
    let mut names: Vec<String> = std::fs::read_dir(data)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".wxdesk-"))
        .collect();
    names.sort();
    assert_eq!(names, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_of_an_older_schema_is_migrated_on_restore() {
    let (dir, store) = fresh().await;
    // Schema version 0: a database before any migration ran.
    let db = db_bytes(dir.path(), |c| {
        c.execute_batch("CREATE TABLE leftover (x INTEGER); PRAGMA user_version = 0;")
            .unwrap();
    });
    let file = sealed_file(dir.path(), &db, &[]);
    restore_into_empty(&store, &Secrets::memory(), PASS, &file)
        .await
        .unwrap();
    assert_eq!(version(&store).await, latest_version());
    // Every migration ran: the tables of the first and the latest ones are there.
    assert_eq!(account_appids(&store).await, Vec::<String>::new());
    assert!(
        workspace_contents(&store).await.unwrap().is_empty(),
        "the migrated tables are queryable"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_from_a_newer_wxdesk_is_refused_and_nothing_changes() {
    let (dir, store) = fresh().await;
    let db = db_bytes(dir.path(), |c| {
        c.pragma_update(None, "user_version", latest_version() + 1)
            .unwrap();
    });
    let file = sealed_file(dir.path(), &db, &[("relay_key", "rk-new")]);
    let mem = Arc::new(MemoryStore::default());
    let err = restore_into_empty(&store, &Secrets::new(mem.clone()), PASS, &file)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::SchemaTooNew { .. }), "{err:?}");
    assert_eq!(version(&store).await, latest_version());
    assert!(mem.values().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workspace_with_an_account_is_refused_and_keeps_its_account() {
    let (dir, store) = fresh().await;
    store
        .call(|c| {
            insert_account(c, "wxexisting0000001");
            Ok(())
        })
        .await
        .unwrap();
    let contents = workspace_contents(&store).await.unwrap();
    assert_eq!(
        contents,
        WorkspaceContents {
            platform_configured: false,
            accounts: 1,
            jobs: 0,
            lists: 0
        }
    );
    let db = current_db(dir.path(), "wxrestored0000001");
    let file = sealed_file(dir.path(), &db, &[("relay_key", "rk-new")]);
    let mem = Arc::new(MemoryStore::default());
    let err = restore_into_empty(&store, &Secrets::new(mem.clone()), PASS, &file)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("当前工作区不是空的"), "{err}");
    assert_eq!(account_appids(&store).await, ["wxexisting0000001"]);
    assert!(mem.values().is_empty());
}

/// A keychain that refuses to store one entry (as a locked or full keychain would).
struct Refusing {
    inner: MemoryStore,
    refuse: SecretKey,
    refused: AtomicUsize,
}

impl SecretStore for Refusing {
    fn get(&self, key: &SecretKey) -> Result<Option<Secret>> {
        self.inner.get(key)
    }
    fn set(&self, key: &SecretKey, value: &Secret) -> Result<()> {
        if *key == self.refuse {
            self.refused.fetch_add(1, Ordering::SeqCst);
            return Err(Error::Keychain("测试：钥匙串拒绝写入".into()));
        }
        self.inner.set(key, value)
    }
    fn delete(&self, key: &SecretKey) -> Result<()> {
        self.inner.delete(key)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keychain_failure_puts_back_the_earlier_entries_and_the_empty_database() {
    let (dir, store) = fresh().await;
    let db = current_db(dir.path(), "wxrestored0000001");
    let file = sealed_file(
        dir.path(),
        &db,
        &[
            ("relay_key", "rk-from-backup"),
            ("refresh_token:wxrestored0000001", "rt-from-backup"),
            ("component_appsecret", "secret-from-backup"),
        ],
    );
    // The third entry fails, after two were written (one over a leftover value).
    let keychain = Arc::new(Refusing {
        inner: MemoryStore::default(),
        refuse: SecretKey::ComponentAppsecret,
        refused: AtomicUsize::new(0),
    });
    let secrets = Secrets::new(keychain.clone());
    secrets
        .set(SecretKey::RelayKey, Secret::new("rk-left-over"))
        .await
        .unwrap();

    let err = restore_into_empty(&store, &secrets, PASS, &file)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Keychain(_)), "{err:?}");
    assert_eq!(account_appids(&store).await, Vec::<String>::new());
    assert!(workspace_contents(&store).await.unwrap().is_empty());
    let relay = secrets.get(SecretKey::RelayKey).await.unwrap().unwrap();
    assert_eq!(relay.expose(), "rk-left-over", "the earlier value is back");
    let rt = secrets
        .get(SecretKey::RefreshToken("wxrestored0000001".into()))
        .await
        .unwrap();
    assert!(rt.is_none(), "an entry that did not exist is removed again");
    assert_eq!(keychain.inner.values().len(), 1);
    assert_eq!(keychain.refused.load(Ordering::SeqCst), 1);
}

#[test]
fn the_backup_file_replaces_the_old_one_whole_and_leaves_no_partial_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("nightly.wxbak");
    std::fs::write(&out, b"yesterday's backup").unwrap();
    write_durably(&out, b"today's backup").unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), b"today's backup");
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["nightly.wxbak"]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&out).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "only the owner reads the backup file");
    }

    // A directory that does not exist: refused, nothing created.
    let missing = dir.path().join("no-such-dir").join("b.wxbak");
    assert!(write_durably(&missing, b"x").is_err());
    assert!(!dir.path().join("no-such-dir").exists());
}
