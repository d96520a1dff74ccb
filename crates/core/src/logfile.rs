//! The app's log file, rotated by size: `wxdesk.log` becomes `wxdesk.log.1`, the older ones move
//! up and the one past `keep` is deleted, so an app left running for months (a feed retrying
//! every minute writes a line each time) stays within a few tens of megabytes. The files are
//! the user's alone (0600, in a 0700 directory on Unix): they name accounts and openids.
//! Nothing secret is ever passed to a log macro.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

pub const LOG_FILE: &str = "wxdesk.log";
/// Size at which the current file is rotated.
pub const MAX_BYTES: u64 = 5 * 1024 * 1024;
/// Rotated files kept besides the current one.
pub const KEEP: usize = 3;

/// An append-only log file that rotates itself by size.
pub struct RotatingFile {
    path: PathBuf,
    file: File,
    len: u64,
    max_bytes: u64,
    keep: usize,
}

impl RotatingFile {
    /// Opens (or creates) `dir/wxdesk.log` for appending, creating `dir` if needed.
    pub fn open(dir: &Path, max_bytes: u64, keep: usize) -> io::Result<Self> {
        create_private_dir(dir)?;
        let path = dir.join(LOG_FILE);
        let file = open_private(&path)?;
        let len = file.metadata()?.len();
        Ok(RotatingFile {
            path,
            file,
            len,
            max_bytes: max_bytes.max(1),
            keep,
        })
    }

    fn rotated(&self, n: usize) -> PathBuf {
        let mut name = self.path.as_os_str().to_owned();
        name.push(format!(".{n}"));
        PathBuf::from(name)
    }

    fn rotate(&mut self) -> io::Result<()> {
        self.file.flush()?;
        if self.keep == 0 {
            std::fs::remove_file(&self.path).or_else(ignore_missing)?;
        } else {
            std::fs::remove_file(self.rotated(self.keep)).or_else(ignore_missing)?;
            for n in (1..self.keep).rev() {
                std::fs::rename(self.rotated(n), self.rotated(n + 1)).or_else(ignore_missing)?;
            }
            std::fs::rename(&self.path, self.rotated(1))?;
        }
        self.file = open_private(&self.path)?;
        self.len = 0;
        Ok(())
    }
}

impl Write for RotatingFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // One event is one write: rotate before it rather than split a line across files.
        if self.len > 0 && self.len + buf.len() as u64 > self.max_bytes {
            self.rotate()?;
        }
        let n = self.file.write(buf)?;
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

fn ignore_missing(e: io::Error) -> io::Result<()> {
    if e.kind() == io::ErrorKind::NotFound {
        Ok(())
    } else {
        Err(e)
    }
}

fn create_private_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        // An older version created it with the default umask.
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir)
    }
}

fn open_private(path: &Path) -> io::Result<File> {
    let mut opts = OpenOptions::new();
    opts.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        opts.mode(0o600);
        let file = opts.open(path)?;
        // `mode` applies only to a new file; one an older version left readable is narrowed.
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        Ok(file)
    }
    #[cfg(not(unix))]
    {
        opts.open(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(i: usize) -> Vec<u8> {
        format!("line {i:04} ........................................\n").into_bytes()
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn the_log_rotates_by_size_keeps_a_few_files_and_never_splits_a_line() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("logs");
        let one = line(0).len() as u64;
        let mut f = RotatingFile::open(&dir, one * 10, 2).unwrap();
        for i in 0..45 {
            f.write_all(&line(i)).unwrap();
        }
        f.flush().unwrap();
        assert_eq!(names(&dir), ["wxdesk.log", "wxdesk.log.1", "wxdesk.log.2"]);
        for name in names(&dir) {
            let text = std::fs::read_to_string(dir.join(&name)).unwrap();
            assert!(
                text.len() as u64 <= one * 10,
                "{name} is {} bytes",
                text.len()
            );
            assert!(
                text.lines()
                    .all(|l| l.starts_with("line ") && l.ends_with('.'))
            );
        }
        // The newest lines are in the current file, the ones before in .1 and .2; the oldest
        // 15 are gone.
        let current = std::fs::read_to_string(dir.join("wxdesk.log")).unwrap();
        assert!(current.starts_with("line 0040") && current.contains("line 0044"));
        let older = std::fs::read_to_string(dir.join("wxdesk.log.2")).unwrap();
        assert!(older.starts_with("line 0020"), "{older}");
    }

    #[test]
    fn reopening_appends_and_counts_what_is_already_there() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("logs");
        let one = line(0).len() as u64;
        {
            let mut f = RotatingFile::open(&dir, one * 3, 1).unwrap();
            f.write_all(&line(1)).unwrap();
            f.write_all(&line(2)).unwrap();
        }
        let mut f = RotatingFile::open(&dir, one * 3, 1).unwrap();
        f.write_all(&line(3)).unwrap();
        f.write_all(&line(4)).unwrap();
        let old = std::fs::read_to_string(dir.join("wxdesk.log.1")).unwrap();
        assert_eq!(old.lines().count(), 3, "{old}");
        let cur = std::fs::read_to_string(dir.join("wxdesk.log")).unwrap();
        assert!(cur.starts_with("line 0004"));
    }

    #[cfg(unix)]
    #[test]
    fn log_files_and_their_directory_are_private_to_the_user() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("logs");
        // A file an older version left world-readable.
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(LOG_FILE), b"old\n").unwrap();
        std::fs::set_permissions(dir.join(LOG_FILE), std::fs::Permissions::from_mode(0o644))
            .unwrap();
        let mut f = RotatingFile::open(&dir, 8, 2).unwrap();
        f.write_all(b"first line\n").unwrap();
        f.write_all(b"second line\n").unwrap();
        let mode = |p: PathBuf| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(dir.clone()), 0o700);
        assert_eq!(mode(dir.join("wxdesk.log")), 0o600);
        assert_eq!(mode(dir.join("wxdesk.log.1")), 0o600, "a rotated file too");
        assert_eq!(mode(dir.join("wxdesk.log.2")), 0o600);
    }
}
