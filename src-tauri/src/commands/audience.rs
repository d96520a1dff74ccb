//! 用户与名单: followers (synced with progress over a Channel, cancellable, resumable), tags,
//! recipient lists (from followers, pasted openids or a CSV/XLSX file, with an import preview)
//! and the unionid bridge. Adapters over `wxdesk_core::audience`.
//!
//! Numbers that are `i64`/`u64` in the core travel as `f64` (JSON numbers): the bindings
//! generator refuses BigInt types, and every id, count and timestamp here is far below 2^53.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{LazyLock, Mutex};

use serde::{Deserialize, Serialize};
use specta_typescript::Number;
use tauri::ipc::Channel;
use tauri::{Manager, Runtime};
use tokio_util::sync::CancellationToken;
use wxdesk_core::audience::bridge::UnmatchedRow;
use wxdesk_core::audience::import::InvalidRow;
use wxdesk_core::audience::{
    self, BridgeReport, Follower, FollowerCounts, FollowerFilter, ImportOptions, ImportPreview,
    ImportRow, ImportSource, ListSource, RecipientList, SourceFormat, SyncOptions, SyncOutcome,
    SyncPhase, SyncProgress, SyncState, TagRow, followers, lists, tags,
};

use super::templates::core_err;
use crate::error::ShellError;
use crate::state::AppState;

type CmdResult<T> = Result<T, ShellError>;

/// The id of a list just saved.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, specta::Type)]
pub struct ListCreated {
    #[specta(type = Number)]
    pub id: f64,
}

fn num(n: impl TryInto<i64>) -> f64 {
    // Counts and ids fit in 53 bits; the conversion is exact for them.
    n.try_into().map_or(f64::MAX, |v: i64| v as f64)
}

fn int(n: f64) -> i64 {
    n as i64
}

fn ctx<R: Runtime>(app: &tauri::AppHandle<R>) -> wxdesk_core::context::Context {
    app.state::<AppState>().ctx.clone()
}

/// One follower row of the table.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct FollowerRow {
    pub openid: String,
    pub unionid: Option<String>,
    pub subscribe: bool,
    #[specta(type = Option<Number>)]
    pub subscribe_time: Option<f64>,
    pub remark: String,
    #[specta(type = Vec<Number>)]
    pub tag_ids: Vec<f64>,
    /// Details (unionid, remark, tags) fetched by user/info/batchget.
    pub has_details: bool,
}

impl From<Follower> for FollowerRow {
    fn from(f: Follower) -> Self {
        FollowerRow {
            openid: f.openid,
            unionid: f.unionid,
            subscribe: f.subscribe,
            subscribe_time: f.subscribe_time.map(num),
            remark: f.remark,
            tag_ids: f.tagid_list.into_iter().map(num).collect(),
            has_details: f.has_details,
        }
    }
}

/// The table's search and filters; every field narrows the result.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, specta::Type)]
pub struct FollowerQuery {
    /// Openid, unionid or remark (substring).
    pub search: Option<String>,
    pub tag_id: Option<f64>,
    /// Only following (`true`) or only unsubscribed (`false`).
    pub subscribed: Option<bool>,
    /// Subscribed at or after (unix seconds).
    pub subscribed_from: Option<f64>,
    /// Subscribed before (unix seconds).
    pub subscribed_until: Option<f64>,
}

