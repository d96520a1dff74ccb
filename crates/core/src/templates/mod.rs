//! 模板 (templates) per authorized account: keyword parsing and value rules, and the local copy of
//! the account's private templates kept in step with WeChat (with local aliases and notes).
//! Faces reach it through the [`Templates`] handle (`ctx.templates`); the table's SQL is in `db`.

pub(crate) mod db;
pub mod keywords;
pub mod service;
pub(crate) mod team;

pub use db::{RemoteTemplate, Template, TemplateSyncReport};
pub(crate) use service::get_template;
pub use service::{
    IndustryPair, MAX_TEMPLATES, add_template, delete_template, get_industry, set_industry,
    sync_templates,
};

use crate::accounts::{AccountCard, AccountKind, AccountStatus, Accounts};
use crate::error::Result;
use crate::platform::Platform;

/// `ctx.templates`: the account's private templates (local list, sync, add, delete, notes,
/// approved const values), its industries, and which accounts have templates at all.
#[derive(Clone, Debug)]
pub struct Templates {
    platform: Platform,
    accounts: Accounts,
}

impl Templates {
    pub fn new(platform: Platform, accounts: Accounts) -> Self {
        Templates { platform, accounts }
    }

    /// The official accounts authorized now under the current platform: the ones that have
    /// templates and followers (mini programs, revoked accounts and another platform's archived
    /// ones are left out). The pickers of 模板, 用户与名单 and 发送.
    pub async fn accounts(&self) -> Result<Vec<AccountCard>> {
        Ok(self
            .accounts
            .list_current()
            .await?
            .into_iter()
            .filter(|c| c.kind == AccountKind::Oa && c.status == AccountStatus::Authorized)
            .collect())
    }

    /// The team server of a team workspace: the team's templates are there.
    async fn team(&self) -> Result<Option<crate::relay::RelayClient>> {
        self.platform.team_server().await
    }

    /// In a team workspace, this desk's copy made current from the team's (before a read).
    async fn pull(&self, appid: &str) -> Result<()> {
        match self.team().await? {
            Some(relay) => team::pull(&relay, self.platform.store(), appid).await,
            None => Ok(()),
        }
    }

    /// In a team workspace, WeChat's list as this desk now has it, published to the team.
    async fn publish(&self, appid: &str) -> Result<()> {
        match self.team().await? {
            Some(relay) => team::publish(&relay, self.platform.store(), appid).await,
            None => Ok(()),
        }
    }

    /// The account's templates as last synced (no WeChat call; a team workspace asks its
    /// server), by title.
    pub async fn list(&self, appid: &str) -> Result<Vec<Template>> {
        self.pull(appid).await?;
        let appid = appid.to_string();
        self.platform
            .store()
            .call(move |c| db::list(c, &appid))
            .await
    }

    pub async fn get(&self, appid: &str, template_id: &str) -> Result<Option<Template>> {
        self.pull(appid).await?;
        service::get_template(self.platform.store(), appid, template_id).await
    }

    /// 同步模板: get_all_private_template into the local table (aliases and notes kept).
    pub async fn sync(&self, appid: &str) -> Result<TemplateSyncReport> {
        let api = self.platform.api().await?;
        let report = sync_templates(&api, self.platform.store(), appid).await?;
        self.publish(appid).await?;
        Ok(report)
    }

    /// 从模板库添加: `short_id` is the library number (with keyword names) or a legacy `TM…` id.
    pub async fn add(&self, appid: &str, short_id: &str, keywords: &[String]) -> Result<Template> {
        let api = self.platform.api().await?;
        let added = add_template(&api, self.platform.store(), appid, short_id, keywords).await?;
        self.publish(appid).await?;
        Ok(added)
    }

    /// Deletes the template at WeChat and here.
    pub async fn delete(&self, appid: &str, template_id: &str) -> Result<()> {
        let api = self.platform.api().await?;
        delete_template(&api, self.platform.store(), appid, template_id).await?;
        self.publish(appid).await
    }

    /// The local alias and note (never sent to WeChat).
    pub async fn set_notes(
        &self,
        appid: &str,
        template_id: &str,
        alias: &str,
        note: &str,
    ) -> Result<()> {
        // Checked against this desk's copy first (the template exists), then the team's.
        self.pull(appid).await?;
        service::set_template_notes(self.platform.store(), appid, template_id, alias, note).await?;
        if let Some(relay) = self.team().await? {
            team::set_notes(&relay, appid, template_id, alias, note).await?;
            self.pull(appid).await?;
        }
        Ok(())
    }

    /// The approved values of a `const`/`enum` keyword (none: forget them), so values are
    /// checked before sending.
    pub async fn set_const_values(
        &self,
        appid: &str,
        template_id: &str,
        key: &str,
        values: Vec<String>,
    ) -> Result<()> {
        self.pull(appid).await?;
        service::set_const_values(
            self.platform.store(),
            appid,
            template_id,
            key,
            values.clone(),
        )
        .await?;
        if let Some(relay) = self.team().await? {
            team::set_const_values(&relay, appid, template_id, key, &values).await?;
            self.pull(appid).await?;
        }
        Ok(())
    }

    /// The account's two industries (a WeChat call).
    pub async fn industry(&self, appid: &str) -> Result<IndustryPair> {
        let api = self.platform.api().await?;
        get_industry(&api, appid).await
    }

    /// api_set_industry with WeChat's industry numbers (WeChat allows one change a month).
    pub async fn set_industry(
        &self,
        appid: &str,
        primary_id: &str,
        secondary_id: &str,
    ) -> Result<()> {
        let api = self.platform.api().await?;
        set_industry(&api, appid, primary_id, secondary_id).await
    }
}
