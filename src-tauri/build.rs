fn main() {
    // Every app command is listed here so that capabilities/ can grant it per window: a command
    // missing from this list is denied everywhere (least privilege, STYLE.md #9).
    let attrs = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(&["app_info"]));
    if let Err(e) = tauri_build::try_build(attrs) {
        eprintln!("tauri-build failed: {e:#}");
        std::process::exit(1);
    }
}
