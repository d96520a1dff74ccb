//! Where the app binary, tauri-driver and the artifacts are.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The cargo target dir the app was built into: `CARGO_TARGET_DIR`, else the workspace's target/.
fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join("target"),
    }
}

/// The built app: `WXDESK_APP_BIN`, else `<target dir>/debug/wxdesk`.
pub fn app_binary() -> Result<PathBuf> {
    let path = match std::env::var_os("WXDESK_APP_BIN") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => target_dir()
            .join("debug")
            .join(format!("wxdesk{}", std::env::consts::EXE_SUFFIX)),
    };
    let path = std::path::absolute(&path).unwrap_or(path);
    if path.is_file() {
        Ok(path)
    } else {
        Err(Error::NoApp(path.display().to_string()))
    }
}

/// Screenshots and logs: `WXDESK_ARTIFACTS`, else `<target dir>/e2e-artifacts` (outside the
/// source tree when CARGO_TARGET_DIR is, as in CI).
pub fn artifacts_dir() -> Result<PathBuf> {
    let dir = match std::env::var_os("WXDESK_ARTIFACTS") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => target_dir().join("e2e-artifacts"),
    };
    Ok(std::path::absolute(&dir).unwrap_or(dir))
}

/// tauri-driver: `WXDESK_TAURI_DRIVER`, else on PATH, else in cargo's bin dir.
pub fn tauri_driver() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("WXDESK_TAURI_DRIVER").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(Error::NoDriver(p.display().to_string()))
        };
    }
    let exe = format!("tauri-driver{}", std::env::consts::EXE_SUFFIX);
    let on_path = std::env::var_os("PATH")
        .map(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join(&exe))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    let candidates = on_path
        .into_iter()
        .chain(cargo_home.map(|c| c.join("bin").join(&exe)));
    candidates
        .into_iter()
        .find(|p| p.is_file())
        .ok_or_else(|| Error::NoDriver("not on PATH nor in ~/.cargo/bin".into()))
}
