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
#[cfg(test)]
mod mock_tests;
mod state;

use std::path::Path;

use tauri::{Manager, Runtime};
use wxdesk_core::app_info as core;

pub use error::{Error, Result, ShellError};
pub use events::{AccountsChangedEvent, FeedNoticeEvent};
pub use state::AppState;
pub use wxdesk_core::app_info::{AppInfo, AppMode};

/// The one command list, for a given runtime (the app's Wry; the smoke test's mock runtime).
/// Add an area's commands as lines here, grouped by area: build.rs reads this list (the commands
/// declared to Tauri, the main window's grants).
macro_rules! app_commands {
    ($r:ty) => {
        tauri_specta::collect_commands![
            // app
            commands::app::app_info::<$r>,
            commands::app::set_language::<$r>,
            commands::app::deploy_guide,
            commands::app::show_window::<$r>,
            // platform (设置, 体验沙箱)
            commands::platform::get_settings::<$r>,
            commands::platform::save_settings::<$r>,
            commands::platform::check_connection::<$r>,
            commands::platform::check_settings::<$r>,
            commands::platform::start_sandbox::<$r>,
            commands::platform::sandbox_info::<$r>,
            // accounts (授权账号)
            commands::accounts::list_accounts::<$r>,
            commands::accounts::refresh_account::<$r>,
            commands::accounts::remove_account::<$r>,
            commands::accounts::token_health::<$r>,
            commands::accounts::recover_refresh_tokens::<$r>,
            commands::accounts::archived_platforms::<$r>,
            commands::accounts::purge_archived_accounts::<$r>,
            commands::accounts::sandbox_appids::<$r>,
            commands::accounts::begin_authorization::<$r>,
            commands::accounts::authorize_in_window::<$r>,
            // templates
            commands::templates::audience_accounts::<$r>,
            commands::templates::templates_list::<$r>,
            commands::templates::templates_sync::<$r>,
            commands::templates::templates_add::<$r>,
            commands::templates::templates_delete::<$r>,
            commands::templates::templates_set_notes::<$r>,
            commands::templates::templates_get_industry::<$r>,
            commands::templates::templates_set_industry::<$r>,
            // audience
            commands::audience::followers_sync::<$r>,
            commands::audience::followers_sync_cancel::<$r>,
            commands::audience::followers_sync_state::<$r>,
            commands::audience::followers_totals::<$r>,
            commands::audience::followers_count::<$r>,
            commands::audience::followers_page::<$r>,
            commands::audience::tags_list::<$r>,
            commands::audience::lists_list::<$r>,
            commands::audience::list_members::<$r>,
            commands::audience::list_delete::<$r>,
            commands::audience::list_create_from_followers::<$r>,
            commands::audience::list_import_preview::<$r>,
            commands::audience::list_import_save::<$r>,
            commands::audience::bridge_preview::<$r>,
            commands::audience::bridge_save::<$r>,
            // 发送 / 任务 / 发送记录 / 概览
            commands::send::jobs_list::<$r>,
            commands::send::job_watch::<$r>,
            commands::send::job_pause::<$r>,
            commands::send::job_resume::<$r>,
            commands::send::job_cancel::<$r>,
            commands::send::job_retry_failed::<$r>,
            commands::send::job_resend_uncertain::<$r>,
            commands::send::job_copy::<$r>,
            commands::send::job_start::<$r>,
            commands::compose::compose_check::<$r>,
            commands::compose::compose_estimate::<$r>,
            commands::compose::compose_quota::<$r>,
            commands::compose::compose_find_yourself_qr::<$r>,
            commands::compose::compose_send::<$r>,
            commands::compose::compose_test_send::<$r>,
            commands::compose::compose_custom_send::<$r>,
            commands::compose::compose_drafts::<$r>,
            commands::compose::compose_draft_save::<$r>,
            commands::compose::compose_draft_delete::<$r>,
            commands::media::media_upload_card_cover::<$r>,
            commands::history::history_list::<$r>,
            commands::history::history_detail::<$r>,
            commands::history::history_export::<$r>,
            commands::overview::overview_stats::<$r>,
            commands::interactions::interactions_open::<$r>,
            // 订阅通知, 统一服务消息 (withdrawn), quota tools
            commands::messaging::subscribe_templates::<$r>,
            commands::messaging::subscribe_templates_sync::<$r>,
            commands::messaging::subscribe_categories::<$r>,
            commands::messaging::subscribe_library::<$r>,
            commands::messaging::subscribe_keywords::<$r>,
            commands::messaging::subscribe_template_add::<$r>,
            commands::messaging::subscribe_template_delete::<$r>,
            commands::messaging::subscribe_receivers::<$r>,
            commands::messaging::compose_subscribe_reach::<$r>,
            commands::messaging::compose_subscribe_send::<$r>,
            commands::messaging::compose_uniform_send::<$r>,
            commands::messaging::quota_get::<$r>,
            commands::messaging::quota_clear::<$r>,
            commands::messaging::quota_clear_component::<$r>,
            // 小程序代码 (template library, one mini program, rollouts)
            commands::code::code_library::<$r>,
            commands::code::code_add_template::<$r>,
            commands::code::code_delete_template::<$r>,
            commands::code::code_status::<$r>,
            commands::code::code_domains::<$r>,
            commands::code::code_webview_domains::<$r>,
            commands::code::code_commit::<$r>,
            commands::code::code_qrcode::<$r>,
            commands::code::code_categories::<$r>,
            commands::code::code_pages::<$r>,
            commands::code::code_submit_audit::<$r>,
            commands::code::code_release::<$r>,
            commands::code::code_history::<$r>,
            commands::code::code_rollback::<$r>,
            commands::code::code_undo_audit::<$r>,
            commands::code::code_speed_up::<$r>,
            commands::code::code_quota::<$r>,
            commands::code::code_versions::<$r>,
            commands::code::code_explain,
            commands::code::code_rollout_plan::<$r>,
            commands::code::code_rollout_create::<$r>,
            commands::code::code_rollout_start::<$r>,
            commands::code::code_rollout_pause::<$r>,
            commands::code::code_rollout_cancel::<$r>,
            commands::code::code_rollouts::<$r>,
            commands::code::code_rollout::<$r>,
            commands::code::code_rollout_versions::<$r>,
            commands::code::code_rollout_watch::<$r>,
            // relay feed (parked events)
            commands::feed::feed_parked::<$r>,
            // 备份与恢复
            commands::backup::backup_status::<$r>,
            commands::backup::backup_export::<$r>,
            commands::backup::backup_restore::<$r>,
            commands::backup::backup_restart::<$r>,
            // 团队 (设置 → 加入团队)
            commands::team::team_status::<$r>,
            commands::team::team_membership::<$r>,
            commands::team::team_audit::<$r>,
            commands::team::team_join::<$r>,
            commands::team::team_leave::<$r>,
            commands::team::team_restart::<$r>,
        ]
    };
}
#[cfg(test)]
pub(crate) use app_commands;

