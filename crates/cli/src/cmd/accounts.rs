//! `accounts list|show|refresh|remove|recover-tokens` over core's `Accounts`.

use std::path::Path;

use serde_json::json;
use wxdesk_core::accounts::AccountCard;

use crate::args::AccountsCmd;
use crate::error::Result;
use crate::out::{Out, beijing};
use crate::session;

fn print_card(c: &AccountCard) {
    crate::outln!("{}  {}", c.appid, c.nickname);
    crate::outln!("  类型      {}（{}）", c.kind_label, c.type_label);
    crate::outln!("  原始 ID   {}", c.user_name);
    crate::outln!("  主体      {}", c.principal);
    crate::outln!("  认证      {}", c.verify_label);
    crate::outln!("  状态      {}", c.status_label);
    if let Some(t) = c.authorized_at {
        crate::outln!("  授权时间  {}", beijing(t));
    }
    let perms: Vec<&str> = c.permissions.iter().map(|p| p.name.as_str()).collect();
    crate::outln!("  权限      {}", perms.join("、"));
    crate::outln!(
        "  刷新令牌  {}",
        if c.has_refresh_token {
            "已保存在系统钥匙串"
        } else {
            "缺失（运行 accounts recover-tokens 或重新授权）"
        }
    );
}

pub async fn run(c: AccountsCmd, dir: &Path, out: Out) -> Result<()> {
    let ctx = session::open(dir).await?;
    match c {
        AccountsCmd::List => {
            session::catch_up(&ctx).await;
            let list = ctx.accounts.list().await?;
            out.emit(&list, || {
                if list.is_empty() {
                    crate::outln!("还没有授权账号。运行 wxdesk-cli auth link 开始授权。");
                }
                for a in &list {
                    crate::outln!(
                        "{}  {:<8} {:<10} {}",
                        a.appid,
                        a.kind_label,
                        a.status_label,
                        a.nickname
                    );
                }
            })
        }
        AccountsCmd::Show { appid } => {
            let card = ctx.accounts.show(&appid).await?;
            let health = ctx.accounts.token_health(&appid).await?;
            out.emit(&json!({ "account": card, "token": health }), || {
                print_card(&card);
                let mark = if health.access_token_ok { "✓" } else { "✗" };
                crate::outln!("  接口令牌  {mark} {}", health.detail);
                if let Some(h) = &health.hint {
                    crate::outln!("    提示：{h}");
                }
            })
        }
        AccountsCmd::Refresh { appid } => {
            let card = ctx.accounts.refresh_info(&appid).await?;
            out.emit(&card, || print_card(&card))
        }
        AccountsCmd::Remove { appid } => {
            ctx.accounts.remove(&appid).await?;
            out.emit(&json!({ "removed": appid }), || {
                crate::outln!("已删除账号 {appid} 及其刷新令牌");
            })
        }
        AccountsCmd::RecoverTokens => {
            let r = ctx.accounts.recover_refresh_tokens().await?;
            out.emit(&r, || {
                crate::outln!("已恢复：{}", r.restored.join(", "));
                crate::outln!("新增：{}", r.added.join(", "));
                crate::outln!(
                    "微信未给出令牌（需重新授权）：{}",
                    r.without_token.join(", ")
                );
                crate::outln!("已不再授权：{}", r.not_authorized.join(", "));
                crate::outln!("无需处理：{}", r.unchanged);
            })
        }
    }
}
