//! 备份与恢复: the encrypted workspace backup (database + keychain secrets) from 设置, and the
//! restore into an empty workspace (first start on a new computer), after which the app
//! restarts so every service starts from the restored state. Adapters over
//! `wxdesk_core::backup`.
//!
//! The passphrase crosses the IPC as a plain string; it is wrapped in the redacting `Secret` at
//! once, never logged, never returned, and these commands take no Debug-printed argument struct.

use serde::Serialize;
use specta_typescript::Number;
use tauri::{Manager, Runtime};
use wxdesk_core::backup::{self, BackupSummary, KdfParams};
use wxdesk_core::secrets::Secret;

use super::templates::core_err;
use crate::error::ShellError;
use crate::state::AppState;

type CmdResult<T> = Result<T, ShellError>;

/// Shorter passphrases fall to a guessing attack even behind argon2id (the CLI's rule too).
pub const MIN_PASSPHRASE_CHARS: usize = 8;

/// Whether 从备份恢复 is offered: only a workspace with nothing in it may be replaced.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct BackupStatusView {
    pub restore_allowed: bool,
    pub platform_configured: bool,
    #[specta(type = Number)]
    pub accounts: f64,
    #[specta(type = Number)]
    pub jobs: f64,
    #[specta(type = Number)]
    pub lists: f64,
    /// The data directory (the tooltip says to start with a new one to restore).
    pub data_dir: String,
    /// The passphrase rule the UI checks before sending it.
    #[specta(type = Number)]
    pub min_passphrase_chars: f64,
}

/// What an export wrote or a restore put back (counts only, never a value).
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct BackupResultView {
    pub path: String,
    /// Keychain entries in the backup (platform secrets and refresh tokens).
    #[specta(type = Number)]
    pub secrets: f64,
    /// Accounts whose refresh token is in the backup.
    #[specta(type = Number)]
    pub refresh_tokens: f64,
    #[specta(type = Number)]
    pub database_bytes: f64,
    /// Unix seconds when the backup was made.
    #[specta(type = Number)]
    pub created_at: f64,
}

fn view(path: String, s: &BackupSummary) -> BackupResultView {
    BackupResultView {
        path,
        secrets: s.secrets as f64,
        refresh_tokens: s.accounts_with_refresh_token as f64,
        database_bytes: s.database_bytes as f64,
        created_at: s.created_at as f64,
    }
}

fn checked_passphrase(passphrase: String) -> CmdResult<Secret> {
    if passphrase.chars().count() < MIN_PASSPHRASE_CHARS {
        return Err(core_err(wxdesk_core::Error::Invalid(format!(
            "备份口令至少 {MIN_PASSPHRASE_CHARS} 个字符"
        ))));
    }
    Ok(Secret::new(passphrase))
}

/// The data dir's contents and whether a restore may replace them.
#[tauri::command]
#[specta::specta]
pub async fn backup_status<R: Runtime>(app: tauri::AppHandle<R>) -> CmdResult<BackupStatusView> {
    let state = app.state::<AppState>();
    let c = backup::workspace_contents(&state.ctx.store)
        .await
        .map_err(core_err)?;
    Ok(BackupStatusView {
        restore_allowed: c.is_empty(),
        platform_configured: c.platform_configured,
        accounts: c.accounts as f64,
        jobs: c.jobs as f64,
        lists: c.lists as f64,
        data_dir: state.data_dir.to_string_lossy().into_owned(),
        min_passphrase_chars: MIN_PASSPHRASE_CHARS as f64,
    })
}

/// 导出加密备份 to `path` (chosen in the save dialog).
#[tauri::command]
#[specta::specta]
pub async fn backup_export<R: Runtime>(
    app: tauri::AppHandle<R>,
    passphrase: String,
    path: String,
) -> CmdResult<BackupResultView> {
    let pass = checked_passphrase(passphrase)?;
    let state = app.state::<AppState>();
    let summary = backup::export(
        &state.ctx.store,
        state.ctx.platform.secrets(),
        pass.expose(),
        KdfParams::default(),
        std::path::Path::new(&path),
    )
    .await
    .map_err(core_err)?;
    tracing::info!(
        secrets = summary.secrets,
        refresh_tokens = summary.accounts_with_refresh_token,
        "encrypted backup exported"
    );
    Ok(view(path, &summary))
}

/// 从备份恢复 into this (empty) workspace. The window then tells the user and calls
/// [`backup_restart`].
#[tauri::command]
#[specta::specta]
pub async fn backup_restore<R: Runtime>(
    app: tauri::AppHandle<R>,
    passphrase: String,
    path: String,
) -> CmdResult<BackupResultView> {
    // No length rule here: the backup was sealed with whatever passphrase it was made with.
    let pass = Secret::new(passphrase);
    let state = app.state::<AppState>();
    let summary = backup::restore_into_empty(
        &state.ctx.store,
        state.ctx.platform.secrets(),
        pass.expose(),
        std::path::Path::new(&path),
    )
    .await
    .map_err(core_err)?;
    tracing::info!(
        secrets = summary.secrets,
        refresh_tokens = summary.accounts_with_refresh_token,
        "workspace restored from a backup; restart requested by the window"
    );
    Ok(view(path, &summary))
}

/// Restarts the app, so the feed follower, the sandbox and the send engine start from the
/// restored workspace instead of the empty one they saw at start-up.
#[tauri::command]
#[specta::specta]
pub async fn backup_restart<R: Runtime>(app: tauri::AppHandle<R>) -> CmdResult<()> {
    tracing::info!("restarting after a restore");
    app.request_restart();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_passphrase_shorter_than_eight_characters_is_refused_with_the_rule() {
        let err = checked_passphrase("1234567".into()).unwrap_err();
        assert_eq!(err.message, "备份口令至少 8 个字符");
        assert!(!err.message.contains("1234567"));
        // Characters, not bytes: eight Chinese characters are enough.
        assert_eq!(
            checked_passphrase("八个汉字的口令啊".into())
                .unwrap()
                .expose(),
            "八个汉字的口令啊"
        );
    }
}
