//! Running send jobs in this process: the send lock (one engine per data dir), crash recovery,
//! the progress bar or JSON-lines progress, Ctrl-C/SIGTERM as "pause", and the final summary.

use std::io::IsTerminal;
use std::path::Path;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use wxdesk_core::cli_support::{SendLock, SendLockHolder, send_engine, who_sends};
use wxdesk_core::context::Context;
use wxdesk_core::send::{EngineConfig, Job, JobProgress, JobStatus, SendEngine};

use crate::args::Wait;
use crate::error::{CliError, Result};
use crate::out::Out;

/// Between two attempts at a taken send lock.
const LOCK_POLL: Duration = Duration::from_millis(200);

/// "进程 123（正在发送任务 7）" for the messages about a lock holder.
fn holder_text(h: Option<&SendLockHolder>) -> String {
    match h {
        Some(SendLockHolder {
            pid,
            job_id: Some(j),
        }) => format!("进程 {pid}（正在发送任务 {j}）"),
        Some(SendLockHolder { pid, job_id: None }) => format!("进程 {pid}"),
        None => "另一个进程".into(),
    }
}

/// What the operator can do about a holder: another CLI's job can be paused from here; a holder
/// without a job is most likely the desktop app, which keeps the lock while its send engine runs.
fn holder_advice(h: Option<&SendLockHolder>) -> String {
    let app = "关闭桌面应用后重试，或直接在桌面应用里发送";
    match h.and_then(|h| h.job_id) {
        Some(j) => format!("等它发完，或 wxdesk-cli jobs pause {j} 暂停它（若是桌面应用：{app}）"),
        None => app.to_string(),
    }
}

/// The data dir's send lock, waiting at most `wait` while another process (the desktop app, a
/// detached send) holds it — saying who and what to do — instead of queueing silently forever.
/// Nothing is written before the lock is ours, so a timeout leaves no half-made job.
async fn take_lock(dir: &Path, job_id: Option<i64>, wait: Wait, out: Out) -> Result<SendLock> {
    if let Some(l) = SendLock::try_acquire(dir, job_id)? {
        return Ok(l);
    }
    let holder = who_sends(dir)?;
    let limit = match wait {
        Wait::Secs(s) => Some(Duration::from_secs(s)),
        Wait::Forever => None,
    };
    if limit != Some(Duration::ZERO) {
        let how_long = match wait {
            Wait::Secs(s) => format!("最多等待 {s} 秒"),
            Wait::Forever => "一直等待".into(),
        };
        // On stderr even without a terminal: a cron log should show why a send sat still.
        crate::errln!(
            "此数据目录的发送锁被{}占用，{how_long}（--wait）。可以{}",
            holder_text(holder.as_ref()),
            holder_advice(holder.as_ref())
        );
        if out.json {
            out.json_line(&json!({
                "event": "waiting",
                "holder_pid": holder.as_ref().map(|h| h.pid),
                "holder_job_id": holder.as_ref().and_then(|h| h.job_id),
                "wait_secs": match wait { Wait::Secs(s) => Some(s), Wait::Forever => None },
            }))?;
        }
    }
    let started = Instant::now();
    loop {
        if let Some(limit) = limit {
            let left = limit.saturating_sub(started.elapsed());
            if left.is_zero() {
                let holder = who_sends(dir)?.or(holder);
                return Err(CliError::SendBusy(format!(
                    "等待 {} 秒后此数据目录的发送锁仍被{}占用，没有创建或改动任何任务；{}，或用 --wait 等得更久 (the send lock is held by another process; nothing was sent)",
                    limit.as_secs(),
                    holder_text(holder.as_ref()),
                    holder_advice(holder.as_ref())
                )));
            }
            tokio::time::sleep(left.min(LOCK_POLL)).await;
        } else {
            tokio::time::sleep(LOCK_POLL).await;
        }
        if let Some(l) = SendLock::try_acquire(dir, job_id)? {
            return Ok(l);
        }
    }
}

/// The engine of this process, holding the data dir's send lock.
pub struct Sender {
    pub engine: SendEngine,
    lock: SendLock,
}

impl Sender {
    /// Takes the send lock (waiting at most `wait` behind another sender), builds the engine,
    /// and recovers from a crash: rows left in flight become `uncertain`. Jobs that were running
    /// when a sender died, other than `job_id`, are paused rather than silently driven by this
    /// command.
    pub async fn start(
        ctx: &Context,
        dir: &Path,
        job_id: Option<i64>,
        wait: Wait,
        out: Out,
    ) -> Result<Sender> {
        let lock = take_lock(dir, job_id, wait, out).await?;
        let engine = send_engine(&ctx.platform, EngineConfig::default()).await?;
        let report = engine.recover_on_start().await?;
        if report.uncertain_rows > 0 && !out.json {
            crate::note!(
                "上次发送进程异常退出：{} 行结果未知（不会自动重发，见 jobs show）",
                report.uncertain_rows
            );
        }
        for other in report.resumed_jobs.iter().filter(|j| Some(**j) != job_id) {
            engine.pause(*other).await?;
            engine.wait_idle(*other).await?;
            if !out.json {
                crate::note!(
                    "任务 {other} 在上次退出时正在发送，已暂停；运行 jobs resume {other} 继续"
                );
            }
        }
        Ok(Sender { engine, lock })
    }

