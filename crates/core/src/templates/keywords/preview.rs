//! What the recipient sees of a value since 2023-05-04 (E.2): emoji removed, no line breaks, at
//! most 20 characters per field then an ellipsis, and no `first`/`remark` at all.

use serde::Serialize;

use super::charclass::{Class, classify};
use super::parse::KeywordType;

/// Characters WeChat shows per field before cutting.
pub const DISPLAY_MAX_CHARS: usize = 20;

/// A value as WeChat displays it, with what was changed, so the composer can warn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DisplayPreview {
    pub text: String,
    /// More than [`DISPLAY_MAX_CHARS`] characters were left: the rest is cut and `…` added.
    pub cut: bool,
    pub emoji_removed: bool,
}

/// The displayed text of one field value: emoji removed, each line break shown as one space (the
/// card has a single line per field), then cut to 20 characters plus `…`.
pub fn preview_truncation(value: &str) -> String {
    display(value).text
}

/// [`preview_truncation`] with what it changed.
pub fn display(value: &str) -> DisplayPreview {
    let mut kept: Vec<char> = Vec::with_capacity(value.len());
    let mut emoji_removed = false;
    let mut last_was_break = false;
    for ch in value.chars() {
        match classify(ch) {
            Class::Emoji => emoji_removed = true,
            Class::Newline => {
                // `\r\n` is one break, not two spaces.
                if !last_was_break {
                    kept.push(' ');
                }
                last_was_break = true;
                continue;
            }
            _ => kept.push(ch),
        }
        last_was_break = false;
    }
    let cut = kept.len() > DISPLAY_MAX_CHARS;
    let mut text: String = kept.iter().take(DISPLAY_MAX_CHARS).collect();
    if cut {
        text.push('…');
    }
    DisplayPreview {
        text,
        cut,
        emoji_removed,
    }
}

/// The display of a field of type `kind`: `None` for `first`/`remark`, which are no longer shown.
pub fn display_field(kind: KeywordType, value: &str) -> Option<DisplayPreview> {
    kind.is_shown().then(|| display(value))
}
