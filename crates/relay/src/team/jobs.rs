//! Bulk-send jobs run on the team server (issue #17 point 5). A desk creates a job with all its
//! recipients in one request; the job and every row are committed before the answer, and from
//! then on every relay process's worker (jobs/worker.rs) claims and sends its rows. Nothing about
//! a job lives in a process: a killed process's claimed rows are found by the reaper and become
//! `uncertain` (never resent without the operator's resend-uncertain).
//!
//! Counts live on the job row and move in the same transaction as the rows they count; every
//! visible change bumps `version` and NOTIFYs `team_jobs` with the job id, which wakes watchers
//! on every process (each keeps a LISTEN session of its own, see [`Hub`]). Delivery reports
//! (TEMPLATESENDJOBFINISH) are joined to sent rows on the server too (delivery.rs).
//!
//! Durability is PostgreSQL's: COMMIT returns once the WAL is flushed (`synchronous_commit` on,
//! the default that docs/deploy says to keep), so an answered create or a committed claim
//! survives a crash of the server or the database.

pub mod delivery;
mod hub;
pub mod worker;

pub use hub::Hub;
pub(crate) use hub::Nudger;

use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio_postgres::{GenericClient, Row};

use super::db::Db;
use super::members::Member;
use crate::error::{Error, Result};

