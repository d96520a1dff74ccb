//! Events the relay pruned (retention) before this app applied them. Without a check the
//! relay keeps answering "nothing after your cursor, but the log is at N" and the follower asks
//! again at once, forever. The follower instead records which seqs were lost and moves its
//! cursor past them.

use crate::error::Result;
use crate::relay::EventBatch;
use crate::store::{audit, cursor};

use super::{AuthActions, FeedFollower, FeedNotice};

/// Seqs `from_seq..=to_seq` are gone from the relay's log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Lost {
    pub from_seq: i64,
    pub to_seq: i64,
}

/// What an answer to `after` says was pruned. A relay that reports `first_seq` (the oldest seq
/// it still has, or head + 1 when its log is empty) is taken at its word; an older one only by
/// an empty answer whose head is past the cursor (see [`maybe_pruned_without_first_seq`]).
/// Never beyond the answer's `last_seq`, so a confused relay cannot push the cursor past
/// events it has not shown.
pub(super) fn lost_range(after: i64, batch: &EventBatch) -> Option<Lost> {
    let from_seq = after.saturating_add(1);
    let to_seq = match batch.first_seq {
        Some(first) if first > from_seq => first.saturating_sub(1).min(batch.last_seq),
        Some(_) => return None,
        None if maybe_pruned_without_first_seq(after, batch) => batch.last_seq,
        None => return None,
    };
    (to_seq >= from_seq).then_some(Lost { from_seq, to_seq })
}

/// An older relay's sign of pruning: no events after the cursor although its head is past it.
pub(super) fn maybe_pruned_without_first_seq(after: i64, batch: &EventBatch) -> bool {
    batch.first_seq.is_none() && batch.events.is_empty() && batch.last_seq > after
}

impl<A: AuthActions> FeedFollower<A> {
    /// Records the loss (audit) and moves the cursor past it, in one transaction.
    pub(super) async fn skip_lost(&self, lost: Lost) -> Result<()> {
        let Lost { from_seq, to_seq } = lost;
        let count = to_seq - from_seq + 1;
        let detail = format!(
            "中继已按保留期限删除了序号 {from_seq}–{to_seq} 的 {count} 个事件，本机未能处理它们，已跳过。\
             其中可能有授权或取消授权：请在「授权账号」中核对账号状态。"
        );
        self.store
            .call(move |c| {
                let tx = c.transaction()?;
                audit::record(&tx, "events_lost", None, &detail)?;
                cursor::advance(&tx, to_seq)?;
                Ok(tx.commit()?)
            })
            .await?;
        tracing::warn!(
            from_seq,
            to_seq,
            "relay pruned events before they were applied"
        );
        self.notify(FeedNotice::EventsLost { from_seq, to_seq });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::relay::RawEvent;

    fn batch(events: &[i64], last_seq: i64, first_seq: Option<i64>) -> EventBatch {
        EventBatch {
            events: events
                .iter()
                .map(|&seq| RawEvent {
                    seq,
                    kind: "text".into(),
                    appid: None,
                    received_at: 0,
                    data: serde_json::Value::Null,
                })
                .collect(),
            last_seq,
            first_seq,
        }
    }

    #[test]
    fn first_seq_past_the_cursor_is_a_gap_up_to_the_seq_before_it() {
        assert_eq!(
            lost_range(3, &batch(&[10, 11], 11, Some(10))),
            Some(Lost {
                from_seq: 4,
                to_seq: 9
            })
        );
        // The whole log pruned: first_seq is head + 1.
        assert_eq!(
            lost_range(3, &batch(&[], 20, Some(21))),
            Some(Lost {
                from_seq: 4,
                to_seq: 20
            })
        );
    }

    #[test]
    fn no_gap_when_the_next_event_is_still_there() {
        assert_eq!(lost_range(3, &batch(&[4, 5], 5, Some(1))), None);
        assert_eq!(lost_range(3, &batch(&[4], 4, Some(4))), None);
        assert_eq!(lost_range(3, &batch(&[], 3, Some(1))), None, "caught up");
        assert_eq!(lost_range(3, &batch(&[4], 4, None)), None);
        assert_eq!(lost_range(3, &batch(&[], 3, None)), None);
    }

    #[test]
    fn an_older_relay_empty_answer_past_the_cursor_is_a_gap_to_its_head() {
        assert_eq!(
            lost_range(3, &batch(&[], 8, None)),
            Some(Lost {
                from_seq: 4,
                to_seq: 8
            })
        );
    }

    #[test]
    fn a_first_seq_beyond_the_head_moves_the_cursor_no_further_than_the_head() {
        assert_eq!(
            lost_range(3, &batch(&[], 8, Some(i64::MAX))),
            Some(Lost {
                from_seq: 4,
                to_seq: 8
            })
        );
        assert_eq!(lost_range(i64::MAX, &batch(&[], 8, Some(i64::MAX))), None);
    }
}
