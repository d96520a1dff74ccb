//! Sealing secrets at rest in PostgreSQL (authorizer refresh tokens): XChaCha20-Poly1305 under
//! the server key, with what the secret belongs to as associated data, so a sealed value copied
//! onto another row does not open. A database dump alone never yields a refresh token.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use rand::RngCore;

use crate::config::Secret;
use crate::error::{Error, Result};

const NONCE_LEN: usize = 24;

/// The server key, checked: 32 bytes.
#[derive(Clone)]
pub struct SealKey(Key);

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealKey(***)")
    }
}

impl SealKey {
    /// From `server_key`: 32 bytes in standard base64 (`openssl rand -base64 32`).
    pub fn from_config(key: &Secret) -> Result<Self> {
        let bytes = STANDARD
            .decode(key.expose().trim())
            .ok()
            .filter(|b| b.len() == 32)
            .ok_or_else(|| Error::InvalidKey {
                key: "server_key",
                reason: "应为 32 字节的 base64（openssl rand -base64 32）/ expected 32 bytes in \
                         base64 (openssl rand -base64 32)"
                    .into(),
            })?;
        Ok(Self(*Key::from_slice(&bytes)))
    }

    /// nonce ‖ ciphertext, base64. `context` names the row (e.g. `refresh_token:wx…`).
    pub fn seal(&self, context: &str, plain: &str) -> Result<String> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = XChaCha20Poly1305::new(&self.0)
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plain.as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| Error::Team("加密失败 / sealing failed".into()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(STANDARD.encode(out))
    }

    /// Opens what [`SealKey::seal`] made for the same `context`; a wrong key, a damaged value or
    /// another row's value is an error (never a wrong secret).
    pub fn open(&self, context: &str, sealed: &str) -> Result<Secret> {
        let refuse = || {
            Error::Team(
                "无法解密已存储的密钥：server_key 与写入时不同，或数据已损坏 / cannot open a stored \
                 secret: the server_key differs from the one that sealed it, or the data is damaged"
                    .into(),
            )
        };
        let bytes = STANDARD.decode(sealed).map_err(|_| refuse())?;
        if bytes.len() < NONCE_LEN + 16 {
            return Err(refuse());
        }
        let (nonce, body) = bytes.split_at(NONCE_LEN);
        let plain = XChaCha20Poly1305::new(&self.0)
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| refuse())?;
        String::from_utf8(plain)
            .map(Secret::new)
            .map_err(|_| refuse())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> SealKey {
        SealKey::from_config(&Secret::new(STANDARD.encode([byte; 32]))).expect("key")
    }

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_and_context() {
        let k = key(7);
        let sealed = k
            .seal("refresh_token:wxA", "refreshtoken@@@secret")
            .expect("seal");
        assert!(!sealed.contains("refreshtoken"));
        assert_eq!(
            k.open("refresh_token:wxA", &sealed).expect("open").expose(),
            "refreshtoken@@@secret"
        );
        assert!(k.open("refresh_token:wxB", &sealed).is_err());
        assert!(key(8).open("refresh_token:wxA", &sealed).is_err());
        assert!(k.open("refresh_token:wxA", "garbage").is_err());
        // Two seals of one value differ (fresh nonce).
        assert_ne!(
            sealed,
            k.seal("refresh_token:wxA", "refreshtoken@@@secret")
                .expect("seal")
        );
    }

    #[test]
    fn the_server_key_must_be_32_bytes_of_base64() {
        assert!(SealKey::from_config(&Secret::new("short")).is_err());
        assert!(SealKey::from_config(&Secret::new(STANDARD.encode([1u8; 16]))).is_err());
        assert!(SealKey::from_config(&Secret::new(STANDARD.encode([1u8; 32]))).is_ok());
    }
}
