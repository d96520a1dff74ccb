//! The command line (clap derive). The command names are a contract (issue #9); every level has
//! `--help` with examples.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// wxdesk-cli：在命令行里使用 wxdesk（与桌面应用同一数据目录、同一钥匙串条目）。
/// wxdesk-cli: the wxdesk core from a shell (ERP scripts, cron jobs, headless checks).
#[derive(Parser, Debug)]
#[command(name = "wxdesk-cli", version, after_help = EXAMPLES_TOP)]
pub struct Cli {
    /// 数据目录（默认与桌面应用相同；也可用环境变量 WXDESK_DATA_DIR）/ data directory
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// 在标准输出打印 JSON（流式输出为每行一个 JSON）/ machine-readable JSON on stdout
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

const EXAMPLES_TOP: &str = "示例 / Examples:
  wxdesk-cli sandbox start                      # 体验沙箱（前台运行，Ctrl-C 结束）
  wxdesk-cli platform status                    # 检测连接
  wxdesk-cli auth link --mobile && wxdesk-cli auth wait
  wxdesk-cli send template --account wx… --template TID --csv orders.csv \\
      --data thing1={{商品}} --data character_string2={{订单号}}
  wxdesk-cli --json history list --limit 20";

#[derive(Subcommand, Debug)]
pub enum Command {
    /// 第三方平台设置与检测 / platform settings and the connection check
    #[command(subcommand)]
    Platform(PlatformCmd),
    /// 体验沙箱：本机运行模拟器与中继 / run the sandbox (sim + relay) on loopback
    #[command(subcommand)]
    Sandbox(SandboxCmd),
    /// 授权公众号/小程序 / authorize an account
    #[command(subcommand)]
    Auth(AuthCmd),
    /// 已授权账号 / authorized accounts
    #[command(subcommand)]
    Accounts(AccountsCmd),
    /// 模板 / templates of an official account
    #[command(subcommand)]
    Templates(TemplatesCmd),
    /// 粉丝 / followers of an official account
    #[command(subcommand)]
    Followers(FollowersCmd),
    /// 名单 / recipient lists
    #[command(subcommand)]
    Lists(ListsCmd),
    /// 发送 / send messages
    #[command(subcommand)]
    Send(SendCmd),
    /// 发送任务 / send jobs
    #[command(subcommand)]
    Jobs(JobsCmd),
    /// 发送记录 / send history
    #[command(subcommand)]
    History(HistoryCmd),
    /// 小程序代码：模板库、上传、审核、发布、回退、批量发版 / mini-program code management
    #[command(subcommand)]
    Code(crate::cmd::code::CodeCmd),
    /// 加密备份与恢复（数据库 + 钥匙串中的密钥和刷新令牌）/ encrypted backup and restore
    #[command(subcommand)]
    Backup(BackupCmd),
    /// 接口额度：查询今日额度，清零（每月 10 次）/ API quotas: query and reset
    #[command(subcommand)]
    Quota(crate::cmd::quota::QuotaCmd),
    /// 小程序登录：js_code 换取 openid 与 unionid / mini-program login
    #[command(subcommand)]
    Mini(crate::cmd::mini::MiniCmd),
    /// 临时素材：上传小程序卡片封面 / temporary media: a card's cover image
    #[command(subcommand)]
    Media(crate::cmd::media::MediaCmd),
    /// 团队：加入团队服务器、状态、离开 / team: join a team server, status, leave
    #[command(subcommand)]
    Team(crate::cmd::team::TeamCmd),
    /// 运维调试：加解密 / operator tools: decrypt and encrypt pushes
    #[command(subcommand)]
    Debug(DebugCmd),
}

#[derive(Subcommand, Debug)]
pub enum PlatformCmd {
    /// 保存第三方平台设置（密钥从环境变量、标准输入或不回显的提示读取，绝不从命令行参数读取）
    #[command(after_help = "密钥来源 / secrets (never argv):
  环境变量 WXDESK_COMPONENT_SECRET（AppSecret）、WXDESK_COMPONENT_TOKEN（消息校验 Token）、
  WXDESK_COMPONENT_AES_KEY（EncodingAESKey）、WXDESK_RELAY_KEY（中继密钥）；
  或标准输入的 NAME=value 行（同样的名字，可从文件重定向：< secrets.env）；
  在终端里运行时，逐个提示输入（不回显）。未提供的密钥保持已保存的值。

示例 / Examples:
  printf 'WXDESK_COMPONENT_SECRET=%s\\nWXDESK_COMPONENT_TOKEN=%s\\nWXDESK_COMPONENT_AES_KEY=%s\\nWXDESK_RELAY_KEY=%s\\n' \\
      \"$SECRET\" \"$TOKEN\" \"$AESKEY\" \"$RELAYKEY\" | \\
    wxdesk-cli platform set --appid wx0123456789abcdef \\
      --relay-url https://relay.example.com --egress relay
  wxdesk-cli platform set --appid wx0123456789abcdef --relay-url https://relay.example.com \\
      < ~/.config/wxdesk/platform.env     # 只有本用户可读的文件")]
    Set(PlatformSet),
    /// 检测连接：中继、ticket、component_access_token、IP 白名单
    #[command(after_help = "示例 / Examples:
  wxdesk-cli platform status          # 任一步失败时退出码非 0
  wxdesk-cli --json platform status")]
    Status,
}

#[derive(Args, Debug)]
pub struct PlatformSet {
    /// 第三方平台 AppID（component appid）
    #[arg(long, value_name = "A")]
    pub appid: String,
    /// Refused with how to pass it instead: the token is a secret and argv is public (`ps`).
    #[arg(long, value_name = "T", hide = true)]
    pub token: Option<String>,
    /// 中继地址 / relay base URL
    #[arg(long, value_name = "U")]
    pub relay_url: String,
    /// 出口：direct（本机直连）或 relay（经中继）
    #[arg(long, value_enum, default_value_t = EgressArg::Direct)]
    pub egress: EgressArg,
    /// 微信接口地址（默认 https://api.weixin.qq.com）
    #[arg(long, value_name = "URL")]
    pub api_base: Option<String>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum EgressArg {
    Direct,
    Relay,
}

#[derive(Subcommand, Debug)]
pub enum SandboxCmd {
    /// 前台运行模拟器与中继（仅 127.0.0.1），并把数据目录配置为沙箱；Ctrl-C 或 SIGTERM 结束
    #[command(after_help = "示例 / Examples:
  wxdesk-cli --data-dir /tmp/wx-sandbox sandbox start
  # 另一个终端：
  wxdesk-cli --data-dir /tmp/wx-sandbox auth link")]
    Start,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthType {
    /// 公众号
    Oa,
    /// 小程序
    Mini,
    /// 公众号和小程序
    Both,
}

#[derive(Subcommand, Debug)]
pub enum AuthCmd {
    /// 打印授权链接（--mobile：手机链接并显示终端二维码）
    #[command(after_help = "示例 / Examples:
  wxdesk-cli auth link                 # 在电脑浏览器中打开
  wxdesk-cli auth link --type mini --mobile   # 用手机微信扫描二维码")]
    Link {
        #[arg(long = "type", value_enum, default_value_t = AuthType::Oa)]
        auth_type: AuthType,
        /// 手机授权链接与二维码
        #[arg(long)]
        mobile: bool,
    },
    /// 等待授权经中继到达并保存账号
    #[command(after_help = "示例 / Examples:
  wxdesk-cli auth wait --timeout 600")]
    Wait {
        /// 最长等待秒数 / seconds to wait at most
        #[arg(long, value_name = "SECS", default_value_t = 900)]
        timeout: u64,
    },
}

#[derive(Subcommand, Debug)]
pub enum AccountsCmd {
    /// 列出已授权账号
    #[command(
        after_help = "示例 / Examples:\n  wxdesk-cli accounts list\n  wxdesk-cli --json accounts list"
    )]
    List,
    /// 显示一个账号（含令牌状态）
    #[command(after_help = "示例 / Examples:\n  wxdesk-cli accounts show wx0123456789abcdef")]
    Show { appid: String },
    /// 从微信重新获取账号资料
    #[command(after_help = "示例 / Examples:\n  wxdesk-cli accounts refresh wx0123456789abcdef")]
    Refresh { appid: String },
    /// 删除本地账号及其 refresh_token
    #[command(after_help = "示例 / Examples:\n  wxdesk-cli accounts remove wx0123456789abcdef")]
    Remove { appid: String },
    /// 从微信的授权方列表恢复丢失的 refresh_token
    #[command(after_help = "示例 / Examples:\n  wxdesk-cli accounts recover-tokens")]
    RecoverTokens,
    /// 删除另一个平台（默认体验沙箱）存档的账号及其数据；发送任务与记录保留
    #[command(
        after_help = "示例 / Examples:\n  wxdesk-cli accounts purge-archived\n  wxdesk-cli accounts purge-archived --platform wx0123456789abcdef"
    )]
    PurgeArchived {
        /// 存档所属平台的 AppID（component appid），默认体验沙箱 / the archived platform's appid (default: the sandbox's)
        #[arg(long, value_name = "APPID")]
        platform: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum TemplatesCmd {
    /// 从微信同步私有模板
    #[command(after_help = "示例 / Examples:\n  wxdesk-cli templates sync wx0123456789abcdef")]
    Sync { appid: String },
    /// 列出本地模板
    #[command(after_help = "示例 / Examples:\n  wxdesk-cli templates list wx0123456789abcdef")]
    List { appid: String },
    /// 从模板库添加模板
    #[command(after_help = "示例 / Examples:
  wxdesk-cli templates add wx0123456789abcdef --short OPENTM207498902 --keywords 商品名称,订单号")]
    Add {
        appid: String,
        /// 模板库编号 template_id_short
        #[arg(long = "short", value_name = "ID")]
        short_id: String,
        /// 关键词名称，逗号分隔
        #[arg(long, value_name = "K1,K2", value_delimiter = ',')]
        keywords: Vec<String>,
    },
    /// 删除模板
    #[command(
        after_help = "示例 / Examples:\n  wxdesk-cli templates delete wx0123456789abcdef TEMPLATE_ID"
    )]
    Delete { appid: String, template_id: String },
    /// 订阅通知模板（公众号）：模板库、已选用的模板、可接收的用户
    #[command(subcommand)]
    Subscribe(crate::cmd::subscribe::SubscribeCmd),
}

