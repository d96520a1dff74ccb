//! Jobs of a team workspace (issue #17): written at the desk, run by the team server.
//!
//! In a team workspace no engine runs at the desk. The desk renders each recipient's request
//! with the same `render` the engine uses (so a placeholder or a keyword rule is caught here,
//! where the operator can fix it), and hands the job to the server in one request; the server
//! commits it with every row before answering, claims rows with `FOR UPDATE SKIP LOCKED` in any
//! of its processes, and keeps the exactly-once rules (client_msg_id written before sending,
//! in-flight rows of a dead process `uncertain`). Every desk then reads the same job: its
//! counts, its status, and its progress through a long poll the server wakes on each change.
//!
//! [`super::host::Sends`] delegates here when its platform is a team workspace, so the app and
//! the CLI keep one code path: `send template`, `jobs`, the 任务 page.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::model::{
    Job, JobCounts, JobKind, JobProgress, JobPurpose, JobShown, JobSpec, JobStatus, Payload,
    Recipient,
};
use super::reason::{PauseReason, RowNote};
use super::render::recipient_request;
use super::{EngineConfig, ResendReport};
use crate::error::{Error, Result};
use crate::relay::RelayClient;

/// The most rows one job may carry to the server (it refuses more).
pub const MAX_TEAM_JOB_ROWS: usize = 200_000;

/// A job as the team server answers it.
#[derive(Debug, Clone, Deserialize)]
struct ServerJob {
    id: i64,
    appid: String,
    kind: String,
    #[serde(default)]
    template_id: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    purpose: String,
    payload: Value,
    status: String,
    #[serde(default)]
    pause_reason: Option<String>,
    #[serde(default)]
    concurrency: u32,
    #[serde(default)]
    rate_per_sec: u32,
    #[serde(default)]
    max_attempts: u32,
    #[serde(default)]
    created_by: Option<String>,
    #[serde(default)]
    created_at: i64,
    #[serde(default)]
    started_at: Option<i64>,
    #[serde(default)]
    finished_at: Option<i64>,
    #[serde(default)]
    version: i64,
    counts: ServerCounts,
}

#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(default)]
struct ServerCounts {
    total: u64,
    sent: u64,
    failed_retryable: u64,
    failed_permanent: u64,
    uncertain: u64,
    skipped: u64,
    cancelled: u64,
    delivered: u64,
    user_block: u64,
    system_failed: u64,
}

#[derive(Deserialize)]
struct ServerJobs {
    jobs: Vec<ServerJob>,
}

#[derive(Deserialize)]
struct Created {
    id: i64,
}

#[derive(Serialize)]
struct NewServerJob<'a> {
    appid: &'a str,
    kind: &'a str,
    template_id: &'a str,
    title: &'a str,
    purpose: &'a str,
    payload: &'a Payload,
    concurrency: u32,
    rate_per_sec: u32,
    max_attempts: u32,
    idempotent: bool,
    path: &'a str,
    rows: Vec<ServerRow>,
}

/// One recipient of a new job: the body to send, or (`body` null) the note the row is skipped
/// with, in its stored spelling. A server that predates skipped rows refuses a row without a
/// body instead of sending it.
#[derive(Debug, Serialize)]
struct ServerRow {
    openid: String,
    body: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    skipped: Option<String>,
}

/// The rows of a new job, one per recipient in order: each recipient's request rendered with
/// the engine's own rules ([`recipient_request`]), repeats after the first skipped as the
/// engine skips them.
fn server_rows(spec: &JobSpec, recipients: Vec<Recipient>) -> Vec<ServerRow> {
    let mut seen = HashSet::new();
    recipients
        .into_iter()
        .map(|r| {
            let openid = r.openid.trim().to_string();
            let repeat = !openid.is_empty() && !seen.insert(openid.clone());
            let request = if repeat {
                Err(RowNote::Duplicate)
            } else {
                recipient_request(&spec.payload, &spec.field_rules, &openid, &r.vars)
            };
            match request {
                Ok(req) => {
                    // The server writes each row's client_msg_id before sending it.
                    let mut body = req.body;
                    if let Some(o) = body.as_object_mut() {
                        o.remove("client_msg_id");
                    }
                    ServerRow {
                        openid,
                        body: Some(body),
                        skipped: None,
                    }
                }
                Err(note) => ServerRow {
                    openid,
                    body: None,
                    skipped: Some(note.to_stored()),
                },
            }
        })
        .collect()
}

