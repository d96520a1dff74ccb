//! The `state` of an authorization attempt: issued by the desk (core's `begin_authorization`),
//! checked by the relay on `/auth/start` and `/auth/callback`. Without it anyone could send the
//! relay auth codes, and each one would make the desk call api_query_auth.
//!
//! `v1.<expires_at>.<nonce>.<mac>`: unix seconds, 16 random bytes in hex, and
//! HMAC-SHA256 in hex over `v1.<expires_at>.<nonce>`. The MAC key is derived from the relay's
//! API key (the desk keeps the same value in its keychain as the relay key), under a label of
//! its own, so the bearer key itself never keys anything an outsider sees. Pure: the caller
//! brings the clock and the randomness, so both sides and the tests use this one copy.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The format version; a new format gets a new prefix and the old one is refused.
pub const VERSION: &str = "v1";
/// WeChat's pre_auth_code lives 600 s; the state lives that long plus a margin for the page
/// round trips.
pub const TTL_SECS: i64 = 600 + 120;
/// How far the desk's clock may run ahead of the relay's: an expiry beyond now + TTL + this was
/// not issued for an attempt starting now.
pub const MAX_CLOCK_AHEAD_SECS: i64 = 300;
/// Nonce length in bytes.
pub const NONCE_LEN: usize = 16;
/// Label of the key derivation (domain separation from the bearer use of the same key).
const KEY_LABEL: &[u8] = b"wxdesk auth state key v1";
/// Longest well-formed state: "v1." + 19 digits + "." + 32 + "." + 64.
const MAX_LEN: usize = 3 + 19 + 1 + NONCE_LEN * 2 + 1 + 64;

/// Why a state was refused. The messages are fixed: nothing from the input is echoed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateError {
    /// No state at all.
    Missing,
    /// Not `v1.<digits>.<hex>.<hex>` of the right lengths.
    Malformed,
    /// Well-formed but not signed with this relay's key.
    BadMac,
    /// Signed by us, but its time is over.
    Expired,
    /// Signed by us, but it expires further ahead than any state issued now could.
    FromTheFuture,
}

impl StateError {
    /// A stable machine-readable code.
    pub fn code(self) -> &'static str {
        match self {
            StateError::Missing => "state_missing",
            StateError::Malformed => "state_malformed",
            StateError::BadMac => "state_bad_mac",
            StateError::Expired => "state_expired",
            StateError::FromTheFuture => "state_from_the_future",
        }
    }
}

