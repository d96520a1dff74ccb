//! The wxdesk-relay binary: read the config, log to stderr, serve until SIGTERM or Ctrl-C.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;
use wxdesk_relay::RelayConfig;

/// wxdesk-relay：微信开放平台第三方平台的公网回调服务（授权事件、消息与事件、授权发起页），
/// 并把事件以长轮询日志提供给 wxdesk 桌面端。
///
/// wxdesk-relay: the public callback URLs of a WeChat third-party platform, feeding the wxdesk
/// desktop app through an authenticated long-poll event log.
///
/// Configuration: a TOML file (--config) and/or environment variables WXDESK_RELAY_<KEY>
/// (environment wins). Keys: listen, data_dir, component_appid, component_token,
/// component_aes_key, component_aes_key_previous, api_key, public_base_url, upstream, egress_source_ip,
/// login_base, replay_window_secs, retention_days. Secrets may also be read from a file named by
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
