//! `ctx.services`: what runs in the background of a long-lived face (the app) — the in-process
//! 体验沙箱 and the relay feed follower — started, switched and stopped as one, with the
//! follower's notices on one channel that outlives every restart of the follower (the shell
//! turns them into window events). The CLI's `sandbox start` uses the sandbox part alone.
//!
//! Switching platforms (体验沙箱, or saving a real platform's settings) happens under the send
//! host's settings-change guard: refused while a job is sending, and the engine built on the old
//! settings is dropped.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::{Mutex, broadcast};
use tokio_util::sync::CancellationToken;

use crate::auth::Authorizer;
use crate::error::Result;
use crate::feed::parked::ParkedEvent;
use crate::feed::{FeedFollower, FeedNotice};
use crate::platform::{Mode, Platform, SettingsForm, SettingsView};
use crate::sandbox::Sandbox;
use crate::send::Sends;

/// Builds a follower for the configured relay with every feature's event handler (the
/// composition root knows the list).
pub(crate) type FeedFactory = Arc<
    dyn Fn() -> Pin<Box<dyn Future<Output = Result<FeedFollower<Authorizer>>> + Send>>
        + Send
        + Sync,
>;

/// Notices kept for a subscriber that lags; beyond them it is told to resync.
const NOTICES: usize = 256;

/// Where the sandbox's servers listen (loopback).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SandboxInfo {
    /// The simulated WeChat API and login pages.
    pub sim_url: String,
    pub relay_url: String,
}

/// Steps of switching to 体验沙箱, told as they happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum SandboxStep {
    /// Starting the simulator and the relay.
    Starting,
    /// Both run; waiting for the first component_verify_ticket.
    WaitingTicket,
    /// Ready: the ticket is at the relay.
    Ready,
}

#[derive(Default)]
struct Running {
    sandbox: Option<Sandbox>,
    feed: Option<CancellationToken>,
    /// Whether the platform's word on reaching WeChat is being passed on to the notices.
    health: bool,
}

/// The background services of one data dir.
#[derive(Clone)]
pub struct Services {
    platform: Platform,
    sends: Sends,
    data_dir: PathBuf,
    feed: FeedFactory,
    running: Arc<Mutex<Running>>,
    notices: broadcast::Sender<FeedNotice>,
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Services")
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}

impl Services {
    pub(crate) fn new(
        platform: Platform,
        sends: Sends,
        data_dir: &Path,
        feed: FeedFactory,
    ) -> Self {
        Services {
            platform,
            sends,
            data_dir: data_dir.to_path_buf(),
            feed,
            running: Arc::default(),
            notices: broadcast::channel(NOTICES).0,
        }
    }

    /// The follower's notices, whichever follower runs (it is replaced when the settings
    /// change). A subscriber that lags behind gets `RecvError::Lagged` and should refetch what
    /// it shows; missed notices of a follower are passed on as [`FeedNotice::CaughtUp`] with
    /// cursor `-1` (resync).
    pub fn subscribe(&self) -> broadcast::Receiver<FeedNotice> {
        self.notices.subscribe()
    }

    /// Start-up: in sandbox mode the sandbox runs again (same ports, same relay key), and the
    /// feed follower runs whenever a platform is configured. Nothing runs on first start. When
    /// the relay has no ticket, WeChat is asked to push one (设置 shows the same).
    pub async fn start(&self) -> Result<()> {
        {
            let mut running = self.running.lock().await;
            if !running.health {
                running.health = true;
                tokio::spawn(forward_health(
                    self.platform.wechat_health().subscribe(),
                    self.notices.clone(),
                ));
            }
        }
        let mode = self
            .platform
            .load_settings()
            .await?
            .settings
            .map(|s| s.mode);
        match mode {
            Some(Mode::Sandbox) => {
                self.start_sandbox().await?;
                self.restart_feed().await?;
            }
            Some(Mode::Production) => self.restart_feed().await?,
            None => {
                tracing::info!("no platform configured yet: the window offers 体验沙箱");
                return Ok(());
            }
        }
        match self.platform.ensure_ticket().await {
            Ok(t) => tracing::info!(push_requested = t.push_requested, "{}", t.message_zh()),
            Err(e) => tracing::warn!(error = %e, "start-up ticket check failed"),
        }
        Ok(())
    }

    /// Starts the in-process sim + relay (or keeps the running one) and points the settings at
    /// them; the feed is left alone (the CLI's `sandbox start` serves other processes).
    pub async fn start_sandbox(&self) -> Result<SandboxInfo> {
        let mut running = self.running.lock().await;
        if let Some(sb) = &running.sandbox {
            return Ok(info(sb));
        }
        let sb = crate::sandbox::start_sandbox(&self.platform, &self.data_dir).await?;
        // Not a secret: loopback addresses. Tests find the sim through this line.
        tracing::info!(sim_url = %sb.sim_url, relay_url = %sb.relay_url, "sandbox running");
        let urls = info(&sb);
        running.sandbox = Some(sb);
        Ok(urls)
    }

    /// 体验沙箱 for the app: the sandbox (switching the settings to it, under the settings-change
    /// guard unless it runs already), the follower on its relay, and a short wait for the first
    /// ticket so 授权账号 works at once. `progress` is told each step.
    pub async fn use_sandbox(
        &self,
        progress: &(dyn Fn(SandboxStep) + Send + Sync),
    ) -> Result<SandboxInfo> {
        progress(SandboxStep::Starting);
        let urls = if let Some(urls) = self.sandbox().await {
            urls
        } else {
            let _change = self.sends.begin_settings_change().await?;
            self.start_sandbox().await?
        };
        self.restart_feed().await?;
        progress(SandboxStep::WaitingTicket);
        self.wait_for_ticket().await;
        progress(SandboxStep::Ready);
        Ok(urls)
    }

