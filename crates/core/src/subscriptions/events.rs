//! The relay forwards the 订阅通知 pushes as `other` events with the decrypted XML.
//! [`SubscriptionEvents`] reads the three of protocol G.6 and keeps what each user granted each
//! template, in the transaction that moves the feed's cursor; a sent event is also the delivery
//! report of the row that sent the notice.

use rusqlite::Transaction;
use serde_json::Value;
use wxdesk_wechat::callback::{self, Callback, SubscribeMsgKind};

use super::db;
use crate::error::Result;
use crate::feed::EventHandler;
use crate::feed::events::{EventKind, FeedEvent};
use crate::send::delivery;

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
        db::apply_event(tx, appid, event.seq, &e)?;
        // The sent event is also the notice's delivery report, joined by msgid to the row of
        // the job that sent it (as TEMPLATESENDJOBFINISH is for template messages).
        if e.kind == SubscribeMsgKind::Sent {
            for item in &e.items {
                let Some(msg_id) = item.msg_id else { continue };
                let status = match item.error_code {
                    Some(0) => "success".to_string(),
                    _ => format!(
                        "failed: {}",
                        item.error_status.as_deref().unwrap_or("unknown")
                    ),
                };
                delivery::apply_report(tx, appid, msg_id, &status, event.received_at)?;
            }
        }
        Ok(())
    }
}
