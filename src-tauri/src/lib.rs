//! The Tauri shell: windows, thin commands over wxdesk-core, and the typed TypeScript bindings
//! the UI calls them through. Generic over `tauri::Runtime`; only main.rs picks Wry and embeds
//! the frontend.

// Tests may unwrap: a panic is how they fail.
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod auth_window;
mod commands;
mod error;
mod events;
mod logging;
mod state;

use std::path::Path;

use tauri::{Manager, Runtime};
use wxdesk_core::app_info as core;

pub use error::{Error, ErrorCode, Result, ShellError};
pub use events::{AccountsChangeReason, AccountsChanged, FeedNoticeKind, FeedStatus};
pub use state::AppState;
pub use wxdesk_core::app_info::{AppInfo, AppMode};

/// Every command and exported type, in one place: the invoke handler and the bindings file are
/// both built from it, so they cannot disagree. (specta needs a concrete runtime to collect the
/// generic commands; the commands themselves stay generic.) Add an area's commands as lines
/// here, grouped by area: build.rs reads this list (declared commands, the main window's grants).
pub fn specta_builder() -> tauri_specta::Builder<tauri::Wry> {
    use tauri::Wry;
    tauri_specta::Builder::<Wry>::new()
        .commands(tauri_specta::collect_commands![
            // app
            commands::app::app_info::<Wry>,
            commands::app::set_language,
            // platform (设置, 体验沙箱)
            commands::platform::get_settings::<Wry>,
            commands::platform::save_settings::<Wry>,
            commands::platform::check_connection::<Wry>,
            commands::platform::ensure_ticket::<Wry>,
            commands::platform::start_sandbox::<Wry>,
            commands::platform::sandbox_info::<Wry>,
            // accounts (授权账号)
            commands::accounts::list_accounts::<Wry>,
            commands::accounts::refresh_account::<Wry>,
            commands::accounts::remove_account::<Wry>,
            commands::accounts::token_health::<Wry>,
            commands::accounts::recover_refresh_tokens::<Wry>,
            commands::accounts::begin_authorization::<Wry>,
            commands::accounts::authorize_in_window::<Wry>,
            // templates
            commands::templates::audience_accounts::<Wry>,
            commands::templates::templates_list::<Wry>,
            commands::templates::templates_sync::<Wry>,
            commands::templates::templates_add::<Wry>,
            commands::templates::templates_delete::<Wry>,
            commands::templates::templates_set_notes::<Wry>,
            commands::templates::templates_get_industry::<Wry>,
            commands::templates::templates_set_industry::<Wry>,
            // audience
            commands::audience::followers_sync::<Wry>,
            commands::audience::followers_sync_cancel::<Wry>,
            commands::audience::followers_sync_state::<Wry>,
            commands::audience::followers_totals::<Wry>,
            commands::audience::followers_count::<Wry>,
            commands::audience::followers_page::<Wry>,
            commands::audience::tags_list::<Wry>,
            commands::audience::lists_list::<Wry>,
            commands::audience::list_members::<Wry>,
            commands::audience::list_delete::<Wry>,
            commands::audience::list_create_from_followers::<Wry>,
            commands::audience::list_import_preview::<Wry>,
            commands::audience::list_import_save::<Wry>,
            commands::audience::bridge_preview::<Wry>,
            commands::audience::bridge_save::<Wry>,
            // 发送 / 任务 / 发送记录 / 概览
            commands::send::jobs_list::<Wry>,
            commands::send::job_watch::<Wry>,
            commands::send::job_pause::<Wry>,
            commands::send::job_resume::<Wry>,
            commands::send::job_cancel::<Wry>,
            commands::send::job_retry_failed::<Wry>,
            commands::send::job_resend_uncertain::<Wry>,
            commands::send::job_copy::<Wry>,
            commands::send::job_start::<Wry>,
            commands::compose::compose_check::<Wry>,
            commands::compose::compose_estimate::<Wry>,
            commands::compose::compose_quota::<Wry>,
            commands::compose::compose_send::<Wry>,
            commands::compose::compose_test_send::<Wry>,
            commands::compose::compose_custom_send::<Wry>,
            commands::history::history_list::<Wry>,
            commands::history::history_detail::<Wry>,
            commands::history::history_export::<Wry>,
            commands::overview::overview_stats::<Wry>,
            commands::interactions::interactions_open::<Wry>,
            // 订阅通知, 统一服务消息 (withdrawn), quota tools
            commands::messaging::subscribe_templates::<Wry>,
            commands::messaging::subscribe_templates_sync::<Wry>,
            commands::messaging::subscribe_categories::<Wry>,
            commands::messaging::subscribe_library::<Wry>,
            commands::messaging::subscribe_keywords::<Wry>,
            commands::messaging::subscribe_template_add::<Wry>,
            commands::messaging::subscribe_template_delete::<Wry>,
            commands::messaging::subscribe_receivers::<Wry>,
            commands::messaging::compose_subscribe_reach::<Wry>,
            commands::messaging::compose_subscribe_send::<Wry>,
            commands::messaging::compose_uniform_send::<Wry>,
            commands::messaging::quota_get::<Wry>,
            commands::messaging::quota_clear::<Wry>,
            commands::messaging::quota_clear_component::<Wry>,
            // 小程序代码 (template library, one mini program, rollouts)
            commands::code::code_library::<Wry>,
            commands::code::code_add_template::<Wry>,
            commands::code::code_delete_template::<Wry>,
            commands::code::code_status::<Wry>,
            commands::code::code_commit::<Wry>,
            commands::code::code_qrcode::<Wry>,
            commands::code::code_categories::<Wry>,
            commands::code::code_pages::<Wry>,
            commands::code::code_submit_audit::<Wry>,
            commands::code::code_release::<Wry>,
            commands::code::code_history::<Wry>,
            commands::code::code_rollback::<Wry>,
            commands::code::code_undo_audit::<Wry>,
            commands::code::code_speed_up::<Wry>,
            commands::code::code_quota::<Wry>,
            commands::code::code_versions::<Wry>,
            commands::code::code_explain,
            commands::code::code_rollout_plan::<Wry>,
            commands::code::code_rollout_create::<Wry>,
            commands::code::code_rollout_start::<Wry>,
            commands::code::code_rollout_pause::<Wry>,
            commands::code::code_rollout_cancel::<Wry>,
            commands::code::code_rollouts::<Wry>,
            commands::code::code_rollout::<Wry>,
            commands::code::code_rollout_versions::<Wry>,
            commands::code::code_rollout_watch::<Wry>,
            // relay feed (parked events)
            commands::feed::feed_parked::<Wry>,
            // 备份与恢复
            commands::backup::backup_status::<Wry>,
            commands::backup::backup_export::<Wry>,
            commands::backup::backup_restore::<Wry>,
            commands::backup::backup_restart::<Wry>,
        ])
        .events(tauri_specta::collect_events![AccountsChanged, FeedStatus])
        .typ::<ErrorCode>()
        // Our types only travel Rust -> UI; one shape per type, not separate (de)serialize ones.
        .disable_serde_phases()
}

