//! `code …`: mini-program code management over `ctx.code` — the platform's template library,
//! one mini program's commit / audit / status / release / rollback, and `code rollout`, the bulk
//! job (progress like `send`'s, Ctrl-C pauses, exit 0 only when every mini program reached the
//! target, 3 when some need a look).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::{Args, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use tokio_util::sync::CancellationToken;
use wxdesk_core::audience::ImportSource;
use wxdesk_core::code::{
    AuditState, CommitInput, DomainAction, PauseCode, Rollout, RolloutClients, RolloutInput,
    RolloutProgress, RolloutStatus, RolloutTarget, RowState, ServerDomains, ServerLists,
    SubmitAudit,
};
use wxdesk_core::context::Context;

use crate::error::{CliError, Result};
use crate::out::{Out, beijing};
use crate::session;

#[derive(Subcommand, Debug)]
pub enum CodeCmd {
    /// 第三方平台的草稿箱与代码模板库
    #[command(
        after_help = "示例 / Examples:\n  wxdesk-cli code templates\n  wxdesk-cli --json code templates"
    )]
    Templates,
    /// 把草稿加入模板库
    #[command(after_help = "示例 / Examples:\n  wxdesk-cli code add-template 3")]
    AddTemplate {
        draft_id: i64,
        /// 标准模板（已停用，仅旧平台）
        #[arg(long)]
        standard: bool,
    },
    /// 从模板库删除模板
    #[command(after_help = "示例 / Examples:\n  wxdesk-cli code delete-template 7")]
    DeleteTemplate { template_id: i64 },
    /// 服务器域名（request、socket、upload、download、udp、tcp 合法域名）：查看、添加、删除或整体设置
    #[command(
        after_help = "域名须先登记在第三方平台的「小程序服务器域名」中，否则被微信滤掉（列在 invalid）；
每月最多修改 50 次。第三方平台发布代码后小程序只保留平台的域名，所以在发布前设置。

