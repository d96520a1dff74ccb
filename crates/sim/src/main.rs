//! The wxdesk-sim binary.
use clap::Parser;

/// wxdesk-sim: a local stand-in for the WeChat servers.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// TOML configuration file; every key is also a flag and WXDESK_SIM_<KEY>.
    #[arg(long)]
    config: Option<std::path::PathBuf>,
}

fn main() {
    let _args = Args::parse();
}
