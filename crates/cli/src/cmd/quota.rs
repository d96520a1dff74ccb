//! `quota get|clear`: an account's daily quota of one API, and resetting it (or the platform's)
//! over `ctx.quota`. A reset counts against WeChat's 10 a month per account, so `clear` asks
//! first — on a terminal — or needs `--yes`.

use std::io::IsTerminal;
use std::path::Path;

use clap::{ArgGroup, Subcommand};

use crate::error::{CliError, Result};
use crate::out::Out;
use crate::session;

#[derive(Subcommand, Debug)]
pub enum QuotaCmd {
    /// 查询账号某个接口今日的调用额度（默认模板消息 /cgi-bin/message/template/send）
    #[command(after_help = "示例 / Examples:
  wxdesk-cli quota get wx0123456789abcdef
  wxdesk-cli --json quota get wx0123456789abcdef --api /cgi-bin/message/custom/send")]
    Get {
        appid: String,
        /// 接口路径，以 / 开头
        #[arg(long = "api", value_name = "PATH")]
        api: Option<String>,
    },
    /// 清零账号（或 --component：第三方平台自身）的全部接口调用次数
    #[command(
        group(ArgGroup::new("target").required(true).args(["appid", "component"])),
        after_help = "每个账号每月最多清零 10 次（微信后台与接口合计），用完后微信返回 48006，下月才能再清。
不加 --yes 时在终端里先询问；不在终端里运行（脚本、cron）时拒绝，退出码 2。

示例 / Examples:
  wxdesk-cli quota clear wx0123456789abcdef --yes
  wxdesk-cli quota clear --component --yes"
    )]
    Clear {
        appid: Option<String>,
        /// 清零第三方平台自身的额度（component 接口）
        #[arg(long)]
        component: bool,
        /// 不询问，直接清零
        #[arg(long)]
        yes: bool,
    },
}

/// Asks on the terminal; refuses (usage error) when there is none to ask on.
fn confirm(what: &str) -> Result<()> {
    if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        return Err(CliError::Usage(format!(
            "清零{what}的额度会用掉本月 10 次清零机会中的一次：确认无误请加 --yes（不在终端里运行时不会询问）"
        )));
    }
    crate::errln!(
        "将清零{what}今日的全部接口调用次数。每个账号每月最多清零 10 次（微信后台与接口合计），用完后要到下月。"
    );
    let answer = crate::secret_input::ask("确认清零？输入 yes 继续：")?;
    if answer.trim().eq_ignore_ascii_case("yes") || answer.trim() == "是" {
        Ok(())
    } else {
        Err(CliError::Failed("已取消，没有清零".into()))
    }
}

pub async fn run(c: QuotaCmd, dir: &Path, out: Out) -> Result<()> {
    let ctx = session::open(dir).await?;
    match c {
        QuotaCmd::Get { appid, api } => {
            let r = ctx.quota.get(&appid, api.as_deref()).await?;
            out.emit(&r, || {
                crate::outln!(
                    "{}  {}：今日上限 {}，已用 {}，剩余 {}",
                    r.appid,
                    r.cgi_path,
                    r.quota.daily_limit,
                    r.quota.used,
                    r.quota.remaining
                );
            })
        }
        QuotaCmd::Clear {
            appid,
            component,
            yes,
        } => {
            let what = match (&appid, component) {
                (_, true) => "第三方平台自身".to_string(),
                (Some(a), false) => format!("账号 {a} "),
                (None, false) => return Err(CliError::Usage("请给出 APPID 或 --component".into())),
            };
            if !yes {
                confirm(&what)?;
            }
            let r = match appid.filter(|_| !component) {
                Some(a) => ctx.quota.clear(&a).await?,
                None => ctx.quota.clear_component().await?,
            };
            out.emit(&r, || {
                crate::outln!(
                    "已清零{}的接口调用次数（本次计入每月 {} 次的清零上限）",
                    what.trim_end(),
                    r.monthly_limit
                );
            })
        }
    }
}
