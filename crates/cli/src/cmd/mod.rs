//! One module per command group; each is a thin shell over wxdesk-core.

pub mod accounts;
pub mod audience;
pub mod auth;
pub mod backup;
pub mod code;
pub mod debug;
pub mod drive;
pub mod history;
pub mod jobs;
pub mod media;
pub mod mini;
pub mod platform;
pub mod quota;
pub mod sandbox;
pub mod send;
pub mod subscribe;
pub mod team;
pub mod templates;
