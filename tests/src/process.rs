//! The tauri-driver process: free ports, readiness, and a clean stop of it and its children.

use std::net::{Ipv4Addr, TcpListener};
use std::process::Stdio;
use std::sync::mpsc;
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

    pub(crate) fn pid(&self) -> Option<u32> {
        self.child.id()
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

/// How long one app session may last before the watchdog ends it: `WXDESK_E2E_SESSION_SECS`,
/// else 10 minutes (the longest journey takes about two under CI load).
pub(crate) fn session_limit() -> Duration {
    let secs = std::env::var("WXDESK_E2E_SESSION_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(600);
    Duration::from_secs(secs)
}

/// Ends a session that outlives its limit. A WebDriver call that never answers (a web view
/// that stopped serving automation) would otherwise hold the test — and CI — until CI's own
/// limit, with nothing said. Past the limit the watchdog says so on stderr and stops the driver
/// (SIGTERM, so it stops WebKitWebDriver and the app; SIGKILL 5 s later): the pending call then
/// fails with a connection error and the test fails where it stood. It runs on its own thread,
/// so a test whose runtime is stuck in that call is still reached. Dropping it disarms it.
pub(crate) struct Watchdog {
    disarm: Option<mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<bool>>,
}

impl Watchdog {
    pub(crate) fn arm(pid: Option<u32>, limit: Duration, what: String) -> Watchdog {
        let (disarm, armed) = mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            // A message or a dropped sender both mean "the session ended in time".
            if armed.recv_timeout(limit) != Err(mpsc::RecvTimeoutError::Timeout) {
                return false;
            }
            eprintln!(
                "e2e watchdog: {what} ran past {}s (a WebDriver call never answered?): \
                 stopping the driver so the test fails here; set WXDESK_E2E_SESSION_SECS to allow longer",
                limit.as_secs()
            );
            signal(pid, Signal::Term);
            if armed.recv_timeout(Duration::from_secs(5)) == Err(mpsc::RecvTimeoutError::Timeout) {
                signal(pid, Signal::Kill);
            }
            true
        });
        Watchdog {
            disarm: Some(disarm),
            thread: Some(thread),
        }
    }

    /// Disarms it; whether it had fired.
    pub(crate) fn disarm(mut self) -> bool {
        self.stop()
    }

    fn stop(&mut self) -> bool {
        drop(self.disarm.take());
        self.thread
            .take()
            .map(|t| t.join().unwrap_or(false))
            .unwrap_or(false)
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.stop();
    }
}

enum Signal {
    Term,
    Kill,
}

fn signal(pid: Option<u32>, which: Signal) {
    #[cfg(unix)]
    if let Some(pid) = pid.and_then(|p| i32::try_from(p).ok()).filter(|p| *p > 0) {
        use nix::sys::signal::{Signal as S, kill};
        use nix::unistd::Pid;
        let s = match which {
            Signal::Term => S::SIGTERM,
            Signal::Kill => S::SIGKILL,
        };
        let _ = kill(Pid::from_raw(pid), s);
    }
    #[cfg(not(unix))]
    let _ = (pid, which);
}

#[cfg(all(test, unix))]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A process that outlives the limit is stopped, and one that ends in time is left alone.
    #[test]
    fn the_watchdog_stops_a_session_past_its_limit_and_only_then() {
        let mut late = std::process::Command::new("sleep")
            .arg("60")
            .spawn()
            .unwrap();
        let dog = Watchdog::arm(Some(late.id()), Duration::from_millis(200), "late".into());
        let status = late.wait().unwrap();
        assert!(!status.success(), "{status:?}");
        assert!(dog.disarm());

        let mut quick = std::process::Command::new("sleep")
            .arg("60")
            .spawn()
            .unwrap();
        let dog = Watchdog::arm(Some(quick.id()), Duration::from_secs(30), "quick".into());
        assert!(!dog.disarm());
        assert!(
            quick.try_wait().unwrap().is_none(),
            "stopped though disarmed"
        );
        quick.kill().unwrap();
        let _ = quick.wait();
    }
}
