//! wxdesk-cli: the same core as the desktop app, from a shell (ERP scripts, cron, headless checks).
use clap::Parser;

/// wxdesk-cli: run a WeChat third-party platform from a shell.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// Data directory (the same one the desktop app uses).
    #[arg(long, global = true)]
    data_dir: Option<std::path::PathBuf>,
    /// Print machine-readable JSON on stdout.
    #[arg(long, global = true)]
    json: bool,
}

fn main() {
    let _args = Args::parse();
}
