//! `accounts list|show|refresh|remove|recover-tokens|purge-archived` over core's `Accounts`.

use std::path::Path;

use serde_json::{Value, json};
use wxdesk_core::accounts::{AccountCard, TokenHealth};

use crate::args::AccountsCmd;
use crate::error::Result;
use crate::out::{Out, beijing};
use crate::session;

/// An account as `--json` prints it: core's card with the Chinese labels the CLI has always
/// printed next to the codes (`kind_label`, `type_label`, `verify_label`, `status_label`) and
/// each permission set's name.
pub fn card_json(c: &AccountCard) -> Value {
    let mut v = serde_json::to_value(c).unwrap_or(Value::Null);
    if let Some(o) = v.as_object_mut() {
        o.insert("kind_label".into(), c.kind.label_zh().into());
        o.insert("type_label".into(), c.account_type.label_zh().into());
        o.insert("verify_label".into(), c.verification.label_zh().into());
        o.insert("status_label".into(), c.status.label_zh().into());
        let perms = serde_json::to_value(c.permission_names_zh()).unwrap_or(Value::Null);
        o.insert("permissions".into(), perms);
    }
    v
}

/// A token check as `--json` prints it: what was found and what to do, in Chinese.
fn health_json(h: &TokenHealth) -> Value {
    json!({
        "appid": h.appid,
        "has_refresh_token": h.has_refresh_token,
        "access_token_ok": h.access_token_ok,
        "detail": h.detail_zh(),
        "hint": h.hint_zh(),
    })
}

/// After the name of an account of another platform: it is kept, never used.
fn archive_mark(c: &AccountCard) -> &'static str {
    match (c.current_platform, c.sandbox) {
        (true, _) => "",
        (false, true) => "  [沙箱存档，不可用于当前平台]",
        (false, false) => "  [其他平台存档，不可用于当前平台]",
    }
}

fn print_card(c: &AccountCard) {
    crate::outln!("{}  {}{}", c.appid, c.nickname, archive_mark(c));
    crate::outln!(
        "  类型      {}（{}）",
        c.kind.label_zh(),
        c.account_type.label_zh()
    );
    crate::outln!("  原始 ID   {}", c.user_name);
    crate::outln!("  主体      {}", c.principal);
    crate::outln!("  认证      {}", c.verification.label_zh());
    crate::outln!("  状态      {}", c.status.label_zh());
    if let Some(t) = c.authorized_at {
        crate::outln!("  授权时间  {}", beijing(t));
    }
    let perms: Vec<String> = c
        .permission_names_zh()
        .into_iter()
        .map(|p| p.name)
        .collect();
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
            let json: Vec<Value> = list.iter().map(card_json).collect();
            out.emit(&json, || {
                if list.is_empty() {
                    crate::outln!("还没有授权账号。运行 wxdesk-cli auth link 开始授权。");
                }
                for a in &list {
                    crate::outln!(
                        "{}  {:<8} {:<10} {}{}",
                        a.appid,
                        a.kind.label_zh(),
                        a.status.label_zh(),
                        a.nickname,
                        archive_mark(a)
                    );
                }
            })
        }
        AccountsCmd::Show { appid } => {
            let card = ctx.accounts.show(&appid).await?;
            let health = ctx.accounts.token_health(&appid).await?;
            let json = json!({ "account": card_json(&card), "token": health_json(&health) });
            out.emit(&json, || {
                print_card(&card);
                let mark = if health.access_token_ok { "✓" } else { "✗" };
                crate::outln!("  接口令牌  {mark} {}", health.detail_zh());
                if let Some(h) = health.hint_zh() {
                    crate::outln!("    提示：{h}");
                }
            })
        }
        AccountsCmd::Refresh { appid } => {
            let card = ctx.accounts.refresh_info(&appid).await?;
            out.emit(&card_json(&card), || print_card(&card))
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
        AccountsCmd::PurgeArchived { platform } => {
            let platform =
                platform.unwrap_or_else(|| wxdesk_core::sandbox::COMPONENT_APPID.to_string());
            let r = ctx.accounts.purge_archived(&platform).await?;
            out.emit(&r, || {
                crate::outln!(
                    "已删除平台 {} 存档的 {} 个账号（{}），及其 {} 行数据；发送任务与记录保留",
                    r.component_appid,
                    r.appids.len(),
                    r.appids.join(", "),
                    r.data_rows
                );
            })
        }
    }
}
