//! The statement behind a page of 发送记录 (and the export): filters as equality terms that an
//! index of `send_recipients` matches, a date range turned into bounds on the rowid (or, for one
//! job, on its seq), and the keyset bound of the page.
//!
//! Every history index ends in the rowid, so a filtered page is one index range walked backwards
//! — provided SQLite gets the range's ends. It takes the first upper bound on the rowid it finds as
//! the end and checks any other row by row: with `id < before` (i64::MAX on a first page) ahead of
//! the window's `id <= hi`, the first page of a window walked every matching row newer than the
//! window (56,000 rows, 31–46 ms at 1,000,000 rows; a date-only window 60 days back walked most of
//! the table). So each side gets exactly one bound, the tighter of the keyset's and the window's.

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, params};

use super::{HistoryFilter, HistoryStatus, ROW_COLS};
use crate::error::Result;

/// One page's statement: SQL and its parameters. Public so the history bench and the plan tests
/// run exactly what a page runs.
#[derive(Debug, Clone, PartialEq)]
pub struct PageQuery {
    pub sql: String,
    pub args: Vec<SqlValue>,
}

/// The statement for rows matching `f` older than `before` (the previous page's `next_before`),
/// newest first; `limit` rows at most, `None` for every row (the export).
pub fn page_query(
    conn: &Connection,
    f: &HistoryFilter,
    before: Option<i64>,
    limit: Option<u32>,
) -> Result<PageQuery> {
    statement(conn, f, before, limit, ROW_COLS)
}

/// The export's statement: every matching row, the page's columns and then the variables.
pub(super) fn export_query(conn: &Connection, f: &HistoryFilter) -> Result<PageQuery> {
    statement(conn, f, None, None, &format!("{ROW_COLS}, vars"))
}

fn statement(
    conn: &Connection,
    f: &HistoryFilter,
    before: Option<i64>,
    limit: Option<u32>,
    cols: &str,
) -> Result<PageQuery> {
    let mut terms: Vec<&str> = Vec::new();
    let mut args: Vec<SqlValue> = Vec::new();
    let mut term = |t: &'static str, v: SqlValue| {
        terms.push(t);
        args.push(v);
    };
    if let Some(v) = &f.appid {
        term("appid = ?", SqlValue::Text(v.clone()));
    }
    if let Some(v) = &f.template_id {
        term("template_id = ?", SqlValue::Text(v.clone()));
    }
    if let Some(v) = f.job_id {
        term("job_id = ?", SqlValue::Integer(v));
    }
    let (state, delivery) = f.status.map_or((None, None), HistoryStatus::split);
    if let Some(v) = state {
        term("state = ?", SqlValue::Text(v.as_str().into()));
    }
    if let Some(v) = delivery {
        term("delivery = ?", SqlValue::Text(v.as_str().into()));
    }
    if let Some(v) = &f.openid {
        term("openid = ?", SqlValue::Text(v.trim().to_string()));
    }
    let (lo, hi) = window_ids(conn, f)?;
    // Within one job, ids and seqs rise together (rows are inserted in seq order), so a job's
    // page walks the (job_id, seq) unique index instead of scanning the job's rows to sort them;
    // its keyset and window bounds become seq bounds, again one per side. With a state filter
    // the (job_id, state) index already ends in the rowid.
    let by_seq = f.job_id.is_some() && state.is_none();
    // The id bounds stay, so a page never holds a row outside them; for a job walked by seq they
    // are written `+id`, which keeps SQLite from driving the page by the rowid range instead (with
    // statistics it did, sorting the whole window's rows to find a page).
    let (ge, le) = if by_seq {
        ("+id >= ?", "+id <= ?")
    } else {
        ("id >= ?", "id <= ?")
    };
    if let Some(lo) = lo {
        term(ge, SqlValue::Integer(lo));
    }
    // One upper bound on the rowid (see the module comment). Always present, as it always was,
    // so a page without a window keeps the plans it had.
    let upper = [before.map(|b| b.saturating_sub(1)), hi]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(i64::MAX);
    term(le, SqlValue::Integer(upper));
    let order = match (f.job_id, by_seq) {
        (Some(job), true) => {
            let mut below: Option<i64> = None;
            if let Some(b) = before {
                let seq: Option<i64> = conn
                    .prepare_cached("SELECT seq FROM send_recipients WHERE id = ?")?
                    .query_row([b], |r| r.get(0))
                    .optional()?;
                below = Some(seq.unwrap_or(i64::MIN));
            }
            if let Some(hi) = hi
                && let Some(cut) = job_seq_cut(conn, job, hi)?
            {
                let cut = cut.saturating_add(1);
                below = Some(below.map_or(cut, |b| b.min(cut)));
            }
            if let Some(lo) = lo
                && let Some(cut) = job_seq_cut(conn, job, lo.saturating_sub(1))?
            {
                term("seq > ?", SqlValue::Integer(cut));
            }
            if let Some(b) = below {
                term("seq < ?", SqlValue::Integer(b));
            }
            "seq DESC"
        }
        _ => "id DESC",
    };
    let mut sql = format!(
        "SELECT {cols} FROM send_recipients WHERE {} ORDER BY {order}",
        terms.join(" AND ")
    );
    if let Some(n) = limit {
        sql.push_str(" LIMIT ?");
        args.push(SqlValue::Integer(i64::from(n)));
    }
    Ok(PageQuery { sql, args })
}

