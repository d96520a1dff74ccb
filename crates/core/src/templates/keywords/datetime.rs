//! The `time` and `date` keyword formats (E.1): a date (`2019年10月1日`, `10月1日`, `2019-10-01`,
//! `2019/10/01`, `2019.10.01`), a 24-hour time (`15:01`, `15:01:30`), a date followed by a time,
//! and ranges of two joined by `~`. Dates are checked against the calendar (no 2月30日).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RangeKind {
    /// A time is required on each side; a date may precede it.
    Time,
    /// A date is required; a time may follow it. The right side of a range may be a bare time
    /// when the left side has a date and a time (`2019年10月1日 15:00~17:00`).
    Date,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    date: bool,
    time: bool,
}

/// Whether `value` is a well-formed `time`/`date` keyword value.
pub(crate) fn check_range(value: &str, kind: RangeKind) -> Result<(), ()> {
    let mut parts = value.split('~');
    let left = parts.next().and_then(|p| stamp(p.trim())).ok_or(())?;
    let right = match parts.next() {
        None => None,
        Some(p) => Some(stamp(p.trim()).ok_or(())?),
    };
    if parts.next().is_some() {
        return Err(());
    }
    let ok = match kind {
        RangeKind::Time => left.time && right.is_none_or(|r| r.time),
        RangeKind::Date => left.date && right.is_none_or(|r| r.date || (left.time && r.time)),
    };
    if ok { Ok(()) } else { Err(()) }
}

/// One side: a date, a time, or a date then a time.
fn stamp(s: &str) -> Option<Stamp> {
    if s.is_empty() {
        return None;
    }
    match date_prefix(s) {
        Some((rest, cjk_form)) => {
            if rest.is_empty() {
                return Some(Stamp {
                    date: true,
                    time: false,
                });
            }
            let trimmed = rest.trim_start();
            // `2019-10-01` must be separated from its time; `2019年10月1日15:01` need not be.
            if trimmed.len() == rest.len() && !cjk_form {
                return None;
            }
            is_time(trimmed).then_some(Stamp {
                date: true,
                time: true,
            })
        }
        None => is_time(s).then_some(Stamp {
            date: false,
            time: true,
        }),
    }
}

/// Parse a leading date; returns the rest and whether it was the `年月日` form.
fn date_prefix(s: &str) -> Option<(&str, bool)> {
    let (first, rest) = digits(s, 1, 4)?;
    if let Some(rest) = rest.strip_prefix('年') {
        if first.len() != 4 {
            return None;
        }
        let (month, rest) = digits(rest, 1, 2)?;
        let rest = rest.strip_prefix('月')?;
        let (day, rest) = digits(rest, 1, 2)?;
        let rest = rest.strip_prefix('日')?;
        return valid_date(Some(first), month, day).then_some((rest, true));
    }
    if let Some(rest) = rest.strip_prefix('月') {
        let (day, rest) = digits(rest, 1, 2)?;
        let rest = rest.strip_prefix('日')?;
        return (first.len() <= 2 && valid_date(None, first, day)).then_some((rest, true));
    }
    if first.len() != 4 {
        return None;
    }
    let sep = rest
        .chars()
        .next()
        .filter(|c| matches!(c, '-' | '/' | '.'))?;
    let (month, rest) = digits(&rest[sep.len_utf8()..], 1, 2)?;
    let rest = rest.strip_prefix(sep)?;
    let (day, rest) = digits(rest, 1, 2)?;
    valid_date(Some(first), month, day).then_some((rest, false))
}

/// `H:MM` or `HH:MM`, optionally `:SS`; 00:00 to 23:59:59.
fn is_time(s: &str) -> bool {
    let Some((hour, rest)) = digits(s, 1, 2) else {
        return false;
    };
    let Some(rest) = rest.strip_prefix(':') else {
        return false;
    };
    let Some((minute, rest)) = digits(rest, 2, 2) else {
        return false;
    };
    let second_ok = match rest.strip_prefix(':') {
        None => rest.is_empty(),
        Some(rest) => matches!(digits(rest, 2, 2), Some((sec, "")) if num(sec) <= 59),
    };
    num(hour) <= 23 && num(minute) <= 59 && second_ok
}

/// Between `min` and `max` leading ASCII digits, and the rest.
fn digits(s: &str, min: usize, max: usize) -> Option<(&str, &str)> {
    let n = s.bytes().take_while(u8::is_ascii_digit).count();
    (min..=max).contains(&n).then(|| s.split_at(n))
}

fn num(digits: &str) -> u32 {
    digits
        .bytes()
        .fold(0, |acc, b| acc * 10 + u32::from(b - b'0'))
}

fn valid_date(year: Option<&str>, month: &str, day: &str) -> bool {
    let (m, d) = (num(month), num(day));
    let max_day = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        // Without a year, 2月29日 may be meant for a leap year.
        2 => match year.map(num) {
            Some(y) if !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) => 28,
            _ => 29,
        },
        _ => return false,
    };
    (1..=max_day).contains(&d)
}
