//! Encrypted workspace backup: the SQLite database (a consistent `VACUUM INTO` snapshot) and
//! every keychain secret of the data dir (platform secret, token, EncodingAESKey, relay key and
//! each account's refresh token) in one file, sealed with a passphrase.
//!
//! Losing the refresh tokens means every client account must be authorized again, so the backup
//! carries them; that is also why the file is encrypted as a whole and nothing in it is readable
//! without the passphrase.
//!
//! File layout (all integers little-endian):
//! `"WXDESKBK"` · version u8 (=1) · argon2id m_cost KiB u32 · t_cost u32 · p_cost u32 ·
//! salt [16] · nonce [24] · XChaCha20-Poly1305 ciphertext (the header above is its AAD).
//! The plaintext is `manifest_len u32` · manifest JSON (format, created_at, secrets) · database.
//!
//! Import decrypts and checks everything before it writes anything: a wrong passphrase, a
//! tampered or truncated file, or a target that already holds a workspace is refused and the
//! target is left as it was. [`import`] writes a new data dir (the CLI); [`restore_into_empty`]
//! replaces the open, empty workspace of a running app (see `live`).

use std::io::Write;
use std::path::{Path, PathBuf};

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

use crate::error::{Error, Result};
use crate::secrets::{Secret, SecretKey, Secrets};
use crate::store::{DB_FILE, Store, private};

mod handle;
mod live;
#[cfg(test)]
mod tests;

pub use handle::{Backup, BackupReport, BackupStatus, MIN_PASSPHRASE_CHARS, check_passphrase};
pub use live::{WorkspaceContents, restore_into_empty, workspace_contents};

const MAGIC: &[u8; 8] = b"WXDESKBK";
const VERSION: u8 = 1;
const HEADER_LEN: usize = 8 + 1 + 12 + 16 + 24;
/// Refuse KDF settings beyond these on import: a crafted header must not make us allocate
/// gigabytes or spin for minutes before the AEAD check can fail.
const MAX_M_COST_KIB: u32 = 1024 * 1024;
const MAX_T_COST: u32 = 16;
const MAX_P_COST: u32 = 8;

/// The refusal for every decrypt failure: AEAD cannot tell a wrong passphrase from a changed
/// byte, and saying which would help an attacker.
fn refused() -> Error {
    invalid(
        "备份口令错误，或备份文件已被修改/损坏；未做任何更改",
        "Wrong passphrase, or the backup file was changed or damaged; nothing was changed.",
    )
}

/// Argon2id cost; the defaults follow OWASP's current argon2id guidance with room to spare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    pub m_cost_kib: u32,
    pub t_cost: u32,
    pub p_cost: u32,
}

impl Default for KdfParams {
    fn default() -> Self {
        KdfParams {
            m_cost_kib: 64 * 1024,
            t_cost: 3,
            p_cost: 1,
        }
    }
}

/// What a backup held (counts only: never a value).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct BackupSummary {
    /// Unix seconds when the backup was made.
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub created_at: i64,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub database_bytes: u64,
    /// Keychain entries in the backup (platform secrets and refresh tokens).
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub secrets: usize,
    /// Accounts whose refresh token is in the backup.
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub accounts_with_refresh_token: usize,
}

#[derive(Serialize, Deserialize)]
struct Manifest {
    format: u32,
    created_at: i64,
    /// (keychain name as in `SecretKey::name`, value).
    secrets: Vec<(String, String)>,
}

/// The manifest carries every secret in plain strings: wiped when it goes.
impl Drop for Manifest {
    fn drop(&mut self) {
        for (_, value) in &mut self.secrets {
            value.zeroize();
        }
    }
}

fn invalid(zh: impl Into<String>, en: impl Into<String>) -> Error {
    Error::input(zh, en)
}

/// A file operation that failed; `what` is (Chinese, English).
fn io(what: (&str, &str), path: &Path, e: &std::io::Error) -> Error {
    invalid(
        format!("{} {}：{e}", what.0, path.display()),
        format!("{} {}: {e}", what.1, path.display()),
    )
}

const READ_BACKUP: (&str, &str) = ("无法读取备份文件", "Cannot read the backup file");
const WRITE_BACKUP: (&str, &str) = ("无法写入备份文件", "Cannot write the backup file");
const WRITE: (&str, &str) = ("无法写入", "Cannot write");

fn malformed() -> Error {
    invalid(
        "备份内容格式错误；未做任何更改",
        "The backup's contents are malformed; nothing was changed.",
    )
}

fn unreadable_database() -> Error {
    invalid(
        "备份中的数据库无法打开；未做任何更改",
        "The database in the backup cannot be opened; nothing was changed.",
    )
}

