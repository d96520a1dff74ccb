//! `ctx.audience`: every use case of 用户与名单 for the faces — follower pages and counts, tags,
//! the follower sync (one per account at a time, cancellable), recipient lists, imports and the
//! unionid bridge. Files are read off the async runtime; SQL runs on the store's thread.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::db::{followers, lists, sync as sync_db, tags};
use super::{
    BridgeReport, BridgeResult, Follower, FollowerCount, FollowerCounts, FollowerFilter,
    FollowerPage, ImportOptions, ImportPreview, ImportSource, ListSource, MemberPage,
    PreparedImport, RecipientList, SyncOptions, SyncProgress, SyncReport, SyncState, TagRow,
    bridge, import, team_followers, team_lists,
};
use crate::error::{Error, Result};
use crate::platform::Platform;
use crate::store::{Store, now};

/// A list just saved from an import, with the preview of what was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ImportSaved {
    pub list: RecipientList,
    pub preview: ImportPreview,
}

type Running = Arc<Mutex<HashMap<String, CancellationToken>>>;

/// The audience use cases over the platform (its store, and its connection for the sync).
#[derive(Clone, Debug)]
pub struct Audience {
    platform: Platform,
    /// Cancel tokens of the syncs running in this process, by appid.
    running: Running,
}

/// Removes the account's cancel token when its sync ends, however it ends.
struct RunningGuard {
    running: Running,
    appid: String,
}

impl Drop for RunningGuard {
    fn drop(&mut self) {
        lock(&self.running).remove(&self.appid);
    }
}

