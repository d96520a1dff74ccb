//! ext.json per client (protocol L.5): the operator's base ext.json, and a table (CSV/XLSX,
//! read by audience's table reader: UTF-8 or GBK, comma/tab/semicolon, first XLSX sheet) with an
//! `appid` column whose other columns become values of each client's ext.json — a plain column
//! name is a key of `ext` (what `wx.getExtConfigSync()` returns), a name starting with `/` is a
//! path from the top level (`/window/navigationBarTitleText`). `extAppid` is always the row's
//! appid. Values are strings.

use serde::Serialize;
use serde_json::{Map, Value};

use super::CodeError;
use super::error::Problem;
use crate::audience::ImportSource;
use crate::audience::import::header_key;
use crate::audience::table::{self, Table};
use crate::error::Result;

/// Header names taken as the appid column (compared like the openid import's).
const APPID_HEADERS: &[&str] = &[
    "appid",
    "小程序appid",
    "authorizerappid",
    "miniappid",
    "miniprogramappid",
];

/// Problems listed in an error (the count is always exact).
const LISTED: usize = 10;

/// Parses ext.json text into its object; any other JSON is refused.
pub fn parse_object(text: &str) -> Result<Map<String, Value>> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(CodeError::ExtJsonNotObject.into()),
        Err(e) => Err(CodeError::ExtJson {
            line: e.line(),
            column: e.column(),
        }
        .into()),
    }
}

/// An appid as WeChat issues them: `wx` and 16 letters or digits.
pub fn is_appid_shape(s: &str) -> bool {
    s.len() == 18 && s.starts_with("wx") && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// One client of a rollout: its appid, line in the table, and the ext.json to commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PlannedRow {
    pub appid: String,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub line: i64,
    pub ext_json: String,
}