/// The NOTIFY channel; the payload is the job id.
pub const CHANNEL: &str = "team_jobs";
/// Most recipients in one job.
pub const MAX_ROWS: usize = 200_000;
/// Largest create body.
pub const MAX_BODY: usize = 64 * 1024 * 1024;
/// The account's send ceiling across every job and process.
pub const MAX_RATE: i32 = 1000;
/// Paths a job may send to.
pub const PATHS: &[&str] = &[
    "/cgi-bin/message/template/send",
    "/cgi-bin/message/custom/send",
    "/cgi-bin/message/subscribe/bizsend",
];
/// Rows inserted per statement when a job is created.
const INSERT_CHUNK: usize = 5000;

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A job as desks read it.
#[derive(Debug, Clone, Serialize)]
pub struct Job {
    pub id: i64,
    pub appid: String,
    pub kind: String,
    pub template_id: String,
    pub title: String,
    pub purpose: String,
    pub payload: Value,
    pub status: String,
    pub pause_reason: Option<String>,
    pub concurrency: i32,
    pub rate_per_sec: i32,
    pub max_attempts: i32,
    pub created_by: String,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub version: i64,
    pub counts: Counts,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Counts {
    pub total: i64,
    pub sent: i64,
    pub failed_retryable: i64,
    pub failed_permanent: i64,
    pub uncertain: i64,
    pub skipped: i64,
    pub cancelled: i64,
    pub delivered: i64,
    pub user_block: i64,
    pub system_failed: i64,
}

const JOB_COLS: &str = "id, appid, kind, template_id, title, purpose, payload, status, \
    pause_reason, concurrency, rate_per_sec, max_attempts, created_by, created_at, started_at, \
    finished_at, version, total, sent, failed_retryable, failed_permanent, uncertain, skipped, \
    cancelled, delivered, user_block, system_failed";

fn job_from(r: &Row) -> Job {
    Job {
        id: r.get(0),
        appid: r.get(1),
        kind: r.get(2),
        template_id: r.get(3),
        title: r.get(4),
        purpose: r.get(5),
        payload: serde_json::from_str(r.get::<_, &str>(6)).unwrap_or(Value::Null),
        status: r.get(7),
        pause_reason: r.get(8),
        concurrency: r.get(9),
        rate_per_sec: r.get(10),
        max_attempts: r.get(11),
        created_by: r.get(12),
        created_at: r.get(13),
        started_at: r.get(14),
        finished_at: r.get(15),
        version: r.get(16),
        counts: Counts {
            total: r.get(17),
            sent: r.get(18),
            failed_retryable: r.get(19),
            failed_permanent: r.get(20),
            uncertain: r.get(21),
            skipped: r.get(22),
            cancelled: r.get(23),
            delivered: r.get(24),
            user_block: r.get(25),
            system_failed: r.get(26),
        },
    }
}

/// A create request (the desk's JSON).
#[derive(Debug, Deserialize)]
pub struct NewJob {
    pub appid: String,
    pub kind: String,
    #[serde(default)]
    pub template_id: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub purpose: String,
    #[serde(default)]
    pub payload: Value,
    #[serde(default = "default_concurrency")]
    pub concurrency: i32,
    #[serde(default = "default_rate")]
    pub rate_per_sec: i32,
    #[serde(default = "default_attempts")]
    pub max_attempts: i32,
    #[serde(default)]
    pub idempotent: bool,
    pub path: String,
    pub rows: Vec<NewRow>,
}

fn default_concurrency() -> i32 {
    20
}
fn default_rate() -> i32 {
    200
}
fn default_attempts() -> i32 {
    5
}

/// One recipient: the body to send, or `skipped`, why the desk could not build one (its note,
/// as the desk stores it in its own rows' errmsg). A skipped row is kept, never sent: the job
/// has a row for every recipient of the desk's list, and its skipped count says how many.
#[derive(Debug, Deserialize)]
pub struct NewRow {
    #[serde(default)]
    pub openid: String,
    #[serde(default)]
    pub body: Option<Value>,
    #[serde(default)]
    pub skipped: Option<String>,
}

/// The longest note a skipped row may carry.
const MAX_NOTE: usize = 4096;

/// Why a request about jobs was refused (the routes turn it into the JSON refusal).
#[derive(Debug)]
pub enum Refused {
    /// 400: (code, zh, en).
    Invalid(&'static str, String, String),
    /// 404: no such job (or list, follower publication, template: the callers say which).
    NotFound,
    /// 409: the job's status does not allow this.
    BadState { status: String },
    /// 503 and the like.
    Db(Error),
}

impl From<Error> for Refused {
    fn from(e: Error) -> Self {
        Refused::Db(e)
    }
}

impl From<tokio_postgres::Error> for Refused {
    fn from(e: tokio_postgres::Error) -> Self {
        Refused::Db(e.into())
    }
}

pub(crate) fn invalid(code: &'static str, zh: impl Into<String>, en: impl Into<String>) -> Refused {
    Refused::Invalid(code, zh.into(), en.into())
}

fn plain_id(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Checks everything before anything is written.
fn validate(job: &NewJob) -> std::result::Result<(), Refused> {
    if !plain_id(&job.appid, 64) {
        return Err(invalid(
            "bad_job",
            "appid 不合法",
            "The appid is not valid.",
        ));
    }
    if !PATHS.contains(&job.path.as_str()) {
        return Err(invalid(
            "bad_job_path",
            format!("任务只能发送到 {}", PATHS.join("、")),
            format!("A job can only send to {}.", PATHS.join(", ")),
        ));
    }
    if job.rows.is_empty() {
        return Err(invalid(
            "bad_job",
            "任务没有收件人",
            "The job has no recipients.",
        ));
    }
    if job.rows.len() > MAX_ROWS {
        return Err(invalid(
            "job_too_large",
            format!("一个任务最多 {MAX_ROWS} 个收件人，请拆成多个任务"),
            format!("A job holds at most {MAX_ROWS} recipients; split it into several jobs."),
        ));
    }
    let ranges = [
        ("concurrency", job.concurrency, 1, 500),
        ("rate_per_sec", job.rate_per_sec, 1, i32::MAX),
        ("max_attempts", job.max_attempts, 1, 50),
    ];
    for (name, v, lo, hi) in ranges {
        if v < lo || v > hi {
            return Err(invalid(
                "bad_job",
                format!("{name} 应在 {lo}–{hi} 之间"),
                format!("{name} must be between {lo} and {hi}."),
            ));
        }
    }
    for (i, r) in job.rows.iter().enumerate() {
        // A skipped row may lack an openid (that can be why it was skipped); it needs a reason.
        let fine = match &r.skipped {
            Some(note) => {
                !note.trim().is_empty() && note.len() <= MAX_NOTE && r.openid.len() <= 128
            }
            None => {
                !r.openid.is_empty()
                    && r.openid.len() <= 128
                    && r.body.as_ref().is_some_and(Value::is_object)
            }
        };
        if !fine {
            return Err(invalid(
                "bad_job_row",
                format!(
                    "第 {} 个收件人不合法（openid 为空、body 不是 JSON 对象，或跳过原因为空或过长）",
                    i + 1
                ),
                format!(
                    "Recipient {} is not valid (empty openid, a body that is not a JSON object, \
                     or a skip reason that is empty or too long).",
                    i + 1
                ),
            ));
        }
    }
    Ok(())
}

/// Creates a job with all its rows in one transaction; answers its id once committed.
pub async fn create(db: &Db, member: &Member, job: NewJob) -> std::result::Result<i64, Refused> {
    validate(&job)?;
    let now = crate::http::now_unix();
    let total = job.rows.len() as i64;
    let skipped = job.rows.iter().filter(|r| r.skipped.is_some()).count() as i64;
    let pending = total - skipped;
    // Every row skipped: nothing to send, and the job is done as it is written (as on a desk).
    let status = if pending == 0 { "completed" } else { "running" };
    let finished_at = (pending == 0).then_some(now);
    let rate = job.rate_per_sec.min(MAX_RATE);
    let mut conn = db.get().await?;
    let tx = conn.transaction().await?;
    let id: i64 = tx
        .query_one(
            "INSERT INTO team_jobs (appid, kind, template_id, title, purpose, payload, path,
                 status, concurrency, rate_per_sec, max_attempts, idempotent, created_by,
                 created_at, started_at, total, pending, skipped, finished_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14,
                 $15, $16, $17, $18)
             RETURNING id",
            &[
                &job.appid,
                &job.kind,
                &job.template_id,
                &job.title,
                &job.purpose,
                &job.payload.to_string(),
                &job.path,
                &status,
                &job.concurrency,
                &rate,
                &job.max_attempts,
                &job.idempotent,
                &member.name,
                &now,
                &total,
                &pending,
                &skipped,
                &finished_at,
            ],
        )
        .await?
        .get(0);
    // One nonce per job: a client_msg_id of this job never equals one of another job, even of a
    // job on another team database sending to the same account.
    let mut raw = [0u8; 4];
    rand::rng().fill_bytes(&mut raw);
    let nonce = hex::encode(raw);
    let mut seq = 0i32;
    for chunk in job.rows.chunks(INSERT_CHUNK) {
        let mut seqs = Vec::with_capacity(chunk.len());
        let mut openids = Vec::with_capacity(chunk.len());
        let mut bodies = Vec::with_capacity(chunk.len());
        let mut ids: Vec<Option<String>> = Vec::with_capacity(chunk.len());
        let mut states = Vec::with_capacity(chunk.len());
        let mut notes: Vec<Option<&str>> = Vec::with_capacity(chunk.len());
        for r in chunk {
            seq += 1;
            seqs.push(seq);
            openids.push(r.openid.clone());
            if let Some(note) = &r.skipped {
                // Never sent: no body, no client_msg_id; the note is the row's errmsg.
                bodies.push(String::new());
                ids.push(None);
                states.push("skipped");
                notes.push(Some(note));
                continue;
            }
            let mut body = r.body.clone().unwrap_or_default();
            // Written into the row before any send: every attempt carries the same id, so
            // WeChat sends at most one message per row however often it is resent.
            let cmid = job.idempotent.then(|| format!("wxt-{id}-{nonce}-{seq}"));
            if let (Some(c), Some(obj)) = (&cmid, body.as_object_mut()) {
                obj.insert("client_msg_id".into(), Value::String(c.clone()));
            }
            bodies.push(body.to_string());
            ids.push(cmid);
            states.push("pending");
            notes.push(None);
        }
        tx.execute(
            "INSERT INTO team_job_rows (job_id, seq, openid, body, client_msg_id, state, errmsg,
                 updated_at)
             SELECT $1, s, o, b, c, st, e, $8
               FROM unnest($2::int4[], $3::text[], $4::text[], $5::text[], $6::text[],
                           $7::text[]) AS u(s, o, b, c, st, e)",
            &[&id, &seqs, &openids, &bodies, &ids, &states, &notes, &now],
        )
        .await
        .map_err(|e| {
            // PostgreSQL text cannot hold NUL, for one.
            tracing::warn!(error = %e, "job rows refused by the database");
            invalid(
                "bad_job_row",
                "收件人数据无法保存（含有不允许的字符）",
                "The recipients could not be stored (a character that is not allowed).",
            )
        })?;
    }
    tx.execute(
        "INSERT INTO team_audit (member, action, detail) VALUES ($1, 'job.create', $2)",
        &[
            &member.name,
            &tokio_postgres::types::Json(serde_json::json!({
                "id": id, "appid": job.appid, "path": job.path, "rows": total,
                "skipped": skipped, "title": job.title,
            })),
        ],
    )
    .await?;
    notify(&tx, id).await?;
    // Durable from here: the answer is only sent after COMMIT returned (WAL flushed).
    tx.commit().await?;
    tracing::info!(id, appid = %job.appid, rows = total, skipped, member = %member.name, "job created");
    Ok(id)
}

pub(crate) async fn notify(c: &impl GenericClient, id: i64) -> Result<()> {
    c.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &id.to_string()])
        .await?;
    Ok(())
}

