//! Encrypted backup and restore (issue #10, item 11): a workspace with an authorized account is
//! exported with a passphrase, a wrong passphrase and a tampered file are refused without
//! touching the target, and the restored data dir + keychain sends through the restored account
//! against the sandbox without authorizing again.
#![allow(clippy::unwrap_used)]

mod reliability_support;
mod support;

use std::sync::Arc;

use wxdesk_core::backup;
use wxdesk_core::platform::Platform;
use wxdesk_core::secrets::{MemoryStore, SecretKey, Secrets};
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
