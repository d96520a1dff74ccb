//! 发送记录 (send history): every recipient row of every job, newest first, with filters, openid
//! search, keyset pagination (never OFFSET: page 1,000 costs what page 1 costs), a detail view with
//! the request rebuilt and the last response, per-day counts for the overview chart (every day of
//! the range, zeros included), today's totals, and CSV export streamed to a file. The faces reach
//! it as `ctx.history` ([`History`]).

use std::path::PathBuf;

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::model::{Delivery, JobKind, RecipientState, client_msg_id};
use super::reason::{Explanation, RowNote};
use super::render::build_request;
use crate::error::{Error, Lang, Result};
use crate::store::Store;

mod export;
mod query;
pub use export::{EXPORT_ZONE_ZH, ExportRow, beijing_iso, export_csv, write_csv};
pub use query::{PageQuery, page_query};

/// The status filter of the history: a recipient state, or a delivery report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum HistoryStatus {
    Pending,
    InFlight,
    Sent,
    FailedRetryable,
    FailedPermanent,
    Uncertain,
    Skipped,
    Cancelled,
    Delivered,
    UserBlock,
    SystemFailed,
    DeliveryPending,
    DeliveryUnknown,
}

impl HistoryStatus {
    pub const ALL: &'static [HistoryStatus] = &[
        HistoryStatus::Pending,
        HistoryStatus::InFlight,
        HistoryStatus::Sent,
        HistoryStatus::FailedRetryable,
        HistoryStatus::FailedPermanent,
        HistoryStatus::Uncertain,
        HistoryStatus::Skipped,
        HistoryStatus::Cancelled,
        HistoryStatus::Delivered,
        HistoryStatus::UserBlock,
        HistoryStatus::SystemFailed,
        HistoryStatus::DeliveryPending,
        HistoryStatus::DeliveryUnknown,
    ];

    /// The spelling of the filter (`sent`, `user_block`, `delivery_pending`…).
    pub fn as_str(self) -> &'static str {
        match self {
            HistoryStatus::Pending => "pending",
            HistoryStatus::InFlight => "in_flight",
            HistoryStatus::Sent => "sent",
            HistoryStatus::FailedRetryable => "failed_retryable",
            HistoryStatus::FailedPermanent => "failed_permanent",
            HistoryStatus::Uncertain => "uncertain",
            HistoryStatus::Skipped => "skipped",
            HistoryStatus::Cancelled => "cancelled",
            HistoryStatus::Delivered => "delivered",
            HistoryStatus::UserBlock => "user_block",
            HistoryStatus::SystemFailed => "system_failed",
            HistoryStatus::DeliveryPending => "delivery_pending",
            HistoryStatus::DeliveryUnknown => "delivery_unknown",
        }
    }

    pub fn parse(s: &str) -> Option<HistoryStatus> {
        HistoryStatus::ALL.iter().copied().find(|h| h.as_str() == s)
    }

    /// The row state or the delivery report this filter selects.
    fn split(self) -> (Option<RecipientState>, Option<Delivery>) {
        use HistoryStatus as H;
        use RecipientState as R;
        match self {
            H::Pending => (Some(R::Pending), None),
            H::InFlight => (Some(R::InFlight), None),
            H::Sent => (Some(R::Sent), None),
            H::FailedRetryable => (Some(R::FailedRetryable), None),
            H::FailedPermanent => (Some(R::FailedPermanent), None),
            H::Uncertain => (Some(R::Uncertain), None),
            H::Skipped => (Some(R::Skipped), None),
            H::Cancelled => (Some(R::Cancelled), None),
            H::Delivered => (None, Some(Delivery::Delivered)),
            H::UserBlock => (None, Some(Delivery::UserBlock)),
            H::SystemFailed => (None, Some(Delivery::SystemFailed)),
            H::DeliveryPending => (None, Some(Delivery::Pending)),
            H::DeliveryUnknown => (None, Some(Delivery::Unknown)),
        }
    }
}

/// Filters of the history list; all optional, combined with AND. Blank strings filter nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct HistoryFilter {
    pub appid: Option<String>,
    pub template_id: Option<String>,
    #[cfg_attr(feature = "specta", specta(type = Option<specta_typescript::Number>))]
    pub job_id: Option<i64>,
    pub status: Option<HistoryStatus>,
    /// Unix seconds, inclusive: rows created (queued) at or after.
    #[cfg_attr(feature = "specta", specta(type = Option<specta_typescript::Number>))]
    pub from: Option<i64>,
    /// Unix seconds, exclusive.
    #[cfg_attr(feature = "specta", specta(type = Option<specta_typescript::Number>))]
    pub to: Option<i64>,
    /// Exact openid.
    pub openid: Option<String>,
}

