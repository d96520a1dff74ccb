//! `send template` / `send text`: build a job spec and its recipients from the arguments (a
//! single openid, a saved list, or a CSV whose columns are `{{变量}}`), write the durable job,
//! and send it here with progress — or hand it to a background `jobs resume` with `--detach`.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::json;
use wxdesk_core::audience::{self, ImportOptions, ImportSource, lists};
use wxdesk_core::cli_support::field_rules;
use wxdesk_core::context::Context;
use wxdesk_core::send::{JobSpec, MiniProgram, Payload, Recipient, Vars, render};
use wxdesk_core::templates;

use crate::args::{SendCmd, SendTemplate, Wait};
use crate::cmd::drive::{Sender, summarize};
use crate::error::{CliError, Result};
use crate::out::Out;
use crate::session;

pub async fn run(c: SendCmd, dir: &Path, out: Out) -> Result<()> {
    let ctx = session::open(dir).await?;
    match c {
        SendCmd::Template(a) => template(&ctx, a, dir, out).await,
        SendCmd::Text {
            account,
            to,
            text,
            wait,
        } => {
            let spec = JobSpec {
                appid: account,
                title: "客服消息".into(),
                payload: Payload::CustomText { content: text },
                field_rules: Vec::new(),
                concurrency: None,
                rate_per_sec: None,
                max_attempts: None,
            };
            send_now(&ctx, dir, spec, vec![Recipient::new(to)], wait.wait, out).await
        }
    }
}

/// `key=value` pairs of `--data`.
pub fn parse_data(items: &[String]) -> Result<BTreeMap<String, String>> {
    let mut data = BTreeMap::new();
    for item in items {
        let (k, v) = item.split_once('=').ok_or_else(|| {
            CliError::Usage(format!(
                "--data「{item}」应为 key=value，例如 thing1=发货通知"
            ))
        })?;
        let k = k.trim();
        if k.is_empty() {
            return Err(CliError::Usage(format!("--data「{item}」缺少关键词名")));
        }
        if data.insert(k.to_string(), v.to_string()).is_some() {
            return Err(CliError::Usage(format!("--data 重复给出了 {k}")));
        }
    }
    Ok(data)
}

/// `APPID:PAGEPATH`.
pub fn parse_mini(s: &str) -> Result<MiniProgram> {
    match s.split_once(':') {
        Some((appid, page)) if !appid.trim().is_empty() => Ok(MiniProgram {
            appid: appid.trim().to_string(),
            pagepath: page.trim().to_string(),
        }),
        _ => Err(CliError::Usage(format!(
            "--mini「{s}」应为 APPID:PAGEPATH，例如 wx0123456789abcdef:pages/order/detail?id=1"
        ))),
    }
}

async fn template(ctx: &Context, a: SendTemplate, dir: &Path, out: Out) -> Result<()> {
    let t = templates::get_template(&ctx.store, &a.account, &a.template)
        .await?
        .ok_or_else(|| {
            CliError::Usage(format!(
                "本地没有账号 {} 的模板 {}；先运行 wxdesk-cli templates sync {}",
                a.account, a.template, a.account
            ))
        })?;
    let data = parse_data(&a.data)?;
    let keys: Vec<&str> = t.fields.iter().map(|f| f.key.as_str()).collect();
    if let Some(bad) = data.keys().find(|k| !keys.contains(&k.as_str())) {
        return Err(CliError::Usage(format!(
            "模板 {} 没有关键词 {bad}；可用：{}",
            t.template_id,
            keys.join(", ")
        )));
    }
    let payload = Payload::Template {
        template_id: t.template_id.clone(),
        data,
        url: a.url.clone(),
        miniprogram: a.mini.as_deref().map(parse_mini).transpose()?,
    };
    let (recipients, variables) = recipients(ctx, &a).await?;
    // A placeholder no column provides would skip every row: refuse before writing the job.
    let missing: Vec<String> = render::placeholders(&payload)
        .into_iter()
        .filter(|p| !variables.contains(p))
        .collect();
    if !missing.is_empty() {
        let have = if variables.is_empty() {
            "没有（--to 没有变量）".to_string()
        } else {
            variables.join("、")
        };
        return Err(CliError::Usage(format!(
            "变量 {{{{{}}}}} 不在接收者数据中；可用变量：{have}",
            missing.join("}}、{{")
        )));
    }
    let spec = JobSpec {
        appid: a.account.clone(),
        title: a.title.clone().unwrap_or_else(|| t.title.clone()),
        payload,
        field_rules: field_rules(&t),
        concurrency: a.concurrency,
        rate_per_sec: a.rate,
        max_attempts: None,
    };
    if a.detach {
        return detach(ctx, dir, spec, recipients, out).await;
    }
    send_now(ctx, dir, spec, recipients, a.wait.wait, out).await
}

