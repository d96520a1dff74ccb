//! Import of a recipient list (名单) from a file or pasted text: find the openid column, keep
//! the other columns as per-recipient variables for mail-merge, and report what would be saved —
//! rows read, valid openids, invalid rows with their line and reason, duplicates removed (and
//! each repeated openid whose values differ, beside the row kept),
//! openids that do not follow the account (sending to them fails with 43004), the first rows.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::table::{SourceFormat, Table};
use crate::error::{Error, Msg, Result};

/// Header names taken as the openid column (compared without case, spaces, `_` or `-`).
const OPENID_HEADERS: &[&str] = &[
    "openid",
    "用户openid",
    "粉丝openid",
    "公众号openid",
    "touser",
];

/// Rows shown in the preview.
pub const SAMPLE_ROWS: usize = 10;
/// Invalid rows and non-followers listed in full in the preview (the counts are always exact).
pub const LISTED_PROBLEMS: usize = 1_000;

/// The length of every openid WeChat issues (`o` and 27 more characters).
pub const WECHAT_OPENID_LEN: usize = 28;
/// Lengths accepted: WeChat openids are 28 characters of letters, digits, `-` and `_`; a little
/// slack either way keeps other platforms' ids importable without letting a name or a phone
/// number through.
const OPENID_LENS: std::ops::RangeInclusive<usize> = 16..=64;

fn openid_chars(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Letters, digits, `-` and `_` of an accepted length.
pub fn is_openid_shape(s: &str) -> bool {
    OPENID_LENS.contains(&s.len()) && openid_chars(s)
}

/// Normalized header for matching: lower case, no spaces, `_` or `-`.
pub(crate) fn header_key(h: &str) -> String {
    h.chars()
        .filter(|c| !c.is_whitespace() && *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

/// The operator's choices when the guesses are wrong.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default)]
pub struct ImportOptions {
    /// 0-based index of the openid column.
    #[cfg_attr(feature = "specta", specta(type = Option<specta_typescript::Number>))]
    pub openid_column: Option<usize>,
    /// Whether the first row holds column names.
    pub has_header: Option<bool>,
}

/// Why a row's openid cell cannot be imported (the UI words it in its language).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum OpenidProblem {
    /// The cell is empty.
    Empty,
    /// Holds a character an openid never has (a name, a phone number with `+`, spaces…).
    NotAnOpenid,
    /// The right characters but too short or too long to be an openid (a cut-off cell).
    WrongLength,
}

/// A row that was not imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct InvalidRow {
    /// Line in the file (1-based; the header is line 1 when there is one).
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub line: u64,
    pub value: String,
    pub problem: OpenidProblem,
    /// Characters in `value`, for the reason of a [`OpenidProblem::WrongLength`].
    pub length: u32,
}

impl InvalidRow {
    /// Why the row was not imported, in both languages.
    pub fn reason(&self) -> Msg {
        let n = self.length;
        match self.problem {
            OpenidProblem::Empty => Msg::new("openid 为空", "The openid is empty"),
            OpenidProblem::NotAnOpenid => Msg::new(
                "openid 含有不允许的字符：只能是字母、数字、- 或 _",
                "The openid holds characters an openid never has: only letters, digits, - and _",
            ),
            OpenidProblem::WrongLength => Msg::new(
                format!("openid 长度不对：应为 {WECHAT_OPENID_LEN} 位，此处 {n} 位"),
                format!(
                    "The openid has the wrong length: {WECHAT_OPENID_LEN} characters expected, \
                     {n} here"
                ),
            ),
        }
    }
}

/// A repeated openid whose other values differ from its first row: the first row is kept, this
/// one dropped (sending twice to one person is never what a list means).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DuplicateRow {
    pub openid: String,
    /// Line of the row kept (the first with this openid) and its values, in `variables` order.
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub kept_line: u64,
    pub kept_values: Vec<String>,
    /// Line of the row dropped and its values.
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub dropped_line: u64,
    pub dropped_values: Vec<String>,
}

/// One recipient: openid and the values of the variable columns, in `variables` order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ImportRow {
    pub openid: String,
    pub values: Vec<String>,
}

