//! `jobs list|show|pause|resume|cancel|retry` over the engine host (`ctx.sends`). A job being
//! sent by another wxdesk-cli process (it holds the data dir's send lock) is paused by
//! signalling that process, which pauses the job itself and exits once its in-flight requests
//! are recorded.

use std::path::Path;
use std::time::Duration;

use serde_json::json;
use wxdesk_core::context::Context;
use wxdesk_core::send::{Job, JobStatus};

use crate::args::JobsCmd;
use crate::cmd::drive::{drive, pause_text, shown_zh, status_zh, summarize, take_lock};
use crate::error::{CliError, Result};
use crate::out::{Out, beijing};
use crate::session;

fn print_job(j: &Job) {
    let c = &j.counts;
    crate::outln!(
        "任务 {}  {}  {}  账号 {}  模板 {}",
        j.id,
        shown_zh(j),
        j.kind.label_zh(),
        j.appid,
        j.template_id
    );
    crate::outln!("  标题      {}", j.title_zh());
    if let Some(who) = &j.created_by {
        crate::outln!("  发起人    {who}（团队成员）");
    }
    crate::outln!(
        "  计数      共 {}  成功 {}  失败 {}（可重试 {}）  结果未知 {}  跳过 {}  取消 {}  待发 {}",
        c.total,
        c.sent,
        c.failed(),
        c.failed_retryable,
        c.uncertain,
        c.skipped,
        c.cancelled,
        c.pending()
    );
    crate::outln!(
        "  送达回执  已送达 {}  用户拒收 {}  系统失败 {}",
        c.delivered,
        c.user_block,
        c.system_failed
    );
    crate::outln!("  速率      {}/秒，并发 {}", j.rate_per_sec, j.concurrency);
    crate::outln!("  创建于    {}", beijing(j.created_at));
    if let Some(t) = j.finished_at {
        crate::outln!("  结束于    {}", beijing(t));
    }
    if let Some(r) = pause_text(j) {
        crate::outln!("  暂停原因  {r}");
    }
}

/// Asks the process sending `job_id` (if another one is) to pause it, and waits until it let go.
async fn stop_remote_sender(ctx: &Context, job_id: i64) -> Result<bool> {
    let Some(holder) = ctx.sends.holder()? else {
        return Ok(false);
    };
    if holder.job_id != Some(job_id) || holder.pid == std::process::id() {
        return Ok(false);
    }
    signal_terminate(holder.pid)?;
    for _ in 0..600 {
        match ctx.sends.holder()? {
            Some(h) if h.pid == holder.pid => tokio::time::sleep(Duration::from_millis(100)).await,
            _ => return Ok(true),
        }
    }
    Err(CliError::Failed(format!(
        "发送进程 {} 在 60 秒内没有停下；任务 {job_id} 的状态未改变",
        holder.pid
    )))
}

#[cfg(unix)]
fn signal_terminate(pid: u32) -> Result<()> {
    let pid = i32::try_from(pid).map_err(|_| CliError::Failed(format!("进程号 {pid} 无效")))?;
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGTERM,
    )
    .map_err(|e| CliError::Failed(format!("无法通知发送进程 {pid}：{e}")))
}

#[cfg(not(unix))]
fn signal_terminate(pid: u32) -> Result<()> {
    Err(CliError::Failed(format!(
        "任务正在进程 {pid} 中发送；请在该进程的窗口按 Ctrl-C 暂停"
    )))
}

pub async fn run(c: JobsCmd, dir: &Path, out: Out) -> Result<()> {
    let ctx = session::open(dir).await?;
    let load = |id: i64| ctx.sends.job(id);
    match c {
        JobsCmd::List => {
            let jobs = ctx.sends.list(None, None, 100).await?;
            out.emit(&jobs, || {
                if jobs.is_empty() {
                    crate::outln!("还没有发送任务。");
                }
                for j in &jobs {
                    crate::outln!(
                        "{:>5}  {:<8} {}  {}/{}  {}  {}",
                        j.id,
                        shown_zh(j),
                        j.appid,
                        j.counts.sent,
                        j.counts.total,
                        beijing(j.created_at),
                        j.title_zh()
                    );
                }
            })
        }
        JobsCmd::Show { id } => {
            session::catch_up(&ctx).await;
            let job = load(id).await?;
            let sending = ctx.sends.holder()?.filter(|h| h.job_id == Some(id));
            out.emit(
                &json!({ "job": job, "sender_pid": sending.as_ref().map(|h| h.pid) }),
                || {
                    print_job(&job);
                    if let Some(h) = &sending {
                        crate::outln!("  正在进程 {} 中发送", h.pid);
                    }
                },
            )
        }
        JobsCmd::Pause { id } => {
            if !stop_remote_sender(&ctx, id).await? {
                ctx.sends.pause(id).await?;
            }
            let job = load(id).await?;
            out.emit(&job, || {
                crate::outln!("任务 {id}：{}", status_zh(job.status))
            })
        }
        JobsCmd::Cancel { id } => {
            stop_remote_sender(&ctx, id).await?;
            ctx.sends.cancel(id).await?;
            let job = load(id).await?;
            out.emit(&job, || {
                crate::outln!("任务 {id} 已取消（{} 行未发送）", job.counts.cancelled);
            })
        }
        JobsCmd::Resume { id, wait } => {
            // Fail fast on an unknown id before waiting for the lock.
            load(id).await?;
            // Recovery runs as the lock is taken: a job whose sender died is paused
            // `interrupted` by then, and continues here.
            take_lock(&ctx, Some(id), wait.wait, out).await?;
            let job = ctx.sends.job(id).await?;
            match job.status {
                JobStatus::Draft => ctx.sends.start(id).await?,
                JobStatus::Completed | JobStatus::Cancelled => {
                    return Err(CliError::Usage(format!(
                        "任务 {id} {}，无需继续；重发失败的行：jobs retry {id}",
                        status_zh(job.status)
                    )));
                }
                _ => ctx.sends.resume(id).await?,
            }
            let job = drive(&ctx, id, out).await?;
            summarize(&job, out)
        }
        JobsCmd::Retry {
            id,
            all,
            uncertain,
            wait,
        } => {
            load(id).await?;
            take_lock(&ctx, Some(id), wait.wait, out).await?;
            let n = if uncertain {
                let r = ctx.sends.resend_uncertain(id).await?;
                if r.outside_dedup_window > 0 {
                    crate::errln!(
                        "注意：{} 行的上次尝试已超过微信 10 分钟的去重窗口；若当时已送达，这些用户会收到两次",
                        r.outside_dedup_window
                    );
                }
                r.rows
            } else {
                ctx.sends.retry_failed(id, all).await?
            };
            if n == 0 {
                let job = ctx.sends.job(id).await?;
                return out.emit(&json!({ "retried": 0, "job": job }), || {
                    if uncertain {
                        crate::outln!("任务 {id} 没有结果未知的行");
                    } else {
                        crate::outln!("任务 {id} 没有可重试的失败行");
                    }
                });
            }
            if !out.json {
                crate::note!("重发任务 {id} 的 {n} 行");
            }
            let job = if ctx.sends.active_jobs().await.contains(&id) {
                drive(&ctx, id, out).await?
            } else {
                ctx.sends.job(id).await?
            };
            summarize(&job, out)
        }
    }
}
