//! Secrets behind one small trait: the OS keychain in the app ([`KeychainStore`], service
//! `wxdesk`), memory in unit tests ([`MemoryStore`]). Values travel as the redacting
//! [`Secret`]; nothing here logs a value or puts one in an error.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use sha1::{Digest, Sha1};
pub use wxdesk_wechat::Secret;

use crate::error::{Error, Result};

/// The keychain service name every entry is filed under.
pub const SERVICE: &str = "wxdesk";

/// What is kept in the keychain. The string forms are the keychain user names (after the
/// namespace prefix) and are a contract with the CLI, which reads the same entries.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SecretKey {
    ComponentAppsecret,
    ComponentToken,
    ComponentAesKey,
    RelayKey,
    /// authorizer_refresh_token of one authorized account.
    RefreshToken(String),
    /// The component_access_token of a platform (by component appid) with its expiry, shared by
    /// the processes on this data dir (see `platform::shared_tokens`).
    ComponentAccessToken(String),
    /// An authorized account's current authorizer_access_token with its expiry.
    AuthorizerAccessToken(String),
    /// An account's own (client_credential) access_token with its expiry.
    ClientAccessToken(String),
}

impl SecretKey {
    pub fn name(&self) -> String {
        match self {
            SecretKey::ComponentAppsecret => "component_appsecret".into(),
            SecretKey::ComponentToken => "component_token".into(),
            SecretKey::ComponentAesKey => "component_aes_key".into(),
            SecretKey::RelayKey => "relay_key".into(),
            SecretKey::RefreshToken(appid) => format!("refresh_token:{appid}"),
            SecretKey::ComponentAccessToken(appid) => format!("component_access_token:{appid}"),
            SecretKey::AuthorizerAccessToken(appid) => format!("authorizer_access_token:{appid}"),
            SecretKey::ClientAccessToken(appid) => format!("access_token:{appid}"),
        }
    }
}

/// A place to keep secrets. Calls may block (D-Bus, Keychain): async callers go through
/// [`Secrets`], which moves them to a blocking thread.
pub trait SecretStore: Send + Sync {
    fn get(&self, key: &SecretKey) -> Result<Option<Secret>>;
    fn set(&self, key: &SecretKey, value: &Secret) -> Result<()>;
    /// Deleting a missing entry is not an error.
    fn delete(&self, key: &SecretKey) -> Result<()>;
}

/// The cloneable async handle the services hold.
#[derive(Clone)]
pub struct Secrets(Arc<dyn SecretStore>);

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets")
    }
}

impl Secrets {
    pub fn new(store: Arc<dyn SecretStore>) -> Self {
        Secrets(store)
    }

    /// An empty in-memory store, for tests.
    pub fn memory() -> Self {
        Secrets(Arc::new(MemoryStore::default()))
    }

    pub async fn get(&self, key: SecretKey) -> Result<Option<Secret>> {
        let s = Arc::clone(&self.0);
        tokio::task::spawn_blocking(move || s.get(&key)).await?
    }

    pub async fn set(&self, key: SecretKey, value: Secret) -> Result<()> {
        let s = Arc::clone(&self.0);
        tokio::task::spawn_blocking(move || s.set(&key, &value)).await?
    }

    pub async fn delete(&self, key: SecretKey) -> Result<()> {
        let s = Arc::clone(&self.0);
        tokio::task::spawn_blocking(move || s.delete(&key)).await?
    }

    /// Whether a value is stored, without moving it anywhere.
    pub async fn is_set(&self, key: SecretKey) -> Result<bool> {
        Ok(self.get(key).await?.is_some_and(|s| !s.is_empty()))
    }
}

/// Secrets in process memory; for unit tests.
#[derive(Default)]
pub struct MemoryStore {
    map: Mutex<HashMap<String, Secret>>,
}

impl MemoryStore {
    /// Every value held, for tests that scan for leaks.
    pub fn values(&self) -> Vec<Secret> {
        self.map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect()
    }
}

