//! WXBizMsgCrypt (protocol A.2–A.7): SHA1 signatures over sorted strings, AES-256-CBC with the
//! key's first 16 bytes as IV, PKCS#7 padding to **32**-byte blocks, and the plaintext layout
//! `random(16) | msg_len (u32 BE) | msg | receive_id`.

pub mod fingerprint;
mod mini;
#[cfg(test)]
mod tests;

pub use mini::{decrypt_mini_program_data, verify_raw_data_signature};

use std::fmt;

use aes::Aes256;
use base64::Engine as _;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use cbc::cipher::block_padding::NoPadding;
use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use rand::Rng;
use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;

use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::xml::{self, cdata};

/// WeChat pads to 32-byte blocks, not AES's 16.
const PAD_BLOCK: usize = 32;
const RANDOM_LEN: usize = 16;
const HEADER_LEN: usize = RANDOM_LEN + 4;

/// EncodingAESKey is 43 base64 characters; with "=" appended it is 32 bytes whose last
/// character's low bits are not necessarily zero, so the decoder must not insist on canonical
/// trailing bits (the official samples' decoders don't).
const LENIENT_B64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
);

type Aes256CbcEnc = cbc::Encryptor<Aes256>;
type Aes256CbcDec = cbc::Decryptor<Aes256>;

/// The outer element that names the receiver of an encrypted push (protocol A.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Envelope {
    /// `<AppId>` — the authorization-event URL (component appid).
    AppId(String),
    /// `<ToUserName>` — the message URL (authorizer's gh_ id).
    ToUserName(String),
}

/// Message crypto for one (token, EncodingAESKey, receive_id).
#[derive(Clone)]
pub struct MsgCrypt {
    token: Secret,
    key: [u8; 32],
    receive_id: String,
}

impl fmt::Debug for MsgCrypt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MsgCrypt")
            .field("token", &"<redacted>")
            .field("key", &"<redacted>")
            .field("receive_id", &self.receive_id)
            .finish()
    }
}

