//! Tauri commands, one module per area: one- or two-line adapters over wxdesk-core. Each command
//! is listed in build.rs, granted in capabilities/, and collected in [`crate::specta_builder`].

pub mod app;