impl From<FollowerQuery> for FollowerFilter {
    fn from(q: FollowerQuery) -> Self {
        FollowerFilter {
            search: q
                .search
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty()),
            tag_id: q.tag_id.map(int),
            subscribed: q.subscribed,
            subscribed_from: q.subscribed_from.map(int),
            subscribed_until: q.subscribed_until.map(int),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct FollowerPageView {
    pub items: Vec<FollowerRow>,
    /// Pass back as `after` for the next page; `null` at the end.
    pub next_after: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, specta::Type)]
pub struct FollowerTotals {
    #[specta(type = Number)]
    pub total: f64,
    #[specta(type = Number)]
    pub subscribed: f64,
    #[specta(type = Number)]
    pub unsubscribed: f64,
    #[specta(type = Number)]
    pub with_unionid: f64,
    #[specta(type = Number)]
    pub without_details: f64,
}

impl From<FollowerCounts> for FollowerTotals {
    fn from(c: FollowerCounts) -> Self {
        FollowerTotals {
            total: num(c.total),
            subscribed: num(c.subscribed),
            unsubscribed: num(c.unsubscribed),
            with_unionid: num(c.with_unionid),
            without_details: num(c.without_details),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum SyncStage {
    Listing,
    Details,
    Tags,
    Done,
}

impl From<SyncPhase> for SyncStage {
    fn from(p: SyncPhase) -> Self {
        match p {
            SyncPhase::Listing => Self::Listing,
            SyncPhase::Details => Self::Details,
            SyncPhase::Tags => Self::Tags,
            SyncPhase::Done => Self::Done,
        }
    }
}

/// Streamed while a follower sync runs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, specta::Type)]
pub struct FollowerSyncProgress {
    pub stage: SyncStage,
    #[specta(type = Number)]
    pub fetched: f64,
    #[specta(type = Number)]
    pub total: f64,
}

impl From<SyncProgress> for FollowerSyncProgress {
    fn from(p: SyncProgress) -> Self {
        FollowerSyncProgress {
            stage: p.phase.into(),
            fetched: num(p.fetched),
            total: num(p.total),
        }
    }
}

/// The account's sync checkpoint: an unfinished run (`stage` ≠ done) can be continued.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct FollowerSyncCheckpoint {
    pub stage: SyncStage,
    /// Followers WeChat reported.
    #[specta(type = Number)]
    pub total: f64,
    #[specta(type = Number)]
    pub listed: f64,
    #[specta(type = Number)]
    pub started_at: f64,
    #[specta(type = Option<Number>)]
    pub finished_at: Option<f64>,
    #[specta(type = Number)]
    pub updated_at: f64,
}

impl From<SyncState> for FollowerSyncCheckpoint {
    fn from(s: SyncState) -> Self {
        FollowerSyncCheckpoint {
            stage: s.phase.into(),
            total: num(s.total),
            listed: num(s.listed),
            started_at: num(s.started_at),
            finished_at: s.finished_at.map(num),
            updated_at: num(s.updated_at),
        }
    }
}

/// What a sync run did.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, specta::Type)]
pub struct FollowerSyncResult {
    /// `false`: stopped by 取消 (or the window); the next run continues from the checkpoint.
    pub completed: bool,
    pub resumed: bool,
    #[specta(type = Number)]
    pub total: f64,
    #[specta(type = Number)]
    pub added: f64,
    #[specta(type = Number)]
    pub resubscribed: f64,
    #[specta(type = Number)]
    pub unsubscribed: f64,
    #[specta(type = Number)]
    pub details_fetched: f64,
}

/// Cancel tokens of the syncs running now, by appid (one sync per account at a time).
static RUNNING_SYNCS: LazyLock<Mutex<HashMap<String, CancellationToken>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

fn running() -> std::sync::MutexGuard<'static, HashMap<String, CancellationToken>> {
    // A poisoned map only means a panic elsewhere while holding it; the map itself is intact.
    RUNNING_SYNCS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Removes the account's cancel token when the sync ends, however it ends.
struct RunningGuard(String);

impl Drop for RunningGuard {
    fn drop(&mut self) {
        running().remove(&self.0);
    }
}

/// 同步粉丝: user/get + batchget + tags, progress streamed on `on_progress`. Continues an
/// interrupted run. Refused while a sync of the same account is running.
#[tauri::command]
#[specta::specta]
pub async fn followers_sync<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
    on_progress: Channel<FollowerSyncProgress>,
) -> CmdResult<FollowerSyncResult> {
    let ctx = ctx(&app);
    let cancel = CancellationToken::new();
    {
        let mut map = running();
        if map.contains_key(&appid) {
            return Err(core_err(wxdesk_core::Error::Invalid(
                "该账号的粉丝正在同步中，请等待完成或先取消".into(),
            )));
        }
        map.insert(appid.clone(), cancel.clone());
    }
    let _guard = RunningGuard(appid.clone());
    let api = ctx.platform.api().await.map_err(core_err)?;
    let progress = move |p: SyncProgress| {
        // The window may have closed; the sync goes on and its checkpoint is saved.
        let _ = on_progress.send(p.into());
    };
    let r = audience::sync_followers(
        &api,
        &ctx.store,
        &appid,
        SyncOptions::default(),
        &progress,
        &cancel,
    )
    .await
    .map_err(core_err)?;
    Ok(FollowerSyncResult {
        completed: r.outcome == SyncOutcome::Completed,
        resumed: r.resumed,
        total: num(r.total),
        added: num(r.added),
        resubscribed: num(r.resubscribed),
        unsubscribed: num(r.unsubscribed),
        details_fetched: num(r.details_fetched),
    })
}

/// 取消同步: stops the running sync at its next step; its checkpoint is kept for 继续同步.
/// Returns whether a sync was running.
#[tauri::command]
#[specta::specta]
pub fn followers_sync_cancel(appid: String) -> bool {
    running()
        .get(&appid)
        .map(CancellationToken::cancel)
        .is_some()
}

/// The checkpoint of the account's last (or unfinished) sync; `null` before the first sync.
#[tauri::command]
#[specta::specta]
pub async fn followers_sync_state<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
) -> CmdResult<Option<FollowerSyncCheckpoint>> {
    let ctx = ctx(&app);
    Ok(audience::sync_state(&ctx.store, &appid)
        .await
        .map_err(core_err)?
        .map(Into::into))
}

/// Totals over all synced followers of the account.
#[tauri::command]
#[specta::specta]
pub async fn followers_totals<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
) -> CmdResult<FollowerTotals> {
    let ctx = ctx(&app);
    let c = ctx
        .store
        .call(move |c| followers::counts(c, &appid))
        .await
        .map_err(core_err)?;
    Ok(c.into())
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, specta::Type)]
pub struct FollowerCountView {
    #[specta(type = Number)]
    pub count: f64,
}