fn lock(running: &Running) -> MutexGuard<'_, HashMap<String, CancellationToken>> {
    // A poisoned map only means a panic elsewhere while holding it; the map itself is intact.
    running.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Audience {
    pub fn new(platform: Platform) -> Self {
        Audience {
            platform,
            running: Arc::default(),
        }
    }

    fn store(&self) -> &Store {
        self.platform.store()
    }

    /// The team server when this is a team workspace: its 名单 are the team's, kept there.
    async fn team(&self) -> Result<Option<crate::relay::RelayClient>> {
        self.platform.team_server().await
    }

    /// Totals over all synced followers of the account.
    pub async fn totals(&self, appid: &str) -> Result<FollowerCounts> {
        if let Some(relay) = self.team().await? {
            return team_followers::totals(&relay, appid).await;
        }
        let appid = appid.to_string();
        self.store()
            .call(move |c| followers::counts(c, &appid))
            .await
    }

    /// How many followers match `filter` (the table's row count).
    pub async fn count(&self, appid: &str, filter: FollowerFilter) -> Result<FollowerCount> {
        if let Some(relay) = self.team().await? {
            let count = team_followers::count(&relay, appid, &filter).await?;
            return Ok(FollowerCount { count });
        }
        let appid = appid.to_string();
        let count = self
            .store()
            .call(move |c| followers::count_followers(c, &appid, &filter))
            .await?;
        Ok(FollowerCount { count })
    }

    /// One keyset page of followers in openid order after `after` (at most 5,000).
    pub async fn followers(
        &self,
        appid: &str,
        filter: FollowerFilter,
        after: Option<String>,
        limit: u32,
    ) -> Result<FollowerPage> {
        if let Some(relay) = self.team().await? {
            return team_followers::page(&relay, appid, &filter, after.as_deref(), limit).await;
        }
        let appid = appid.to_string();
        self.store()
            .call(move |c| {
                followers::list_followers(c, &appid, &filter, after.as_deref(), limit as usize)
            })
            .await
    }

    /// One follower as stored, if known.
    pub async fn follower(&self, appid: &str, openid: &str) -> Result<Option<Follower>> {
        if let Some(relay) = self.team().await? {
            return team_followers::one(&relay, appid, openid).await;
        }
        let (appid, openid) = (appid.to_string(), openid.to_string());
        self.store()
            .call(move |c| followers::get_follower(c, &appid, &openid))
            .await
    }

    /// The account's tags (synced with the followers).
    pub async fn tags(&self, appid: &str) -> Result<Vec<TagRow>> {
        if let Some(relay) = self.team().await? {
            return team_followers::tag_rows(&relay, appid).await;
        }
        let appid = appid.to_string();
        self.store().call(move |c| tags::list_tags(c, &appid)).await
    }

    /// 同步粉丝: user/get + batchget + tags, `progress` told as it goes. Continues an
    /// interrupted run. Refused while a sync of the same account runs in this process;
    /// [`Audience::cancel_sync`] stops it at its next step (the checkpoint is kept).
    pub async fn sync(
        &self,
        appid: &str,
        opts: SyncOptions,
        progress: &(dyn Fn(SyncProgress) + Send + Sync),
    ) -> Result<SyncReport> {
        let cancel = CancellationToken::new();
        {
            let mut running = lock(&self.running);
            if running.contains_key(appid) {
                return Err(Error::input(
                    "该账号的粉丝正在同步中，请等待完成或先取消",
                    "This account's followers are being synced already: wait for it to finish, \
                     or cancel it first.",
                ));
            }
            running.insert(appid.to_string(), cancel.clone());
        }
        let _guard = RunningGuard {
            running: self.running.clone(),
            appid: appid.to_string(),
        };
        let api = self.platform.api().await?;
        let report =
            super::sync_followers(&api, self.store(), appid, opts, progress, &cancel).await?;
        // A team desk's sync is for the whole team: what it found is published once complete
        // (a cancelled run is continued, and published, by the next one).
        if report.outcome == super::SyncOutcome::Completed
            && let Some(relay) = self.team().await?
        {
            team_followers::publish(&relay, self.store(), appid, progress).await?;
        }
        Ok(report)
    }

    /// Stops the account's running sync at its next step; whether one was running.
    pub fn cancel_sync(&self, appid: &str) -> bool {
        lock(&self.running)
            .get(appid)
            .map(CancellationToken::cancel)
            .is_some()
    }

    /// The checkpoint of the account's last (or unfinished) sync; `None` before the first.
    /// In a team workspace that has not synced the account itself, the team's last sync.
    pub async fn sync_state(&self, appid: &str) -> Result<Option<SyncState>> {
        let a = appid.to_string();
        let local = self
            .store()
            .call(move |c| sync_db::load_state(c, &a))
            .await?;
        match (local, self.team().await?) {
            (None, Some(relay)) => team_followers::last_sync(&relay, appid).await,
            (local, _) => Ok(local),
        }
    }

    /// The account's saved lists, newest first; every account's (those in the accounts table)
    /// with `None`.
    pub async fn lists(&self, appid: Option<&str>) -> Result<Vec<RecipientList>> {
        if let Some(relay) = self.team().await? {
            return team_lists::all(&relay, appid).await;
        }
        let appid = appid.map(str::to_string);
        self.store()
            .call(move |c| match appid {
                Some(a) => lists::list_lists(c, &a),
                None => lists::list_all(c),
            })
            .await
    }

    pub async fn list(&self, id: i64) -> Result<Option<RecipientList>> {
        if let Some(relay) = self.team().await? {
            return team_lists::get(&relay, id).await;
        }
        self.store().call(move |c| lists::get_list(c, id)).await
    }

    /// One keyset page of a list's members (openid order) with their variables.
    pub async fn members(
        &self,
        list_id: i64,
        after: Option<String>,
        limit: u32,
    ) -> Result<MemberPage> {
        if let Some(relay) = self.team().await? {
            return team_lists::members(&relay, list_id, after.as_deref(), limit).await;
        }
        self.store()
            .call(move |c| lists::list_members(c, list_id, after.as_deref(), limit as usize))
            .await
    }

    /// Deletes a list and its members; whether it existed.
    pub async fn delete_list(&self, id: i64) -> Result<bool> {
        if let Some(relay) = self.team().await? {
            return team_lists::delete(&relay, id).await;
        }
        self.store().call(move |c| lists::delete_list(c, id)).await
    }

    /// Saves the following followers matching `filter` (all of them by default; a tag with
    /// `tag_id`) as a new list.
    pub async fn list_from_followers(
        &self,
        appid: &str,
        name: &str,
        filter: FollowerFilter,
    ) -> Result<RecipientList> {
        if let Some(relay) = self.team().await? {
            // Made on the server from the team's followers, in one transaction.
            let name = lists::clean_name(name)?;
            return team_followers::list_from_followers(&relay, appid, &name, &filter).await;
        }
        let (appid, name) = (appid.to_string(), name.to_string());
        self.store()
            .call(move |c| {
                let id = lists::create_from_followers(c, &appid, &name, &filter, now())?;
                saved(c, id)
            })
            .await
    }

    async fn prepare(
        &self,
        appid: &str,
        source: ImportSource,
        opts: ImportOptions,
    ) -> Result<PreparedImport> {
        let mut prepared = tokio::task::spawn_blocking(move || {
            let table = source.read()?;
            import::parse_table(table, &opts)
        })
        .await??;
        let appid = appid.to_string();
        self.store()
            .call(move |c| {
                sync_db::bulk_cache(c)?;
                import::check_following(c, &appid, &mut prepared)?;
                Ok(prepared)
            })
            .await
    }

    /// Reads and checks an import without saving anything: the preview.
    pub async fn import_preview(
        &self,
        appid: &str,
        source: ImportSource,
        opts: ImportOptions,
    ) -> Result<ImportPreview> {
        Ok(self.prepare(appid, source, opts).await?.preview)
    }

    /// Reads the source (the file or text is the truth, nothing is kept between preview and
    /// save) and saves it as a new list named `name`.
    pub async fn import_save(
        &self,
        appid: &str,
        name: &str,
        source: ImportSource,
        opts: ImportOptions,
    ) -> Result<ImportSaved> {
        let origin = source.list_source();
        let prepared = self.prepare(appid, source, opts).await?;
        if let Some(relay) = self.team().await? {
            let name = lists::clean_name(name)?;
            let list = team_lists::upload(
                &relay,
                appid,
                &name,
                &origin,
                &prepared.preview.variables,
                &prepared.rows,
            )
            .await?;
            return Ok(ImportSaved {
                list,
                preview: prepared.preview,
            });
        }
        let (appid, name) = (appid.to_string(), name.to_string());
        self.store()
            .call(move |c| {
                sync_db::bulk_cache(c)?;
                let id = lists::create_from_rows(
                    c,
                    &appid,
                    &name,
                    &origin,
                    &prepared.preview.variables,
                    &prepared.rows,
                    now(),
                )?;
                Ok(ImportSaved {
                    list: saved(c, id)?,
                    preview: prepared.preview,
                })
            })
            .await
    }

    async fn bridge(&self, appid: &str, source: ImportSource) -> Result<BridgeResult> {
        let table = tokio::task::spawn_blocking(move || source.read()).await??;
        if let Some(relay) = self.team().await? {
            // The team's followers are on the server: a first pass over the file only gathers
            // the unionids it asks about (and finds a file without a unionid column), the server
            // answers them all, the second pass maps.
            let mut wanted = Vec::new();
            bridge::bridge(&table, &ImportOptions::default(), 0, |u| {
                wanted.push(u.to_owned());
                Ok(None)
            })?;
            wanted.sort_unstable();
            wanted.dedup();
            let (found, without) = team_followers::by_unionid(&relay, appid, &wanted).await?;
            return bridge::bridge(&table, &ImportOptions::default(), without, |u| {
                Ok(found.get(u).cloned())
            });
        }
        let appid = appid.to_string();
        self.store()
            .call(move |c| {
                let without = followers::following_without_details(c, &appid)?;
                bridge::bridge(&table, &ImportOptions::default(), without, |unionid| {
                    followers::by_unionid(c, &appid, unionid)
                })
            })
            .await
    }

    /// 小程序用户映射: how a file of mini-program users (openid + unionid) maps to the account's
    /// followers; nothing is saved.
    pub async fn bridge_preview(&self, appid: &str, source: ImportSource) -> Result<BridgeReport> {
        Ok(self.bridge(appid, source).await?.report)
    }

    /// Maps the file again and saves the matched followers as a list, keeping the mini-program
    /// openid and the file's other columns as variables.
    pub async fn bridge_save(
        &self,
        appid: &str,
        name: &str,
        source: ImportSource,
    ) -> Result<RecipientList> {
        let origin = ListSource::UnionidBridge {
            file_name: source.file_name(),
        };
        let result = self.bridge(appid, source).await?;
        if let Some(relay) = self.team().await? {
            let name = lists::clean_name(name)?;
            return team_lists::upload(
                &relay,
                appid,
                &name,
                &origin,
                &result.report.variables,
                &result.rows,
            )
            .await;
        }
        let (appid, name) = (appid.to_string(), name.to_string());
        self.store()
            .call(move |c| {
                let id = lists::create_from_rows(
                    c,
                    &appid,
                    &name,
                    &origin,
                    &result.report.variables,
                    &result.rows,
                    now(),
                )?;
                saved(c, id)
            })
            .await
    }
}

