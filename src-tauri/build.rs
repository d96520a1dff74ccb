//! Least privilege from one list: the commands registered in `src/lib.rs`'s
//! `collect_commands![…]` (the list the invoke handler and the TypeScript bindings are built from)
//! are the commands this build declares to Tauri, and the permission set `main-window-commands`
//! that capabilities/main.json grants to the main window is written from the same list. A command
//! that is not in that list exists nowhere; the authorization webview gets none (STYLE.md #9).

use std::fs;
use std::path::Path;

/// Where the generated permission set goes (ignored by git; written on every build).
const SET_FILE: &str = "permissions/main-window.toml";

fn main() {
    println!("cargo:rerun-if-changed=src/lib.rs");
    let commands = match command_names(&fs::read_to_string("src/lib.rs").unwrap_or_default()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("build.rs: cannot read the command list in src/lib.rs: {e}");
            std::process::exit(1);
        }
    };
    // For the test that holds the three views of the list against each other.
    println!("cargo:rustc-env=WXDESK_COMMANDS={}", commands.join(","));
    if let Err(e) = write_permission_set(&commands) {
        eprintln!("build.rs: cannot write {SET_FILE}: {e}");
        std::process::exit(1);
    }
    let names: &'static [&'static str] = Box::leak(
        commands
            .into_iter()
            .map(|c| &*Box::leak(c.into_boxed_str()))
            .collect(),
    );
    let attrs = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(names));
    if let Err(e) = tauri_build::try_build(attrs) {
        eprintln!("tauri-build failed: {e:#}");
        std::process::exit(1);
    }
}

/// The command names of `collect_commands![…]`: the last path segment of each entry, without
/// its `::<Wry>`. Comment lines are skipped.
fn command_names(lib_rs: &str) -> Result<Vec<String>, String> {
    let start = lib_rs
        .find("collect_commands![")
        .ok_or("no collect_commands![ in src/lib.rs")?;
    let body = &lib_rs[start + "collect_commands![".len()..];
    let end = body.find(']').ok_or("collect_commands![ is not closed")?;
    let mut names = Vec::new();
    for line in body[..end].lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with("//") {
            continue;
        }
        let path = line
            .trim_end_matches(',')
            .split("::<")
            .next()
            .unwrap_or(line);
        let name = path.rsplit("::").next().unwrap_or(path).trim();
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(format!("unexpected entry {line:?}"));
        }
        names.push(name.to_string());
    }
    if names.is_empty() {
        return Err("collect_commands![] is empty".into());
    }
    Ok(names)
}

fn write_permission_set(commands: &[String]) -> std::io::Result<()> {
    let grants: Vec<String> = commands
        .iter()
        .map(|c| format!("  \"allow-{}\",", c.replace('_', "-")))
        .collect();
    let toml = format!(
        "# Written by build.rs from src/lib.rs's collect_commands![…] on every build. Do not edit.\n\
         [[set]]\n\
         identifier = \"main-window-commands\"\n\
         description = \"Every wxdesk command, for the main window.\"\n\
         permissions = [\n{}\n]\n",
        grants.join("\n")
    );
    let path = Path::new(SET_FILE);
    if fs::read_to_string(path).ok().as_deref() == Some(toml.as_str()) {
        return Ok(());
    }
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    fs::write(path, toml)
}