fn bad_answer(what: &str, e: impl std::fmt::Display) -> Error {
    Error::RelayBody(format!("{what}: {e}"))
}

/// A pause reason as the server names it: the engine's codes where they match; anything else
/// shown with the server's words.
fn pause_reason(code: &str) -> PauseReason {
    match code {
        "operator" => PauseReason::Operator,
        "interrupted" => PauseReason::Interrupted,
        "quota" => PauseReason::Quota,
        other => PauseReason::Internal {
            detail: format!("team server: {other}"),
        },
    }
}

impl ServerJob {
    fn into_job(self) -> Result<Job> {
        let c = self.counts;
        let counts = JobCounts {
            total: c.total,
            sent: c.sent,
            failed_retryable: c.failed_retryable,
            failed_permanent: c.failed_permanent,
            uncertain: c.uncertain,
            skipped: c.skipped,
            cancelled: c.cancelled,
            delivered: c.delivered,
            user_block: c.user_block,
            system_failed: c.system_failed,
        };
        let status = JobStatus::parse(&self.status)?;
        let shown = JobShown::of(status, &counts);
        Ok(Job {
            id: self.id,
            appid: self.appid,
            kind: JobKind::parse(&self.kind)?,
            template_id: self.template_id,
            title: self.title,
            purpose: JobPurpose::parse(&self.purpose).unwrap_or(JobPurpose::Plain),
            payload: serde_json::from_value(self.payload)
                .map_err(|e| bad_answer("job payload", e))?,
            status,
            pause_reason: self.pause_reason.as_deref().map(pause_reason),
            concurrency: self.concurrency,
            rate_per_sec: self.rate_per_sec,
            max_attempts: self.max_attempts,
            copied_from: None,
            counts,
            shown,
            attention: shown.needs_attention(&counts),
            created_at: self.created_at,
            started_at: self.started_at,
            finished_at: self.finished_at,
            created_by: self.created_by,
            nonce: String::new(),
        })
    }
}

/// The team server's job API, with this desk's member key.
#[derive(Clone)]
pub(crate) struct TeamJobs {
    relay: RelayClient,
    cfg: EngineConfig,
}

impl TeamJobs {
    pub(crate) fn new(relay: RelayClient, cfg: EngineConfig) -> TeamJobs {
        TeamJobs { relay, cfg }
    }

