//! The sandbox with the real OS keychain (Secret Service): its secrets land in the keychain,
//! the connection check passes through them, and none of them is in the SQLite file. Runs under
//! `scripts/with-keyring.sh` (WXDESK_TEST_KEYCHAIN=1); without it the test says so and returns.
#![allow(clippy::unwrap_used)]

use wxdesk_core::context::Context;
use wxdesk_core::sandbox::start_sandbox;
use wxdesk_core::secrets::SecretKey;
use wxdesk_core::store::DB_FILE;

#[tokio::test]
#[ignore = "needs the OS keychain: WXDESK_TEST_KEYCHAIN=1 scripts/with-keyring.sh cargo test -- --include-ignored"]
async fn sandbox_secrets_live_in_the_real_keychain_and_not_in_sqlite() {
    assert!(
        std::env::var_os("WXDESK_TEST_KEYCHAIN").is_some(),
        "needs the OS keychain: run under scripts/with-keyring.sh with WXDESK_TEST_KEYCHAIN=1"
    );
    let dir = tempfile::tempdir().unwrap();
    let ctx = Context::open(dir.path()).await.unwrap();
    let sandbox = start_sandbox(&ctx.platform, dir.path()).await.unwrap();
    let view = ctx.platform.load_settings().await.unwrap();
    assert!(view.appsecret_saved && view.token_saved && view.aes_key_saved && view.relay_key_saved);

    // A second handle on the same data dir (the CLI) sees the same keychain entries.
    let again = Context::open(dir.path()).await.unwrap();
    let key = again
        .platform
        .secrets()
        .get(SecretKey::RelayKey)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(key.expose().len(), 48);
    let relay = ctx.platform.relay().await.unwrap();
    for _ in 0..200 {
        if relay.fetch_ticket().await.unwrap().is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let steps = again.platform.check_connection().await;
    assert!(steps.iter().all(|s| s.ok), "{steps:#?}");

    // The component token is shared with other processes through the keychain; a restarted
    // sandbox runs a new simulator that never issued it, so it is forgotten.
    let shared = SecretKey::ComponentAccessToken(wxdesk_sim::SANDBOX_COMPONENT_APPID.into());
    ctx.platform
        .api()
        .await
        .unwrap()
        .component_token()
        .await
        .unwrap();
    assert!(
        ctx.platform
            .secrets()
            .get(shared.clone())
            .await
            .unwrap()
            .is_some()
    );
    sandbox.shutdown().await;
    let sandbox = start_sandbox(&ctx.platform, dir.path()).await.unwrap();
    assert!(
        ctx.platform
            .secrets()
            .get(shared.clone())
            .await
            .unwrap()
            .is_none()
    );
    for _ in 0..200 {
        if relay.fetch_ticket().await.is_ok_and(|t| t.is_some()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    ctx.platform
        .api()
        .await
        .unwrap()
        .component_token()
        .await
        .expect("a token from the new simulator");

    let mut db = std::fs::read(dir.path().join(DB_FILE)).unwrap();
    if let Ok(wal) = std::fs::read(dir.path().join(format!("{DB_FILE}-wal"))) {
        db.extend(wal);
    }
    for secret in [
        key.expose(),
        wxdesk_sim::SANDBOX_COMPONENT_APPSECRET,
        wxdesk_sim::SANDBOX_COMPONENT_AES_KEY,
    ] {
        assert!(!db.windows(secret.len()).any(|w| w == secret.as_bytes()));
    }
    for k in [
        SecretKey::ComponentAppsecret,
        SecretKey::ComponentToken,
        SecretKey::ComponentAesKey,
        SecretKey::RelayKey,
        shared,
    ] {
        ctx.platform.secrets().delete(k).await.unwrap();
    }
    sandbox.shutdown().await;
}
