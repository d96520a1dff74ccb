//! 从备份恢复 in the running app (issue #10, item 11): a backup exported from workspace A with an
//! authorized account is restored into workspace B whose store is already open and empty (as the
//! app's is at first start). B then lists the account and sends a template message through it
//! at the sim without authorizing again. A wrong passphrase, a tampered file and a workspace
//! that is not empty are refused with the database and the keychain unchanged.
//!
//! B's secrets live in the real OS keychain when WXDESK_TEST_KEYCHAIN=1 (run under
//! `scripts/with-keyring.sh`), otherwise in memory.
#![allow(clippy::unwrap_used)]

use crate::reliability_support;
use crate::support;

use std::path::Path;
use std::sync::Arc;

use wxdesk_core::backup::{Backup, BackupStatus};
use wxdesk_core::platform::{Egress, Mode, Platform, SettingsInput};
use wxdesk_core::secrets::{KeychainStore, MemoryStore, Secret, SecretKey, Secrets};
use wxdesk_core::store::Store;

use reliability_support::{TEST_KDF, assert_restored_account_sends_once};
use support::World;

const PASS: &str = "新电脑上的口令 restore-me";

/// `ctx.backup` of a workspace (the store and keychain of one data dir).
fn backup_of(store: &Store, secrets: &Secrets, dir: &Path) -> Backup {
    Backup::new(Platform::new(store.clone(), secrets.clone()), dir).with_kdf(TEST_KDF)
}

fn pass(p: &str) -> Secret {
    Secret::new(p)
}

fn keychain_for(dir: &Path) -> Secrets {
    if std::env::var_os("WXDESK_TEST_KEYCHAIN").is_some() {
        Secrets::new(Arc::new(KeychainStore::for_data_dir(dir).unwrap()))
    } else {
        Secrets::new(Arc::new(MemoryStore::default()))
    }
}

fn platform_keys(appids: &[&str]) -> Vec<SecretKey> {
    let mut keys = vec![
        SecretKey::ComponentAppsecret,
        SecretKey::ComponentToken,
        SecretKey::ComponentAesKey,
        SecretKey::RelayKey,
    ];
    keys.extend(
        appids
            .iter()
            .map(|a| SecretKey::RefreshToken(a.to_string())),
    );
    keys
}

/// The keychain entries of `keys`, values included (compared, never printed).
async fn keychain_snapshot(secrets: &Secrets, keys: &[SecretKey]) -> Vec<Option<String>> {
    let mut out = Vec::new();
    for k in keys {
        out.push(
            secrets
                .get(k.clone())
                .await
                .unwrap()
                .map(|s| s.expose().to_string()),
        );
    }
    out
}

/// What a restore would overwrite, as comparable text: schema version, settings, accounts,
/// jobs, lists and the audit log.
async fn db_fingerprint(store: &Store) -> String {
    store
        .call(|c| {
            let version: i64 = c.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            let settings: Vec<(String, String, String, String, String)> = c
                .prepare(
                    "SELECT mode, component_appid, relay_url, egress, api_base \
                     FROM platform_settings",
                )?
                .query_map([], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })?
                .collect::<rusqlite::Result<_>>()?;
            let accounts: Vec<(String, String)> = c
                .prepare("SELECT appid, status FROM accounts ORDER BY appid")?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            let count = |t: &str| -> rusqlite::Result<i64> {
                c.query_row(&format!("SELECT COUNT(*) FROM {t}"), [], |r| r.get(0))
            };
            Ok(format!(
                "v{version} {settings:?} {accounts:?} jobs={} lists={} audit={}",
                count("send_jobs")?,
                count("recipient_lists")?,
                count("audit_log")?
            ))
        })
        .await
        .unwrap()
}

