//! The delivery join on the server: TEMPLATESENDJOBFINISH reports (protocol B.4) land in the
//! team event log like every push; each pass reads the new ones after a cursor and marks the
//! sent row with the same (account, msgid), moving the job's delivered / user_block /
//! system_failed counts. A report that overtakes the commit of its own send (or belongs to a
//! message no job sent) waits as an orphan and is matched again on later passes.
//!
//! Any process may run a pass: the cursor row is locked for the pass, so passes never overlap.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::error::Result;
use crate::team::db::Db;

const KIND: &str = "template_send_job_finish";
/// Reports read per pass.
const PAGE: i64 = 1000;
/// Orphans older than this are forgotten (not a job's message, or a job already deleted).
const ORPHAN_SECS: i64 = 86_400;

/// The outcome a report's `Status` names, as a row's `delivery` and the job's count column.
fn outcome(status: &str) -> &'static str {
    let s = status.trim();
    if s.eq_ignore_ascii_case("success") {
        return "delivered";
    }
    match s.strip_prefix("failed") {
        Some(rest) => {
            let why: String = rest
                .trim_start_matches(':')
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            if why.eq_ignore_ascii_case("userblock") {
                "user_block"
            } else {
                "system_failed"
            }
        }
        None => "unknown",
    }
}

/// The job count column of an outcome (`unknown` has none).
fn column(outcome: &str) -> Option<&'static str> {
    match outcome {
        "delivered" => Some("delivered"),
        "user_block" => Some("user_block"),
        "system_failed" => Some("system_failed"),
        _ => None,
    }
}

