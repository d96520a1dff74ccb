//! wxdesk's application logic, shared by the desktop shell and the CLI: the SQLite store, keychain
//! secrets, the relay feed, authorization, templates, audience, the send engine and history.

// Tests may unwrap: a panic is how they fail.
#![cfg_attr(test, allow(clippy::unwrap_used))]

/// 授权账号: the accounts table, token health, recovering refresh tokens.
pub mod accounts;
/// 用户与名单: follower and tag sync, recipient lists (CSV/XLSX import), the unionid bridge.
pub mod audience;
/// The authorization walk-through and the 全网发布 API half.
pub mod auth;
/// Which pages the embedded authorization window may load, and which carries the code.
pub mod auth_pages;
/// Encrypted workspace backup (database + keychain secrets) and restore.
pub mod backup;
/// 小程序代码管理: template library, commit/audit/release/rollback, bulk rollouts.
pub mod code;
/// 发送 (compose): recipients, draft → job spec, the composer's check, test and 客服 sends.
pub mod compose;
/// The composition root for one data dir: store, keychain and the service handles.
pub mod context;
/// The one error type, with `code()`, and `message()`/`hint()` in each language.
pub mod error;
/// The relay feed follower: durable cursor, typed events, hooks for other features.
pub mod feed;
/// How features call WeChat for an authorized account: the account's token, with retry.
pub mod gateway;
/// Whether WeChat's API answers this desk (the frame's banner when it does not).
pub mod health;
/// 客服消息 window: the newest user action per openid from the feed, open windows by account.
pub mod interactions;
/// The app's size-rotated, user-private log file.
pub mod logfile;
/// Mini-program login for the platform (jscode2session): a code → the user's openid/unionid.
pub mod mini;
/// Platform settings, the API connection and its token providers, 检测连接.
pub mod platform;
/// 额度工具: an API's daily quota of an account, and resetting account or platform quotas.
pub mod quota;
/// Client of the relay's private API: the latest ticket and the event log.
pub mod relay;
/// The one vocabulary for retrying: attempts, first delay, growth, cap, jitter.
pub mod retry;
/// 体验沙箱: wxdesk-sim and wxdesk-relay in-process on loopback.
pub mod sandbox;
/// The OS keychain (and an in-memory stand-in) behind the `SecretStore` trait.
pub mod secrets;
/// 发送: the durable bulk-send engine and its one host per process (send lock, recovery), the
/// delivery join, 发送记录 and 概览.
pub mod send;
/// The background services of a long-lived face: the sandbox and the feed follower.
pub mod services;
/// SQLite: one file per data dir, WAL, embedded numbered migrations.
pub mod store;
/// 订阅通知: subscription templates of official accounts, and who may be sent which notice.
pub mod subscriptions;
/// 模板: keyword parsing and value rules, the private-template sync, local notes.
pub mod team;
pub mod templates;
#[cfg(test)]
mod testutil;

pub use error::{Error, ErrorCode, ErrorReport, Lang, Msg, Result};
/// What the shell reports about itself: version, data dir, sandbox or production.
pub mod app_info;
