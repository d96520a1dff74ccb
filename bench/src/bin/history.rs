//! History at scale: for each size N (default 10,000, 100,000 and 1,000,000), N send records over
//! four accounts and 90 days, written through the engine's own `create_job` with outcomes set as a
//! run leaves them; then the queries the 发送记录 page makes, each timed with today's statement
//! and with the statement core ran before #19 (the baseline, same run, same file): first pages
//! with and without a date window, page 20, one job within a window, an openid search, and the
//! CSV export of every row (baseline: the old paged reads into the same writer). Ends with a
//! table of how each cost grows with N.
//!
//! `history [N ...]`. The store is a real WAL file in a temp dir. The pages are timed twice: as
//! the app runs them (it never runs ANALYZE, so the planner has only the schema), then after
//! ANALYZE (the planner's statistics change which index it picks; #19's 31–46 ms were measured
//! that way).

use std::time::Instant;

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension};
use serde_json::json;
use wxdesk_bench::{BoxError, emit, peak_rss_kib};
use wxdesk_core::send::history::{self, HistoryFilter, HistoryStatus, PageQuery};
use wxdesk_core::send::{
    ApiRequest, BoxFuture, EngineConfig, JobSpec, Payload, Recipient, SendApi, SendEngine,
    SendFailure, SendOk,
};
use wxdesk_core::store::Store;

struct Never;

impl SendApi for Never {
    fn send<'a>(
        &'a self,
        _: &'a str,
        _: &'a ApiRequest,
    ) -> BoxFuture<'a, Result<SendOk, SendFailure>> {
        Box::pin(async {
            Err(SendFailure::Token {
                detail: "not used".into(),
            })
        })
    }
    fn refresh_token<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<(), SendFailure>> {
        Box::pin(async { Ok(()) })
    }
}

const DAY: i64 = 86_400;
const PAGE: u32 = 50;

/// The page statement of core before #19, kept as the baseline: `id < before` (i64::MAX on a first
/// page) ahead of the window's rowid bounds, of which SQLite takes the first as the range's end,
/// and, for one job, no seq bound from the window.
fn old_page_query(
    conn: &Connection,
    f: &HistoryFilter,
    before: Option<i64>,
    limit: u32,
) -> wxdesk_core::Result<PageQuery> {
    let cols = "id, job_id, seq, appid, kind, template_id, openid, state, attempts, msgid, \
        errcode, errmsg, delivery, delivery_raw, created_at, attempted_at, done_at, delivered_at";
    let mut wh = String::from(" WHERE id < ?");
    let mut args = vec![SqlValue::Integer(before.unwrap_or(i64::MAX))];
    let mut eq = |col: &str, v: SqlValue| {
        wh.push_str(&format!(" AND {col} = ?"));
        args.push(v);
    };
    if let Some(v) = &f.appid {
        eq("appid", SqlValue::Text(v.clone()));
    }
    if let Some(v) = f.job_id {
        eq("job_id", SqlValue::Integer(v));
    }
    let (state, delivery) = match f.status {
        Some(HistoryStatus::Sent) => (Some("sent"), None),
        Some(HistoryStatus::FailedPermanent) => (Some("failed_permanent"), None),
        Some(HistoryStatus::Delivered) => (None, Some("delivered")),
        _ => (None, None),
    };
    if let Some(v) = state {
        eq("state", SqlValue::Text(v.into()));
    }
    if let Some(v) = delivery {
        eq("delivery", SqlValue::Text(v.into()));
    }
    if let Some(v) = &f.openid {
        eq("openid", SqlValue::Text(v.clone()));
    }
    if let Some(from) = f.from {
        let lo: Option<i64> = conn
            .query_row(
                "SELECT id FROM send_recipients WHERE created_at >= ? ORDER BY created_at, id LIMIT 1",
                [from],
                |r| r.get(0),
            )
            .optional()?;
        wh.push_str(" AND id >= ?");
        args.push(SqlValue::Integer(lo.unwrap_or(i64::MAX)));
    }
    if let Some(to) = f.to {
        let hi: Option<i64> = conn
            .query_row(
                "SELECT id FROM send_recipients WHERE created_at < ? ORDER BY created_at DESC, id DESC LIMIT 1",
                [to],
                |r| r.get(0),
            )
            .optional()?;
        wh.push_str(" AND id <= ?");
        args.push(SqlValue::Integer(hi.unwrap_or(0)));
    }
    let order = if f.job_id.is_some() && state.is_none() {
        if let Some(b) = before {
            let seq: Option<i64> = conn
                .query_row("SELECT seq FROM send_recipients WHERE id = ?", [b], |r| {
                    r.get(0)
                })
                .optional()?;
            wh.push_str(" AND seq < ?");
            args.push(SqlValue::Integer(seq.unwrap_or(i64::MIN)));
        }
        "seq DESC"
    } else {
        "id DESC"
    };
    args.push(SqlValue::Integer(i64::from(limit) + 1));
    Ok(PageQuery {
        sql: format!("SELECT {cols} FROM send_recipients{wh} ORDER BY {order} LIMIT ?"),
        args,
    })
}

