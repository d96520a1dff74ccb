//! Output: human text, or one JSON document (JSON lines for streams) with `--json`.

use std::io::Write;

use serde::Serialize;

use crate::error::{CliError, Result};

/// `println!` that does not panic when stdout is closed (`wxdesk-cli … | head`): the reader is
/// gone, so the rest of the text has nowhere to go.
#[macro_export]
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// A progress note for a person at a terminal: on stderr only when it is a TTY, so a script's
/// stderr holds nothing but the one line of a failure.
#[macro_export]
macro_rules! note {
    ($($arg:tt)*) => {{
        use std::io::IsTerminal as _;
        if std::io::stderr().is_terminal() {
            $crate::errln!($($arg)*);
        }
    }};
}

/// `eprintln!` without the panic on a closed stderr.
#[macro_export]
macro_rules! errln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}

#[derive(Debug, Clone, Copy)]
pub struct Out {
    pub json: bool,
}

impl Out {
    /// Prints `value` as one JSON document when `--json`, else runs `human`.
    pub fn emit<T: Serialize>(&self, value: &T, human: impl FnOnce()) -> Result<()> {
        if self.json {
            self.json_line(value)
        } else {
            human();
            Ok(())
        }
    }

    /// One compact JSON document on its own line (also one line of a JSON-lines stream).
    pub fn json_line<T: Serialize>(&self, value: &T) -> Result<()> {
        let text = serde_json::to_string(value)
            .map_err(|e| CliError::Failed(format!("无法生成 JSON：{e}")))?;
        let mut stdout = std::io::stdout().lock();
        match writeln!(stdout, "{text}").and_then(|()| stdout.flush()) {
            // The reader went away (`| head`): nothing left to tell it.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            r => r.map_err(|e| CliError::io("写标准输出失败", e)),
        }
    }
}

/// Unix seconds as Beijing time (WeChat's and the operators' clock), `YYYY-MM-DD HH:MM:SS`.
pub fn beijing(ts: i64) -> String {
    let offset = time::UtcOffset::from_hms(8, 0, 0).unwrap_or(time::UtcOffset::UTC);
    let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    time::OffsetDateTime::from_unix_timestamp(ts)
        .ok()
        .and_then(|t| t.to_offset(offset).format(&fmt).ok())
        .unwrap_or_else(|| ts.to_string())
}

/// `YYYY-MM-DD` (Beijing midnight) → unix seconds.
pub fn parse_day(s: &str) -> Result<i64> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let d = time::Date::parse(s.trim(), &fmt)
        .map_err(|_| CliError::Usage(format!("日期「{s}」格式不对，应为 YYYY-MM-DD")))?;
    Ok(d.midnight().assume_utc().unix_timestamp() - 8 * 3600)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_beijing_midnight() {
        assert_eq!(parse_day("2026-11-22").unwrap(), 1_795_305_600 - 8 * 3600);
        assert_eq!(beijing(1_795_305_600 - 8 * 3600), "2026-11-22 00:00:00");
        assert!(matches!(parse_day("22/11/2026"), Err(CliError::Usage(_))));
    }
}