示例 / Examples:
  wxdesk-cli code domains wx0123456789abcdef
  wxdesk-cli code domains wx0123456789abcdef --action add --request https://api.example.com \\
      --upload https://img.example.com --ws wss://ws.example.com
  wxdesk-cli --json code domains wx0123456789abcdef --action set --request https://api.example.com"
    )]
    Domains {
        mini_appid: String,
        /// get 查看；add 添加；delete 删除；set 覆盖为给出的列表
        #[arg(long, value_enum, default_value_t = Action::Get)]
        action: Action,
        /// request 合法域名（https://…），可重复
        #[arg(long = "request", value_name = "URL")]
        request: Vec<String>,
        /// socket 合法域名（wss://…），可重复
        #[arg(long = "ws", value_name = "URL")]
        ws: Vec<String>,
        /// uploadFile 合法域名（https://…），可重复
        #[arg(long = "upload", value_name = "URL")]
        upload: Vec<String>,
        /// downloadFile 合法域名（https://…），可重复
        #[arg(long = "download", value_name = "URL")]
        download: Vec<String>,
        /// udp 合法域名（udp://…），可重复
        #[arg(long = "udp", value_name = "URL")]
        udp: Vec<String>,
        /// tcp 合法域名（tcp://…），可重复
        #[arg(long = "tcp", value_name = "URL")]
        tcp: Vec<String>,
    },
    /// 业务域名（web-view）：查看、添加、删除、整体设置，或加入第三方平台登记的全部业务域名
    #[command(after_help = "示例 / Examples:
  wxdesk-cli code webview-domains wx0123456789abcdef --from-platform
  wxdesk-cli code webview-domains wx0123456789abcdef --action add --domain https://m.example.com
  wxdesk-cli --json code webview-domains wx0123456789abcdef")]
    WebviewDomains {
        mini_appid: String,
        /// get 查看；add 添加；delete 删除；set 覆盖为给出的列表
        #[arg(long, value_enum, default_value_t = Action::Get, conflicts_with = "from_platform")]
        action: Action,
        /// 业务域名（https://…，不带端口），可重复
        #[arg(long = "domain", value_name = "URL")]
        domain: Vec<String>,
        /// 加入第三方平台登记的全部业务域名
        #[arg(long)]
        from_platform: bool,
    },
    /// 上传代码并生成体验版（ext.json 为该小程序的配置）
    #[command(after_help = "示例 / Examples:
  wxdesk-cli code commit wx0123456789abcdef --template 7 --version 1.2.0 \\
      --ext-json shop-1.json --desc \"会员卡上线\"")]
    Commit {
        mini_appid: String,
        /// 模板库中的模板编号 template_id
        #[arg(long, value_name = "ID")]
        template: i64,
        /// 版本号 user_version（1 到 64 个字符）
        #[arg(long, value_name = "V")]
        version: String,
        /// ext.json 文件（一个 JSON 对象）
        #[arg(long, value_name = "FILE")]
        ext_json: Option<PathBuf>,
        /// 版本描述 user_desc
        #[arg(long, value_name = "TEXT", default_value = "")]
        desc: String,
    },
    /// 提交审核（体验版）
    #[command(after_help = "示例 / Examples:
  wxdesk-cli code audit wx0123456789abcdef
  wxdesk-cli code audit wx0123456789abcdef --version-desc \"测试账号 test / 123456\" --privacy-api-not-use")]
    Audit {
        mini_appid: String,
        #[command(flatten)]
        audit: AuditArgs,
    },
    /// 代码状态：体验版、线上版、最近一次审核与审核推送、服务状态
    #[command(after_help = "示例 / Examples:\n  wxdesk-cli code status wx0123456789abcdef")]
    Status { mini_appid: String },
    /// 发布审核通过的版本
    #[command(after_help = "示例 / Examples:\n  wxdesk-cli code release wx0123456789abcdef")]
    Release { mini_appid: String },
    /// 版本回退到上一个线上版本（或 --to 指定的版本）
    #[command(after_help = "示例 / Examples:
  wxdesk-cli code rollback wx0123456789abcdef
  wxdesk-cli code rollback wx0123456789abcdef --to 3")]
    Rollback {
        mini_appid: String,
        /// 可回退版本列表中的 app_version（见 --json code status 的 history）
        #[arg(long, value_name = "APP_VERSION")]
        to: Option<i64>,
    },
    /// 撤回审核（每天 5 次、每月 10 次）
    Undo { mini_appid: String },
    /// 加急审核（默认最近一次审核）
    Speedup {
        mini_appid: String,
        #[arg(long)]
        auditid: Option<i64>,
    },
    /// 把体验版二维码保存为图片
    #[command(after_help = "示例 / Examples:
  wxdesk-cli code qrcode wx0123456789abcdef --out trial.jpg --path \"pages/index/index?from=desk\"")]
    Qrcode {
        mini_appid: String,
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// 打开的页面（可带参数）
        #[arg(long, value_name = "PAGE")]
        path: Option<String>,
    },
    /// 本月审核额度（平台共享）
    Quota {
        /// 用这个小程序的令牌查询（默认任一已授权的小程序）
        mini_appid: Option<String>,
    },
    /// 批量发版：一个模板发给客户表中的每个小程序（上传 → 审核 → 发布），可中断、可续跑
    #[command(after_help = "客户表 / the client table (CSV or XLSX):
  第一行是列名，必须有 appid 列；其他列成为该客户 ext.json 的 ext 字段
  （wx.getExtConfigSync() 读到的值），以 / 开头的列名是从顶层起的路径
  （/window/navigationBarTitleText）。extAppid 自动设为该行的 appid。

  appid,shop,/window/navigationBarTitleText
  wx0123456789abcdef,一号店,一号店会员
  wxfedcba9876543210,二号店,二号店会员

示例 / Examples:
  wxdesk-cli code rollout --template 7 --version 1.3.0 --csv clients.csv --desc \"会员卡\"
  wxdesk-cli code rollout --resume 4        # 继续暂停或中断的批量发版
  # 退出码 0：全部到达目标；3：有审核被拒、失败、暂停或取消（看 code rollouts 4）")]
    Rollout(RolloutArgs),
    /// 批量发版列表；或一个批量发版的每个小程序与各版本分布
    #[command(after_help = "示例 / Examples:
  wxdesk-cli code rollouts
  wxdesk-cli code rollouts 4
  wxdesk-cli code rollouts 4 --pause      # 暂停另一个进程正在执行的批量发版
  wxdesk-cli code rollouts 4 --cancel")]
    Rollouts {
        id: Option<i64>,
        #[arg(long, requires = "id", conflicts_with = "cancel")]
        pause: bool,
        #[arg(long, requires = "id")]
        cancel: bool,
    },
}