/// Lowercase hex SHA1 of the concatenation of the parts sorted bytewise.
fn sha1_sorted(parts: &mut [&str]) -> String {
    parts.sort_unstable();
    let mut h = Sha1::new();
    for p in parts.iter() {
        h.update(p.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Constant-time equality of a received hex signature with the expected one (case-insensitive,
/// since hex case carries no meaning).
fn signature_eq(received: &str, expected: &str) -> bool {
    let received = received.trim().to_ascii_lowercase();
    bool::from(received.as_bytes().ct_eq(expected.as_bytes()))
}

/// 16 random ASCII letters/digits, as the official samples use.
fn random_prefix() -> [u8; RANDOM_LEN] {
    let mut out = [0u8; RANDOM_LEN];
    let mut rng = rand::rng();
    for b in &mut out {
        *b = rng.sample(rand::distr::Alphanumeric);
    }
    out
}

impl MsgCrypt {
    pub fn new(token: &str, encoding_aes_key: &str, receive_id: &str) -> Result<Self> {
        if token.is_empty() {
            return Err(Error::EmptyToken);
        }
        if encoding_aes_key.len() != 43
            || !encoding_aes_key.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(Error::InvalidAesKey);
        }
        let bytes = LENIENT_B64
            .decode(format!("{encoding_aes_key}="))
            .map_err(|_| Error::InvalidAesKey)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| Error::InvalidAesKey)?;
        Ok(Self {
            token: Secret::new(token),
            key,
            receive_id: receive_id.to_owned(),
        })
    }

    /// The id appended to (and expected in) every plaintext.
    pub fn receive_id(&self) -> &str {
        &self.receive_id
    }

    /// `msg_signature`: sha1 hex of sorted `[token, timestamp, nonce, encrypt]`.
    pub fn msg_signature(&self, timestamp: &str, nonce: &str, encrypt: &str) -> String {
        sha1_sorted(&mut [self.token.expose(), timestamp, nonce, encrypt])
    }

    /// URL `signature` (and the echostr check): sha1 hex of sorted `[token, timestamp, nonce]`.
    pub fn url_signature(&self, timestamp: &str, nonce: &str) -> String {
        sha1_sorted(&mut [self.token.expose(), timestamp, nonce])
    }

    /// Constant-time check of the URL `signature`. For the echostr GET (A.7), answer the raw
    /// echostr when this is true.
    pub fn verify_url_signature(&self, signature: &str, timestamp: &str, nonce: &str) -> bool {
        signature_eq(signature, &self.url_signature(timestamp, nonce))
    }

    /// Constant-time check of `msg_signature`.
    pub fn verify_msg_signature(
        &self,
        msg_signature: &str,
        timestamp: &str,
        nonce: &str,
        encrypt: &str,
    ) -> bool {
        signature_eq(
            msg_signature,
            &self.msg_signature(timestamp, nonce, encrypt),
        )
    }

    fn iv(&self) -> [u8; 16] {
        let mut iv = [0u8; 16];
        iv.copy_from_slice(&self.key[..16]);
        iv
    }

    /// base64 `Encrypt` → the message; the receive id trailer must equal ours.
    pub fn decrypt(&self, encrypt_b64: &str) -> Result<String> {
        let full = self.decrypt_full(encrypt_b64)?;
        let (msg, receive_id) = split_full(&full)?;
        if receive_id != self.receive_id.as_bytes() {
            return Err(Error::ReceiveIdMismatch {
                expected: self.receive_id.clone(),
                // An appid is ~18 bytes; cap what a garbage trailer can put into a message.
                actual: String::from_utf8_lossy(receive_id)
                    .chars()
                    .take(64)
                    .collect(),
            });
        }
        String::from_utf8(msg.to_vec()).map_err(|_| Error::MalformedPlaintext)
    }

    /// base64 → AES-256-CBC decrypt → strip the 32-block padding. Returns FullStr.
    fn decrypt_full(&self, encrypt_b64: &str) -> Result<Vec<u8>> {
        let mut buf = STANDARD
            .decode(encrypt_b64.trim())
            .map_err(|_| Error::Base64)?;
        if buf.is_empty() || buf.len() % 16 != 0 {
            return Err(Error::Decrypt);
        }
        let dec = Aes256CbcDec::new(&self.key.into(), &self.iv().into());
        let plain_len = dec
            .decrypt_padded::<NoPadding>(&mut buf)
            .map_err(|_| Error::Decrypt)?
            .len();
        buf.truncate(plain_len);
        // The official samples treat a pad byte outside 1..=32 as "no padding".
        let pad = buf.last().map_or(0, |&b| usize::from(b));
        let pad = if (1..=PAD_BLOCK).contains(&pad) {
            pad
        } else {
            0
        };
        buf.truncate(buf.len().saturating_sub(pad));
        Ok(buf)
    }

    /// Plaintext → base64 `Encrypt` with a fresh random 16-character prefix.
    pub fn encrypt(&self, msg: &str) -> String {
        self.encrypt_with_random(msg, &random_prefix())
    }

    /// Deterministic form of [`encrypt`](Self::encrypt), for the official vectors and tests.
    pub fn encrypt_with_random(&self, msg: &str, random: &[u8; 16]) -> String {
        let msg = msg.as_bytes();
        let rid = self.receive_id.as_bytes();
        // A message over 4 GiB cannot be framed; nothing we send is close, so saturate rather
        // than fail (the receiver rejects it as malformed).
        let msg_len = u32::try_from(msg.len()).unwrap_or(u32::MAX);
        let body_len = HEADER_LEN + msg.len() + rid.len();
        let pad = PAD_BLOCK - body_len % PAD_BLOCK;
        let mut buf = Vec::with_capacity(body_len + pad);
        buf.extend_from_slice(random);
        buf.extend_from_slice(&msg_len.to_be_bytes());
        buf.extend_from_slice(msg);
        buf.extend_from_slice(rid);
        // pad is 1..=32, so it fits in a byte.
        buf.resize(body_len + pad, pad as u8);
        let total = buf.len();
        let enc = Aes256CbcEnc::new(&self.key.into(), &self.iv().into());
        // The buffer is already block-aligned, so NoPadding cannot fail; fall back to an empty
        // ciphertext rather than panic if that invariant were ever broken.
        let ct = enc
            .encrypt_padded::<NoPadding>(&mut buf, total)
            .map(<[u8]>::to_vec)
            .unwrap_or_default();
        STANDARD.encode(ct)
    }

    /// AES-encrypt already block-aligned bytes as they are (no framing, no padding), for the
    /// fuzz targets to feed chosen plaintexts to the decrypt path. Input that is not a multiple
    /// of 16 bytes gives an empty string.
    #[doc(hidden)]
    pub fn encrypt_raw_blocks(&self, plaintext: &[u8]) -> String {
        let mut buf = plaintext.to_vec();
        let len = buf.len();
        let enc = Aes256CbcEnc::new(&self.key.into(), &self.iv().into());
        enc.encrypt_padded::<NoPadding>(&mut buf, len)
            .map(|ct| STANDARD.encode(ct))
            .unwrap_or_default()
    }

    /// A whole inbound push: read `Encrypt` from the envelope (`<ToUserName>`, `<AppId>`, the
    /// compatibility form, or the mini-program JSON form), verify `msg_signature` in constant
    /// time, decrypt and check the receive id. Returns the decrypted XML (or JSON).
    pub fn decrypt_push(
        &self,
        msg_signature: &str,
        timestamp: &str,
        nonce: &str,
        body: &[u8],
    ) -> Result<String> {
        let encrypt = envelope_encrypt(body)?;
        if !self.verify_msg_signature(msg_signature, timestamp, nonce, &encrypt) {
            return Err(Error::SignatureMismatch);
        }
        self.decrypt(&encrypt)
    }

    /// A whole outbound push as WeChat sends it. Returns `(body_xml, msg_signature)`.
    pub fn encrypt_push(
        &self,
        msg: &str,
        envelope: &Envelope,
        timestamp: &str,
        nonce: &str,
    ) -> (String, String) {
        let encrypt = self.encrypt(msg);
        let signature = self.msg_signature(timestamp, nonce, &encrypt);
        let outer = match envelope {
            Envelope::AppId(id) => format!("<AppId>{}</AppId>", cdata(id)),
            Envelope::ToUserName(id) => format!("<ToUserName>{}</ToUserName>", cdata(id)),
        };
        let body = format!("<xml>{outer}<Encrypt>{}</Encrypt></xml>", cdata(&encrypt));
        (body, signature)
    }

    /// Passive encrypted reply XML (protocol A.6).
    pub fn encrypt_reply(&self, msg: &str, timestamp: &str, nonce: &str) -> String {
        self.encrypt_reply_with_random(msg, timestamp, nonce, &random_prefix())
    }

    /// Deterministic form of [`encrypt_reply`](Self::encrypt_reply).
    pub fn encrypt_reply_with_random(
        &self,
        msg: &str,
        timestamp: &str,
        nonce: &str,
        random: &[u8; 16],
    ) -> String {
        let encrypt = self.encrypt_with_random(msg, random);
        let signature = self.msg_signature(timestamp, nonce, &encrypt);
        format!(
            "<xml>\n<Encrypt>{}</Encrypt>\n<MsgSignature>{}</MsgSignature>\n<TimeStamp>{}</TimeStamp>\n<Nonce>{}</Nonce>\n</xml>",
            cdata(&encrypt),
            cdata(&signature),
            xml_text(timestamp),
            cdata(nonce),
        )
    }
}

/// Key rotation (protocol A.1): try the current configuration first, then previous ones. Returns
/// the one that decrypted the push, which is also the one to encrypt the reply with. When none
/// works, the error is the current configuration's.
pub fn decrypt_push_any<'a>(
    crypts: &'a [MsgCrypt],
    msg_signature: &str,
    timestamp: &str,
    nonce: &str,
    body: &[u8],
) -> Result<(&'a MsgCrypt, String)> {
    let mut first_err = None;
    for c in crypts {
        match c.decrypt_push(msg_signature, timestamp, nonce, body) {
            Ok(msg) => return Ok((c, msg)),
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    Err(first_err.unwrap_or(Error::InvalidAesKey))
}

/// Escapes text for an element without CDATA (TimeStamp is a number, but never trust input).
fn xml_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// FullStr → (msg, receive_id), checking every length against the buffer.
fn split_full(full: &[u8]) -> Result<(&[u8], &[u8])> {
    let len_bytes: [u8; 4] = full
        .get(RANDOM_LEN..HEADER_LEN)
        .and_then(|b| b.try_into().ok())
        .ok_or(Error::MalformedPlaintext)?;
    let msg_len =
        usize::try_from(u32::from_be_bytes(len_bytes)).map_err(|_| Error::MalformedPlaintext)?;
    let msg_end = HEADER_LEN
        .checked_add(msg_len)
        .ok_or(Error::MalformedPlaintext)?;
    let msg = full
        .get(HEADER_LEN..msg_end)
        .ok_or(Error::MalformedPlaintext)?;
    let rid = full.get(msg_end..).ok_or(Error::MalformedPlaintext)?;
    Ok((msg, rid))
}

/// The `Encrypt` text of an inbound body, whichever envelope carries it.
fn envelope_encrypt(body: &[u8]) -> Result<String> {
    if body.len() > xml::MAX_XML_BYTES {
        return Err(Error::XmlTooLarge {
            len: body.len(),
            limit: xml::MAX_XML_BYTES,
        });
    }
    let text = std::str::from_utf8(body).map_err(|_| Error::Xml("body is not UTF-8".into()))?;
    if text.trim_start().starts_with('{') {
        // Mini-program JSON push mode: {"ToUserName": "...", "Encrypt": "..."}.
        #[derive(serde::Deserialize)]
        struct JsonEnvelope {
            #[serde(rename = "Encrypt")]
            encrypt: String,
        }
        let env: JsonEnvelope =
            serde_json::from_str(text).map_err(|_| Error::MissingField("Encrypt"))?;
        return Ok(env.encrypt);
    }
    let flat = xml::parse_flat(text)?;
    flat.require("Encrypt")
}
