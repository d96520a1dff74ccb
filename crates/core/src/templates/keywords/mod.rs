//! Template keywords as pure functions: parse a template's content into typed fields, check a
//! value against its type's rule (protocol E.1), and show what WeChat will display (E.2). The
//! composer and the send engine both use these; nothing here does IO.

mod charclass;
mod datetime;
mod parse;
mod preview;
mod rules;

pub use parse::{Field, KeywordType, parse_content};
pub use preview::{DISPLAY_MAX_CHARS, DisplayPreview, display, display_field, preview_truncation};
pub use rules::{Violation, ViolationKind, validate, validate_with_allowed};
