//! `history list|export` over `ctx.history`.

use std::path::Path;

use serde_json::json;
use wxdesk_core::Lang;
use wxdesk_core::send::{HistoryFilter, HistoryStatus};

use crate::args::{HistoryCmd, HistoryFilterArgs};
use crate::error::{CliError, Result};
use crate::out::{Out, beijing, parse_day};
use crate::session;

fn filter(a: &HistoryFilterArgs) -> Result<HistoryFilter> {
    let status = a
        .status
        .as_deref()
        .map(|s| {
            HistoryStatus::parse(s.trim()).ok_or_else(|| {
                let names: Vec<&str> = HistoryStatus::ALL.iter().map(|s| s.as_str()).collect();
                CliError::Usage(format!("--status「{s}」无效；可用：{}", names.join(", ")))
            })
        })
        .transpose()?;
    Ok(HistoryFilter {
        appid: a.account.clone(),
        job_id: a.job,
        status,
        from: a.since.as_deref().map(parse_day).transpose()?,
        ..Default::default()
    })
}

pub async fn run(c: HistoryCmd, dir: &Path, out: Out) -> Result<()> {
    let ctx = session::open(dir).await?;
    // Delivery reports arrive through the relay: apply what it holds before reading.
    session::catch_up(&ctx).await;
    match c {
        HistoryCmd::List(a) => {
            let page = ctx.history.list(filter(&a)?, None, Some(a.limit)).await?;
            out.emit(&page.rows, || {
                if page.rows.is_empty() {
                    crate::outln!("没有符合条件的发送记录。");
                }
                for r in &page.rows {
                    let delivery = r.delivery.map(|d| d.label_zh()).unwrap_or("");
                    let err = match (r.errcode, r.error_text(Lang::Zh)) {
                        (Some(c), Some(m)) => format!("{c} {m}"),
                        (None, Some(m)) => m,
                        _ => String::new(),
                    };
                    crate::outln!(
                        "{}  任务{}  {}  {}  {}  {}  {}",
                        beijing(r.created_at),
                        r.job_id,
                        r.openid,
                        r.state.label_zh(),
                        delivery,
                        r.msgid.map(|m| m.to_string()).unwrap_or_default(),
                        err
                    );
                }
            })
        }
        HistoryCmd::Export { csv, filter: a } => {
            let n = ctx.history.export_csv(filter(&a)?, csv.clone()).await?;
            out.emit(
                &json!({ "rows": n, "file": csv.display().to_string() }),
                || {
                    crate::outln!("已导出 {n} 条记录到 {}", csv.display());
                },
            )
        }
    }
}
