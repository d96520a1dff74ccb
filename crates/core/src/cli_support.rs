//! Small glue the app and the CLI need to drive the send engine with the platform's real
//! connection: the engine over `send::platform`'s wiring, the template's keyword rules as
//! [`FieldRule`]s, the delivery join for the feed, and a per-data-dir lock so only one process
//! runs the engine at a time. No logic of its own beyond wiring existing pieces together.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::platform::Platform;
use crate::send::{EngineConfig, FieldRule, SendEngine};
use crate::templates::Template;

/// The send engine over the saved platform: direct to `api_base`, or through the relay's egress
/// route with its key, as the settings say (the wiring lives in `send::platform`).
pub async fn send_engine(platform: &Platform, cfg: EngineConfig) -> Result<SendEngine> {
    let api = crate::send::platform::platform_send_api(platform).await?;
    Ok(SendEngine::new(platform.store().clone(), api, cfg))
}

/// The keyword rules of a stored template, with the locally entered approved values of its
/// const/enum keywords, so values WeChat would refuse (47003) are skipped before sending.
pub fn field_rules(t: &Template) -> Vec<FieldRule> {
    t.fields
        .iter()
        .map(|f| FieldRule {
            key: f.key.clone(),
            kind: f.kind,
            allowed: t.const_values.get(&f.key).cloned(),
        })
        .collect()
}

/// The delivery join the app and the CLI register on the feed (one implementation, in send/).
pub use crate::send::platform::DeliveryJoin as DeliveryEvents;

/// The file that marks "a process is running the send engine on this data dir".
pub const SEND_LOCK_FILE: &str = "send.lock";

/// An exclusive advisory lock on `<data dir>/send.lock`, held while a process runs the engine:
/// two engines on one database would each resume the other's jobs and turn its in-flight rows
/// `uncertain`. The OS releases it when the process dies (even by SIGKILL). The file holds the
/// holder's pid and job for `who_sends`.
#[derive(Debug)]
pub struct SendLock {
    _file: File,
    path: PathBuf,
}

/// Who holds the send lock, as written in the lock file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendLockHolder {
    pub pid: u32,
    pub job_id: Option<i64>,
}

/// The lock file, private to this user (it names our pid and job).
fn open_lock_file(path: &Path) -> std::io::Result<File> {
    crate::store::private::open_private(
        path,
        std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true),
    )
}

impl SendLock {
    /// Takes the lock without waiting; `Ok(None)` when another process holds it.
    pub fn try_acquire(data_dir: &Path, job_id: Option<i64>) -> Result<Option<SendLock>> {
        let path = data_dir.join(SEND_LOCK_FILE);
        let io = |e: std::io::Error| Error::DataDir {
            path: path.display().to_string(),
            source: e,
        };
        let mut file = open_lock_file(&path).map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Ok(None),
            Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
        }
        file.set_len(0).map_err(io)?;
        let job = job_id.map(|j| j.to_string()).unwrap_or_default();
        writeln!(file, "{} {job}", std::process::id()).map_err(io)?;
        Ok(Some(SendLock { _file: file, path }))
    }

    /// Waits until the lock is free, then takes it (a second sender queues behind the first).
    pub async fn acquire(data_dir: &Path, job_id: Option<i64>) -> Result<SendLock> {
        if let Some(l) = Self::try_acquire(data_dir, job_id)? {
            return Ok(l);
        }
        let path = data_dir.join(SEND_LOCK_FILE);
        let waited = tokio::task::spawn_blocking(move || {
            let file = open_lock_file(&path)?;
            file.lock()?;
            Ok::<File, std::io::Error>(file)
        })
        .await?
        .map_err(|e| Error::DataDir {
            path: data_dir.join(SEND_LOCK_FILE).display().to_string(),
            source: e,
        })?;
        let mut lock = SendLock {
            _file: waited,
            path: data_dir.join(SEND_LOCK_FILE),
        };
        match job_id {
            Some(j) => lock.set_job(j)?,
            None => lock.clear_job()?,
        }
        Ok(lock)
    }

    fn clear_job(&mut self) -> Result<()> {
        let io = |e: std::io::Error| Error::DataDir {
            path: self.path.display().to_string(),
            source: e,
        };
        self._file.set_len(0).map_err(io)?;
        use std::io::Seek;
        self._file.rewind().map_err(io)?;
        writeln!(self._file, "{}", std::process::id()).map_err(io)
    }

    /// Records which job the holder runs now.
    pub fn set_job(&mut self, job_id: i64) -> Result<()> {
        let io = |e: std::io::Error| Error::DataDir {
            path: self.path.display().to_string(),
            source: e,
        };
        self._file.set_len(0).map_err(io)?;
        use std::io::Seek;
        self._file.rewind().map_err(io)?;
        writeln!(self._file, "{} {job_id}", std::process::id()).map_err(io)
    }
}

/// The pid (and job) of the process holding the send lock, when one does.
pub fn who_sends(data_dir: &Path) -> Result<Option<SendLockHolder>> {
    let path = data_dir.join(SEND_LOCK_FILE);
    if !path.exists() {
        return Ok(None);
    }
    match SendLock::try_acquire(data_dir, None)? {
        // Free: nobody sends (our probe lock is dropped at once).
        Some(_) => Ok(None),
        None => {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let mut parts = text.split_whitespace();
            let pid = parts.next().and_then(|p| p.parse().ok());
            let job_id = parts.next().and_then(|j| j.parse().ok());
            Ok(pid.map(|pid| SendLockHolder { pid, job_id }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_send_lock_is_exclusive_and_names_its_holder() {
        let dir = tempfile::tempdir().unwrap();
        let mut held = SendLock::try_acquire(dir.path(), Some(7)).unwrap().unwrap();
        assert!(SendLock::try_acquire(dir.path(), None).unwrap().is_none());
        assert_eq!(
            who_sends(dir.path()).unwrap(),
            Some(SendLockHolder {
                pid: std::process::id(),
                job_id: Some(7)
            })
        );
        held.set_job(9).unwrap();
        assert_eq!(who_sends(dir.path()).unwrap().unwrap().job_id, Some(9));
        drop(held);
        assert_eq!(who_sends(dir.path()).unwrap(), None);
        assert!(SendLock::try_acquire(dir.path(), None).unwrap().is_some());
    }
}