impl SecretStore for MemoryStore {
    fn get(&self, key: &SecretKey) -> Result<Option<Secret>> {
        Ok(self
            .map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key.name())
            .cloned())
    }
    fn set(&self, key: &SecretKey, value: &Secret) -> Result<()> {
        self.map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key.name(), value.clone());
        Ok(())
    }
    fn delete(&self, key: &SecretKey) -> Result<()> {
        self.map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&key.name());
        Ok(())
    }
}

/// The OS keychain: Secret Service on Linux, Keychain on macOS, Credential Manager on Windows.
/// Entries are `service = "wxdesk"`, `user = "<namespace>/<key>"`; the namespace separates data
/// dirs (profiles, test runs) that share one login keychain.
pub struct KeychainStore {
    store: Arc<keyring_core::CredentialStore>,
    namespace: String,
}

impl KeychainStore {
    /// The platform's native store, namespaced for one data dir (a digest of its absolute path,
    /// so the app and the CLI pointed at the same directory share entries).
    pub fn for_data_dir(data_dir: &Path) -> Result<Self> {
        Self::with_namespace(&namespace_for(data_dir)?)
    }

    pub fn with_namespace(namespace: &str) -> Result<Self> {
        Ok(KeychainStore {
            store: native_store()?,
            namespace: namespace.to_string(),
        })
    }

    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    fn entry(&self, key: &SecretKey) -> Result<keyring_core::Entry> {
        let user = format!("{}/{}", self.namespace, key.name());
        Ok(self.store.build(SERVICE, &user, None)?)
    }
}

