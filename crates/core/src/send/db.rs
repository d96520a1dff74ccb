//! The engine's SQL: jobs and recipient rows, claiming, recording outcomes, and the counters and
//! per-day totals that move with them. Plain functions over a connection or transaction, so each
//! caller decides what commits together.

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::model::{
    Delivery, Job, JobCounts, JobKind, JobPurpose, JobShown, JobStatus, Payload, RecipientState,
    Vars,
};
use super::reason::{PauseReason, RowNote};
use crate::error::{Error, Result};

/// The Beijing-time day of a unix time, as SQL (WeChat's quotas and the operators' days).
pub(crate) const DAY_SQL: &str = "date(?, 'unixepoch', '+8 hours')";

pub(crate) fn now_secs() -> i64 {
    now_ms() / 1000
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

const JOB_COLS: &str = "id, appid, kind, template_id, title, payload, nonce, status, pause_reason, \
    concurrency, rate_per_sec, max_attempts, copied_from, total, sent, failed_retryable, \
    failed_permanent, uncertain, skipped, cancelled, delivered, user_block, system_failed, \
    created_at, started_at, finished_at, purpose";

fn job_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(Job, String)> {
    let payload_json: String = r.get(5)?;
    let n = |i: usize| -> rusqlite::Result<u64> { Ok(r.get::<_, i64>(i)?.max(0) as u64) };
    let status: JobStatus = r.get(7)?;
    let counts = JobCounts {
        total: n(13)?,
        sent: n(14)?,
        failed_retryable: n(15)?,
        failed_permanent: n(16)?,
        uncertain: n(17)?,
        skipped: n(18)?,
        cancelled: n(19)?,
        delivered: n(20)?,
        user_block: n(21)?,
        system_failed: n(22)?,
    };
    let shown = JobShown::of(status, &counts);
    let job = Job {
        id: r.get(0)?,
        appid: r.get(1)?,
        kind: r.get(2)?,
        template_id: r.get(3)?,
        title: r.get(4)?,
        purpose: r.get(26)?,
        // Filled by the caller from payload_json (a JSON error is not a rusqlite error).
        payload: Payload::CustomText {
            content: String::new(),
        },
        nonce: r.get(6)?,
        status,
        pause_reason: PauseReason::from_stored(&r.get::<_, String>(8)?),
        concurrency: r.get::<_, i64>(9)?.clamp(1, u32::MAX as i64) as u32,
        rate_per_sec: r.get::<_, i64>(10)?.clamp(1, u32::MAX as i64) as u32,
        max_attempts: r.get::<_, i64>(11)?.clamp(1, u32::MAX as i64) as u32,
        copied_from: r.get(12)?,
        counts,
        shown,
        attention: shown.needs_attention(&counts),
        created_at: r.get(23)?,
        started_at: r.get(24)?,
        finished_at: r.get(25)?,
        created_by: None,
    };
    Ok((job, payload_json))
}

fn finish_job((mut job, payload_json): (Job, String)) -> Result<Job> {
    job.payload = serde_json::from_str(&payload_json).map_err(|e| {
        Error::input(
            format!("任务 {} 的消息内容无法解析：{e}", job.id),
            format!("The message of job {} cannot be read: {e}", job.id),
        )
    })?;
    Ok(job)
}

pub(crate) fn load_job(conn: &Connection, id: i64) -> Result<Job> {
    let sql = format!("SELECT {JOB_COLS} FROM send_jobs WHERE id = ?");
    let row = conn.query_row(&sql, [id], job_from_row).optional()?;
    match row {
        Some(r) => finish_job(r),
        None => Err(Error::input(
            format!("发送任务 {id} 不存在"),
            format!("There is no send job {id}"),
        )),
    }
}

/// Jobs newest first, optionally of one account; keyset by id.
pub(crate) fn list_jobs(
    conn: &Connection,
    appid: Option<&str>,
    before_id: Option<i64>,
    limit: u32,
) -> Result<Vec<Job>> {
    let sql = format!(
        "SELECT {JOB_COLS} FROM send_jobs WHERE (?1 IS NULL OR appid = ?1) AND id < ?2 \
         ORDER BY id DESC LIMIT ?3"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt
        .query_map(
            params![appid, before_id.unwrap_or(i64::MAX), limit],
            job_from_row,
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter().map(finish_job).collect()
}

/// Ids of jobs with the given status.
pub(crate) fn jobs_with_status(conn: &Connection, status: JobStatus) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare("SELECT id FROM send_jobs WHERE status = ? ORDER BY id")?;
    let ids = stmt
        .query_map([status], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<i64>>>()?;
    Ok(ids)
}

pub(crate) struct NewJob<'a> {
    pub appid: &'a str,
    pub kind: JobKind,
    pub template_id: &'a str,
    pub title: &'a str,
    pub purpose: JobPurpose,
    pub payload_json: &'a str,
    pub nonce: &'a str,
    pub concurrency: u32,
    pub rate_per_sec: u32,
    pub max_attempts: u32,
    pub copied_from: Option<i64>,
}

pub(crate) fn insert_job(conn: &Connection, j: &NewJob<'_>, now: i64) -> Result<i64> {
    conn.execute(
        "INSERT INTO send_jobs (appid, kind, template_id, title, payload, nonce, status, \
         concurrency, rate_per_sec, max_attempts, copied_from, created_at, updated_at, purpose) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'draft', ?7, ?8, ?9, ?10, ?11, ?11, ?12)",
        params![
            j.appid,
            j.kind,
            j.template_id,
            j.title,
            j.payload_json,
            j.nonce,
            j.concurrency,
            j.rate_per_sec,
            j.max_attempts,
            j.copied_from,
            now,
            j.purpose
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// One recipient row ready to insert: `Pending`, or `Skipped` with the reason.
pub(crate) struct NewRow {
    pub seq: i64,
    pub openid: String,
    pub vars_json: String,
    /// Why the row is not sent, duplicates aside.
    pub skip_reason: Option<RowNote>,
    /// The caller's hash of this openid was seen before in the job: a duplicate, or a collision.
    /// `insert_rows` decides by comparing the openids themselves.
    pub maybe_duplicate: bool,
}

pub(crate) fn insert_rows(
    tx: &Transaction<'_>,
    job: &Job,
    rows: &[NewRow],
    now: i64,
) -> Result<()> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO send_recipients (job_id, seq, appid, kind, template_id, openid, vars, state, \
         errmsg, done_at, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    // Rows of earlier chunks are committed and rows of this one are inserted in order in this
    // transaction, so every earlier recipient of the job is visible here (openid index).
    let mut earlier = tx.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM send_recipients WHERE openid = ?1 AND job_id = ?2)",
    )?;
    let mut skipped = 0i64;
    for r in rows {
        let duplicate = r.maybe_duplicate
            && earlier.query_row(params![r.openid, job.id], |x| x.get::<_, bool>(0))?;
        let reason = if duplicate {
            Some(RowNote::Duplicate.to_stored())
        } else {
            r.skip_reason.as_ref().map(RowNote::to_stored)
        };
        let state = if reason.is_some() {
            RecipientState::Skipped
        } else {
            RecipientState::Pending
        };
        skipped += i64::from(reason.is_some());
        let done_at = reason.as_ref().map(|_| now);
        stmt.execute(params![
            job.id,
            r.seq,
            job.appid,
            job.kind,
            job.template_id,
            r.openid,
            r.vars_json,
            state,
            reason,
            done_at,
            now
        ])?;
    }
    tx.execute(
        "UPDATE send_jobs SET total = total + ?2, skipped = skipped + ?3, updated_at = ?4 WHERE id = ?1",
        params![job.id, rows.len() as i64, skipped, now],
    )?;
    Ok(())
}

/// Runs `f` in one transaction whose commit is on disk (fsync'd) when this returns.
///
/// The store runs WAL with `synchronous=NORMAL`, which does not sync the WAL at commit: after a
/// power loss the last commits can be gone. For a claim that would be a resend: the rows would
/// come back `pending` although their requests left, and go out again. So the transaction that
/// moves rows to `in_flight` commits with `synchronous=FULL` (SQLite then fsyncs the WAL before
/// the commit returns), and the runner starts the requests only after this returns. Only this
/// commit pays for the fsync; everything else keeps NORMAL (an outcome lost to a power loss
/// leaves its row `in_flight`, which recovery turns into `uncertain`, never into a resend).
/// The level cannot change inside a transaction, hence around it; the previous level is put
/// back even when `f` fails.
pub(crate) fn durable_transaction<R>(
    c: &mut Connection,
    f: impl FnOnce(&Transaction<'_>) -> Result<R>,
) -> Result<R> {
    let before: i64 = c.query_row("PRAGMA synchronous", [], |r| r.get(0))?;
    // FULL = 2; EXTRA (3) is stronger already.
    let raise = before < 2;
    if raise {
        c.pragma_update(None, "synchronous", "FULL")?;
    }
    let result = (|| {
        let tx = c.transaction()?;
        let r = f(&tx)?;
        tx.commit()?;
        Ok(r)
    })();
    if raise && let Err(e) = c.pragma_update(None, "synchronous", before) {
        // Staying at FULL is only slower; the commit above stands either way.
        tracing::warn!(error = %e, "could not restore synchronous after a claim");
    }
    result
}

/// A row taken for sending.
#[derive(Debug, Clone)]
pub(crate) struct Claimed {
    pub id: i64,
    pub seq: i64,
    pub openid: String,
    pub vars: Vars,
    pub attempts: u32,
}

/// Marks up to `n` due pending rows of a job `in_flight` (counting the attempt) and returns them.
pub(crate) fn claim(
    tx: &Transaction<'_>,
    job_id: i64,
    n: usize,
    now_ms: i64,
) -> Result<Vec<Claimed>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    let mut stmt = tx.prepare_cached(
        "UPDATE send_recipients SET state = 'in_flight', attempts = attempts + 1, attempted_at = ?4 \
         WHERE id IN (SELECT id FROM send_recipients WHERE job_id = ?1 AND state = 'pending' \
                      AND next_at <= ?2 ORDER BY next_at, seq LIMIT ?3) \
         RETURNING id, seq, openid, vars, attempts",
    )?;
    let rows = stmt
        .query_map(params![job_id, now_ms, n as i64, now_ms / 1000], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, i64>(4)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<(i64, i64, String, String, i64)>>>()?;
    let mut out = Vec::with_capacity(rows.len());
    for (id, seq, openid, vars_json, attempts) in rows {
        // Vars were serialized by us; an unreadable value means no variables rather than a stuck job.
        let vars = serde_json::from_str(&vars_json).unwrap_or_default();
        out.push(Claimed {
            id,
            seq,
            openid,
            vars,
            attempts: attempts.clamp(0, u32::MAX as i64) as u32,
        });
    }
    Ok(out)
}

/// The earliest `next_at` of the job's pending rows, `None` when none is pending.
pub(crate) fn next_due(conn: &Connection, job_id: i64) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached(
            "SELECT next_at FROM send_recipients WHERE job_id = ? AND state = 'pending' \
             ORDER BY next_at LIMIT 1",
        )?
        .query_row([job_id], |r| r.get(0))
        .optional()?)
}

/// How one attempt ended, as the row will record it.
#[derive(Debug, Clone)]
pub(crate) enum RowResult {
    Sent {
        msgid: Option<i64>,
        response: String,
    },
    /// Back to pending, due at `next_at_ms`; `refund` takes the attempt back (quota/pauses: the
    /// recipient was not at fault and nothing was sent).
    Again {
        next_at_ms: i64,
        errcode: Option<i64>,
        errmsg: String,
        response: String,
        refund: bool,
    },
    Final {
        state: RecipientState,
        errcode: Option<i64>,
        errmsg: String,
        response: String,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    pub row_id: i64,
    pub result: RowResult,
}

/// Records a batch of outcomes of one job: each row advances together with its outcome, the job's
/// counters and the per-day totals, in the caller's transaction.
pub(crate) fn apply_outcomes(
    tx: &Transaction<'_>,
    job: &Job,
    outcomes: &[Outcome],
    now: i64,
) -> Result<()> {
    if outcomes.is_empty() {
        return Ok(());
    }
    let delivery = job.kind.has_delivery_report().then_some(Delivery::Pending);
    let (mut sent, mut fr, mut fp, mut unc) = (0i64, 0i64, 0i64, 0i64);
    let mut sent_msgids = Vec::new();
    {
        let mut sent_stmt = tx.prepare_cached(
            "UPDATE send_recipients SET state = 'sent', msgid = ?2, errcode = 0, errmsg = NULL, \
             response = ?3, delivery = ?4, done_at = ?5 WHERE id = ?1 AND state = 'in_flight'",
        )?;
        let mut again_stmt = tx.prepare_cached(
            "UPDATE send_recipients SET state = 'pending', next_at = ?2, errcode = ?3, errmsg = ?4, \
             response = ?5, attempts = attempts - ?6 WHERE id = ?1 AND state = 'in_flight'",
        )?;
        let mut final_stmt = tx.prepare_cached(
            "UPDATE send_recipients SET state = ?2, errcode = ?3, errmsg = ?4, response = ?5, \
             done_at = ?6 WHERE id = ?1 AND state = 'in_flight'",
        )?;
        for o in outcomes {
            match &o.result {
                RowResult::Sent { msgid, response } => {
                    if sent_stmt.execute(params![o.row_id, msgid, response, delivery, now])? == 1 {
                        sent += 1;
                        sent_msgids.extend(*msgid);
                    }
                }
                RowResult::Again {
                    next_at_ms,
                    errcode,
                    errmsg,
                    response,
                    refund,
                } => {
                    again_stmt.execute(params![
                        o.row_id,
                        next_at_ms,
                        errcode,
                        errmsg,
                        response,
                        i64::from(*refund)
                    ])?;
                }
                RowResult::Final {
                    state,
                    errcode,
                    errmsg,
                    response,
                } => {
                    if final_stmt
                        .execute(params![o.row_id, state, errcode, errmsg, response, now])?
                        == 1
                    {
                        match state {
                            RecipientState::FailedRetryable => fr += 1,
                            RecipientState::FailedPermanent => fp += 1,
                            RecipientState::Uncertain => unc += 1,
                            _ => {}
                        }
                    }
                }
            }
        }
    }
    tx.prepare_cached(
        "UPDATE send_jobs SET sent = sent + ?2, failed_retryable = failed_retryable + ?3, \
         failed_permanent = failed_permanent + ?4, uncertain = uncertain + ?5, updated_at = ?6 \
         WHERE id = ?1",
    )?
    .execute(params![job.id, sent, fr, fp, unc, now])?;
    add_daily(tx, now, &job.appid, "sent", sent)?;
    add_daily(tx, now, &job.appid, "failed", fr + fp)?;
    add_daily(tx, now, &job.appid, "uncertain", unc)?;
    if delivery.is_some() && !sent_msgids.is_empty() {
        super::delivery::apply_orphans(tx, &job.appid, &sent_msgids, now)?;
    }
    Ok(())
}

/// Adds `n` (may be negative) to a day's outcome total.
pub(crate) fn add_daily(
    conn: &Connection,
    at: i64,
    appid: &str,
    outcome: &str,
    n: i64,
) -> Result<()> {
    if n == 0 {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO send_daily (day, appid, outcome, n) VALUES ({DAY_SQL}, ?, ?, ?) \
         ON CONFLICT (day, appid, outcome) DO UPDATE SET n = n + excluded.n"
    );
    conn.prepare_cached(&sql)?
        .execute(params![at, appid, outcome, n])?;
    Ok(())
}

/// Sets a job's status (and why), stamping start and finish times.
pub(crate) fn set_status(
    conn: &Connection,
    job_id: i64,
    status: JobStatus,
    reason: Option<&PauseReason>,
    now: i64,
) -> Result<()> {
    let reason = reason.map(PauseReason::to_stored).unwrap_or_default();
    conn.execute(
        "UPDATE send_jobs SET status = ?2, pause_reason = ?3, updated_at = ?4, \
         started_at = CASE WHEN ?2 = 'running' THEN coalesce(started_at, ?4) ELSE started_at END, \
         finished_at = CASE WHEN ?2 IN ('completed', 'cancelled') THEN ?4 ELSE finished_at END \
         WHERE id = ?1",
        params![job_id, status, reason, now],
    )?;
    Ok(())
}

/// The engine's own pause (quota, account, refusal, transport failures, internal error): only a
/// running job pauses, so it never overrides the operator's pause or cancel that came first.
pub(crate) fn pause_if_running(
    conn: &Connection,
    job_id: i64,
    status: JobStatus,
    reason: &PauseReason,
    now: i64,
) -> Result<bool> {
    let reason = reason.to_stored();
    Ok(conn.execute(
        "UPDATE send_jobs SET status = ?2, pause_reason = ?3, updated_at = ?4 \
         WHERE id = ?1 AND status = 'running'",
        params![job_id, status, reason, now],
    )? == 1)
}

/// A job's rows per state, counted from the rows themselves (delivery counters left at zero).
pub(crate) fn row_counts(conn: &Connection, job_id: i64) -> Result<JobCounts> {
    let mut c = JobCounts::default();
    let mut stmt = conn.prepare_cached(
        "SELECT state, count(*) FROM send_recipients WHERE job_id = ? GROUP BY state",
    )?;
    let rows = stmt
        .query_map([job_id], |r| {
            Ok((r.get::<_, RecipientState>(0)?, r.get::<_, i64>(1)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for (state, n) in rows {
        let n = n.max(0) as u64;
        c.total += n;
        match state {
            RecipientState::Sent => c.sent = n,
            RecipientState::FailedRetryable => c.failed_retryable = n,
            RecipientState::FailedPermanent => c.failed_permanent = n,
            RecipientState::Uncertain => c.uncertain = n,
            RecipientState::Skipped => c.skipped = n,
            RecipientState::Cancelled => c.cancelled = n,
            RecipientState::Pending | RecipientState::InFlight => {}
        }
    }
    Ok(c)
}

/// Sets a job's state counters to the counts of its rows: after bulk changes, and at every
/// transition (pause, cancel, retry, completion), so what the faces read there is the rows'
/// own count even if a counter had drifted. One indexed count per transition, never per batch.
pub(crate) fn recount(conn: &Connection, job_id: i64) -> Result<()> {
    let c = row_counts(conn, job_id)?;
    conn.execute(
        "UPDATE send_jobs SET total = ?2, sent = ?3, failed_retryable = ?4, failed_permanent = ?5, \
         uncertain = ?6, skipped = ?7, cancelled = ?8 WHERE id = ?1",
        params![
            job_id,
            c.total as i64,
            c.sent as i64,
            c.failed_retryable as i64,
            c.failed_permanent as i64,
            c.uncertain as i64,
            c.skipped as i64,
            c.cancelled as i64
        ],
    )?;
    Ok(())
}

/// Puts a job's rows in `states` back to pending (fresh attempts), taking their outcomes back out
/// of the per-day totals. Returns how many rows moved.
pub(crate) fn reset_rows(
    tx: &Transaction<'_>,
    job: &Job,
    states: &[RecipientState],
    now: i64,
) -> Result<u64> {
    let mut moved = 0u64;
    for state in states {
        let outcome = match state {
            RecipientState::FailedRetryable | RecipientState::FailedPermanent => Some("failed"),
            RecipientState::Uncertain => Some("uncertain"),
            _ => None,
        };
        if let Some(outcome) = outcome {
            let sql = format!(
                "SELECT {DAY_SQL_COL}, count(*) FROM send_recipients WHERE job_id = ? AND state = ? \
                 AND done_at IS NOT NULL GROUP BY 1",
                DAY_SQL_COL = "date(done_at, 'unixepoch', '+8 hours')"
            );
            let days = tx
                .prepare(&sql)?
                .query_map(params![job.id, state], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            for (day, n) in days {
                tx.execute(
                    "UPDATE send_daily SET n = n - ?4 WHERE day = ?1 AND appid = ?2 AND outcome = ?3",
                    params![day, job.appid, outcome, n],
                )?;
            }
        }
        // Uncertain rows keep their attempt count: the earlier request may have arrived, and the
        // history should say this is a resend.
        let fresh = i64::from(*state != RecipientState::Uncertain);
        moved += tx.execute(
            "UPDATE send_recipients SET state = 'pending', next_at = 0, done_at = NULL, \
             attempts = CASE WHEN ?3 = 1 THEN 0 ELSE attempts END WHERE job_id = ?1 AND state = ?2",
            params![job.id, state, fresh],
        )? as u64;
    }
    recount(tx, job.id)?;
    tx.execute(
        "UPDATE send_jobs SET updated_at = ? WHERE id = ?",
        params![now, job.id],
    )?;
    Ok(moved)
}

/// Cancels a job's pending rows; in-flight ones finish and are recorded as they end.
pub(crate) fn cancel_pending(tx: &Transaction<'_>, job_id: i64, now: i64) -> Result<u64> {
    let n = tx.execute(
        "UPDATE send_recipients SET state = 'cancelled', done_at = ?2 WHERE job_id = ?1 AND state = 'pending'",
        params![job_id, now],
    )?;
    tx.execute(
        "UPDATE send_jobs SET cancelled = cancelled + ?2 WHERE id = ?1",
        params![job_id, n as i64],
    )?;
    Ok(n as u64)
}

/// After a crash: every row left `in_flight` becomes `uncertain` (the request may have reached
/// WeChat). Returns (job id, rows) per affected job.
pub(crate) fn in_flight_to_uncertain(tx: &Transaction<'_>, now: i64) -> Result<Vec<(i64, u64)>> {
    rows_in_flight_to_uncertain(tx, None, &RowNote::Interrupted, now)
}

/// One job's `in_flight` rows become `uncertain` with `why` (its runner died while they were on
/// the wire: their outcomes will never be recorded). Returns how many rows moved.
pub(crate) fn job_in_flight_to_uncertain(
    tx: &Transaction<'_>,
    job_id: i64,
    why: &RowNote,
    now: i64,
) -> Result<u64> {
    Ok(rows_in_flight_to_uncertain(tx, Some(job_id), why, now)?
        .iter()
        .map(|(_, n)| n)
        .sum())
}

fn rows_in_flight_to_uncertain(
    tx: &Transaction<'_>,
    job_id: Option<i64>,
    why: &RowNote,
    now: i64,
) -> Result<Vec<(i64, u64)>> {
    let why = why.to_stored();
    let per_job = tx
        .prepare(
            "SELECT r.job_id, j.appid, count(*) FROM send_recipients r JOIN send_jobs j ON j.id = r.job_id \
             WHERE r.state = 'in_flight' AND (?1 IS NULL OR r.job_id = ?1) GROUP BY r.job_id",
        )?
        .query_map([job_id], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    tx.execute(
        "UPDATE send_recipients SET state = 'uncertain', done_at = ?1, errcode = NULL, errmsg = ?3 \
         WHERE state = 'in_flight' AND (?2 IS NULL OR job_id = ?2)",
        params![now, job_id, why],
    )?;
    let mut out = Vec::new();
    for (job_id, appid, n) in per_job {
        tx.execute(
            "UPDATE send_jobs SET uncertain = uncertain + ?2, updated_at = ?3 WHERE id = ?1",
            params![job_id, n, now],
        )?;
        add_daily(tx, now, &appid, "uncertain", n)?;
        out.push((job_id, n.max(0) as u64));
    }
    Ok(out)
}

/// Whether any row of the job is pending or in flight.
pub(crate) fn has_open_rows(conn: &Connection, job_id: i64) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM send_recipients WHERE job_id = ? AND state IN ('pending', 'in_flight'))",
        )?
        .query_row([job_id], |r| r.get(0))?)
}
