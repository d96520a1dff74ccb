//! The value rules of each keyword type (protocol E.1), checked before a send so that a 47003 is
//! caught in the composer instead of at the API. Lengths count Unicode scalar values — the stricter
//! of the two counts WeChat has been seen to use (E.1, "Character counting").

use serde::Serialize;

use super::charclass::{Class, classify};
use super::datetime::{RangeKind, check_range};
use super::parse::KeywordType;

/// Why a value breaks its keyword's rule, in Chinese and English, ready to show next to the field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    pub kind: ViolationKind,
    pub zh: String,
    pub en: String,
}

/// The rule that was broken, for callers that want to react to it (e.g. offer to cut the value).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum ViolationKind {
    Empty,
    Newline,
    Emoji { ch: char },
    Char { ch: char },
    TooLong { max: usize, got: usize },
    Format,
    NotAllowed,
}

impl Violation {
    fn new(kind: ViolationKind, zh: impl Into<String>, en: impl Into<String>) -> Violation {
        Violation {
            kind,
            zh: zh.into(),
            en: en.into(),
        }
    }
}

/// Check `value` against the rule of `kind`. For `const`/`enum` values nothing is known here, so
/// any one-line value passes; use [`validate_with_allowed`] when the approved values are known.
pub fn validate(kind: KeywordType, value: &str) -> Result<(), Violation> {
    validate_with_allowed(kind, value, None)
}

/// [`validate`], with the approved values of a `const`/`enum` keyword when they are known.
pub fn validate_with_allowed(
    kind: KeywordType,
    value: &str,
    allowed: Option<&[String]>,
) -> Result<(), Violation> {
    use KeywordType as K;
    if kind.is_legacy() || kind == K::Unknown {
        // Untyped: WeChat accepts anything and cuts the display (E.1, E.2).
        return Ok(());
    }
    if value.is_empty() {
        return Err(Violation::new(
            ViolationKind::Empty,
            "不能为空",
            "must not be empty",
        ));
    }
    common_checks(value)?;
    match kind {
        K::Thing => classes(value, THING)?.max_chars(value, 20),
        K::ShortThing => classes(value, THING)?.max_chars(value, 5),
        K::Number => number(value),
        K::Letter => classes(value, LETTER)?.max_chars(value, 32),
        K::Symbol => classes(value, SYMBOL)?.max_chars(value, 5),
        K::CharacterString => classes(value, CHARACTER_STRING)?.max_chars(value, 32),
        K::PhoneNumber => classes(value, PHONE)?.max_chars(value, 17),
        K::Phrase => classes(value, PHRASE)?.max_chars(value, 5),
        K::Name => name(value),
        K::CarNumber => car_number(value),
        K::Amount => amount(value),
        K::Time => check_range(value, RangeKind::Time).map_err(|()| time_format()),
        K::Date => check_range(value, RangeKind::Date).map_err(|()| date_format()),
        K::Const | K::Enum => one_of(value, allowed),
        K::First | K::Keyword | K::Remark | K::Unknown => Ok(()),
    }
}