/// Sets `value` at a `/a/b` path, making objects on the way (and replacing non-objects).
fn set_path(root: &mut Map<String, Value>, path: &str, value: Value) {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let Some((last, dirs)) = parts.split_last() else {
        return;
    };
    let mut cur = root;
    for d in dirs {
        let slot = cur
            .entry((*d).to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        let Value::Object(next) = slot else {
            return;
        };
        cur = next;
    }
    cur.insert((*last).to_string(), value);
}

/// The ext.json of one client: the base, its columns, and `extAppid`.
pub fn client_ext(base: &Map<String, Value>, appid: &str, columns: &[(String, String)]) -> String {
    let mut ext = base.clone();
    for (name, value) in columns {
        let v = Value::String(value.clone());
        if name.starts_with('/') {
            set_path(&mut ext, name, v);
        } else {
            let slot = ext
                .entry("ext".to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            if let Value::Object(m) = slot {
                m.insert(name.clone(), v);
            }
        }
    }
    ext.insert("extAppid".into(), Value::String(appid.to_string()));
    Value::Object(ext).to_string()
}

/// Reads the client table off the async runtime's threads' concerns (call it in
/// `spawn_blocking`).
pub fn read_table(source: &ImportSource) -> Result<Table> {
    match source {
        ImportSource::File(p) => table::read_path(p),
        ImportSource::Bytes(b) => table::read_bytes(b),
        ImportSource::Pasted(t) => table::read_pasted(t),
    }
}

/// The clients of a table: the appid column is found by its header (a header row is
/// required: the column names are ext.json keys). Problems (bad or repeated appids, empty or
/// repeated column names) are collected with their lines; `known` says whether an appid is an
/// authorized mini program here.
pub fn plan_rows(
    table: &Table,
    base: &Map<String, Value>,
    known: &dyn Fn(&str) -> bool,
) -> std::result::Result<Vec<PlannedRow>, CodeError> {
    let mut problems = Vec::new();
    let Some((header_line, header)) = table.rows.first() else {
        return Err(plan_error(vec![Problem::new(
            "表格是空的",
            "the table is empty",
        )]));
    };
    let Some(appid_col) = header
        .iter()
        .position(|h| APPID_HEADERS.contains(&header_key(h).as_str()))
    else {
        return Err(plan_error(vec![Problem::new(
            "找不到 appid 列：第一行须是列名，其中一列名为 appid",
            "no appid column: the first row must name the columns, one of them appid",
        )]));
    };
    let mut names: Vec<(usize, String)> = Vec::new();
    for (i, h) in header.iter().enumerate() {
        if i == appid_col {
            continue;
        }
        let h = h.trim();
        if h.is_empty() {
            // A column without a name and without values is only a trailing separator.
            if table
                .rows
                .iter()
                .skip(1)
                .any(|(_, r)| r.get(i).is_some_and(|c| !c.is_empty()))
            {
                problems.push(Problem::new(
                    format!("第 {header_line} 行第 {} 列没有列名", i + 1),
                    format!("column {} of line {header_line} has no name", i + 1),
                ));
            }
            continue;
        }
        if names.iter().any(|(_, n)| n == h) {
            problems.push(Problem::new(
                format!("列名「{h}」重复"),
                format!("column name \"{h}\" repeated"),
            ));
            continue;
        }
        names.push((i, h.to_string()));
    }
    let mut rows = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (line, cells) in table.rows.iter().skip(1) {
        let appid = cells.get(appid_col).map_or("", |c| c.trim());
        let line_i = i64::try_from(*line).unwrap_or(i64::MAX);
        if !is_appid_shape(appid) {
            problems.push(Problem::new(
                format!("第 {line} 行 appid「{appid}」格式不对"),
                format!("line {line}: \"{appid}\" is not an appid"),
            ));
            continue;
        }
        if !seen.insert(appid.to_string()) {
            problems.push(Problem::new(
                format!("第 {line} 行 {appid} 重复"),
                format!("line {line}: {appid} repeated"),
            ));
            continue;
        }
        if !known(appid) {
            problems.push(Problem::new(
                format!("第 {line} 行 {appid} 不是已授权的小程序"),
                format!("line {line}: {appid} is not an authorized mini program"),
            ));
            continue;
        }
        let columns: Vec<(String, String)> = names
            .iter()
            .map(|(i, n)| (n.clone(), cells.get(*i).cloned().unwrap_or_default()))
            .collect();
        rows.push(PlannedRow {
            appid: appid.to_string(),
            line: line_i,
            ext_json: client_ext(base, appid, &columns),
        });
    }
    if rows.is_empty() && problems.is_empty() {
        problems.push(Problem::new(
            "表格中没有客户行",
            "no client rows in the table",
        ));
    }
    if problems.is_empty() {
        Ok(rows)
    } else {
        Err(plan_error(problems))
    }
}

pub(crate) fn plan_error(problems: Vec<Problem>) -> CodeError {
    CodeError::Plan {
        count: problems.len(),
        problems: problems.into_iter().take(LISTED).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(rows: &[&[&str]]) -> Table {
        Table {
            format: crate::audience::SourceFormat::CsvUtf8,
            rows: rows
                .iter()
                .enumerate()
                .map(|(i, r)| (i as u64 + 1, r.iter().map(|c| (*c).to_string()).collect()))
                .collect(),
        }
    }

    const A: &str = "wx0123456789abcdef";
    const B: &str = "wxfedcba9876543210";

    #[test]
    fn columns_become_ext_values_slash_names_top_level_paths_and_ext_appid_is_the_row() {
        let base =
            parse_object(r#"{"ext":{"theme":"red"},"extAppid":"wrong","window":{"a":1}}"#).unwrap();
        let rows = plan_rows(
            &t(&[
                &[
                    "AppID",
                    "shop",
                    "/window/navigationBarTitleText",
                    "/sim_audit",
                ],
                &[A, "一号店", "一号店", "fail"],
            ]),
            &base,
            &|_| true,
        )
        .unwrap();
        let v: Value = serde_json::from_str(&rows[0].ext_json).unwrap();
        assert_eq!(v["extAppid"], A);
        assert_eq!(v["ext"]["shop"], "一号店");
        assert_eq!(v["ext"]["theme"], "red", "the base stays");
        assert_eq!(v["window"]["navigationBarTitleText"], "一号店");
        assert_eq!(v["window"]["a"], 1);
        assert_eq!(v["sim_audit"], "fail");
        assert_eq!(rows[0].line, 2);
    }

    #[test]
    fn bad_repeated_and_unknown_appids_are_all_reported_with_their_lines() {
        let err = plan_rows(
            &t(&[
                &["appid", "shop"],
                &[A, "1"],
                &["nope", "2"],
                &[A, "3"],
                &[B, "4"],
            ]),
            &Map::new(),
            &|a| a == A,
        )
        .unwrap_err();
        let CodeError::Plan { count, problems } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(*count, 3);
        assert!(problems[0].zh.contains("第 3 行"), "{problems:?}");
        assert!(problems[1].zh.contains("第 4 行") && problems[1].zh.contains("重复"));
        assert!(problems[1].en.contains("line 4") && problems[1].en.contains("repeated"));
        assert!(problems[2].zh.contains(B), "{problems:?}");
        let cjk = |s: &str| s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
        assert!(
            !cjk(&err.message_en()) && !cjk(err.hint_en()),
            "{}",
            err.message_en()
        );
    }

    #[test]
    fn a_table_without_an_appid_header_or_rows_is_refused() {
        assert!(plan_rows(&t(&[&[A, "x"]]), &Map::new(), &|_| true).is_err());
        assert!(plan_rows(&t(&[&["appid"]]), &Map::new(), &|_| true).is_err());
        assert!(
            plan_rows(
                &t(&[&["appid", "a", "a"], &[A, "1", "2"]]),
                &Map::new(),
                &|_| true
            )
            .is_err()
        );
    }

    #[test]
    fn ext_json_must_be_an_object() {
        assert!(parse_object("[]").is_err());
        let e = parse_object("{\"a\":").unwrap_err();
        assert_eq!(e.code(), "code_ext_json");
        assert!(e.to_string().contains("第 1 行"), "{e}");
        assert!(parse_object("{}").unwrap().is_empty());
    }
}
