//! The account's private templates against WeChat: sync, add from the library, delete, industry —
//! over any [`AccountApi`] (the platform's connection in the app, a test's own in tests).

use serde::{Deserialize, Serialize};
use wxdesk_wechat::api::PrivateTemplate;

use super::db::{self as store, RemoteTemplate, Template, TemplateSyncReport};
use crate::error::{Error, Result};
use crate::gateway::{AccountApi, call};
use crate::store::{Store, now};

/// Private templates an account may hold at once (protocol C.6).
pub const MAX_TEMPLATES: usize = 25;

impl From<PrivateTemplate> for RemoteTemplate {
    fn from(t: PrivateTemplate) -> Self {
        RemoteTemplate {
            template_id: t.template_id,
            title: t.title,
            primary_industry: t.primary_industry,
            deputy_industry: t.deputy_industry,
            content: t.content,
            example: t.example,
        }
    }
}

/// What to do about an errcode of the template API, in Chinese and English.
fn advice(code: i64) -> Option<(String, String)> {
    Some(match code {
        45026 => (
            format!(
                "该公众号的模板已达上限（{MAX_TEMPLATES} 个）。请先在「模板」中删除不再使用的模板，再添加新模板。"
            ),
            format!(
                "The account holds the maximum of {MAX_TEMPLATES} templates. Delete templates it \
                 no longer uses (Templates) before adding new ones."
            ),
        ),
        48001 => (
            "该账号没有模板消息权限：模板消息仅对已认证的服务号开放，请确认账号类型与认证状态。"
                .into(),
            "The account has no template-message permission: template messages are only for \
             verified service accounts. Check the account's type and verification."
                .into(),
        ),
        61007 => (
            "授权时未勾选模板消息相关的权限集：请让管理员重新授权并勾选「消息管理」权限。".into(),
            "The authorization did not grant the template-message permission set: ask the admin \
             to authorize again with message management ticked."
                .into(),
        ),
        40246 => (
            "关键词列表无效：类目模板须从模板库选择至少一个、且名称与模板库完全一致的关键词。"
                .into(),
            "Invalid keyword list: a category template needs at least one keyword chosen from \
             the library, named exactly as the library names it."
                .into(),
        ),
        40037 => (
            "模板编号无效：模板库中没有这个编号，或该模板已被删除。".into(),
            "Invalid template number: the library has no such number, or the template was \
             deleted."
                .into(),
        ),
        40102 => (
            "行业编号无效：请从行业列表中选择。".into(),
            "Invalid industry number: choose one from the industry list.".into(),
        ),
        _ => return None,
    })
}

/// Turns the template API's errcodes into what the operator should know and do. Other errors
/// pass through with the wechat crate's general explanation. `action` is (zh, en).
fn explain(e: Error, action: (&str, &str)) -> Error {
    let Some(code) = e.wechat_errcode() else {
        return e;
    };
    match advice(code) {
        Some((zh, en)) => Error::input(
            format!("{}失败（errcode {code}）：{zh}", action.0),
            format!("{} failed (errcode {code}): {en}", action.1),
        ),
        None => e,
    }
}

/// get_all_private_template → the local table: new templates added, changed ones updated,
/// deleted ones removed; aliases, notes and const values kept.
pub async fn sync_templates<A: AccountApi + ?Sized>(
    api: &A,
    store: &Store,
    appid: &str,
) -> Result<TemplateSyncReport> {
    let list = call(api, appid, |c, t| async move { c.template_list(&t).await })
        .await
        .map_err(|e| explain(e, ("同步模板", "Syncing the templates")))?;
    let remote: Vec<RemoteTemplate> = list.into_iter().map(RemoteTemplate::from).collect();
    let appid = appid.to_string();
    store
        .call(move |c| store::apply_sync(c, &appid, &remote, now()))
        .await
}

pub(crate) async fn get_template(
    store: &Store,
    appid: &str,
    template_id: &str,
) -> Result<Option<Template>> {
    let (appid, id) = (appid.to_string(), template_id.to_string());
    store.call(move |c| store::get(c, &appid, &id)).await
}

