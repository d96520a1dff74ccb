//! `templates sync|list|add|delete` over core's template service.

use std::path::Path;

use serde_json::json;

use crate::args::TemplatesCmd;
use crate::error::Result;
use crate::out::{Out, beijing};
use crate::session;

pub async fn run(c: TemplatesCmd, dir: &Path, out: Out) -> Result<()> {
    if let TemplatesCmd::Subscribe(c) = c {
        return crate::cmd::subscribe::run(c, dir, out).await;
    }
    let ctx = session::open(dir).await?;
    let templates = &ctx.templates;
    match c {
        TemplatesCmd::Sync { appid } => {
            let r = templates.sync(&appid).await?;
            out.emit(&r, || {
                crate::outln!(
                    "模板已同步：共 {} 个（新增 {}，更新 {}，删除 {}）",
                    r.total,
                    r.added,
                    r.updated,
                    r.removed
                );
            })
        }
        TemplatesCmd::List { appid } => {
            let list = templates.list(&appid).await?;
            out.emit(&list, || {
                if list.is_empty() {
                    crate::outln!("没有模板。运行 wxdesk-cli templates sync {appid} 从微信同步。");
                }
                for t in &list {
                    let name = if t.alias.is_empty() {
                        &t.title
                    } else {
                        &t.alias
                    };
                    let keys: Vec<String> = t
                        .fields
                        .iter()
                        .map(|f| {
                            if f.label.is_empty() {
                                f.key.clone()
                            } else {
                                format!("{}={}", f.key, f.label)
                            }
                        })
                        .collect();
                    crate::outln!("{}  {}", t.template_id, name);
                    crate::outln!("    字段：{}", keys.join("  "));
                    crate::outln!("    同步于 {}", beijing(t.synced_at));
                }
            })
        }
        TemplatesCmd::Add {
            appid,
            short_id,
            keywords,
        } => {
            let t = templates.add(&appid, &short_id, &keywords).await?;
            out.emit(&t, || {
                crate::outln!("已添加模板 {}（{}）", t.template_id, t.title)
            })
        }
        TemplatesCmd::Delete { appid, template_id } => {
            templates.delete(&appid, &template_id).await?;
            out.emit(&json!({ "deleted": template_id }), || {
                crate::outln!("已删除模板 {template_id}");
            })
        }
        // Dispatched above, before the store is opened for the message templates.
        TemplatesCmd::Subscribe(_) => Ok(()),
    }
}
