//! The worker every team-mode relay process runs: it registers itself, heartbeats, reaps the
//! rows of dead workers and sends the rows of running jobs.
//!
//! A row is claimed (`in_flight`, this worker's id, attempts+1) in a transaction that COMMITs
//! before its request is made: PostgreSQL's commit is the fsync, so after a crash the row is
//! known to have possibly been sent. Such a row becomes `uncertain` when the reaper finds its
//! worker's heartbeat old, and is only sent again when an operator asks (resend-uncertain).
//!
//! Per job at most `concurrency` requests are in flight in this process; the account's pace is
//! shared by every process through one `team_rates` row advanced once per claim batch.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rand::RngCore;
use serde_json::Value;
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinHandle;

use super::{MAX_RATE, notify, now_ms};
use crate::error::Result;
use crate::team::TeamState;

const HEARTBEAT_EVERY: Duration = Duration::from_secs(1);
/// A worker whose heartbeat is older than this is dead; its claimed rows become uncertain.
const DEAD_AFTER_SECS: f64 = 10.0;
const REAP_EVERY: Duration = Duration::from_secs(2);
/// How often a worker looks for quota-paused jobs whose quota has reset.
const QUOTA_RESET_EVERY: Duration = Duration::from_secs(5);
/// How often delivery reports are joined to sent rows.
const DELIVERY_EVERY: Duration = Duration::from_secs(1);
/// How often the running jobs are listed even without a notification.
const SCAN_EVERY: Duration = Duration::from_secs(1);
/// Most rows claimed in one transaction.
const CLAIM_BATCH: usize = 100;
/// Most results written in one transaction.
const WRITE_BATCH: usize = 500;

/// What a worker needs.
#[derive(Clone)]
pub struct Worker {
    pub team: TeamState,
    pub http: reqwest::Client,
    pub upstream: String,
    pub stop: watch::Receiver<bool>,
}

struct Ctx {
    w: Worker,
    id: String,
    /// This process's tally lanes (migration 0005): one for its claims, one for its result
    /// writes, so its own claimer and writer do not wait on each other either.
    claim_lane: String,
    write_lane: String,
    nudger: super::Nudger,
}

/// Runs until `stop` turns true, then finishes what it holds and unregisters.
pub async fn run(w: Worker) {
    let mut raw = [0u8; 16];
    rand::rng().fill_bytes(&mut raw);
    let id = hex::encode(raw);
    let ctx = Arc::new(Ctx {
        claim_lane: format!("{id}/claim"),
        write_lane: format!("{id}/write"),
        nudger: super::Nudger::start(w.team.db.clone()),
        id,
        w,
    });
    let mut stop = ctx.w.stop.clone();
    while let Err(e) = register(&ctx).await {
        tracing::warn!(error = %e, "job worker cannot register; retrying");
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = stop.changed() => return,
        }
    }
    tracing::info!(worker = %ctx.id, "job worker started");
    let keeper = tokio::spawn(keep_alive(ctx.clone()));
    let mut runners: HashMap<i64, JoinHandle<()>> = HashMap::new();
    let mut heard = ctx.w.team.jobs.subscribe();
    loop {
        if *stop.borrow() {
            break;
        }
        runners.retain(|_, h| !h.is_finished());
        match running_jobs(&ctx).await {
            Ok(ids) => {
                for id in ids {
                    runners
                        .entry(id)
                        .or_insert_with(|| tokio::spawn(run_job(ctx.clone(), id)));
                }
            }
            Err(e) => tracing::warn!(error = %e, "listing running jobs failed"),
        }
        tokio::select! {
            _ = heard.recv() => {}
            _ = tokio::time::sleep(SCAN_EVERY) => {}
            _ = stop.changed() => {}
        }
    }
    for (_, h) in runners {
        let _ = h.await;
    }
    keeper.abort();
    // Everything this worker held is written back: nothing of it is left to reap.
    if let Ok(conn) = ctx.w.team.db.get().await {
        let _ = conn
            .execute("DELETE FROM team_workers WHERE id = $1", &[&ctx.id])
            .await;
    }
    tracing::info!(worker = %ctx.id, "job worker stopped");
}

async fn register(ctx: &Ctx) -> Result<()> {
    let conn = ctx.w.team.db.get().await?;
    conn.execute(
        "INSERT INTO team_workers (id) VALUES ($1)
         ON CONFLICT (id) DO UPDATE SET heartbeat_at = now()",
        &[&ctx.id],
    )
    .await?;
    Ok(())
}