#[derive(Subcommand, Debug)]
pub enum FollowersCmd {
    /// 同步粉丝（可中断，下次继续）
    #[command(after_help = "示例 / Examples:\n  wxdesk-cli followers sync wx0123456789abcdef")]
    Sync { appid: String },
    /// 列出粉丝（已同步的；团队模式下是团队共享的）
    #[command(after_help = "示例 / Examples:
  wxdesk-cli followers list wx0123456789abcdef --tag 100
  wxdesk-cli --json followers list wx0123456789abcdef --limit 5000")]
    List {
        appid: String,
        /// 只列出此标签的粉丝
        #[arg(long, value_name = "ID")]
        tag: Option<i64>,
        /// 最多列出的条数
        #[arg(long, value_name = "N", default_value_t = 100)]
        limit: usize,
    },
    /// 列出现在能收客服消息的用户：48 小时内发过消息，或 1 分钟内点过菜单、关注、扫码（新的在前）
    #[command(after_help = "客服消息只能发给这些用户；发给其他人微信返回 45015。

示例 / Examples:
  wxdesk-cli followers reachable wx0123456789abcdef
  wxdesk-cli --json followers reachable wx0123456789abcdef --limit 500")]
    Reachable {
        appid: String,
        /// 最多列出的条数（1–500）
        #[arg(long, value_name = "N", default_value_t = 100)]
        limit: u32,
    },
}

