//! Logs go to `<data dir>/logs/wxdesk.log` (the app's stdout is invisible to most users and is
//! swallowed by WebDriver under test). Nothing secret is ever passed to a log macro.

use std::fs::OpenOptions;
use std::path::Path;
use std::sync::Mutex;

use tracing_subscriber::EnvFilter;

use crate::error::{Error, Result};

pub const LOG_FILE: &str = "wxdesk.log";

/// Installs the global subscriber. `RUST_LOG` overrides the default level (info).
pub fn init(data_dir: &Path) -> Result<()> {
    let dir = data_dir.join("logs");
    let io = |source| Error::DataDir {
        path: dir.clone(),
        source,
    };
    std::fs::create_dir_all(&dir).map_err(io)?;
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(LOG_FILE))
        .map_err(io)?;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // A second init (e.g. two apps in one test process) keeps the first subscriber; not an error.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(Mutex::new(file))
        .try_init();
    Ok(())
}