/// How many followers match the query (the table's row count).
#[tauri::command]
#[specta::specta]
pub async fn followers_count<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
    query: FollowerQuery,
) -> CmdResult<FollowerCountView> {
    let ctx = ctx(&app);
    let filter = FollowerFilter::from(query);
    let n = ctx
        .store
        .call(move |c| followers::count_followers(c, &appid, &filter))
        .await
        .map_err(core_err)?;
    Ok(FollowerCountView { count: num(n) })
}

/// One keyset page of followers in openid order after `after` (at most 5,000).
#[tauri::command]
#[specta::specta]
pub async fn followers_page<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
    query: FollowerQuery,
    after: Option<String>,
    limit: u32,
) -> CmdResult<FollowerPageView> {
    let ctx = ctx(&app);
    let filter = FollowerFilter::from(query);
    let page = ctx
        .store
        .call(move |c| {
            followers::list_followers(c, &appid, &filter, after.as_deref(), limit as usize)
        })
        .await
        .map_err(core_err)?;
    Ok(FollowerPageView {
        items: page.items.into_iter().map(Into::into).collect(),
        next_after: page.next_after,
    })
}

#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct TagInfo {
    #[specta(type = Number)]
    pub tag_id: f64,
    pub name: String,
    /// Members as WeChat counts them.
    #[specta(type = Number)]
    pub count: f64,
    /// Members among the synced followers who follow now.
    #[specta(type = Number)]
    pub local_count: f64,
    #[specta(type = Number)]
    pub synced_at: f64,
}

impl From<TagRow> for TagInfo {
    fn from(t: TagRow) -> Self {
        TagInfo {
            tag_id: num(t.tag_id),
            name: t.name,
            count: num(t.count),
            local_count: num(t.local_count),
            synced_at: num(t.synced_at),
        }
    }
}

/// The account's tags (synced with the followers).
#[tauri::command]
#[specta::specta]
pub async fn tags_list<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
) -> CmdResult<Vec<TagInfo>> {
    let ctx = ctx(&app);
    let rows = ctx
        .store
        .call(move |c| tags::list_tags(c, &appid))
        .await
        .map_err(core_err)?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// Where a list came from.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ListOrigin {
    Followers { tag_id: Option<f64> },
    Pasted,
    File { file_name: String },
    UnionidBridge { file_name: String },
}

