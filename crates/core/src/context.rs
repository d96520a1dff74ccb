//! The composition root for one data dir: opens the store and the keychain and hands out the
//! small handles the shell and the CLI call. It holds no logic of its own.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::accounts::Accounts;
use crate::auth::Authorizer;
use crate::code::Code;
use crate::error::Result;
use crate::feed::{FeedFollower, FeedNotice};
use crate::interactions::Interactions;
use crate::platform::Platform;
use crate::secrets::{KeychainStore, Secrets};
use crate::store::Store;
use crate::store::settings::Mode;

#[derive(Clone, Debug)]
pub struct Context {
    pub data_dir: PathBuf,
    pub store: Store,
    pub platform: Platform,
    pub authorizer: Authorizer,
    pub accounts: Accounts,
    /// 小程序代码管理: template library, commit/audit/release/rollback, rollouts.
    pub code: Code,
    /// 客服消息: who may be sent a customer-service message now.
    pub interactions: Interactions,
}

impl Context {
    /// The app's and the CLI's way in: the store in `data_dir`, secrets in the OS keychain
    /// (namespaced by the data dir).
    pub async fn open(data_dir: &Path) -> Result<Context> {
        let keychain = KeychainStore::for_data_dir(data_dir)?;
        Self::open_with_secrets(data_dir, Secrets::new(Arc::new(keychain))).await
    }

    /// As `open`, with another secret store (tests: `Secrets::memory()`).
    pub async fn open_with_secrets(data_dir: &Path, secrets: Secrets) -> Result<Context> {
        let store = Store::open_in_dir(data_dir).await?;
        let platform = Platform::new(store.clone(), secrets).sharing_tokens_in(data_dir);
        Ok(Context {
            data_dir: data_dir.to_path_buf(),
            authorizer: Authorizer::new(platform.clone()),
            accounts: Accounts::new(platform.clone()),
            code: Code::new(platform.clone(), data_dir),
            interactions: Interactions::new(store.clone()),
            store,
            platform,
        })
    }

    /// 沙箱 / 正式 for the header badge; `None` on first start (offer 体验沙箱).
    pub async fn mode(&self) -> Result<Option<Mode>> {
        Ok(self
            .store
            .call(|c| crate::store::settings::load(c))
            .await?
            .map(|s| s.mode))
    }

    /// A feed follower for the configured relay; add other features' handlers with
    /// `with_handler` before running it.
    pub async fn feed(&self) -> Result<FeedFollower<Authorizer>> {
        let relay = self.platform.relay().await?;
        Ok(FeedFollower::new(
            relay,
            self.store.clone(),
            Arc::new(self.authorizer.clone()),
        ))
    }

    /// Starts following the relay in the background until `cancel` fires, joining delivery
    /// reports (TEMPLATESENDJOBFINISH) to send records, keeping followers current from
    /// follow/unfollow events, recording the users' actions that open the customer-service
    /// window and the mini programs' audit results, as they arrive.
    pub async fn spawn_feed(
        &self,
        cancel: CancellationToken,
    ) -> Result<(JoinHandle<()>, broadcast::Receiver<FeedNotice>)> {
        let feed = self
            .feed()
            .await?
            .with_handler(Arc::new(crate::cli_support::DeliveryEvents))
            .with_handler(Arc::new(crate::audience::FollowEvents))
            .with_handler(Arc::new(crate::interactions::InteractionEvents))
            .with_handler(Arc::new(crate::code::AuditEvents));
        let notices = feed.subscribe();
        Ok((tokio::spawn(feed.run(cancel)), notices))
    }
}
