//! Tauri commands: one- or two-line adapters over wxdesk-core, one file per area. A command is
//! added in one place, [`crate::specta_builder`]'s `collect_commands!`: build.rs declares that
//! list to Tauri and writes the main window's permission set from it (least privilege,
//! STYLE.md #9), and tests/command_lists.rs holds the three against each other.

pub mod accounts;
pub mod app;
pub mod audience;
pub mod backup;
pub mod code;
pub mod compose;
pub mod feed;
pub mod history;
pub mod interactions;
pub mod media;
pub mod messaging;
pub mod overview;
pub mod platform;
pub mod send;
pub mod team;
pub mod templates;

use tauri::{Manager, Runtime};
use wxdesk_core::context::Context;

use crate::error::ShellError;
use crate::state::AppState;

/// What a command returns: its value, or the `{code, message, hint, errcode}` shape.
pub type CmdResult<T> = Result<T, ShellError>;

/// The app's core context (cheap to clone: the handles share their state).
pub fn ctx<R: Runtime>(app: &tauri::AppHandle<R>) -> Context {
    app.state::<AppState>().ctx.clone()
}