#[derive(Subcommand, Debug)]
pub enum ListsCmd {
    /// 新建名单：全部粉丝、某标签、CSV 文件（其余列成为变量）或小程序用户文件（按 unionid 匹配粉丝）
    #[command(after_help = "示例 / Examples:
  wxdesk-cli lists create 全部粉丝 --account wx0123456789abcdef --all-followers
  wxdesk-cli lists create 11月订单 --account wx0123456789abcdef --csv orders.csv
  wxdesk-cli lists create 小程序会员 --account wx0123456789abcdef --bridge mini-users.csv")]
    Create {
        name: String,
        #[arg(long, value_name = "APPID")]
        account: String,
        #[command(flatten)]
        source: ListSourceArgs,
    },
    /// 列出名单
    #[command(after_help = "示例 / Examples:\n  wxdesk-cli lists list")]
    List {
        /// 只列出此账号的名单
        #[arg(long, value_name = "APPID")]
        account: Option<String>,
    },
    /// 显示名单及前若干成员
    #[command(after_help = "示例 / Examples:\n  wxdesk-cli lists show 11月订单")]
    Show {
        name: String,
        #[arg(long, value_name = "APPID")]
        account: Option<String>,
        /// 显示的成员数
        #[arg(long, value_name = "N", default_value_t = 20)]
        limit: usize,
    },
    /// 删除名单（团队模式下对所有成员删除）
    #[command(after_help = "示例 / Examples:\n  wxdesk-cli lists delete 11月订单")]
    Delete {
        name: String,
        #[arg(long, value_name = "APPID")]
        account: Option<String>,
    },
}

