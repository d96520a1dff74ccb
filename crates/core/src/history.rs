//! 发送记录 (send history): every recipient row of every job, newest first, with filters, openid
//! search, keyset pagination (never OFFSET: page 1,000 costs what page 1 costs), a detail view with
//! the request rebuilt and the last response, per-day counts for the overview chart, today's
//! totals, and CSV export streamed to a file.

use std::io::Write;
use std::path::Path;

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::send::model::{Delivery, JobKind, RecipientState, client_msg_id};
use crate::send::render::{ApiRequest, build_request};

/// Filters of the history list; all optional, combined with AND.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, Serialize)]
pub struct HistoryFilter {
    pub appid: Option<String>,
    pub template_id: Option<String>,
    pub job_id: Option<i64>,
    pub state: Option<RecipientState>,
    pub delivery: Option<Delivery>,
    /// Unix seconds, inclusive: rows created (queued) at or after.
    pub from: Option<i64>,
    /// Unix seconds, exclusive.
    pub to: Option<i64>,
    /// Exact openid.
    pub openid: Option<String>,
}

/// One history row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryRow {
    pub id: i64,
    pub job_id: i64,
    pub seq: i64,
    pub appid: String,
    pub kind: JobKind,
    pub template_id: String,
    pub openid: String,
    pub state: RecipientState,
    pub attempts: u32,
    pub msgid: Option<i64>,
    pub errcode: Option<i64>,
    pub errmsg: Option<String>,
    pub delivery: Option<Delivery>,
    pub delivery_raw: Option<String>,
    pub created_at: i64,
    pub attempted_at: Option<i64>,
    pub done_at: Option<i64>,
    pub delivered_at: Option<i64>,
    /// What the errcode means and what to do (zh-CN and English), e.g. 45015 outside the
    /// 48-hour customer-service window.
    pub explanation: Option<wxdesk_wechat::ErrInfo>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryPage {
    pub rows: Vec<HistoryRow>,
    /// Pass as `before` for the next (older) page; `None` on the last page.
    pub next_before: Option<i64>,
}

const ROW_COLS: &str = "id, job_id, seq, appid, kind, template_id, openid, state, attempts, msgid, \
    errcode, errmsg, delivery, delivery_raw, created_at, attempted_at, done_at, delivered_at";

fn row_from(r: &rusqlite::Row<'_>) -> rusqlite::Result<HistoryRow> {
    let errcode: Option<i64> = r.get(10)?;
    Ok(HistoryRow {
        explanation: errcode
            .filter(|c| *c != 0)
            .and_then(wxdesk_wechat::explain)
            .copied(),
        id: r.get(0)?,
        job_id: r.get(1)?,
        seq: r.get(2)?,
        appid: r.get(3)?,
        kind: r.get(4)?,
        template_id: r.get(5)?,
        openid: r.get(6)?,
        state: r.get(7)?,
        attempts: r.get::<_, i64>(8)?.clamp(0, u32::MAX as i64) as u32,
        msgid: r.get(9)?,
        errcode,
        errmsg: r.get(11)?,
        delivery: r.get(12)?,
        delivery_raw: r.get(13)?,
        created_at: r.get(14)?,
        attempted_at: r.get(15)?,
        done_at: r.get(16)?,
        delivered_at: r.get(17)?,
    })
}

/// The WHERE clause and its parameters for a filter and an upper id bound.
fn where_clause(
    conn: &Connection,
    f: &HistoryFilter,
    before: Option<i64>,
) -> Result<(String, Vec<SqlValue>)> {
    let mut sql = String::from(" WHERE id < ?");
    let mut args: Vec<SqlValue> = vec![SqlValue::Integer(before.unwrap_or(i64::MAX))];
    let mut eq = |col: &str, v: SqlValue, sql: &mut String| {
        sql.push_str(&format!(" AND {col} = ?"));
        args.push(v);
    };
    if let Some(v) = &f.appid {
        eq("appid", SqlValue::Text(v.clone()), &mut sql);
    }
    if let Some(v) = &f.template_id {
        eq("template_id", SqlValue::Text(v.clone()), &mut sql);
    }
    if let Some(v) = f.job_id {
        eq("job_id", SqlValue::Integer(v), &mut sql);
    }
    if let Some(v) = f.state {
        eq("state", SqlValue::Text(v.as_str().into()), &mut sql);
    }
    if let Some(v) = f.delivery {
        eq("delivery", SqlValue::Text(v.as_str().into()), &mut sql);
    }
    if let Some(v) = &f.openid {
        eq("openid", SqlValue::Text(v.trim().to_string()), &mut sql);
    }
    // Rows are inserted in time order, so a date range is an id range: two index probes turn it
    // into bounds on the rowid, which every other index already ends in.
    if f.from.is_some() || f.to.is_some() {
        let lo: Option<i64> = match f.from {
            Some(from) => conn
                .query_row(
                    "SELECT id FROM send_recipients WHERE created_at >= ? ORDER BY created_at, id LIMIT 1",
                    [from],
                    |r| r.get(0),
                )
                .optional()?
                .or(Some(i64::MAX)),
            None => None,
        };
        let hi: Option<i64> = match f.to {
            Some(to) => conn
                .query_row(
                    "SELECT id FROM send_recipients WHERE created_at < ? ORDER BY created_at DESC, id DESC LIMIT 1",
                    [to],
                    |r| r.get(0),
                )
                .optional()?
                .or(Some(0)),
            None => None,
        };
        if let Some(lo) = lo {
            sql.push_str(" AND id >= ?");
            args.push(SqlValue::Integer(lo));
        }
        if let Some(hi) = hi {
            sql.push_str(" AND id <= ?");
            args.push(SqlValue::Integer(hi));
        }
    }
    Ok((sql, args))
}

