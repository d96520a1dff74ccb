//! `followers sync|list` and `lists create|list|show` over core's audience module.

use std::io::IsTerminal;
use std::path::Path;

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use wxdesk_core::audience::{
    DuplicateRow, FollowerFilter, ImportOptions, ImportSource, ListSource, RecipientList,
    SyncOptions, SyncOutcome, SyncPhase, SyncProgress,
};
use wxdesk_core::context::Context;

use crate::args::{FollowersCmd, ListsCmd};
use crate::error::{CliError, Result};
use crate::out::{Out, beijing};
use crate::session;

pub async fn followers(c: FollowersCmd, dir: &Path, out: Out) -> Result<()> {
    let ctx = session::open(dir).await?;
    match c {
        FollowersCmd::Sync { appid } => sync(&ctx, &appid, out).await,
        FollowersCmd::Reachable { appid, limit } => reachable(&ctx, appid, limit, out).await,
        FollowersCmd::List { appid, tag, limit } => {
            session::catch_up(&ctx).await;
            let filter = FollowerFilter {
                tag_id: tag,
                ..Default::default()
            };
            let limit = u32::try_from(limit).unwrap_or(u32::MAX);
            let page = ctx.audience.followers(&appid, filter, None, limit).await?;
            let counts = ctx.audience.totals(&appid).await?;
            out.emit(
                &json!({ "counts": counts, "followers": page.items }),
                || {
                    for f in &page.items {
                        let state = if f.subscribe {
                            "关注中"
                        } else {
                            "已取关"
                        };
                        crate::outln!(
                            "{}  {}  {}  {}",
                            f.openid,
                            state,
                            f.unionid.as_deref().unwrap_or("-"),
                            f.remark
                        );
                    }
                    crate::outln!(
                        "共 {} 人（关注中 {}，已取关 {}），显示 {}",
                        counts.total,
                        counts.subscribed,
                        counts.unsubscribed,
                        page.items.len()
                    );
                },
            )
        }
    }
}

fn phase_zh(p: &SyncProgress) -> &'static str {
    use SyncPhase as P;
    match p.phase {
        P::Listing => "获取粉丝列表",
        P::Details => "获取粉丝资料",
        P::Tags => "同步标签",
        P::Publishing => "上传到团队",
        P::Done => "完成",
    }
}