#[derive(Args, Debug)]
#[group(required = true, multiple = false)]
pub struct ListSourceArgs {
    /// 全部已关注的粉丝
    #[arg(long)]
    pub all_followers: bool,
    /// 某个标签下的粉丝
    #[arg(long, value_name = "ID")]
    pub tag: Option<i64>,
    /// CSV/XLSX 文件（openid 列 + 变量列）
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// 小程序用户文件（小程序 openid + unionid 列）：按 unionid 匹配为该公众号的粉丝
    #[arg(long, value_name = "FILE")]
    pub bridge: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum SendCmd {
    /// 发送模板消息（--data 的值可用 {{列名}} 引用名单/CSV 的列）
    #[command(
        after_help = "变量 / variables: --data 的值中 {{列名}} 按每个接收者替换（CSV 列或名单变量）。

示例 / Examples:
  wxdesk-cli send template --account wx0123456789abcdef --template TID --to oABC… \\
      --data thing1=发货通知 --data time2='2026-11-22 10:00'
  wxdesk-cli send template --account wx0123456789abcdef --template TID --csv orders.csv \\
      --data character_string1={{订单号}} --data thing2={{商品}} --data amount3={{金额}}元 \\
      --url 'https://erp.example.com/o/{{订单号}}' --rate 50 --detach"
    )]
    Template(SendTemplate),
    /// 发送订阅通知（公众号）：只发给现在能收到该模板的用户；其余在发送前拒绝（否则微信返回 43101），不发给他们
    #[command(
        after_help = "谁能收到：用户在订阅弹窗中同意后（微信经中继推送 subscribe_msg_popup_event），一次性订阅可发一次，
长期订阅可多次发，直到用户关闭。先用 templates subscribe receivers 查看。
退出码：0 全部发出；5 有接收者因未订阅被拒绝（其余已发出，或无人可发时什么都没发）；3 任务需要查看。

示例 / Examples:
  wxdesk-cli send subscribe --account wx0123456789abcdef --template TID --to oABC… \\
      --data character_string1=SO1001 --data thing2=绿茶 --data time3='2026-11-22 10:00' \\
      --page https://m.example.com/o/SO1001
  wxdesk-cli send subscribe --account wx0123456789abcdef --template TID --list 订阅用户 \\
      --data thing1={{事项}} --mini wxminiprogram00001:pages/order/list"
    )]
    Subscribe(SendSubscribe),
    /// 统一服务消息（uniform_send）——已被微信下线：2023-09-20 起接口返回 45109；改用 send template --mini APPID:PATH
    #[command(
        after_help = "微信已于 2023-09-20 收回下发统一消息接口，调用返回 45109，消息不会发出（退出码 1）。
替代：用公众号的模板消息并跳转小程序（小程序须已与公众号关联）：
  wxdesk-cli send template --account 公众号APPID --template TID --to OPENID --mini 小程序APPID:pages/index/index

