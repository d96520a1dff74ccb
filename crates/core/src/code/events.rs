//! Audit results pushed through the relay: `weapp_audit_success` / `_fail` / `_delay` arrive on
//! the mini program's message URL, which the relay stores as `other` events with the decrypted
//! XML. [`AuditEvents`] records each one (once per relay seq) and moves the rollout rows waiting
//! for that mini program's audit, in the transaction that moves the feed's cursor.

use rusqlite::Transaction;
use serde_json::Value;
use wxdesk_wechat::api::parse_audit_push;

use super::db;
use crate::error::Result;
use crate::feed::EventHandler;
use crate::feed::events::{EventKind, FeedEvent};

/// The feed handler for audit pushes (register it with `FeedFollower::with_handler`).
#[derive(Debug, Clone, Copy, Default)]
pub struct AuditEvents;

impl EventHandler for AuditEvents {
    fn apply(&self, tx: &Transaction<'_>, event: &FeedEvent) -> Result<()> {
        let EventKind::Other { data, .. } = &event.kind else {
            return Ok(());
        };
        let Some(appid) = event.appid.as_deref().filter(|a| !a.is_empty()) else {
            return Ok(());
        };
        let Some(push) = data
            .get("xml")
            .and_then(Value::as_str)
            .and_then(parse_audit_push)
        else {
            return Ok(());
        };
        tracing::info!(
            appid,
            event = push.event.event_name(),
            seq = event.seq,
            "audit push"
        );
        db::record_push(tx, event.seq, appid, &push)
    }
}