/// What an import would save; nothing is saved until the import is saved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ImportPreview {
    pub format: SourceFormat,
    pub has_header: bool,
    /// Name of the openid column (its header, or `列1`…).
    pub openid_column: String,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub openid_column_index: usize,
    /// Names of the other columns, each a `{{变量}}` for mail-merge.
    pub variables: Vec<String>,
    /// Data rows read (the header not counted, blank lines skipped).
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub rows_read: u64,
    /// Distinct valid openids: what would be saved.
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub valid: u64,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub invalid_count: u64,
    /// The first [`LISTED_PROBLEMS`] invalid rows.
    pub invalid: Vec<InvalidRow>,
    /// Rows dropped because their openid appeared earlier (the first one is kept), identical
    /// or not.
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub duplicates_removed: u64,
    /// Of those, the rows whose other values differ from the row kept.
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub conflicting_count: u64,
    /// The first [`LISTED_PROBLEMS`] of them, each beside the row kept.
    pub conflicting: Vec<DuplicateRow>,
    /// Whether the account's followers were synced, so `not_following` means something.
    pub following_checked: bool,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub not_following_count: u64,
    /// The first [`LISTED_PROBLEMS`] openids that are not (or no longer) followers.
    pub not_following: Vec<String>,
    pub sample: Vec<ImportRow>,
}

/// A parsed import, ready to save as a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedImport {
    pub preview: ImportPreview,
    pub rows: Vec<ImportRow>,
}

/// Which column holds openids, whether row 1 is a header, and the column names.
pub(crate) struct Layout {
    pub has_header: bool,
    pub openid_col: usize,
    pub names: Vec<String>,
}

pub(crate) fn layout(table: &Table, opts: &ImportOptions, wanted: &[&str]) -> Result<Layout> {
    let width = table.rows.iter().map(|(_, r)| r.len()).max().unwrap_or(0);
    if width == 0 {
        return Err(Error::input("文件中没有数据", "The file holds no data."));
    }
    let first = table.rows.first().map(|(_, r)| r.as_slice()).unwrap_or(&[]);
    let named = first
        .iter()
        .position(|h| wanted.contains(&header_key(h).as_str()));
    // A first row whose every cell is an openid is data, not names.
    let has_header = opts
        .has_header
        .unwrap_or_else(|| named.is_some() || !first.iter().any(|c| is_openid_shape(c)));
    let data = &table.rows[usize::from(has_header).min(table.rows.len())..];
    let openid_col = match opts.openid_column.or(if has_header { named } else { None }) {
        Some(c) if c < width => c,
        Some(c) => {
            return Err(Error::input(
                format!("第 {} 列不存在（文件只有 {width} 列）", c + 1),
                format!(
                    "There is no column {} (the file has {width} columns).",
                    c + 1
                ),
            ));
        }
        None => shaped_column(data, width).ok_or_else(|| {
            Error::input(
                "找不到 openid 列：请把列名写为 openid，或在导入时指定 openid 所在的列",
                "No openid column found: name the column openid, or choose the openid column \
                 when importing.",
            )
        })?,
    };
    let mut names: Vec<String> = Vec::with_capacity(width);
    for i in 0..width {
        let raw = if has_header {
            first.get(i).map_or("", String::as_str)
        } else {
            ""
        };
        let base = if raw.is_empty() {
            format!("列{}", i + 1)
        } else {
            raw.to_string()
        };
        let mut name = base.clone();
        let mut n = 2;
        while names.contains(&name) {
            name = format!("{base}_{n}");
            n += 1;
        }
        names.push(name);
    }
    Ok(Layout {
        has_header,
        openid_col,
        names,
    })
}

/// The first column where most of the first 100 non-empty cells look like openids.
fn shaped_column(data: &[(u64, Vec<String>)], width: usize) -> Option<usize> {
    (0..width).find(|&c| {
        let cells: Vec<&str> = data
            .iter()
            .filter_map(|(_, r)| r.get(c).map(String::as_str))
            .filter(|s| !s.is_empty())
            .take(100)
            .collect();
        !cells.is_empty()
            && cells.iter().filter(|s| is_openid_shape(s)).count() * 5 >= cells.len() * 4
    })
}

/// Why a cell is not an openid: the characters first (a name is not "too short"), then the
/// length.
pub(crate) fn openid_problem(value: &str) -> Option<OpenidProblem> {
    if value.is_empty() {
        Some(OpenidProblem::Empty)
    } else if !openid_chars(value) {
        Some(OpenidProblem::NotAnOpenid)
    } else if !OPENID_LENS.contains(&value.len()) {
        Some(OpenidProblem::WrongLength)
    } else {
        None
    }
}

