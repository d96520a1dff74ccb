//! The tauri-driver process: free ports, readiness, and a clean stop of it and its children.

use std::net::{Ipv4Addr, TcpListener};
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

use crate::error::{Error, Result};
use crate::paths::tauri_driver;

/// Ports come from `WXDESK_E2E_DRIVER_PORT` / `WXDESK_E2E_NATIVE_PORT` when set (a fixed pair
/// for debugging), else from the OS, so parallel harnesses never clash.
fn free_port(var: &str) -> Result<u16> {
    if let Some(p) = std::env::var(var).ok().and_then(|v| v.parse().ok()) {
        return Ok(p);
    }
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .map_err(|e| Error::Io("finding a free port".into(), e))?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(|e| Error::Io("finding a free port".into(), e))
}

pub(crate) struct Driver {
    child: Child,
    port: u16,
    native_port: u16,
}

impl Driver {
    pub(crate) async fn spawn(env: &[(String, String)]) -> Result<Driver> {
        let bin = tauri_driver()?;
        let port = free_port("WXDESK_E2E_DRIVER_PORT")?;
        let native_port = free_port("WXDESK_E2E_NATIVE_PORT")?;
        let mut cmd = Command::new(&bin);
        cmd.arg("--port")
            .arg(port.to_string())
            .arg("--native-port")
            .arg(native_port.to_string())
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        let child = cmd
            .spawn()
            .map_err(|e| Error::Io(format!("starting {}", bin.display()), e))?;
        let driver = Driver {
            child,
            port,
            native_port,
        };
        driver.wait_ready().await?;
        Ok(driver)
    }

    pub(crate) fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Both tauri-driver and the WebKitWebDriver it starts must listen: tauri-driver takes
    /// connections before its native driver does, and a session asked for in between fails
    /// ("webdriver server did not respond") — on a loaded machine, every time.
    async fn wait_ready(&self) -> Result<()> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        for port in [self.port, self.native_port] {
            loop {
                if tokio::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port))
                    .await
                    .is_ok()
                {
                    break;
                }
                if tokio::time::Instant::now() >= deadline {
                    return Err(Error::DriverNotReady(format!("127.0.0.1:{port}")));
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        Ok(())
    }

    /// SIGTERM first: tauri-driver then stops WebKitWebDriver (which a SIGKILL would orphan).
    pub(crate) async fn stop(mut self) {
        #[cfg(unix)]
        if let Some(pid) = self
            .child
            .id()
            .and_then(|p| i32::try_from(p).ok())
            .filter(|p| *p > 0)
        {
            use nix::sys::signal::{Signal, kill};
            use nix::unistd::Pid;
            if kill(Pid::from_raw(pid), Signal::SIGTERM).is_ok()
                && tokio::time::timeout(Duration::from_secs(5), self.child.wait())
                    .await
                    .is_ok()
            {
                return;
            }
        }
        let _ = self.child.kill().await;
    }
}