impl HistoryFilter {
    /// Blank text filters dropped, the rest trimmed.
    fn tidy(mut self) -> HistoryFilter {
        let tidy = |s: Option<String>| s.map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        self.appid = tidy(self.appid);
        self.template_id = tidy(self.template_id);
        self.openid = tidy(self.openid);
        self
    }
}

/// A WeChat msgid as text: it can exceed 2^53, which JavaScript numbers cannot hold.
fn msgid_as_text<S: serde::Serializer>(
    v: &Option<i64>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    match v {
        Some(m) => s.serialize_some(&m.to_string()),
        None => s.serialize_none(),
    }
}

/// One history row.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct HistoryRow {
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub id: i64,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub job_id: i64,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub seq: i64,
    pub appid: String,
    pub kind: JobKind,
    pub template_id: String,
    pub openid: String,
    pub state: RecipientState,
    pub attempts: u32,
    /// WeChat's msgid, as text (it can exceed 2^53).
    #[serde(serialize_with = "msgid_as_text")]
    #[cfg_attr(feature = "specta", specta(type = Option<String>))]
    pub msgid: Option<i64>,
    #[cfg_attr(feature = "specta", specta(type = Option<specta_typescript::Number>))]
    pub errcode: Option<i64>,
    /// WeChat's own errmsg as it came (or text stored before notes were codes).
    pub errmsg: Option<String>,
    /// Why wxdesk skipped the row, or failed or doubts it without a WeChat answer.
    pub note: Option<RowNote>,
    pub delivery: Option<Delivery>,
    pub delivery_raw: Option<String>,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub created_at: i64,
    #[cfg_attr(feature = "specta", specta(type = Option<specta_typescript::Number>))]
    pub attempted_at: Option<i64>,
    #[cfg_attr(feature = "specta", specta(type = Option<specta_typescript::Number>))]
    pub done_at: Option<i64>,
    #[cfg_attr(feature = "specta", specta(type = Option<specta_typescript::Number>))]
    pub delivered_at: Option<i64>,
    /// What the errcode means and what to do, e.g. 45015 outside the 48-hour
    /// customer-service window.
    pub explanation: Option<Explanation>,
    /// Where tapping the message goes (web page, mini program), from the job's message.
    pub jump: Option<super::model::MessageJump>,
}

