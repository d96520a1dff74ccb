//! The delivery join: TEMPLATESENDJOBFINISH reports (protocol B.4, through the relay feed) are
//! matched to sent rows by (account, msgid). A report may overtake the batch commit of its own
//! send; it then waits in `send_delivery_orphans` and is applied when the send is recorded.

use rusqlite::{Connection, OptionalExtension, params};

use super::db::add_daily;
use super::model::Delivery;
use crate::error::Result;

/// What happened to one report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryApplied {
    /// A sent row now carries the delivery outcome.
    Matched(Delivery),
    /// No row has this msgid yet; kept until the send is recorded.
    Parked,
    /// The row already had this report (the relay or WeChat repeated it).
    Duplicate,
}

/// Applies one report. `appid` is the authorizer appid (the feed event's `appid`), `status` the
/// raw `Status` string, kept as is. Plain function over a connection so the feed follower can run
/// it in the transaction that advances its cursor.
pub fn apply_report(
    conn: &Connection,
    appid: &str,
    msgid: i64,
    status: &str,
    at: i64,
) -> Result<DeliveryApplied> {
    let row: Option<(i64, i64, Option<Delivery>)> = conn
        .prepare_cached(
            "SELECT id, job_id, delivery FROM send_recipients WHERE msgid = ?1 AND appid = ?2 \
             AND state = 'sent' ORDER BY id DESC LIMIT 1",
        )?
        .query_row(params![msgid, appid], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    let Some((row_id, job_id, previous)) = row else {
        conn.prepare_cached(
            "INSERT INTO send_delivery_orphans (appid, msgid, status, received_at) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (appid, msgid) DO UPDATE SET status = excluded.status",
        )?
        .execute(params![appid, msgid, status, at])?;
        return Ok(DeliveryApplied::Parked);
    };
    let outcome = Delivery::from_report(status);
    if previous == Some(outcome) {
        return Ok(DeliveryApplied::Duplicate);
    }
    conn.prepare_cached(
        "UPDATE send_recipients SET delivery = ?2, delivery_raw = ?3, delivered_at = ?4 WHERE id = ?1",
    )?
    .execute(params![row_id, outcome, status, at])?;
    // Move the job's and the day's counters from the previous outcome to this one.
    let sent_at: i64 = conn
        .prepare_cached("SELECT coalesce(done_at, ?2) FROM send_recipients WHERE id = ?1")?
        .query_row(params![row_id, at], |r| r.get(0))?;
    if let Some(prev) = previous.and_then(counter_column) {
        bump_job(conn, job_id, prev, -1)?;
        add_daily(conn, sent_at, appid, prev, -1)?;
    }
    if let Some(col) = counter_column(outcome) {
        bump_job(conn, job_id, col, 1)?;
        add_daily(conn, sent_at, appid, col, 1)?;
    }
    Ok(DeliveryApplied::Matched(outcome))
}

/// The job counter (and per-day outcome name) of a delivery outcome.
fn counter_column(d: Delivery) -> Option<&'static str> {
    match d {
        Delivery::Delivered => Some("delivered"),
        Delivery::UserBlock => Some("user_block"),
        Delivery::SystemFailed => Some("system_failed"),
        Delivery::Pending | Delivery::Unknown => None,
    }
}

fn bump_job(conn: &Connection, job_id: i64, col: &str, by: i64) -> Result<()> {
    // `col` is one of three fixed names from counter_column, never input.
    let sql = format!("UPDATE send_jobs SET {col} = {col} + ?2 WHERE id = ?1");
    conn.prepare_cached(&sql)?.execute(params![job_id, by])?;
    Ok(())
}

/// Applies parked reports whose sends were just recorded.
pub(crate) fn apply_orphans(
    conn: &Connection,
    appid: &str,
    msgids: &[i64],
    _now: i64,
) -> Result<()> {
    let any: bool = conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM send_delivery_orphans WHERE appid = ?)")?
        .query_row([appid], |r| r.get(0))?;
    if !any {
        return Ok(());
    }
    for &msgid in msgids {
        let parked: Option<(String, i64)> = conn
            .prepare_cached(
                "DELETE FROM send_delivery_orphans WHERE appid = ?1 AND msgid = ?2 RETURNING status, received_at",
            )?
            .query_row(params![appid, msgid], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        if let Some((status, at)) = parked {
            apply_report(conn, appid, msgid, &status, at)?;
        }
    }
    Ok(())
}

/// Drops parked reports older than `max_age_secs` (their sends were never ours, e.g. messages
/// sent by another tool on the same account).
pub fn purge_orphans(conn: &Connection, now: i64, max_age_secs: i64) -> Result<u64> {
    Ok(conn.execute(
        "DELETE FROM send_delivery_orphans WHERE received_at < ?",
        [now - max_age_secs],
    )? as u64)
}
