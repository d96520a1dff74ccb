//! `platform set` / `platform status`: the Settings page and 检测连接 from a shell. Secrets come
//! from the environment, stdin (a pipe or a file: `NAME=value` lines) or a no-echo prompt on the
//! terminal, never from argv (argv is visible to every user via `ps`).

use std::io::{IsTerminal, Read};
use std::path::Path;

use serde_json::json;
use wxdesk_core::platform::{CheckStep, Egress, Mode, SettingsInput};
use wxdesk_core::secrets::Secret;
use zeroize::Zeroizing;

use crate::args::{EgressArg, PlatformCmd, PlatformSet};
use crate::error::{CliError, Result};
use crate::out::Out;
use crate::{secret_input, session};

pub const ENV_SECRET: &str = "WXDESK_COMPONENT_SECRET";
pub const ENV_TOKEN: &str = "WXDESK_COMPONENT_TOKEN";
pub const ENV_AES_KEY: &str = "WXDESK_COMPONENT_AES_KEY";
pub const ENV_RELAY_KEY: &str = "WXDESK_RELAY_KEY";

/// The four secrets, from `NAME=value` lines on stdin, overridden by the environment; on a
/// terminal, the ones still missing are asked for.
#[derive(Default)]
struct SecretsIn {
    secret: Option<Secret>,
    token: Option<Secret>,
    aes_key: Option<Secret>,
    relay_key: Option<Secret>,
}

impl SecretsIn {
    /// (variable, prompt, slot) of each secret.
    fn slots(&mut self) -> [(&'static str, &'static str, &mut Option<Secret>); 4] {
        [
            (ENV_SECRET, "AppSecret", &mut self.secret),
            (ENV_TOKEN, "消息校验 Token", &mut self.token),
            (
                ENV_AES_KEY,
                "消息加解密 Key（EncodingAESKey）",
                &mut self.aes_key,
            ),
            (ENV_RELAY_KEY, "中继密钥", &mut self.relay_key),
        ]
    }
}

fn parse_lines(text: &str, into: &mut SecretsIn) -> Result<()> {
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, value) = line.split_once('=').ok_or_else(|| {
            CliError::Usage(format!(
                "标准输入第 {} 行应为 NAME=value（{ENV_SECRET}、{ENV_TOKEN}、{ENV_AES_KEY}、{ENV_RELAY_KEY}）",
                i + 1
            ))
        })?;
        let name = name.trim().trim_start_matches("export ").trim();
        let Some((_, _, slot)) = into.slots().into_iter().find(|(env, _, _)| *env == name) else {
            // Never echo the line: it may hold a secret.
            return Err(CliError::Usage(format!(
                "标准输入第 {} 行的名称「{name}」未知（可用 {ENV_SECRET}、{ENV_TOKEN}、{ENV_AES_KEY}、{ENV_RELAY_KEY}）",
                i + 1
            )));
        };
        *slot = Some(Secret::new(value.trim()));
    }
    Ok(())
}

fn read_secrets() -> Result<SecretsIn> {
    let mut s = SecretsIn::default();
    let terminal = std::io::stdin().is_terminal();
    if !terminal {
        let mut text = Zeroizing::new(String::new());
        std::io::stdin()
            .lock()
            .read_to_string(&mut text)
            .map_err(|e| CliError::io("读取标准输入失败", e))?;
        parse_lines(&text, &mut s)?;
    }
    for (env, label, slot) in s.slots() {
        if let Ok(v) = std::env::var(env).map(Zeroizing::new)
            && !v.trim().is_empty()
        {
            *slot = Some(Secret::new(v.trim()));
        } else if terminal && slot.is_none() {
            let v =
                secret_input::prompt(&format!("{label}（不回显；直接回车保留已保存的值）："), env)?;
            if !v.trim().is_empty() {
                *slot = Some(Secret::new(v.trim()));
            }
        }
    }
    Ok(s)
}

/// The one-line refusal of a secret given as an argument.
fn on_argv(what: &str, env: &str) -> CliError {
    CliError::Usage(format!(
        "{what}不能写在命令行参数里（ps 人人可见），未保存任何设置；请用环境变量 {env}，或标准输入的 {env}=… 行 (secrets are never read from argv)"
    ))
}

pub async fn run(c: PlatformCmd, dir: &Path, out: Out) -> Result<()> {
    match c {
        PlatformCmd::Set(a) => set(a, dir, out).await,
        PlatformCmd::Status => status(dir, out).await,
    }
}

