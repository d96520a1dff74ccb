//! Sending in this process through the engine host (`ctx.sends`, the one the app uses too): the
//! send lock waited for at most `--wait` (saying who holds it), the recovery notes, the progress
//! bar or JSON-lines progress, Ctrl-C/SIGTERM as "pause", and the final summary.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use wxdesk_core::Lang;
use wxdesk_core::context::Context;
use wxdesk_core::send::{Job, JobProgress, JobShown, JobStatus, LockWait, SendLockHolder};

use crate::args::Wait;
use crate::error::{CliError, Result};
use crate::out::Out;

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
/// without a job is most likely the desktop app, which holds the lock while one of its jobs
/// sends.
fn holder_advice(h: Option<&SendLockHolder>) -> String {
    let app = "等桌面应用的任务发完（或在应用里暂停它），或直接在桌面应用里发送";
    match h.and_then(|h| h.job_id) {
        Some(j) => format!("等它发完，或 wxdesk-cli jobs pause {j} 暂停它（若是桌面应用：{app}）"),
        None => app.to_string(),
    }
}

/// Takes the data dir's send lock for this process, waiting at most `wait` while another process
/// (the desktop app sending, a detached send) holds it — saying who and what to do — and
/// recovers as the host does (`wxdesk_core::send::host`). Nothing is written before the lock is
/// ours, so a timeout leaves no half-made job. `job_id` is the job this command drives: it goes
/// into the lock file, and recovery notes name only the others.
pub async fn take_lock(ctx: &Context, job_id: Option<i64>, wait: Wait, out: Out) -> Result<()> {
    let lock_wait = match wait {
        Wait::Secs(s) => LockWait::Up(Duration::from_secs(s)),
        Wait::Forever => LockWait::Forever,
    };
    let mut waited_for: Option<SendLockHolder> = None;
    let mut note_err: Option<CliError> = None;
    let got = ctx
        .sends
        .acquire(lock_wait, |holder| {
            waited_for = holder.cloned();
            let how_long = match wait {
                Wait::Secs(s) => format!("最多等待 {s} 秒"),
                Wait::Forever => "一直等待".into(),
            };
            // On stderr even without a terminal: a cron log should show why a send sat still.
            crate::errln!(
                "此数据目录的发送锁被{}占用，{how_long}（--wait）。可以{}",
                holder_text(holder),
                holder_advice(holder)
            );
            if out.json
                && let Err(e) = out.json_line(&json!({
                    "event": "waiting",
                    "holder_pid": holder.map(|h| h.pid),
                    "holder_job_id": holder.and_then(|h| h.job_id),
                    "wait_secs": match wait { Wait::Secs(s) => Some(s), Wait::Forever => None },
                }))
            {
                note_err = Some(e);
            }
        })
        .await?;
    if let Some(e) = note_err {
        return Err(e);
    }
    let Some(report) = got else {
        let holder = ctx.sends.holder()?.or(waited_for);
        let secs = match wait {
            Wait::Secs(s) => s,
            Wait::Forever => 0,
        };
        return Err(CliError::SendBusy(format!(
            "等待 {secs} 秒后此数据目录的发送锁仍被{}占用，没有创建或改动任何任务；{}，或用 --wait 等得更久 (the send lock is held by another process; nothing was sent)",
            holder_text(holder.as_ref()),
            holder_advice(holder.as_ref())
        )));
    };
    if let Some(j) = job_id {
        ctx.sends.set_job(j).await?;
    }
    if !out.json {
        if report.uncertain_rows > 0 {
            crate::note!(
                "上次发送进程异常退出：{} 行结果未知（不会自动重发，见 jobs show）",
                report.uncertain_rows
            );
        }
        for other in report
            .interrupted_jobs
            .iter()
            .filter(|j| Some(**j) != job_id)
        {
            crate::note!(
                "任务 {other} 在上次退出时正在发送，已暂停；运行 jobs resume {other} 继续"
            );
        }
    }
    Ok(())
}

/// Runs a started job until no runner of this process works on it (done, paused or cancelled),
/// showing progress. A stop signal pauses it; in-flight requests finish and are recorded first.
pub async fn drive(ctx: &Context, job_id: i64, out: Out) -> Result<Job> {
    let mut watch = ctx.sends.watch(job_id).await?;
    let bar = (!out.json && std::io::stderr().is_terminal()).then(|| {
        let b = ProgressBar::new(0);
        b.set_style(
            ProgressStyle::with_template("{spinner} 任务 {prefix} [{bar:30}] {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        b.set_prefix(job_id.to_string());
        b
    });
    let stop = crate::cmd::sandbox::wait_for_stop();
    tokio::pin!(stop);
    let mut stopped = false;
    let mut last_json = Instant::now() - Duration::from_secs(1);
    loop {
        tokio::select! {
            p = watch.next() => match p {
                Some(p) => show(&bar, &p, out, &mut last_json)?,
                None => break,
            },
            _ = &mut stop, if !stopped => {
                stopped = true;
                if !out.json {
                    crate::note!("收到停止信号：暂停任务 {job_id}，等待在途请求完成…");
                }
                // A job the engine already paused or finished needs nothing.
                let _ = ctx.sends.pause(job_id).await;
            }
        }
    }
    let job = ctx.sends.wait_idle(job_id).await?;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    Ok(job)
}

fn show(bar: &Option<ProgressBar>, p: &JobProgress, out: Out, last: &mut Instant) -> Result<()> {
    if out.json {
        if last.elapsed() >= Duration::from_millis(500) {
            *last = Instant::now();
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

/// Why the job paused, as the CLI prints it.
pub fn pause_text(job: &Job) -> Option<String> {
    job.pause_reason.as_ref().map(|r| r.message(Lang::Zh))
}

/// The final summary: one JSON document, or text; and the exit status for the job's outcome.
pub fn summarize(job: &Job, out: Out) -> Result<()> {
    let c = &job.counts;
    let reason = pause_text(job);
    out.emit(&json!({ "event": "done", "job": job }), || {
        crate::outln!(
            "任务 {}（{}）：{}",
            job.id,
            job.kind.label_zh(),
            shown_zh(job)
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
        if let Some(r) = &reason {
            crate::outln!("  暂停原因：{r}");
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
            reason.map(|r| format!("（{r}）")).unwrap_or_default(),
            job.id
        ))),
    }
}

/// How a job reads, as every face shows it: a completed job with failed rows is 部分失败 or 失败,
/// never 已完成 (core's [`JobShown`]).
pub fn shown_zh(job: &Job) -> &'static str {
    match job.shown {
        JobShown::PartlyFailed => "部分失败",
        JobShown::Failed => "失败",
        _ => status_zh(job.status),
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
