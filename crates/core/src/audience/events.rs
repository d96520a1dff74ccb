//! The relay feed's follow/unfollow events keep `followers` current between syncs.

use rusqlite::Transaction;

use super::db::followers::{apply_subscribe, apply_unsubscribe};
use crate::feed::{EventHandler, EventKind, FeedEvent};

/// Keeps `followers` current from the relay feed's subscribe/unsubscribe events. Register it
/// with `FeedFollower::with_handler`; it writes in the transaction that moves the cursor.
#[derive(Debug, Clone, Copy, Default)]
pub struct FollowEvents;

impl EventHandler for FollowEvents {
    fn apply(&self, tx: &Transaction<'_>, event: &FeedEvent) -> crate::error::Result<()> {
        let Some(appid) = event.appid.as_deref() else {
            return Ok(());
        };
        match &event.kind {
            EventKind::Subscribe {
                openid,
                create_time,
                ..
            } => apply_subscribe(tx, appid, openid, *create_time),
            EventKind::Unsubscribe {
                openid,
                create_time,
            } => apply_unsubscribe(tx, appid, openid, *create_time),
            _ => Ok(()),
        }
    }
}