/// A page with today's statement (`new`) or the baseline's.
fn page(
    c: &Connection,
    new: bool,
    f: &HistoryFilter,
    before: Option<i64>,
    limit: u32,
) -> wxdesk_core::Result<history::HistoryPage> {
    if new {
        history::list(c, f, before, limit)
    } else {
        history::run_page(c, &old_page_query(c, f, before, limit)?, limit)
    }
}

/// Median of `runs` timings of `f` in ms (a first run warms the page cache and is dropped), and
/// the rows of the last run.
fn median_ms(
    runs: usize,
    mut f: impl FnMut() -> wxdesk_core::Result<usize>,
) -> wxdesk_core::Result<(f64, usize)> {
    let mut rows = f()?;
    let mut t = Vec::new();
    for _ in 0..runs {
        let s = Instant::now();
        rows = f()?;
        t.push(s.elapsed().as_secs_f64() * 1000.0);
    }
    t.sort_by(f64::total_cmp);
    Ok((t[t.len() / 2], rows))
}

/// Resets this process's peak RSS (VmHWM) so the next reading covers only what follows; false
/// where the kernel does not allow it (then readings are peaks since the start).
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// One measured operation at one size: baseline and today's median in ms (`None`: no baseline).
struct Op {
    name: String,
    old_ms: Option<f64>,
    new_ms: f64,
    rows: usize,
}

struct Run {
    n: usize,
    ops: Vec<Op>,
    write_s: f64,
    db_mb: f64,
    write_peak_kib: u64,
    query_peak_kib: u64,
}