/// submit_audit's options the CLI offers (the rest default).
#[derive(Args, Debug, Clone, Default)]
pub struct AuditArgs {
    /// 版本说明（可写测试账号与密码）
    #[arg(long, value_name = "TEXT")]
    pub version_desc: Option<String>,
    /// 声明未使用代码检测到但未配置的隐私接口（避免 61040）
    #[arg(long)]
    pub privacy_api_not_use: bool,
    /// 审核项 item_list（JSON 数组文件：address、tag、title、类目名称与 ID）
    #[arg(long, value_name = "FILE")]
    pub items: Option<PathBuf>,
}

impl AuditArgs {
    fn body(&self) -> Result<SubmitAudit> {
        let item_list = match &self.items {
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .map_err(|e| CliError::io(format!("无法读取 {}", p.display()), e))?;
                serde_json::from_str(&text).map_err(|e| {
                    CliError::Usage(format!(
                        "--items {} 不是审核项的 JSON 数组：{e}",
                        p.display()
                    ))
                })?
            }
            None => Vec::new(),
        };
        Ok(SubmitAudit {
            item_list,
            version_desc: self.version_desc.clone().unwrap_or_default(),
            privacy_api_not_use: self.privacy_api_not_use.then_some(true),
            ..SubmitAudit::default()
        })
    }
}

/// What a domain command does (WeChat's `action`).
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Get,
    Add,
    Delete,
    Set,
}