/// Line breaks, emoji and control characters are refused by every typed keyword.
fn common_checks(value: &str) -> Result<(), Violation> {
    for ch in value.chars() {
        match classify(ch) {
            Class::Newline => {
                return Err(Violation::new(
                    ViolationKind::Newline,
                    "不能包含换行",
                    "must not contain line breaks",
                ));
            }
            Class::Emoji => {
                return Err(Violation::new(
                    ViolationKind::Emoji { ch },
                    format!("不能包含表情符号（{ch}）"),
                    format!("must not contain emoji ({ch})"),
                ));
            }
            Class::Control => {
                return Err(Violation::new(
                    ViolationKind::Char { ch },
                    format!("不能包含不可见的控制字符（U+{:04X}）", ch as u32),
                    format!(
                        "must not contain invisible control characters (U+{:04X})",
                        ch as u32
                    ),
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

/// The characters a type allows, with how to say so.
struct Allowed {
    classes: &'static [Class],
    zh: &'static str,
    en: &'static str,
}

const THING: &Allowed = &Allowed {
    classes: &[
        Class::Cjk,
        Class::Digit,
        Class::Letter,
        Class::OtherLetter,
        Class::Symbol,
    ],
    zh: "汉字、数字、字母或符号",
    en: "Chinese characters, digits, letters or symbols",
};
const LETTER: &Allowed = &Allowed {
    classes: &[Class::Letter],
    zh: "英文字母",
    en: "letters (A-Z, a-z)",
};
const SYMBOL: &Allowed = &Allowed {
    classes: &[Class::Symbol],
    zh: "符号",
    en: "symbols",
};
const CHARACTER_STRING: &Allowed = &Allowed {
    classes: &[Class::Digit, Class::Letter, Class::Symbol],
    zh: "数字、英文字母或符号",
    en: "digits, letters or symbols",
};
const PHONE: &Allowed = &Allowed {
    classes: &[Class::Digit, Class::Symbol],
    zh: "数字和符号",
    en: "digits and symbols",
};
const PHRASE: &Allowed = &Allowed {
    classes: &[Class::Cjk],
    zh: "汉字",
    en: "Chinese characters",
};
const NAME: &Allowed = &Allowed {
    classes: &[Class::Cjk, Class::Letter, Class::OtherLetter, Class::Symbol],
    zh: "汉字、字母或符号",
    en: "Chinese characters, letters or symbols",
};

/// Proof that the characters passed, so the length check reads as the second step.
struct CharsOk;

impl CharsOk {
    fn max_chars(self, value: &str, max: usize) -> Result<(), Violation> {
        max_chars(value, max)
    }
}

fn classes(value: &str, allowed: &Allowed) -> Result<CharsOk, Violation> {
    match value
        .chars()
        .find(|&c| !allowed.classes.contains(&classify(c)))
    {
        None => Ok(CharsOk),
        Some(ch) => Err(Violation::new(
            ViolationKind::Char { ch },
            format!("只能包含{}，不能包含“{ch}”", allowed.zh),
            format!("may contain only {}, not '{ch}'", allowed.en),
        )),
    }
}

fn max_chars(value: &str, max: usize) -> Result<(), Violation> {
    let got = value.chars().count();
    if got <= max {
        return Ok(());
    }
    Err(Violation::new(
        ViolationKind::TooLong { max, got },
        format!("最多 {max} 个字符，当前 {got} 个"),
        format!("at most {max} characters, got {got}"),
    ))
}

/// `≤ 32 digits; decimals allowed`: ASCII digits with at most one inner decimal point.
fn number(value: &str) -> Result<(), Violation> {
    if !is_decimal(value) {
        return Err(Violation::new(
            ViolationKind::Format,
            "须为数字，可带小数，如 3.14",
            "must be a number, decimals allowed, e.g. 3.14",
        ));
    }
    max_chars(value, 32)
}

fn is_decimal(s: &str) -> bool {
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s, None),
    };
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    digits(int) && frac.is_none_or(digits)
}

/// Currency signs accepted as the one leading symbol of an amount.
const CURRENCY: &[char] = &[
    '¥', '￥', '$', '＄', '€', '£', '￡', '₩', '₹', '₽', '₫', '฿', '₱', '₣',
];

/// `one currency symbol + ≤ 10 digits, decimals allowed, may end with 元`. The sign is optional
/// (`100元` is the common Chinese form); the 10 digits count the decimals too.
fn amount(value: &str) -> Result<(), Violation> {
    let body = value
        .strip_prefix(|c: char| CURRENCY.contains(&c))
        .unwrap_or(value);
    let body = body.strip_suffix('元').unwrap_or(body);
    if !is_decimal(body) {
        return Err(Violation::new(
            ViolationKind::Format,
            "须为金额：可带一个币种符号，数字可带小数，可以“元”结尾，如 ¥100.50 或 100元",
            "must be an amount: one optional currency sign, digits with optional decimals, \
             optionally ending in 元, e.g. ¥100.50 or 100元",
        ));
    }
    let got = body.bytes().filter(u8::is_ascii_digit).count();
    if got > 10 {
        return Err(Violation::new(
            ViolationKind::TooLong { max: 10, got },
            format!("金额最多 10 位数字（含小数位），当前 {got} 位"),
            format!("an amount has at most 10 digits (decimals included), got {got}"),
        ));
    }
    Ok(())
}

/// `≤ 8 chars; first and last may be Chinese, rest letters/digits` (粤A8Z888挂).
fn car_number(value: &str) -> Result<(), Violation> {
    let chars: Vec<char> = value.chars().collect();
    let last = chars.len() - 1;
    let ok = chars.iter().enumerate().all(|(i, &c)| {
        c.is_ascii_alphanumeric() || ((i == 0 || i == last) && classify(c) == Class::Cjk)
    });
    if !ok {
        return Err(Violation::new(
            ViolationKind::Format,
            "须为车牌号：首尾可为汉字，其余为英文字母或数字，如 粤A8Z888挂",
            "must be a licence plate: Chinese allowed only first and last, the rest letters or \
             digits, e.g. 粤A8Z888挂",
        ));
    }
    max_chars(value, 8)
}

/// `≤ 10 Chinese characters, or ≤ 20 letters/symbols; mixed counts as Chinese (10)`.
fn name(value: &str) -> Result<(), Violation> {
    classes(value, NAME)?;
    let got = value.chars().count();
    let has_cjk = value.chars().any(|c| classify(c) == Class::Cjk);
    if has_cjk && got > 10 {
        return Err(Violation::new(
            ViolationKind::TooLong { max: 10, got },
            format!("含汉字的姓名最多 10 个字，当前 {got} 个"),
            format!("a name containing Chinese has at most 10 characters, got {got}"),
        ));
    }
    max_chars(value, 20)
}

fn one_of(value: &str, allowed: Option<&[String]>) -> Result<(), Violation> {
    match allowed {
        Some(values) if !values.iter().any(|v| v == value) => {
            let list = values.join("、");
            let list_en = values.join(", ");
            Err(Violation::new(
                ViolationKind::NotAllowed,
                format!("须为该模板审核通过的取值之一：{list}"),
                format!("must be one of the template's approved values: {list_en}"),
            ))
        }
        _ => Ok(()),
    }
}

fn time_format() -> Violation {
    Violation::new(
        ViolationKind::Format,
        "须为 24 小时制时间，可带日期，如 15:01 或 2019年10月1日 15:01；时间段用 ~ 连接",
        "must be a 24-hour time, optionally after a date, e.g. 15:01 or 2019年10月1日 15:01; \
         join a range with ~",
    )
}

fn date_format() -> Violation {
    Violation::new(
        ViolationKind::Format,
        "须为日期，可带 24 小时制时间，如 2019年10月1日 或 2019-10-01 15:01；时间段用 ~ 连接",
        "must be a date, optionally with a 24-hour time, e.g. 2019年10月1日 or 2019-10-01 15:01; \
         join a range with ~",
    )
}
