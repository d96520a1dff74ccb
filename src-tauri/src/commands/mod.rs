//! Tauri commands: one- or two-line adapters over wxdesk-core, one file per area. Every
//! command is (1) listed in [`crate::specta_builder`]'s `collect_commands!`, (2) named in
//! build.rs and (3) granted to the main window in capabilities/main.json — a command missing
//! from build.rs or the capability is denied (least privilege, STYLE.md #9).

pub mod accounts;
pub mod app;
pub mod audience;
pub mod backup;
pub mod compose;
pub mod feed;
pub mod history;
pub mod interactions;
pub mod overview;
pub mod platform;
pub mod send;
pub mod templates;