async fn keep_alive(ctx: Arc<Ctx>) {
    let mut beat = tokio::time::interval(HEARTBEAT_EVERY);
    let mut reap_tick = tokio::time::interval(REAP_EVERY);
    let mut deliveries = tokio::time::interval(DELIVERY_EVERY);
    let mut quota_reset = tokio::time::interval(QUOTA_RESET_EVERY);
    loop {
        tokio::select! {
            _ = beat.tick() => {
                // A worker thought dead (its heartbeat stalled) comes back under the same id;
                // what it held is uncertain by then and its late results are not written.
                if let Err(e) = register(&ctx).await {
                    tracing::warn!(error = %e, "job worker heartbeat failed");
                }
            }
            _ = reap_tick.tick() => {
                if let Err(e) = reap(&ctx).await {
                    tracing::warn!(error = %e, "reaping dead workers' rows failed");
                }
            }
            _ = quota_reset.tick() => {
                if let Err(e) = resume_after_quota_reset(&ctx).await {
                    tracing::warn!(error = %e, "resuming quota-paused jobs failed");
                }
            }
            _ = deliveries.tick() => {
                if let Err(e) = super::delivery::pass(&ctx.w.team.db, &ctx.nudger).await {
                    tracing::warn!(error = %e, "joining delivery reports failed");
                }
                if let Err(e) = crate::team::windows::pass(&ctx.w.team.db).await {
                    tracing::warn!(error = %e, "recording customer-service windows failed");
                }
            }
        }
    }
}

