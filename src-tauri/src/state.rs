//! Shell state managed by Tauri: the core's [`Context`] for the data dir, and the background
//! services that live as long as the window (the in-process sandbox, the feed follower).

use std::path::PathBuf;

use tauri::{AppHandle, Runtime};
use tauri_specta::Event;
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;
use wxdesk_core::context::Context;
use wxdesk_core::feed::FeedNotice;
use wxdesk_core::sandbox::Sandbox;
use wxdesk_core::store::settings::Mode;

use crate::events::{AccountsChanged, FeedStatus};

/// Opened once at start-up, so every command in a session sees the same data directory.
pub struct AppState {
    pub data_dir: PathBuf,
    pub ctx: Context,
    services: Mutex<Services>,
}

/// What runs in the background; replaced as a whole when the platform settings change.
#[derive(Default)]
struct Services {
    sandbox: Option<Sandbox>,
    feed: Option<CancellationToken>,
}

/// Where the sandbox's servers listen (the sim's base URL is what tests read `/__sim/state` from).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxUrls {
    pub sim_url: String,
    pub relay_url: String,
}

impl AppState {
    pub fn new(data_dir: PathBuf, ctx: Context) -> Self {
        AppState {
            data_dir,
            ctx,
            services: Mutex::new(Services::default()),
        }
    }

    /// Start-up: in sandbox mode the sandbox runs again (same ports, same relay key), and the
    /// feed follower runs whenever a platform is configured. Nothing runs on first start.
    pub async fn start_services<R: Runtime>(&self, app: &AppHandle<R>) -> wxdesk_core::Result<()> {
        match self.ctx.mode().await? {
            Some(Mode::Sandbox) => {
                self.start_sandbox(app).await?;
            }
            Some(Mode::Production) => self.restart_feed(app).await?,
            None => {
                tracing::info!("no platform configured yet: the window offers 体验沙箱");
                return Ok(());
            }
        }
        // No ticket at the relay: WeChat is asked to push one now (设置 shows the same message).
        match self.ctx.platform.ensure_ticket().await {
            Ok(t) => tracing::info!(push_requested = t.push_requested, "{}", t.message),
            Err(e) => tracing::warn!(error = %e, "start-up ticket check failed"),
        }
        Ok(())
    }

    /// 体验沙箱: starts (or keeps) the in-process sim + relay, points the settings at them and
    /// (re)starts the feed follower on the sandbox relay.
    pub async fn start_sandbox<R: Runtime>(
        &self,
        app: &AppHandle<R>,
    ) -> wxdesk_core::Result<SandboxUrls> {
        let urls = {
            let mut services = self.services.lock().await;
            if let Some(sb) = &services.sandbox {
                SandboxUrls {
                    sim_url: sb.sim_url.clone(),
                    relay_url: sb.relay_url.clone(),
                }
            } else {
                let sb =
                    wxdesk_core::sandbox::start_sandbox(&self.ctx.platform, &self.data_dir).await?;
                // Not a secret: loopback addresses. Tests find the sim through this line.
                tracing::info!(sim_url = %sb.sim_url, relay_url = %sb.relay_url, "sandbox running");
                let urls = SandboxUrls {
                    sim_url: sb.sim_url.clone(),
                    relay_url: sb.relay_url.clone(),
                };
                services.sandbox = Some(sb);
                urls
            }
        };
        self.restart_feed(app).await?;
        Ok(urls)
    }

    /// Stops the sandbox if it runs (the user switched to a real platform).
    pub async fn stop_sandbox(&self) {
        let sb = self.services.lock().await.sandbox.take();
        if let Some(sb) = sb {
            sb.shutdown().await;
            tracing::info!("sandbox stopped");
        }
    }

    /// Waits a little for the relay to hold a component_verify_ticket (asking WeChat to push
    /// one if it has none), so the first authorization does not fail on a missing ticket.
    /// Gives up quietly: 检测连接 explains a missing ticket.
    pub async fn wait_for_ticket(&self) {
        if let Err(e) = self.ctx.platform.ensure_ticket().await {
            tracing::warn!(error = %e, "ticket check failed");
            return;
        }
        for _ in 0..40 {
            let present = match self.ctx.platform.relay().await {
                Ok(relay) => matches!(relay.fetch_ticket().await, Ok(Some(_))),
                Err(_) => false,
            };
            if present {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
        tracing::warn!("no component_verify_ticket at the relay after 10 s");
    }

    /// The running sandbox's addresses, if any.
    pub async fn sandbox_urls(&self) -> Option<SandboxUrls> {
        self.services
            .lock()
            .await
            .sandbox
            .as_ref()
            .map(|sb| SandboxUrls {
                sim_url: sb.sim_url.clone(),
                relay_url: sb.relay_url.clone(),
            })
    }

    /// The simulator's state, while the sandbox runs (debug and tests).
    pub async fn sim_state(&self) -> Option<serde_json::Value> {
        self.services
            .lock()
            .await
            .sandbox
            .as_ref()
            .map(|sb| sb.sim_state())
    }

    /// Stops the current feed follower (if any) and follows the configured relay again; called
    /// after the settings change so the follower uses the new relay URL and key.
    pub async fn restart_feed<R: Runtime>(&self, app: &AppHandle<R>) -> wxdesk_core::Result<()> {
        let mut services = self.services.lock().await;
        if let Some(old) = services.feed.take() {
            old.cancel();
        }
        let cancel = CancellationToken::new();
        let (_task, notices) = self.ctx.spawn_feed(cancel.clone()).await?;
        services.feed = Some(cancel.clone());
        tauri::async_runtime::spawn(forward_notices(app.clone(), notices, cancel));
        Ok(())
    }
}

/// Turns the follower's notices into the window's typed events.
async fn forward_notices<R: Runtime>(
    app: AppHandle<R>,
    mut notices: tokio::sync::broadcast::Receiver<FeedNotice>,
    cancel: CancellationToken,
) {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        let notice = tokio::select! {
            _ = cancel.cancelled() => return,
            n = notices.recv() => n,
        };
        let notice = match notice {
            Ok(n) => n,
            // Missed some: tell the window to refetch everything account-related.
            Err(RecvError::Lagged(_)) => FeedNotice::CaughtUp { cursor: -1 },
            Err(RecvError::Closed) => return,
        };
        if let Some(ev) = AccountsChanged::from_notice(&notice)
            && let Err(e) = ev.emit(&app)
        {
            tracing::warn!(error = %e, "could not emit accounts:changed");
        }
        if let Err(e) = FeedStatus::from_notice(&notice).emit(&app) {
            tracing::warn!(error = %e, "could not emit feed:status");
        }
    }
}