pub async fn get(db: &Db, id: i64) -> Result<Option<Job>> {
    let conn = db.get().await?;
    let row = conn
        .query_opt(
            &format!("SELECT {JOB_COLS} FROM team_jobs_now WHERE id = $1"),
            &[&id],
        )
        .await?;
    Ok(row.as_ref().map(job_from))
}

/// Newest first.
pub async fn list(db: &Db, limit: i64) -> Result<Vec<Job>> {
    let conn = db.get().await?;
    let rows = conn
        .query(
            &format!("SELECT {JOB_COLS} FROM team_jobs_now ORDER BY id DESC LIMIT $1"),
            &[&limit],
        )
        .await?;
    Ok(rows.iter().map(job_from).collect())
}

/// One recipient row as desks read it (never the body: it is the desk's own).
#[derive(Debug, Clone, Serialize)]
pub struct JobRow {
    pub seq: i32,
    pub openid: String,
    pub state: String,
    pub attempts: i32,
    pub errcode: Option<i64>,
    pub errmsg: Option<String>,
    pub msgid: Option<i64>,
    pub client_msg_id: Option<String>,
    pub updated_at: i64,
}

pub const ROW_STATES: &[&str] = &[
    "pending",
    "in_flight",
    "sent",
    "failed_retryable",
    "failed_permanent",
    "uncertain",
    "skipped",
    "cancelled",
];

