//! 用户与名单 (audience): the followers of each official account and their tags, synced from
//! WeChat and kept current by the relay feed; recipient lists (名单) made from followers, pasted
//! openids or CSV/XLSX files with per-recipient variables; and the unionid bridge from
//! mini-program users to followers.
//!
//! Faces reach all of it through the [`Audience`] handle (`ctx.audience`). The tables' SQL is in
//! `db` (crate-private, plain functions over `&Connection` so the feed applies a follow in the
//! transaction that moves its cursor); `import`, `bridge` and `table` are pure.

pub mod bridge;
pub(crate) mod db;
mod events;
mod handle;
pub mod import;
pub mod sync;
pub mod table;
pub(crate) mod team_followers;
pub(crate) mod team_lists;

pub use bridge::{BridgeReport, BridgeResult, MINI_OPENID_VAR, Unmatched, UnmatchedRow};
pub use db::followers::{Follower, FollowerCount, FollowerCounts, FollowerFilter, FollowerPage};
pub use db::lists::{ListMember, ListSource, MemberPage, RecipientList};
pub use db::sync::{SyncPhase, SyncState};
pub use db::tags::TagRow;
pub use events::FollowEvents;
pub use handle::{Audience, ImportSaved};
pub use import::{
    DuplicateRow, ImportOptions, ImportPreview, ImportRow, InvalidRow, OpenidProblem,
    PreparedImport,
};
pub use sync::{SyncOptions, SyncOutcome, SyncProgress, SyncReport, sync_followers, sync_tags};
pub use table::SourceFormat;

use std::path::PathBuf;

use serde::Deserialize;

/// Where an import reads from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportSource {
    /// A CSV or XLSX file on disk.
    File(PathBuf),
    /// The file's bytes (e.g. dropped onto the window).
    Bytes(Vec<u8>),
    /// Text pasted by the operator.
    Pasted(String),
}

impl ImportSource {
    fn read(&self) -> crate::Result<table::Table> {
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

    /// What a list saved from this source says it came from.
    fn list_source(&self) -> ListSource {
        match self {
            ImportSource::Pasted(_) => ListSource::Pasted,
            other => ListSource::File {
                file_name: other.file_name(),
            },
        }
    }
}

/// What the window imports: text pasted into it, or a file chosen with the open dialog.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ImportInput {
    Pasted { text: String },
    File { path: String },
}

impl From<ImportInput> for ImportSource {
    fn from(i: ImportInput) -> Self {
        match i {
            ImportInput::Pasted { text } => ImportSource::Pasted(text),
            ImportInput::File { path } => ImportSource::File(PathBuf::from(path)),
        }
    }
}
