//! 订阅通知 of official accounts (protocol G): the subscription-template library and each
//! account's chosen templates (categories, library titles and their keywords, add, list,
//! delete — `wxaapi/newtmpl`), and who may be sent which notice.
//!
//! WeChat has no API that says who subscribed: the app learns it from the pushes the relay
//! forwards — a user accepting in the popup (`subscribe_msg_popup_event`), switching a notice
//! off (`subscribe_msg_change_event`), a notice sent (`subscribe_msg_sent_event`) — which
//! [`SubscriptionEvents`] keeps per (account, user, template). A one-time template allows one
//! send per accept; a long-term one any number until switched off. Sending to anyone else gets
//! 43101, so the composer and `send subscribe` refuse those recipients before sending.
//!
//! Faces reach it through the [`Subscriptions`] handle (`ctx.subscriptions`).

mod db;
mod events;

use serde::{Deserialize, Serialize};
use wxdesk_wechat::api::{self as wx, TYPE_LONG_TERM, TYPE_ONE_TIME};

pub use events::SubscriptionEvents;

use crate::accounts::{AccountKind, AccountStatus};
use crate::error::{Error, Result};
use crate::platform::Platform;
use crate::secrets::Secret;
use crate::store::Store;
use crate::templates::keywords::{Field, KeywordType, parse_content};

/// `kidList` holds 2 to 5 keywords; `sceneDesc` at most 15 characters (protocol G.3).
pub const MIN_KEYWORDS: usize = 2;
pub const MAX_KEYWORDS: usize = 5;
pub const MAX_SCENE_CHARS: usize = 15;
/// getpubtemplatetitles returns at most 30 per page.
pub const MAX_PAGE: u32 = 30;

/// 一次性 or 长期 (WeChat's `type` 2 or 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum SubscribeKind {
    /// One accept allows one send.
    OneTime,
    /// Any number of sends until the user switches it off (public-service categories only).
    LongTerm,
}

impl SubscribeKind {
    /// WeChat's `type`; anything but 3 is read as one-time, the stricter rule.
    pub fn from_type(t: i64) -> SubscribeKind {
        if t == TYPE_LONG_TERM {
            SubscribeKind::LongTerm
        } else {
            SubscribeKind::OneTime
        }
    }

    pub fn as_type(self) -> i64 {
        match self {
            SubscribeKind::OneTime => TYPE_ONE_TIME,
            SubscribeKind::LongTerm => TYPE_LONG_TERM,
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            SubscribeKind::OneTime => "一次性订阅",
            SubscribeKind::LongTerm => "长期订阅",
        }
    }
}

/// One of the account's categories (类目), the keys of the library.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SubscribeCategory {
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub id: i64,
    pub name: String,
}

/// A public template of the library.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct LibraryTitle {
    pub tid: String,
    pub title: String,
    pub kind: SubscribeKind,
    pub category_id: String,
}

/// One page of the library.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct LibraryPage {
    /// Titles in all (every page).
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub count: i64,
    pub titles: Vec<LibraryTitle>,
}

/// One keyword a library template offers, with its rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct LibraryKeyword {
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub kid: i64,
    pub name: String,
    pub example: String,
    /// The data key the notice will use (`thing2`).
    pub key: String,
    /// Its type, whose value rule the composer checks (protocol E.1).
    pub kind: KeywordType,
}

/// One of the account's chosen 订阅通知 templates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SubscribeTemplate {
    pub appid: String,
    pub template_id: String,
    pub title: String,
    /// `{{thing1.DATA}}` lines, as WeChat shows them.
    pub content: String,
    pub example: String,
    pub kind: SubscribeKind,
    /// The typed fields of `content`, in order.
    pub fields: Vec<Field>,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub synced_at: i64,
}

/// What a user granted a template, as the pushes told it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Receiver {
    pub openid: String,
    /// One-time accepts not used yet.
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub remaining: u64,
    /// Accepted since the last switch-off (a long-term template needs nothing more).
    pub accepted: bool,
    /// accept / reject / switch_off.
    pub last_action: String,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub updated_at: i64,
    /// Notices WeChat reported sent to this user for this template.
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub sent: u64,
}

/// Who can receive one template now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Receivers {
    pub template_id: String,
    pub kind: SubscribeKind,
    /// How many can receive it (all of them, beyond `receivers`).
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub total: u64,
    pub receivers: Vec<Receiver>,
}

/// Recipients of a notice split by whether they can receive it (the refused would get 43101).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Reach {
    pub template: SubscribeTemplate,
    pub allowed: Vec<String>,
    pub refused: Vec<String>,
}

/// The 订阅通知 handle: cheap to clone.
#[derive(Clone, Debug)]
pub struct Subscriptions {
    platform: Platform,
}

impl Subscriptions {
    pub fn new(platform: Platform) -> Subscriptions {
        Subscriptions { platform }
    }

    fn store(&self) -> &Store {
        self.platform.store()
    }

