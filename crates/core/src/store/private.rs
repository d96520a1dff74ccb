//! The data dir and its files are readable by this OS user only. The database holds every
//! client's accounts, recipient lists and send history, and the lock files name the running
//! processes; on a shared machine (a jump host, an office PC with several logins) the default
//! umask would leave all of that world-readable. On Unix the directory is 0700 and the files
//! 0600 whatever the umask, and an existing wider directory or file is tightened. Elsewhere the
//! per-user profile folder is private already and nothing is changed.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

/// Creates `dir` (and any missing parent) private to this user, and tightens it if it exists
/// with wider permissions. A shared sticky directory such as `/tmp` used as the data dir itself
/// is left alone (with a warning): changing it would break the machine, not protect us.
pub fn private_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        let mode = std::fs::metadata(dir)?.permissions().mode();
        if mode & 0o077 != 0 {
            if mode & 0o1000 != 0 {
                tracing::warn!(dir = %dir.display(), "the data dir is a shared sticky directory; leaving its permissions as they are");
            } else if let Err(e) =
                std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            {
                // Not ours to change (another owner): the files inside are still 0600.
                tracing::warn!(dir = %dir.display(), error = %e, "could not make the data dir private");
            }
        }
        Ok(())
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir)
    }
}

/// Opens `path` with `opts`, a newly created file as 0600; an existing file that others may read
/// is tightened first.
pub fn open_private(path: &Path, opts: &mut OpenOptions) -> io::Result<File> {
    tighten_file(path);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)
}

/// Makes an existing file 0600 when group or others have any access; a missing file is fine.
pub fn tighten_file(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let Ok(meta) = std::fs::metadata(path) else {
            return;
        };
        if meta.is_file() && meta.permissions().mode() & 0o077 != 0 {
            let tightened = meta.permissions().mode() & 0o700 | 0o600;
            if let Err(e) =
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(tightened))
            {
                tracing::warn!(file = %path.display(), error = %e, "could not make the file private");
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// Before SQLite opens `db`: creates it empty as 0600 if it is new, and tightens it and its
/// companions. SQLite creates a database with 0644 and gives the `-wal`, `-shm` and `-journal`
/// files the database file's own mode, so a private database file keeps them private too.
pub fn prepare_database_file(db: &Path) -> io::Result<()> {
    match open_private(db, OpenOptions::new().write(true).create_new(true)) {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        tighten_file(Path::new(&p));
    }
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use wxdesk_wechat::token::{SharedTokens, TokenKey};

    use super::*;
    use crate::context::Context;
    use crate::platform::shared_tokens::{KeychainSharedTokens, LOCK_DIR};
    use crate::secrets::Secrets;
    use crate::send::host::{SEND_LOCK_FILE, SendLock};
    use crate::store::DB_FILE;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
    }

    fn companion(db: &Path, suffix: &str) -> std::path::PathBuf {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        p.into()
    }

    #[tokio::test]
    async fn a_fresh_data_dir_and_its_database_files_are_private() {
        let root = tempfile::tempdir().unwrap();
        // The parent is world-readable, as a home directory often is: the data dir must not be.
        std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let dir = root.path().join("nested").join("data");
        let ctx = Context::open_with_secrets(&dir, Secrets::memory())
            .await
            .unwrap();
        // A write, so the WAL and the shared-memory index exist.
        ctx.store
            .call(|c| crate::store::audit::record(c, "test", None, ""))
            .await
            .unwrap();
        assert_eq!(mode(&dir), 0o700);
        let db = dir.join(DB_FILE);
        for p in [db.clone(), companion(&db, "-wal"), companion(&db, "-shm")] {
            assert_eq!(mode(&p), 0o600, "{}", p.display());
        }

        let _sending = SendLock::try_acquire(&dir, Some(1)).unwrap().unwrap();
        assert_eq!(mode(&dir.join(SEND_LOCK_FILE)), 0o600);
        let tokens = KeychainSharedTokens::new(Secrets::memory(), &dir);
        let key = TokenKey::Component("wx0123456789abcdef".into());
        let _refreshing = tokens.lock(&key).await.unwrap();
        assert_eq!(mode(&dir.join(LOCK_DIR)), 0o700);
        assert_eq!(mode(&tokens.lock_path(&key)), 0o600);
    }

    #[tokio::test]
    async fn an_existing_wide_data_dir_and_database_are_tightened() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("data");
        {
            let store = crate::store::Store::open_in_dir(&dir).await.unwrap();
            store
                .call(|c| crate::store::audit::record(c, "test", None, ""))
                .await
                .unwrap();
        }
        let db = dir.join(DB_FILE);
        // As an older wxdesk (or a umask of 022) left them.
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::write(companion(&db, "-journal"), b"").unwrap();
        std::fs::set_permissions(
            companion(&db, "-journal"),
            std::fs::Permissions::from_mode(0o664),
        )
        .unwrap();

        let lock = dir.join(SEND_LOCK_FILE);
        std::fs::write(&lock, b"").unwrap();
        std::fs::set_permissions(&lock, std::fs::Permissions::from_mode(0o644)).unwrap();

        let _ctx = Context::open_with_secrets(&dir, Secrets::memory())
            .await
            .unwrap();
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&db), 0o600);
        assert_eq!(mode(&companion(&db, "-journal")), 0o600);
        drop(SendLock::try_acquire(&dir, None).unwrap().unwrap());
        assert_eq!(mode(&lock), 0o600);
    }

    #[test]
    fn a_sticky_shared_directory_is_not_changed() {
        let root = tempfile::tempdir().unwrap();
        let shared = root.path().join("shared");
        std::fs::create_dir(&shared).unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
        private_dir(&shared).unwrap();
        assert_eq!(mode(&shared), 0o1777);
    }
}