impl From<Action> for DomainAction {
    fn from(a: Action) -> Self {
        match a {
            Action::Get => DomainAction::Get,
            Action::Add => DomainAction::Add,
            Action::Delete => DomainAction::Delete,
            Action::Set => DomainAction::Set,
        }
    }
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Until {
    /// 只上传体验版
    Committed,
    /// 上传并等审核通过
    Audited,
    /// 上传、审核、发布
    Released,
}

#[derive(Args, Debug)]
pub struct RolloutArgs {
    /// 模板库中的模板编号
    #[arg(long, value_name = "ID", required_unless_present = "resume")]
    pub template: Option<i64>,
    /// 版本号 user_version
    #[arg(long, value_name = "V", required_unless_present = "resume")]
    pub version: Option<String>,
    /// 客户表（CSV 或 XLSX，须有 appid 列）
    #[arg(long, value_name = "FILE", required_unless_present = "resume")]
    pub csv: Option<PathBuf>,
    /// 版本描述 user_desc
    #[arg(long, value_name = "TEXT", default_value = "")]
    pub desc: String,
    /// 每个客户共同的 ext.json（一个 JSON 对象），表中的列加在其上
    #[arg(long, value_name = "FILE")]
    pub ext_json: Option<PathBuf>,
    /// 做到哪一步
    #[arg(long, value_enum, default_value_t = Until::Released)]
    pub until: Until,
    #[command(flatten)]
    pub audit: AuditArgs,
    /// 继续暂停或中断的批量发版
    #[arg(long, value_name = "ID", conflicts_with_all = ["template", "version", "csv", "ext_json"])]
    pub resume: Option<i64>,
}

pub async fn run(c: CodeCmd, dir: &Path, out: Out) -> Result<()> {
    let ctx = session::open(dir).await?;
    let code = &ctx.code;
    match c {
        CodeCmd::Templates => {
            let lib = code.library().await?;
            out.emit(&lib, || {
                crate::outln!("模板库（{} 个）", lib.templates.len());
                for t in &lib.templates {
                    crate::outln!(
                        "  {}  {}  {}  {}",
                        t.template_id,
                        t.user_version,
                        beijing(t.create_time),
                        t.user_desc
                    );
                }
                crate::outln!("草稿箱（{} 个）", lib.drafts.len());
                for d in &lib.drafts {
                    crate::outln!(
                        "  草稿 {}  {}  {}  {}",
                        d.draft_id,
                        d.user_version,
                        beijing(d.create_time),
                        d.user_desc
                    );
                }
            })
        }
        CodeCmd::AddTemplate { draft_id, standard } => {
            let lib = code.add_template(draft_id, i64::from(standard)).await?;
            let added = lib
                .templates
                .iter()
                .filter(|t| t.draft_id == Some(draft_id))
                .max_by_key(|t| t.template_id)
                .cloned();
            out.emit(&json!({ "template": added }), || match &added {
                Some(t) => crate::outln!("已把草稿 {draft_id} 加入模板库：模板 {}", t.template_id),
                None => crate::outln!("已把草稿 {draft_id} 加入模板库"),
            })
        }
        CodeCmd::DeleteTemplate { template_id } => {
            code.delete_template(template_id).await?;
            out.emit(&json!({ "deleted": template_id }), || {
                crate::outln!("已删除模板 {template_id}");
            })
        }
        CodeCmd::Domains {
            mini_appid,
            action,
            request,
            ws,
            upload,
            download,
            udp,
            tcp,
        } => {
            let lists = ServerDomains {
                requestdomain: request,
                wsrequestdomain: ws,
                uploaddomain: upload,
                downloaddomain: download,
                udpdomain: udp,
                tcpdomain: tcp,
            };
            let given = !(lists == ServerDomains::default());
            if action == Action::Get && given {
                return Err(CliError::Usage(
                    "查看时不带域名；要修改请加 --action add|delete|set".into(),
                ));
            }
            if action != Action::Get && !given {
                return Err(CliError::Usage(
                    "请至少给出一个域名（--request、--ws、--upload、--download、--udp、--tcp）"
                        .into(),
                ));
            }
            let d = code.domains(&mini_appid, action.into(), &lists).await?;
            out.emit(
                &json!({ "appid": mini_appid, "domains": d.current, "invalid": d.invalid }),
                || {
                    print_domains(&d.current);
                    if !d.invalid.is_empty() {
                        crate::outln!(
                            "未生效（没有登记在第三方平台的小程序服务器域名中，或不合规则）：{}",
                            d.invalid.join("  ")
                        );
                    }
                },
            )
        }
        CodeCmd::WebviewDomains {
            mini_appid,
            action,
            domain,
            from_platform,
        } => {
            if from_platform && !domain.is_empty() {
                return Err(CliError::Usage(
                    "--from-platform 加入平台登记的全部业务域名，不再带 --domain".into(),
                ));
            }
            if !from_platform && (action == Action::Get) != domain.is_empty() {
                return Err(CliError::Usage(if domain.is_empty() {
                    "请用 --domain 给出至少一个业务域名".into()
                } else {
                    "查看时不带域名；要修改请加 --action add|delete|set".into()
                }));
            }
            let op = (!from_platform).then(|| action.into());
            let list = code.webview_domains(&mini_appid, op, &domain).await?;
            out.emit(
                &json!({ "appid": mini_appid, "webviewdomain": list }),
                || {
                    if list.is_empty() {
                        crate::outln!("业务域名：（无）");
                    } else {
                        crate::outln!("业务域名：{}", list.join("  "));
                    }
                },
            )
        }
        CodeCmd::Commit {
            mini_appid,
            template,
            version,
            ext_json,
            desc,
        } => {
            let ext_json = ext_json.map(|p| read_text(&p)).transpose()?;
            code.commit(
                &mini_appid,
                &CommitInput {
                    template_id: template,
                    user_version: version.clone(),
                    user_desc: desc,
                    ext_json,
                },
            )
            .await?;
            out.emit(
                &json!({ "appid": mini_appid, "template_id": template, "user_version": version }),
                || crate::outln!("已上传 {mini_appid} 的体验版 {version}（模板 {template}）"),
            )
        }
        CodeCmd::Audit { mini_appid, audit } => {
            let auditid = code.submit_audit(&mini_appid, &audit.body()?).await?;
            out.emit(&json!({ "appid": mini_appid, "auditid": auditid }), || {
                crate::outln!("已提交审核：审核单 {auditid}（结果由审核推送或 code status 查看）");
            })
        }
        CodeCmd::Status { mini_appid } => status(&ctx, &mini_appid, out).await,
        CodeCmd::Release { mini_appid } => {
            code.release(&mini_appid).await?;
            out.emit(&json!({ "appid": mini_appid, "released": true }), || {
                crate::outln!("已发布 {mini_appid} 审核通过的版本");
            })
        }
        CodeCmd::Rollback { mini_appid, to } => {
            code.rollback(&mini_appid, to).await?;
            let st = code.status(&mini_appid).await?;
            let online = st.online.as_ref().map(|v| v.version.clone());
            out.emit(&json!({ "appid": mini_appid, "online": online }), || {
                crate::outln!(
                    "已回退 {mini_appid}，线上版本现为 {}",
                    online.as_deref().unwrap_or("（无）")
                );
            })
        }
        CodeCmd::Undo { mini_appid } => {
            code.undo_audit(&mini_appid).await?;
            out.emit(&json!({ "appid": mini_appid, "withdrawn": true }), || {
                crate::outln!("已撤回 {mini_appid} 的审核");
            })
        }
        CodeCmd::Speedup {
            mini_appid,
            auditid,
        } => {
            code.speed_up(&mini_appid, auditid).await?;
            out.emit(&json!({ "appid": mini_appid, "sped_up": true }), || {
                crate::outln!("已申请加急审核（预计 2 到 12 小时内出结果）");
            })
        }
        CodeCmd::Qrcode {
            mini_appid,
            out: file,
            path,
        } => {
            let qr = code.qrcode(&mini_appid, path.as_deref()).await?;
            std::fs::write(&file, &qr.bytes)
                .map_err(|e| CliError::io(format!("无法写入 {}", file.display()), e))?;
            out.emit(
                &json!({ "file": file, "content_type": qr.content_type, "bytes": qr.bytes.len() }),
                || crate::outln!("体验版二维码已保存到 {}", file.display()),
            )
        }
        CodeCmd::Quota { mini_appid } => {
            let q = code.quota(mini_appid.as_deref()).await?;
            out.emit(&q, || {
                crate::outln!("本月审核额度：剩余 {} / {}", q.rest, q.limit);
                crate::outln!(
                    "本月加急额度：剩余 {} / {}",
                    q.speedup_rest,
                    q.speedup_limit
                );
            })
        }
        CodeCmd::Rollout(a) => rollout(&ctx, a, out).await,
        CodeCmd::Rollouts { id, pause, cancel } => rollouts(&ctx, id, pause, cancel, out).await,
    }
}

fn read_text(p: &Path) -> Result<String> {
    std::fs::read_to_string(p).map_err(|e| CliError::io(format!("无法读取 {}", p.display()), e))
}

pub fn audit_zh(s: AuditState) -> &'static str {
    match s {
        AuditState::Approved => "审核成功",
        AuditState::Rejected => "审核被拒绝",
        AuditState::Auditing => "审核中",
        AuditState::Withdrawn => "已撤回",
        AuditState::Delayed => "审核延后",
        AuditState::Unknown => "未知状态",
    }
}