    /// `appid` is an authorized official account here.
    async fn check_oa(&self, appid: &str) -> Result<()> {
        let id = appid.to_string();
        let row = self
            .store()
            .call(move |c| crate::accounts::db::get(c, &id))
            .await?;
        match row {
            Some(a) if a.kind == AccountKind::Oa && a.status == AccountStatus::Authorized => Ok(()),
            Some(a) if a.kind == AccountKind::Mini => Err(Error::input(
                format!("{appid} 是小程序：订阅通知模板属于公众号（小程序订阅消息不在此管理）"),
                format!(
                    "{appid} is a mini program: subscription notices belong to official accounts"
                ),
            )),
            Some(_) => Err(Error::input(
                format!("公众号 {appid} 未授权（或已取消授权）：请先重新授权"),
                format!("The official account {appid} is not authorized: authorize it again"),
            )),
            None => Err(Error::AccountNotFound(appid.to_string())),
        }
    }

    /// A call with the account's authorizer token (retries, one token refresh).
    async fn call<T, F, Fut>(&self, appid: &str, f: F) -> Result<T>
    where
        F: FnMut(wx::Client, Secret) -> Fut,
        Fut: Future<Output = wxdesk_wechat::Result<T>>,
    {
        self.check_oa(appid).await?;
        let api = self.platform.api().await?;
        crate::gateway::call(&*api, appid, f).await
    }

    /// The account's categories (类目).
    pub async fn categories(&self, appid: &str) -> Result<Vec<SubscribeCategory>> {
        let list = self
            .call(appid, |c, t| async move { c.newtmpl_categories(&t).await })
            .await?;
        Ok(list
            .into_iter()
            .map(|c| SubscribeCategory {
                id: c.id,
                name: c.name,
            })
            .collect())
    }