impl HistoryRow {
    /// The row's error as text: WeChat's errmsg, or wxdesk's note in `lang`.
    pub fn error_text(&self, lang: Lang) -> Option<String> {
        self.note
            .as_ref()
            .map(|n| n.message(lang))
            .or_else(|| self.errmsg.clone())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct HistoryPage {
    pub rows: Vec<HistoryRow>,
    /// Pass as `before` for the next (older) page; `None` on the last page.
    #[cfg_attr(feature = "specta", specta(type = Option<specta_typescript::Number>))]
    pub next_before: Option<i64>,
}

const ROW_COLS: &str = "id, job_id, seq, appid, kind, template_id, openid, state, attempts, msgid, \
    errcode, errmsg, delivery, delivery_raw, created_at, attempted_at, done_at, delivered_at";
/// How many columns [`ROW_COLS`] names: the index of a column selected after them.
const ROW_COL_COUNT: usize = 18;

fn row_from(r: &rusqlite::Row<'_>) -> rusqlite::Result<HistoryRow> {
    let errcode: Option<i64> = r.get(10)?;
    let (note, errmsg) = RowNote::split_stored(r.get(11)?);
    Ok(HistoryRow {
        explanation: errcode.and_then(Explanation::of),
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
        errmsg,
        note,
        delivery: r.get(12)?,
        delivery_raw: r.get(13)?,
        created_at: r.get(14)?,
        attempted_at: r.get(15)?,
        done_at: r.get(16)?,
        delivered_at: r.get(17)?,
        jump: None,
    })
}

/// Fills each row's jump from its job's message: one read per distinct job of the page (a page
/// holds a few jobs at most).
fn fill_jumps(conn: &Connection, rows: &mut [HistoryRow]) -> Result<()> {
    let mut jumps: std::collections::HashMap<i64, Option<super::model::MessageJump>> =
        std::collections::HashMap::new();
    for row in rows.iter_mut() {
        if let std::collections::hash_map::Entry::Vacant(e) = jumps.entry(row.job_id) {
            let payload: Option<String> = conn
                .prepare_cached("SELECT payload FROM send_jobs WHERE id = ?")?
                .query_row([row.job_id], |r| r.get(0))
                .optional()?;
            e.insert(
                payload
                    .and_then(|p| serde_json::from_str::<super::model::Payload>(&p).ok())
                    .and_then(|p| p.jump()),
            );
        }
        row.jump = jumps.get(&row.job_id).cloned().flatten();
    }
    Ok(())
}

/// One page of history, newest first. `before`: the `next_before` of the previous page. (Public
/// for the history bench, which times the query itself; faces use [`History::list`].)
pub fn list(
    conn: &Connection,
    f: &HistoryFilter,
    before: Option<i64>,
    limit: u32,
) -> Result<HistoryPage> {
    let limit = limit.clamp(1, 1000);
    // One row more than the page: its presence says an older page exists.
    let q = page_query(conn, f, before, Some(limit + 1))?;
    run_page(conn, &q, limit)
}

/// Runs a page's statement (built for `limit` + 1 rows) into a page of at most `limit` rows.
/// (Public so the history bench can time an older statement through the same decoding.)
pub fn run_page(conn: &Connection, q: &PageQuery, limit: u32) -> Result<HistoryPage> {
    let mut stmt = conn.prepare_cached(&q.sql)?;
    let mut rows = stmt
        .query_map(rusqlite::params_from_iter(q.args.iter()), row_from)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let next_before = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last().map(|r| r.id)
    } else {
        None
    };
    fill_jumps(conn, &mut rows)?;
    Ok(HistoryPage { rows, next_before })
}

/// The detail drawer: the row, its variables, the request as it was sent (rebuilt from the job's
/// message; the access token travels in the URL and is never part of it) and the last response.
/// JSON travels as pretty-printed text.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct HistoryDetail {
    pub row: HistoryRow,
    pub job_title: String,
    pub job_purpose: super::model::JobPurpose,
    pub vars: String,
    pub client_msg_id: Option<String>,
    /// `POST /cgi-bin/…?access_token=***` — the token is never stored or shown; `None` when the
    /// message could not be built (the row was skipped for that reason).
    pub request_line: Option<String>,
    pub request_body: Option<String>,
    pub response: Option<String>,
}

fn pretty(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

pub(crate) fn detail(conn: &Connection, id: i64) -> Result<Option<HistoryDetail>> {
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
    let Some((mut row, vars_json, response)) = found else {
        return Ok(None);
    };
    let job = super::db::load_job(conn, row.job_id)?;
    row.jump = job.payload.jump();
    let vars: super::model::Vars = serde_json::from_str(&vars_json).unwrap_or_default();
    let cmid = client_msg_id(job.id, &job.nonce, row.seq);
    let request = build_request(&job.payload, &[], &row.openid, &vars, &cmid).ok();
    let response: Option<serde_json::Value> = response.and_then(|s| serde_json::from_str(&s).ok());
    Ok(Some(HistoryDetail {
        vars: pretty(&serde_json::to_value(&vars).unwrap_or_default()),
        client_msg_id: job.kind.is_idempotent().then_some(cmid),
        response: response.as_ref().map(pretty),
        job_title: job.title,
        job_purpose: job.purpose,
        request_line: request
            .as_ref()
            .map(|r| format!("POST /{}?access_token=***", r.path.trim_start_matches('/'))),
        request_body: request.as_ref().map(|r| pretty(&r.body)),
        row,
    }))
}

/// One day of the overview chart (Beijing time).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DayCounts {
    /// `YYYY-MM-DD`, Beijing time.
    pub day: String,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub sent: i64,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub failed: i64,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub uncertain: i64,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub delivered: i64,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub user_block: i64,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub system_failed: i64,
}