fn derive_key(passphrase: &str, salt: &[u8], kdf: KdfParams) -> Result<Zeroizing<[u8; 32]>> {
    if passphrase.is_empty() {
        return Err(invalid(
            "备份口令不能为空",
            "The backup passphrase cannot be empty.",
        ));
    }
    let params = Params::new(kdf.m_cost_kib, kdf.t_cost, kdf.p_cost, Some(32)).map_err(|_| {
        invalid(
            "备份文件的密钥参数无效",
            "The backup file's key-derivation parameters are invalid.",
        )
    })?;
    let mut key = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(passphrase.as_bytes(), salt, key.as_mut())
        .map_err(|_| {
            invalid(
                "无法由口令派生密钥",
                "The key could not be derived from the passphrase.",
            )
        })?;
    Ok(key)
}

fn header(kdf: KdfParams, salt: &[u8; 16], nonce: &[u8; 24]) -> Vec<u8> {
    let mut h = Vec::with_capacity(HEADER_LEN);
    h.extend_from_slice(MAGIC);
    h.push(VERSION);
    h.extend_from_slice(&kdf.m_cost_kib.to_le_bytes());
    h.extend_from_slice(&kdf.t_cost.to_le_bytes());
    h.extend_from_slice(&kdf.p_cost.to_le_bytes());
    h.extend_from_slice(salt);
    h.extend_from_slice(nonce);
    h
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(a)
}

/// The keychain entries a workspace has: the platform's four and one refresh token per account.
async fn secret_keys(store: &Store) -> Result<Vec<SecretKey>> {
    let appids: Vec<String> = store
        .call(|c| {
            let mut s = c.prepare("SELECT appid FROM accounts ORDER BY appid")?;
            let v = s
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(v)
        })
        .await?;
    let mut keys = vec![
        SecretKey::ComponentAppsecret,
        SecretKey::ComponentToken,
        SecretKey::ComponentAesKey,
        SecretKey::RelayKey,
    ];
    keys.extend(appids.into_iter().map(SecretKey::RefreshToken));
    Ok(keys)
}

fn key_from_name(name: &str) -> Option<SecretKey> {
    Some(match name {
        "component_appsecret" => SecretKey::ComponentAppsecret,
        "component_token" => SecretKey::ComponentToken,
        "component_aes_key" => SecretKey::ComponentAesKey,
        "relay_key" => SecretKey::RelayKey,
        other => SecretKey::RefreshToken(other.strip_prefix("refresh_token:")?.to_string()),
    })
}

/// Writes the workspace of `store` + `secrets` to `out`, encrypted with `passphrase`.
///
/// No plaintext copy of the database is written outside the data dir: the snapshot is taken
/// inside it (private, like the database) and removed. The encrypted file is written under a
/// temporary name in `out`'s directory, fsynced, renamed over `out` and the directory fsynced,
/// so when this returns the backup is on disk, and a crash at any point leaves either no file or
/// the previous one under `out`, never half a backup.
pub async fn export(
    store: &Store,
    secrets: &Secrets,
    passphrase: &str,
    kdf: KdfParams,
    out: &Path,
) -> Result<BackupSummary> {
    let db = snapshot(store).await?;

    let mut entries = Vec::new();
    let mut refresh = 0;
    for key in secret_keys(store).await? {
        if let Some(v) = secrets.get(key.clone()).await?
            && !v.is_empty()
        {
            refresh += usize::from(matches!(key, SecretKey::RefreshToken(_)));
            entries.push((key.name(), v.expose().to_string()));
        }
    }
    let created_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let summary = BackupSummary {
        created_at,
        database_bytes: db.len() as u64,
        secrets: entries.len(),
        accounts_with_refresh_token: refresh,
    };
    // Argon2 takes about a second at the default cost: off the async workers.
    let pass = Zeroizing::new(passphrase.to_string());
    let manifest = Manifest {
        format: 1,
        created_at,
        secrets: entries,
    };
    let file = tokio::task::spawn_blocking(move || seal(&manifest, &db, &pass, kdf)).await??;
    let out = out.to_path_buf();
    tokio::task::spawn_blocking(move || write_durably(&out, &file)).await??;
    Ok(summary)
}