/// Writes the TypeScript bindings (`ui/src/bindings.ts` in the repository) to `path`.
pub fn export_bindings(path: &Path) -> std::result::Result<(), specta_typescript::Error> {
    specta_builder().export(
        specta_typescript::Typescript::default().header(
            "// Generated from src-tauri by `cargo run -p wxdesk --example gen-bindings`. Do not edit.",
        ),
        path,
    )
}

/// Resolves the data directory, starts logging there, opens the core on it and starts the
/// background services (sandbox, feed follower) the saved mode calls for.
fn setup<R: Runtime>(app: &mut tauri::App<R>) -> Result<()> {
    let os_default = app.path().app_data_dir().map_err(Error::NoDefaultDataDir)?;
    let data_dir = core::data_dir(std::env::var_os(core::DATA_DIR_ENV), os_default);
    std::fs::create_dir_all(&data_dir).map_err(|source| Error::DataDir {
        path: data_dir.clone(),
        source,
    })?;
    logging::init(&data_dir)?;
    tracing::info!(
        version = %app.package_info().version,
        data_dir = %data_dir.display(),
        "wxdesk started"
    );
    let ctx = tauri::async_runtime::block_on(wxdesk_core::context::Context::open(&data_dir))?;
    // The app holds the send lock only while one of its jobs sends, so a CLI send in between
    // need not wait for the window to close (wxdesk_core::send::host).
    ctx.sends.share_lock_when_idle();
    app.manage(AppState::new(ctx));
    // The window opens at once; the sandbox and the follower come up behind it. A failure is
    // logged and shown where it matters (settings, 检测连接), not a reason to refuse to start.
    let handle = app.handle().clone();
    tauri::async_runtime::spawn(async move {
        let state = handle.state::<AppState>();
        if let Err(e) = state.start_services(&handle).await {
            tracing::error!(error = %e, "background services did not start");
        }
        // The long-lived host: recover now (jobs running at the last exit are paused
        // `interrupted`, their in-flight rows uncertain), resume quota pauses after the reset.
        if matches!(state.ctx.mode().await, Ok(Some(_))) {
            state.ctx.sends.spawn_quota_resume();
        }
    });
    Ok(())
}

/// Builds and runs the app with the given context (main.rs passes `generate_context!()`).
pub fn run(context: tauri::Context<tauri::Wry>) -> std::result::Result<(), tauri::Error> {
    let specta = specta_builder();
    tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .invoke_handler(specta.invoke_handler())
        .setup(move |app| {
            specta.mount_events(app);
            setup(app)?;
            Ok(())
        })
        .run(context)
}
