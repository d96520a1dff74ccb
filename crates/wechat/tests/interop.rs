//! Interop with wechatpy (PyPI), an independent WXBizMsgCrypt implementation, in both
//! directions and component-style (receive id = the component appid):
//! wechatpy decrypts what we encrypt, and we decrypt what wechatpy encrypts.
//!
//! Creates a throwaway venv in a temp dir and `pip install`s wechatpy + cryptography, so it
//! needs python3 with the venv module (Debian's python3-venv, which scripts/setup-system.sh
//! installs) and access to PyPI: `#[ignore]`d for a plain `cargo test`, run by
//! scripts/test-all.sh with `--include-ignored`, and a failure (never a silent pass) when the
//! environment lacks them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use wxdesk_wechat::crypto::{Envelope, MsgCrypt};

const TOKEN: &str = "wxdesksandbox";
const EAK: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const COMPONENT_APPID: &str = "wx5a9d0c0e7f3b1a2c";
const AUTHORIZER_APPID: &str = "wxf8b4f85f3a794e77";

fn messages() -> Vec<String> {
    let ticket = "<xml><AppId><![CDATA[wx5a9d0c0e7f3b1a2c]]></AppId><CreateTime>1700000000</CreateTime><InfoType><![CDATA[component_verify_ticket]]></InfoType><ComponentVerifyTicket><![CDATA[ticket@@@abc]]></ComponentVerifyTicket></xml>".to_owned();
    let text = "<xml><ToUserName><![CDATA[gh_97417a04a28d]]></ToUserName>\n<FromUserName><![CDATA[o9AgO5Kd5ggOC-bXrbNODIiE3bGY]]></FromUserName>\n<CreateTime>1715943329</CreateTime>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[你好，微信 ✓ emoji 😀]]></Content>\n<MsgId>1234567890123456</MsgId>\n</xml>".to_owned();
    let mut out = vec![ticket, text];
    // FullStr = 20 + len + 18: 26 bytes makes it exactly 64 (a full pad block); plus
    // neighbours and a long one.
    for len in [0usize, 1, 25, 26, 27, 58, 1000] {
        out.push("x".repeat(len));
    }
    out.push(format!(
        "<xml><Content><![CDATA[{}]]></Content></xml>",
        "长".repeat(700)
    ));
    out
}

fn python_with_venv(dir: &Path) -> PathBuf {
    let venv = dir.join("venv");
    let status = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status();
    match status {
        Ok(s) if s.success() => venv.join("bin").join("python"),
        other => panic!(
            "`python3 -m venv` is unavailable ({other:?}): install python3 and python3-venv \
             (bash scripts/setup-system.sh), then run with --include-ignored"
        ),
    }
}

#[test]
#[ignore = "needs python3 -m venv and PyPI (wechatpy): cargo test -p wxdesk-wechat --test interop -- --include-ignored"]
fn wechatpy_and_wxdesk_decrypt_each_others_component_pushes() {
    let dir = tempfile::tempdir().unwrap();
    let python = python_with_venv(dir.path());
    let pip = Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "wechatpy",
            "cryptography",
        ])
        .output()
        .expect("run pip");
    assert!(
        pip.status.success(),
        "pip install wechatpy cryptography failed (needs PyPI access):\n{}",
        String::from_utf8_lossy(&pip.stderr)
    );

    let ours = MsgCrypt::new(TOKEN, EAK, COMPONENT_APPID).unwrap();
    let msgs = messages();

    // Direction 1: we encrypt full pushes (both envelopes), wechatpy decrypts.
    let to_python: Vec<Value> = msgs
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let env = if i % 2 == 0 {
                Envelope::AppId(COMPONENT_APPID.into())
            } else {
                Envelope::ToUserName("gh_97417a04a28d".into())
            };
            let ts = format!("{}", 1_700_000_000 + i);
            let nonce = format!("n{i}x");
            let (body, sig) = ours.encrypt_push(m, &env, &ts, &nonce);
            json!({"body": body, "msg_signature": sig, "timestamp": ts, "nonce": nonce, "expected": m})
        })
        .collect();
    // Direction 2: wechatpy encrypts replies, we decrypt.
    let from_python: Vec<Value> = msgs
        .iter()
        .enumerate()
        .map(|(i, m)| json!({"msg": m, "timestamp": format!("{}", 1_710_000_000 + i), "nonce": format!("{}", 4_000_000 + i)}))
        .collect();

    let input = dir.path().join("in.json");
    let output = dir.path().join("out.json");
    std::fs::write(
        &input,
        json!({"token": TOKEN, "encoding_aes_key": EAK, "appid": COMPONENT_APPID, "wrong_appid": AUTHORIZER_APPID,
               "to_python": to_python, "from_python": from_python})
        .to_string(),
    )
    .unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/wechatpy_interop.py");
    let run = Command::new(&python)
        .arg(&script)
        .arg(&input)
        .arg(&output)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "interop script failed:\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let out: Value = serde_json::from_slice(&std::fs::read(&output).unwrap()).unwrap();

    let decrypted = out["decrypted"].as_array().unwrap();
    assert_eq!(decrypted.len(), msgs.len());
    for (got, want) in decrypted.iter().zip(&msgs) {
        assert_eq!(
            got.as_str().unwrap(),
            want,
            "wechatpy decrypted our push differently"
        );
    }
    // wechatpy, like us, refuses the payload when configured with the authorizer's appid.
    assert!(
        out["rejected_with_wrong_appid"]
            .as_array()
            .unwrap()
            .iter()
            .all(|v| v == true)
    );

    let encrypted = out["encrypted"].as_array().unwrap();
    assert_eq!(encrypted.len(), msgs.len());
    for ((xml, case), want) in encrypted.iter().zip(&from_python).zip(&msgs) {
        let xml = xml.as_str().unwrap();
        let sig = between(xml, "<MsgSignature><![CDATA[", "]]></MsgSignature>")
            .or_else(|| between(xml, "<MsgSignature>", "</MsgSignature>"))
            .expect("MsgSignature in wechatpy's reply");
        let ts = case["timestamp"].as_str().unwrap();
        let nonce = case["nonce"].as_str().unwrap();
        let got = ours.decrypt_push(sig, ts, nonce, xml.as_bytes()).unwrap();
        assert_eq!(&got, want, "we decrypted wechatpy's message differently");
        // And with the authorizer's appid we refuse it.
        let wrong = MsgCrypt::new(TOKEN, EAK, AUTHORIZER_APPID).unwrap();
        assert!(wrong.decrypt_push(sig, ts, nonce, xml.as_bytes()).is_err());
    }
}

fn between<'a>(s: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = s.find(start)? + start.len();
    let to = s[from..].find(end)? + from;
    Some(&s[from..to])
}