    /// Saves a real platform's settings (mode 正式) under the settings-change guard, stops the
    /// sandbox if it ran, and follows the new relay.
    pub async fn save_settings(&self, form: SettingsForm) -> Result<SettingsView> {
        let view = {
            let _change = self.sends.begin_settings_change().await?;
            let view = self.platform.save_settings(form.into()).await?;
            self.stop_sandbox().await;
            view
        };
        self.restart_feed().await?;
        Ok(view)
    }

    /// Stops the sandbox if it runs.
    pub async fn stop_sandbox(&self) {
        let sb = self.running.lock().await.sandbox.take();
        if let Some(sb) = sb {
            sb.shutdown().await;
            tracing::info!("sandbox stopped");
        }
    }

    /// The running sandbox's addresses, if any.
    pub async fn sandbox(&self) -> Option<SandboxInfo> {
        self.running.lock().await.sandbox.as_ref().map(info)
    }

    /// The simulator's state while the sandbox runs (debug and tests).
    pub async fn sim_state(&self) -> Option<serde_json::Value> {
        self.running
            .lock()
            .await
            .sandbox
            .as_ref()
            .map(Sandbox::sim_state)
    }

    /// Stops the current feed follower (if any) and follows the configured relay again, so the
    /// follower uses the settings saved now.
    pub async fn restart_feed(&self) -> Result<()> {
        let mut running = self.running.lock().await;
        if let Some(old) = running.feed.take() {
            old.cancel();
        }
        let feed = (self.feed)().await?;
        let cancel = CancellationToken::new();
        let notices = feed.subscribe();
        tokio::spawn(feed.run(cancel.clone()));
        tokio::spawn(forward(notices, self.notices.clone(), cancel.clone()));
        running.feed = Some(cancel);
        Ok(())
    }

    /// Stops everything (the app is closing).
    pub async fn stop(&self) {
        if let Some(feed) = self.running.lock().await.feed.take() {
            feed.cancel();
        }
        self.stop_sandbox().await;
    }

    /// The events the feed parked (could not apply yet, retried in the background), oldest
    /// first.
    pub async fn parked_events(&self) -> Result<Vec<ParkedEvent>> {
        self.platform
            .store()
            .call(|c| crate::feed::parked::list(c))
            .await
    }

    /// Waits a little for the relay to hold a component_verify_ticket (asking WeChat to push
    /// one if it has none). Gives up quietly after 10 s: 检测连接 explains a missing ticket.
    async fn wait_for_ticket(&self) {
        if let Err(e) = self.platform.ensure_ticket().await {
            tracing::warn!(error = %e, "ticket check failed");
            return;
        }
        for _ in 0..40 {
            let present = match self.platform.relay().await {
                Ok(relay) => matches!(relay.fetch_ticket().await, Ok(Some(_))),
                Err(_) => false,
            };
            if present {
                return;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        tracing::warn!("no component_verify_ticket at the relay after 10 s");
    }
}

fn info(sb: &Sandbox) -> SandboxInfo {
    SandboxInfo {
        sim_url: sb.sim_url.clone(),
        relay_url: sb.relay_url.clone(),
    }
}

/// Passes the platform's word on reaching WeChat on to the notices, as it changes.
async fn forward_health(
    mut rx: tokio::sync::watch::Receiver<Option<crate::error::Msg>>,
    to: broadcast::Sender<FeedNotice>,
) {
    while rx.changed().await.is_ok() {
        let notice = match rx.borrow_and_update().clone() {
            Some(message) => FeedNotice::WechatUnreachable { message },
            None => FeedNotice::WechatReachable,
        };
        // No subscriber (no window yet): nothing to tell.
        let _ = to.send(notice);
    }
}

/// Passes one follower's notices on to the services' channel until the follower is replaced.
async fn forward(
    mut from: broadcast::Receiver<FeedNotice>,
    to: broadcast::Sender<FeedNotice>,
    cancel: CancellationToken,
) {
    use broadcast::error::RecvError;
    loop {
        let notice = tokio::select! {
            () = cancel.cancelled() => return,
            n = from.recv() => n,
        };
        let notice = match notice {
            Ok(n) => n,
            // Missed some: subscribers refetch everything account-related.
            Err(RecvError::Lagged(_)) => FeedNotice::CaughtUp { cursor: -1 },
            Err(RecvError::Closed) => return,
        };
        // No subscriber (no window yet): nothing to tell.
        let _ = to.send(notice);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Msg;
    use crate::health::WeChatHealth;

    async fn next(rx: &mut broadcast::Receiver<FeedNotice>) -> FeedNotice {
        tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .expect("a notice")
            .expect("the channel")
    }

    #[tokio::test]
    async fn the_word_on_reaching_wechat_becomes_a_notice_on_each_change() {
        let health = WeChatHealth::default();
        let (tx, mut rx) = broadcast::channel(8);
        tokio::spawn(forward_health(health.subscribe(), tx));
        let why = Msg::new(
            "无法连接微信接口：x",
            "WeChat's API could not be reached: x",
        );
        health.unreachable(why.clone());
        health.unreachable(why.clone());
        assert_eq!(
            next(&mut rx).await,
            FeedNotice::WechatUnreachable { message: why }
        );
        health.reached();
        health.reached();
        assert_eq!(next(&mut rx).await, FeedNotice::WechatReachable);
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(rx.try_recv().is_err(), "no news is not repeated");
    }
}