async fn sync(ctx: &Context, appid: &str, out: Out) -> Result<()> {
    // Ctrl-C stops the sync at its next step; the checkpoint is kept for the next run.
    let audience = ctx.audience.clone();
    let id = appid.to_string();
    let stop_task = tokio::spawn(async move {
        if crate::cmd::sandbox::wait_for_stop().await.is_ok() {
            audience.cancel_sync(&id);
        }
    });
    let bar = (!out.json && std::io::stderr().is_terminal()).then(|| {
        let b = ProgressBar::new(0);
        b.set_style(
            ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        b
    });
    let progress = |p: SyncProgress| {
        if out.json {
            let _ = out.json_line(&json!({ "event": "progress", "progress": p }));
        } else if let Some(b) = &bar {
            if p.early_details > 0 {
                b.set_message(format!(
                    "{}（已取到 {} 位的资料）",
                    phase_zh(&p),
                    p.early_details
                ));
            } else {
                b.set_message(phase_zh(&p));
            }
            b.set_length(p.total);
            b.set_position(p.fetched);
        }
    };
    let result = ctx
        .audience
        .sync(appid, SyncOptions::default(), &progress)
        .await;
    stop_task.abort();
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let r = result?;
    out.emit(&json!({ "event": "done", "report": r }), || {
        crate::outln!(
            "粉丝同步{}：共 {} 人，新增 {}，重新关注 {}，取关 {}，获取资料 {}",
            if r.outcome == SyncOutcome::Completed {
                "完成"
            } else {
                "已中断（下次运行继续）"
            },
            r.total,
            r.added,
            r.resubscribed,
            r.unsubscribed,
            r.details_fetched
        );
    })?;
    if r.outcome == SyncOutcome::Cancelled {
        return Err(CliError::Failed(
            "粉丝同步被中断，再次运行 followers sync 继续".into(),
        ));
    }
    Ok(())
}

/// All lists (of the accounts here), or one account's.
async fn all_lists(ctx: &Context, account: Option<&str>) -> Result<Vec<RecipientList>> {
    Ok(ctx.audience.lists(account).await?)
}

/// The list called `name` (across accounts unless one is given); an ambiguous name is refused.
pub async fn find_list(ctx: &Context, name: &str, account: Option<&str>) -> Result<RecipientList> {
    let mut found: Vec<RecipientList> = all_lists(ctx, account)
        .await?
        .into_iter()
        .filter(|l| l.name == name)
        .collect();
    match found.len() {
        0 => Err(CliError::Usage(format!("没有名为「{name}」的名单"))),
        1 => Ok(found.remove(0)),
        n => Err(CliError::Usage(format!(
            "有 {n} 个账号都有名为「{name}」的名单，请用 --account 指定"
        ))),
    }
}

fn source_zh(s: &ListSource) -> String {
    match s {
        ListSource::Followers { filter } => match filter.tag_id {
            Some(t) => format!("标签 {t} 的粉丝"),
            None => "全部粉丝".into(),
        },
        ListSource::Pasted => "粘贴".into(),
        ListSource::File { file_name } => format!("文件 {file_name}"),
        ListSource::UnionidBridge { file_name } => format!("unionid 匹配 {file_name}"),
    }
}

/// `lists create NAME --account OA --bridge FILE`: a file of mini-program users (openid +
/// unionid) matched to the account's followers through unionid, saved as a list that keeps the
/// mini-program openid as a variable.
async fn bridge_list(
    ctx: &wxdesk_core::context::Context,
    account: &str,
    name: &str,
    path: std::path::PathBuf,
    out: Out,
) -> Result<()> {
    let report = ctx
        .audience
        .bridge_preview(account, ImportSource::File(path.clone()))
        .await?;
    let list = ctx
        .audience
        .bridge_save(account, name, ImportSource::File(path))
        .await?;
    out.emit(&json!({ "list": list, "bridge": report }), || {
        crate::outln!(
            "已创建名单「{}」（{}）：{} 人",
            list.name,
            source_zh(&list.source),
            list.member_count
        );
        crate::outln!(
            "  读取 {} 行：匹配 {}，无 unionid {}，未关注 {}，已取消关注 {}，重复 {}",
            report.rows_read,
            report.matched,
            report.no_unionid,
            report.not_following,
            report.unsubscribed,
            report.duplicates_removed
        );
        print_conflicts(report.conflicting_count, &report.conflicting);
        if report.followers_without_details > 0 {
            crate::outln!(
                "  注意：{} 个粉丝尚未同步详情（没有 unionid），先运行 wxdesk-cli followers sync {account} 可能匹配更多",
                report.followers_without_details
            );
        }
        for u in report.unmatched.iter().take(5) {
            let why = match u.why {
                wxdesk_core::audience::Unmatched::NoUnionid => "无 unionid（小程序未绑定开放平台）",
                wxdesk_core::audience::Unmatched::NotFollowing => "未关注公众号",
                wxdesk_core::audience::Unmatched::Unsubscribed => "已取消关注",
            };
            crate::outln!("  第 {} 行：{}（{why}）", u.line, u.mini_openid);
        }
    })
}

/// The repeated openids whose other values differ, beside the row kept: the same lines for a
/// file import and for the unionid bridge.
fn print_conflicts(count: u64, rows: &[DuplicateRow]) {
    if count == 0 {
        return;
    }
    crate::outln!("  其中 {count} 个重复的 openid 其他列的值不同：保留首次出现的行");
    for d in rows.iter().take(5) {
        crate::outln!(
            "  {}：保留第 {} 行（{}），舍弃第 {} 行（{}）",
            d.openid,
            d.kept_line,
            d.kept_values.join("，"),
            d.dropped_line,
            d.dropped_values.join("，")
        );
    }
}

pub async fn lists(c: ListsCmd, dir: &Path, out: Out) -> Result<()> {
    let ctx = session::open(dir).await?;
    match c {
        ListsCmd::Create {
            name,
            account,
            source,
        } => {
            if let Some(path) = source.bridge {
                return bridge_list(&ctx, &account, &name, path, out).await;
            }
            let (list, preview) = if let Some(path) = source.csv {
                let saved = ctx
                    .audience
                    .import_save(
                        &account,
                        &name,
                        ImportSource::File(path),
                        ImportOptions::default(),
                    )
                    .await?;
                (saved.list, Some(saved.preview))
            } else {
                let filter = FollowerFilter {
                    tag_id: source.tag,
                    ..Default::default()
                };
                let list = ctx
                    .audience
                    .list_from_followers(&account, &name, filter)
                    .await?;
                (list, None)
            };
            out.emit(&json!({ "list": list, "import": preview }), || {
                crate::outln!(
                    "已创建名单「{}」（{}）：{} 人",
                    list.name,
                    source_zh(&list.source),
                    list.member_count
                );
                if !list.variables.is_empty() {
                    crate::outln!("  变量：{}", list.variables.join("、"));
                }
                if let Some(p) = &preview {
                    crate::outln!(
                        "  读取 {} 行，无效 {}，重复 {}，未关注 {}",
                        p.rows_read,
                        p.invalid_count,
                        p.duplicates_removed,
                        p.not_following_count
                    );
                    print_conflicts(p.conflicting_count, &p.conflicting);
                    for bad in p.invalid.iter().take(5) {
                        crate::outln!("  第 {} 行：{}（{}）", bad.line, bad.value, bad.reason().zh);
                    }
                }
            })
        }
        ListsCmd::List { account } => {
            let all = all_lists(&ctx, account.as_deref()).await?;
            out.emit(&all, || {
                if all.is_empty() {
                    crate::outln!("还没有名单。");
                }
                for l in &all {
                    crate::outln!(
                        "{}  {}  {} 人  {}  {}",
                        l.appid,
                        l.name,
                        l.member_count,
                        source_zh(&l.source),
                        beijing(l.created_at)
                    );
                }
            })
        }
        ListsCmd::Show {
            name,
            account,
            limit,
        } => {
            let list = find_list(&ctx, &name, account.as_deref()).await?;
            let limit = u32::try_from(limit).unwrap_or(u32::MAX);
            let page = ctx.audience.members(list.id, None, limit).await?;
            out.emit(&json!({ "list": list, "members": page.items }), || {
                crate::outln!(
                    "名单「{}」  账号 {}  {} 人  {}",
                    list.name,
                    list.appid,
                    list.member_count,
                    source_zh(&list.source)
                );
                if !list.variables.is_empty() {
                    crate::outln!("变量：{}", list.variables.join("、"));
                }
                for m in &page.items {
                    let vars: Vec<String> =
                        m.vars.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    crate::outln!("  {}  {}", m.openid, vars.join("  "));
                }
            })
        }
        ListsCmd::Delete { name, account } => {
            let list = find_list(&ctx, &name, account.as_deref()).await?;
            let deleted = ctx.audience.delete_list(list.id).await?;
            out.emit(&json!({ "list": list, "deleted": deleted }), || {
                if deleted {
                    crate::outln!("已删除名单「{}」（账号 {}）", list.name, list.appid);
                } else {
                    crate::outln!("名单「{}」已不存在（可能已被别人删除）", list.name);
                }
            })
        }
    }
}

/// The users whose customer-service window is open now, from the relay events this data dir
/// has applied (caught up first).
async fn reachable(ctx: &Context, appid: String, limit: u32, out: Out) -> Result<()> {
    session::catch_up(ctx).await;
    let page = ctx.interactions.open(&appid, None, Some(limit)).await?;
    out.emit(&page, || {
        for w in &page.rows {
            let left = if w.remaining_secs >= 3600 {
                format!("还剩 {} 小时", w.remaining_secs / 3600)
            } else {
                format!("还剩 {} 分钟", (w.remaining_secs / 60).max(1))
            };
            crate::outln!(
                "{}  {}  {}  {}  {}{}",
                w.openid,
                beijing(w.last_at),
                w.kind.label_zh(),
                left,
                w.remark.as_deref().unwrap_or(""),
                if w.preview.is_empty() {
                    String::new()
                } else {
                    format!("「{}」", w.preview)
                }
            );
        }
        if page.rows.is_empty() {
            crate::outln!(
                "现在没有能收客服消息的用户：用户给公众号发消息后 48 小时内、点菜单/关注/扫码后 1 分钟内才能收到"
            );
        } else {
            crate::outln!("共 {} 人可收客服消息，显示 {}", page.total, page.rows.len());
        }
    })
}
