//! `send template` / `send text`: a job spec and its recipients from the arguments — one openid,
//! a saved list, or a CSV whose columns are `{{变量}}`, the same three sources the app's composer
//! offers (`ctx.compose`) — the durable job written, and sent here with progress through the
//! engine host (`ctx.sends`), or handed to a background `jobs resume` with `--detach`.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::json;
use wxdesk_core::compose::{
    Jump, RecipientSource, SubscribeDraft, TemplateDraft, UniformDraft, check_jump,
    check_placeholders, nobody_subscribed,
};
use wxdesk_core::context::Context;
use wxdesk_core::send::{JobPurpose, JobSpec, MiniProgram, Payload, Recipient};

use crate::args::{Recipients, SendCmd, SendSubscribe, SendTemplate, SendUniform, Wait};
use crate::cmd::drive::{drive, summarize, take_lock};
use crate::error::{CliError, Result};
use crate::out::Out;
use crate::session;

pub async fn run(c: SendCmd, dir: &Path, out: Out) -> Result<()> {
    let ctx = session::open(dir).await?;
    match c {
        SendCmd::Template(a) => template(&ctx, a, dir, out).await,
        SendCmd::Subscribe(a) => subscribe(&ctx, a, out).await,
        SendCmd::Uniform(a) => uniform(&ctx, a, out).await,
        SendCmd::Text {
            account,
            to,
            text,
            wait,
        } => {
            let spec = JobSpec {
                appid: account,
                title: String::new(),
                payload: Payload::CustomText { content: text },
                field_rules: Vec::new(),
                concurrency: None,
                rate_per_sec: None,
                max_attempts: None,
            };
            let to = vec![Recipient::new(to)];
            send_now(&ctx, spec, JobPurpose::Custom, to, wait.wait, out).await
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
    let t = ctx
        .templates
        .get(&a.account, &a.template)
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
    let draft = TemplateDraft {
        appid: a.account.clone(),
        template_id: a.template.clone(),
        title: a.title.clone().unwrap_or_default(),
        data,
        jump: Jump::None,
    };
    let mut spec = ctx.compose.spec(&draft).await?;
    // The command line may give both a web page and a mini program (WeChat prefers the latter).
    if let Payload::Template {
        url, miniprogram, ..
    } = &mut spec.payload
    {
        *url = a.url.clone();
        *miniprogram = a.mini.as_deref().map(parse_mini).transpose()?;
        // Checked before anything is written (WeChat's own word, 40013/40165, stops the job).
        if let Some(m) = miniprogram {
            check_jump(&a.account, &jump_of(m)).map_err(|e| CliError::Usage(e.to_string()))?;
        }
    }
    spec.concurrency = a.concurrency;
    spec.rate_per_sec = a.rate;
    let source = source(ctx, &a).await?;
    let resolved = ctx.compose.resolve(&a.account, &source, None).await?;
    if resolved.invalid > 0 || resolved.duplicates_removed > 0 {
        crate::errln!(
            "注意：{} 行 openid 无效、{} 行重复，已忽略",
            resolved.invalid,
            resolved.duplicates_removed
        );
    }
    // A placeholder no column provides would skip every row: refuse before writing the job.
    check_placeholders(&spec, &resolved.variables).map_err(|e| CliError::Usage(e.to_string()))?;
    if a.detach {
        return detach(ctx, dir, spec, resolved.recipients, out).await;
    }
    send_now(
        ctx,
        spec,
        JobPurpose::Plain,
        resolved.recipients,
        a.wait.wait,
        out,
    )
    .await
}

fn jump_of(m: &MiniProgram) -> Jump {
    Jump::Mini {
        appid: m.appid.clone(),
        pagepath: m.pagepath.clone(),
    }
}

/// `send subscribe`: the recipients who can receive the template now get the notice through the
/// durable engine; the others are refused first (43101) and nothing is sent to them (exit 5).
async fn subscribe(ctx: &Context, a: SendSubscribe, out: Out) -> Result<()> {
    // Who subscribed comes from the relay's pushes: apply what it holds first.
    session::catch_up(ctx).await;
    let jump = match (&a.page, &a.mini) {
        (Some(p), _) => Jump::Url { url: p.clone() },
        (None, Some(m)) => jump_of(&parse_mini(m)?),
        (None, None) => Jump::None,
    };
    let draft = SubscribeDraft {
        appid: a.account.clone(),
        template_id: a.template.clone(),
        title: a.title.clone().unwrap_or_default(),
        data: parse_data(&a.data)?,
        jump,
    };
    let t = ctx.subscriptions.template(&a.account, &a.template).await?;
    let keys: Vec<&str> = t.fields.iter().map(|f| f.key.as_str()).collect();
    if let Some(bad) = draft.data.keys().find(|k| !keys.contains(&k.as_str())) {
        return Err(CliError::Usage(format!(
            "订阅通知模板 {} 没有关键词 {bad}；可用：{}",
            t.template_id,
            keys.join(", ")
        )));
    }
    let src = source_of(ctx, &a.account, &a.to).await?;
    let mut p = ctx
        .compose
        .prepare_subscribe(&draft, &src)
        .await
        .map_err(|e| match e.code() {
            "invalid" => CliError::Usage(e.to_string()),
            _ => CliError::Core(e),
        })?;
    p.spec.concurrency = a.concurrency;
    p.spec.rate_per_sec = a.rate;
    let refused = p.refused.clone();
    for o in refused.iter().take(20) {
        crate::errln!("未订阅，不发送：{o}");
    }
    if refused.len() > 20 {
        crate::errln!("……另有 {} 人未订阅", refused.len() - 20);
    }
    if out.json && !refused.is_empty() {
        out.json_line(&json!({ "event": "refused", "errcode": 43101, "openids": refused }))?;
    }
    if p.allowed.is_empty() {
        return Err(CliError::NotSubscribed(
            nobody_subscribed(refused.len()).to_string(),
        ));
    }
    send_now(ctx, p.spec, JobPurpose::Plain, p.allowed, a.wait.wait, out).await?;
    if refused.is_empty() {
        return Ok(());
    }
    Err(CliError::NotSubscribed(format!(
        "{} 位接收者没有可用的订阅（微信会返回 43101），没有发给他们；其余已发出。查看谁能收到：wxdesk-cli templates subscribe receivers {} {}",
        refused.len(),
        a.account,
        a.template
    )))
}

/// `send uniform`: withdrawn by WeChat; the attempt reaches WeChat and its 45109 comes back
/// with the replacement named.
async fn uniform(ctx: &Context, a: SendUniform, out: Out) -> Result<()> {
    let jump = match (&a.mini, &a.url) {
        (Some(m), _) => jump_of(&parse_mini(m)?),
        (None, Some(u)) => Jump::Url { url: u.clone() },
        (None, None) => Jump::None,
    };
    let draft = UniformDraft {
        appid: a.account.clone(),
        mp_appid: a.mp_appid.clone(),
        template_id: a.template.clone(),
        data: parse_data(&a.data)?,
        jump,
    };
    let row = ctx.compose.uniform_send(&draft, &a.to).await?;
    out.emit(&row, || {
        crate::outln!("统一服务消息：{}（{}）", a.to, row.state.as_str());
    })
}

/// `--to` / `--list` / `--csv` as the recipient source the app's composer uses too.
async fn source(ctx: &Context, a: &SendTemplate) -> Result<RecipientSource> {
    source_of(ctx, &a.account, &a.to).await
}

async fn source_of(ctx: &Context, account: &str, to: &Recipients) -> Result<RecipientSource> {
    if let Some(openid) = &to.to {
        return Ok(RecipientSource::Openid {
            openid: openid.clone(),
        });
    }
    if let Some(name) = &to.list {
        let list = crate::cmd::audience::find_list(ctx, name, Some(account)).await?;
        return Ok(RecipientSource::List { list_id: list.id });
    }
    if let Some(path) = &to.csv {
        return Ok(RecipientSource::File {
            path: path.display().to_string(),
        });
    }
    Err(CliError::Usage(
        "请用 --to、--list 或 --csv 指定接收者".into(),
    ))
}

/// Takes the send lock first and writes the job only then: a send that gives up waiting for
/// the lock leaves nothing behind.
async fn send_now(
    ctx: &Context,
    spec: JobSpec,
    purpose: JobPurpose,
    recipients: Vec<Recipient>,
    wait: Wait,
    out: Out,
) -> Result<()> {
    take_lock(ctx, None, wait, out).await?;
    let id = ctx.sends.create_as(spec, purpose, recipients).await?;
    ctx.sends.set_job(id).await?;
    if out.json {
        out.json_line(&json!({ "event": "created", "job_id": id }))?;
    } else {
        crate::note!("已创建任务 {id}，开始发送（Ctrl-C 暂停）");
    }
    ctx.sends.start(id).await?;
    let job = drive(ctx, id, out).await?;
    summarize(&job, out)
}

/// Writes the job (rows need no lock), then starts `wxdesk-cli jobs resume ID` in its own
/// process group (Ctrl-C in this terminal does not reach it) with no terminal attached, and
/// returns the job id.
async fn detach(
    ctx: &Context,
    dir: &Path,
    spec: JobSpec,
    recipients: Vec<Recipient>,
    out: Out,
) -> Result<()> {
    let id = ctx.sends.create(spec, recipients).await?;
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