async fn status(ctx: &Context, appid: &str, out: Out) -> Result<()> {
    // Audit pushes the relay holds are recorded first.
    session::catch_up(ctx).await;
    let st = ctx.code.status(appid).await?;
    let history = ctx.code.history(appid).await.unwrap_or_default();
    out.emit(&json!({ "status": st, "history": history }), || {
        crate::outln!("小程序 {appid}");
        match &st.trial {
            Some(v) => crate::outln!("  体验版    {}  {}  {}", v.version, beijing(v.time), v.desc),
            None => crate::outln!("  体验版    （无）"),
        }
        match &st.online {
            Some(v) => crate::outln!("  线上版    {}  {}  {}", v.version, beijing(v.time), v.desc),
            None => crate::outln!("  线上版    （无）"),
        }
        match &st.latest_audit {
            Some(a) => {
                crate::outln!(
                    "  最近审核  审核单 {}  版本 {}  {}  提交于 {}",
                    a.auditid,
                    a.user_version,
                    audit_zh(a.state),
                    beijing(a.submitted_at)
                );
                if let Some(r) = &a.reason {
                    crate::outln!("  原因      {}", r.replace("<br>", " "));
                }
            }
            None => crate::outln!("  最近审核  （从未提交）"),
        }
        if let Some(p) = &st.last_push {
            crate::outln!("  审核推送  {}  {}", p.event.event_name(), beijing(p.at));
        }
        if let Some(open) = st.visit_open {
            crate::outln!("  服务状态  {}", if open { "正常" } else { "暂停服务" });
        }
        for h in &history {
            crate::outln!(
                "  可回退到  app_version {}  {}  {}",
                h.app_version,
                h.user_version,
                beijing(h.commit_time)
            );
        }
    })
}

