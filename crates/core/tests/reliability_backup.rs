//! Encrypted backup and restore (issue #10, item 11): a workspace with an authorized account is
//! exported with a passphrase, a wrong passphrase and a tampered file are refused without
//! touching the target, and the restored data dir + keychain sends through the restored account
//! against the sandbox without authorizing again.
#![allow(clippy::unwrap_used)]

mod reliability_support;
mod support;

use std::sync::Arc;

use serde_json::Value;
use wxdesk_core::auth::AuthScope;
use wxdesk_core::backup::{self, KdfParams};
use wxdesk_core::feed::FeedNotice;
use wxdesk_core::platform::Platform;
use wxdesk_core::secrets::{MemoryStore, SecretKey, Secrets};
use wxdesk_core::send::{EngineConfig, JobSpec, JobStatus, Recipient};
use wxdesk_core::store::{DB_FILE, Store};

use reliability_support::template_and_followers;
use support::{World, follow_until};

/// Cheap enough for a debug build; the format stores the parameters, so import is unchanged.
const TEST_KDF: KdfParams = KdfParams {
    m_cost_kib: 1024,
    t_cost: 1,
    p_cost: 1,
};
const PASS: &str = "正确的口令 correct horse";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restored_backup_sends_without_reauthorizing_and_bad_passphrase_or_tampering_change_nothing()
 {
    let w = World::start().await;
    let follower = w.follower().await;
    let mut rx = follower.subscribe();
    let oa = w.account(false)["appid"].as_str().unwrap().to_string();
    w.authorize_in_browser(&oa, AuthScope::Oa).await;
    follow_until(&follower, &mut rx, |n| {
        matches!(n, FeedNotice::AccountAuthorized { .. })
    })
    .await;
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
    let before = w.sandbox.sim_state();
    let store = Store::open_in_dir(&data_dir).await.unwrap();
    let platform = Platform::new(store.clone(), secrets.clone());
    let (payload, mut openids) = template_and_followers(&w, &oa, 1).await;
    let openid = openids.remove(0);
    let engine = wxdesk_core::cli_support::send_engine(&platform, EngineConfig::default())
        .await
        .unwrap();
    let job = engine
        .create_job(
            JobSpec {
                appid: oa.clone(),
                title: "恢复后发送".into(),
                payload,
                field_rules: Vec::new(),
                concurrency: Some(1),
                rate_per_sec: None,
                max_attempts: Some(5),
            },
            vec![Recipient::new(openid.clone())],
        )
        .await
        .unwrap();
    engine.start(job).await.unwrap();
    let done = engine.wait_idle(job).await.unwrap();
    assert_eq!(
        (done.status, done.counts.sent),
        (JobStatus::Completed, 1),
        "{done:?}"
    );
    let after = w.sandbox.sim_state();
    let issued = |s: &Value, k: &str| s["tokens_issued"][k].as_u64().unwrap();
    assert_eq!(
        issued(&after, "pre_auth_code"),
        issued(&before, "pre_auth_code"),
        "no new authorization was started"
    );
    assert_eq!(
        issued(&after, "authorizer"),
        issued(&before, "authorizer") + 1,
        "the restored refresh token got one authorizer token"
    );
    let sends = |s: &Value| {
        s["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["appid"] == oa.as_str())
            .unwrap()["sends"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(sends(&after), sends(&before) + 1, "the sim got the message");
    assert!(data_dir.join(DB_FILE).exists());
}
