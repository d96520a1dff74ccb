//! The protocol crate must stay free of the app's platform layers (issue #3: no Tauri, no
//! SQLite), so the relay and simulator can use it on a server without GUI or database libraries.

#![allow(clippy::unwrap_used)]

#[test]
fn manifest_has_no_tauri_or_sqlite_dependency() {
    let manifest =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")).unwrap();
    for line in manifest
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
    {
        let name = line.split(['=', '.', ' ']).next().unwrap_or("");
        for banned in ["tauri", "rusqlite", "sqlite", "libsqlite3-sys", "keyring"] {
            assert!(!name.contains(banned), "forbidden dependency line: {line}");
        }
    }
}
