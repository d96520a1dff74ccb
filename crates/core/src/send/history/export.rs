//! 发送记录's CSV export: every matching row streamed to a file (UTF-8 with BOM, so Excel opens
//! it), each time as ISO 8601 in Beijing time with its offset and the zone named in the header,
//! and after the columns the CLI has always written: the delivery time, the job's name, the
//! template's title and the recipient's variables.
//!
//! The columns before 任务名称 keep their order and meaning (scripts read them by name, see
//! docs/cli.md's ERP example); new columns go at the end.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

use rusqlite::{Connection, OptionalExtension};

use super::{HistoryFilter, HistoryRow, query, row_from};
use crate::error::{Error, Lang, Result};

/// The zone every time column is written in, as its headers name it. One zone for every reader
/// of the file, whatever the exporting machine's zone: WeChat's day (quota, 送达) is Beijing's.
pub const EXPORT_ZONE_ZH: &str = "北京时间 UTC+8";

/// A history row with what only the export shows.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportRow {
    pub row: HistoryRow,
    /// The job's name as the Chinese faces show it (测试：X, 客服消息：X).
    pub job_title: String,
    /// The template's title as WeChat lists it; empty for messages without a template, or when
    /// the template was deleted since.
    pub template_title: String,
    /// The recipient's variables as a JSON object (`{"姓名":"张三"}`), empty when it has none.
    pub vars: String,
}

impl From<HistoryRow> for ExportRow {
    fn from(row: HistoryRow) -> ExportRow {
        ExportRow {
            row,
            job_title: String::new(),
            template_title: String::new(),
            vars: String::new(),
        }
    }
}

/// `2026-12-04T16:37:00+08:00`: Beijing time with its offset, so no reader takes it for local
/// or UTC time.
pub fn beijing_iso(unix: i64) -> String {
    let mut s = String::with_capacity(25);
    write_beijing_iso(&mut s, unix);
    s
}

/// [`beijing_iso`] appended to `out`, without allocating.
fn write_beijing_iso(out: &mut String, unix: i64) {
    let secs = unix + 8 * 3600;
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = super::civil_from_days(secs.div_euclid(86_400));
    let _ = write!(
        out,
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}+08:00",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    );
}

/// Writes every row matching `f` to `path` as CSV (UTF-8 with BOM, so Excel opens it correctly),
/// newest first. Returns the number of rows written. (Public for the history bench; faces use
/// [`super::History::export_csv`].)
pub fn export_csv(conn: &Connection, f: &HistoryFilter, path: &Path) -> Result<u64> {
    let f = f.clone().tidy();
    // The page's statement without a limit, streamed row by row (memory stays flat): pages of
    // 1,000 each re-ran the window probes and looked up their jobs for links the CSV has no
    // column for. The variables ride along as one more column.
    let q = query::export_query(conn, &f)?;
    let mut stmt = conn.prepare(&q.sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(q.args.iter()), |r| {
        Ok((row_from(r)?, r.get::<_, String>(super::ROW_COL_COUNT)?))
    })?;
    // Titles per job: an export spans a few jobs, read once each.
    let mut titles: HashMap<i64, (String, String)> = HashMap::new();
    let rows = rows.map(|r| {
        let (row, vars) = r.map_err(Error::from)?;
        let (job_title, template_title) = match titles.get(&row.job_id) {
            Some(t) => t.clone(),
            None => {
                let t = job_titles(conn, row.job_id)?;
                titles.insert(row.job_id, t.clone());
                t
            }
        };
        Ok(ExportRow {
            row,
            job_title,
            template_title,
            vars: vars_cell(&vars),
        })
    });
    write_csv(rows, path)
}