async fn set(a: PlatformSet, dir: &Path, out: Out) -> Result<()> {
    // Refused before anything is read or opened: nothing of this run is stored.
    if a.token.is_some() {
        return Err(on_argv("消息校验 Token ", ENV_TOKEN));
    }
    let secrets = read_secrets()?;
    let ctx = session::open(dir).await?;
    let view = ctx
        .platform
        .save_settings(SettingsInput {
            mode: Mode::Production,
            component_appid: a.appid,
            relay_url: a.relay_url,
            egress: match a.egress {
                EgressArg::Direct => Egress::Direct,
                EgressArg::Relay => Egress::Relay,
            },
            api_base: a.api_base,
            component_appsecret: secrets.secret,
            component_token: secrets.token,
            component_aes_key: secrets.aes_key,
            relay_key: secrets.relay_key,
        })
        .await?;
    let saved = |b: bool| {
        if b {
            "已保存在系统钥匙串"
        } else {
            "未保存"
        }
    };
    out.emit(&view, || {
        if let Some(s) = &view.settings {
            crate::outln!("已保存平台设置（{}）", s.mode.label_zh());
            crate::outln!("  AppID       {}", s.component_appid);
            crate::outln!("  中继地址    {}", s.relay_url);
            crate::outln!("  出口        {}", s.egress.as_str());
            crate::outln!("  接口地址    {}", s.api_base);
        }
        crate::outln!("  AppSecret   {}", saved(view.appsecret_saved));
        crate::outln!("  Token       {}", saved(view.token_saved));
        crate::outln!("  AESKey      {}", saved(view.aes_key_saved));
        crate::outln!("  中继密钥    {}", saved(view.relay_key_saved));
    })
}

/// A step of 检测连接 as the CLI prints it (and `--json` shows it): name, detail and hint in
/// Chinese, next to the step's code and the core's detail.
fn step_json(s: &CheckStep) -> serde_json::Value {
    json!({
        "step": s.step,
        "name": s.name_zh(),
        "ok": s.ok,
        "skipped": s.skipped,
        "detail": s.detail_zh(),
        "hint": s.hint_zh(),
        "code": s.detail,
    })
}

async fn status(dir: &Path, out: Out) -> Result<()> {
    let ctx = session::open(dir).await?;
    let steps = ctx.platform.check_connection().await;
    let ok = steps.iter().all(|s| s.ok);
    let json: Vec<serde_json::Value> = steps.iter().map(step_json).collect();
    out.emit(&json!({ "ok": ok, "steps": json }), || {
        for s in &steps {
            let mark = if s.ok {
                "✓"
            } else if s.skipped {
                "-"
            } else {
                "✗"
            };
            crate::outln!("{mark} {}：{}", s.name_zh(), s.detail_zh());
            if let Some(h) = s.hint_zh() {
                crate::outln!("    提示：{h}");
            }
        }
    })?;
    match steps.iter().find(|s| !s.ok && !s.skipped) {
        None if ok => Ok(()),
        Some(s) => {
            let hint = s
                .hint_zh()
                .map(|h| format!(" 提示：{h}"))
                .unwrap_or_default();
            Err(CliError::Failed(format!(
                "检测未通过：{}：{}{hint}",
                s.name_zh(),
                s.detail_zh()
            )))
        }
        None => Err(CliError::Failed("检测未通过".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stdin_lines_fill_the_four_secrets_and_unknown_names_are_refused_without_echo() {
        let mut s = SecretsIn::default();
        parse_lines(
            "# platform\nWXDESK_COMPONENT_SECRET=sec\nexport WXDESK_RELAY_KEY = rk\n\nWXDESK_COMPONENT_AES_KEY=k=1\nWXDESK_COMPONENT_TOKEN=tok\n",
            &mut s,
        )
        .unwrap();
        assert_eq!(s.secret.unwrap().expose(), "sec");
        assert_eq!(s.token.unwrap().expose(), "tok");
        assert_eq!(s.relay_key.unwrap().expose(), "rk");
        assert_eq!(s.aes_key.unwrap().expose(), "k=1");

        let mut s = SecretsIn::default();
        let e = parse_lines("WXDESK_APPSECRET=topsecret", &mut s).unwrap_err();
        assert!(!e.to_string().contains("topsecret"), "{e}");
        assert!(parse_lines("just-a-value", &mut s).is_err());
    }
}