impl From<ListSource> for ListOrigin {
    fn from(s: ListSource) -> Self {
        match s {
            ListSource::Followers { filter } => Self::Followers {
                tag_id: filter.tag_id.map(num),
            },
            ListSource::Pasted => Self::Pasted,
            ListSource::File { file_name } => Self::File { file_name },
            ListSource::UnionidBridge { file_name } => Self::UnionidBridge { file_name },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct ListInfo {
    #[specta(type = Number)]
    pub id: f64,
    pub name: String,
    pub origin: ListOrigin,
    /// Per-recipient variable columns (for mail-merge).
    pub variables: Vec<String>,
    #[specta(type = Number)]
    pub member_count: f64,
    #[specta(type = Number)]
    pub created_at: f64,
}

impl From<RecipientList> for ListInfo {
    fn from(l: RecipientList) -> Self {
        ListInfo {
            id: num(l.id),
            name: l.name,
            origin: l.source.into(),
            variables: l.variables,
            member_count: num(l.member_count),
            created_at: num(l.created_at),
        }
    }
}

/// The account's saved lists, newest first as the core orders them.
#[tauri::command]
#[specta::specta]
pub async fn lists_list<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
) -> CmdResult<Vec<ListInfo>> {
    let ctx = ctx(&app);
    let rows = ctx
        .store
        .call(move |c| lists::list_lists(c, &appid))
        .await
        .map_err(core_err)?;
    Ok(rows.into_iter().map(Into::into).collect())
}

#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct ListMemberRow {
    pub openid: String,
    /// Values in the list's `variables` order ("" when missing).
    pub values: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct ListMembersPage {
    pub items: Vec<ListMemberRow>,
    pub next_after: Option<String>,
}

/// One keyset page of a list's members with their variables.
#[tauri::command]
#[specta::specta]
pub async fn list_members<R: Runtime>(
    app: tauri::AppHandle<R>,
    list_id: f64,
    after: Option<String>,
    limit: u32,
) -> CmdResult<ListMembersPage> {
    let ctx = ctx(&app);
    let id = int(list_id);
    let (list, page) = ctx
        .store
        .call(move |c| {
            Ok((
                lists::get_list(c, id)?,
                lists::list_members(c, id, after.as_deref(), limit as usize)?,
            ))
        })
        .await
        .map_err(core_err)?;
    let variables = list.map(|l| l.variables).unwrap_or_default();
    Ok(ListMembersPage {
        items: page
            .items
            .into_iter()
            .map(|m| ListMemberRow {
                values: variables
                    .iter()
                    .map(|v| m.vars.get(v).cloned().unwrap_or_default())
                    .collect(),
                openid: m.openid,
            })
            .collect(),
        next_after: page.next_after,
    })
}

/// Deletes a list and its members.
#[tauri::command]
#[specta::specta]
pub async fn list_delete<R: Runtime>(app: tauri::AppHandle<R>, list_id: f64) -> CmdResult<bool> {
    let ctx = ctx(&app);
    let id = int(list_id);
    ctx.store
        .call(move |c| lists::delete_list(c, id))
        .await
        .map_err(core_err)
}

/// Saves the following followers (all, or one tag's) as a list; returns its id.
#[tauri::command]
#[specta::specta]
pub async fn list_create_from_followers<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
    name: String,
    tag_id: Option<f64>,
) -> CmdResult<ListCreated> {
    let ctx = ctx(&app);
    let filter = FollowerFilter {
        tag_id: tag_id.map(int),
        ..Default::default()
    };
    let id = audience::create_list_from_followers(&ctx.store, &appid, &name, filter)
        .await
        .map_err(core_err)?;
    Ok(ListCreated { id: num(id) })
}

/// What to import: text pasted into the window, or a file chosen with the open dialog.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, specta::Type)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ImportInput {
    Pasted { text: String },
    File { path: String },
}

