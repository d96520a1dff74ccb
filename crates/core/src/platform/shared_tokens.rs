//! Access tokens shared by every process on one data dir (the app and the CLI), so a token is
//! refreshed once, not once per process — and an authorizer's refresh token is never rotated
//! out from under a peer that is refreshing with the old one.
//!
//! * The tokens live in the OS keychain next to the refresh tokens (they are secrets: never in
//!   SQLite, never in a log). The expiry is kept inside the same keychain value
//!   (`v1 <expires_at> <expires_in> <token>`), so a reader can never pair a token with another
//!   token's expiry, as it could with a separate expiry file written at another moment.
//! * The cross-process section is an advisory lock on `<data dir>/locks/token-<kind>-<appid>.lock`,
//!   released by the OS when the holder exits, even by SIGKILL. The wait polls `try_lock`
//!   rather than blocking a thread in `File::lock`, so giving up after the timeout leaves no
//!   thread stuck behind a hung peer.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use wxdesk_wechat::token::{BoxFuture, SharedLockGuard, SharedToken, SharedTokens, TokenKey};

use crate::secrets::{Secret, SecretKey, Secrets};

/// The lock files' directory inside the data dir.
pub const LOCK_DIR: &str = "locks";

/// How long a process waits for a peer's refresh before giving up with an error. A refresh is
/// one or two HTTP calls with their own timeouts; 30 s means the peer is stuck.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(30);

/// Between two attempts at a held lock.
const POLL: Duration = Duration::from_millis(10);

/// The keychain-and-lock-file implementation of the token cache's [`SharedTokens`].
#[derive(Debug, Clone)]
pub struct KeychainSharedTokens {
    secrets: Secrets,
    lock_dir: PathBuf,
    timeout: Duration,
}

impl KeychainSharedTokens {
    pub fn new(secrets: Secrets, data_dir: &Path) -> Self {
        KeychainSharedTokens {
            secrets,
            lock_dir: data_dir.join(LOCK_DIR),
            timeout: DEFAULT_LOCK_TIMEOUT,
        }
    }

    #[must_use]
    pub fn with_lock_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The lock file of one token.
    pub fn lock_path(&self, key: &TokenKey) -> PathBuf {
        self.lock_dir.join(format!(
            "token-{}-{}.lock",
            key.kind(),
            file_safe(key.appid())
        ))
    }
}

/// Appids are `[A-Za-z0-9_]`; anything else is hex-encoded so it cannot leave the directory.
fn file_safe(appid: &str) -> String {
    if !appid.is_empty()
        && appid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        appid.to_string()
    } else {
        format!("x{}", hex::encode(appid.as_bytes()))
    }
}

fn secret_key(key: &TokenKey) -> SecretKey {
    match key {
        TokenKey::Component(a) => SecretKey::ComponentAccessToken(a.clone()),
        TokenKey::Authorizer(a) => SecretKey::AuthorizerAccessToken(a.clone()),
        TokenKey::Client(a) => SecretKey::ClientAccessToken(a.clone()),
    }
}

fn encode(t: &SharedToken) -> Secret {
    Secret::new(format!(
        "v1 {} {} {}",
        t.expires_at,
        t.expires_in,
        t.value.expose()
    ))
}

/// `None` for a value this version cannot read (the cache then refreshes and overwrites it).
fn decode(v: &Secret) -> Option<SharedToken> {
    let mut parts = v.expose().splitn(4, ' ');
    if parts.next()? != "v1" {
        return None;
    }
    let expires_at = parts.next()?.parse().ok()?;
    let expires_in = parts.next()?.parse().ok()?;
    let token = parts.next().filter(|t| !t.is_empty())?;
    Some(SharedToken {
        value: Secret::new(token),
        expires_at,
        expires_in,
    })
}

fn store_err(e: crate::Error) -> wxdesk_wechat::Error {
    // Keychain and I/O errors carry no secret.
    wxdesk_wechat::Error::Store(e.to_string())
}

