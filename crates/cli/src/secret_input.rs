//! Reading a secret without it passing through argv (which every user sees in `ps`): one line
//! from a piped stdin, or a prompt on the terminal with echo off. What is read is wiped from
//! memory when dropped.

use std::io::{BufRead, Write};

use zeroize::Zeroizing;

use crate::error::{CliError, Result};

/// One line from stdin without its line ending.
pub fn stdin_line() -> Result<Zeroizing<String>> {
    let mut line = Zeroizing::new(String::new());
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| CliError::io("读取标准输入失败", e))?;
    Ok(Zeroizing::new(
        line.trim_end_matches(['\r', '\n']).to_string(),
    ))
}

/// Asks on stderr and reads one line (echoed: a confirmation, not a secret).
pub fn ask(label: &str) -> Result<Zeroizing<String>> {
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "{label}");
    let _ = err.flush();
    drop(err);
    stdin_line()
}

/// Asks on stderr and reads one line from the terminal with echo off, restoring the terminal
/// whatever happens. `env` names the variable to use instead where no prompt is possible.
pub fn prompt(label: &str, env: &str) -> Result<Zeroizing<String>> {
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "{label}");
    let _ = err.flush();
    let line = read_line_no_echo(env);
    let _ = writeln!(err);
    line
}

#[cfg(unix)]
fn read_line_no_echo(_env: &str) -> Result<Zeroizing<String>> {
    use nix::sys::termios::{LocalFlags, SetArg, tcgetattr, tcsetattr};
    let stdin = std::io::stdin();
    let saved = tcgetattr(&stdin).map_err(|e| CliError::io("无法读取终端设置", e.into()))?;
    let mut quiet = saved.clone();
    quiet.local_flags.remove(LocalFlags::ECHO);
    quiet.local_flags.insert(LocalFlags::ECHONL);
    tcsetattr(&stdin, SetArg::TCSANOW, &quiet)
        .map_err(|e| CliError::io("无法关闭终端回显", e.into()))?;
    let line = stdin_line();
    let _ = tcsetattr(&stdin, SetArg::TCSANOW, &saved);
    line
}

#[cfg(not(unix))]
fn read_line_no_echo(env: &str) -> Result<Zeroizing<String>> {
    Err(CliError::Usage(format!(
        "此系统上无法不回显地读取密钥：请设置环境变量 {env}，或从标准输入提供"
    )))
}