impl ImportInput {
    fn source(self) -> ImportSource {
        match self {
            ImportInput::Pasted { text } => ImportSource::Pasted(text),
            ImportInput::File { path } => ImportSource::File(PathBuf::from(path)),
        }
    }
}

/// The operator's corrections when the guesses (openid column, header row) are wrong.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, specta::Type)]
pub struct ImportChoices {
    pub openid_column: Option<u32>,
    pub has_header: Option<bool>,
}

impl From<ImportChoices> for ImportOptions {
    fn from(c: ImportChoices) -> Self {
        ImportOptions {
            openid_column: c.openid_column.map(|n| n as usize),
            has_header: c.has_header,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum FileFormat {
    CsvUtf8,
    CsvUtf8Bom,
    CsvGbk,
    Xlsx,
    Pasted,
}

impl From<SourceFormat> for FileFormat {
    fn from(f: SourceFormat) -> Self {
        match f {
            SourceFormat::CsvUtf8 => Self::CsvUtf8,
            SourceFormat::CsvUtf8Bom => Self::CsvUtf8Bom,
            SourceFormat::CsvGbk => Self::CsvGbk,
            SourceFormat::Xlsx => Self::Xlsx,
            SourceFormat::Pasted => Self::Pasted,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct InvalidLine {
    #[specta(type = Number)]
    pub line: f64,
    pub value: String,
    pub reason_zh: String,
    pub reason_en: String,
}

impl From<InvalidRow> for InvalidLine {
    fn from(r: InvalidRow) -> Self {
        InvalidLine {
            line: num(r.line),
            value: r.value,
            reason_zh: r.reason_zh,
            reason_en: r.reason_en,
        }
    }
}

fn member_row(r: ImportRow) -> ListMemberRow {
    ListMemberRow {
        openid: r.openid,
        values: r.values,
    }
}

/// What an import would save; nothing is saved until `list_import_save`.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct ImportPreviewView {
    pub format: FileFormat,
    pub has_header: bool,
    pub openid_column: String,
    pub openid_column_index: u32,
    pub variables: Vec<String>,
    #[specta(type = Number)]
    pub rows_read: f64,
    #[specta(type = Number)]
    pub valid: f64,
    #[specta(type = Number)]
    pub invalid_count: f64,
    /// The first invalid rows (the count is exact).
    pub invalid: Vec<InvalidLine>,
    #[specta(type = Number)]
    pub duplicates_removed: f64,
    /// `false` before the first follower sync: non-followers cannot be flagged yet.
    pub following_checked: bool,
    #[specta(type = Number)]
    pub not_following_count: f64,
    pub not_following: Vec<String>,
    pub sample: Vec<ListMemberRow>,
}

impl From<ImportPreview> for ImportPreviewView {
    fn from(p: ImportPreview) -> Self {
        ImportPreviewView {
            format: p.format.into(),
            has_header: p.has_header,
            openid_column: p.openid_column,
            openid_column_index: u32::try_from(p.openid_column_index).unwrap_or(u32::MAX),
            variables: p.variables,
            rows_read: num(p.rows_read),
            valid: num(p.valid),
            invalid_count: num(p.invalid_count),
            invalid: p.invalid.into_iter().map(Into::into).collect(),
            duplicates_removed: num(p.duplicates_removed),
            following_checked: p.following_checked,
            not_following_count: num(p.not_following_count),
            not_following: p.not_following,
            sample: p.sample.into_iter().map(member_row).collect(),
        }
    }
}

/// Reads and checks an import (pasted or a file) without saving: the preview.
#[tauri::command]
#[specta::specta]
pub async fn list_import_preview<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
    input: ImportInput,
    choices: ImportChoices,
) -> CmdResult<ImportPreviewView> {
    let ctx = ctx(&app);
    let prepared = audience::prepare_import(&ctx.store, &appid, input.source(), choices.into())
        .await
        .map_err(core_err)?;
    Ok(prepared.preview.into())
}

/// Reads the same input again (stateless: the file or text is the truth) and saves it as a
/// list; returns the list id.
#[tauri::command]
#[specta::specta]
pub async fn list_import_save<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
    name: String,
    input: ImportInput,
    choices: ImportChoices,
) -> CmdResult<ListCreated> {
    let ctx = ctx(&app);
    let source = input.source();
    let origin = match &source {
        ImportSource::Pasted(_) => ListSource::Pasted,
        other => ListSource::File {
            file_name: other.file_name(),
        },
    };
    let prepared = audience::prepare_import(&ctx.store, &appid, source, choices.into())
        .await
        .map_err(core_err)?;
    let id = audience::save_import(&ctx.store, &appid, &name, origin, prepared)
        .await
        .map_err(core_err)?;
    Ok(ListCreated { id: num(id) })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum UnmatchedWhy {
    NoUnionid,
    NotFollowing,
    Unsubscribed,
}

#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct UnmatchedLine {
    #[specta(type = Number)]
    pub line: f64,
    pub mini_openid: String,
    pub unionid: String,
    pub why: UnmatchedWhy,
    pub reason_zh: String,
}

impl From<UnmatchedRow> for UnmatchedLine {
    fn from(r: UnmatchedRow) -> Self {
        use audience::Unmatched as U;
        UnmatchedLine {
            line: num(r.line),
            mini_openid: r.mini_openid,
            unionid: r.unionid,
            why: match r.why {
                U::NoUnionid => UnmatchedWhy::NoUnionid,
                U::NotFollowing => UnmatchedWhy::NotFollowing,
                U::Unsubscribed => UnmatchedWhy::Unsubscribed,
            },
            reason_zh: r.reason_zh,
        }
    }
}

/// How a mini-program user file maps to the account's followers through unionid.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct BridgeView {
    pub format: FileFormat,
    #[specta(type = Number)]
    pub rows_read: f64,
    #[specta(type = Number)]
    pub duplicates_removed: f64,
    #[specta(type = Number)]
    pub matched: f64,
    #[specta(type = Number)]
    pub no_unionid: f64,
    #[specta(type = Number)]
    pub not_following: f64,
    #[specta(type = Number)]
    pub unsubscribed: f64,
    /// Followers whose unionid is not synced yet (then "not following" may be wrong).
    #[specta(type = Number)]
    pub followers_without_details: f64,
    pub unmatched: Vec<UnmatchedLine>,
    pub variables: Vec<String>,
    pub sample: Vec<ListMemberRow>,
}

impl From<BridgeReport> for BridgeView {
    fn from(r: BridgeReport) -> Self {
        BridgeView {
            format: r.format.into(),
            rows_read: num(r.rows_read),
            duplicates_removed: num(r.duplicates_removed),
            matched: num(r.matched),
            no_unionid: num(r.no_unionid),
            not_following: num(r.not_following),
            unsubscribed: num(r.unsubscribed),
            followers_without_details: num(r.followers_without_details),
            unmatched: r.unmatched.into_iter().map(Into::into).collect(),
            variables: r.variables,
            sample: r.sample.into_iter().map(member_row).collect(),
        }
    }
}

/// 小程序用户映射: the preview of mapping a file of (openid, unionid) to followers.
#[tauri::command]
#[specta::specta]
pub async fn bridge_preview<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
    input: ImportInput,
) -> CmdResult<BridgeView> {
    let ctx = ctx(&app);
    let r = audience::bridge_unionids(&ctx.store, &appid, input.source(), ImportOptions::default())
        .await
        .map_err(core_err)?;
    Ok(r.report.into())
}

/// Maps the file again and saves the matched followers as a list; returns its id.
#[tauri::command]
#[specta::specta]
pub async fn bridge_save<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
    name: String,
    input: ImportInput,
) -> CmdResult<ListCreated> {
    let ctx = ctx(&app);
    let source = input.source();
    let file_name = source.file_name();
    let r = audience::bridge_unionids(&ctx.store, &appid, source, ImportOptions::default())
        .await
        .map_err(core_err)?;
    let id = audience::save_bridge(&ctx.store, &appid, &name, &file_name, r)
        .await
        .map_err(core_err)?;
    Ok(ListCreated { id: num(id) })
}