async fn delete_all(secrets: &Secrets, keys: &[SecretKey]) {
    for k in keys {
        secrets.delete(k.clone()).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_restored_into_the_open_empty_workspace_sends_without_reauthorizing() {
    // Workspace A: the sandbox with one authorized official account.
    let w = World::start().await;
    let oa = w.authorize_first_oa().await;
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("wxdesk-备份.wxbak");
    let made = backup_of(&w.store, w.platform.secrets(), w.dir.path())
        .export(&pass(PASS), &file)
        .await
        .unwrap();
    assert_eq!(made.path, file.to_string_lossy());
    assert_eq!(
        (
            made.summary.secrets,
            made.summary.accounts_with_refresh_token
        ),
        (5, 1)
    );
    let keys = platform_keys(&[&oa]);
    let a_secrets = keychain_snapshot(w.platform.secrets(), &keys).await;

    // Workspace B: opened (so its database exists) and empty, like the app at first start.
    let b_dir = tempfile::tempdir().unwrap();
    let b_store = Store::open_in_dir(b_dir.path()).await.unwrap();
    let b_secrets = keychain_for(b_dir.path());
    delete_all(&b_secrets, &keys).await;
    let empty_db = db_fingerprint(&b_store).await;
    let empty_keychain = keychain_snapshot(&b_secrets, &keys).await;
    assert_eq!(empty_keychain, vec![None; 5]);
    let b = backup_of(&b_store, &b_secrets, b_dir.path());
    assert_eq!(
        b.status().await.unwrap(),
        BackupStatus {
            restore_allowed: true,
            platform_configured: false,
            accounts: 0,
            jobs: 0,
            lists: 0,
            data_dir: b_dir.path().to_string_lossy().into_owned(),
            min_passphrase_chars: 8,
        }
    );

    // Wrong passphrase: refused, B untouched.
    let err = b.restore(&pass("不是这个口令"), &file).await.unwrap_err();
    assert!(
        err.message(wxdesk_core::Lang::En)
            .starts_with("Wrong passphrase, or the backup file was changed"),
        "{}",
        err.message(wxdesk_core::Lang::En)
    );
    assert!(err.to_string().contains("备份口令错误"), "{err}");
    assert_eq!(db_fingerprint(&b_store).await, empty_db);
    assert_eq!(keychain_snapshot(&b_secrets, &keys).await, empty_keychain);

    // A flipped bit in the header, the middle or the tag: refused the same way, B untouched.
    let bytes = std::fs::read(&file).unwrap();
    for at in [9, bytes.len() / 2, bytes.len() - 1] {
        let mut bad = bytes.clone();
        bad[at] ^= 0x40;
        let tampered = out.path().join("tampered.wxbak");
        std::fs::write(&tampered, &bad).unwrap();
        let err = b.restore(&pass(PASS), &tampered).await.unwrap_err();
        assert!(err.to_string().contains("备份口令错误"), "byte {at}: {err}");
        assert_eq!(db_fingerprint(&b_store).await, empty_db, "byte {at}");
        assert_eq!(keychain_snapshot(&b_secrets, &keys).await, empty_keychain);
    }

    // The restore: B's already-open store now holds A's workspace, B's keychain A's secrets.
    let restored = b.restore(&pass(PASS), &file).await.unwrap();
    assert_eq!(
        (
            restored.summary.secrets,
            restored.summary.accounts_with_refresh_token
        ),
        (5, 1)
    );
    assert_eq!(
        db_fingerprint(&b_store).await,
        db_fingerprint(&w.store).await
    );
    assert_eq!(keychain_snapshot(&b_secrets, &keys).await, a_secrets);
    let status = b.status().await.unwrap();
    assert_eq!(
        (
            status.restore_allowed,
            status.platform_configured,
            status.accounts,
            status.jobs,
            status.lists
        ),
        (false, true, 1, 0, 0)
    );

    // B sends through the restored account: its refresh token gets an authorizer token from the
    // sim, no authorization page involved.
    let platform = Platform::new(b_store.clone(), b_secrets.clone());
    let accounts = wxdesk_core::accounts::Accounts::new(platform.clone());
    let listed: Vec<String> = accounts
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.appid)
        .collect();
    assert_eq!(listed, std::slice::from_ref(&oa));
    assert_restored_account_sends_once(&w, &platform, &oa).await;
    delete_all(&b_secrets, &keys).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workspace_that_is_not_empty_is_refused_and_keeps_its_data_and_secrets() {
    // A backup of some other workspace (one account, its own secrets).
    let src_dir = tempfile::tempdir().unwrap();
    let src = Store::open_in_dir(src_dir.path()).await.unwrap();
    src.call(|c| {
        c.execute(
            "INSERT INTO accounts (appid, kind, status, updated_at) VALUES ('wxfrombackup00001', 'oa', 'authorized', 1)",
            [],
        )?;
        Ok(())
    })
    .await
    .unwrap();
    let src_secrets = Secrets::memory();
    src_secrets
        .set(SecretKey::RelayKey, Secret::new("relay-key-of-the-backup"))
        .await
        .unwrap();
    src_secrets
        .set(
            SecretKey::RefreshToken("wxfrombackup00001".into()),
            Secret::new("refresh-of-the-backup"),
        )
        .await
        .unwrap();
    let file = src_dir.path().join("other.wxbak");
    backup_of(&src, &src_secrets, src_dir.path())
        .export(&pass(PASS), &file)
        .await
        .unwrap();

    // Workspace C: only platform settings and a relay key, no account yet — still not empty.
    let c_dir = tempfile::tempdir().unwrap();
    let c_store = Store::open_in_dir(c_dir.path()).await.unwrap();
    let c_secrets = keychain_for(c_dir.path());
    let keys = platform_keys(&["wxfrombackup00001"]);
    delete_all(&c_secrets, &keys).await;
    Platform::new(c_store.clone(), c_secrets.clone())
        .save_settings(SettingsInput {
            mode: Mode::Production,
            component_appid: "wxc00000000000000c".into(),
            relay_url: "https://relay.example.com".into(),
            egress: Egress::Relay,
            api_base: None,
            component_appsecret: None,
            component_token: None,
            component_aes_key: None,
            relay_key: Some(Secret::new("relay-key-of-c")),
        })
        .await
        .unwrap();
    let db = db_fingerprint(&c_store).await;
    let keychain = keychain_snapshot(&c_secrets, &keys).await;
    assert!(db.contains("wxc00000000000000c"), "{db}");

    let c = backup_of(&c_store, &c_secrets, c_dir.path());
    assert!(!c.status().await.unwrap().restore_allowed);
    let err = c.restore(&pass(PASS), &file).await.unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("当前工作区不是空的"), "{msg}");
    assert!(
        msg.contains("WXDESK_DATA_DIR") && msg.contains("wxdesk-cli backup import"),
        "{msg}"
    );
    assert_eq!(db_fingerprint(&c_store).await, db);
    assert_eq!(keychain_snapshot(&c_secrets, &keys).await, keychain);
    delete_all(&c_secrets, &keys).await;
}
