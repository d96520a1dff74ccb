//! 模板: the account's private templates (sync, add from the library, delete, local notes) and
//! its industry. Adapters over `wxdesk_core::templates`; the shapes here are what the window sees.

use serde::Serialize;
use specta_typescript::Number;
use tauri::{Manager, Runtime};
use wxdesk_core::templates::keywords::{Field, KeywordType};
use wxdesk_core::templates::{self, IndustryPair, Template, TemplateSyncReport};

use wxdesk_core::store::accounts::{AccountKind, AccountStatus};

use crate::error::ShellError;
use crate::state::AppState;

/// A keyword's type, from its placeholder name (`thing1` → `thing`); the UI shows each type's rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum KeywordKind {
    Thing,
    Number,
    Letter,
    Symbol,
    CharacterString,
    Time,
    Date,
    Amount,
    PhoneNumber,
    CarNumber,
    Name,
    Phrase,
    Const,
    Enum,
    ShortThing,
    First,
    Keyword,
    Remark,
    Unknown,
}

impl From<KeywordType> for KeywordKind {
    fn from(k: KeywordType) -> Self {
        use KeywordType as K;
        match k {
            K::Thing => Self::Thing,
            K::Number => Self::Number,
            K::Letter => Self::Letter,
            K::Symbol => Self::Symbol,
            K::CharacterString => Self::CharacterString,
            K::Time => Self::Time,
            K::Date => Self::Date,
            K::Amount => Self::Amount,
            K::PhoneNumber => Self::PhoneNumber,
            K::CarNumber => Self::CarNumber,
            K::Name => Self::Name,
            K::Phrase => Self::Phrase,
            K::Const => Self::Const,
            K::Enum => Self::Enum,
            K::ShortThing => Self::ShortThing,
            K::First => Self::First,
            K::Keyword => Self::Keyword,
            K::Remark => Self::Remark,
            K::Unknown => Self::Unknown,
        }
    }
}

/// One `{{key.DATA}}` of a template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct TemplateField {
    /// The data key to send (`thing1`, `keyword2`).
    pub key: String,
    /// The label before the placeholder (`工单名称`).
    pub label: String,
    pub kind: KeywordKind,
    /// Whether recipients still see it (`first`/`remark` are hidden since 2023-05).
    pub shown: bool,
}

impl From<Field> for TemplateField {
    fn from(f: Field) -> Self {
        TemplateField {
            shown: f.kind.is_shown(),
            kind: f.kind.into(),
            key: f.key,
            label: f.label,
        }
    }
}

/// A private template of an account, with its parsed fields and local alias/note.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct TemplateInfo {
    pub appid: String,
    pub template_id: String,
    pub title: String,
    pub primary_industry: String,
    pub deputy_industry: String,
    pub content: String,
    pub example: String,
    pub fields: Vec<TemplateField>,
    /// Old industry template (`first`/`keywordN`/`remark`) rather than a category template.
    pub legacy: bool,
    pub alias: String,
    pub note: String,
    /// Unix seconds of the last sync that saw it.
    #[specta(type = Number)]
    pub synced_at: f64,
}

impl From<Template> for TemplateInfo {
    fn from(t: Template) -> Self {
        let legacy = t.fields.iter().any(|f| f.kind.is_legacy());
        TemplateInfo {
            appid: t.appid,
            template_id: t.template_id,
            title: t.title,
            primary_industry: t.primary_industry,
            deputy_industry: t.deputy_industry,
            content: t.content,
            example: t.example,
            fields: t.fields.into_iter().map(Into::into).collect(),
            legacy,
            alias: t.alias,
            note: t.note,
            synced_at: t.synced_at as f64,
        }
    }
}

/// What a sync changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
pub struct TemplateSyncSummary {
    pub added: u32,
    pub updated: u32,
    pub removed: u32,
    pub total: u32,
    /// Templates an account may hold (25).
    pub limit: u32,
}

fn small(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl From<TemplateSyncReport> for TemplateSyncSummary {
    fn from(r: TemplateSyncReport) -> Self {
        TemplateSyncSummary {
            added: small(r.added),
            updated: small(r.updated),
            removed: small(r.removed),
            total: small(r.total),
            limit: small(templates::MAX_TEMPLATES),
        }
    }
}

/// 主营行业 / 副营行业 as WeChat names them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct Industry {
    pub primary_first: String,
    pub primary_second: String,
    pub secondary_first: String,
    pub secondary_second: String,
}

