//! The durable bulk-send engine (DESIGN.md, "The send engine"): a job and all its recipient rows
//! are written before the first request; runners claim due rows under a per-job and per-account
//! rate limit and bounded concurrency, record each outcome in the transaction that advances the
//! row, classify errors (retry with backoff, permanent, token refresh, quota pause), and after a
//! crash turn the rows that were in flight into `uncertain` — never resent without the operator.
//!
//! - `host`: the one engine host of a process (`ctx.sends`): send lock, recovery, quota resume.
//! - `history`: 发送记录 and 概览 (`ctx.history`).
//! - `model`: jobs, recipient states, payloads, progress; `reason`: pause reasons and row notes
//!   as codes.
//! - `render`: `{{变量}}` filling, request bodies, keyword-rule checks (pure; the composer uses it).
//! - `api`: the narrow trait the engine sends through, and the error policy.
//! - `engine` / `runner` / `attempt`: the handle, the per-job loop, one request and its outcome;
//!   `state`: what the handle and the runners share.
//! - `delivery`: TEMPLATESENDJOBFINISH reports joined by msgid.
//! - `http`: the production `SendApi` (token source + HTTP, direct or via the relay).
//! - `platform`: tokens from the platform, the egress choice, the feed's delivery handler.
//! - `quota`: the daily template-send quota left (openapi/quota/get) for the confirmation.
//! - `db`: the SQL.

pub mod api;
mod attempt;
mod db;
pub mod delivery;
mod engine;
pub mod history;
pub mod host;
pub mod http;
pub mod model;
pub mod platform;
pub mod quota;
pub mod reason;
pub mod render;
mod runner;
mod state;
mod team;
mod team_history;
mod watch;

use std::time::Duration;

pub use api::{Action, BoxFuture, SendApi, SendFailure, SendOk, classify};
pub use engine::{CLIENT_MSG_ID_WINDOW_SECS, RecoverReport, ResendReport, SendEngine};
pub use history::{
    DayCounts, History, HistoryDetail, HistoryFilter, HistoryPage, HistoryRow, HistoryStatus,
    OverviewStats,
};
pub use host::{LockWait, SendLock, SendLockHolder, Sends, who_sends};
pub use model::*;
pub use reason::{Explanation, PauseReason, RowNote};
pub use render::{ApiRequest, RenderProblem};
pub use team::RemoteWatch;
pub use watch::JobWatch;

/// Engine defaults; a job may set its own concurrency, rate and attempts.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Requests in flight per job.
    pub concurrency: u32,
    /// Requests per second of a job at the default `concurrency` that sets no rate of its own.
    /// A job that sets only its concurrency gets the same rate per slot
    /// ([`EngineConfig::rate_for`]): asking for 50 in flight must not leave them idle behind a
    /// rate meant for 20.
    pub rate_per_sec: u32,
    /// Requests per second per account, shared by all its running jobs: a ceiling above any one
    /// job's default (a job of 50 slots at 100 ms needs 500/s), below what a runaway
    /// configuration of several jobs could ask of WeChat.
    pub account_rate_per_sec: u32,
    /// Attempts per recipient before a retryable error becomes `failed_retryable`.
    pub max_attempts: u32,
    /// First retry delay; doubles per attempt up to `backoff_max`, with ±50 % jitter
    /// ([`EngineConfig::retry`]).
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// Most rows claimed in one transaction.
    pub claim_batch: usize,
    /// Recipient rows written per transaction by `create_job`.
    pub create_chunk: usize,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            concurrency: 20,
            rate_per_sec: 200,
            account_rate_per_sec: 1_000,
            max_attempts: 5,
            backoff_base: Duration::from_millis(500),
            backoff_max: Duration::from_secs(60),
            claim_batch: 200,
            create_chunk: 5_000,
        }
    }
}

impl EngineConfig {
    /// The rate of a job with `concurrency` slots and no rate of its own: `rate_per_sec` scaled
    /// from the default concurrency (10/s per slot with the defaults, one request per slot every
    /// 100 ms — what WeChat typically takes to answer — so the concurrency, not the rate, bounds
    /// a job at that latency).
    pub fn rate_for(&self, concurrency: u32) -> u32 {
        let per_slot = f64::from(self.rate_per_sec) / f64::from(self.concurrency.max(1));
        (per_slot * f64::from(concurrency))
            .ceil()
            .clamp(1.0, 100_000.0) as u32
    }

    /// How a row that failed for now is tried again (the numbers are this config's).
    pub fn retry(&self) -> crate::retry::RetryPolicy {
        crate::retry::RetryPolicy {
            base: self.backoff_base,
            max: self.backoff_max,
            attempts: self.max_attempts,
            factor: 2,
            jitter: 0.5,
            steps: &[],
        }
    }
}

/// Today's Beijing-time day as SQL (`YYYY-MM-DD`).
pub(crate) const DAY_OF_NOW_SQL: &str = "date('now', '+8 hours')";
