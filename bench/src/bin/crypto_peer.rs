//! The callback decrypt work (msg_signature check + AES-CBC decrypt + parse) on N distinct pushes,
//! written to a JSON-lines file so wechatpy (bench/peer/wechatpy_decrypt.py) does the very same
//! work on the same payloads in the same run: the peer baseline of the relay benchmark.
//!
//! `crypto_peer <pushes> <out.jsonl>`

use std::io::Write;
use std::time::Instant;

use serde_json::json;
use wxdesk_bench::{BoxError, arg, emit};
use wxdesk_wechat::callback;
use wxdesk_wechat::crypto::{Envelope, MsgCrypt};

const APPID: &str = "wx5a9d0c0e7f3b1a2c";
const TOKEN: &str = "wxdesksandbox";
const AES_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

fn main() -> Result<(), BoxError> {
    let n: usize = arg(1, 20_000);
    let out = std::env::args()
        .nth(2)
        .ok_or("usage: crypto_peer N OUT.jsonl")?;
    let crypt = MsgCrypt::new(TOKEN, AES_KEY, APPID)?;
    let mut pushes = Vec::with_capacity(n);
    for i in 0..n {
        let msg = format!(
            "<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName><FromUserName><![CDATA[oUser{i:023}]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[你好，订单 {i} 什么时候发货？]]></Content><MsgId>{}</MsgId></xml>",
            24_000_000_000_000_000i64 + i as i64
        );
        let (ts, nonce) = (format!("{}", 1_700_000_000 + i), format!("n{i}"));
        let (body, sig) = crypt.encrypt_push(
            &msg,
            &Envelope::ToUserName("gh_0123456789ab".into()),
            &ts,
            &nonce,
        );
        pushes.push((sig, ts, nonce, body));
    }
    let mut f = std::io::BufWriter::new(std::fs::File::create(&out)?);
    for (sig, ts, nonce, body) in &pushes {
        writeln!(
            f,
            "{}",
            json!({"msg_signature": sig, "timestamp": ts, "nonce": nonce, "body": body})
        )?;
    }
    f.flush()?;
    let t = Instant::now();
    let mut ok = 0usize;
    for (sig, ts, nonce, body) in &pushes {
        let xml = crypt.decrypt_push(sig, ts, nonce, body.as_bytes())?;
        if matches!(callback::parse(&xml)?, callback::Callback::Text { .. }) {
            ok += 1;
        }
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "wxdesk-wechat: verify + decrypt + parse of {n} pushes, one thread: {:.0}/s ({ok} text messages)",
        n as f64 / secs
    );
    emit(&json!({"bench": "decrypt_rust", "pushes": n, "per_s": n as f64 / secs, "ok": ok}));
    Ok(())
}
