//! Bodies of the fuzz targets, shared by the cargo-fuzz crate (`crates/wechat/fuzz`, nightly)
//! and the stable smoke harness (`tests/fuzz_smoke.rs`), so both exercise the same code. Each
//! must return normally for every input; a panic is a bug.

use crate::callback;
use crate::crypto::MsgCrypt;

const TOKEN: &str = "wxdesksandbox";
const EAK: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const APPID: &str = "wx5a9d0c0e7f3b1a2c";

/// The callback parser on arbitrary bytes (as text when UTF-8, lossily otherwise).
pub fn callback_parse(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = callback::parse(&text);
}

fn crypt() -> Option<MsgCrypt> {
    MsgCrypt::new(TOKEN, EAK, APPID).ok()
}

/// decrypt_push on arbitrary input, three ways:
/// 1. the raw bytes as a body with fuzzer-chosen signature/timestamp/nonce;
/// 2. the bytes as `Encrypt` text inside a correctly signed envelope, so the signature check
///    passes and base64/AES/layout parsing is reached;
/// 3. the bytes as the AES *plaintext* (FullStr, padding included), so the length/padding/
///    receive-id parsing sees fuzzer-controlled values rather than AES noise.
pub fn decrypt_push(data: &[u8]) {
    let Some(c) = crypt() else { return };
    let (head, body) = data.split_at(data.len().min(8));
    let (ts, nonce) = head.split_at(head.len() / 2);
    let (sig, ts, nonce) = (
        String::from_utf8_lossy(head),
        String::from_utf8_lossy(ts),
        String::from_utf8_lossy(nonce),
    );
    let _ = c.decrypt_push(&sig, &ts, &nonce, body);

    let encrypt = String::from_utf8_lossy(body);
    let sig = c.msg_signature(&ts, &nonce, &encrypt);
    let envelope = format!("<xml><AppId>{APPID}</AppId><Encrypt>{encrypt}</Encrypt></xml>");
    if let Ok(msg) = c.decrypt_push(&sig, &ts, &nonce, envelope.as_bytes()) {
        let _ = callback::parse(&msg);
    }

    let aligned = &data[..data.len() - data.len() % 16];
    let raw = c.encrypt_raw_blocks(aligned);
    if let Ok(msg) = c.decrypt(&raw) {
        let _ = callback::parse(&msg);
    }
}
