//! The relay forwards the 订阅通知 pushes as `other` events with the decrypted XML.
//! [`SubscriptionEvents`] reads the three of protocol G.6 and keeps what each user granted each
//! template, in the transaction that moves the feed's cursor.

use rusqlite::Transaction;
use serde_json::Value;
use wxdesk_wechat::callback::{self, Callback};

use super::db;
use crate::error::Result;
use crate::feed::EventHandler;
use crate::feed::events::{EventKind, FeedEvent};

/// The feed handler for 订阅通知 events (register it with `FeedFollower::with_handler`).
#[derive(Debug, Clone, Copy, Default)]
pub struct SubscriptionEvents;

impl EventHandler for SubscriptionEvents {
    fn apply(&self, tx: &Transaction<'_>, event: &FeedEvent) -> Result<()> {
        let EventKind::Other { data, .. } = &event.kind else {
            return Ok(());
        };
        let Some(appid) = event.appid.as_deref().filter(|a| !a.is_empty()) else {
            return Ok(());
        };
        // Not ours, or not readable: never an error (the feed must not stall on a body).
        let Some(Ok(Callback::SubscribeMsg(e))) =
            data.get("xml").and_then(Value::as_str).map(callback::parse)
        else {
            return Ok(());
        };
        tracing::info!(
            appid,
            event = e.kind.event_name(),
            items = e.items.len(),
            seq = event.seq,
            "subscription push"
        );
        db::apply_event(tx, appid, event.seq, &e)
    }
}