/// The list just written, read back as the faces show it.
fn saved(c: &rusqlite::Connection, id: i64) -> Result<RecipientList> {
    lists::get_list(c, id)?.ok_or_else(|| {
        Error::input(
            format!("名单 {id} 保存后未找到"),
            format!("List {id} was saved but cannot be found."),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::Secrets;

    fn audience() -> Audience {
        Audience::new(Platform::new(
            Store::open_in_memory().unwrap(),
            Secrets::memory(),
        ))
    }

    #[tokio::test]
    async fn one_sync_per_account_at_a_time_and_cancel_reaches_the_running_one() {
        let a = audience();
        // A sync of wx1 is running (its token is what `sync` registers while it runs).
        let running = CancellationToken::new();
        lock(&a.running).insert("wx1".into(), running.clone());
        let clone = a.clone();
        let err = clone
            .sync("wx1", SyncOptions::default(), &|_| {})
            .await
            .unwrap_err();
        assert_eq!(err.code(), "invalid");
        assert!(err.to_string().contains("正在同步中"), "{err}");
        assert!(
            err.message(crate::Lang::En)
                .contains("being synced already"),
            "{}",
            err.message(crate::Lang::En)
        );
        assert!(
            !running.is_cancelled(),
            "a refused second sync leaves the first alone"
        );
        assert!(
            clone.cancel_sync("wx1"),
            "any clone of the handle reaches it"
        );
        assert!(running.is_cancelled());
        assert!(!a.cancel_sync("wx2"), "nothing runs for wx2");
    }

    #[tokio::test]
    async fn a_sync_that_ends_in_an_error_leaves_the_registry() {
        let a = audience();
        // No platform configured: the sync fails once registered…
        let first = a.sync("wx1", SyncOptions::default(), &|_| {}).await;
        assert_eq!(first.unwrap_err().code(), "not_configured");
        // …and is no longer "running": the next one fails the same way, not as a duplicate.
        let again = a.sync("wx1", SyncOptions::default(), &|_| {}).await;
        assert_eq!(again.unwrap_err().code(), "not_configured");
        assert!(!a.cancel_sync("wx1"));
    }

    #[tokio::test]
    async fn every_accounts_lists_come_account_by_account_and_only_for_known_accounts() {
        let a = audience();
        a.store()
            .call(|c| {
                c.execute_batch(
                    "INSERT INTO accounts (appid, kind, status, authorized_at, updated_at) VALUES \
                     ('wxold', 'oa', 'authorized', 100, 1), ('wxnew', 'oa', 'authorized', 200, 1);",
                )?;
                Ok(())
            })
            .await
            .unwrap();
        for (appid, name) in [
            ("wxold", "旧1"),
            ("wxnew", "新1"),
            ("wxgone", "已移除"),
            ("wxold", "旧2"),
        ] {
            a.import_save(
                appid,
                name,
                ImportSource::Pasted("oAAAAaaaaaaaaaaaaaaaaaaaaaaa".into()),
                ImportOptions::default(),
            )
            .await
            .unwrap();
        }
        let names: Vec<String> = a
            .lists(None)
            .await
            .unwrap()
            .into_iter()
            .map(|l| l.name)
            .collect();
        // Newest authorization first; within an account, the newest list first (ids break ties).
        assert_eq!(names, ["新1", "旧2", "旧1"]);
        assert_eq!(a.lists(Some("wxgone")).await.unwrap().len(), 1);
    }
}