async fn run_size(n: usize) -> Result<Run, BoxError> {
    let dir = tempfile::tempdir()?;
    let store = Store::open_in_dir(dir.path()).await?;
    let engine = SendEngine::new(
        store.clone(),
        std::sync::Arc::new(Never),
        EngineConfig::default(),
    );
    let spec = |appid: &str| JobSpec {
        appid: appid.into(),
        title: "scale".into(),
        payload: Payload::Template {
            template_id: "TPL".into(),
            data: [("thing1".to_string(), "订单{{no}}".to_string())].into(),
            url: None,
            miniprogram: None,
        },
        field_rules: Vec::new(),
        concurrency: None,
        rate_per_sec: None,
        max_attempts: None,
    };
    let peak_reset = reset_peak_rss();
    let t = Instant::now();
    let mut jobs = Vec::new();
    for (k, appid) in ["wxA", "wxB", "wxC", "wxD"].iter().enumerate() {
        let rows = (0..n / 4).map(move |i| Recipient {
            openid: format!("o{k}{i:09}"),
            vars: [("no".to_string(), i.to_string())].into(),
        });
        jobs.push(engine.create_job(spec(appid), rows).await?);
    }
    let n_i = n as i64;
    let now = store
        .call(move |c| {
            let now: i64 = c.query_row("SELECT MAX(created_at) FROM send_recipients", [], |r| {
                r.get(0)
            })?;
            // 90 days of history in id order (ids grow with time, as in a real workspace); 2 %
            // failed, the rest sent with msgids and delivered.
            c.execute(
                "UPDATE send_recipients SET created_at = ?1 - (?2 - id) * ?3 / ?2, \
                 state = CASE WHEN id % 50 = 0 THEN 'failed_permanent' ELSE 'sent' END, \
                 msgid = CASE WHEN id % 50 = 0 THEN NULL ELSE 1000000 + id END, \
                 errcode = CASE WHEN id % 50 = 0 THEN 43004 ELSE 0 END, \
                 delivery = CASE WHEN id % 50 = 0 THEN NULL ELSE 'delivered' END",
                rusqlite::params![now, n_i, 90 * DAY],
            )?;
            c.execute(
                "UPDATE send_recipients SET done_at = created_at, attempted_at = created_at",
                [],
            )?;
            Ok(now)
        })
        .await?;
    let write_s = t.elapsed().as_secs_f64();
    let write_peak_kib = peak_rss_kib();
    let db_mb = std::fs::read_dir(dir.path())?
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum::<u64>() as f64
        / 1e6;
    println!("{n} records written in {write_s:.1} s ({db_mb:.0} MB on disk)");
    reset_peak_rss();

    // wxB's rows span days 67.5 to 45 before now (accounts were written one after another), so
    // a quarter of its rows (and of the table) are newer than this window.
    let window = |f: HistoryFilter| HistoryFilter {
        from: Some(now - 60 * DAY),
        to: Some(now - 50 * DAY),
        ..f
    };
    let filtered = window(HistoryFilter {
        appid: Some("wxB".into()),
        status: Some(HistoryStatus::Sent),
        ..Default::default()
    });
    let dated = window(HistoryFilter::default());
    let job = window(HistoryFilter {
        job_id: Some(jobs[1]),
        ..Default::default()
    });
    let search = HistoryFilter {
        openid: Some(format!("o2{:09}", n / 8)),
        ..Default::default()
    };
    let mut ops = Vec::new();
    for analyzed in [false, true] {
        let (filtered, dated, job, search) =
            (filtered.clone(), dated.clone(), job.clone(), search.clone());
        let suffix = if analyzed { ", ANALYZEd" } else { "" };
        let name = move |s: &str| -> String { format!("{s}{suffix}") };
        let more = store
            .call(move |c| {
                let c: &Connection = c;
                if analyzed {
                    c.execute_batch("ANALYZE")?;
                }
                let mut ops = Vec::new();
                // Baseline and today's statement, one after the other on the same warm file.
                let mut both = |name: String,
                                runs: usize,
                                f: &dyn Fn(bool) -> wxdesk_core::Result<usize>|
                 -> wxdesk_core::Result<()> {
                    let old = median_ms(runs, || f(false))?;
                    let new = median_ms(runs, || f(true))?;
                    if old.1 != new.1 {
                        return Err(wxdesk_core::Error::input(
                            format!("{name}：新旧查询行数不同"),
                            format!("{name}: the old and new statements return different rows"),
                        ));
                    }
                    ops.push(Op {
                        name,
                        old_ms: Some(old.0),
                        new_ms: new.0,
                        rows: new.1,
                    });
                    Ok(())
                };
                let first = |f: &HistoryFilter| {
                    let f = f.clone();
                    move |new: bool| Ok(page(c, new, &f, None, PAGE)?.rows.len())
                };
                both(
                    name("unfiltered, first page"),
                    9,
                    &first(&HistoryFilter::default()),
                )?;
                both(
                    name("account + status + 10 days, first page"),
                    9,
                    &first(&filtered),
                )?;
                // Keyset paging, no OFFSET: page 20's bound is the last id of page 19.
                let mut before20 = None;
                for _ in 0..19 {
                    before20 = page(c, true, &filtered, before20, PAGE)?.next_before;
                }
                both(name("account + status + 10 days, page 20"), 9, &|new| {
                    Ok(page(c, new, &filtered, before20, PAGE)?.rows.len())
                })?;
                both(name("10 days only, first page"), 9, &first(&dated))?;
                both(name("one job + 10 days, first page"), 9, &first(&job))?;
                both(name("openid search"), 9, &first(&search))?;
                // What SQLite does with each first page, baseline and today.
                for (what, f) in [
                    ("account + status", &filtered),
                    ("10 days", &dated),
                    ("job", &job),
                ] {
                    for (who, q) in [
                        ("old", old_page_query(c, f, None, PAGE)?),
                        ("new", history::page_query(c, f, None, Some(PAGE + 1))?),
                    ] {
                        let plan = c
                            .prepare(&format!("EXPLAIN QUERY PLAN {}", q.sql))?
                            .query_map(rusqlite::params_from_iter(q.args.iter()), |r| {
                                r.get::<_, String>(3)
                            })?
                            .collect::<rusqlite::Result<Vec<_>>>()?
                            .join("; ");
                        println!("  plan{}, {what}, {who}: {plan}", suffix);
                    }
                }
                Ok(ops)
            })
            .await?;
        ops.extend(more);
    }
    // The export: before #19 it read pages of 1,000 through the page statement (the baseline
    // here: the old statement's pages into the same CSV writer); now one streamed statement.
    let csv = dir.path().join("all.csv");
    let (old_ms, new_ms, exported) = store
        .call(move |c| {
            let c: &Connection = c;
            let paged = || {
                let mut before = None;
                let mut buf = std::collections::VecDeque::new();
                let mut done = false;
                std::iter::from_fn(move || {
                    if buf.is_empty() && !done {
                        let p = old_page_query(c, &HistoryFilter::default(), before, 1000)
                            .and_then(|q| history::run_page(c, &q, 1000));
                        match p {
                            Ok(p) => {
                                before = p.next_before;
                                done = before.is_none();
                                buf.extend(p.rows.into_iter().map(Ok));
                            }
                            Err(e) => {
                                done = true;
                                return Some(Err(e));
                            }
                        }
                    }
                    buf.pop_front()
                })
            };
            let all = HistoryFilter::default();
            let old = median_ms(3, || Ok(history::write_csv(paged(), &csv)? as usize))?;
            let new = median_ms(3, || Ok(history::export_csv(c, &all, &csv)? as usize))?;
            Ok((old.0, new.0, new.1))
        })
        .await?;
    ops.push(Op {
        name: "CSV export, every row".into(),
        old_ms: Some(old_ms),
        new_ms,
        rows: exported,
    });
    let csv = dir.path().join("all.csv");
    let csv_mb = std::fs::metadata(&csv)?.len() as f64 / 1e6;
    let query_peak_kib = peak_rss_kib();
    for op in &ops {
        let old = op.old_ms.map_or(String::new(), |o| format!("{} → ", ms(o)));
        println!("  {}: {old}{} ({} rows)", op.name, ms(op.new_ms), op.rows);
    }
    let peak_note = if peak_reset {
        ""
    } else {
        " (peak since start)"
    };
    println!(
        "  CSV {csv_mb:.0} MB; peak RSS writing {:.1} MiB, queries + export {:.1} MiB{peak_note}",
        write_peak_kib as f64 / 1024.0,
        query_peak_kib as f64 / 1024.0
    );
    let mut result = json!({
        "bench": "history", "records": n, "write_s": write_s, "db_mb": db_mb, "csv_mb": csv_mb,
        "write_peak_rss_kib": write_peak_kib, "peak_rss_kib": query_peak_kib,
    });
    for op in &ops {
        result[op.name.as_str()] =
            json!({"old_ms": op.old_ms, "new_ms": op.new_ms, "rows": op.rows});
    }
    emit(&result);
    Ok(Run {
        n,
        ops,
        write_s,
        db_mb,
        write_peak_kib,
        query_peak_kib,
    })
}

