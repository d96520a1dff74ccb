//! `auth link` / `auth wait`: begin an authorization (core's `begin_authorization`), then follow
//! the relay feed until that authorization arrives and core has stored the account.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;
use wxdesk_core::auth::AuthScope;
use wxdesk_core::feed::FeedNotice;

use crate::args::{AuthCmd, AuthType};
use crate::error::{CliError, Result};
use crate::out::Out;
use crate::session;

/// The last link's codes, so `auth wait` (another process) knows which authorization it waits
/// for. Not secret: both are in the printed URL.
const PENDING_FILE: &str = "cli-auth-pending.json";

#[derive(Debug, Serialize, Deserialize)]
struct Pending {
    pre_auth_code: String,
    state: String,
    expires_at: i64,
    /// Unix seconds when the link was made: an account authorized since then is this one, even
    /// if another wxdesk process applied the relay event first.
    #[serde(default)]
    created_at: i64,
}

fn pending_path(dir: &Path) -> PathBuf {
    dir.join(PENDING_FILE)
}

pub async fn run(c: AuthCmd, dir: &Path, out: Out) -> Result<()> {
    match c {
        AuthCmd::Link { auth_type, mobile } => link(auth_type, mobile, dir, out).await,
        AuthCmd::Wait { timeout } => wait(timeout, dir, out).await,
    }
}

async fn link(t: AuthType, mobile: bool, dir: &Path, out: Out) -> Result<()> {
    let ctx = session::open(dir).await?;
    let scope = match t {
        AuthType::Oa => AuthScope::Oa,
        AuthType::Mini => AuthScope::Mini,
        AuthType::Both => AuthScope::Both,
    };
    let start = ctx
        .authorizer
        .begin_authorization(scope, mobile, None)
        .await?;
    let pending = Pending {
        pre_auth_code: start.pre_auth_code.clone(),
        state: start.state.clone(),
        expires_at: start.expires_at,
        created_at: start.expires_at - start.expires_in,
    };
    let text = serde_json::to_string(&pending)
        .map_err(|e| CliError::Failed(format!("无法保存授权状态：{e}")))?;
    std::fs::write(pending_path(dir), text).map_err(|e| CliError::io("无法保存授权状态", e))?;
    let qr = if mobile {
        Some(qr_text(&start.mobile_url)?)
    } else {
        None
    };
    out.emit(&start, || {
        if let Some(qr) = &qr {
            crate::outln!("{qr}");
            crate::outln!("用手机微信扫描上面的二维码，或在手机上打开：");
        } else {
            crate::outln!("在电脑浏览器中打开以下链接，用公众号/小程序管理员的微信扫码授权：");
        }
        crate::outln!("{}", start.launch_url);
        crate::outln!(
            "链接 {} 秒内有效。授权后运行：wxdesk-cli auth wait",
            start.expires_in
        );
    })
}

/// A QR code drawn with half blocks (two modules per character row).
fn qr_text(url: &str) -> Result<String> {
    let code = qrcode::QrCode::new(url.as_bytes())
        .map_err(|e| CliError::Failed(format!("无法生成二维码：{e}")))?;
    Ok(code
        .render::<qrcode::render::unicode::Dense1x2>()
        .dark_color(qrcode::render::unicode::Dense1x2::Light)
        .light_color(qrcode::render::unicode::Dense1x2::Dark)
        .quiet_zone(true)
        .build())
}

/// Whether a notice is the authorization this CLI's last link started (any, without a link).
fn is_ours(n: &FeedNotice, pending: Option<&Pending>) -> Option<String> {
    let FeedNotice::AccountAuthorized {
        appid,
        pre_auth_code,
        state,
    } = n
    else {
        return None;
    };
    let Some(p) = pending else {
        return Some(appid.clone());
    };
    let matches = pre_auth_code.as_deref() == Some(p.pre_auth_code.as_str())
        || state.as_deref() == Some(p.state.as_str());
    matches.then(|| appid.clone())
}

async fn wait(timeout: u64, dir: &Path, out: Out) -> Result<()> {
    let ctx = session::open(dir).await?;
    let pending: Option<Pending> = std::fs::read_to_string(pending_path(dir))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok());
    let feed = session::feed(&ctx).await?.with_wait_secs(5);
    let mut rx = feed.subscribe();
    let cancel = CancellationToken::new();
    let task = tokio::spawn(feed.run(cancel.clone()));
    if !out.json {
        crate::note!("正在等待授权经中继到达（最长 {timeout} 秒）…");
    }
    let since = pending.as_ref().map(|p| p.created_at).filter(|t| *t > 0);
    let waited = tokio::time::timeout(Duration::from_secs(timeout), async {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            let notice = tokio::select! {
                n = rx.recv() => n,
                _ = tick.tick() => {
                    // Another process (the app, a second CLI) may have applied the event.
                    if let Some(since) = since
                        && let Some(a) = ctx
                            .accounts
                            .list()
                            .await?
                            .into_iter()
                            .find(|a| a.authorized_at.is_some_and(|t| t >= since))
                    {
                        return Ok(a.appid);
                    }
                    continue;
                }
            };
            match notice {
                Ok(n) => {
                    if let Some(appid) = is_ours(&n, pending.as_ref()) {
                        return Ok(appid);
                    }
                    // Possibly an older attempt's expired code: say so and keep waiting.
                    if let FeedNotice::AuthorizationFailed { message, .. } = &n {
                        crate::errln!("警告：一次授权未能完成：{message}");
                    }
                }
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => {
                    return Err(CliError::Failed("中继事件流意外结束".into()));
                }
            }
        }
    })
    .await;
    cancel.cancel();
    let _ = task.await;
    let appid = match waited {
        Ok(r) => r?,
        Err(_) => {
            return Err(CliError::Failed(format!(
                "等待授权超时（{timeout} 秒）；请确认已在微信中完成授权，中继能收到推送"
            )));
        }
    };
    let _ = std::fs::remove_file(pending_path(dir));
    let card = ctx.accounts.show(&appid).await?;
    out.emit(&crate::cmd::accounts::card_json(&card), || {
        crate::outln!(
            "已授权：{}（{}，{}）{}",
            card.nickname,
            card.appid,
            card.kind.label_zh(),
            card.status.label_zh()
        );
        if card.missing_template_permission {
            crate::outln!("注意：此账号未授予「消息管理」相关权限，无法发送模板消息");
        }
    })
}
