//! The committed `ui/src/bindings.ts` must be exactly what the current Rust code generates: if a
//! command's signature or an exported type changes without regenerating, the UI would call the
//! shell with the wrong shape, so this fails and says how to fix it.

use std::path::Path;

#[test]
fn committed_bindings_match_the_rust_commands() {
    let committed_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/bindings.ts");
    let dir = tempfile::tempdir().expect("temp dir");
    let fresh_path = dir.path().join("bindings.ts");
    wxdesk_lib::export_bindings(&fresh_path).expect("export bindings");
    let fresh = std::fs::read_to_string(&fresh_path).expect("read fresh bindings");
    let committed = std::fs::read_to_string(&committed_path).unwrap_or_default();
    assert!(
        fresh == committed,
        "ui/src/bindings.ts is out of date with src-tauri's commands.\n\
         Regenerate it with: cargo run -p wxdesk --example gen-bindings\n\
         and commit the result."
    );
}