    /// Records the job in the lock file (for `jobs pause` from another process).
    pub fn set_job(&mut self, job_id: i64) -> Result<()> {
        Ok(self.lock.set_job(job_id)?)
    }

    /// Runs a started job until it is idle (done, paused or cancelled), showing progress. A
    /// stop signal pauses it; in-flight requests finish and are recorded first.
    pub async fn drive(&self, job_id: i64, out: Out) -> Result<Job> {
        let mut rx = self.engine.subscribe(job_id).await?;
        let bar = (!out.json && std::io::stderr().is_terminal()).then(|| {
            let b = ProgressBar::new(0);
            b.set_style(
                ProgressStyle::with_template(
                    "{spinner} 任务 {prefix} [{bar:30}] {pos}/{len} {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            b.set_prefix(job_id.to_string());
            b
        });
        let stop = crate::cmd::sandbox::wait_for_stop();
        tokio::pin!(stop);
        let mut stopped = false;
        let mut last_json = std::time::Instant::now() - Duration::from_secs(1);
        loop {
            let p = rx.borrow_and_update().clone();
            show(&bar, &p, out, &mut last_json)?;
            if !self.engine.is_active(job_id) {
                break;
            }
            tokio::select! {
                _ = rx.changed() => {}
                () = tokio::time::sleep(Duration::from_millis(200)) => {}
                _ = &mut stop, if !stopped => {
                    stopped = true;
                    if !out.json {
                        crate::note!("收到停止信号：暂停任务 {job_id}，等待在途请求完成…");
                    }
                    // A job the engine already paused or finished needs nothing.
                    let _ = self.engine.pause(job_id).await;
                }
            }
        }
        let job = self.engine.wait_idle(job_id).await?;
        if let Some(b) = &bar {
            b.finish_and_clear();
        }
        Ok(job)
    }
}

fn show(
    bar: &Option<ProgressBar>,
    p: &JobProgress,
    out: Out,
    last: &mut std::time::Instant,
) -> Result<()> {
    if out.json {
        if last.elapsed() >= Duration::from_millis(500) {
            *last = std::time::Instant::now();
            out.json_line(&json!({ "event": "progress", "progress": p }))?;
        }
    } else if let Some(b) = bar {
        b.set_length(p.total);
        b.set_position(p.total.saturating_sub(p.pending));
        b.set_message(format!(
            "成功 {} 失败 {} 未知 {} {:.0}/秒",
            p.sent, p.failed, p.uncertain, p.rate_per_sec
        ));
    }
    Ok(())
}

/// The final summary: one JSON document, or text; and the exit status for the job's outcome.
pub fn summarize(job: &Job, out: Out) -> Result<()> {
    let c = &job.counts;
    out.emit(&json!({ "event": "done", "job": job }), || {
        crate::outln!(
            "任务 {}（{}）：{}",
            job.id,
            job.kind.label_zh(),
            status_zh(job.status)
        );
        crate::outln!(
            "  共 {}  成功 {}  失败 {}  结果未知 {}  跳过 {}  取消 {}  待发 {}",
            c.total,
            c.sent,
            c.failed(),
            c.uncertain,
            c.skipped,
            c.cancelled,
            c.pending()
        );
        if !job.pause_reason.is_empty() {
            crate::outln!("  暂停原因：{}", job.pause_reason);
        }
    })?;
    match job.status {
        JobStatus::Completed
            if c.failed() == 0 && c.uncertain == 0 && (c.sent > 0 || c.total == 0) =>
        {
            Ok(())
        }
        JobStatus::Completed if c.failed() == 0 && c.uncertain == 0 => {
            Err(CliError::JobIncomplete(format!(
                "任务 {} 没有发出任何消息：{} 行全部被跳过（变量缺失或取值不合模板规则）；查看：history list --job {}",
                job.id, c.skipped, job.id
            )))
        }
        JobStatus::Completed => Err(CliError::JobIncomplete(format!(
            "任务 {id} 已结束，但有 {} 行失败、{} 行结果未知（不会自动重发）；查看：jobs show {id}；重发失败行：jobs retry {id}{}",
            c.failed(),
            c.uncertain,
            if c.uncertain > 0 {
                format!(
                    "；确认后重发结果未知的行：jobs retry {} --uncertain",
                    job.id
                )
            } else {
                String::new()
            },
            id = job.id,
        ))),
        JobStatus::Cancelled => Err(CliError::JobIncomplete(format!("任务 {} 已取消", job.id))),
        _ => Err(CliError::JobIncomplete(format!(
            "任务 {} 已暂停{}；继续：jobs resume {}",
            job.id,
            if job.pause_reason.is_empty() {
                String::new()
            } else {
                format!("（{}）", job.pause_reason)
            },
            job.id
        ))),
    }
}

pub fn status_zh(s: JobStatus) -> &'static str {
    match s {
        JobStatus::Draft => "未开始",
        JobStatus::Running => "发送中",
        JobStatus::Paused => "已暂停",
        JobStatus::PausedQuota => "已暂停（今日额度用完）",
        JobStatus::Cancelled => "已取消",
        JobStatus::Completed => "已完成",
    }
}