impl From<IndustryPair> for Industry {
    fn from(i: IndustryPair) -> Self {
        Industry {
            primary_first: i.primary_first,
            primary_second: i.primary_second,
            secondary_first: i.secondary_first,
            secondary_second: i.secondary_second,
        }
    }
}

/// An authorized official account, for the account pickers of 模板 and 用户与名单.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct AccountOption {
    pub appid: String,
    pub nickname: String,
    /// 服务号 / 订阅号
    pub type_label: String,
    /// An account that did not grant the template permission set cannot send templates.
    pub missing_template_permission: bool,
}

/// The official accounts currently authorized here (mini programs and revoked ones left out:
/// they have no templates or followers to manage).
#[tauri::command]
#[specta::specta]
pub async fn audience_accounts<R: Runtime>(
    app: tauri::AppHandle<R>,
) -> Result<Vec<AccountOption>, ShellError> {
    let ctx = &app.state::<AppState>().ctx;
    let cards = ctx.accounts.list().await.map_err(core_err)?;
    Ok(cards
        .into_iter()
        .filter(|c| c.kind == AccountKind::Oa && c.status == AccountStatus::Authorized)
        .map(|c| AccountOption {
            appid: c.appid,
            nickname: c.nickname,
            type_label: c.type_label,
            missing_template_permission: c.missing_template_permission,
        })
        .collect())
}

/// The account's templates as last synced (no network).
#[tauri::command]
#[specta::specta]
pub async fn templates_list<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
) -> Result<Vec<TemplateInfo>, ShellError> {
    let ctx = &app.state::<AppState>().ctx;
    let list = templates::list_templates(&ctx.store, &appid)
        .await
        .map_err(core_err)?;
    Ok(list.into_iter().map(Into::into).collect())
}

/// 同步模板: get_all_private_template into the local table (aliases and notes kept).
#[tauri::command]
#[specta::specta]
pub async fn templates_sync<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
) -> Result<TemplateSyncSummary, ShellError> {
    let ctx = &app.state::<AppState>().ctx;
    let api = ctx.platform.api().await.map_err(core_err)?;
    Ok(templates::sync_templates(&api, &ctx.store, &appid)
        .await
        .map_err(core_err)?
        .into())
}

/// 从模板库添加: `short_id` is the library number (with keyword names) or a legacy `TM…` id.
#[tauri::command]
#[specta::specta]
pub async fn templates_add<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
    short_id: String,
    keywords: Vec<String>,
) -> Result<TemplateInfo, ShellError> {
    let ctx = &app.state::<AppState>().ctx;
    let api = ctx.platform.api().await.map_err(core_err)?;
    Ok(
        templates::add_template(&api, &ctx.store, &appid, &short_id, &keywords)
            .await
            .map_err(core_err)?
            .into(),
    )
}

/// Deletes the template at WeChat and locally.
#[tauri::command]
#[specta::specta]
pub async fn templates_delete<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
    template_id: String,
) -> Result<(), ShellError> {
    let ctx = &app.state::<AppState>().ctx;
    let api = ctx.platform.api().await.map_err(core_err)?;
    templates::delete_template(&api, &ctx.store, &appid, &template_id)
        .await
        .map_err(core_err)
}

/// Local alias and note (never sent to WeChat).
#[tauri::command]
#[specta::specta]
pub async fn templates_set_notes<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
    template_id: String,
    alias: String,
    note: String,
) -> Result<(), ShellError> {
    let ctx = &app.state::<AppState>().ctx;
    templates::set_template_notes(&ctx.store, &appid, &template_id, &alias, &note)
        .await
        .map_err(core_err)
}

#[tauri::command]
#[specta::specta]
pub async fn templates_get_industry<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
) -> Result<Industry, ShellError> {
    let ctx = &app.state::<AppState>().ctx;
    let api = ctx.platform.api().await.map_err(core_err)?;
    Ok(templates::get_industry(&api, &appid)
        .await
        .map_err(core_err)?
        .into())
}

/// api_set_industry with WeChat's industry numbers (WeChat allows one change a month).
#[tauri::command]
#[specta::specta]
pub async fn templates_set_industry<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
    primary_id: String,
    secondary_id: String,
) -> Result<(), ShellError> {
    let ctx = &app.state::<AppState>().ctx;
    let api = ctx.platform.api().await.map_err(core_err)?;
    templates::set_industry(&api, &appid, &primary_id, &secondary_id)
        .await
        .map_err(core_err)
}

/// The core's error as the window sees it (code, Chinese message, hint, errcode).
pub(crate) fn core_err(e: wxdesk_core::Error) -> ShellError {
    crate::error::Error::from(e).into()
}