示例 / Examples:
  wxdesk-cli send uniform --account wxminiprogram00001 --mp-appid wx0123456789abcdef \\
      --template TID --to oMINI… --data keyword1=已发货 --mini wxminiprogram00001:pages/order/list"
    )]
    Uniform(SendUniform),
    /// 发送客服文本消息（48 小时内互动过的用户）
    #[command(after_help = "示例 / Examples:
  wxdesk-cli send text --account wx0123456789abcdef --to oABC… --text '您好，订单已发货'")]
    Text {
        #[arg(long, value_name = "APPID")]
        account: String,
        #[arg(long, value_name = "OPENID")]
        to: String,
        #[arg(long, value_name = "T")]
        text: String,
        #[command(flatten)]
        wait: WaitArg,
    },
}

#[derive(Args, Debug)]
pub struct SendTemplate {
    #[arg(long, value_name = "APPID")]
    pub account: String,
    /// 模板 ID
    #[arg(long, value_name = "TID")]
    pub template: String,
    #[command(flatten)]
    pub to: Recipients,
    /// 关键词值 key=value，可重复；值中可用 {{列名}}
    #[arg(long = "data", value_name = "KEY=VALUE")]
    pub data: Vec<String>,
    /// 点击跳转的网页
    #[arg(long, value_name = "U")]
    pub url: Option<String>,
    /// 跳转小程序 APPID:PAGEPATH
    #[arg(long, value_name = "APPID:PAGEPATH")]
    pub mini: Option<String>,
    /// 同时在途的请求数
    #[arg(long, value_name = "N")]
    pub concurrency: Option<u32>,
    /// 每秒请求数上限
    #[arg(long, value_name = "N")]
    pub rate: Option<u32>,
    /// 任务名称
    #[arg(long, value_name = "TITLE")]
    pub title: Option<String>,
    /// 创建任务后在后台发送，立即返回任务 ID
    #[arg(long)]
    pub detach: bool,
    #[command(flatten)]
    pub wait: WaitArg,
}

#[derive(Args, Debug)]
pub struct SendSubscribe {
    #[arg(long, value_name = "APPID")]
    pub account: String,
    /// 订阅通知模板 ID（templates subscribe list 列出）
    #[arg(long, value_name = "TID")]
    pub template: String,
    #[command(flatten)]
    pub to: Recipients,
    /// 关键词值 key=value，可重复；值中可用 {{列名}}；模板的每个关键词都要给出
    #[arg(long = "data", value_name = "KEY=VALUE")]
    pub data: Vec<String>,
    /// 点击跳转的网页
    #[arg(long, value_name = "URL", conflicts_with = "mini")]
    pub page: Option<String>,
    /// 跳转小程序 APPID:PAGEPATH（小程序须已与公众号关联）
    #[arg(long, value_name = "APPID:PAGEPATH")]
    pub mini: Option<String>,
    /// 任务名称
    #[arg(long, value_name = "TITLE")]
    pub title: Option<String>,
    /// 同时在途的请求数
    #[arg(long, value_name = "N")]
    pub concurrency: Option<u32>,
    /// 每秒请求数上限
    #[arg(long, value_name = "N")]
    pub rate: Option<u32>,
    #[command(flatten)]
    pub wait: WaitArg,
}

#[derive(Args, Debug)]
pub struct SendUniform {
    /// 发送的小程序 AppID
    #[arg(long, value_name = "MINI_APPID")]
    pub account: String,
    /// 与小程序关联的公众号 AppID（模板属于它）
    #[arg(long, value_name = "APPID")]
    pub mp_appid: String,
    /// 公众号的模板 ID
    #[arg(long, value_name = "TID")]
    pub template: String,
    /// 接收者 openid
    #[arg(long, value_name = "OPENID")]
    pub to: String,
    #[arg(long = "data", value_name = "KEY=VALUE")]
    pub data: Vec<String>,
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// 跳转小程序 APPID:PAGEPATH
    #[arg(long, value_name = "APPID:PAGEPATH")]
    pub mini: Option<String>,
}

/// How long a send waits for the data dir's send lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    Secs(u64),
    Forever,
}

fn parse_wait(s: &str) -> Result<Wait, String> {
    if s.trim().eq_ignore_ascii_case("forever") {
        return Ok(Wait::Forever);
    }
    s.trim()
        .parse()
        .map(Wait::Secs)
        .map_err(|_| format!("「{s}」应为秒数（0 表示不等待）或 forever"))
}

