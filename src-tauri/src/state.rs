//! Shell state managed by Tauri: small and cloneable; the core will add its own handles here.

use std::path::PathBuf;

/// Resolved once at start-up, so every command in a session sees the same data directory.
#[derive(Debug, Clone)]
pub struct AppState {
    pub data_dir: PathBuf,
}
