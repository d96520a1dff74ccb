//! One command list, three consumers: the invoke handler and the TypeScript bindings (both built
//! from `specta_builder()`), the commands declared to Tauri and the main window's permission set
//! (both written by build.rs from the same `collect_commands![…]`). A command missing from any of
//! them is either unreachable or denied at run time; this holds them against each other.

use std::collections::BTreeSet;
use std::path::Path;

fn build_rs_commands() -> BTreeSet<String> {
    env!("WXDESK_COMMANDS")
        .split(',')
        .map(str::to_owned)
        .collect()
}

/// The commands the generated bindings invoke (what specta registered).
fn specta_commands() -> BTreeSet<String> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bindings.ts");
    wxdesk_lib::export_bindings(&path).expect("export bindings");
    let ts = std::fs::read_to_string(&path).expect("read bindings");
    ts.split("__TAURI_INVOKE")
        .skip(1)
        .filter_map(|rest| {
            let start = rest.find("(\"")? + 2;
            let end = rest[start..].find('"')? + start;
            Some(rest[start..end].to_owned())
        })
        .collect()
}

#[test]
fn build_rs_declares_exactly_the_commands_specta_registers() {
    let declared = build_rs_commands();
    let registered = specta_commands();
    assert!(!registered.is_empty(), "no command found in the bindings");
    assert_eq!(
        declared, registered,
        "build.rs's list (from src/lib.rs) and the specta builder disagree"
    );
}

#[test]
fn the_main_window_is_granted_the_set_written_from_that_list() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let set = std::fs::read_to_string(root.join("permissions/main-window.toml"))
        .expect("build.rs writes permissions/main-window.toml");
    let granted: BTreeSet<String> = set
        .lines()
        .filter_map(|l| l.trim().strip_prefix("\"allow-"))
        .map(|l| l.trim_end_matches("\",").replace('-', "_"))
        .collect();
    assert_eq!(granted, build_rs_commands());

    let cap: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("capabilities/main.json")).expect("capability"),
    )
    .expect("capability JSON");
    let perms: Vec<&str> = cap["permissions"]
        .as_array()
        .expect("permissions")
        .iter()
        .filter_map(|p| p.as_str())
        .collect();
    assert!(perms.contains(&"main-window-commands"), "{perms:?}");
    assert!(
        !perms.iter().any(|p| p.starts_with("allow-")),
        "a command granted by name bypasses the one list: {perms:?}"
    );
    assert_eq!(
        cap["windows"],
        serde_json::json!(["main"]),
        "the auth webview gets nothing"
    );
}
