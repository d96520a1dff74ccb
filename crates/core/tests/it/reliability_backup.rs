//! Encrypted backup and restore (issue #10, item 11): a workspace with an authorized account is
//! exported with a passphrase, a wrong passphrase and a tampered file are refused without
//! touching the target, and the restored data dir + keychain sends through the restored account
//! against the sandbox without authorizing again.
#![allow(clippy::unwrap_used)]

use crate::reliability_support;
use crate::support;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use wxdesk_core::backup;
use wxdesk_core::platform::Platform;
use wxdesk_core::secrets::{MemoryStore, Secret, SecretKey, Secrets};
use wxdesk_core::store::{DB_FILE, Store};

use reliability_support::{TEST_KDF, assert_restored_account_sends_once};
use support::World;

const PASS: &str = "正确的口令 correct horse";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restored_backup_sends_without_reauthorizing_and_bad_passphrase_or_tampering_change_nothing()
 {
    let w = World::start().await;
    let oa = w.authorize_first_oa().await;
    let refresh = w
        .platform
        .secrets()
        .get(SecretKey::RefreshToken(oa.clone()))
        .await
        .unwrap()
        .unwrap();

    let out_dir = tempfile::tempdir().unwrap();
    let file = out_dir.path().join("workspace.wxbak");
    let made = backup::export(&w.store, w.platform.secrets(), PASS, TEST_KDF, &file)
        .await
        .unwrap();
    assert_eq!(made.accounts_with_refresh_token, 1);
    // Platform secret, token, AES key, relay key, one refresh token.
    assert_eq!(made.secrets, 5);
    let bytes = std::fs::read(&file).unwrap();
    assert_eq!(&bytes[..8], b"WXDESKBK");
    for secret in w.mem.values() {
        let s = secret.expose();
        assert!(
            !bytes.windows(s.len()).any(|x| x == s.as_bytes()),
            "a secret is readable in the backup file"
        );
    }

    let target = tempfile::tempdir().unwrap();
    let data_dir = target.path().join("restored");
    let mem = Arc::new(MemoryStore::default());
    let secrets = Secrets::new(mem.clone());

    // Wrong passphrase: refused, nothing written.
    let err = backup::import(&data_dir, &secrets, "错误的口令", &file)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("备份口令错误"), "{err}");
    assert!(!data_dir.exists());
    assert!(mem.values().is_empty());

    // One flipped bit anywhere (header or body): refused the same way, nothing written.
    for at in [12, bytes.len() / 2, bytes.len() - 1] {
        let mut bad = bytes.clone();
        bad[at] ^= 0x01;
        let tampered = out_dir.path().join("tampered.wxbak");
        std::fs::write(&tampered, &bad).unwrap();
        let err = backup::import(&data_dir, &secrets, PASS, &tampered)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("备份口令错误"), "byte {at}: {err}");
        assert!(!data_dir.exists());
        assert!(mem.values().is_empty());
    }
    // Not a backup at all.
    let junk = out_dir.path().join("junk.wxbak");
    std::fs::write(&junk, b"hello").unwrap();
    let err = backup::import(&data_dir, &secrets, PASS, &junk)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("不是 wxdesk 备份文件"), "{err}");

    let restored = backup::import(&data_dir, &secrets, PASS, &file)
        .await
        .unwrap();
    assert_eq!(
        (restored.secrets, restored.accounts_with_refresh_token),
        (5, 1)
    );
    assert_eq!(
        mem.values().len(),
        5,
        "every keychain entry is back in the new keychain"
    );
    assert_eq!(
        secrets
            .get(SecretKey::RefreshToken(oa.clone()))
            .await
            .unwrap()
            .unwrap()
            .expose(),
        refresh.expose()
    );
    // A second import onto the restored workspace is refused and leaves it alone.
    let again = backup::import(&data_dir, &secrets, PASS, &file)
        .await
        .unwrap_err();
    assert!(again.to_string().contains("已有工作区"), "{again}");

    // The restored workspace sends through the restored account: its refresh token gets an
    // authorizer token from the sim, no authorization page involved.
    let store = Store::open_in_dir(&data_dir).await.unwrap();
    let platform = Platform::new(store.clone(), secrets.clone());
    assert_restored_account_sends_once(&w, &platform, &oa).await;
    assert!(data_dir.join(DB_FILE).exists());
}

const EXPORT_CHILD_ENV: &str = "WXDESK_TEST_EXPORT_CHILD";
const SQLITE_HEADER: &[u8] = b"SQLite format 3\0";