fn derived_key(relay_key: &str) -> HmacSha256 {
    // HMAC accepts keys of any length; both calls cannot fail.
    let mut kdf = <HmacSha256 as KeyInit>::new_from_slice(relay_key.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    kdf.update(KEY_LABEL);
    let key = kdf.finalize().into_bytes();
    <HmacSha256 as KeyInit>::new_from_slice(&key)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"))
}

fn mac_of(relay_key: &str, signed: &str) -> HmacSha256 {
    let mut mac = derived_key(relay_key);
    mac.update(signed.as_bytes());
    mac
}

/// A state for an attempt starting at `now` (unix seconds), with a fresh random `nonce`.
pub fn issue(relay_key: &str, now: i64, nonce: [u8; NONCE_LEN]) -> String {
    let signed = format!(
        "{VERSION}.{}.{}",
        now.saturating_add(TTL_SECS),
        hex::encode(nonce)
    );
    let mac = mac_of(relay_key, &signed).finalize().into_bytes();
    format!("{signed}.{}", hex::encode(mac))
}

/// Accept `state` only if this relay key signed it and it is still valid at `now`; returns its
/// expiry. The MAC is checked before the time, so only genuine states are told they expired.
pub fn verify(relay_key: &str, state: Option<&str>, now: i64) -> Result<i64, StateError> {
    let state = state.filter(|s| !s.is_empty()).ok_or(StateError::Missing)?;
    if state.len() > MAX_LEN || !state.is_ascii() {
        return Err(StateError::Malformed);
    }
    let mut parts = state.split('.');
    let (Some(version), Some(exp), Some(nonce), Some(mac_hex), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(StateError::Malformed);
    };
    let lower_hex = |s: &str| s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if version != VERSION
        || exp.is_empty()
        || exp.len() > 19
        || !exp.bytes().all(|b| b.is_ascii_digit())
        || nonce.len() != NONCE_LEN * 2
        || !lower_hex(nonce)
        || mac_hex.len() != 64
        || !lower_hex(mac_hex)
    {
        return Err(StateError::Malformed);
    }
    let expires_at: i64 = exp.parse().map_err(|_| StateError::Malformed)?;
    let presented = hex::decode(mac_hex).map_err(|_| StateError::Malformed)?;
    // Over the text exactly as presented (a re-formatted number, such as a leading zero, is
    // another state); verify_slice compares in constant time.
    let signed = &state[..state.len() - mac_hex.len() - 1];
    mac_of(relay_key, signed)
        .verify_slice(&presented)
        .map_err(|_| StateError::BadMac)?;
    if now > expires_at {
        return Err(StateError::Expired);
    }
    if expires_at > now.saturating_add(TTL_SECS + MAX_CLOCK_AHEAD_SECS) {
        return Err(StateError::FromTheFuture);
    }
    Ok(expires_at)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "relay-key-0123456789abcdef";
    const NOW: i64 = 1_700_000_000;
    const NONCE: [u8; NONCE_LEN] = [7; NONCE_LEN];

    #[test]
    fn a_state_is_valid_for_its_lifetime_under_the_key_that_issued_it() {
        let s = issue(KEY, NOW, NONCE);
        assert!(s.starts_with("v1.1700000720.0707"), "{s}");
        assert_eq!(verify(KEY, Some(&s), NOW), Ok(NOW + TTL_SECS));
        assert_eq!(verify(KEY, Some(&s), NOW + TTL_SECS), Ok(NOW + TTL_SECS));
        assert_eq!(
            verify(KEY, Some(&s), NOW + TTL_SECS + 1),
            Err(StateError::Expired)
        );
        // The relay's clock may be behind the desk's by a few minutes, not by hours.
        assert!(verify(KEY, Some(&s), NOW - MAX_CLOCK_AHEAD_SECS).is_ok());
        assert_eq!(
            verify(KEY, Some(&s), NOW - MAX_CLOCK_AHEAD_SECS - 1),
            Err(StateError::FromTheFuture)
        );
    }

    #[test]
    fn another_key_or_any_changed_character_is_refused() {
        let s = issue(KEY, NOW, NONCE);
        assert_eq!(
            verify("another-relay-key-0123456", Some(&s), NOW),
            Err(StateError::BadMac)
        );
        // Every single-character change: a later expiry, another nonce, another MAC.
        for i in 3..s.len() {
            let mut b = s.clone().into_bytes();
            b[i] = match b[i] {
                b'0' => b'1',
                b'.' => continue,
                _ => b'0',
            };
            let tampered = String::from_utf8(b).expect("ascii");
            assert_eq!(
                verify(KEY, Some(&tampered), NOW),
                Err(StateError::BadMac),
                "{tampered}"
            );
        }
        // Signed as written: the same expiry spelt with a leading zero is not the same state.
        assert_eq!(
            verify(KEY, Some(&s.replacen("v1.", "v1.0", 1)), NOW),
            Err(StateError::BadMac)
        );
        // The nonce is covered: two attempts never share a state.
        assert_ne!(s, issue(KEY, NOW, [8; NONCE_LEN]));
    }

    #[test]
    fn missing_and_malformed_states_are_refused_without_a_panic() {
        assert_eq!(verify(KEY, None, NOW), Err(StateError::Missing));
        assert_eq!(verify(KEY, Some(""), NOW), Err(StateError::Missing));
        let good = issue(KEY, NOW, NONCE);
        let upper = good.to_uppercase().replacen("V1", "v1", 1);
        for bad in [
            "s1",
            "v1...",
            "v2.1700000720.07070707070707070707070707070707.00",
            &good.replacen("v1", "v2", 1),
            &format!("{good}.x"),
            &good[..good.len() - 1],
            &upper,
            "v1.99999999999999999999.07070707070707070707070707070707.0000000000000000000000000000000000000000000000000000000000000000",
            "v1.-5.07070707070707070707070707070707.0000000000000000000000000000000000000000000000000000000000000000",
            "v1.１.07070707070707070707070707070707.0000000000000000000000000000000000000000000000000000000000000000",
        ] {
            assert_eq!(
                verify(KEY, Some(bad), NOW),
                Err(StateError::Malformed),
                "{bad}"
            );
        }
    }
}
