//! `templates subscribe …`: 订阅通知 templates of an official account over `ctx.subscriptions` —
//! the library (categories, titles, keywords), the account's chosen templates (list, add,
//! delete) and who can receive one.

use std::path::Path;

use clap::Subcommand;
use serde_json::json;
use wxdesk_core::subscriptions::SubscribeTemplate;

use crate::error::Result;
use crate::out::{Out, beijing};
use crate::session;

#[derive(Subcommand, Debug)]
pub enum SubscribeCmd {
    /// 列出公众号已选用的订阅通知模板（从微信读取；显示 template_id 与 {{thing1.DATA}} 形式的内容）
    #[command(after_help = "示例 / Examples:
  wxdesk-cli templates subscribe list wx0123456789abcdef
  wxdesk-cli --json templates subscribe list wx0123456789abcdef")]
    List { appid: String },
    /// 浏览订阅通知模板库（默认该账号的全部类目）
    #[command(after_help = "示例 / Examples:
  wxdesk-cli templates subscribe library wx0123456789abcdef
  wxdesk-cli templates subscribe library wx0123456789abcdef --category 307 --start 30")]
    Library {
        appid: String,
        /// 类目 ID，可重复或逗号分隔（默认账号的全部类目）
        #[arg(long = "category", value_name = "ID", value_delimiter = ',')]
        categories: Vec<i64>,
        /// 从第几条开始（0 起）
        #[arg(long, value_name = "N", default_value_t = 0)]
        start: u32,
        /// 每页条数（1–30）
        #[arg(long, value_name = "N", default_value_t = 30)]
        limit: u32,
    },
    /// 模板库中一个模板的关键词（kid、名称、类型）
    #[command(after_help = "示例 / Examples:
  wxdesk-cli templates subscribe keywords wx0123456789abcdef 502")]
    Keywords { appid: String, tid: String },
    /// 从模板库选用模板：2–5 个关键词（按显示顺序），场景描述不超过 15 个字
    #[command(after_help = "示例 / Examples:
  wxdesk-cli templates subscribe add wx0123456789abcdef --tid 502 --kids 4,1 --scene 到站取件")]
    Add {
        appid: String,
        /// 模板库编号 tid（templates subscribe library 列出）
        #[arg(long, value_name = "TID")]
        tid: String,
        /// 关键词编号 kid，逗号分隔（templates subscribe keywords 列出）
        #[arg(long, value_name = "K1,K2", value_delimiter = ',', required = true)]
        kids: Vec<i64>,
        /// 场景描述（必填，不超过 15 个字）
        #[arg(long, value_name = "TEXT")]
        scene: String,
    },
    /// 删除已选用的订阅通知模板（用户对它的订阅随之作废）
    #[command(after_help = "示例 / Examples:
  wxdesk-cli templates subscribe delete wx0123456789abcdef TEMPLATE_ID")]
    Delete { appid: String, template_id: String },
    /// 现在能收到某个订阅通知模板的用户（据经中继收到的订阅事件）
    #[command(
        after_help = "一次性订阅：用户同意一次可发送一次；长期订阅：同意后可多次发送，直到用户关闭。
发给其他人微信返回 43101。

示例 / Examples:
  wxdesk-cli templates subscribe receivers wx0123456789abcdef TEMPLATE_ID
  wxdesk-cli --json templates subscribe receivers wx0123456789abcdef TEMPLATE_ID --limit 1000"
    )]
    Receivers {
        appid: String,
        template_id: String,
        /// 最多列出的人数
        #[arg(long, value_name = "N", default_value_t = 100)]
        limit: u32,
    },
}

fn print_template(t: &SubscribeTemplate) {
    crate::outln!("{}  {}  {}", t.template_id, t.title, t.kind.label_zh());
    for line in t.content.lines().filter(|l| !l.trim().is_empty()) {
        crate::outln!("    {line}");
    }
}

pub async fn run(c: SubscribeCmd, dir: &Path, out: Out) -> Result<()> {
    let ctx = session::open(dir).await?;
    // Receivers come from the relay's pushes: apply what it holds first.
    if matches!(c, SubscribeCmd::Receivers { .. }) {
        session::catch_up(&ctx).await;
    }
    let s = &ctx.subscriptions;
    match c {
        SubscribeCmd::List { appid } => {
            let list = s.sync(&appid).await?;
            out.emit(&list, || {
                if list.is_empty() {
                    crate::outln!(
                        "没有订阅通知模板。用 wxdesk-cli templates subscribe library {appid} 浏览模板库后 add 选用。"
                    );
                }
                for t in &list {
                    print_template(t);
                }
            })
        }
        SubscribeCmd::Library {
            appid,
            categories,
            start,
            limit,
        } => {
            let page = s.library(&appid, &categories, start, limit).await?;
            out.emit(&page, || {
                crate::outln!(
                    "共 {} 个（第 {}–{} 个）",
                    page.count,
                    start + 1,
                    start as usize + page.titles.len()
                );
                for t in &page.titles {
                    crate::outln!(
                        "{}  {}  {}  类目 {}",
                        t.tid,
                        t.title,
                        t.kind.label_zh(),
                        t.category_id
                    );
                }
            })
        }
        SubscribeCmd::Keywords { appid, tid } => {
            let list = s.keywords(&appid, &tid).await?;
            out.emit(&list, || {
                for k in &list {
                    crate::outln!("kid {}  {}  {}  例：{}", k.kid, k.name, k.key, k.example);
                }
            })
        }
        SubscribeCmd::Add {
            appid,
            tid,
            kids,
            scene,
        } => {
            let t = s.add(&appid, &tid, &kids, &scene).await?;
            out.emit(&t, || {
                crate::outln!("已选用订阅通知模板：");
                print_template(&t);
            })
        }
        SubscribeCmd::Delete { appid, template_id } => {
            s.delete(&appid, &template_id).await?;
            out.emit(&json!({ "deleted": template_id }), || {
                crate::outln!("已删除订阅通知模板 {template_id}");
            })
        }
        SubscribeCmd::Receivers {
            appid,
            template_id,
            limit,
        } => {
            let r = s.receivers(&appid, &template_id, limit).await?;
            out.emit(&r, || {
                crate::outln!("{} 人可接收（{}）", r.total, r.kind.label_zh());
                for x in &r.receivers {
                    let left = if x.remaining > 0 {
                        format!("剩余 {} 次", x.remaining)
                    } else {
                        "长期".to_string()
                    };
                    crate::outln!("{}  {}  {}", x.openid, left, beijing(x.updated_at));
                }
            })
        }
    }
}