#[derive(Args, Debug, Clone, Copy)]
pub struct WaitArg {
    /// 桌面应用或另一个发送进程占用此数据目录的发送锁时，最多等待的秒数（0：不等待；forever：一直等）；超时退出码 4，不创建任务
    #[arg(long = "wait", value_name = "SECS", default_value = "60", value_parser = parse_wait)]
    pub wait: Wait,
}

#[derive(Args, Debug)]
#[group(required = true, multiple = false)]
pub struct Recipients {
    /// 单个 openid
    #[arg(long, value_name = "OPENID")]
    pub to: Option<String>,
    /// 名单名称（lists create 创建）
    #[arg(long, value_name = "NAME")]
    pub list: Option<String>,
    /// CSV/XLSX 文件：openid 列 + 变量列
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum JobsCmd {
    /// 列出发送任务
    #[command(after_help = "示例 / Examples:\n  wxdesk-cli jobs list")]
    List,
    /// 显示任务进度与计数
    #[command(after_help = "示例 / Examples:\n  wxdesk-cli jobs show 12")]
    Show { id: i64 },
    /// 暂停任务（正在发送的进程会在在途请求结束后停下）
    #[command(after_help = "示例 / Examples:\n  wxdesk-cli jobs pause 12")]
    Pause { id: i64 },
    /// 继续任务并在前台发送到结束（崩溃后在途的行变为「结果未知」，不会重发）
    #[command(
        after_help = "示例 / Examples:\n  wxdesk-cli jobs resume 12\n  wxdesk-cli jobs resume 12 --wait 600"
    )]
    Resume {
        id: i64,
        #[command(flatten)]
        wait: WaitArg,
    },
    /// 取消任务中待发送的行
    #[command(after_help = "示例 / Examples:\n  wxdesk-cli jobs cancel 12")]
    Cancel { id: i64 },
    /// 重发失败的行（--all：连同被微信拒绝的；--uncertain：崩溃时在途、结果未知的行）
    #[command(
        after_help = "「结果未知」的行可能已经送达。--uncertain 用同一个 client_msg_id 重发：
微信在 10 分钟内会丢弃重复的那一条；超过 10 分钟的行若当时已送达，重发会让用户收到两次（命令会先说明有多少行）。

示例 / Examples:
  wxdesk-cli jobs retry 12
  wxdesk-cli jobs retry 12 --all
  wxdesk-cli jobs retry 12 --uncertain"
    )]
    Retry {
        id: i64,
        /// 连同被微信拒绝（永久失败）的行
        #[arg(long, conflicts_with = "uncertain")]
        all: bool,
        /// 重发「结果未知」的行（由操作员决定）
        #[arg(long)]
        uncertain: bool,
        #[command(flatten)]
        wait: WaitArg,
    },
}

#[derive(Subcommand, Debug)]
pub enum BackupCmd {
    /// 导出工作区：数据库与钥匙串里的全部密钥（平台密钥、各账号刷新令牌），用口令加密成一个文件
    #[command(after_help = concat!(
        "备份口令来源 / passphrase (never argv):\n",
        "  环境变量 WXDESK_BACKUP_PASSPHRASE；否则标准输入的第一行；在终端里则提示输入两次（不回显）。\n",
        "  口令至少 8 个字符。忘记口令就无法恢复——请把它存进密码管理器。\n\n",
        "示例 / Examples:\n",
        "  wxdesk-cli backup export ~/wxdesk-$(date +%F).wxbak\n",
        "  WXDESK_BACKUP_PASSPHRASE=\"$PASS\" wxdesk-cli --json backup export /srv/backup/wxdesk.wxbak --force"
    ))]
    Export {
        /// 备份文件路径（建议扩展名 .wxbak）
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// 覆盖已存在的文件
        #[arg(long)]
        force: bool,
    },
    /// 从备份恢复到一个新的空数据目录（用 --data-dir 指定），之后无需重新授权即可发送
    #[command(after_help = concat!(
        "备份口令来源 / passphrase (never argv):\n",
        "  环境变量 WXDESK_BACKUP_PASSPHRASE；否则标准输入的第一行；在终端里则提示输入（不回显）。\n\n",
        "口令错误或文件被改动时拒绝恢复，数据目录和钥匙串保持原样。\n\n",
        "示例 / Examples:\n",
        "  wxdesk-cli --data-dir ~/wxdesk-restored backup import ~/wxdesk-2026-11-22.wxbak"
    ))]
    Import {
        /// 备份文件路径
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum HistoryCmd {
    /// 列出发送记录（新的在前）
    #[command(after_help = "示例 / Examples:
  wxdesk-cli history list --account wx0123456789abcdef --status failed_permanent --since 2026-11-01
  wxdesk-cli --json history list --limit 1000")]
    List(HistoryFilterArgs),
    /// 导出发送记录为 CSV（UTF-8 BOM，Excel 可直接打开）
    #[command(
        after_help = "示例 / Examples:\n  wxdesk-cli history export --csv history.csv --since 2026-11-01"
    )]
    Export {
        #[arg(long, value_name = "FILE")]
        csv: PathBuf,
        #[command(flatten)]
        filter: HistoryFilterArgs,
    },
}

