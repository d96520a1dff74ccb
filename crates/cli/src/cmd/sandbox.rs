//! `sandbox start`: wxdesk-sim and wxdesk-relay in this process on 127.0.0.1, the data dir
//! switched to them (`ctx.services`, as the app does), until Ctrl-C or SIGTERM.

use std::path::Path;

use serde_json::json;

use crate::args::SandboxCmd;
use crate::error::{CliError, Result};
use crate::out::Out;
use crate::session;

pub async fn run(c: SandboxCmd, dir: &Path, out: Out) -> Result<()> {
    let SandboxCmd::Start = c;
    let ctx = session::open(dir).await?;
    // The servers only: the commands run against this data dir follow the relay themselves.
    let sandbox = ctx.services.start_sandbox().await?;
    out.emit(
        &json!({
            "event": "started",
            "sim_url": sandbox.sim_url,
            "relay_url": sandbox.relay_url,
            "data_dir": dir.display().to_string(),
        }),
        || {
            crate::outln!("体验沙箱已启动（仅本机 127.0.0.1）");
            crate::outln!("  模拟微信接口  {}", sandbox.sim_url);
            crate::outln!("  中继          {}", sandbox.relay_url);
            crate::outln!("  数据目录      {}", dir.display());
            crate::outln!("按 Ctrl-C 结束。在另一个终端使用同一数据目录运行其他命令，例如：");
            crate::outln!("  wxdesk-cli --data-dir {} auth link", dir.display());
        },
    )?;
    let stopped = wait_for_stop().await;
    ctx.services.stop_sandbox().await;
    stopped?;
    out.emit(&json!({ "event": "stopped" }), || {
        crate::outln!("沙箱已停止")
    })
}

/// Ctrl-C, or SIGTERM on Unix.
pub async fn wait_for_stop() -> Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term =
            signal(SignalKind::terminate()).map_err(|e| CliError::io("无法监听 SIGTERM", e))?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.map_err(|e| CliError::io("无法监听 Ctrl-C", e)),
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c()
            .await
            .map_err(|e| CliError::io("无法监听 Ctrl-C", e))
    }
}