/// Every regular file under `dir` (recursively), except under `skip`.
fn files_under(dir: &Path, skip: &Path, into: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p == skip {
            continue;
        }
        match e.file_type() {
            Ok(t) if t.is_dir() => files_under(&p, skip, into),
            Ok(t) if t.is_file() => into.push(p),
            _ => {}
        }
    }
}

/// Whether `p` starts like an SQLite database (a file that vanished meanwhile does not).
fn is_sqlite(p: &Path) -> bool {
    let mut head = [0u8; 16];
    std::fs::File::open(p)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok_and(|()| head == SQLITE_HEADER)
}

/// The child: exports the data dir to the output file named in EXPORT_CHILD_ENV, with TMPDIR
/// pointing at an empty directory the parent watches.
async fn export_child(args: &str) {
    let (data, out) = args.split_once('\t').unwrap();
    let store = Store::open_in_dir(Path::new(data)).await.unwrap();
    let secrets = Secrets::memory();
    secrets
        .set(SecretKey::RelayKey, Secret::new("relay-key-in-the-backup"))
        .await
        .unwrap();
    backup::export(&store, &secrets, PASS, TEST_KDF, Path::new(out))
        .await
        .unwrap();
}

/// The database image is plaintext (accounts, lists, history): while the export runs and after
/// it, no file outside the data dir — not in TMPDIR, not next to the output — starts with
/// SQLite's header. The parent watches the whole tree (without sleeping) while a child process
/// with TMPDIR set exports; then the one file left outside the data dir is the complete
/// encrypted backup, which restores.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_writes_no_plaintext_database_outside_the_data_dir_and_leaves_only_the_complete_file()
 {
    if let Ok(args) = std::env::var(EXPORT_CHILD_ENV) {
        return export_child(&args).await;
    }
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let tmp = root.path().join("tmp");
    let out_dir = root.path().join("out");
    std::fs::create_dir(&tmp).unwrap();
    std::fs::create_dir(&out_dir).unwrap();
    let out = out_dir.join("workspace.wxbak");
    {
        // A database big enough that a plaintext copy would exist for a while: 8 MiB that does
        // not compress, and one account to find after the restore.
        let store = Store::open_in_dir(&data).await.unwrap();
        store
            .call(|c| {
                c.execute_batch(
                    "CREATE TABLE filler (b BLOB);
                     WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2048)
                     INSERT INTO filler SELECT randomblob(4096) FROM n;
                     INSERT INTO accounts (appid, kind, status, updated_at)
                     VALUES ('wxexported0000001', 'oa', 'authorized', 1);",
                )?;
                Ok(())
            })
            .await
            .unwrap();
    }

    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            this_test!(export_writes_no_plaintext_database_outside_the_data_dir_and_leaves_only_the_complete_file).as_str(),
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(EXPORT_CHILD_ENV, format!("{}\t{}", data.display(), out.display()))
        .env("TMPDIR", &tmp)
        .env("SQLITE_TMPDIR", &tmp)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut plaintext_seen = std::collections::BTreeSet::new();
    let mut scans = 0u64;
    let status = loop {
        let mut files = Vec::new();
        files_under(root.path(), &data, &mut files);
        plaintext_seen.extend(files.into_iter().filter(|p| is_sqlite(p)));
        scans += 1;
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        std::thread::yield_now();
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(status.success(), "the export failed: {stderr}");
    assert!(scans > 1, "the export was watched while it ran");
    assert!(
        plaintext_seen.is_empty(),
        "a plaintext database copy appeared outside the data dir: {plaintext_seen:?}"
    );

    let mut left = Vec::new();
    files_under(root.path(), &data, &mut left);
    assert_eq!(
        left,
        std::slice::from_ref(&out),
        "only the backup file is left outside the data dir"
    );
    let mut snapshots = Vec::new();
    files_under(&data, Path::new(""), &mut snapshots);
    assert!(
        snapshots.iter().all(|p| !p
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with(".wxdesk-")),
        "the snapshot is removed from the data dir: {snapshots:?}"
    );

    // Complete: it decrypts and restores, with the database and the secret it was made from.
    let target = tempfile::tempdir().unwrap();
    let mem = Arc::new(MemoryStore::default());
    let restored = backup::import(
        &target.path().join("restored"),
        &Secrets::new(mem.clone()),
        PASS,
        &out,
    )
    .await
    .unwrap();
    assert_eq!(restored.secrets, 1);
    assert!(restored.database_bytes > 8 * 1024 * 1024);
    let store = Store::open_in_dir(&target.path().join("restored"))
        .await
        .unwrap();
    let appids: Vec<String> = store
        .call(|c| {
            Ok(c.prepare("SELECT appid FROM accounts ORDER BY appid")?
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?)
        })
        .await
        .unwrap();
    assert_eq!(appids, ["wxexported0000001"]);
}
