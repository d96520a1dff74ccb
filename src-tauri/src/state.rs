//! Shell state managed by Tauri: the core's [`Context`] for the data dir (its background
//! services — the sandbox and the feed follower — live in `ctx.services`), and the forwarding
//! of the follower's notices to the window's typed events.

use std::path::PathBuf;

use tauri::{AppHandle, Runtime};
use tokio::sync::broadcast::error::RecvError;
use wxdesk_core::context::Context;
use wxdesk_core::feed::FeedNotice;
use wxdesk_core::feed::window::{AccountsChanged, FeedStatus};
use wxdesk_core::secrets::Secrets;

use crate::events::{AccountsChangedEvent, FeedNoticeEvent, emit_logged};

/// Opened once at start-up, so every command in a session sees the same data directory.
pub struct AppState {
    /// The workspace this session works on: `base_dir` itself, or its team workspace while the
    /// desk was joined at start (`ctx.data_dir` is then `<base_dir>/team`).
    pub ctx: Context,
    /// The data dir the app resolved at start, where `core::team` looks for a membership.
    pub base_dir: PathBuf,
    /// The team workspace's secret store: `None` for its OS keychain namespace (the app), a
    /// given store in tests.
    team_secrets: Option<Secrets>,
}

impl AppState {
    pub fn new(ctx: Context, base_dir: PathBuf) -> Self {
        AppState {
            ctx,
            base_dir,
            team_secrets: None,
        }
    }

    /// As `new`, with the team workspace's secrets held in `secrets` (tests).
    #[cfg(test)]
    pub fn with_team_secrets(ctx: Context, base_dir: PathBuf, secrets: Secrets) -> Self {
        AppState {
            ctx,
            base_dir,
            team_secrets: Some(secrets),
        }
    }

    /// Where the member key lives: the team workspace's keychain namespace.
    pub fn team_secrets(&self) -> wxdesk_core::Result<Secrets> {
        match &self.team_secrets {
            Some(s) => Ok(s.clone()),
            None => wxdesk_core::team::workspace_secrets(&self.base_dir),
        }
    }

    /// Start-up: the services the saved mode calls for, their notices forwarded to the window
    /// for as long as the app runs (whichever follower runs after a settings change).
    pub async fn start_services<R: Runtime>(&self, app: &AppHandle<R>) -> wxdesk_core::Result<()> {
        tauri::async_runtime::spawn(forward_notices(app.clone(), self.ctx.services.subscribe()));
        self.ctx.services.start().await
    }
}

/// Turns the follower's notices into the window's typed events.
async fn forward_notices<R: Runtime>(
    app: AppHandle<R>,
    mut notices: tokio::sync::broadcast::Receiver<FeedNotice>,
) {
    loop {
        let notice = match notices.recv().await {
            Ok(n) => n,
            // Missed some: tell the window to refetch everything account-related.
            Err(RecvError::Lagged(_)) => FeedNotice::CaughtUp { cursor: -1 },
            Err(RecvError::Closed) => return,
        };
        if let Some(ev) = AccountsChanged::from_notice(&notice) {
            emit_logged(&app, AccountsChangedEvent(ev));
        }
        emit_logged(&app, FeedNoticeEvent(FeedStatus::from_notice(&notice)));
    }
}
