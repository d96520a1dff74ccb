//! Keyed fingerprints of the platform's message secrets (消息校验 Token, EncodingAESKey), so a
//! desk can find out whether the relay was configured with the same ones without either side
//! sending a secret: the desk picks a fresh nonce, the relay answers HMAC-SHA256(secret, label |
//! nonce) for each of its secrets, and the desk compares with its own. A fingerprint reveals
//! nothing of the secret, and a fresh nonce makes an old answer useless.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Shortest and longest nonce accepted (letters and digits).
pub const NONCE_LEN: std::ops::RangeInclusive<usize> = 16..=128;

/// Which secret a fingerprint is of: part of the MAC's input, so a token's fingerprint can
/// never stand for a key's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Token,
    AesKey,
}

impl KeyKind {
    fn label(self) -> &'static str {
        match self {
            KeyKind::Token => "wxdesk key fingerprint v1 token",
            KeyKind::AesKey => "wxdesk key fingerprint v1 aes_key",
        }
    }
}

/// Whether `nonce` is one the relay answers for: 16 to 128 ASCII letters or digits.
pub fn valid_nonce(nonce: &str) -> bool {
    NONCE_LEN.contains(&nonce.len()) && nonce.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The fingerprint of `secret` for `nonce`, as 64 lowercase hex digits. Surrounding whitespace
/// is not part of a secret (a pasted value often carries some).
/// Takes the secret's value as text: the relay and the desk each keep it in their own wrapper.
pub fn key_fingerprint(kind: KeyKind, secret: &str, nonce: &str) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.trim().as_bytes()) else {
        // HMAC takes a key of any length; this cannot happen.
        unreachable!("HMAC accepts keys of every length")
    };
    mac.update(kind.label().as_bytes());
    mac.update(b"\n");
    mac.update(nonce.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Whether `secret` has the fingerprint `answer` for `nonce` (compared in constant time).
pub fn fingerprint_matches(kind: KeyKind, secret: &str, nonce: &str, answer: &str) -> bool {
    let ours = key_fingerprint(kind, secret, nonce);
    bool::from(
        ours.as_bytes()
            .ct_eq(answer.trim().to_ascii_lowercase().as_bytes()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const NONCE: &str = "0123456789abcdefXYZ";

    #[test]
    fn same_secret_same_nonce_matches_and_anything_else_does_not() {
        let token = "platform-token";
        let fp = key_fingerprint(KeyKind::Token, token, NONCE);
        assert_eq!(fp.len(), 64);
        assert!(fingerprint_matches(KeyKind::Token, token, NONCE, &fp));
        assert!(fingerprint_matches(
            KeyKind::Token,
            " platform-token\n",
            NONCE,
            &fp.to_uppercase()
        ));
        // Another secret, another nonce, or the other kind: no match.
        assert!(!fingerprint_matches(
            KeyKind::Token,
            "platform-tokem",
            NONCE,
            &fp
        ));
        assert!(!fingerprint_matches(
            KeyKind::Token,
            token,
            "0123456789abcdefXYz",
            &fp
        ));
        assert!(!fingerprint_matches(KeyKind::AesKey, token, NONCE, &fp));
        assert!(!fingerprint_matches(KeyKind::Token, token, NONCE, ""));
        // The fingerprint does not contain the secret in any readable form.
        assert!(!fp.contains(&hex::encode("platform-token")));
    }

    #[test]
    fn nonces_are_letters_and_digits_of_a_sane_length() {
        assert!(valid_nonce(NONCE));
        assert!(!valid_nonce("short"));
        assert!(!valid_nonce(&"a".repeat(129)));
        assert!(valid_nonce(&"a".repeat(128)));
        assert!(!valid_nonce("0123456789abcdef/"));
        assert!(!valid_nonce("0123456789abcdéf0"));
    }
}
