//! 发送记录 of a team: the rows of every job the server ran, newest first, filtered the way a
//! desk filters its own history. A row's id for the desk is `job_id × ROW_ID_SPAN + seq` (a job
//! holds at most `jobs::MAX_ROWS` rows, below the span), so paging is a keyset on the primary
//! key `(job_id, seq)` walked backwards.

use serde::Serialize;

use super::db::Db;
use super::jobs::MAX_ROWS;
use crate::error::Result;

/// Row ids are `job_id * ROW_ID_SPAN + seq`.
pub const ROW_ID_SPAN: i64 = 1_000_000;
const _: () = assert!((MAX_ROWS as i64) < ROW_ID_SPAN);

/// What the desk filters by; every part optional.
#[derive(Debug, Default, Clone)]
pub struct Query {
    pub appid: Option<String>,
    pub template_id: Option<String>,
    pub job_id: Option<i64>,
    /// A row state (`sent`, `failed_permanent`, …).
    pub state: Option<String>,
    /// A delivery report (`delivered`, `user_block`, `system_failed`, `unknown`), or `pending`
    /// for a sent row without one yet.
    pub delivery: Option<String>,
    /// Unix seconds: the job created at or after / before.
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub openid: Option<String>,
    /// A row id: only older rows.
    pub before: Option<i64>,
    pub limit: i64,
}

/// One history row as the server gives it.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub id: i64,
    pub job_id: i64,
    pub seq: i32,
    pub appid: String,
    pub kind: String,
    pub template_id: String,
    pub title: String,
    pub purpose: String,
    pub created_by: String,
    pub openid: String,
    pub state: String,
    pub attempts: i32,
    pub errcode: Option<i64>,
    pub errmsg: Option<String>,
    /// As text: it can exceed 2^53.
    pub msgid: Option<String>,
    pub client_msg_id: Option<String>,
    pub delivery: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

pub async fn list(db: &Db, q: &Query) -> Result<Vec<Row>> {
    let conn = db.get().await?;
    let (before_job, before_seq) = match q.before {
        Some(id) => (
            Some(id.div_euclid(ROW_ID_SPAN)),
            Some(id.rem_euclid(ROW_ID_SPAN) as i32),
        ),
        None => (None, None),
    };
    let pending_delivery = q.delivery.as_deref() == Some("pending");
    let delivery = q.delivery.clone().filter(|_| !pending_delivery);
    let rows = conn
        .query(
            "SELECT r.job_id, r.seq, j.appid, j.kind, j.template_id, j.title, j.purpose,
                    j.created_by, r.openid, r.state, r.attempts, r.errcode, r.errmsg, r.msgid,
                    r.client_msg_id, r.delivery, j.created_at, r.updated_at
               FROM team_job_rows r JOIN team_jobs j ON j.id = r.job_id
              WHERE ($1::text IS NULL OR j.appid = $1)
                AND ($2::text IS NULL OR j.template_id = $2)
                AND ($3::bigint IS NULL OR r.job_id = $3)
                AND ($4::text IS NULL OR r.state = $4)
                AND ($5::text IS NULL OR r.delivery = $5)
                AND (NOT $6 OR (r.state = 'sent' AND r.delivery IS NULL))
                AND ($7::bigint IS NULL OR j.created_at >= $7)
                AND ($8::bigint IS NULL OR j.created_at < $8)
                AND ($9::text IS NULL OR r.openid = $9)
                AND ($10::bigint IS NULL OR (r.job_id, r.seq) < ($10, $11::integer))
              ORDER BY r.job_id DESC, r.seq DESC
              LIMIT $12",
            &[
                &q.appid,
                &q.template_id,
                &q.job_id,
                &q.state,
                &delivery,
                &pending_delivery,
                &q.from,
                &q.to,
                &q.openid,
                &before_job,
                &before_seq,
                &q.limit.clamp(1, 1000),
            ],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| {
            let job_id: i64 = r.get(0);
            let seq: i32 = r.get(1);
            Row {
                id: job_id * ROW_ID_SPAN + i64::from(seq),
                job_id,
                seq,
                appid: r.get(2),
                kind: r.get(3),
                template_id: r.get(4),
                title: r.get(5),
                purpose: r.get(6),
                created_by: r.get(7),
                openid: r.get(8),
                state: r.get(9),
                attempts: r.get(10),
                errcode: r.get(11),
                errmsg: r.get(12),
                msgid: r.get::<_, Option<i64>>(13).map(|m| m.to_string()),
                client_msg_id: r.get(14),
                delivery: r.get(15),
                created_at: r.get(16),
                updated_at: r.get(17),
            }
        })
        .collect())
}

/// Outcomes of one Beijing day, as 概览 charts them.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Day {
    pub day: String,
    pub sent: i64,
    pub failed: i64,
    pub uncertain: i64,
    pub delivered: i64,
    pub user_block: i64,
    pub system_failed: i64,
}

/// The days from `from_day` to `to_day` (`YYYY-MM-DD`, Beijing time, inclusive) that have any
/// outcome, by the day each row last changed; optionally of one account.
pub async fn days(db: &Db, from_day: &str, to_day: &str, appid: Option<&str>) -> Result<Vec<Day>> {
    let conn = db.get().await?;
    // Beijing is UTC+8 all year: a day starts at 16:00 UTC of the day before.
    let rows = conn
        .query(
            "WITH w AS (
                 SELECT (extract(epoch FROM $1::text::date::timestamp) - 28800)::bigint AS lo,
                        (extract(epoch FROM ($2::text::date + 1)::timestamp) - 28800)::bigint AS hi)
             SELECT to_char(to_timestamp(r.updated_at + 28800) AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day,
                    count(*) FILTER (WHERE r.state = 'sent'),
                    count(*) FILTER (WHERE r.state IN ('failed_retryable', 'failed_permanent')),
                    count(*) FILTER (WHERE r.state = 'uncertain'),
                    count(*) FILTER (WHERE r.delivery = 'delivered'),
                    count(*) FILTER (WHERE r.delivery = 'user_block'),
                    count(*) FILTER (WHERE r.delivery = 'system_failed')
               FROM team_job_rows r JOIN team_jobs j ON j.id = r.job_id, w
              WHERE r.updated_at >= w.lo AND r.updated_at < w.hi
                AND ($3::text IS NULL OR j.appid = $3)
              GROUP BY 1 ORDER BY 1",
            &[&from_day, &to_day, &appid],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| Day {
            day: r.get(0),
            sent: r.get(1),
            failed: r.get(2),
            uncertain: r.get(3),
            delivered: r.get(4),
            user_block: r.get(5),
            system_failed: r.get(6),
        })
        .collect())
}
