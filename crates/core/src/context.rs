//! The composition root for one data dir: opens the store and the keychain and hands out the
//! small handles the shell and the CLI call. It holds no logic of its own.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::accounts::Accounts;
use crate::audience::Audience;
use crate::auth::Authorizer;
use crate::backup::Backup;
use crate::code::Code;
use crate::compose::Compose;
use crate::error::Result;
use crate::feed::{FeedFollower, FeedNotice};
use crate::interactions::Interactions;
use crate::mini::Mini;
use crate::platform::Platform;
use crate::quota::Quotas;
use crate::secrets::{KeychainStore, Secrets};
use crate::send::{History, Sends};
use crate::services::Services;
use crate::store::Store;
use crate::store::settings::Mode;
use crate::subscriptions::Subscriptions;
use crate::templates::Templates;

#[derive(Clone, Debug)]
pub struct Context {
    pub data_dir: PathBuf,
    /// Faces use the handles, never this.
    pub(crate) store: Store,
    pub platform: Platform,
    pub authorizer: Authorizer,
    pub accounts: Accounts,
    /// 小程序代码管理: template library, commit/audit/release/rollback, rollouts.
    pub code: Code,
    /// 客服消息: who may be sent a customer-service message now.
    pub interactions: Interactions,
    /// 用户与名单: followers, tags, the follower sync, recipient lists, imports, the bridge.
    pub audience: Audience,
    /// 模板: the accounts' private templates and industries.
    pub templates: Templates,
    /// 备份与恢复.
    pub backup: Backup,
    /// The background services of a long-lived face: the sandbox and the feed follower.
    pub services: Services,
    /// 发送: recipients, draft → job spec, the composer's check, estimate, quota, test send.
    pub compose: Compose,
    /// The one engine host of this process: send lock, recovery, job actions, progress.
    pub sends: Sends,
    /// 发送记录 and 概览.
    pub history: History,
    /// 订阅通知: subscription templates, and who may be sent which notice.
    pub subscriptions: Subscriptions,
    /// 额度工具: an API's quota today, resetting account or platform quotas.
    pub quota: Quotas,
    /// Mini-program login (jscode2session) on behalf of authorized mini programs.
    pub mini: Mini,
}

impl Context {
    /// The app's and the CLI's way in: the store in `data_dir`, secrets in the OS keychain
    /// (namespaced by the data dir).
    /// While the data dir is joined to a team, its team workspace is opened instead (see
    /// [`crate::team`]); after leaving, the local one again.
    pub async fn open(data_dir: &Path) -> Result<Context> {
        let dir = crate::team::active_dir(data_dir);
        let keychain = KeychainStore::for_data_dir(&dir)?;
        Self::open_with_secrets(&dir, Secrets::new(Arc::new(keychain))).await
    }

    /// As `open` on exactly `data_dir` (a local workspace or a team workspace directory), with
    /// another secret store (tests: `Secrets::memory()`).
    pub async fn open_with_secrets(data_dir: &Path, secrets: Secrets) -> Result<Context> {
        let store = Store::open_in_dir(data_dir).await?;
        let platform = Platform::new(store.clone(), secrets);
        let platform = if crate::team::membership_of(data_dir)?.is_some() {
            // Nothing to share between processes: the team server holds the tokens.
            platform.in_team()
        } else {
            platform.sharing_tokens_in(data_dir)
        };
        let sends = Sends::new(platform.clone(), data_dir);
        let authorizer = Authorizer::new(platform.clone());
        let accounts = Accounts::new(platform.clone());
        let feed = {
            let (platform, authorizer) = (platform.clone(), authorizer.clone());
            Arc::new(move || {
                let (platform, authorizer) = (platform.clone(), authorizer.clone());
                Box::pin(async move { app_feed(&platform, authorizer).await })
                    as std::pin::Pin<Box<dyn std::future::Future<Output = _> + Send>>
            })
        };
        Ok(Context {
            audience: Audience::new(platform.clone()),
            templates: Templates::new(platform.clone(), accounts.clone()),
            backup: Backup::new(platform.clone(), data_dir),
            services: Services::new(platform.clone(), sends.clone(), data_dir, feed),
            compose: Compose::new(platform.clone(), sends.clone()),
            sends,
            history: if platform.is_team() {
                History::new(store.clone()).in_team(platform.clone())
            } else {
                History::new(store.clone())
            },
            subscriptions: Subscriptions::new(platform.clone()),
            quota: Quotas::new(platform.clone()),
            mini: Mini::new(platform.clone()),
            data_dir: data_dir.to_path_buf(),
            authorizer,
            accounts,
            code: Code::new(platform.clone(), data_dir),
            interactions: if platform.is_team() {
                Interactions::new(store.clone()).in_team(platform.clone())
            } else {
                Interactions::new(store.clone())
            },
            store,
            platform,
        })
    }

    /// Version (the face's own), data dir and mode, for the window's header and 设置.
    pub async fn app_info(&self, version: &str) -> Result<crate::app_info::AppInfo> {
        crate::app_info::read(&self.platform, &self.data_dir, version).await
    }

    /// 沙箱 / 正式 for the header badge; `None` on first start (offer 体验沙箱).
    pub async fn mode(&self) -> Result<Option<Mode>> {
        Ok(self
            .store
            .call(|c| crate::store::settings::load(c))
            .await?
            .map(|s| s.mode))
    }

    /// A feed follower for the configured relay with every feature's event handler: delivery
    /// reports (TEMPLATESENDJOBFINISH) joined to send records, followers kept current from
    /// follow/unfollow events, the users' actions that open the customer-service window, the
    /// mini programs' audit results and the users' 订阅通知 choices recorded as they arrive.
    pub async fn feed(&self) -> Result<FeedFollower<Authorizer>> {
        app_feed(&self.platform, self.authorizer.clone()).await
    }

    /// Starts following the relay ([`Context::feed`]) in the background until `cancel` fires.
    pub async fn spawn_feed(
        &self,
        cancel: CancellationToken,
    ) -> Result<(JoinHandle<()>, broadcast::Receiver<FeedNotice>)> {
        let feed = self.feed().await?;
        let notices = feed.subscribe();
        Ok((tokio::spawn(feed.run(cancel)), notices))
    }
}

/// The follower every face runs: the configured relay, and the event handler of each feature.
async fn app_feed(platform: &Platform, authorizer: Authorizer) -> Result<FeedFollower<Authorizer>> {
    let relay = platform.relay().await?;
    Ok(
        FeedFollower::new(relay, platform.store().clone(), Arc::new(authorizer))
            // A team desk's server receives the tickets; a desk of its own watches them arrive.
            .watching_tickets((!platform.is_team()).then_some(crate::feed::TICKET_CHECK_EVERY))
            .with_handler(Arc::new(crate::send::platform::DeliveryJoin))
            .with_handler(Arc::new(crate::audience::FollowEvents))
            .with_handler(Arc::new(crate::interactions::InteractionEvents))
            .with_handler(Arc::new(crate::code::AuditEvents))
            .with_handler(Arc::new(crate::subscriptions::SubscriptionEvents)),
    )
}