pub fn row_zh(s: RowState) -> &'static str {
    match s {
        RowState::Pending => "待处理",
        RowState::Committing => "上传中",
        RowState::Committed => "已上传",
        RowState::Submitting => "提审中",
        RowState::Auditing => "审核中",
        RowState::AuditDelayed => "审核延后",
        RowState::AuditPassed => "审核通过",
        RowState::Releasing => "发布中",
        RowState::Released => "已发布",
        RowState::AuditFailed => "审核被拒",
        RowState::Failed => "失败",
        RowState::Cancelled => "已取消",
    }
}

fn status_zh(s: RolloutStatus) -> &'static str {
    match s {
        RolloutStatus::Draft => "未开始",
        RolloutStatus::Running => "进行中",
        RolloutStatus::Paused => "已暂停",
        RolloutStatus::Cancelled => "已取消",
        RolloutStatus::Completed => "已结束",
    }
}

fn pause_zh(code: PauseCode) -> &'static str {
    match code {
        PauseCode::Operator => "手动暂停",
        PauseCode::AuditQuota => "本月审核额度用完",
        PauseCode::Interrupted => "执行的进程已中断",
        PauseCode::Error => "出错",
    }
}

fn print_rollout(r: &Rollout) {
    crate::outln!(
        "批量发版 {}  {}  模板 {}  版本 {}  目标 {}",
        r.id,
        status_zh(r.status),
        r.template_id,
        r.user_version,
        r.target.as_str()
    );
    let c = &r.counts;
    crate::outln!(
        "  共 {}  完成 {}  审核被拒 {}  失败 {}  取消 {}  进行中 {}",
        c.total,
        c.done,
        c.audit_failed,
        c.failed,
        c.cancelled,
        c.remaining
    );
    if let Some(p) = &r.pause {
        crate::outln!("  暂停原因  {}{}", pause_zh(p.code), detail(&p.detail));
    }
}

fn detail(d: &str) -> String {
    if d.is_empty() {
        String::new()
    } else {
        format!("：{d}")
    }
}

async fn rollouts(
    ctx: &Context,
    id: Option<i64>,
    pause: bool,
    cancel: bool,
    out: Out,
) -> Result<()> {
    let code = &ctx.code;
    let Some(id) = id else {
        let list = code.rollouts(50).await?;
        return out.emit(&list, || {
            if list.is_empty() {
                crate::outln!("还没有批量发版。");
            }
            for r in &list {
                print_rollout(r);
            }
        });
    };
    if pause {
        code.pause_rollout(id).await?;
    }
    if cancel {
        code.cancel_rollout(id).await?;
    }
    session::catch_up(ctx).await;
    let d = code.rollout(id).await?;
    out.emit(&d, || {
        print_rollout(&d.rollout);
        for row in &d.rows {
            let mut line = format!("  {}  {}", row.appid, row_zh(row.state));
            if let Some(a) = row.auditid {
                line.push_str(&format!("  审核单 {a}"));
            }
            if let Some(r) = &row.reason {
                line.push_str(&format!("  原因：{}", r.replace("<br>", " ")));
            }
            if let Some(e) = &row.error {
                line.push_str(&format!("  错误：{}", e.zh));
            }
            crate::outln!("{line}");
        }
    })
}