/// The job's name and its template's title (from the synced templates, message or
/// subscription); empty strings for what is not there.
fn job_titles(conn: &Connection, job_id: i64) -> Result<(String, String)> {
    let job: Option<(String, String, String, String)> = conn
        .prepare_cached("SELECT title, purpose, appid, template_id FROM send_jobs WHERE id = ?")?
        .query_row([job_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    let Some((title, purpose, appid, template_id)) = job else {
        return Ok(Default::default());
    };
    let purpose = super::super::model::JobPurpose::parse(&purpose)
        .unwrap_or(super::super::model::JobPurpose::Plain);
    let template_title: Option<String> = if template_id.is_empty() {
        None
    } else {
        conn.prepare_cached(
            "SELECT title FROM templates WHERE appid = ?1 AND template_id = ?2 \
             UNION ALL SELECT title FROM subscribe_templates WHERE appid = ?1 AND template_id = ?2 \
             LIMIT 1",
        )?
        .query_row([&appid, &template_id], |r| r.get(0))
        .optional()?
    };
    Ok((purpose.title_zh(&title), template_title.unwrap_or_default()))
}

/// A stored variables object as the cell shows it: compact JSON with the Chinese as written,
/// nothing for `{}`.
fn vars_cell(stored: &str) -> String {
    match stored.trim() {
        "" | "{}" => String::new(),
        // What the desk's engine stored is already compact JSON of the map (serde, keys
        // sorted): written as it is, not parsed and serialized again for each of a million
        // rows. A team server's rows come from PostgreSQL's jsonb, spaced and in its own key
        // order (`{"订单号": "SO-1", …}`): those, and anything else with `": "`, are rewritten.
        s if !s.contains("\": ") => s.to_string(),
        s => match serde_json::from_str::<super::super::model::Vars>(s) {
            Ok(v) if v.is_empty() => String::new(),
            Ok(v) => serde_json::to_string(&v).unwrap_or_default(),
            Err(_) => s.to_string(),
        },
    }
}

/// The header: the zone named in every time column.
fn header() -> Vec<String> {
    let timed = |what: &str| format!("{what}（{EXPORT_ZONE_ZH}）");
    let mut h: Vec<String> = [
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
    ]
    .map(String::from)
    .to_vec();
    h.extend(["创建时间", "发送时间", "完成时间"].map(timed));
    // Added after the columns the CLI has always written.
    h.push(timed("送达时间"));
    h.extend(["任务名称", "模板标题", "变量（JSON）"].map(String::from));
    h
}

/// Writes `rows` to `path` as the export's CSV; returns how many. (Public so the history bench
/// can feed it the paged reads the export used before; plain [`HistoryRow`]s get empty titles
/// and variables.)
pub fn write_csv<R: Into<ExportRow>>(
    rows: impl Iterator<Item = Result<R>>,
    path: &Path,
) -> Result<u64> {
    let io = |e: std::io::Error| {
        Error::input(
            format!("无法写入导出文件 {}：{e}", path.display()),
            format!("Cannot write the export file {}: {e}", path.display()),
        )
    };
    let file = std::fs::File::create(path).map_err(io)?;
    let mut w = std::io::BufWriter::new(file);
    w.write_all(b"\xEF\xBB\xBF").map_err(io)?;
    let mut csv = csv::Writer::from_writer(w);
    let csv_err = |e: csv::Error| {
        Error::input(
            format!("无法写入导出文件 {}：{e}", path.display()),
            format!("Cannot write the export file {}: {e}", path.display()),
        )
    };
    csv.write_record(header()).map_err(csv_err)?;
    let mut n = 0u64;
    // Each field is written from a borrowed string or formatted into one reused buffer: a
    // million rows of 21 owned Strings each was most of an export's time.
    let mut buf = String::with_capacity(32);
    for r in rows {
        let e: ExportRow = r?.into();
        let r = &e.row;
        let mut num = |csv: &mut csv::Writer<_>, v: Option<i64>| {
            buf.clear();
            if let Some(v) = v {
                let _ = write!(buf, "{v}");
            }
            csv.write_field(&buf)
        };
        num(&mut csv, Some(r.id)).map_err(csv_err)?;
        num(&mut csv, Some(r.job_id)).map_err(csv_err)?;
        num(&mut csv, Some(r.seq)).map_err(csv_err)?;
        csv.write_field(&r.appid).map_err(csv_err)?;
        csv.write_field(r.kind.label_zh()).map_err(csv_err)?;
        csv.write_field(&r.template_id).map_err(csv_err)?;
        csv.write_field(&r.openid).map_err(csv_err)?;
        csv.write_field(r.state.label_zh()).map_err(csv_err)?;
        num(&mut csv, Some(i64::from(r.attempts))).map_err(csv_err)?;
        num(&mut csv, r.msgid).map_err(csv_err)?;
        num(&mut csv, r.errcode).map_err(csv_err)?;
        csv.write_field(r.error_text(Lang::Zh).unwrap_or_default())
            .map_err(csv_err)?;
        csv.write_field(r.delivery.map(|d| d.label_zh()).unwrap_or_default())
            .map_err(csv_err)?;
        csv.write_field(r.delivery_raw.as_deref().unwrap_or_default())
            .map_err(csv_err)?;
        for t in [
            Some(r.created_at),
            r.attempted_at,
            r.done_at,
            r.delivered_at,
        ] {
            buf.clear();
            if let Some(t) = t {
                write_beijing_iso(&mut buf, t);
            }
            csv.write_field(&buf).map_err(csv_err)?;
        }
        csv.write_field(&e.job_title).map_err(csv_err)?;
        csv.write_field(&e.template_title).map_err(csv_err)?;
        csv.write_field(&e.vars).map_err(csv_err)?;
        csv.write_record(None::<&[u8]>).map_err(csv_err)?;
        n += 1;
    }
    csv.flush().map_err(io)?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_times_are_iso_8601_with_the_beijing_offset() {
        assert_eq!(beijing_iso(0), "1970-01-01T08:00:00+08:00");
        assert_eq!(beijing_iso(1_796_373_420), "2026-12-04T16:37:00+08:00");
    }

    #[test]
    fn every_time_header_names_the_zone_and_new_columns_come_last() {
        let h = header();
        let legacy = [
            "记录ID",
            "任务ID",
            "序号",
            "账号AppID",
            "类型",
            "模板ID",
            "OpenID",
            "状态",
        ];
        assert_eq!(
            &h[..legacy.len()],
            legacy,
            "the CLI's columns keep their places"
        );
        for t in h.iter().filter(|c| c.contains("时间")) {
            assert!(t.ends_with("（北京时间 UTC+8）"), "{t}");
        }
        assert_eq!(h.len(), 21);
        assert_eq!(&h[18..], ["任务名称", "模板标题", "变量（JSON）"]);
    }

    #[test]
    fn variables_are_compact_json_and_none_is_an_empty_cell() {
        assert_eq!(vars_cell("{}"), "");
        assert_eq!(
            vars_cell(r#"{"订单号": "SO-1", "姓名": "张三"}"#),
            r#"{"姓名":"张三","订单号":"SO-1"}"#
        );
        // The desk's own rows are written as stored; a value with `": "` in it takes the slow
        // path and comes out the same.
        let stored = serde_json::to_string(&super::super::super::model::Vars::from([
            ("备注".to_string(), "注意: 加急".to_string()),
            ("姓名".to_string(), "张三".to_string()),
        ]))
        .unwrap();
        assert_eq!(vars_cell(&stored), stored);
        assert_eq!(vars_cell(r#"{"姓名":"张三"}"#), r#"{"姓名":"张三"}"#);
        assert_eq!(vars_cell(" {} "), "");
    }
}