    /// Renders every recipient's request and hands the job to the server, which starts it.
    /// Recipients that cannot be sent to (no openid, a repeat, a placeholder without a value, a
    /// value breaking its keyword's rule) go to the server too, as rows skipped with the same
    /// note the engine writes: the job has a row for every recipient of the list, as on a desk.
    pub(crate) async fn create(
        &self,
        spec: JobSpec,
        purpose: JobPurpose,
        recipients: Vec<Recipient>,
    ) -> Result<i64> {
        super::engine::validate_spec(&spec)?;
        let kind = spec.payload.kind();
        if kind == JobKind::Uniform {
            return Err(Error::input(
                "统一服务消息已被微信下线（45109），团队服务器不发送它",
                "WeChat withdrew unified messages (45109); the team server does not send them",
            ));
        }
        if recipients.is_empty() {
            return Err(Error::input(
                "没有接收者：名单或文件中没有有效的 openid",
                "No recipients: the list or file has no valid openid",
            ));
        }
        if recipients.len() > MAX_TEAM_JOB_ROWS {
            return Err(Error::input(
                format!("一个任务最多 {MAX_TEAM_JOB_ROWS} 位接收者；请拆成几个名单"),
                format!("A job takes at most {MAX_TEAM_JOB_ROWS} recipients; split the list"),
            ));
        }
        let rows = server_rows(&spec, recipients);
        let skipped = rows.iter().filter(|r| r.skipped.is_some()).count();
        if skipped > 0 {
            tracing::info!(skipped, "team job: recipients skipped with their reasons");
        }
        let path = super::render::api_path(kind);
        let concurrency = spec
            .concurrency
            .unwrap_or(self.cfg.concurrency)
            .clamp(1, 500);
        let body = NewServerJob {
            appid: &spec.appid,
            kind: kind.as_str(),
            template_id: spec.payload.template_id(),
            title: &spec.title,
            purpose: purpose.as_str(),
            payload: &spec.payload,
            concurrency,
            rate_per_sec: spec
                .rate_per_sec
                .unwrap_or_else(|| self.cfg.rate_for(concurrency))
                .clamp(1, 100_000),
            max_attempts: spec
                .max_attempts
                .unwrap_or(self.cfg.max_attempts)
                .clamp(1, 20),
            idempotent: kind.is_idempotent(),
            path,
            rows,
        };
        let created: Created = self
            .relay
            .team_call(
                reqwest::Method::POST,
                "api/v1/team/jobs",
                Some(&body),
                Duration::from_secs(120),
            )
            .await?;
        Ok(created.id)
    }

    async fn server_job(&self, job_id: i64) -> Result<ServerJob> {
        self.relay
            .team_call::<(), _>(
                reqwest::Method::GET,
                &format!("api/v1/team/jobs/{job_id}"),
                None,
                Duration::from_secs(15),
            )
            .await
    }

    pub(crate) async fn job(&self, job_id: i64) -> Result<Job> {
        self.server_job(job_id).await?.into_job()
    }

    /// Newest first, optionally of one account (the server lists the newest `limit`).
    pub(crate) async fn list(&self, appid: Option<&str>, limit: u32) -> Result<Vec<Job>> {
        let list: ServerJobs = self
            .relay
            .team_call::<(), _>(
                reqwest::Method::GET,
                &format!("api/v1/team/jobs?limit={}", limit.clamp(1, 500)),
                None,
                Duration::from_secs(15),
            )
            .await?;
        list.jobs
            .into_iter()
            .filter(|j| appid.is_none_or(|a| j.appid == a))
            .map(ServerJob::into_job)
            .collect()
    }

    /// pause / resume / cancel / resend-uncertain.
    async fn action(&self, job_id: i64, action: &str) -> Result<Job> {
        self.relay
            .team_call::<(), ServerJob>(
                reqwest::Method::POST,
                &format!("api/v1/team/jobs/{job_id}/{action}"),
                None,
                Duration::from_secs(15),
            )
            .await?
            .into_job()
    }

    pub(crate) async fn pause(&self, job_id: i64) -> Result<()> {
        match self.job(job_id).await?.status {
            JobStatus::Running => self.action(job_id, "pause").await.map(drop),
            _ => Ok(()),
        }
    }

    /// Continues a paused job; a running or finished one stays as it is.
    pub(crate) async fn resume(&self, job_id: i64) -> Result<()> {
        match self.job(job_id).await?.status {
            JobStatus::Paused | JobStatus::PausedQuota | JobStatus::Draft => {
                self.action(job_id, "resume").await.map(drop)
            }
            _ => Ok(()),
        }
    }

    pub(crate) async fn cancel(&self, job_id: i64) -> Result<()> {
        self.action(job_id, "cancel").await.map(drop)
    }

    /// 重试失败: the retryable failures, or every failure, queued again; returns how many.
    pub(crate) async fn retry_failed(&self, job_id: i64, all: bool) -> Result<u64> {
        let c = self.job(job_id).await?.counts;
        let n = c.failed_retryable + if all { c.failed_permanent } else { 0 };
        if n == 0 {
            return Ok(0);
        }
        let action = if all {
            "retry-all-failed"
        } else {
            "retry-failed"
        };
        self.action(job_id, action).await?;
        Ok(n)
    }