    /// One page of the library under `category_ids` (all the account's categories when empty).
    pub async fn library(
        &self,
        appid: &str,
        category_ids: &[i64],
        start: u32,
        limit: u32,
    ) -> Result<LibraryPage> {
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(Error::input(
                format!("每页条数应为 1–{MAX_PAGE}"),
                format!("The page size must be 1 to {MAX_PAGE}"),
            ));
        }
        let ids: Vec<i64> = if category_ids.is_empty() {
            self.categories(appid).await?.iter().map(|c| c.id).collect()
        } else {
            category_ids.to_vec()
        };
        if ids.is_empty() {
            return Ok(LibraryPage {
                count: 0,
                titles: Vec::new(),
            });
        }
        let page = self
            .call(appid, |c, t| {
                let ids = ids.clone();
                async move { c.newtmpl_pub_titles(&t, &ids, start, limit).await }
            })
            .await?;
        Ok(LibraryPage {
            count: page.count,
            titles: page
                .data
                .into_iter()
                .map(|t| LibraryTitle {
                    tid: t.tid,
                    title: t.title,
                    kind: SubscribeKind::from_type(t.kind),
                    category_id: t.category_id,
                })
                .collect(),
        })
    }

    /// The keywords library template `tid` offers, typed.
    pub async fn keywords(&self, appid: &str, tid: &str) -> Result<Vec<LibraryKeyword>> {
        let tid = check_tid(tid)?;
        let list = self
            .call(appid, |c, t| {
                let tid = tid.clone();
                async move { c.newtmpl_pub_keywords(&t, &tid).await }
            })
            .await?;
        Ok(list
            .into_iter()
            .map(|k| {
                let key = format!("{}{}", k.rule, k.kid);
                LibraryKeyword {
                    kind: KeywordType::from_key(&key),
                    kid: k.kid,
                    name: k.name,
                    example: k.example,
                    key,
                }
            })
            .collect())
    }

    /// Choose library template `tid` with keywords `kids` (2–5, in display order) and a scene
    /// description (≤ 15 characters); returns the new template as WeChat now lists it.
    pub async fn add(
        &self,
        appid: &str,
        tid: &str,
        kids: &[i64],
        scene: &str,
    ) -> Result<SubscribeTemplate> {
        let tid = check_tid(tid)?;
        check_kids(kids)?;
        let scene = check_scene(scene)?;
        let id = self
            .call(appid, |c, t| {
                let (tid, scene) = (tid.clone(), scene.clone());
                async move { c.newtmpl_add(&t, &tid, kids, &scene).await }
            })
            .await?;
        let list = self.sync(appid).await?;
        list.into_iter()
            .find(|t| t.template_id == id)
            .ok_or_else(|| {
                Error::input(
                    format!("微信已添加模板 {id}，但模板列表中没有它；稍后再列出一次"),
                    format!(
                        "WeChat added template {id} but does not list it yet; list again later"
                    ),
                )
            })
    }

    /// The account's chosen templates as WeChat lists them now (kept for the composer).
    pub async fn sync(&self, appid: &str) -> Result<Vec<SubscribeTemplate>> {
        let list = self
            .call(appid, |c, t| async move { c.newtmpl_list(&t).await })
            .await?;
        let now = crate::store::now();
        let list: Vec<SubscribeTemplate> = list
            .into_iter()
            .map(|t| SubscribeTemplate {
                appid: appid.to_string(),
                fields: parse_content(&t.content),
                template_id: t.pri_tmpl_id,
                title: t.title,
                content: t.content,
                example: t.example,
                kind: SubscribeKind::from_type(t.kind),
                synced_at: now,
            })
            .collect();
        // The order `list` reads them back in.
        let mut list = list;
        list.sort_by(|a, b| (&a.title, &a.template_id).cmp(&(&b.title, &b.template_id)));
        let (id, stored) = (appid.to_string(), list.clone());
        self.store()
            .call(move |c| db::replace_templates(c, &id, &stored))
            .await?;
        Ok(list)
    }

    /// The templates last listed (no WeChat call).
    pub async fn list(&self, appid: &str) -> Result<Vec<SubscribeTemplate>> {
        let id = appid.to_string();
        self.store().call(move |c| db::templates(c, &id)).await
    }

    /// One template: the stored one, else listed from WeChat once.
    pub async fn template(&self, appid: &str, template_id: &str) -> Result<SubscribeTemplate> {
        let (id, tid) = (appid.to_string(), template_id.to_string());
        if let Some(t) = self
            .store()
            .call(move |c| db::template(c, &id, &tid))
            .await?
        {
            return Ok(t);
        }
        self.sync(appid)
            .await?
            .into_iter()
            .find(|t| t.template_id == template_id)
            .ok_or_else(|| {
                Error::input(
                    format!("公众号 {appid} 没有订阅通知模板 {template_id}（用 templates subscribe list 查看）"),
                    format!(
                        "The official account {appid} has no subscription template {template_id} (see templates subscribe list)"
                    ),
                )
            })
    }

    pub async fn delete(&self, appid: &str, template_id: &str) -> Result<()> {
        let tid = template_id.to_string();
        self.call(appid, |c, t| {
            let tid = tid.clone();
            async move { c.newtmpl_delete(&t, &tid).await }
        })
        .await?;
        let (id, tid) = (appid.to_string(), template_id.to_string());
        self.store()
            .call(move |c| db::remove_template(c, &id, &tid))
            .await
    }

    /// Who can receive `template_id` now (newest first, at most `limit`), as the relay's
    /// subscription pushes told it.
    pub async fn receivers(&self, appid: &str, template_id: &str, limit: u32) -> Result<Receivers> {
        let t = self.template(appid, template_id).await?;
        let long_term = t.kind == SubscribeKind::LongTerm;
        let (id, tid) = (appid.to_string(), template_id.to_string());
        let (total, receivers) = self
            .store()
            .call(move |c| db::receivers(c, &id, &tid, long_term, limit.min(10_000)))
            .await?;
        Ok(Receivers {
            template_id: template_id.to_string(),
            kind: t.kind,
            total,
            receivers,
        })
    }

    /// Which of `openids` can receive `template_id` now; the others would get 43101.
    pub async fn reach(&self, appid: &str, template_id: &str, openids: &[String]) -> Result<Reach> {
        let t = self.template(appid, template_id).await?;
        let long_term = t.kind == SubscribeKind::LongTerm;
        let (id, tid, list) = (appid.to_string(), template_id.to_string(), openids.to_vec());
        let (allowed, refused) = self
            .store()
            .call(move |c| {
                let mut allowed = Vec::new();
                let mut refused = Vec::new();
                for o in list {
                    let ok = db::grant(c, &id, &tid, &o)?
                        .is_some_and(|g| g.remaining > 0 || (long_term && g.accepted));
                    if ok {
                        allowed.push(o);
                    } else {
                        refused.push(o);
                    }
                }
                Ok((allowed, refused))
            })
            .await?;
        Ok(Reach {
            template: t,
            allowed,
            refused,
        })
    }
}

fn check_tid(tid: &str) -> Result<String> {
    let tid = tid.trim();
    if tid.is_empty() || !tid.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::input(
            format!("模板库编号 tid「{tid}」应为数字（取自 templates subscribe library）"),
            format!(
                "The library tid \"{tid}\" must be a number (from templates subscribe library)"
            ),
        ));
    }
    Ok(tid.to_string())
}

fn check_kids(kids: &[i64]) -> Result<()> {
    let mut seen = std::collections::HashSet::new();
    if !(MIN_KEYWORDS..=MAX_KEYWORDS).contains(&kids.len()) || !kids.iter().all(|k| seen.insert(*k))
    {
        return Err(Error::input(
            format!("请选择 {MIN_KEYWORDS}–{MAX_KEYWORDS} 个不重复的关键词（kid）"),
            format!("Choose {MIN_KEYWORDS} to {MAX_KEYWORDS} distinct keywords (kid)"),
        ));
    }
    Ok(())
}

fn check_scene(scene: &str) -> Result<String> {
    let scene = scene.trim();
    let n = scene.chars().count();
    if n == 0 || n > MAX_SCENE_CHARS {
        return Err(Error::input(
            format!("场景描述必填，不超过 {MAX_SCENE_CHARS} 个字（现在 {n} 个）"),
            format!(
                "The scene description is required, at most {MAX_SCENE_CHARS} characters (now {n})"
            ),
        ));
    }
    Ok(scene.to_string())
}

#[cfg(test)]
mod tests;