/// api_add_template: `short_id` is the library number (category template, with the chosen
/// `keywords` in order) or a `TM…`/`OPENTM…` legacy id (no keywords). Syncs afterwards so the new
/// template is stored with its content, and returns it.
pub async fn add_template<A: AccountApi + ?Sized>(
    api: &A,
    store: &Store,
    appid: &str,
    short_id: &str,
    keywords: &[String],
) -> Result<Template> {
    let short_id = short_id.trim().to_string();
    if short_id.is_empty() {
        return Err(Error::input(
            "请填写模板库中的模板编号",
            "Enter the template's number in the library.",
        ));
    }
    let legacy = short_id.starts_with("TM") || short_id.starts_with("OPENTM");
    if !legacy && keywords.iter().all(|k| k.trim().is_empty()) {
        return Err(Error::input(
            "类目模板须选择至少一个关键词",
            "A category template needs at least one keyword.",
        ));
    }
    let names: Vec<String> = keywords
        .iter()
        .map(|k| k.trim().to_string())
        .filter(|k| !k.is_empty())
        .collect();
    let template_id = call(api, appid, |c, t| {
        let (short_id, names) = (short_id.clone(), names.clone());
        async move {
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            c.template_add(&t, &short_id, &refs).await
        }
    })
    .await
    .map_err(|e| explain(e, ("添加模板", "Adding the template")))?;
    sync_templates(api, store, appid).await?;
    get_template(store, appid, &template_id)
        .await?
        .ok_or_else(|| {
            Error::input(
                format!("模板 {template_id} 已添加，但同步后未在模板列表中出现，请稍后再同步"),
                format!(
                    "Template {template_id} was added but did not show up in the synced list: \
                     sync again in a while."
                ),
            )
        })
}

/// del_private_template, then the local row (and its notes).
pub async fn delete_template<A: AccountApi + ?Sized>(
    api: &A,
    store: &Store,
    appid: &str,
    template_id: &str,
) -> Result<()> {
    let id = template_id.to_string();
    let deleted = call(api, appid, |c, t| {
        let id = id.clone();
        async move { c.template_delete(&t, &id).await }
    })
    .await;
    match deleted {
        Ok(()) => {}
        // Already gone at WeChat (deleted elsewhere): drop the local copy all the same.
        Err(e) if e.wechat_errcode() == Some(40037) => {}
        Err(e) => return Err(explain(e, ("删除模板", "Deleting the template"))),
    }
    let appid = appid.to_string();
    store
        .call(move |c| store::remove(c, &appid, &id).map(|_| ()))
        .await
}

/// Sets the local alias and note of a template (never sent to WeChat).
pub(crate) async fn set_template_notes(
    store: &Store,
    appid: &str,
    template_id: &str,
    alias: &str,
    note: &str,
) -> Result<()> {
    let (appid, id, alias, note) = (
        appid.to_string(),
        template_id.to_string(),
        alias.to_string(),
        note.to_string(),
    );
    store
        .call(move |c| store::set_notes(c, &appid, &id, &alias, &note))
        .await
}

/// Records the approved values of a `const`/`enum` keyword so values can be checked locally.
pub(crate) async fn set_const_values(
    store: &Store,
    appid: &str,
    template_id: &str,
    key: &str,
    values: Vec<String>,
) -> Result<()> {
    let (appid, id, key) = (appid.to_string(), template_id.to_string(), key.to_string());
    store
        .call(move |c| store::set_const_values(c, &appid, &id, &key, &values))
        .await
}

/// The account's two industries (主营行业 / 副营行业) as WeChat names them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct IndustryPair {
    pub primary_first: String,
    pub primary_second: String,
    pub secondary_first: String,
    pub secondary_second: String,
}

pub async fn get_industry<A: AccountApi + ?Sized>(api: &A, appid: &str) -> Result<IndustryPair> {
    let i = call(api, appid, |c, t| async move {
        c.template_get_industry(&t).await
    })
    .await
    .map_err(|e| explain(e, ("读取行业", "Reading the industries")))?;
    Ok(IndustryPair {
        primary_first: i.primary_industry.first_class,
        primary_second: i.primary_industry.second_class,
        secondary_first: i.secondary_industry.first_class,
        secondary_second: i.secondary_industry.second_class,
    })
}

/// api_set_industry (WeChat allows a change once a month).
pub async fn set_industry<A: AccountApi + ?Sized>(
    api: &A,
    appid: &str,
    primary_id: &str,
    secondary_id: &str,
) -> Result<()> {
    let (p, s) = (
        primary_id.trim().to_string(),
        secondary_id.trim().to_string(),
    );
    call(api, appid, |c, t| {
        let (p, s) = (p.clone(), s.clone());
        async move { c.template_set_industry(&t, &p, &s).await }
    })
    .await
    .map_err(|e| explain(e, ("设置行业", "Setting the industries")))
}