/// Every command and exported type, in one place: the invoke handler and the bindings file are
/// both built from it, so they cannot disagree. (specta needs a concrete runtime to collect the
/// generic commands; the commands themselves stay generic.)
pub fn specta_builder() -> tauri_specta::Builder<tauri::Wry> {
    tauri_specta::Builder::<tauri::Wry>::new()
        .commands(app_commands!(tauri::Wry))
        .events(tauri_specta::collect_events![
            AccountsChangedEvent,
            FeedNoticeEvent
        ])
        .typ::<wxdesk_core::ErrorCode>()
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
    app.manage(AppState::new(ctx, data_dir));
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

/// The main window starts hidden (tauri.conf.json) and is shown once its page has a first frame
/// to show: index.html's first-frame script calls `show_window` right after the frame is parsed
/// (ui/src/layout/firstFrame.ts). Shown at once instead, the window is drawn while the web
/// process is still loading the page; WebKitGTK's UI process then waits, on the thread that
/// would serve the page's files (the custom protocol), for a frame the web process cannot make
/// yet, until a 500 ms timeout: most starts lost half a second there (bench/RESULTS.md, #19).
/// Should the script never run (a page that fails to load), the page's load event shows the
/// window, and failing that this much time after the start does.
pub const MAIN_WINDOW_FALLBACK: std::time::Duration = std::time::Duration::from_secs(3);

/// Who showed the main window: the page's first frame, as it should be, or a fallback.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ShownBy {
    FirstFrame,
    PageLoad,
    Timeout,
}

/// Shows the main window if it is hidden, and logs who did (the e2e suite checks that the first
/// frame did). A failure is logged: nothing else can show it.
pub(crate) fn show_main<R: Runtime>(window: &tauri::Window<R>, by: ShownBy) {
    if window.label() != "main" || window.is_visible().unwrap_or(false) {
        return;
    }
    match window.show() {
        Ok(()) => tracing::info!(by = ?by, "main window shown"),
        Err(e) => tracing::error!(error = %e, "the main window could not be shown"),
    }
}

/// The main window's title in each language: the app's name and the subtitle its header shows
/// (ui/src/i18n/locales). The Chinese one is also tauri.conf.json's, the title a window has
/// before its page says which language it speaks.
pub(crate) fn window_title(lang: wxdesk_core::Lang) -> &'static str {
    match lang {
        wxdesk_core::Lang::Zh => "wxdesk 微信第三方平台助手",
        wxdesk_core::Lang::En => "wxdesk — WeChat third-party platform desk",
    }
}

/// The authorization window's title (auth_window.rs), in the language the main window speaks
/// when it opens.
pub(crate) fn auth_window_title(lang: wxdesk_core::Lang) -> &'static str {
    match lang {
        wxdesk_core::Lang::Zh => "授权公众号 / 小程序 — wxdesk",
        wxdesk_core::Lang::En => "Authorize an official account / mini program — wxdesk",
    }
}

/// The window speaks `lang` from now on: the errors commands return, and its title (an English
/// screen under a Chinese title bar is not English). A title that cannot be set is logged.
pub(crate) fn speak<R: Runtime>(window: &tauri::Window<R>, lang: wxdesk_core::Lang) {
    error::set_lang(lang);
    if window.label() != "main" {
        return;
    }
    if let Err(e) = window.set_title(window_title(lang)) {
        tracing::warn!(error = %e, "the main window's title could not be set");
    }
}

/// Builds and runs the app with the given context (main.rs passes `generate_context!()`).
pub fn run(context: tauri::Context<tauri::Wry>) -> std::result::Result<(), tauri::Error> {
    let specta = specta_builder();
    tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .invoke_handler(specta.invoke_handler())
        .on_page_load(|webview, payload| {
            if payload.event() == tauri::webview::PageLoadEvent::Finished {
                show_main(&webview.window(), ShownBy::PageLoad);
            }
        })
        .setup(move |app| {
            specta.mount_events(app);
            setup(app)?;
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                tokio::time::sleep(MAIN_WINDOW_FALLBACK).await;
                if let Some(window) = handle.get_webview_window("main") {
                    show_main(&window.as_ref().window(), ShownBy::Timeout);
                }
            });
            Ok(())
        })
        .run(context)
}
