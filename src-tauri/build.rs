fn main() {
    // Every app command is listed here so that capabilities/ can grant it per window: a command
    // missing from this list is denied everywhere (least privilege, STYLE.md #9).
    let attrs =
        tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(&[
            "app_info",
            "get_settings",
            "save_settings",
            "check_connection",
            "ensure_ticket",
            "start_sandbox",
            "sandbox_info",
            "list_accounts",
            "refresh_account",
            "remove_account",
            "token_health",
            "recover_refresh_tokens",
            "begin_authorization",
            "authorize_in_window",
            "audience_accounts",
            "templates_list",
            "templates_sync",
            "templates_add",
            "templates_delete",
            "templates_set_notes",
            "templates_get_industry",
            "templates_set_industry",
            "followers_sync",
            "followers_sync_cancel",
            "followers_sync_state",
            "followers_totals",
            "followers_count",
            "followers_page",
            "tags_list",
            "lists_list",
            "list_members",
            "list_delete",
            "list_create_from_followers",
            "list_import_preview",
            "list_import_save",
            "bridge_preview",
            "bridge_save",
        ]));
    if let Err(e) = tauri_build::try_build(attrs) {
        eprintln!("tauri-build failed: {e:#}");
        std::process::exit(1);
    }
}