/// The 概览 chart's data and today's cards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct OverviewStats {
    /// Every day of the range, oldest first (days without sends are zeros).
    pub days: Vec<DayCounts>,
    pub today: DayCounts,
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
pub(crate) fn daily_counts(
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
pub(crate) fn recent_days(conn: &Connection, n: u32) -> Result<Vec<String>> {
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
pub(crate) fn today_totals(conn: &Connection, appid: Option<&str>) -> Result<DayCounts> {
    let today: String = conn.query_row(&format!("SELECT {}", super::DAY_OF_NOW_SQL), [], |r| {
        r.get(0)
    })?;
    let mut days = daily_counts(conn, &today, &today, appid)?;
    Ok(days.pop().unwrap_or(DayCounts {
        day: today,
        ..Default::default()
    }))
}

/// Every day of the last `days` (oldest first, ending today), the days without sends as zeros,
/// and today's totals; of one account or all.
pub(crate) fn overview(conn: &Connection, days: u32, appid: Option<&str>) -> Result<OverviewStats> {
    let all = recent_days(conn, days)?;
    let (Some(first), Some(last)) = (all.first(), all.last()) else {
        return Err(Error::input("日期范围无效", "The date range is not valid"));
    };
    let have = daily_counts(conn, first, last, appid)?;
    let days = all
        .iter()
        .map(|day| {
            have.iter()
                .find(|d| &d.day == day)
                .cloned()
                .unwrap_or(DayCounts {
                    day: day.clone(),
                    ..Default::default()
                })
        })
        .collect();
    Ok(OverviewStats {
        days,
        today: today_totals(conn, appid)?,
    })
}

/// Rows per page when the caller asks for none.
pub const DEFAULT_PAGE: u32 = 100;

/// 发送记录 and 概览 (`ctx.history`): a handle on the store.
#[derive(Clone, Debug)]
pub struct History {
    store: Store,
    /// A team workspace's platform: the rows are the team server's (`team_history`).
    team: Option<crate::platform::Platform>,
}

impl History {
    pub fn new(store: Store) -> History {
        History { store, team: None }
    }

    /// 发送记录 of a team workspace, read from its team server.
    #[must_use]
    pub fn in_team(mut self, platform: crate::platform::Platform) -> History {
        self.team = Some(platform);
        self
    }

    async fn team_relay(&self) -> Result<Option<crate::relay::RelayClient>> {
        match &self.team {
            Some(p) => Ok(Some(p.relay().await?)),
            None => Ok(None),
        }
    }

    /// One page of rows, newest first; `limit` 1–1000 (default 100) after `before`.
    pub async fn list(
        &self,
        filter: HistoryFilter,
        before: Option<i64>,
        limit: Option<u32>,
    ) -> Result<HistoryPage> {
        let f = filter.tidy();
        let limit = limit.unwrap_or(DEFAULT_PAGE);
        if let Some(relay) = self.team_relay().await? {
            return super::team_history::list(&relay, &f, before, limit).await;
        }
        self.store.call(move |c| list(c, &f, before, limit)).await
    }

    /// The detail drawer of one row; `None` when there is no such row.
    pub async fn detail(&self, id: i64) -> Result<Option<HistoryDetail>> {
        if let Some(relay) = self.team_relay().await? {
            return super::team_history::detail(&relay, id).await;
        }
        self.store.call(move |c| detail(c, id)).await
    }

    /// Every row matching `filter` to `path` as CSV; returns the rows written.
    pub async fn export_csv(&self, filter: HistoryFilter, path: PathBuf) -> Result<u64> {
        if let Some(relay) = self.team_relay().await? {
            return super::team_history::export_csv(&relay, &filter.tidy(), &path).await;
        }
        self.store
            .call(move |c| export_csv(c, &filter, &path))
            .await
    }

    /// The last `days` days (1–90) of outcomes with the days without sends as zeros, and
    /// today's totals.
    pub async fn overview(&self, days: u32, appid: Option<String>) -> Result<OverviewStats> {
        let days = days.clamp(1, 90);
        if let Some(relay) = self.team_relay().await? {
            let all = self.store.call(move |c| recent_days(c, days)).await?;
            let days = super::team_history::days(&relay, &all, appid.as_deref()).await?;
            let today = days.last().cloned().unwrap_or_default();
            return Ok(OverviewStats { days, today });
        }
        self.store
            .call(move |c| overview(c, days, appid.as_deref()))
            .await
    }

    /// Today's (Beijing) totals, of one account or all.
    pub async fn today(&self, appid: Option<String>) -> Result<DayCounts> {
        if self.team.is_some() {
            return Ok(self.overview(1, appid).await?.today);
        }
        self.store
            .call(move |c| today_totals(c, appid.as_deref()))
            .await
    }

    /// The row of a one-recipient job (a test send), once it is recorded.
    pub(crate) async fn only_row(&self, job_id: i64) -> Result<Option<HistoryRow>> {
        let f = HistoryFilter {
            job_id: Some(job_id),
            ..Default::default()
        };
        Ok(self.list(f, None, Some(1)).await?.rows.into_iter().next())
    }
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
pub(super) fn civil_from_days(z: i64) -> (i64, u32, u32) {
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
