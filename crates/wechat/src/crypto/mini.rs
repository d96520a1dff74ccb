//! Mini-program open data (`encryptedData`, protocol A.8): AES-128-CBC with standard 16-byte
//! PKCS#7, key = base64(session_key), IV from the front end; the JSON's `watermark.appid` must be
//! ours.

use aes::Aes128;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockModeDecrypt, KeyIvInit};
use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;

use crate::error::{Error, Result};

type Aes128CbcDec = cbc::Decryptor<Aes128>;

fn b64_16(value: &str) -> Result<[u8; 16]> {
    let bytes = STANDARD.decode(value.trim()).map_err(|_| Error::Base64)?;
    bytes.try_into().map_err(|_| Error::Decrypt)
}

/// Decrypt `encryptedData` and check `watermark.appid == appid`. Returns the JSON text.
pub fn decrypt_mini_program_data(
    session_key_b64: &str,
    iv_b64: &str,
    data_b64: &str,
    appid: &str,
) -> Result<String> {
    let key = b64_16(session_key_b64)?;
    let iv = b64_16(iv_b64)?;
    let mut buf = STANDARD
        .decode(data_b64.trim())
        .map_err(|_| Error::Base64)?;
    let dec = Aes128CbcDec::new(&key.into(), &iv.into());
    let plain = dec
        .decrypt_padded::<Pkcs7>(&mut buf)
        .map_err(|_| Error::Decrypt)?;
    let text = std::str::from_utf8(plain).map_err(|_| Error::MalformedPlaintext)?;

    #[derive(serde::Deserialize)]
    struct Watermark {
        appid: String,
    }
    #[derive(serde::Deserialize)]
    struct WithWatermark {
        watermark: Watermark,
    }
    let parsed: WithWatermark =
        serde_json::from_str(text).map_err(|_| Error::MissingField("watermark.appid"))?;
    if parsed.watermark.appid != appid {
        return Err(Error::WatermarkMismatch {
            expected: appid.to_owned(),
            actual: parsed.watermark.appid,
        });
    }
    Ok(text.to_owned())
}

/// `signature == sha1(rawData + session_key)` for the non-sensitive user info (constant time).
pub fn verify_raw_data_signature(raw_data: &str, session_key: &str, signature: &str) -> bool {
    let mut h = Sha1::new();
    h.update(raw_data.as_bytes());
    h.update(session_key.as_bytes());
    let expected = hex::encode(h.finalize());
    let received = signature.trim().to_ascii_lowercase();
    bool::from(received.as_bytes().ct_eq(expected.as_bytes()))
}