fn target_of(u: Until) -> RolloutTarget {
    match u {
        Until::Committed => RolloutTarget::Committed,
        Until::Audited => RolloutTarget::Audited,
        Until::Released => RolloutTarget::Released,
    }
}

async fn rollout(ctx: &Context, a: RolloutArgs, out: Out) -> Result<()> {
    let code = &ctx.code;
    let id = match a.resume {
        Some(id) => id,
        None => {
            let (Some(template_id), Some(version), Some(csv)) = (a.template, a.version, a.csv)
            else {
                return Err(CliError::Usage(
                    "需要 --template、--version 和 --csv（或 --resume ID）".into(),
                ));
            };
            let base = a.ext_json.as_deref().map(read_text).transpose()?;
            let id = code
                .create_rollout(&RolloutInput {
                    template_id,
                    user_version: version,
                    user_desc: a.desc,
                    target: target_of(a.until),
                    base_ext_json: base,
                    clients: RolloutClients::Table(ImportSource::File(csv)),
                    audit: a.audit.body()?,
                })
                .await?;
            if out.json {
                out.json_line(&json!({ "event": "created", "rollout_id": id }))?;
            } else {
                crate::note!("已创建批量发版 {id}（Ctrl-C 暂停，之后用 --resume {id} 继续）");
            }
            id
        }
    };
    code.start_rollout(id).await?;
    // Audit results come as pushes through the relay: follow the feed while the rollout runs.
    let cancel = CancellationToken::new();
    let feed = tokio::spawn(follow_feed(ctx.clone(), cancel.clone()));
    let driven = drive(ctx, id, out).await;
    cancel.cancel();
    let _ = feed.await;
    let r = driven?;
    let detail = code.rollout(id).await?;
    let versions = code.rollout_versions(id).await.ok();
    out.emit(
        &json!({ "event": "done", "rollout": r, "rows": detail.rows, "versions": versions }),
        || {
            print_rollout(&r);
            for row in detail
                .rows
                .iter()
                .filter(|x| x.state != r.target.done_state())
            {
                let why = row
                    .reason
                    .clone()
                    .or_else(|| row.error.as_ref().map(|e| e.zh.clone()))
                    .unwrap_or_default()
                    .replace("<br>", " ");
                crate::outln!("  {}  {}  {why}", row.appid, row_zh(row.state));
            }
            if let Some(v) = &versions {
                for g in &v.groups {
                    crate::outln!(
                        "  线上版本 {}：{} 个",
                        g.version.as_deref().unwrap_or("（无）"),
                        g.appids.len()
                    );
                }
            }
        },
    )?;
    outcome(&r)
}

/// The exit status: 0 only when every mini program reached the target.
fn outcome(r: &Rollout) -> Result<()> {
    let c = &r.counts;
    if r.status == RolloutStatus::Completed && c.done == c.total {
        return Ok(());
    }
    let why = match (r.status, &r.pause) {
        (RolloutStatus::Paused, Some(p)) => {
            format!("已暂停（{}{}）", pause_zh(p.code), detail(&p.detail))
        }
        (RolloutStatus::Cancelled, _) => "已取消".into(),
        _ => format!("{} 个审核被拒、{} 个失败", c.audit_failed, c.failed),
    };
    let next = if r.status == RolloutStatus::Paused {
        format!("继续：wxdesk-cli code rollout --resume {}", r.id)
    } else {
        format!("查看：wxdesk-cli code rollouts {}", r.id)
    };
    Err(CliError::JobIncomplete(format!(
        "批量发版 {} 未全部完成：{why}；完成 {}/{}。{next}",
        r.id, c.done, c.total
    )))
}

async fn follow_feed(ctx: Context, cancel: CancellationToken) {
    let Ok(feed) = session::feed(&ctx).await else {
        return;
    };
    let feed = feed.with_wait_secs(5);
    while !cancel.is_cancelled() {
        tokio::select! {
            r = feed.poll_once() => {
                if r.is_err() {
                    // The runner also polls WeChat; the feed only makes results come sooner.
                    tokio::select! {
                        () = tokio::time::sleep(Duration::from_secs(2)) => {}
                        () = cancel.cancelled() => {}
                    }
                }
            }
            () = cancel.cancelled() => {}
        }
    }
}