/// One page of history, newest first. `before`: the `next_before` of the previous page.
pub fn list(
    conn: &Connection,
    f: &HistoryFilter,
    before: Option<i64>,
    limit: u32,
) -> Result<HistoryPage> {
    let limit = limit.clamp(1, 1000);
    let (mut wh, mut args) = where_clause(conn, f, before)?;
    // Within one job, ids and seqs rise together (rows are inserted in seq order), so a job's
    // page walks the (job_id, seq) unique index instead of scanning the job's rows to sort them.
    // With a state filter the (job_id, state) index already ends in the rowid.
    let order = match (f.job_id, f.state) {
        (Some(_), None) => {
            if let Some(b) = before {
                let seq: Option<i64> = conn
                    .prepare_cached("SELECT seq FROM send_recipients WHERE id = ?")?
                    .query_row([b], |r| r.get(0))
                    .optional()?;
                wh.push_str(" AND seq < ?");
                args.push(SqlValue::Integer(seq.unwrap_or(i64::MIN)));
            }
            "seq DESC"
        }
        _ => "id DESC",
    };
    let sql = format!("SELECT {ROW_COLS} FROM send_recipients{wh} ORDER BY {order} LIMIT ?");
    args.push(SqlValue::Integer(i64::from(limit) + 1));
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt
        .query_map(rusqlite::params_from_iter(args), row_from)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let next_before = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last().map(|r| r.id)
    } else {
        None
    };
    Ok(HistoryPage { rows, next_before })
}

/// The detail drawer: the row, its variables, the request as it was sent (rebuilt from the job's
/// message; the access token travels in the URL and is never part of it) and the last response.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryDetail {
    pub row: HistoryRow,
    pub job_title: String,
    pub vars: serde_json::Value,
    pub client_msg_id: Option<String>,
    /// `None` when the message could not be built (the row was skipped for that reason).
    pub request: Option<ApiRequest>,
    pub response: Option<serde_json::Value>,
}

pub fn detail(conn: &Connection, id: i64) -> Result<Option<HistoryDetail>> {
    let sql = format!("SELECT {ROW_COLS}, vars, response FROM send_recipients WHERE id = ?");
    let found = conn
        .query_row(&sql, [id], |r| {
            Ok((
                row_from(r)?,
                r.get::<_, String>(18)?,
                r.get::<_, Option<String>>(19)?,
            ))
        })
        .optional()?;
    let Some((row, vars_json, response)) = found else {
        return Ok(None);
    };
    let job = crate::send::load_job(conn, row.job_id)?;
    let vars: crate::send::model::Vars = serde_json::from_str(&vars_json).unwrap_or_default();
    let cmid = client_msg_id(job.id, &job.nonce, row.seq);
    let request = build_request(&job.payload, &[], &row.openid, &vars, &cmid).ok();
    Ok(Some(HistoryDetail {
        vars: serde_json::to_value(&vars).unwrap_or_default(),
        client_msg_id: job.kind.is_idempotent().then_some(cmid),
        response: response.and_then(|s| serde_json::from_str(&s).ok()),
        job_title: job.title,
        request,
        row,
    }))
}

/// One day of the overview chart (Beijing time).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DayCounts {
    /// `YYYY-MM-DD`.
    pub day: String,
    pub sent: i64,
    pub failed: i64,
    pub uncertain: i64,
    pub delivered: i64,
    pub user_block: i64,
    pub system_failed: i64,
}

impl DayCounts {
    fn add(&mut self, outcome: &str, n: i64) {
        match outcome {
            "sent" => self.sent += n,
            "failed" => self.failed += n,
            "uncertain" => self.uncertain += n,
            "delivered" => self.delivered += n,
            "user_block" => self.user_block += n,
            "system_failed" => self.system_failed += n,
            _ => {}
        }
    }
}