/// Parses a table into recipients (pure: no database). Non-followers are checked by
/// [`check_following`]. Takes the table: its cells become the rows' values as they are (a
/// million-row list held its cells twice, the table's and the copies, at the peak).
pub fn parse_table(table: Table, opts: &ImportOptions) -> Result<PreparedImport> {
    let lay = layout(&table, opts, OPENID_HEADERS)?;
    let variables: Vec<String> = lay
        .names
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != lay.openid_col)
        .map(|(_, n)| n.clone())
        .collect();
    let Table { format, rows } = table;
    let skip = usize::from(lay.has_header).min(rows.len());
    let rows_read = rows.len() - skip;
    let mut kept = FirstWins::with_capacity(rows_read);
    let mut invalid = Vec::new();
    let mut invalid_count = 0u64;
    for (line, mut cells) in rows.into_iter().skip(skip) {
        let openid = cells
            .get_mut(lay.openid_col)
            .map(std::mem::take)
            .unwrap_or_default();
        if let Some(problem) = openid_problem(&openid) {
            invalid_count += 1;
            if invalid.len() < LISTED_PROBLEMS {
                invalid.push(InvalidRow {
                    line,
                    length: openid.chars().count().min(u32::MAX as usize) as u32,
                    value: openid,
                    problem,
                });
            }
            continue;
        }
        // The variables in column order: the openid's cell goes, short rows are padded.
        cells.resize(lay.names.len(), String::new());
        cells.remove(lay.openid_col);
        cells.shrink_to_fit();
        kept.offer(
            line,
            ImportRow {
                openid,
                values: cells,
            },
        );
    }
    let FirstWins {
        rows,
        duplicates,
        conflicting_count,
        conflicting,
        ..
    } = kept;
    let preview = ImportPreview {
        format,
        has_header: lay.has_header,
        openid_column: lay.names[lay.openid_col].clone(),
        openid_column_index: lay.openid_col,
        variables,
        rows_read: rows_read as u64,
        valid: rows.len() as u64,
        invalid_count,
        invalid,
        duplicates_removed: duplicates,
        conflicting_count,
        conflicting,
        following_checked: false,
        not_following_count: 0,
        not_following: Vec::new(),
        sample: rows.iter().take(SAMPLE_ROWS).cloned().collect(),
    };
    Ok(PreparedImport { preview, rows })
}

/// The rows of a list as they are read: the first row of each openid is kept, every later one
/// is dropped and counted, and one whose values differ from the row kept is listed beside it
/// (the first [`LISTED_PROBLEMS`]), so a file import and the unionid bridge report repeats alike.
pub(crate) struct FirstWins {
    /// openid → (index in `rows`, line) of its first row.
    seen: HashMap<String, (usize, u64)>,
    pub rows: Vec<ImportRow>,
    pub duplicates: u64,
    pub conflicting_count: u64,
    pub conflicting: Vec<DuplicateRow>,
}

impl FirstWins {
    pub fn with_capacity(n: usize) -> FirstWins {
        FirstWins {
            seen: HashMap::with_capacity(n),
            rows: Vec::with_capacity(n),
            duplicates: 0,
            conflicting_count: 0,
            conflicting: Vec::new(),
        }
    }

    /// Keeps `row` (read on `line`) unless its openid came before; whether it was kept.
    pub fn offer(&mut self, line: u64, row: ImportRow) -> bool {
        let Some(&(at, kept_line)) = self.seen.get(&row.openid) else {
            self.seen
                .insert(row.openid.clone(), (self.rows.len(), line));
            self.rows.push(row);
            return true;
        };
        self.duplicates += 1;
        let kept_values = &self.rows[at].values;
        if *kept_values != row.values {
            self.conflicting_count += 1;
            if self.conflicting.len() < LISTED_PROBLEMS {
                self.conflicting.push(DuplicateRow {
                    openid: row.openid,
                    kept_line,
                    kept_values: kept_values.clone(),
                    dropped_line: line,
                    dropped_values: row.values,
                });
            }
        }
        false
    }
}

/// Flags the openids that are not following `appid` according to the synced followers. Does
/// nothing (and says so) when no follower has been synced yet.
pub(crate) fn check_following(
    conn: &rusqlite::Connection,
    appid: &str,
    prepared: &mut PreparedImport,
) -> Result<()> {
    let openids = prepared.rows.iter().map(|r| r.openid.as_str());
    let found = super::db::followers::not_following(conn, appid, openids, LISTED_PROBLEMS)?;
    let p = &mut prepared.preview;
    p.following_checked = found.is_some();
    (p.not_following_count, p.not_following) = found.unwrap_or_default();
    Ok(())
}