/// Rows by seq after `after_seq`, optionally of one state. `None`: no such job.
pub async fn rows(
    db: &Db,
    id: i64,
    state: Option<&str>,
    after_seq: i32,
    limit: i64,
) -> Result<Option<Vec<JobRow>>> {
    let conn = db.get().await?;
    if conn
        .query_opt("SELECT 1 FROM team_jobs WHERE id = $1", &[&id])
        .await?
        .is_none()
    {
        return Ok(None);
    }
    let rows = conn
        .query(
            "SELECT seq, openid, state, attempts, errcode, errmsg, msgid, client_msg_id, updated_at
               FROM team_job_rows
              WHERE job_id = $1 AND seq > $2 AND ($3::text IS NULL OR state = $3)
              ORDER BY seq LIMIT $4",
            &[&id, &after_seq, &state, &limit],
        )
        .await?;
    Ok(Some(
        rows.iter()
            .map(|r| JobRow {
                seq: r.get(0),
                openid: r.get(1),
                state: r.get(2),
                attempts: r.get(3),
                errcode: r.get(4),
                errmsg: r.get(5),
                msgid: r.get(6),
                client_msg_id: r.get(7),
                updated_at: r.get(8),
            })
            .collect(),
    ))
}

/// An operator's change to a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Pause,
    Resume,
    Cancel,
    ResendUncertain,
    /// 重试失败: the retryable failures (`retry-failed`), or every failure
    /// (`retry-all-failed`), queued again.
    RetryFailed {
        all: bool,
    },
    /// The server's own resume of a job paused for the daily quota, if it was paused before
    /// `day_start` (unix seconds of the Beijing midnight that reset the quota). Checked under the
    /// job's lock, so two processes seeing the job at once resume it once. Never from a desk.
    QuotaReset {
        day_start: i64,
    },
}