    pub(crate) async fn resend_uncertain(&self, job_id: i64) -> Result<ResendReport> {
        let before = self.job(job_id).await?;
        let rows = before.counts.uncertain;
        if rows == 0 {
            return Ok(ResendReport::default());
        }
        self.action(job_id, "resend-uncertain").await?;
        // The server keeps each row's client_msg_id; a row older than WeChat's window may
        // duplicate. The server does not say which rows those are, so all count as unknown
        // only when the job started longer ago than the window.
        let old = before
            .started_at
            .is_some_and(|s| super::db::now_secs() - s > super::engine::CLIENT_MSG_ID_WINDOW_SECS);
        Ok(ResendReport {
            rows,
            outside_dedup_window: if old { rows } else { 0 },
        })
    }

    /// A job's reports: the current one at once, then one per change the server reports, until
    /// the job stops running (paused, cancelled, completed).
    pub(crate) fn watch(&self, job_id: i64) -> RemoteWatch {
        RemoteWatch {
            jobs: self.clone(),
            job_id,
            version: None,
            ended: false,
            start: None,
        }
    }

    /// Waits until the job no longer runs, and returns it.
    pub(crate) async fn wait_idle(&self, job_id: i64) -> Result<Job> {
        let mut w = self.watch(job_id);
        while w.next().await.is_some() {}
        self.job(job_id).await
    }
}

/// Progress of a job the team server runs, by long poll.
pub struct RemoteWatch {
    jobs: TeamJobs,
    job_id: i64,
    version: Option<i64>,
    ended: bool,
    /// When the watch began and how many rows were done then: the rate it shows.
    start: Option<(Instant, u64)>,
}