/// One pass: new reports, then parked ones. Returns how many rows got an outcome.
pub(crate) async fn pass(db: &Db, nudger: &super::Nudger) -> Result<usize> {
    let mut conn = db.get().await?;
    let tx = conn.transaction().await?;
    // SKIP LOCKED: while another process joins, this one has nothing to do (it would only wait
    // for that pass and then find its work done).
    let Some(cursor) = tx
        .query_opt(
            "SELECT after_seq FROM team_job_delivery_cursor WHERE id = 1 FOR UPDATE SKIP LOCKED",
            &[],
        )
        .await?
    else {
        return Ok(0);
    };
    let after: i64 = cursor.get(0);
    // Every seq up to the log's head is committed (the head moves in the appending
    // transaction): the cursor can move to it past events of other kinds, so a pass never
    // scans the same messages again.
    let head: i64 = tx
        .query_one("SELECT seq FROM relay_log_head WHERE id = 1", &[])
        .await?
        .get(0);
    let events = tx
        .query(
            "SELECT seq, appid, data, received_at FROM relay_events
              WHERE seq > $1 AND seq <= $2 AND kind = $3 ORDER BY seq LIMIT $4",
            &[&after, &head, &KIND, &PAGE],
        )
        .await?;
    let mut reports: Vec<(String, i64, String, i64)> = Vec::new();
    let mut last = after;
    for e in &events {
        last = e.get(0);
        let (Some(appid), Ok(data)) = (
            e.get::<_, Option<String>>(1),
            serde_json::from_str::<Value>(e.get::<_, &str>(2)),
        ) else {
            continue;
        };
        let msgid = match &data["msg_id"] {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.parse().ok(),
            _ => None,
        };
        let status = data["status"].as_str().unwrap_or_default().to_owned();
        if let Some(msgid) = msgid {
            reports.push((appid, msgid, status, e.get(3)));
        }
    }
    let next = if (events.len() as i64) < PAGE {
        head
    } else {
        last
    };
    if next > after {
        tx.execute(
            "UPDATE team_job_delivery_cursor SET after_seq = $1 WHERE id = 1",
            &[&next],
        )
        .await?;
    }
    // One statement for the page (one per report cost the server a statement each). A report
    // repeated within the page keeps its first arrival and its last status, as one at a time
    // would have.
    let mut parked: BTreeMap<(String, i64), (String, i64)> = BTreeMap::new();
    for (appid, msgid, status, at) in reports {
        parked
            .entry((appid, msgid))
            .and_modify(|e| e.0.clone_from(&status))
            .or_insert((status, at));
    }
    if !parked.is_empty() {
        let (mut appids, mut msgids, mut statuses, mut ats) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for ((appid, msgid), (status, at)) in parked {
            appids.push(appid);
            msgids.push(msgid);
            statuses.push(status);
            ats.push(at);
        }
        tx.execute(
            "INSERT INTO team_job_delivery_orphans (appid, msgid, status, received_at)
             SELECT * FROM unnest($1::text[], $2::int8[], $3::text[], $4::int8[])
             ON CONFLICT (appid, msgid) DO UPDATE SET status = EXCLUDED.status",
            &[&appids, &msgids, &statuses, &ats],
        )
        .await?;
    }
    // Every parked report whose row is now recorded as sent (new ones included).
    let matched = tx
        .query(
            "DELETE FROM team_job_delivery_orphans o
              USING team_job_rows r, team_jobs j
              WHERE r.msgid = o.msgid AND r.state = 'sent' AND j.id = r.job_id
                AND j.appid = o.appid
          RETURNING r.job_id, r.seq, r.delivery, o.status",
            &[],
        )
        .await?;
    let mut deltas: BTreeMap<i64, BTreeMap<&'static str, i64>> = BTreeMap::new();
    let (mut jobs, mut seqs, mut outcomes) = (Vec::new(), Vec::new(), Vec::new());
    for m in &matched {
        let (job, seq): (i64, i32) = (m.get(0), m.get(1));
        let previous: Option<String> = m.get(2);
        let now = outcome(m.get::<_, &str>(3));
        if previous.as_deref() == Some(now) {
            continue;
        }
        jobs.push(job);
        seqs.push(seq);
        outcomes.push(now);
        let d = deltas.entry(job).or_default();
        if let Some(c) = previous.as_deref().and_then(column) {
            *d.entry(c).or_default() -= 1;
        }
        if let Some(c) = column(now) {
            *d.entry(c).or_default() += 1;
        }
    }
    let applied = jobs.len();
    if applied > 0 {
        // A (job, seq) comes at most once: the orphans' key is (appid, msgid), and a sent row
        // has one msgid.
        tx.execute(
            "UPDATE team_job_rows r SET delivery = u.o
               FROM unnest($1::int8[], $2::int4[], $3::text[]) AS u(j, s, o)
              WHERE r.job_id = u.j AND r.seq = u.s",
            &[&jobs, &seqs, &outcomes],
        )
        .await?;
    }
    // Into the jobs' `delivery` tallies (migration 0005), not their rows: the send path of
    // every process stays free of this transaction. One joiner at a time (the cursor's lock),
    // so nobody else writes these tallies.
    for (job, d) in &deltas {
        let n = |c: &str| d.get(c).copied().unwrap_or(0);
        tx.execute(
            "INSERT INTO team_job_tallies AS t (job_id, lane, version, delivered, user_block,
                 system_failed)
             VALUES ($1, 'delivery', 1, $2, $3, $4)
             ON CONFLICT (job_id, lane) DO UPDATE SET version = t.version + 1,
                 delivered = t.delivered + EXCLUDED.delivered,
                 user_block = t.user_block + EXCLUDED.user_block,
                 system_failed = t.system_failed + EXCLUDED.system_failed",
            &[job, &n("delivered"), &n("user_block"), &n("system_failed")],
        )
        .await?;
    }
    tx.execute(
        "DELETE FROM team_job_delivery_orphans WHERE received_at < $1",
        &[&(crate::http::now_unix() - ORPHAN_SECS)],
    )
    .await?;
    tx.commit().await?;
    // After the commit (see `worker::write_batch`): watchers read what is committed.
    for job in deltas.keys() {
        nudger.changed(*job);
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_statuses_map_to_the_job_counts() {
        assert_eq!(outcome("success"), "delivered");
        assert_eq!(outcome("failed:user block"), "user_block");
        assert_eq!(outcome("failed: system failed"), "system_failed");
        assert_eq!(outcome("whatever"), "unknown");
        assert_eq!(column("unknown"), None);
    }
}
