//! The wxdesk-relay binary.
use clap::Parser;

/// wxdesk-relay: the public callback URLs of a WeChat third-party platform.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// TOML configuration file; every key may be overridden by WXDESK_RELAY_<KEY>.
    #[arg(long)]
    config: Option<std::path::PathBuf>,
}

fn main() {
    let _args = Args::parse();
}
