//! The wxdesk-sim binary: parse flags/env/file into a `SimConfig`, start, run until Ctrl-C.
use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // Logs go to stderr: stdout carries only the base URL, for scripts to read.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let cfg = match wxdesk_sim::SimArgs::parse().into_config() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("wxdesk-sim: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let handle = match wxdesk_sim::start(cfg).await {
        Ok(h) => h,
        Err(e) => {
            eprintln!("wxdesk-sim: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    println!("{}", handle.base_url);
    let _ = tokio::signal::ctrl_c().await;
    handle.shutdown().await;
    std::process::ExitCode::SUCCESS
}
