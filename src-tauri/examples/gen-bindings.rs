//! Regenerates `ui/src/bindings.ts` from the commands and types in src-tauri, without a window:
//! `cargo run -p wxdesk --example gen-bindings [-- <output path>]`. An example rather than a
//! binary, so the installers do not ship it.

use std::path::PathBuf;

fn main() {
    let path = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../ui/src/bindings.ts"
            ))
        });
    match wxdesk_lib::export_bindings(&path) {
        Ok(()) => println!("wrote {}", path.display()),
        Err(e) => {
            eprintln!("could not write {}: {e}", path.display());
            std::process::exit(1);
        }
    }
}
