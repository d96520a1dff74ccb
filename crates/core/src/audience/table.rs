//! Reading a spreadsheet the operator picked into rows of text: CSV in UTF-8 (with or without a
//! BOM) or GBK/GB18030 (what Excel in China writes), tab- or comma-separated, and XLSX (first
//! sheet). Nothing here knows about openids; `import` decides what the columns mean.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// How the bytes were understood, shown in the import preview.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum SourceFormat {
    CsvUtf8,
    CsvUtf8Bom,
    /// Not valid UTF-8: decoded as GB18030, the superset of GBK and GB2312.
    CsvGbk,
    Xlsx,
    /// Text pasted into the app (one openid per line, or columns separated by tabs).
    Pasted,
}

/// Every row of the first sheet, each with its 1-based line (CSV) or row number (XLSX).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub format: SourceFormat,
    pub rows: Vec<(u64, Vec<String>)>,
}

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Reads a file's bytes; XLSX is recognized by its zip signature, anything else is CSV.
pub fn read_bytes(bytes: &[u8]) -> Result<Table> {
    if bytes.starts_with(ZIP_MAGIC) {
        return read_xlsx(bytes);
    }
    let (text, format) = decode_text(bytes);
    read_delimited(&text, format)
}

/// Reads a file from disk (the whole file: a million rows is tens of megabytes).
pub fn read_path(path: &std::path::Path) -> Result<Table> {
    let bytes = std::fs::read(path).map_err(|e| {
        Error::input(
            format!("无法读取文件 {}：{e}", path.display()),
            format!("Cannot read the file {}: {e}", path.display()),
        )
    })?;
    read_bytes(&bytes)
}

/// Text pasted by the operator: tabs (a column copied from Excel) or one value per line.
pub fn read_pasted(text: &str) -> Result<Table> {
    let mut table = read_delimited(text, SourceFormat::Pasted)?;
    table.format = SourceFormat::Pasted;
    Ok(table)
}

/// UTF-8 (BOM stripped) when the bytes are valid UTF-8, else GB18030.
fn decode_text(bytes: &[u8]) -> (std::borrow::Cow<'_, str>, SourceFormat) {
    if let Some(rest) = bytes.strip_prefix(UTF8_BOM) {
        return (String::from_utf8_lossy(rest), SourceFormat::CsvUtf8Bom);
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => (s.into(), SourceFormat::CsvUtf8),
        Err(_) => {
            let (text, _, _) = encoding_rs::GB18030.decode(bytes);
            (text, SourceFormat::CsvGbk)
        }
    }
}

/// The separator used by the first line: tab, semicolon or comma (the default).
fn sniff_delimiter(text: &str) -> u8 {
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let count = |c: char| first.matches(c).count();
    let (tabs, semis, commas) = (count('\t'), count(';'), count(','));
    if tabs > 0 && tabs >= commas {
        b'\t'
    } else if semis > commas {
        b';'
    } else {
        b','
    }
}

fn read_delimited(text: &str, format: SourceFormat) -> Result<Table> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(sniff_delimiter(text))
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record
                    .position()
                    .map_or(rows.len() as u64 + 1, csv::Position::line);
                let cells: Vec<String> = record.iter().map(|c| c.trim().to_string()).collect();
                if cells.iter().any(|c| !c.is_empty()) {
                    rows.push((line, cells));
                }
            }
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line);
                return Err(Error::input(
                    format!("CSV 第 {line} 行无法解析：{e}"),
                    format!("Line {line} of the CSV cannot be read: {e}"),
                ));
            }
        }
    }
    Ok(Table { format, rows })
}

fn read_xlsx(bytes: &[u8]) -> Result<Table> {
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|e| {
        Error::input(
            format!("无法打开 Excel 文件：{e}"),
            format!("Cannot open the Excel file: {e}"),
        )
    })?;
    let range = book
        .worksheet_range_at(0)
        .ok_or_else(|| Error::input("Excel 文件中没有工作表", "The Excel file has no worksheet."))?
        .map_err(|e| {
            Error::input(
                format!("无法读取 Excel 工作表：{e}"),
                format!("Cannot read the Excel worksheet: {e}"),
            )
        })?;
    let first_row = range.start().map_or(0, |(r, _)| u64::from(r));
    let mut rows = Vec::with_capacity(range.height());
    for (i, row) in range.rows().enumerate() {
        let cells: Vec<String> = row.iter().map(cell_text).collect();
        if cells.iter().any(|c| !c.is_empty()) {
            rows.push((first_row + i as u64 + 1, cells));
        }
    }
    Ok(Table {
        format: SourceFormat::Xlsx,
        rows,
    })
}

/// A cell as the operator sees it: whole numbers without `.0`, dates as `2024-01-31 08:00`.
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::DateTime(dt) => {
            let (y, mo, d, h, mi, s, _) = dt.to_ymd_hms_milli();
            if dt.is_datetime() && (h, mi, s) != (0, 0, 0) {
                format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}")
            } else {
                format!("{y:04}-{mo:02}-{d:02}")
            }
        }
        other => other.to_string().trim().to_string(),
    }
}
