//! Team mode: the relay as the team server over PostgreSQL (issue #17). Switched on by
//! `database_url`; without it nothing here runs and the relay is the single-desk relay.

pub mod accounts;
pub mod db;
pub mod followers;
pub mod history;
pub mod jobs;
pub mod lists;
pub mod members;
pub mod seal;
pub mod templates;
#[cfg(feature = "pg-testing")]
pub mod testing;
pub mod tls;
pub mod tokens;
pub mod windows;

use std::sync::Arc;

use wxdesk_wechat::token::TokenCache;

/// What the routes need in team mode.
#[derive(Clone)]
pub struct TeamState {
    pub db: db::Db,
    /// The token authority (see tokens.rs).
    pub tokens: Arc<TokenCache>,
    /// Job changes heard from every process (jobs.rs).
    pub jobs: jobs::Hub,
}
