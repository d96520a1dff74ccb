//! The wxdesk-relay binary: read the config, log to stderr, serve until SIGTERM or Ctrl-C.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;
use wxdesk_relay::RelayConfig;
use wxdesk_relay::team::members::{self, Role};

/// mimalloc instead of glibc's allocator: on the callback path (a dozen small allocations per
/// push across the HTTP stack, the handler and the store thread) glibc's malloc, free and
/// fastbin consolidation took 14 % of the relay's CPU at 34,000 pushes/s (perf, 2026-12-05).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// wxdesk-relay：微信开放平台第三方平台的公网回调服务（授权事件、消息与事件、授权发起页），
/// 并把事件以长轮询日志提供给 wxdesk 桌面端。
///
/// wxdesk-relay: the public callback URLs of a WeChat third-party platform, feeding the wxdesk
/// desktop app through an authenticated long-poll event log.
///
/// Configuration: a TOML file (--config) and/or environment variables WXDESK_RELAY_<KEY>
/// (environment wins). Keys: listen, data_dir, component_appid, component_token,
/// component_aes_key, component_aes_key_previous, api_key, public_base_url, upstream, egress_source_ip,
/// login_base, replay_window_secs, retention_days; team mode: database_url, component_appsecret,
/// server_key. Secrets may also be read from a file named by
/// <key>_file (e.g. WXDESK_RELAY_API_KEY_FILE). Secrets are never accepted on the command line.
#[derive(Parser)]
#[command(version, about, long_about)]
struct Args {
    /// TOML 配置文件 / TOML configuration file.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,

    /// 启动后把实际监听地址（http://IP:PORT）写入此文件 / write the bound base URL to this file
    /// once listening (handy with port 0).
    #[arg(long, value_name = "FILE")]
    ready_file: Option<PathBuf>,

    /// 以 JSON 输出日志 / log as JSON lines.
    #[arg(long)]
    json_logs: bool,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(clap::Subcommand)]
enum Command {
    /// 团队成员（团队模式，需要 database_url）/ team members (team mode: needs database_url).
    Members {
        #[command(subcommand)]
        action: MembersAction,
    },
}

#[derive(clap::Subcommand)]
enum MembersAction {
    /// 添加成员，密钥只在最后一行显示一次 / add a member; the key is printed once, alone on the
    /// last line.
    Add {
        /// 成员名 / member name.
        name: String,
        /// viewer 只读；operator 可授权、同步、建名单、发送；admin 另可管理平台设置和成员 /
        /// viewer reads; operator authorizes, syncs, makes lists and sends; admin also manages
        /// platform settings and members.
        #[arg(long, value_enum, default_value = "operator")]
        role: RoleArg,
    },
    /// 列出成员 / list members.
    List,
    /// 移除成员，其密钥立即失效 / remove a member; their key stops working at once.
    Remove { name: String },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum RoleArg {
    Admin,
    Operator,
    Viewer,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::Admin => Role::Admin,
            RoleArg::Operator => Role::Operator,
            RoleArg::Viewer => Role::Viewer,
        }
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let filter = EnvFilter::try_from_env("RUST_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if args.json_logs {
        builder.json().init();
    } else {
        builder.init();
    }

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("wxdesk-relay: 无法启动运行时 / cannot start runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wxdesk-relay: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> wxdesk_relay::Result<()> {
    let cfg = RelayConfig::load(args.config.as_deref())?;
    if let Some(Command::Members { action }) = args.command {
        return members_command(&cfg, action).await;
    }
    let handle = wxdesk_relay::start(cfg).await?;
    // A stable line for scripts and tests to find the port: keep its format.
    eprintln!("wxdesk-relay listening on {}", handle.base_url);
    if let Some(path) = &args.ready_file {
        std::fs::write(path, format!("{}\n", handle.base_url))?;
    }
    shutdown_signal().await;
    tracing::info!("shutdown requested");
    handle.shutdown().await;
    Ok(())
}

async fn members_command(cfg: &RelayConfig, action: MembersAction) -> wxdesk_relay::Result<()> {
    let Some(team) = &cfg.team else {
        return Err(wxdesk_relay::Error::Team(
            "成员只存在于团队模式：请先配置 database_url（WXDESK_RELAY_DATABASE_URL）/ members \
             exist in team mode only: configure database_url (WXDESK_RELAY_DATABASE_URL) first"
                .into(),
        ));
    };
    let db = wxdesk_relay::team::db::Db::open(&team.database_url).await?;
    match action {
        MembersAction::Add { name, role } => {
            let role = Role::from(role);
            let key = members::add(&db, &name, role).await?;
            println!(
                "已添加成员 {name}（{}）。下面的密钥只显示这一次，请交给本人，在 wxdesk 的 设置 → 加入团队 中填写。",
                role.as_str()
            );
            println!(
                "Added member {name} ({}). The key below is shown only once: give it to them for 设置 → 加入团队 (Join a team).",
                role.as_str()
            );
            // Alone on the last line, for scripts (`… | tail -n 1`).
            println!("{key}");
        }
        MembersAction::List => {
            let all = members::list(&db).await?;
            if all.is_empty() {
                println!(
                    "还没有成员：用 members add NAME 添加 / no members yet: add one with members add NAME"
                );
            }
            for (m, created) in all {
                println!("{}\t{}\t{created}", m.name, m.role.as_str());
            }
        }
        MembersAction::Remove { name } => {
            if !members::remove(&db, &name).await? {
                return Err(wxdesk_relay::Error::Team(format!(
                    "没有名为 {name} 的成员（members list 可查看）/ no member named {name} (see members list)"
                )));
            }
            println!(
                "已移除成员 {name}，其密钥已失效 / removed member {name}; their key no longer works"
            );
        }
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