impl RemoteWatch {
    pub async fn next(&mut self) -> Option<JobProgress> {
        if self.ended {
            return None;
        }
        let mut failures = 0u32;
        let job = loop {
            let got = match self.version {
                None => self.jobs.server_job(self.job_id).await,
                Some(v) => {
                    self.jobs
                        .relay
                        .team_call::<(), ServerJob>(
                            reqwest::Method::GET,
                            &format!("api/v1/team/jobs/{}/watch?version={v}", self.job_id),
                            None,
                            Duration::from_secs(40),
                        )
                        .await
                }
            };
            match got {
                Ok(j) => break j,
                // A server restart or a moment off the network: the job goes on there.
                Err(e) if failures < 30 => {
                    failures += 1;
                    tracing::warn!(job = self.job_id, error = %e, "team job watch: retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                Err(e) => {
                    tracing::warn!(job = self.job_id, error = %e, "team job watch: giving up");
                    self.ended = true;
                    return None;
                }
            }
        };
        self.version = Some(job.version);
        let job = match job.into_job() {
            Ok(j) => j,
            Err(e) => {
                tracing::warn!(job = self.job_id, error = %e, "team job watch: bad answer");
                self.ended = true;
                return None;
            }
        };
        let mut p = JobProgress::from_job(&job);
        let done = job.counts.total - job.counts.pending();
        let (t0, done0) = *self.start.get_or_insert((Instant::now(), done));
        let secs = t0.elapsed().as_secs_f64();
        if secs >= 1.0 {
            p.rate_per_sec = (done.saturating_sub(done0)) as f64 / secs;
            if p.rate_per_sec > 0.0 {
                p.eta_secs = Some((job.counts.pending() as f64 / p.rate_per_sec).ceil() as u64);
            }
        }
        p.active = job.status == JobStatus::Running;
        if !p.active {
            self.ended = true;
        }
        Some(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Lang;

    fn recipient(openid: &str, vars: &[(&str, &str)]) -> Recipient {
        Recipient {
            openid: openid.into(),
            vars: vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn every_recipient_becomes_a_row_and_the_unsendable_ones_carry_the_engine_s_note() {
        let spec: JobSpec = serde_json::from_value(serde_json::json!({
            "appid": "wxA", "title": "发货",
            "payload": { "type": "template", "template_id": "T1",
                         "data": { "amount5": "{{金额}}", "thing1": "{{商品}}" } },
            "field_rules": [{ "key": "amount5", "title": "订单金额", "kind": "amount" }],
        }))
        .expect("a spec");
        let rows = server_rows(
            &spec,
            vec![
                recipient("o1", &[("金额", "12.50元"), ("商品", "书")]),
                recipient("o2", &[("金额", "十二块"), ("商品", "书")]),
                recipient("o3", &[("金额", "3元")]),
                recipient(" ", &[("金额", "3元"), ("商品", "笔")]),
                recipient("o1", &[("金额", "1元"), ("商品", "笔")]),
            ],
        );
        // Before, the server got only o1: a job of five recipients counted one.
        assert_eq!(rows.len(), 5, "one row per recipient: {rows:?}");
        assert!(
            rows[0].skipped.is_none() && rows[0].body.is_some(),
            "{rows:?}"
        );
        assert_eq!(
            rows[0].body.as_ref().unwrap()["data"]["amount5"]["value"],
            "12.50元"
        );
        assert!(
            rows[0]
                .body
                .as_ref()
                .unwrap()
                .get("client_msg_id")
                .is_none(),
            "the server writes each row's client_msg_id"
        );
        let note = |i: usize| {
            assert!(
                rows[i].body.is_none(),
                "a skipped row carries no body to send"
            );
            RowNote::from_stored(rows[i].skipped.as_deref().expect("a note"))
                .expect("the engine's stored spelling")
        };
        let invalid = note(1);
        assert!(
            matches!(&invalid, RowNote::InvalidValue { key, title: Some(t), .. }
                if key == "amount5" && t == "订单金额"),
            "{invalid:?}"
        );
        assert!(invalid.message(Lang::Zh).starts_with("订单金额："));
        assert!(invalid.message(Lang::En).starts_with("订单金额: must"));
        assert_eq!(
            note(2),
            RowNote::MissingVar {
                name: "商品".into()
            }
        );
        assert_eq!(note(3), RowNote::EmptyOpenid);
        assert_eq!(rows[3].openid, "");
        assert_eq!(note(4), RowNote::Duplicate);
    }

    fn server_job(status: &str, counts: Value) -> ServerJob {
        serde_json::from_value(serde_json::json!({
            "id": 7, "appid": "wxA", "kind": "template", "template_id": "T1", "title": "发货",
            "purpose": "plain",
            "payload": { "type": "template", "template_id": "T1", "data": {} },
            "status": status, "pause_reason": null, "concurrency": 20, "rate_per_sec": 200,
            "max_attempts": 5, "created_by": "alice", "created_at": 1, "started_at": 1,
            "finished_at": null, "version": 3, "counts": counts,
        }))
        .expect("a server job")
    }

    #[test]
    fn a_server_job_reads_as_the_engine_s_job_with_its_member() {
        let j = server_job(
            "completed",
            serde_json::json!({ "total": 10, "sent": 8, "failed_permanent": 2 }),
        )
        .into_job()
        .expect("job");
        assert_eq!(j.created_by.as_deref(), Some("alice"));
        assert_eq!(j.counts.failed(), 2);
        assert_eq!(j.shown, JobShown::PartlyFailed);
        assert!(j.attention);
    }

    #[test]
    fn unknown_states_from_the_server_are_errors_and_unknown_pauses_keep_their_code() {
        assert!(
            server_job("exploded", serde_json::json!({}))
                .into_job()
                .is_err()
        );
        assert_eq!(pause_reason("quota"), PauseReason::Quota);
        assert!(
            matches!(pause_reason("x"), PauseReason::Internal { detail } if detail.contains('x'))
        );
    }
}