/// A consistent image of the database while the app keeps running: `VACUUM INTO` writes a
/// compact copy in one read transaction. The copy is plaintext, so it is made inside the data
/// dir (private to the user, next to the database it copies) as a 0600 file, read and removed
/// whatever happens.
async fn snapshot(store: &Store) -> Result<Vec<u8>> {
    let dir = store
        .path()
        .and_then(Path::parent)
        .ok_or_else(|| {
            invalid(
                "只能备份数据目录中的数据库",
                "Only a database in a data directory can be backed up.",
            )
        })?
        .to_path_buf();
    let mut scratch = live::Scratch::default();
    let snap = scratch.path(&dir, "backup");
    // VACUUM INTO fills an empty file it finds; created here first so it is 0600 from the start.
    private::open_private(
        &snap,
        std::fs::OpenOptions::new().write(true).create_new(true),
    )
    .map_err(|e| io(("无法创建快照", "Cannot create the snapshot"), &snap, &e))?;
    let target = snap.clone();
    store
        .call(move |c| {
            c.execute("VACUUM INTO ?1", [target.to_string_lossy().as_ref()])?;
            Ok(())
        })
        .await?;
    let db = std::fs::read(&snap)
        .map_err(|e| io(("无法读取快照", "Cannot read the snapshot"), &snap, &e))?;
    drop(scratch);
    Ok(db)
}

/// `bytes` under `out`, all or nothing, on disk when this returns.
fn write_durably(out: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match out.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = out.file_name().ok_or_else(|| {
        invalid(
            format!("备份文件名无效：{}", out.display()),
            format!("Not a file name for the backup: {}", out.display()),
        )
    })?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mut part_name = std::ffi::OsString::from(".");
    part_name.push(name);
    part_name.push(format!(".{}-{nanos}.part", std::process::id()));
    let part = dir.join(part_name);
    let written = (|| {
        // Only the owner reads a backup file: it is encrypted, but a copy for anyone to take
        // home invites an offline guess at the passphrase.
        let mut f = private::open_private(
            &part,
            std::fs::OpenOptions::new().write(true).create_new(true),
        )?;
        f.write_all(bytes)?;
        // Durable: the content is on disk before the name points at it.
        f.sync_all()
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&part);
        return Err(io(WRITE_BACKUP, &part, &e));
    }
    if let Err(e) = std::fs::rename(&part, out) {
        let _ = std::fs::remove_file(&part);
        return Err(io(WRITE_BACKUP, out, &e));
    }
    // Durable: the rename itself is on disk (the directory entry) before we report success.
    sync_dir(&dir).map_err(|e| io(WRITE_BACKUP, &dir, &e))
}

/// fsync of a directory, so a rename or a new file in it survives a power loss. Windows has no
/// directory handle to sync (NTFS journals the rename itself).
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        std::fs::File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// Encrypts a manifest and a database image into the backup file format.
fn seal(manifest: &Manifest, db: &[u8], passphrase: &str, kdf: KdfParams) -> Result<Vec<u8>> {
    let manifest = Zeroizing::new(serde_json::to_vec(manifest).map_err(|e| {
        invalid(
            format!("无法编码备份清单：{e}"),
            format!("The backup manifest cannot be encoded: {e}"),
        )
    })?);
    let manifest_len = u32::try_from(manifest.len())
        .map_err(|_| invalid("备份清单过大", "The backup manifest is too large."))?;
    // The plaintext holds every secret: wiped when it goes (the capacity is exact, so it
    // never reallocates and leaves a copy behind).
    let mut plain = Zeroizing::new(Vec::with_capacity(4 + manifest.len() + db.len()));
    plain.extend_from_slice(&manifest_len.to_le_bytes());
    plain.extend_from_slice(&manifest);
    plain.extend_from_slice(db);
    drop(manifest);

    let mut salt = [0u8; 16];
    let mut nonce = [0u8; 24];
    rand::rng().fill_bytes(&mut salt);
    rand::rng().fill_bytes(&mut nonce);
    let key = derive_key(passphrase, &salt, kdf)?;
    let head = header(kdf, &salt, &nonce);
    let sealed = XChaCha20Poly1305::new(Key::from_slice(key.as_ref()))
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: plain.as_slice(),
                aad: &head,
            },
        )
        .map_err(|_| invalid("加密失败", "Encryption failed."))?;
    let mut file = head;
    file.extend_from_slice(&sealed);
    Ok(file)
}