/// A date range as rowid bounds (inclusive): rows are inserted in time order, so the window is
/// an id range, found by two probes of the `created_at` index. `(None, None)` without a range;
/// a side with no row in it gets a bound no id passes.
fn window_ids(conn: &Connection, f: &HistoryFilter) -> Result<(Option<i64>, Option<i64>)> {
    let lo = match f.from {
        Some(from) => Some(
            conn.prepare_cached(
                "SELECT id FROM send_recipients WHERE created_at >= ? ORDER BY created_at, id LIMIT 1",
            )?
            .query_row([from], |r| r.get(0))
            .optional()?
            .unwrap_or(i64::MAX),
        ),
        None => None,
    };
    let hi = match f.to {
        Some(to) => Some(
            conn.prepare_cached(
                "SELECT id FROM send_recipients WHERE created_at < ? \
                 ORDER BY created_at DESC, id DESC LIMIT 1",
            )?
            .query_row([to], |r| r.get(0))
            .optional()?
            .unwrap_or(0),
        ),
        None => None,
    };
    Ok((lo, hi))
}

/// The greatest seq `x` such that every row of `job` with seq ≤ x has an id ≤ `id` (one below
/// the job's first seq when none has); `None` for a job without rows. Ids rise with seq within a
/// job, so this turns an id bound into a seq bound. Bisection over the (job_id, seq) index: about
/// 2·log2(rows) probes, where walking the job's rows down to the bound could take a million.
fn job_seq_cut(conn: &Connection, job: i64, id: i64) -> Result<Option<i64>> {
    let end = |sql: &str| -> Result<Option<(i64, i64)>> {
        Ok(conn
            .prepare_cached(sql)?
            .query_row([job], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    };
    let first = end("SELECT seq, id FROM send_recipients WHERE job_id = ? ORDER BY seq LIMIT 1")?;
    let last =
        end("SELECT seq, id FROM send_recipients WHERE job_id = ? ORDER BY seq DESC LIMIT 1")?;
    let (Some((mut lo, lo_id)), Some((mut hi, hi_id))) = (first, last) else {
        return Ok(None);
    };
    if lo_id > id {
        return Ok(Some(lo.saturating_sub(1)));
    }
    if hi_id <= id {
        return Ok(Some(hi));
    }
    // Invariant: the last row at or below seq `lo` has an id ≤ `id`, the one at or below `hi` not.
    let mut at = conn.prepare_cached(
        "SELECT id FROM send_recipients WHERE job_id = ?1 AND seq <= ?2 ORDER BY seq DESC LIMIT 1",
    )?;
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        let got: Option<i64> = at.query_row(params![job, mid], |r| r.get(0)).optional()?;
        if got.is_some_and(|g| g <= id) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(Some(lo))
}
