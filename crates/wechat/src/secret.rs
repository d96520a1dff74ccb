//! Secrets (appsecret, message token, EncodingAESKey, refresh/access tokens, tickets) travel in
//! [`Secret`] so that no `{:?}`, `{}` or `serde` call can leak them into a log, an error message or
//! a database by accident. The only way out is the explicit [`Secret::expose`]. The bytes are
//! overwritten when a `Secret` (or any clone of it) is dropped, so a freed allocation does not
//! keep the value around for a core dump or a later read of the heap.

use std::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// A string that prints as `<redacted>`, refuses to serialize and is wiped on drop.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(Zeroizing::new(value.into()))
    }

    /// The plain value, for the one place that must send it (an HTTP body, a signature).
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

impl Zeroize for Secret {
    fn zeroize(&mut self) {
        self.0.zeroize();
    }
}

/// The inner `Zeroizing` wipes the string when the `Secret` drops.
impl ZeroizeOnDrop for Secret {}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl serde::Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, _serializer: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom(
            "refusing to serialize a secret (密钥不可序列化)",
        ))
    }
}

/// Deserializing is allowed: secrets arrive in WeChat's JSON responses.
impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Secret::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_value() {
        let s = Secret::new("appsecret-123");
        assert_eq!(format!("{s:?}"), "<redacted>");
        assert_eq!(format!("{s}"), "<redacted>");
        #[derive(Debug)]
        #[allow(dead_code)]
        struct Holder {
            token: Secret,
        }
        let h = Holder { token: s.clone() };
        assert!(!format!("{h:?}").contains("appsecret"));
        assert_eq!(s.expose(), "appsecret-123");
    }

    #[test]
    fn serialize_is_refused() {
        let err = serde_json::to_string(&Secret::new("x")).unwrap_err();
        assert!(err.to_string().contains("refusing to serialize a secret"));
    }

    /// Compile-time: `Secret` promises to wipe itself when dropped.
    const _: fn() = || {
        fn wiped_on_drop<T: ZeroizeOnDrop>() {}
        wiped_on_drop::<Secret>();
    };

    #[test]
    fn zeroize_clears_the_value_and_leaves_a_usable_empty_secret() {
        let mut s = Secret::new("appsecret-to-forget");
        let copy = s.clone();
        s.zeroize();
        assert!(s.is_empty());
        assert_eq!(s.expose(), "");
        assert_eq!(
            copy.expose(),
            "appsecret-to-forget",
            "a clone is its own copy"
        );
    }

    #[test]
    fn deserializes_from_a_json_string() {
        let s: Secret = serde_json::from_str("\"tok\"").unwrap();
        assert_eq!(s.expose(), "tok");
    }
}