fn io_err(path: &Path, e: &std::io::Error) -> wxdesk_wechat::Error {
    wxdesk_wechat::Error::Store(format!("令牌锁文件 {} 无法使用：{e}", path.display()))
}

/// The pid a holder wrote into the lock file, for the timeout message.
fn holder_of(path: &Path) -> Option<u32> {
    let mut s = String::new();
    File::open(path).ok()?.read_to_string(&mut s).ok()?;
    s.trim().parse().ok()
}

/// Opens (creating) the lock file and waits for it, polling, at most `timeout`.
async fn acquire(path: PathBuf, timeout: Duration) -> wxdesk_wechat::Result<File> {
    // Private to this user, like the rest of the data dir (`store::private`).
    if let Some(dir) = path.parent() {
        crate::store::private::private_dir(dir).map_err(|e| io_err(dir, &e))?;
    }
    let mut file = crate::store::private::open_private(
        &path,
        OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true),
    )
    .map_err(|e| io_err(&path, &e))?;
    let started = Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(TryLockError::WouldBlock) if started.elapsed() < timeout => {
                tokio::time::sleep(POLL).await;
            }
            Err(TryLockError::WouldBlock) => {
                let who = holder_of(&path).map_or_else(String::new, |p| format!("（进程 {p}）"));
                return Err(wxdesk_wechat::Error::Store(format!(
                    "另一个 wxdesk 进程{who}刷新访问令牌已超过 {} 秒仍未完成，请检查或结束它后重试；锁文件 {} (another wxdesk process has held the token refresh lock too long)",
                    timeout.as_secs(),
                    path.display()
                )));
            }
            Err(TryLockError::Error(e)) => return Err(io_err(&path, &e)),
        }
    }
    // Who holds it, for a peer's timeout message; the lock is what matters, so a failed write
    // is ignored.
    let _ = file
        .set_len(0)
        .and_then(|()| file.rewind())
        .and_then(|()| writeln!(file, "{}", std::process::id()));
    Ok(file)
}

