//! Logs go to `<data dir>/logs/wxdesk.log` (the app's stdout is invisible to most users and is
//! swallowed by WebDriver under test), rotated by size (`wxdesk_core::logfile`).

use std::path::Path;
use std::sync::Mutex;

use tracing_subscriber::EnvFilter;
use wxdesk_core::logfile::{KEEP, MAX_BYTES, RotatingFile};

use crate::error::{Error, Result};

/// Installs the global subscriber. `RUST_LOG` overrides the default level (info).
pub fn init(data_dir: &Path) -> Result<()> {
    let dir = data_dir.join("logs");
    let file = RotatingFile::open(&dir, MAX_BYTES, KEEP).map_err(|source| Error::DataDir {
        path: dir.clone(),
        source,
    })?;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // A second init (e.g. two apps in one test process) keeps the first subscriber; not an error.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(Mutex::new(file))
        .try_init();
    Ok(())
}
