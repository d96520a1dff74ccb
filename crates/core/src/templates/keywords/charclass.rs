//! Character classes the keyword rules are written in (protocol E.1): Chinese characters, ASCII
//! digits and letters, symbols, emoji. WeChat publishes no exact tables, so these are ours; the
//! choices that matter are explained where they are made.

/// What one Unicode scalar value counts as for the keyword rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// A CJK ideograph (汉字), including the extension blocks and 〇.
    Cjk,
    /// `0`–`9` only: full-width digits are not what WeChat's "数字" means.
    Digit,
    /// `A`–`Z`, `a`–`z`.
    Letter,
    /// Any other letter or digit (kana, Greek, full-width Latin…): text, but not "字母".
    OtherLetter,
    /// Punctuation, spaces and other printable signs that are not emoji.
    Symbol,
    /// A pictograph WeChat strips since 2023-05-04 (E.2) and typed keywords refuse.
    Emoji,
    /// `\n` or `\r`: template fields have no line breaks (E.2).
    Newline,
    /// Any other control character.
    Control,
}

pub(crate) fn classify(c: char) -> Class {
    if c == '\n' || c == '\r' {
        Class::Newline
    } else if c.is_ascii_digit() {
        Class::Digit
    } else if c.is_ascii_alphabetic() {
        Class::Letter
    } else if is_cjk(c) {
        Class::Cjk
    } else if is_emoji(c) {
        Class::Emoji
    } else if c.is_control() || is_invisible_format(c) {
        Class::Control
    } else if c.is_alphanumeric() {
        Class::OtherLetter
    } else {
        Class::Symbol
    }
}

pub(crate) fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3007
        | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF
        | 0xF900..=0xFAFF
        | 0x20000..=0x2FA1F
        | 0x30000..=0x323AF)
}

/// Zero-width and direction marks: invisible, so never a legitimate "symbol".
fn is_invisible_format(c: char) -> bool {
    matches!(
        c as u32,
        0x200B | 0x200C | 0x200E | 0x200F | 0x2060 | 0xFEFF | 0x202A..=0x202E
    )
}

/// Emoji: the pictographic blocks plus the joiners and selectors that build emoji sequences.
///
/// The Miscellaneous Symbols and Dingbats blocks are emoji too, except the few signs that are in
/// GB2312 (☆ ★ ☉ ♀ ♂): Chinese input methods type them as ordinary text symbols.
pub(crate) fn is_emoji(c: char) -> bool {
    let u = c as u32;
    match u {
        0x2605 | 0x2606 | 0x2609 | 0x2640 | 0x2642 => false,
        0x1F000..=0x1FAFF // mahjong … symbols and pictographs extended-A (incl. flags 1F1E6–1F1FF)
        | 0x2600..=0x27BF // miscellaneous symbols, dingbats
        | 0x200D // zero-width joiner inside emoji sequences
        | 0xFE0E | 0xFE0F // variation selectors (text / emoji presentation)
        | 0x20E3 // combining keycap
        | 0xE0020..=0xE007F // tag sequences (subdivision flags)
        | 0x203C | 0x2049 | 0x2139
        | 0x231A | 0x231B | 0x2328 | 0x23CF | 0x23E9..=0x23F3 | 0x23F8..=0x23FA
        | 0x24C2 | 0x25AA | 0x25AB | 0x25B6 | 0x25C0 | 0x25FB..=0x25FE
        | 0x2934 | 0x2935 | 0x2B05..=0x2B07 | 0x2B1B | 0x2B1C | 0x2B50 | 0x2B55
        | 0x3030 | 0x303D | 0x3297 | 0x3299 => true,
        _ => false,
    }
}
