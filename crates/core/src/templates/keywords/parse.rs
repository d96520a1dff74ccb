//! Template content → ordered keyword fields (protocol C.6 `content`, E.1 type prefixes).

use serde::{Deserialize, Serialize};

/// The type of one keyword, taken from its placeholder name (`thing1` → [`KeywordType::Thing`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum KeywordType {
    Thing,
    Number,
    Letter,
    Symbol,
    CharacterString,
    Time,
    Date,
    Amount,
    PhoneNumber,
    CarNumber,
    Name,
    Phrase,
    Const,
    Enum,
    ShortThing,
    /// Legacy industry template's `first` line; not shown since 2023-05-04 (E.2).
    First,
    /// Legacy industry template's untyped `keywordN`.
    Keyword,
    /// Legacy industry template's `remark`; not shown since 2023-05-04 (E.2).
    Remark,
    /// A prefix this version does not know; sent as is, never validated.
    Unknown,
}

/// Typed prefixes, longest first where one is a prefix of another's spelling.
const PREFIXES: &[(&str, KeywordType)] = &[
    ("character_string", KeywordType::CharacterString),
    ("phone_number", KeywordType::PhoneNumber),
    ("car_number", KeywordType::CarNumber),
    ("short_thing", KeywordType::ShortThing),
    ("thing", KeywordType::Thing),
    ("number", KeywordType::Number),
    ("letter", KeywordType::Letter),
    ("symbol", KeywordType::Symbol),
    ("time", KeywordType::Time),
    ("date", KeywordType::Date),
    ("amount", KeywordType::Amount),
    ("name", KeywordType::Name),
    ("phrase", KeywordType::Phrase),
    ("const", KeywordType::Const),
    ("enum", KeywordType::Enum),
    ("keyword", KeywordType::Keyword),
];

impl KeywordType {
    /// The type named by a placeholder key: the key without its trailing number.
    pub fn from_key(key: &str) -> KeywordType {
        match key {
            "first" => return KeywordType::First,
            "remark" => return KeywordType::Remark,
            _ => {}
        }
        let stem = key.trim_end_matches(|c: char| c.is_ascii_digit());
        // A typed key always carries its number (`thing1`); a bare `thing` is not a typed field.
        if stem.len() == key.len() {
            return KeywordType::Unknown;
        }
        PREFIXES
            .iter()
            .find(|(p, _)| *p == stem)
            .map_or(KeywordType::Unknown, |(_, t)| *t)
    }

    /// The prefix as WeChat spells it (`character_string`), or `""` for [`KeywordType::Unknown`].
    pub fn prefix(self) -> &'static str {
        match self {
            KeywordType::First => "first",
            KeywordType::Remark => "remark",
            KeywordType::Unknown => "",
            t => PREFIXES
                .iter()
                .find(|(_, k)| *k == t)
                .map_or("", |(p, _)| p),
        }
    }

    /// Legacy industry-template fields (`first`, `keywordN`, `remark`), which WeChat does not
    /// type-check (long values are cut, not refused).
    pub fn is_legacy(self) -> bool {
        matches!(
            self,
            KeywordType::First | KeywordType::Keyword | KeywordType::Remark
        )
    }

    /// Whether WeChat still shows the field to the recipient (first/remark are hidden, E.2).
    pub fn is_shown(self) -> bool {
        !matches!(self, KeywordType::First | KeywordType::Remark)
    }
}

/// One `{{key.DATA}}` placeholder of a template, with the label written before it on its line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Field {
    /// The data key to send (`thing1`, `keyword2`, `first`).
    pub key: String,
    /// The text before the placeholder on its line, without the trailing colon (`工单名称`);
    /// empty for `first`/`remark`, which stand alone on their lines.
    pub label: String,
    /// The keyword's type, from its key (`thing1` → `thing`); the UI shows each type's rule.
    pub kind: KeywordType,
    /// Whether recipients still see it (`first`/`remark` are hidden since 2023-05, E.2).
    pub shown: bool,
}

const OPEN: &str = "{{";
const CLOSE: &str = ".DATA}}";

/// Parse a template's `content` into its fields, in order of appearance. A key that appears twice
/// is listed once (WeChat fills both places from one value). Text that is not a well-formed
/// placeholder is ignored, so any content yields a (possibly empty) list and never an error.
pub fn parse_content(content: &str) -> Vec<Field> {
    let mut fields: Vec<Field> = Vec::new();
    for line in content.lines() {
        let mut rest = line;
        let mut label_start = 0usize;
        let mut consumed = 0usize;
        while let Some(open) = rest.find(OPEN) {
            let after_open = &rest[open + OPEN.len()..];
            let Some(close) = after_open.find(CLOSE) else {
                break;
            };
            let key = after_open[..close].trim();
            let end = open + OPEN.len() + close + CLOSE.len();
            if is_key(key) {
                let label_text = &line[label_start..consumed + open];
                if !fields.iter().any(|f| f.key == key) {
                    let kind = KeywordType::from_key(key);
                    fields.push(Field {
                        key: key.to_string(),
                        label: clean_label(label_text),
                        kind,
                        shown: kind.is_shown(),
                    });
                }
                label_start = consumed + end;
            }
            consumed += end;
            rest = &rest[end..];
        }
    }
    fields
}

fn is_key(key: &str) -> bool {
    !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `工单名称:` / `工单名称：` / `  时间 ：` → `工单名称` / `时间`.
fn clean_label(text: &str) -> String {
    text.trim().trim_end_matches([':', '：']).trim().to_string()
}
