//! `team join|status|leave`: this data dir as a desk of a team (wxdesk-relay with a database),
//! over `wxdesk_core::team`. After `team join` every other command works on the team's shared
//! workspace with the same flags and output; `team leave` returns to the local one.

use std::io::IsTerminal;
use std::path::Path;

use clap::Subcommand;
use wxdesk_core::secrets::Secret;

use crate::error::{CliError, Result};
use crate::out::Out;

/// Where `team join` reads the member key when stdin is not used.
pub const MEMBER_KEY_ENV: &str = "WXDESK_MEMBER_KEY";

#[derive(Subcommand, Debug)]
pub enum TeamCmd {
    /// 加入团队：成员密钥来自环境变量 WXDESK_MEMBER_KEY 或标准输入的第一行（绝不从命令行参数读取）
    #[command(
        after_help = "成员密钥由团队管理员在服务器上用 wxdesk-relay members add NAME 生成。
加入后，本数据目录的其他命令都作用于团队共享的工作区；本地工作区保留不动，team leave 后恢复。

示例 / Examples:
  WXDESK_MEMBER_KEY=wxm_… wxdesk-cli team join --server https://team.example.com
  wxdesk-cli team join --server https://team.example.com < member.key"
    )]
    Join {
        /// 团队服务器地址（部署了 PostgreSQL 的 wxdesk-relay）/ the team server URL
        #[arg(long)]
        server: String,
    },
    /// 团队状态：服务器、成员、角色；服务器拒绝密钥时退出码 1 / team status (exit 1 when the
    /// server refuses the key)
    Status,
    /// 离开团队，回到本地工作区 / leave the team and return to the local workspace
    Leave,
    /// 团队操作记录（管理员）：谁授权了账号、建了任务和名单、同步了什么 / the team's audit log (admins)
    #[command(after_help = "示例 / Examples:\n  wxdesk-cli team audit --limit 50")]
    Audit {
        /// 显示的条数（1–500）
        #[arg(long, value_name = "N", default_value_t = 100)]
        limit: u32,
        /// 只显示编号小于此值的记录（翻页）
        #[arg(long, value_name = "ID")]
        before: Option<i64>,
    },
}

fn member_key() -> Result<Secret> {
    if let Ok(v) = std::env::var(MEMBER_KEY_ENV)
        && !v.trim().is_empty()
    {
        return Ok(Secret::new(v.trim()));
    }
    if std::io::stdin().is_terminal() {
        let line = crate::secret_input::prompt("成员密钥 / member key: ", MEMBER_KEY_ENV)?;
        return Ok(Secret::new(line.trim()));
    }
    let line = crate::secret_input::stdin_line()?;
    if line.trim().is_empty() {
        return Err(CliError::Usage(format!(
            "没有成员密钥：请设置 {MEMBER_KEY_ENV}，或从标准输入的第一行提供"
        )));
    }
    Ok(Secret::new(line.trim()))
}

pub async fn run(c: TeamCmd, dir: &Path, out: Out) -> Result<()> {
    wxdesk_core::store::private::private_dir(dir)
        .map_err(|e| CliError::io(format!("无法创建数据目录 {}", dir.display()), e))?;
    match c {
        TeamCmd::Join { server } => {
            let key = member_key()?;
            let m = wxdesk_core::team::join(dir, &server, key).await?;
            out.emit(&m, || {
                crate::outln!("已加入团队 {}", m.server_url);
                crate::outln!("成员        {}（{}）", m.member, m.role);
                crate::outln!("第三方平台  {}", m.component_appid);
                crate::outln!(
                    "本数据目录的命令现在作用于团队共享的工作区；team leave 回到本地工作区。"
                );
            })
        }
        TeamCmd::Status => match wxdesk_core::team::status(dir).await? {
            None => out.emit(&serde_json::json!({ "joined": false }), || {
                crate::outln!("未加入团队：使用本地工作区（team join --server URL 加入）");
            }),
            Some(s) => {
                let m = &s.membership;
                out.emit(&s, || {
                    crate::outln!("服务器      {}", m.server_url);
                    crate::outln!("成员        {}", m.member);
                    crate::outln!("角色        {}", s.role_now.as_deref().unwrap_or(&m.role));
                    if s.accepted {
                        crate::outln!("状态        正常");
                    }
                })?;
                match &s.problem {
                    Some(p) if !s.accepted => Err(CliError::Failed(p.zh.clone())),
                    _ => Ok(()),
                }
            }
        },
        TeamCmd::Audit { limit, before } => {
            let ctx = crate::session::open(dir).await?;
            let page = wxdesk_core::team::audit(&ctx.platform, before, limit).await?;
            out.emit(&page, || {
                for e in &page.entries {
                    crate::outln!(
                        "{}  {}  {}  {}",
                        e.id,
                        e.at,
                        e.member.as_deref().unwrap_or("（服务器）"),
                        e.what.zh
                    );
                }
                if page.entries.is_empty() {
                    crate::outln!("还没有操作记录");
                }
                if let Some(b) = page.next_before {
                    crate::outln!("更早的记录：team audit --before {b}");
                }
            })
        }
        TeamCmd::Leave => {
            let left = wxdesk_core::team::leave(dir).await?;
            out.emit(&serde_json::json!({ "left": left }), || {
                if left {
                    crate::outln!("已离开团队，回到本地工作区");
                } else {
                    crate::outln!("未加入团队，无需离开");
                }
            })
        }
    }
}