/// Decrypts and validates a backup; nothing is written. The plaintext is wiped once the manifest
/// (itself wiped on drop) and the database image are taken out of it.
fn open_backup(bytes: &[u8], passphrase: &str) -> Result<(Manifest, Vec<u8>)> {
    if bytes.len() < HEADER_LEN + 16 || &bytes[..8] != MAGIC {
        return Err(invalid(
            "这不是 wxdesk 备份文件，或文件已损坏；未做任何更改",
            "This is not a wxdesk backup, or the file is damaged; nothing was changed.",
        ));
    }
    if bytes[8] != VERSION {
        return Err(invalid(
            format!("备份文件版本 {} 不受支持，请升级 wxdesk", bytes[8]),
            format!(
                "Backup format version {} is not supported: update wxdesk.",
                bytes[8]
            ),
        ));
    }
    let kdf = KdfParams {
        m_cost_kib: u32_at(bytes, 9),
        t_cost: u32_at(bytes, 13),
        p_cost: u32_at(bytes, 17),
    };
    if kdf.m_cost_kib > MAX_M_COST_KIB || kdf.t_cost > MAX_T_COST || kdf.p_cost > MAX_P_COST {
        return Err(refused());
    }
    let salt = &bytes[21..37];
    let nonce = &bytes[37..HEADER_LEN];
    let key = derive_key(passphrase, salt, kdf)?;
    let plain = XChaCha20Poly1305::new(Key::from_slice(key.as_ref()))
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: &bytes[HEADER_LEN..],
                aad: &bytes[..HEADER_LEN],
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| refused())?;
    // Authenticated from here on: a malformed inside means our own bug or another version.
    let bad = malformed;
    if plain.len() < 4 {
        return Err(bad());
    }
    let mlen = u32_at(&plain, 0) as usize;
    let manifest: Manifest = plain
        .get(4..4 + mlen)
        .and_then(|m| serde_json::from_slice(m).ok())
        .ok_or_else(bad)?;
    if manifest.format != 1 {
        return Err(bad());
    }
    Ok((manifest, plain[4 + mlen..].to_vec()))
}

/// Restores a backup into `data_dir` (which must not hold a workspace yet) and `secrets` (its
/// keychain namespace). On any refusal the data dir and keychain are left unchanged.
pub async fn import(
    data_dir: &Path,
    secrets: &Secrets,
    passphrase: &str,
    file: &Path,
) -> Result<BackupSummary> {
    let bytes = std::fs::read(file).map_err(|e| io(READ_BACKUP, file, &e))?;
    let pass = Zeroizing::new(passphrase.to_string());
    let (manifest, db) = tokio::task::spawn_blocking(move || open_backup(&bytes, &pass)).await??;
    let target = data_dir.join(DB_FILE);
    if target.exists() {
        return Err(invalid(
            format!(
                "数据目录 {} 已有工作区；请导入到新的空数据目录，未做任何更改",
                data_dir.display()
            ),
            format!(
                "The data directory {} already holds a workspace: import into a new, empty one. \
                 Nothing was changed.",
                data_dir.display()
            ),
        ));
    }
    let keys = manifest_keys(&manifest)?;
    private::private_dir(data_dir).map_err(|source| Error::DataDir {
        path: data_dir.display().to_string(),
        source,
    })?;
    // The database goes in under a temporary name and must open and migrate before it takes
    // the real name; then the secrets. Any failure removes what was written.
    let staged = data_dir.join(format!("{DB_FILE}.restore"));
    write_private(&staged, &db).map_err(|e| io(WRITE, &staged, &e))?;
    let checked = {
        let staged = staged.clone();
        tokio::task::spawn_blocking(move || {
            let c = rusqlite::Connection::open(&staged)?;
            let ok: String = c.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
            Ok::<bool, Error>(ok == "ok")
        })
        .await?
    };
    if !matches!(checked, Ok(true)) {
        let _ = std::fs::remove_file(&staged);
        return Err(unreadable_database());
    }
    std::fs::rename(&staged, &target).map_err(|e| io(WRITE, &target, &e))?;
    let mut written = Vec::new();
    for (key, value) in keys {
        if let Err(e) = secrets.set(key.clone(), value).await {
            for k in written {
                let _ = secrets.delete(k).await;
            }
            let _ = std::fs::remove_file(&target);
            return Err(e);
        }
        written.push(key);
    }
    Ok(manifest.summary(db.len()))
}

/// A new (or replaced) file only this user can read: a database image from a backup.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = private::open_private(
        path,
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true),
    )?;
    f.write_all(bytes)
}

impl Manifest {
    fn summary(&self, database_bytes: usize) -> BackupSummary {
        BackupSummary {
            created_at: self.created_at,
            database_bytes: database_bytes as u64,
            secrets: self.secrets.len(),
            accounts_with_refresh_token: self
                .secrets
                .iter()
                .filter(|(n, _)| n.starts_with("refresh_token:"))
                .count(),
        }
    }
}

/// The keychain entries a backup carries, checked before anything is written.
fn manifest_keys(manifest: &Manifest) -> Result<Vec<(SecretKey, Secret)>> {
    manifest
        .secrets
        .iter()
        .map(|(name, value)| {
            key_from_name(name)
                .map(|k| (k, Secret::new(value.clone())))
                .ok_or_else(malformed)
        })
        .collect()
}
