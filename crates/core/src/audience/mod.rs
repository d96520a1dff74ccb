//! 用户与名单 (audience): the followers of each official account and their tags, synced from
//! WeChat and kept current by the relay feed; recipient lists (名单) made from followers, pasted
//! openids or CSV/XLSX files with per-recipient variables; and the unionid bridge from
//! mini-program users to followers.
//!
//! The table modules are plain functions over `&Connection` (like `store`); the async functions
//! here run them on the store's blocking thread and read files off the async runtime.

pub mod access;
pub mod bridge;
pub mod followers;
pub mod import;
pub mod lists;
pub mod sync;
mod sync_db;
mod sync_stage;
pub mod table;
pub mod tags;

use std::path::Path;

pub use access::AccountApi;
pub use bridge::{BridgeReport, BridgeResult, Unmatched};
pub use followers::{FollowEvents, Follower, FollowerCounts, FollowerFilter, FollowerPage};
pub use import::{ImportOptions, ImportPreview, ImportRow, PreparedImport};
pub use lists::{ListMember, ListSource, MemberPage, RecipientList};
pub use sync::{SyncOptions, SyncOutcome, SyncProgress, SyncReport, sync_followers, sync_state};
pub use sync_db::{SyncPhase, SyncState};
pub use table::SourceFormat;
pub use tags::{TagRow, sync_tags};

use crate::error::Result;
use crate::store::{Store, now};

/// Where an import reads from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportSource {
    /// A CSV or XLSX file on disk.
    File(std::path::PathBuf),
    /// The file's bytes (e.g. dropped onto the window).
    Bytes(Vec<u8>),
    /// Text pasted by the operator.
    Pasted(String),
}

impl ImportSource {
    fn read(&self) -> Result<table::Table> {
        match self {
            ImportSource::File(p) => table::read_path(p),
            ImportSource::Bytes(b) => table::read_bytes(b),
            ImportSource::Pasted(t) => table::read_pasted(t),
        }
    }

    /// The file name to remember as the list's source.
    pub fn file_name(&self) -> String {
        match self {
            ImportSource::File(p) => p.file_name().map_or_else(
                || p.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            ),
            ImportSource::Bytes(_) => "导入的文件".into(),
            ImportSource::Pasted(_) => "粘贴".into(),
        }
    }
}

/// Reads and checks an import without saving anything: the preview, and the rows to save.
pub async fn prepare_import(
    store: &Store,
    appid: &str,
    source: ImportSource,
    opts: ImportOptions,
) -> Result<PreparedImport> {
    let mut prepared = tokio::task::spawn_blocking(move || {
        let table = source.read()?;
        import::parse_table(&table, &opts)
    })
    .await??;
    let appid = appid.to_string();
    store
        .call(move |c| {
            sync_db::bulk_cache(c)?;
            import::check_following(c, &appid, &mut prepared)?;
            Ok(prepared)
        })
        .await
}

/// Saves a prepared import as a new list; returns its id.
pub async fn save_import(
    store: &Store,
    appid: &str,
    name: &str,
    source: ListSource,
    prepared: PreparedImport,
) -> Result<i64> {
    let (appid, name) = (appid.to_string(), name.to_string());
    store
        .call(move |c| {
            sync_db::bulk_cache(c)?;
            lists::create_from_rows(
                c,
                &appid,
                &name,
                &source,
                &prepared.preview.variables,
                &prepared.rows,
                now(),
            )
        })
        .await
}

/// Saves the followers matching `filter` (all of them with the default filter; a tag with
/// `tag_id`) as a new list.
pub async fn create_list_from_followers(
    store: &Store,
    appid: &str,
    name: &str,
    filter: FollowerFilter,
) -> Result<i64> {
    let (appid, name) = (appid.to_string(), name.to_string());
    store
        .call(move |c| lists::create_from_followers(c, &appid, &name, &filter, now()))
        .await
}

/// Maps a mini-program user file (openid + unionid columns) to `appid`'s followers.
pub async fn bridge_unionids(
    store: &Store,
    appid: &str,
    source: ImportSource,
    opts: ImportOptions,
) -> Result<BridgeResult> {
    let table = tokio::task::spawn_blocking(move || source.read()).await??;
    let appid = appid.to_string();
    store
        .call(move |c| bridge::bridge(c, &appid, &table, &opts))
        .await
}

/// Saves the matched users of a bridge as a list, keeping the mini-program openid and the file's
/// other columns as variables.
pub async fn save_bridge(
    store: &Store,
    appid: &str,
    name: &str,
    file_name: &str,
    result: BridgeResult,
) -> Result<i64> {
    let source = ListSource::UnionidBridge {
        file_name: file_name.to_string(),
    };
    let (appid, name) = (appid.to_string(), name.to_string());
    store
        .call(move |c| {
            lists::create_from_rows(
                c,
                &appid,
                &name,
                &source,
                &result.report.variables,
                &result.rows,
                now(),
            )
        })
        .await
}

/// Convenience for callers holding a path.
pub fn file_source(path: &Path) -> ImportSource {
    ImportSource::File(path.to_path_buf())
}
