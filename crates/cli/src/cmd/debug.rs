//! 运维调试: read a captured push, check keys, encrypt a passive reply, decrypt mini-program data.
//! All crypto is wxdesk_wechat::crypto; this only reads stdin and prints.

use std::io::{Read, Write};

use serde_json::json;
use wxdesk_wechat::crypto::{MsgCrypt, decrypt_mini_program_data};

use crate::args::DebugCmd;
use crate::error::{CliError, Result};
use crate::out::Out;

fn read_stdin() -> Result<String> {
    let mut s = String::new();
    std::io::stdin()
        .read_to_string(&mut s)
        .map_err(|e| CliError::io("读取标准输入失败", e))?;
    Ok(s)
}

/// Prints `text` exactly as it is (no newline added), or as `{"<key>": text}` with `--json`.
fn print_exact(out: Out, key: &str, text: &str) -> Result<()> {
    if out.json {
        return out.json_line(&json!({ key: text }));
    }
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| CliError::io("写标准输出失败", e))
}

pub fn run(c: DebugCmd, out: Out) -> Result<()> {
    match c {
        DebugCmd::Decrypt {
            token,
            aes_key,
            appid,
            timestamp,
            nonce,
            msg_signature,
        } => {
            let crypt = MsgCrypt::new(&token, &aes_key, &appid)?;
            let input = read_stdin()?;
            let body = input.trim();
            if body.is_empty() {
                return Err(CliError::Usage(
                    "标准输入为空：请输入加密的 XML 包体或 Encrypt 值".into(),
                ));
            }
            // A whole body (XML or the mini-program JSON form) or the bare Encrypt/echostr value.
            let msg = if body.starts_with('<') || body.starts_with('{') {
                crypt.decrypt_push(&msg_signature, &timestamp, &nonce, body.as_bytes())?
            } else {
                if !crypt.verify_msg_signature(&msg_signature, &timestamp, &nonce, body) {
                    return Err(wxdesk_wechat::Error::SignatureMismatch.into());
                }
                crypt.decrypt(body)?
            };
            print_exact(out, "message", &msg)
        }
        DebugCmd::Encrypt {
            token,
            aes_key,
            appid,
            timestamp,
            nonce,
            random,
        } => {
            let crypt = MsgCrypt::new(&token, &aes_key, &appid)?;
            let input = read_stdin()?;
            // `echo` adds one newline that is not part of the message.
            let msg = input
                .strip_suffix("\r\n")
                .or_else(|| input.strip_suffix('\n'))
                .unwrap_or(&input);
            let xml = match random {
                Some(r) => {
                    let bytes: [u8; 16] = r.as_bytes().try_into().map_err(|_| {
                        CliError::Usage(format!(
                            "--random 必须正好 16 个字节（ASCII 字符），实际 {} 字节",
                            r.len()
                        ))
                    })?;
                    crypt.encrypt_reply_with_random(msg, &timestamp, &nonce, &bytes)
                }
                None => crypt.encrypt_reply(msg, &timestamp, &nonce),
            };
            if out.json {
                return out.json_line(&json!({ "reply": xml }));
            }
            crate::outln!("{xml}");
            Ok(())
        }
        DebugCmd::DecryptMini {
            session_key,
            iv,
            appid,
        } => {
            let input = read_stdin()?;
            let data = input.trim();
            let json = match appid {
                Some(a) => decrypt_mini_program_data(&session_key, &iv, data, &a)?,
                // No appid to check: decrypt once to learn the watermark, then accept it.
                None => match decrypt_mini_program_data(&session_key, &iv, data, "") {
                    Ok(j) => j,
                    Err(wxdesk_wechat::Error::WatermarkMismatch { actual, .. }) => {
                        decrypt_mini_program_data(&session_key, &iv, data, &actual)?
                    }
                    Err(e) => return Err(e.into()),
                },
            };
            if out.json {
                let value: serde_json::Value = serde_json::from_str(&json)
                    .map_err(|e| CliError::Failed(format!("解密结果不是 JSON：{e}")))?;
                return out.json_line(&value);
            }
            crate::outln!("{json}");
            Ok(())
        }
    }
}