impl SecretStore for KeychainStore {
    fn get(&self, key: &SecretKey) -> Result<Option<Secret>> {
        match self.entry(key)?.get_password() {
            Ok(v) => Ok(Some(Secret::new(v))),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
    fn set(&self, key: &SecretKey, value: &Secret) -> Result<()> {
        Ok(self.entry(key)?.set_password(value.expose())?)
    }
    fn delete(&self, key: &SecretKey) -> Result<()> {
        match self.entry(key)?.delete_credential() {
            Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

/// 12 hex digits of the SHA-1 of the data dir's absolute path.
pub fn namespace_for(data_dir: &Path) -> Result<String> {
    let abs = std::path::absolute(data_dir).map_err(|source| Error::DataDir {
        path: data_dir.display().to_string(),
        source,
    })?;
    let digest = hex::encode(Sha1::digest(abs.to_string_lossy().as_bytes()));
    Ok(digest[..12].to_string())
}

#[cfg(target_os = "linux")]
fn native_store() -> Result<Arc<keyring_core::CredentialStore>> {
    Ok(zbus_secret_service_keyring_store::Store::new()?)
}

#[cfg(target_os = "macos")]
fn native_store() -> Result<Arc<keyring_core::CredentialStore>> {
    Ok(apple_native_keyring_store::keychain::Store::new()?)
}

#[cfg(target_os = "windows")]
fn native_store() -> Result<Arc<keyring_core::CredentialStore>> {
    Ok(windows_native_keyring_store::Store::new()?)
}

#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
fn native_store() -> Result<Arc<keyring_core::CredentialStore>> {
    Err(Error::Keychain("此平台没有受支持的系统钥匙串".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn round_trip(secrets: &Secrets) {
        let key = SecretKey::RefreshToken("wx_round_trip".into());
        assert!(secrets.get(key.clone()).await.unwrap().is_none());
        secrets
            .set(key.clone(), Secret::new("refreshtoken@@@one"))
            .await
            .unwrap();
        assert_eq!(
            secrets.get(key.clone()).await.unwrap().unwrap().expose(),
            "refreshtoken@@@one"
        );
        secrets
            .set(key.clone(), Secret::new("refreshtoken@@@two"))
            .await
            .unwrap();
        assert_eq!(
            secrets.get(key.clone()).await.unwrap().unwrap().expose(),
            "refreshtoken@@@two"
        );
        secrets.delete(key.clone()).await.unwrap();
        assert!(secrets.get(key.clone()).await.unwrap().is_none());
        secrets.delete(key).await.unwrap();
    }

    // Compile-time: every value the stores hand out wipes itself when dropped.
    const _: fn() = || {
        fn wiped_on_drop<T: zeroize::ZeroizeOnDrop>() {}
        wiped_on_drop::<Secret>();
    };

    #[tokio::test]
    async fn a_secret_read_back_can_be_wiped_without_touching_the_stored_one() {
        use zeroize::Zeroize;
        let secrets = Secrets::memory();
        secrets
            .set(SecretKey::RelayKey, Secret::new("relay-key-to-wipe"))
            .await
            .unwrap();
        let mut read = secrets.get(SecretKey::RelayKey).await.unwrap().unwrap();
        read.zeroize();
        assert!(read.is_empty());
        let again = secrets.get(SecretKey::RelayKey).await.unwrap().unwrap();
        assert_eq!(again.expose(), "relay-key-to-wipe");
    }

    #[test]
    fn key_names_are_the_documented_keychain_users() {
        assert_eq!(SecretKey::ComponentAppsecret.name(), "component_appsecret");
        assert_eq!(SecretKey::ComponentToken.name(), "component_token");
        assert_eq!(SecretKey::ComponentAesKey.name(), "component_aes_key");
        assert_eq!(SecretKey::RelayKey.name(), "relay_key");
        assert_eq!(
            SecretKey::RefreshToken("wxabc".into()).name(),
            "refresh_token:wxabc"
        );
        assert_eq!(
            SecretKey::ComponentAccessToken("wxc".into()).name(),
            "component_access_token:wxc"
        );
        assert_eq!(
            SecretKey::AuthorizerAccessToken("wxabc".into()).name(),
            "authorizer_access_token:wxabc"
        );
        assert_eq!(
            SecretKey::ClientAccessToken("wxabc".into()).name(),
            "access_token:wxabc"
        );
    }

    #[tokio::test]
    async fn memory_store_sets_overwrites_and_deletes() {
        round_trip(&Secrets::memory()).await;
    }

    /// Runs against the real Secret Service (`scripts/with-keyring.sh`, which sets
    /// WXDESK_TEST_KEYCHAIN=1). With the variable set it must pass — a missing Secret Service is
    /// a failure, not a skip.
    #[tokio::test]
    #[ignore = "needs the OS keychain: WXDESK_TEST_KEYCHAIN=1 scripts/with-keyring.sh cargo test -- --include-ignored"]
    async fn keychain_store_round_trips_in_the_real_secret_service() {
        assert!(
            std::env::var_os("WXDESK_TEST_KEYCHAIN").is_some(),
            "needs the OS keychain: run under scripts/with-keyring.sh with WXDESK_TEST_KEYCHAIN=1"
        );
        let dir = tempfile::tempdir().unwrap();
        let a = Secrets::new(Arc::new(KeychainStore::for_data_dir(dir.path()).unwrap()));
        round_trip(&a).await;

        // Two data dirs never see each other's entries.
        let other = tempfile::tempdir().unwrap();
        let b = Secrets::new(Arc::new(KeychainStore::for_data_dir(other.path()).unwrap()));
        a.set(SecretKey::RelayKey, Secret::new("relay-key-a"))
            .await
            .unwrap();
        assert!(b.get(SecretKey::RelayKey).await.unwrap().is_none());
        b.set(SecretKey::RelayKey, Secret::new("relay-key-b"))
            .await
            .unwrap();
        assert_eq!(
            a.get(SecretKey::RelayKey).await.unwrap().unwrap().expose(),
            "relay-key-a"
        );
        a.delete(SecretKey::RelayKey).await.unwrap();
        b.delete(SecretKey::RelayKey).await.unwrap();
    }

    #[test]
    fn the_same_dir_gives_the_same_namespace_and_a_different_dir_another() {
        let a1 = namespace_for(Path::new("/tmp/wxdesk-a")).unwrap();
        let a2 = namespace_for(Path::new("/tmp/wxdesk-a")).unwrap();
        let b = namespace_for(Path::new("/tmp/wxdesk-b")).unwrap();
        assert_eq!(a1, a2);
        assert_ne!(a1, b);
        assert_eq!(a1.len(), 12);
        assert!(a1.chars().all(|c| c.is_ascii_hexdigit()));
    }
}