/// Resumes the jobs paused for the daily quota (45009) on an earlier Beijing day: WeChat's daily
/// quotas reset at midnight Beijing time (UTC+8, no daylight saving). Recorded in the audit log
/// as the server's doing. Any process may do it; `act` takes the job's lock, so a job is resumed
/// once and one resumed meanwhile by an operator is left alone.
async fn resume_after_quota_reset(ctx: &Ctx) -> Result<()> {
    const BEIJING: i64 = 8 * 3600;
    const DAY: i64 = 86_400;
    let now = crate::http::now_unix();
    // Unix seconds of today's Beijing midnight: a pause before it has seen the reset.
    let day_start = (now + BEIJING).div_euclid(DAY) * DAY - BEIJING;
    let ids: Vec<i64> = {
        let conn = ctx.w.team.db.get().await?;
        conn.query(
            "SELECT id FROM team_jobs WHERE status = 'paused_quota'
               AND coalesce(paused_at, 0) < $1 ORDER BY id",
            &[&day_start],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect()
    };
    let server = crate::team::members::Member {
        name: "wxdesk-relay".into(),
        role: crate::team::members::Role::Admin,
    };
    for id in ids {
        use crate::team::jobs::{Action, Refused, act};
        // The condition is checked again under the job's lock (another process may have
        // resumed it, and it may have met 45009 again since).
        match act(
            &ctx.w.team.db,
            &server,
            id,
            Action::QuotaReset { day_start },
        )
        .await
        {
            Ok(job) => tracing::info!(job = id, status = %job.status, "quota reset: job looked at"),
            Err(Refused::Db(e)) => return Err(e),
            Err(Refused::BadState { .. } | Refused::NotFound | Refused::Invalid(..)) => {}
        }
    }
    Ok(())
}

/// Rows in flight at a dead worker become uncertain: the request may or may not have reached
/// WeChat. Any live worker may do this; concurrent reapers each move a row at most once (the
/// `state = 'in_flight'` condition is re-checked under the row lock).
async fn reap(ctx: &Ctx) -> Result<()> {
    let mut conn = ctx.w.team.db.get().await?;
    let tx = conn.transaction().await?;
    tx.execute(
        "DELETE FROM team_workers WHERE heartbeat_at < now() - make_interval(secs => $1)",
        &[&DEAD_AFTER_SECS],
    )
    .await?;
    let jobs: Vec<i64> = tx
        .query(
            "SELECT DISTINCT job_id FROM team_job_rows
              WHERE state = 'in_flight'
                AND (worker IS NULL OR worker NOT IN (SELECT id FROM team_workers))",
            &[],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    if jobs.is_empty() {
        tx.commit().await?;
        return Ok(());
    }
    // Job rows locked first and in id order, as everywhere else: no deadlock with claims,
    // result writes or another reaper.
    tx.execute(
        "SELECT id FROM team_jobs WHERE id = ANY($1) ORDER BY id FOR UPDATE",
        &[&jobs],
    )
    .await?;
    let now = crate::http::now_unix();
    for id in jobs {
        let n = tx
            .execute(
                "UPDATE team_job_rows SET state = 'uncertain', worker = NULL, updated_at = $2
                  WHERE job_id = $1 AND state = 'in_flight'
                    AND (worker IS NULL OR worker NOT IN (SELECT id FROM team_workers))",
                &[&id, &now],
            )
            .await? as i64;
        if n == 0 {
            continue;
        }
        tx.execute(
            "UPDATE team_jobs SET in_flight = in_flight - $2, uncertain = uncertain + $2,
                 version = version + 1 WHERE id = $1",
            &[&id, &n],
        )
        .await?;
        complete_if_done(&tx, id, now).await?;
        notify(&tx, id).await?;
        tracing::warn!(
            job = id,
            rows = n,
            "rows of a dead worker are now uncertain"
        );
    }
    tx.commit().await?;
    Ok(())
}

/// Marks the job completed when nothing is left. The caller holds the job row FOR UPDATE, so no
/// claim or result write is half done and the counts (with every committed tally) are final.
/// True when it did.
async fn complete_if_done(tx: &tokio_postgres::Transaction<'_>, id: i64, now: i64) -> Result<bool> {
    let n = tx
        .execute(
            "UPDATE team_jobs SET status = 'completed', finished_at = $2, version = version + 1
              WHERE id = $1 AND status = 'running'
                AND (SELECT pending = 0 AND in_flight = 0 FROM team_jobs_now WHERE id = $1)",
            &[&id, &now],
        )
        .await?;
    Ok(n > 0)
}

/// After a result write: completes the job if that write was its last. Read without a lock
/// first (the common answer is "not yet"); the last writer to commit always reads zero, since
/// it reads after every other write committed.
async fn complete_if_last(ctx: &Ctx, id: i64) -> Result<()> {
    let conn = ctx.w.team.db.get().await?;
    let left = conn
        .query_opt(
            "SELECT 1 FROM team_jobs_now
              WHERE id = $1 AND status = 'running' AND pending = 0 AND in_flight = 0",
            &[&id],
        )
        .await?;
    if left.is_none() {
        return Ok(());
    }
    drop(conn);
    let mut conn = ctx.w.team.db.get().await?;
    let tx = conn.transaction().await?;
    tx.execute("SELECT 1 FROM team_jobs WHERE id = $1 FOR UPDATE", &[&id])
        .await?;
    let done = complete_if_done(&tx, id, crate::http::now_unix()).await?;
    tx.commit().await?;
    if done {
        notify(&*ctx.w.team.db.get().await?, id).await?;
    }
    Ok(())
}

async fn running_jobs(ctx: &Ctx) -> Result<Vec<i64>> {
    let conn = ctx.w.team.db.get().await?;
    Ok(conn
        .query(
            "SELECT id FROM team_jobs WHERE status = 'running' ORDER BY id",
            &[],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect())
}

/// A job's settings the sender needs.
#[derive(Clone)]
struct JobInfo {
    appid: String,
    path: String,
    max_attempts: i32,
    idempotent: bool,
    rate_per_sec: i32,
}

struct Claimed {
    seq: i32,
    body: String,
    attempts: i32,
    /// When its rate slot comes, from now.
    delay: Duration,
}

/// What one send ended as.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Sent(Option<i64>),
    /// Not done at WeChat (an answer said so, or no connection was made): safe to send again.
    Retry(Option<i64>, String),
    /// The answer was lost: sent again only where client_msg_id deduplicates it.
    Lost(String),
    Permanent(i64, String),
    /// 45009: the account's daily quota is spent.
    Quota(i64, String),
    /// Never sent (this process is stopping).
    Release,
}

struct Done {
    seq: i32,
    attempts: i32,
    outcome: Outcome,
    /// The concurrency slot, held until the result is committed: rows `in_flight` in the
    /// database at this process never exceed the job's concurrency, so a kill leaves at most
    /// that many uncertain.
    _permit: Option<tokio::sync::OwnedSemaphorePermit>,
}

/// Sends one job's rows from this process until the job is no longer running or we stop.
async fn run_job(ctx: Arc<Ctx>, id: i64) {
    let info = match job_info(&ctx, id).await {
        Ok(Some(i)) => i,
        Ok(None) => return,
        Err(e) => {
            tracing::warn!(job = id, error = %e, "job unreadable");
            return;
        }
    };
    let (info, concurrency) = info;
    let permits = Arc::new(Semaphore::new(concurrency));
    let (done_tx, done_rx) = mpsc::unbounded_channel::<Done>();
    // Set while this process's last claim found nothing to claim: only then can one of its
    // result writes be the job's last, and only then is completion checked after a write.
    let drained = Arc::new(AtomicBool::new(false));
    let writer = tokio::spawn(write_results(
        ctx.clone(),
        id,
        info.clone(),
        done_rx,
        drained.clone(),
    ));
    let mut stop = ctx.w.stop.clone();
    let mut heard = ctx.w.team.jobs.subscribe();
    loop {
        if *stop.borrow() {
            break;
        }
        let first = tokio::select! {
            p = permits.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
            _ = stop.changed() => break,
        };
        let mut held = vec![first];
        while held.len() < CLAIM_BATCH {
            match permits.clone().try_acquire_owned() {
                Ok(p) => held.push(p),
                Err(_) => break,
            }
        }
        let claimed = match claim(&ctx, id, &info, held.len()).await {
            Ok(Some(c)) => c,
            Ok(None) => break,
            Err(e) => {
                tracing::warn!(job = id, error = %e, "claiming rows failed");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        drained.store(claimed.is_empty(), Ordering::SeqCst);
        if claimed.is_empty() {
            drop(held);
            // The job may be done: the write of its last rows (here or at another process)
            // checks too, but only once its claimer saw this; checking here as well leaves no
            // gap between the two.
            if let Err(e) = complete_if_last(&ctx, id).await {
                tracing::warn!(job = id, error = %e, "checking for completion failed");
            }
            // Nothing claimable now (all claimed, or retries waiting out their backoff).
            tokio::select! {
                _ = heard.recv() => {}
                _ = tokio::time::sleep(Duration::from_millis(250)) => {}
                _ = stop.changed() => {}
            }
            continue;
        }
        let mut permits_left = held.drain(..);
        for row in claimed {
            let Some(permit) = permits_left.next() else {
                // Never more rows than slots; if it happened, give the row back unsent.
                let _ = done_tx.send(Done {
                    seq: row.seq,
                    attempts: row.attempts,
                    outcome: Outcome::Release,
                    _permit: None,
                });
                continue;
            };
            let ctx = ctx.clone();
            let info = info.clone();
            let done = done_tx.clone();
            let mut stop = ctx.w.stop.clone();
            tokio::spawn(async move {
                let outcome = tokio::select! {
                    _ = tokio::time::sleep(row.delay) => None,
                    _ = stop.wait_for(|s| *s) => Some(Outcome::Release),
                };
                let outcome = match outcome {
                    Some(o) => o,
                    None => send(&ctx, &info, &row.body).await,
                };
                let _ = done.send(Done {
                    seq: row.seq,
                    attempts: row.attempts,
                    outcome,
                    _permit: Some(permit),
                });
            });
        }
    }
    drop(done_tx);
    let _ = writer.await;
}

/// The job's settings and its per-process concurrency.
async fn job_info(ctx: &Ctx, id: i64) -> Result<Option<(JobInfo, usize)>> {
    let conn = ctx.w.team.db.get().await?;
    let row = conn
        .query_opt(
            "SELECT appid, path, max_attempts, idempotent, concurrency, rate_per_sec
               FROM team_jobs WHERE id = $1",
            &[&id],
        )
        .await?;
    Ok(row.map(|r| {
        let concurrency: i32 = r.get(4);
        (
            JobInfo {
                appid: r.get(0),
                path: r.get(1),
                max_attempts: r.get(2),
                idempotent: r.get(3),
                rate_per_sec: r.get(5),
            },
            usize::try_from(concurrency).unwrap_or(1).max(1),
        )
    }))
}

/// Reserves `$2` µs of the account's pace; answers how long from now the first slot is.
const RESERVE_PACE: &str =
    "WITH t AS (SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint AS now)
     INSERT INTO team_rates (appid, next_at) SELECT $1, t.now + $2 FROM t
     ON CONFLICT (appid) DO UPDATE
        SET next_at = greatest(team_rates.next_at,
            (extract(epoch FROM clock_timestamp()) * 1000000)::bigint) + $2
     RETURNING next_at - $2 - (extract(epoch FROM clock_timestamp()) * 1000000)::bigint";

/// The claim with its tally; one row with the job's status (NULL: no such job) even when
/// nothing was claimed. FOR SHARE: claims and result writes of every process go on side by
/// side, while an operator's pause or cancel (FOR UPDATE) waits for them and they for it.
/// MATERIALIZED: the LIMIT and SKIP LOCKED choice is made once. Joined as a plain subquery, the
/// planner may run it again per outer row, each run skipping the rows the last one locked, and
/// claim far more than asked.
const CLAIM: &str = "
    WITH j AS (SELECT status FROM team_jobs WHERE id = $1 FOR SHARE),
     c AS MATERIALIZED (
         SELECT seq FROM team_job_rows
          WHERE job_id = $1 AND state = 'pending' AND not_before <= $4
            AND (SELECT status FROM j) = 'running'
          ORDER BY seq LIMIT $5 FOR UPDATE SKIP LOCKED),
     u AS (
         UPDATE team_job_rows r
            SET state = 'in_flight', worker = $2, attempts = r.attempts + 1,
                updated_at = $3
           FROM c
          WHERE r.job_id = $1 AND r.seq = c.seq
      RETURNING r.seq, r.body, r.attempts),
     t AS (
         INSERT INTO team_job_tallies AS t (job_id, lane, pending, in_flight)
         SELECT $1, $6, -count(*), count(*) FROM u HAVING count(*) > 0
         ON CONFLICT (job_id, lane) DO UPDATE
            SET pending = t.pending + EXCLUDED.pending,
                in_flight = t.in_flight + EXCLUDED.in_flight)
     SELECT (SELECT status FROM j), u.seq, u.body, u.attempts
       FROM (SELECT 1) AS one LEFT JOIN u ON true";

/// Claims up to `n` pending rows. `None`: the job is no longer running.
///
/// One statement, committed on its own: each round trip of a claim is time the claimed rows'
/// slots stand idle.
async fn claim(ctx: &Ctx, id: i64, info: &JobInfo, n: usize) -> Result<Option<Vec<Claimed>>> {
    let mut conn = ctx.w.team.db.get().await?;
    let now = crate::http::now_unix();
    let limit = n as i64;
    let statement = conn.prepared(CLAIM).await?;
    let rows = conn
        .query(
            &statement,
            &[&id, &ctx.id, &now, &now_ms(), &limit, &ctx.claim_lane],
        )
        .await?;
    // The claim is on disk before any of these rows is sent (its COMMIT flushed the WAL).
    if rows.first().and_then(|r| r.get::<_, Option<&str>>(0)) != Some("running") {
        return Ok(None);
    }
    let rows: Vec<(i32, String, i32)> = rows
        .iter()
        .filter_map(|r| Some((r.get::<_, Option<i32>>(1)?, r.get(2), r.get(3))))
        .collect();
    if rows.is_empty() {
        return Ok(Some(Vec::new()));
    }
    let k = rows.len() as i64;
    // Reserve k consecutive slots of the account's pace, by the database's clock. Apart from
    // the claim: the account's pace row is shared by every process, and inside the claim its
    // lock would be held through the claim's WAL flush. Losing a reservation in a crash only
    // loosens the pace for a moment, so its commit does not wait for the disk. The three
    // requests go out together (pipelined): one round trip.
    let step_us = 1_000_000 / i64::from(info.rate_per_sec.clamp(1, MAX_RATE));
    let span = k * step_us;
    // Prepared first: a statement by text would be parsed in a round trip of its own, after
    // which its execution would follow the COMMIT already sent.
    let reserve = conn.prepared(RESERVE_PACE).await?;
    let params: [&(dyn tokio_postgres::types::ToSql + Sync); 2] = [&info.appid, &span];
    let (_, first_in_us, _) = futures::try_join!(
        conn.batch_execute("BEGIN; SET LOCAL synchronous_commit TO off"),
        conn.query_one(&reserve, &params),
        conn.batch_execute("COMMIT"),
    )?;
    let first = first_in_us.get::<_, i64>(0).max(0);
    Ok(Some(
        rows.into_iter()
            .enumerate()
            .map(|(i, (seq, body, attempts))| Claimed {
                seq,
                body,
                attempts,
                delay: Duration::from_micros((first + i as i64 * step_us).max(0) as u64),
            })
            .collect(),
    ))
}

/// 40001 / 42001 / 40014: the token was refused.
pub(crate) fn token_refused_code(code: i64) -> bool {
    matches!(code, 40001 | 42001 | 40014)
}

/// What WeChat's JSON answer means for a row.
fn classify(answer: &Value) -> Outcome {
    let code = answer.get("errcode").and_then(Value::as_i64).unwrap_or(0);
    let msg = answer
        .get("errmsg")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .chars()
        .take(200)
        .collect::<String>();
    match code {
        0 => Outcome::Sent(answer.get("msgid").and_then(Value::as_i64)),
        // -1 system busy, 45011 API frequency, a refused token twice: WeChat did not send.
        -1 | 45011 => Outcome::Retry(Some(code), msg),
        c if token_refused_code(c) => Outcome::Retry(Some(code), msg),
        45009 => Outcome::Quota(code, msg),
        c => Outcome::Permanent(c, msg),
    }
}

/// One request with the server's authorizer token, the token expired and the request made once
/// more when WeChat refuses it (the same compare-and-expire as the team egress).
async fn send(ctx: &Ctx, info: &JobInfo, body: &str) -> Outcome {
    let cache = &ctx.w.team.tokens;
    let mut refused_once = false;
    loop {
        let token = match cache.authorizer_token(&info.appid).await {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(appid = %info.appid, error = %e, "job: no authorizer token");
                return Outcome::Retry(
                    e.wechat().map(|w| w.errcode),
                    "团队服务器拿不到访问令牌 / no access token".into(),
                );
            }
        };
        let Ok(mut url) = url::Url::parse(&format!("{}{}", ctx.w.upstream, info.path)) else {
            return Outcome::Permanent(-2, "bad upstream".into());
        };
        url.query_pairs_mut()
            .append_pair("access_token", token.expose());
        let resp = ctx
            .w
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_owned())
            .send()
            .await;
        let resp = match resp {
            Ok(r) => r,
            // The URL carries the token: never in a message.
            Err(e) if e.is_connect() => {
                return Outcome::Retry(None, e.without_url().to_string());
            }
            Err(e) => return Outcome::Lost(e.without_url().to_string()),
        };
        let status = resp.status();
        let bytes = match resp.bytes().await {
            Ok(b) => b,
            Err(e) => return Outcome::Lost(e.without_url().to_string()),
        };
        if status.is_server_error() {
            return Outcome::Lost(format!("HTTP {}", status.as_u16()));
        }
        let Ok(answer) = serde_json::from_slice::<Value>(&bytes) else {
            return Outcome::Lost(format!("HTTP {}: not JSON", status.as_u16()));
        };
        let code = answer.get("errcode").and_then(Value::as_i64).unwrap_or(0);
        if token_refused_code(code) && !refused_once {
            refused_once = true;
            cache.invalidate_authorizer_token(&info.appid, &token).await;
            continue;
        }
        return classify(&answer);
    }
}

/// A row's new state from its outcome: (state, attempts delta, errcode, errmsg, msgid,
/// not_before ms).
type RowUpdate = (
    &'static str,
    i32,
    Option<i64>,
    Option<String>,
    Option<i64>,
    i64,
);

fn next_state(info: &JobInfo, d: &Done, cancelled: bool) -> RowUpdate {
    let again = |code: Option<i64>, msg: String| -> RowUpdate {
        if d.attempts >= info.max_attempts {
            ("failed_retryable", 0, code, Some(msg), None, 0)
        } else if cancelled {
            ("cancelled", 0, code, Some(msg), None, 0)
        } else {
            let shift = u32::try_from(d.attempts.clamp(1, 7) - 1).unwrap_or(0);
            let backoff = (500i64 << shift).min(30_000);
            ("pending", 0, code, Some(msg), None, now_ms() + backoff)
        }
    };
    match &d.outcome {
        Outcome::Sent(msgid) => ("sent", 0, Some(0), None, *msgid, 0),
        Outcome::Permanent(c, m) => ("failed_permanent", 0, Some(*c), Some(m.clone()), None, 0),
        Outcome::Retry(c, m) => again(*c, m.clone()),
        Outcome::Lost(m) if info.idempotent => again(None, m.clone()),
        Outcome::Lost(m) => ("uncertain", 0, None, Some(m.clone()), None, 0),
        // Not sent at all: the attempt is given back.
        Outcome::Quota(c, m) if !cancelled => ("pending", -1, Some(*c), Some(m.clone()), None, 0),
        Outcome::Release if !cancelled => ("pending", -1, None, None, None, 0),
        Outcome::Quota(..) | Outcome::Release => ("cancelled", -1, None, None, None, 0),
    }
}

async fn write_results(
    ctx: Arc<Ctx>,
    id: i64,
    info: JobInfo,
    mut rx: mpsc::UnboundedReceiver<Done>,
    drained: Arc<AtomicBool>,
) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < WRITE_BATCH {
            match rx.try_recv() {
                Ok(d) => batch.push(d),
                Err(_) => break,
            }
        }
        let mut tries = 0;
        let written = loop {
            match write_batch(&ctx, id, &info, &batch).await {
                Ok(w) => break Some(w),
                Err(e) => {
                    tries += 1;
                    tracing::warn!(job = id, error = %e, "writing job results failed; retrying");
                    // Stopping with the database away: the rows stay in_flight and the reaper
                    // makes them uncertain, which is what they are.
                    if *ctx.w.stop.borrow() && tries >= 5 {
                        break None;
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        };
        // The slots go back as soon as the results are committed, before the follow-ups.
        drop(batch);
        let Some(written) = written else { continue };
        if let Err(e) = after_write(&ctx, id, written, drained.load(Ordering::SeqCst)).await {
            tracing::warn!(job = id, error = %e, "after writing job results");
        }
    }
}

/// What a committed result write asks for next.
struct Written {
    rows: i64,
    quota: bool,
}

async fn after_write(ctx: &Ctx, id: i64, w: Written, drained: bool) -> Result<()> {
    if w.quota {
        // Its own transaction: taking the job row FOR UPDATE while holding it FOR SHARE would
        // deadlock against another writer doing the same. Rows claimed meanwhile meet 45009
        // too and are given back like these.
        let conn = ctx.w.team.db.get().await?;
        let paused = conn
            .execute(
                "UPDATE team_jobs SET status = 'paused_quota', pause_reason = 'quota',
                     paused_at = $2, version = version + 1
                  WHERE id = $1 AND status = 'running'",
                &[&id, &crate::http::now_unix()],
            )
            .await?;
        if paused > 0 {
            notify(&*conn, id).await?;
        }
    }
    if w.rows > 0 {
        ctx.nudger.changed(id);
    }
    if drained {
        complete_if_last(ctx, id).await?;
    }
    Ok(())
}

/// Records a batch of results: one statement, committed on its own (each round trip is time
/// the rows' slots stay taken). Only rows still ours move: a row the reaper already made
/// uncertain stays so. The job row is held FOR SHARE, as in `claim`: a cancel waits for this
/// write, so a row put back to pending here is then cancelled with the others; a write after
/// the cancel uses each row's state for a cancelled job. No NOTIFY in here: PostgreSQL
/// serializes the commits of all notifying transactions of a database (a global lock held
/// through the WAL flush); progress is announced after the commit (`after_write`), so a watcher
/// woken then reads what was committed.
const WRITE_RESULTS: &str = "
    WITH j AS (SELECT status FROM team_jobs WHERE id = $1 FOR SHARE),
    u AS (
        UPDATE team_job_rows r
           SET state = CASE WHEN (SELECT status FROM j) = 'cancelled' THEN v.stc ELSE v.st END,
               attempts = r.attempts + v.d, errcode = v.c, errmsg = v.m,
               msgid = coalesce(v.mi, r.msgid), not_before = v.nb, worker = NULL,
               updated_at = $10
          FROM unnest($2::int4[], $3::text[], $4::text[], $5::int4[], $6::int8[], $7::text[],
                      $8::int8[], $9::int8[]) AS v(seq, st, stc, d, c, m, mi, nb)
         WHERE r.job_id = $1 AND r.seq = v.seq AND r.state = 'in_flight' AND r.worker = $11
           AND EXISTS (SELECT 1 FROM j)
     RETURNING r.state),
    n AS (
        SELECT count(*) AS k,
               count(*) FILTER (WHERE state = 'pending') AS pending,
               count(*) FILTER (WHERE state = 'sent') AS sent,
               count(*) FILTER (WHERE state = 'failed_retryable') AS failed_retryable,
               count(*) FILTER (WHERE state = 'failed_permanent') AS failed_permanent,
               count(*) FILTER (WHERE state = 'uncertain') AS uncertain,
               count(*) FILTER (WHERE state = 'cancelled') AS cancelled
          FROM u),
    t AS (
        INSERT INTO team_job_tallies AS t (job_id, lane, version, pending, in_flight, sent,
               failed_retryable, failed_permanent, uncertain, cancelled)
        SELECT $1, $12, 1, n.pending, -n.k, n.sent, n.failed_retryable, n.failed_permanent,
               n.uncertain, n.cancelled
          FROM n WHERE n.k > 0
        ON CONFLICT (job_id, lane) DO UPDATE SET
            version = t.version + EXCLUDED.version, pending = t.pending + EXCLUDED.pending,
            in_flight = t.in_flight + EXCLUDED.in_flight, sent = t.sent + EXCLUDED.sent,
            failed_retryable = t.failed_retryable + EXCLUDED.failed_retryable,
            failed_permanent = t.failed_permanent + EXCLUDED.failed_permanent,
            uncertain = t.uncertain + EXCLUDED.uncertain,
            cancelled = t.cancelled + EXCLUDED.cancelled)
    SELECT k FROM n";

async fn write_batch(ctx: &Ctx, id: i64, info: &JobInfo, batch: &[Done]) -> Result<Written> {
    let now = crate::http::now_unix();
    let mut seqs = Vec::with_capacity(batch.len());
    let mut states = Vec::with_capacity(batch.len());
    let mut states_if_cancelled = Vec::with_capacity(batch.len());
    let mut deltas = Vec::with_capacity(batch.len());
    let mut codes = Vec::with_capacity(batch.len());
    let mut msgs = Vec::with_capacity(batch.len());
    let mut msgids = Vec::with_capacity(batch.len());
    let mut not_before = Vec::with_capacity(batch.len());
    let mut quota = false;
    for d in batch {
        let (state, delta, code, msg, msgid, nb) = next_state(info, d, false);
        let (state_c, ..) = next_state(info, d, true);
        quota |= matches!(d.outcome, Outcome::Quota(..));
        seqs.push(d.seq);
        states.push(state.to_owned());
        states_if_cancelled.push(state_c.to_owned());
        deltas.push(delta);
        codes.push(code);
        msgs.push(msg);
        msgids.push(msgid);
        not_before.push(nb);
    }
    let mut conn = ctx.w.team.db.get().await?;
    let statement = conn.prepared(WRITE_RESULTS).await?;
    let rows: i64 = conn
        .query_one(
            &statement,
            &[
                &id,
                &seqs,
                &states,
                &states_if_cancelled,
                &deltas,
                &codes,
                &msgs,
                &msgids,
                &not_before,
                &now,
                &ctx.id,
                &ctx.write_lane,
            ],
        )
        .await?
        .get(0);
    Ok(Written { rows, quota })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn info(idempotent: bool) -> JobInfo {
        JobInfo {
            appid: "wxa".into(),
            path: "/cgi-bin/message/template/send".into(),
            max_attempts: 3,
            idempotent,
            rate_per_sec: 20,
        }
    }

    fn done(attempts: i32, outcome: Outcome) -> Done {
        Done {
            seq: 1,
            attempts,
            outcome,
            _permit: None,
        }
    }

    #[test]
    fn a_cancel_changes_where_a_row_goes_never_its_attempts() {
        // write_batch sends one attempts delta for both cases and lets the database pick the
        // state by the job's status at the time.
        let outcomes = [
            Outcome::Sent(Some(1)),
            Outcome::Retry(Some(-1), "busy".into()),
            Outcome::Lost("timeout".into()),
            Outcome::Permanent(43004, "refused".into()),
            Outcome::Quota(45009, "quota".into()),
            Outcome::Release,
        ];
        for idempotent in [true, false] {
            for attempts in [1, 3] {
                for o in &outcomes {
                    let d = done(attempts, o.clone());
                    let (running, cancelled) = (
                        next_state(&info(idempotent), &d, false),
                        next_state(&info(idempotent), &d, true),
                    );
                    assert_eq!(running.1, cancelled.1, "{o:?} attempts {attempts}");
                }
            }
        }
    }

    #[test]
    fn answers_are_classified_as_the_protocol_says() {
        assert_eq!(
            classify(&json!({"errcode": 0, "errmsg": "ok", "msgid": 7})),
            Outcome::Sent(Some(7))
        );
        assert!(matches!(
            classify(&json!({"errcode": -1})),
            Outcome::Retry(..)
        ));
        assert!(matches!(
            classify(&json!({"errcode": 45009})),
            Outcome::Quota(..)
        ));
        for c in [40003, 43004, 47003, 40037] {
            assert!(matches!(
                classify(&json!({"errcode": c})),
                Outcome::Permanent(x, _) if x == c
            ));
        }
    }

    #[test]
    fn a_lost_answer_is_retried_only_for_idempotent_jobs_and_attempts_run_out() {
        let lost = || Outcome::Lost("reset".into());
        assert_eq!(
            next_state(&info(true), &done(1, lost()), false).0,
            "pending"
        );
        assert_eq!(
            next_state(&info(false), &done(1, lost()), false).0,
            "uncertain"
        );
        assert_eq!(
            next_state(&info(true), &done(3, lost()), false).0,
            "failed_retryable"
        );
        let quota = next_state(
            &info(false),
            &done(2, Outcome::Quota(45009, String::new())),
            false,
        );
        assert_eq!((quota.0, quota.1), ("pending", -1));
        assert_eq!(
            next_state(
                &info(true),
                &done(1, Outcome::Retry(Some(-1), String::new())),
                true
            )
            .0,
            "cancelled"
        );
    }
}