/// The recipients and the variable names they carry.
async fn recipients(ctx: &Context, a: &SendTemplate) -> Result<(Vec<Recipient>, Vec<String>)> {
    if let Some(openid) = &a.to.to {
        return Ok((vec![Recipient::new(openid.clone())], Vec::new()));
    }
    if let Some(name) = &a.to.list {
        let list = crate::cmd::audience::find_list(ctx, name, Some(&a.account)).await?;
        let id = list.id;
        let mut all = Vec::with_capacity(list.member_count as usize);
        let mut after: Option<String> = None;
        loop {
            let from = after.clone();
            let page = ctx
                .store
                .call(move |c| lists::list_members(c, id, from.as_deref(), 5_000))
                .await?;
            all.extend(page.items.into_iter().map(|m| Recipient {
                openid: m.openid,
                vars: m.vars.into_iter().collect(),
            }));
            match page.next_after {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        return Ok((all, list.variables));
    }
    if let Some(path) = &a.to.csv {
        let prepared = audience::prepare_import(
            &ctx.store,
            &a.account,
            ImportSource::File(path.clone()),
            ImportOptions::default(),
        )
        .await?;
        let p = &prepared.preview;
        if p.invalid_count > 0 || p.duplicates_removed > 0 {
            crate::errln!(
                "注意：{} 行 openid 无效、{} 行重复，已忽略",
                p.invalid_count,
                p.duplicates_removed
            );
        }
        let names = p.variables.clone();
        let rows = prepared
            .rows
            .into_iter()
            .map(|r| Recipient {
                vars: names.iter().cloned().zip(r.values).collect::<Vars>(),
                openid: r.openid,
            })
            .collect();
        return Ok((rows, names));
    }
    Err(CliError::Usage(
        "请用 --to、--list 或 --csv 指定接收者".into(),
    ))
}

/// Takes the send lock first and writes the job only then: a send that gives up waiting for
/// the lock leaves nothing behind.
async fn send_now(
    ctx: &Context,
    dir: &Path,
    spec: JobSpec,
    recipients: Vec<Recipient>,
    wait: Wait,
    out: Out,
) -> Result<()> {
    let mut sender = Sender::start(ctx, dir, None, wait, out).await?;
    let id = sender.engine.create_job(spec, recipients).await?;
    sender.set_job(id)?;
    if out.json {
        out.json_line(&json!({ "event": "created", "job_id": id }))?;
    } else {
        crate::note!("已创建任务 {id}，开始发送（Ctrl-C 暂停）");
    }
    sender.engine.start(id).await?;
    let job = sender.drive(id, out).await?;
    summarize(&job, out)
}

/// Writes the job, then starts `wxdesk-cli jobs resume ID` in its own process group (Ctrl-C in
/// this terminal does not reach it) with no terminal attached, and returns the job id.
async fn detach(
    ctx: &Context,
    dir: &Path,
    spec: JobSpec,
    recipients: Vec<Recipient>,
    out: Out,
) -> Result<()> {
    // The job is written by whoever holds no engine: creating rows needs no lock.
    let engine = wxdesk_core::cli_support::send_engine(
        &ctx.platform,
        wxdesk_core::send::EngineConfig::default(),
    )
    .await?;
    let id = engine.create_job(spec, recipients).await?;
    let exe =
        std::env::current_exe().map_err(|e| CliError::io("找不到 wxdesk-cli 可执行文件", e))?;
    let mut cmd = std::process::Command::new(exe);
    cmd.arg("--data-dir")
        .arg(dir)
        // Queued behind whoever sends now, as long as it takes: nobody waits on this process.
        .args(["jobs", "resume", &id.to_string(), "--wait", "forever"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    let child = cmd
        .spawn()
        .map_err(|e| CliError::io("无法启动后台发送进程", e))?;
    out.emit(
        &json!({ "job_id": id, "pid": child.id(), "detached": true }),
        || {
            crate::outln!("已创建任务 {id}，在后台发送（进程 {}）", child.id());
            crate::outln!("  （同一数据目录同时只有一个发送进程；其他任务在其后依次开始）");
            crate::outln!(
                "  查看进度：wxdesk-cli jobs show {id}    暂停：wxdesk-cli jobs pause {id}"
            );
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_pairs_split_at_the_first_equals_and_refuse_bad_or_repeated_keys() {
        let d = parse_data(&["thing1=a=b".into(), "time2={{日期}}".into()]).unwrap();
        assert_eq!(d["thing1"], "a=b");
        assert_eq!(d["time2"], "{{日期}}");
        assert!(matches!(
            parse_data(&["novalue".into()]),
            Err(CliError::Usage(_))
        ));
        assert!(matches!(
            parse_data(&["=x".into()]),
            Err(CliError::Usage(_))
        ));
        assert!(matches!(
            parse_data(&["a=1".into(), "a=2".into()]),
            Err(CliError::Usage(_))
        ));
    }

    #[test]
    fn mini_targets_split_appid_and_page() {
        let m = parse_mini("wx0123456789abcdef:pages/o?id=1:2").unwrap();
        assert_eq!(m.appid, "wx0123456789abcdef");
        assert_eq!(m.pagepath, "pages/o?id=1:2");
        assert!(parse_mini("pages/only").is_err());
    }
}