#[derive(Args, Debug)]
pub struct HistoryFilterArgs {
    #[arg(long, value_name = "A")]
    pub account: Option<String>,
    /// pending, in_flight, sent, failed_retryable, failed_permanent, uncertain, skipped, cancelled
    #[arg(long, value_name = "S")]
    pub status: Option<String>,
    /// 起始日期（北京时间）YYYY-MM-DD
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// 只看某个任务
    #[arg(long, value_name = "ID")]
    pub job: Option<i64>,
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub limit: u32,
}

#[derive(Subcommand, Debug)]
pub enum DebugCmd {
    /// 解密推送：标准输入为加密 XML 包体（或裸 Encrypt/echostr 值）；签名错误或 appid 不符时失败
    #[command(after_help = "示例 / Examples:
  wxdesk-cli debug decrypt --token T --aes-key K --appid wx134c8103faa5a59e \\
      --timestamp 1715943329 --nonce 1590219412 --msg-signature 6c12… < body.xml")]
    Decrypt {
        #[arg(long, value_name = "T")]
        token: String,
        #[arg(long, value_name = "K")]
        aes_key: String,
        /// 接收方 appid（第三方平台推送为 component appid）
        #[arg(long, value_name = "A")]
        appid: String,
        #[arg(long, value_name = "TS")]
        timestamp: String,
        #[arg(long, value_name = "N")]
        nonce: String,
        #[arg(long, value_name = "S")]
        msg_signature: String,
    },
    /// 加密回复：标准输入为明文消息（去掉末尾一个换行），输出被动回复 XML
    #[command(after_help = "示例 / Examples:
  printf '%s' '<xml>…</xml>' | wxdesk-cli debug encrypt --token T --aes-key K \\
      --appid wx134c8103faa5a59e --timestamp 1713424427 --nonce 415670741")]
    Encrypt {
        #[arg(long, value_name = "T")]
        token: String,
        #[arg(long, value_name = "K")]
        aes_key: String,
        #[arg(long, value_name = "A")]
        appid: String,
        #[arg(long, value_name = "TS")]
        timestamp: String,
        #[arg(long, value_name = "N")]
        nonce: String,
        /// 16 个字符的随机前缀（复现固定结果用）
        #[arg(long, value_name = "SIXTEENCHARS")]
        random: Option<String>,
    },
    /// 解密小程序 encryptedData（标准输入），输出 JSON；水印 appid 不符时失败
    #[command(after_help = "示例 / Examples:
  wxdesk-cli debug decrypt-mini --session-key 'tiihtNczf5v6AKRyjwEUhQ==' \\
      --iv 'r7BXXKkLb8qrSNn05n0qiA==' --appid wx4f4bc4dec97d474b < data.b64")]
    DecryptMini {
        #[arg(long, value_name = "K")]
        session_key: String,
        #[arg(long, value_name = "IV")]
        iv: String,
        /// 期望的小程序 appid（不填则不校验水印）
        #[arg(long, value_name = "A")]
        appid: Option<String>,
    },
}
