//! Shell state managed by Tauri: the core's [`Context`] for the data dir (its background
//! services — the sandbox and the feed follower — live in `ctx.services`), and the forwarding
//! of the follower's notices to the window's typed events.

use tauri::{AppHandle, Runtime};
use tokio::sync::broadcast::error::RecvError;
use wxdesk_core::context::Context;
use wxdesk_core::feed::FeedNotice;
use wxdesk_core::feed::window::{AccountsChanged, FeedStatus};

use crate::events::{AccountsChangedEvent, FeedNoticeEvent, emit_logged};

/// Opened once at start-up, so every command in a session sees the same data directory.
pub struct AppState {
    pub ctx: Context,
}

impl AppState {
    pub fn new(ctx: Context) -> Self {
        AppState { ctx }
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