/// Outcomes per day from `from_day` to `to_day` (inclusive, `YYYY-MM-DD`), only days with any.
pub fn daily_counts(
    conn: &Connection,
    from_day: &str,
    to_day: &str,
    appid: Option<&str>,
) -> Result<Vec<DayCounts>> {
    let mut stmt = conn.prepare_cached(
        "SELECT day, outcome, sum(n) FROM send_daily WHERE day >= ?1 AND day <= ?2 \
         AND (?3 IS NULL OR appid = ?3) GROUP BY day, outcome ORDER BY day",
    )?;
    let rows = stmt
        .query_map(params![from_day, to_day, appid], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut out: Vec<DayCounts> = Vec::new();
    for (day, outcome, n) in rows {
        if out.last().is_none_or(|d| d.day != day) {
            out.push(DayCounts {
                day: day.clone(),
                ..Default::default()
            });
        }
        if let Some(d) = out.last_mut() {
            d.add(&outcome, n);
        }
    }
    Ok(out)
}

/// The last `n` Beijing days, oldest first and ending today (`YYYY-MM-DD`), so a chart can show
/// days without sends as zeros.
pub fn recent_days(conn: &Connection, n: u32) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "WITH RECURSIVE d(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM d WHERE k + 1 < ?1) \
         SELECT date('now', '+8 hours', '-' || k || ' days') FROM d ORDER BY k DESC",
    )?;
    let days = stmt
        .query_map([n.max(1)], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(days)
}

/// Today's (Beijing time) totals.
pub fn today_totals(conn: &Connection, appid: Option<&str>) -> Result<DayCounts> {
    let today: String = conn.query_row(
        &format!("SELECT {}", crate::send::DAY_OF_NOW_SQL),
        [],
        |r| r.get(0),
    )?;
    let mut days = daily_counts(conn, &today, &today, appid)?;
    Ok(days.pop().unwrap_or(DayCounts {
        day: today,
        ..Default::default()
    }))
}

/// Writes every row matching `f` to `path` as CSV (UTF-8 with BOM, so Excel opens it correctly),
/// newest first, page by page so memory stays flat. Returns the number of rows written.
pub fn export_csv(conn: &Connection, f: &HistoryFilter, path: &Path) -> Result<u64> {
    let io =
        |e: std::io::Error| Error::Invalid(format!("无法写入导出文件 {}：{e}", path.display()));
    let file = std::fs::File::create(path).map_err(io)?;
    let mut w = std::io::BufWriter::new(file);
    w.write_all(b"\xEF\xBB\xBF").map_err(io)?;
    let mut csv = csv::Writer::from_writer(w);
    let csv_err =
        |e: csv::Error| Error::Invalid(format!("无法写入导出文件 {}：{e}", path.display()));
    csv.write_record([
        "记录ID",
        "任务ID",
        "序号",
        "账号AppID",
        "类型",
        "模板ID",
        "OpenID",
        "状态",
        "尝试次数",
        "msgid",
        "错误码",
        "错误信息",
        "送达状态",
        "送达原始状态",
        "创建时间",
        "发送时间",
        "完成时间",
    ])
    .map_err(csv_err)?;
    let mut before = None;
    let mut n = 0u64;
    loop {
        let page = list(conn, f, before, 1000)?;
        for r in &page.rows {
            csv.write_record([
                r.id.to_string(),
                r.job_id.to_string(),
                r.seq.to_string(),
                r.appid.clone(),
                r.kind.label_zh().to_string(),
                r.template_id.clone(),
                r.openid.clone(),
                r.state.label_zh().to_string(),
                r.attempts.to_string(),
                r.msgid.map(|m| m.to_string()).unwrap_or_default(),
                r.errcode.map(|m| m.to_string()).unwrap_or_default(),
                r.errmsg.clone().unwrap_or_default(),
                r.delivery
                    .map(|d| d.label_zh().to_string())
                    .unwrap_or_default(),
                r.delivery_raw.clone().unwrap_or_default(),
                beijing_time(r.created_at),
                r.attempted_at.map(beijing_time).unwrap_or_default(),
                r.done_at.map(beijing_time).unwrap_or_default(),
            ])
            .map_err(csv_err)?;
            n += 1;
        }
        match page.next_before {
            Some(b) => before = Some(b),
            None => break,
        }
    }
    csv.flush().map_err(io)?;
    Ok(n)
}

/// `YYYY-MM-DD HH:MM:SS` in Beijing time (UTC+8, no daylight saving).
pub fn beijing_time(unix: i64) -> String {
    let secs = unix + 8 * 3600;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beijing_time_is_utc_plus_eight() {
        assert_eq!(beijing_time(0), "1970-01-01 08:00:00");
        assert_eq!(beijing_time(1_700_000_000), "2023-11-15 06:13:20");
        assert_eq!(beijing_time(951_782_400 - 8 * 3600), "2000-02-29 00:00:00");
    }
}
