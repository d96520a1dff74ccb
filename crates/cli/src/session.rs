//! Opening the data dir the way the app does: the same directory (WXDESK_DATA_DIR, else the
//! per-user data folder Tauri gives the app), the same SQLite file and keychain entries.

use std::path::{Path, PathBuf};

use wxdesk_core::auth::Authorizer;
use wxdesk_core::context::Context;
use wxdesk_core::feed::FeedFollower;

use crate::error::{CliError, Result};

/// The desktop app's bundle identifier (src-tauri/tauri.conf.json): Tauri's app_data_dir is
/// `dirs::data_dir()/<identifier>`.
pub const APP_IDENTIFIER: &str = "com.wxdesk.app";

/// `--data-dir`, else `WXDESK_DATA_DIR`, else the app's default data dir.
pub fn resolve_data_dir(flag: Option<PathBuf>) -> Result<PathBuf> {
    if let Some(d) = flag.filter(|d| !d.as_os_str().is_empty()) {
        return Ok(d);
    }
    let os_default = dirs::data_dir()
        .map(|d| d.join(APP_IDENTIFIER))
        .unwrap_or_else(|| PathBuf::from(".wxdesk"));
    Ok(wxdesk_core::app_info::data_dir(
        std::env::var_os(wxdesk_core::app_info::DATA_DIR_ENV),
        os_default,
    ))
}

/// The store (created and migrated if new) and the OS keychain for this data dir, which is
/// private to this user (0700 on Unix).
pub async fn open(dir: &Path) -> Result<Context> {
    wxdesk_core::store::private::private_dir(dir)
        .map_err(|e| CliError::io(format!("无法创建数据目录 {}", dir.display()), e))?;
    Ok(Context::open(dir).await?)
}

/// The relay feed with the handlers the app registers (follows, delivery reports, the
/// customer-service window, mini-program audit results): core's one list of them.
pub async fn feed(ctx: &Context) -> Result<FeedFollower<Authorizer>> {
    Ok(ctx.feed().await?)
}

/// Applies what the relay holds now (authorizations, follows, delivery reports) before a command
/// reads local state. Not configured: nothing to do. Unreachable: a warning, and the command
/// goes on with what is stored.
pub async fn catch_up(ctx: &Context) {
    if ctx.platform.settings().await.is_err() {
        return;
    }
    let result = async {
        let f = feed(ctx).await?.with_wait_secs(0);
        // Bounded: a relay that keeps producing events must not hold the command forever.
        for _ in 0..50 {
            if f.poll_once().await? == 0 {
                break;
            }
        }
        Ok::<(), CliError>(())
    }
    .await;
    if let Err(e) = result {
        crate::errln!("警告：未能从中继取得最新事件，显示的是本地数据（{e}）");
    }
}