impl SharedTokens for KeychainSharedTokens {
    fn load<'a>(
        &'a self,
        key: &'a TokenKey,
    ) -> BoxFuture<'a, wxdesk_wechat::Result<Option<SharedToken>>> {
        Box::pin(async move {
            let v = self.secrets.get(secret_key(key)).await.map_err(store_err)?;
            Ok(v.as_ref().and_then(decode))
        })
    }

    fn store<'a>(
        &'a self,
        key: &'a TokenKey,
        token: &'a SharedToken,
    ) -> BoxFuture<'a, wxdesk_wechat::Result<()>> {
        Box::pin(async move {
            self.secrets
                .set(secret_key(key), encode(token))
                .await
                .map_err(store_err)
        })
    }

    fn remove<'a>(&'a self, key: &'a TokenKey) -> BoxFuture<'a, wxdesk_wechat::Result<()>> {
        Box::pin(async move {
            self.secrets
                .delete(secret_key(key))
                .await
                .map_err(store_err)
        })
    }

    fn lock<'a>(
        &'a self,
        key: &'a TokenKey,
    ) -> BoxFuture<'a, wxdesk_wechat::Result<SharedLockGuard>> {
        let path = self.lock_path(key);
        let timeout = self.timeout;
        Box::pin(async move { Ok(SharedLockGuard::new(acquire(path, timeout).await?)) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(v: &str, at: i64) -> SharedToken {
        SharedToken {
            value: Secret::new(v),
            expires_at: at,
            expires_in: 7200,
        }
    }

    #[tokio::test]
    async fn tokens_round_trip_through_the_keychain_with_their_expiry() {
        let dir = tempfile::tempdir().unwrap();
        let secrets = Secrets::memory();
        let h = KeychainSharedTokens::new(secrets.clone(), dir.path());
        let key = TokenKey::Authorizer("wxa".into());
        assert_eq!(h.load(&key).await.unwrap(), None);
        // A token with spaces survives (splitn keeps the rest whole).
        let t = token("aat_1 with space", 1_800_000_000);
        h.store(&key, &t).await.unwrap();
        assert_eq!(h.load(&key).await.unwrap(), Some(t));
        assert_eq!(
            secrets
                .get(SecretKey::AuthorizerAccessToken("wxa".into()))
                .await
                .unwrap()
                .unwrap()
                .expose(),
            "v1 1800000000 7200 aat_1 with space"
        );
        // Each kind has its own entry.
        assert_eq!(
            h.load(&TokenKey::Component("wxa".into())).await.unwrap(),
            None
        );
        h.remove(&key).await.unwrap();
        assert_eq!(h.load(&key).await.unwrap(), None);
    }

    #[tokio::test]
    async fn forgetting_an_authorizer_drops_its_shared_access_token_too() {
        let dir = tempfile::tempdir().unwrap();
        let secrets = Secrets::memory();
        let platform = crate::platform::Platform::new(
            crate::store::Store::open_in_memory().unwrap(),
            secrets.clone(),
        )
        .sharing_tokens_in(dir.path());
        let h = KeychainSharedTokens::new(secrets.clone(), dir.path());
        let key = TokenKey::Authorizer("wxa".into());
        h.store(&key, &token("aat", 1_800_000_000)).await.unwrap();
        secrets
            .set(SecretKey::RefreshToken("wxa".into()), Secret::new("rt"))
            .await
            .unwrap();
        // No API connection was ever built in this process: the keychain entry still goes.
        platform.forget_authorizer("wxa").await.unwrap();
        assert_eq!(h.load(&key).await.unwrap(), None);
        assert!(
            secrets
                .get(SecretKey::RefreshToken("wxa".into()))
                .await
                .unwrap()
                .is_none()
        );
    }

    #[tokio::test]
    async fn an_unreadable_value_counts_as_absent() {
        let dir = tempfile::tempdir().unwrap();
        let secrets = Secrets::memory();
        let h = KeychainSharedTokens::new(secrets.clone(), dir.path());
        for junk in [
            "",
            "v2 1 2 t",
            "v1 x 7200 t",
            "v1 1 7200",
            "v1 1 7200 ",
            "token",
        ] {
            secrets
                .set(
                    SecretKey::ClientAccessToken("wx1".into()),
                    Secret::new(junk),
                )
                .await
                .unwrap();
            assert_eq!(
                h.load(&TokenKey::Client("wx1".into())).await.unwrap(),
                None,
                "{junk:?}"
            );
        }
    }

    #[test]
    fn lock_files_are_named_by_kind_and_appid_inside_the_data_dir() {
        let h = KeychainSharedTokens::new(Secrets::memory(), Path::new("/data"));
        assert_eq!(
            h.lock_path(&TokenKey::Authorizer("wx_a1".into())),
            Path::new("/data/locks/token-authorizer-wx_a1.lock")
        );
        assert_eq!(
            h.lock_path(&TokenKey::Component("../x".into())),
            Path::new("/data/locks/token-component-x2e2e2f78.lock")
        );
    }

    #[tokio::test]
    async fn the_lock_excludes_a_second_holder_until_released_and_times_out_clearly() {
        let dir = tempfile::tempdir().unwrap();
        let h = KeychainSharedTokens::new(Secrets::memory(), dir.path())
            .with_lock_timeout(Duration::from_millis(50));
        let key = TokenKey::Component("wxc".into());
        let held = h.lock(&key).await.unwrap();
        // A second open file description, as another process has: refused after the timeout,
        // naming the holder.
        let err = h.lock(&key).await.unwrap_err().to_string();
        assert!(
            err.contains(&format!("（进程 {}）", std::process::id())),
            "{err}"
        );
        assert!(err.contains("token-component-wxc.lock"), "{err}");
        // Another token's lock is independent.
        let other = h.lock(&TokenKey::Authorizer("wxa".into())).await.unwrap();
        drop(held);
        let again = h.lock(&key).await.unwrap();
        drop((again, other));
    }
}
