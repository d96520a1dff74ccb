//! wxdesk-cli: the same core as the desktop app, from a shell (ERP scripts, cron, headless checks).
//! Every command is a thin shell over wxdesk-core: it parses arguments, calls one core function
//! and prints the result (text, or JSON with `--json`).

// Tests may unwrap: a panic is how they fail.
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod args;
mod cmd;
mod error;
mod out;
mod secret_input;
mod session;

use std::process::ExitCode;

use clap::Parser;

use crate::args::{Cli, Command};
use crate::error::CliError;
use crate::out::Out;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e),
    };
    let out = Out { json: cli.json };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(out, &CliError::io("无法启动异步运行时", e)),
    };
    match runtime.block_on(run(cli, out)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(out, &e),
    }
}

/// `--help`/`--version` print as clap does; a usage error becomes ONE line on stderr (exit 2).
fn usage_error(e: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = e.print();
        return if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
            ExitCode::from(2)
        } else {
            ExitCode::SUCCESS
        };
    }
    let text = e.render().to_string();
    // The message runs until the blank line before "Usage:"; fold it onto one line.
    let message: Vec<&str> = text
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect();
    crate::errln!("{}（用法见 --help）", message.join(" "));
    ExitCode::from(2)
}

/// One line on stderr; with `--json` also the error as a JSON document on stdout.
fn fail(out: Out, e: &CliError) -> ExitCode {
    if out.json {
        let _ = out.json_line(&e.to_json());
    }
    crate::errln!("{}", e.one_line());
    ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(1))
}

async fn run(cli: Cli, out: Out) -> error::Result<()> {
    let dir = session::resolve_data_dir(cli.data_dir)?;
    match cli.command {
        // The debug tools need no data dir, store or keychain.
        Command::Debug(c) => cmd::debug::run(c, out),
        Command::Platform(c) => cmd::platform::run(c, &dir, out).await,
        Command::Sandbox(c) => cmd::sandbox::run(c, &dir, out).await,
        Command::Auth(c) => cmd::auth::run(c, &dir, out).await,
        Command::Accounts(c) => cmd::accounts::run(c, &dir, out).await,
        Command::Templates(c) => cmd::templates::run(c, &dir, out).await,
        Command::Followers(c) => cmd::audience::followers(c, &dir, out).await,
        Command::Lists(c) => cmd::audience::lists(c, &dir, out).await,
        Command::Send(c) => cmd::send::run(c, &dir, out).await,
        Command::Jobs(c) => cmd::jobs::run(c, &dir, out).await,
        Command::History(c) => cmd::history::run(c, &dir, out).await,
        Command::Code(c) => cmd::code::run(c, &dir, out).await,
        Command::Backup(c) => cmd::backup::run(c, &dir, out).await,
        Command::Quota(c) => cmd::quota::run(c, &dir, out).await,
        Command::Mini(c) => cmd::mini::run(c, &dir, out).await,
        Command::Media(c) => cmd::media::run(c, &dir, out).await,
        Command::Team(c) => cmd::team::run(c, &dir, out).await,
    }
}