/// Shows progress until the runner stops; a stop signal pauses the rollout.
async fn drive(ctx: &Context, id: i64, out: Out) -> Result<Rollout> {
    let code = &ctx.code;
    let mut rx = code.subscribe(id).await?;
    let bar = (!out.json && std::io::stderr().is_terminal()).then(|| {
        let b = ProgressBar::new(0);
        b.set_style(
            ProgressStyle::with_template(
                "{spinner} 批量发版 {prefix} [{bar:30}] {pos}/{len} {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        b.set_prefix(id.to_string());
        b
    });
    let stop = crate::cmd::sandbox::wait_for_stop();
    tokio::pin!(stop);
    let mut stopped = false;
    let mut last = Instant::now() - Duration::from_secs(1);
    loop {
        let p = rx.borrow_and_update().clone();
        show(&bar, &p, out, &mut last)?;
        if !code.is_active(id) {
            break;
        }
        tokio::select! {
            _ = rx.changed() => {}
            () = tokio::time::sleep(Duration::from_millis(200)) => {}
            _ = &mut stop, if !stopped => {
                stopped = true;
                if !out.json {
                    crate::note!("收到停止信号：暂停批量发版 {id}，等待进行中的步骤完成…");
                }
                code.pause_rollout(id).await?;
            }
        }
    }
    let r = code.wait_rollout(id).await?;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    Ok(r)
}

fn show(
    bar: &Option<ProgressBar>,
    p: &RolloutProgress,
    out: Out,
    last: &mut Instant,
) -> Result<()> {
    if out.json {
        if last.elapsed() >= Duration::from_millis(500) {
            *last = Instant::now();
            out.json_line(&json!({ "event": "progress", "progress": p }))?;
        }
    } else if let Some(b) = bar {
        let c = &p.counts;
        b.set_length(c.total);
        b.set_position(c.total.saturating_sub(c.remaining));
        let quota = p
            .quota
            .map(|q| format!("  审核额度剩余 {}/{}", q.rest, q.limit))
            .unwrap_or_default();
        b.set_message(format!(
            "完成 {} 被拒 {} 失败 {}{quota}",
            c.done, c.audit_failed, c.failed
        ));
    }
    Ok(())
}

/// The six server-domain lists, one line each, empty ones said so.
fn print_domains(d: &ServerLists) {
    for (name, list) in [
        ("request", &d.requestdomain),
        ("socket", &d.wsrequestdomain),
        ("uploadFile", &d.uploaddomain),
        ("downloadFile", &d.downloaddomain),
        ("udp", &d.udpdomain),
        ("tcp", &d.tcpdomain),
    ] {
        if list.is_empty() {
            crate::outln!("{name:<13}（无）");
        } else {
            crate::outln!("{name:<13}{}", list.join("  "));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wxdesk_core::code::{Pause, RowCounts};

    fn rollout(status: RolloutStatus, done: u64, total: u64) -> Rollout {
        Rollout {
            id: 4,
            template_id: 1,
            user_version: "1.0".into(),
            user_desc: String::new(),
            target: RolloutTarget::Released,
            status,
            pause: (status == RolloutStatus::Paused).then(|| Pause {
                code: PauseCode::AuditQuota,
                detail: String::new(),
            }),
            source: String::new(),
            created_at: 0,
            updated_at: 0,
            finished_at: None,
            counts: RowCounts {
                total,
                done,
                ..RowCounts::default()
            },
        }
    }

    #[test]
    fn only_a_completed_rollout_with_every_row_done_exits_zero() {
        assert!(outcome(&rollout(RolloutStatus::Completed, 3, 3)).is_ok());
        let e = outcome(&rollout(RolloutStatus::Completed, 2, 3)).unwrap_err();
        assert_eq!(e.exit_code(), 3);
        let e = outcome(&rollout(RolloutStatus::Paused, 1, 3)).unwrap_err();
        assert!(e.to_string().contains("审核额度") && e.to_string().contains("--resume 4"));
    }
}