/// `10,000` → `10k`.
fn size_label(n: usize) -> String {
    match n {
        n if n >= 1_000_000 && n % 1_000_000 == 0 => format!("{}M", n / 1_000_000),
        n if n >= 1_000 && n % 1_000 == 0 => format!("{}k", n / 1_000),
        n => n.to_string(),
    }
}

fn ms(v: f64) -> String {
    if v >= 1000.0 {
        format!("{:.2} s", v / 1000.0)
    } else {
        format!("{v:.2} ms")
    }
}

/// The scaling table (Markdown, as bench/RESULTS.md records it): one row per operation, one
/// column per size, `baseline → today` where there is a baseline.
fn print_table(runs: &[Run]) {
    let head: Vec<String> = runs.iter().map(|r| size_label(r.n)).collect();
    println!("\n| history | {} |", head.join(" | "));
    println!("|---|{}", "---|".repeat(runs.len()));
    let Some(first) = runs.first() else { return };
    for (i, op) in first.ops.iter().enumerate() {
        let cells: Vec<String> = runs
            .iter()
            .filter_map(|r| r.ops.get(i))
            .map(|o| match o.old_ms {
                Some(old) => format!("{} → **{}**", ms(old), ms(o.new_ms)),
                None => format!("**{}**", ms(o.new_ms)),
            })
            .collect();
        println!("| {} | {} |", op.name, cells.join(" | "));
    }
    let row = |name: &str, f: &dyn Fn(&Run) -> String| {
        let cells: Vec<String> = runs.iter().map(f).collect();
        println!("| {name} | {} |", cells.join(" | "));
    };
    row("peak RSS, queries + export", &|r| {
        format!("{:.1} MiB", r.query_peak_kib as f64 / 1024.0)
    });
    row("peak RSS, writing the rows", &|r| {
        format!("{:.1} MiB", r.write_peak_kib as f64 / 1024.0)
    });
    row("writing the rows (create_job + outcomes)", &|r| {
        format!("{:.1} s", r.write_s)
    });
    row("database on disk", &|r| format!("{:.0} MB", r.db_mb));
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let mut sizes: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.replace(['_', ','], "").parse())
        .collect::<Result<_, _>>()?;
    if sizes.is_empty() {
        sizes = vec![10_000, 100_000, 1_000_000];
    }
    let mut runs = Vec::new();
    for n in sizes {
        runs.push(run_size(n).await?);
    }
    print_table(&runs);
    Ok(())
}