impl Action {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pause" => Some(Action::Pause),
            "resume" => Some(Action::Resume),
            "cancel" => Some(Action::Cancel),
            "resend-uncertain" => Some(Action::ResendUncertain),
            "retry-failed" => Some(Action::RetryFailed { all: false }),
            "retry-all-failed" => Some(Action::RetryFailed { all: true }),
            _ => None,
        }
    }

    fn audit_name(self) -> &'static str {
        match self {
            Action::Pause => "job.pause",
            Action::Resume => "job.resume",
            Action::Cancel => "job.cancel",
            Action::ResendUncertain => "job.resend_uncertain",
            Action::RetryFailed { .. } => "job.retry_failed",
            Action::QuotaReset { .. } => "job.resume",
        }
    }
}

/// Applies `action`; answers the job after it. Asking for the state a job is already in is not
/// an error (a desk retrying its request gets the job back).
pub async fn act(
    db: &Db,
    member: &Member,
    id: i64,
    action: Action,
) -> std::result::Result<Job, Refused> {
    let now = crate::http::now_unix();
    let mut conn = db.get().await?;
    let tx = conn.transaction().await?;
    // The job row's lock orders this against claims and result writes of every worker (they
    // hold it FOR SHARE): once we have it, none is half done, and the counts read next (a new
    // statement, so a new snapshot) include every tally they committed.
    let Some(row) = tx
        .query_opt(
            "SELECT status, coalesce(paused_at, 0) FROM team_jobs WHERE id = $1 FOR UPDATE",
            &[&id],
        )
        .await?
    else {
        return Err(Refused::NotFound);
    };
    let status: String = row.get(0);
    let paused_at: i64 = row.get(1);
    let counts = tx
        .query_one(
            "SELECT pending, in_flight FROM team_jobs_now WHERE id = $1",
            &[&id],
        )
        .await?;
    let (pending, in_flight): (i64, i64) = (counts.get(0), counts.get(1));
    let bad = || Refused::BadState {
        status: status.clone(),
    };
    let mut changed = 0u64;
    match (action, status.as_str()) {
        (Action::Pause, "paused") | (Action::Resume, "running") | (Action::Cancel, "cancelled") => {
        }
        (Action::Pause, "running" | "paused_quota") => {
            changed += tx
                .execute(
                    "UPDATE team_jobs SET status = 'paused', pause_reason = 'operator',
                         version = version + 1 WHERE id = $1",
                    &[&id],
                )
                .await?;
        }
        // Resumed or paused again since the caller looked: not the pause the reset ends.
        (Action::QuotaReset { day_start }, "paused_quota") if paused_at >= day_start => {}
        (Action::Resume, "paused" | "paused_quota")
        | (Action::QuotaReset { .. }, "paused_quota") => {
            changed += tx
                .execute(
                    "UPDATE team_jobs SET status = CASE WHEN $2 THEN 'completed' ELSE 'running' END,
                         finished_at = CASE WHEN $2 THEN $3::bigint ELSE NULL END,
                         pause_reason = NULL, version = version + 1 WHERE id = $1",
                    &[&id, &(pending == 0 && in_flight == 0), &now],
                )
                .await?;
        }
        (Action::QuotaReset { .. }, _) => {}
        (Action::Cancel, "running" | "paused" | "paused_quota") => {
            let n = tx
                .execute(
                    "UPDATE team_job_rows SET state = 'cancelled', updated_at = $2
                      WHERE job_id = $1 AND state = 'pending'",
                    &[&id, &now],
                )
                .await? as i64;
            changed += tx
                .execute(
                    "UPDATE team_jobs SET status = 'cancelled', pause_reason = NULL,
                         pending = pending - $2, cancelled = cancelled + $2, finished_at = $3,
                         version = version + 1 WHERE id = $1",
                    &[&id, &n, &now],
                )
                .await?;
        }
        (Action::ResendUncertain | Action::RetryFailed { .. }, "cancelled") => return Err(bad()),
        (Action::RetryFailed { all }, _) => {
            // A failure is an answer from WeChat (or nothing reached it): queuing it again
            // cannot duplicate a message. Attempts start over.
            // Counted under the job row's lock, which result writes take too.
            let counts = tx
                .query_one(
                    "SELECT count(*) FILTER (WHERE state = 'failed_retryable'),
                            count(*) FILTER (WHERE $2 AND state = 'failed_permanent')
                       FROM team_job_rows WHERE job_id = $1",
                    &[&id, &all],
                )
                .await?;
            let (retryable, permanent): (i64, i64) = (counts.get(0), counts.get(1));
            tx.execute(
                "UPDATE team_job_rows SET state = 'pending', not_before = 0, attempts = 0,
                        updated_at = $2
                  WHERE job_id = $1
                    AND (state = 'failed_retryable' OR ($3 AND state = 'failed_permanent'))",
                &[&id, &now, &all],
            )
            .await?;
            let n = retryable + permanent;
            if n > 0 {
                changed += tx
                    .execute(
                        "UPDATE team_jobs SET status = 'running', pause_reason = NULL,
                             finished_at = NULL, failed_permanent = failed_permanent - $3,
                             failed_retryable = failed_retryable - ($2 - $3),
                             pending = pending + $2, version = version + 1 WHERE id = $1",
                        &[&id, &n, &permanent],
                    )
                    .await?;
            }
        }
        (Action::ResendUncertain, _) => {
            // Same row, same body, same client_msg_id: WeChat deduplicates an idempotent job's
            // resend within its window (protocol H.3, 10 minutes).
            let n = tx
                .execute(
                    "UPDATE team_job_rows SET state = 'pending', not_before = 0, updated_at = $2
                      WHERE job_id = $1 AND state = 'uncertain'",
                    &[&id, &now],
                )
                .await? as i64;
            if n > 0 {
                changed += tx
                    .execute(
                        "UPDATE team_jobs SET status = 'running', pause_reason = NULL,
                             finished_at = NULL, uncertain = uncertain - $2,
                             pending = pending + $2, version = version + 1 WHERE id = $1",
                        &[&id, &n],
                    )
                    .await?;
            }
        }
        _ => return Err(bad()),
    }
    if changed > 0 {
        tx.execute(
            "INSERT INTO team_audit (member, action, detail) VALUES ($1, $2, $3)",
            &[
                &member.name,
                &action.audit_name(),
                &tokio_postgres::types::Json(serde_json::json!({ "id": id })),
            ],
        )
        .await?;
        notify(&tx, id).await?;
    }
    let job = tx
        .query_one(
            &format!("SELECT {JOB_COLS} FROM team_jobs_now WHERE id = $1"),
            &[&id],
        )
        .await?;
    tx.commit().await?;
    Ok(job_from(&job))
}
