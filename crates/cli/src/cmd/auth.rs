//! `auth link` / `auth wait`: begin an authorization (core's `begin_authorization`), then follow
//! the relay feed until that authorization arrives and core has stored the account.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;
use wxdesk_core::auth::AuthScope;
use wxdesk_core::context::Context;
use wxdesk_core::feed::FeedNotice;
use wxdesk_core::feed::events::{EventKind, FeedEvent};
use wxdesk_core::relay::RelayClient;

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
    /// Unix seconds when the link was made: this attempt's account is stored at or after it.
    #[serde(default)]
    created_at: i64,
    /// The relay log's head before the link was made: this attempt's events come after it, so
    /// `auth wait` reads the log from there to learn which account the attempt authorized
    /// (absent in files from older versions: read from the start).
    #[serde(default)]
    relay_seq: Option<i64>,
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
    let relay_seq = relay_head(&ctx).await;
    let start = ctx
        .authorizer
        .begin_authorization(scope, mobile, None)
        .await?;
    let pending = Pending {
        pre_auth_code: start.pre_auth_code.clone(),
        state: start.state.clone(),
        expires_at: start.expires_at,
        created_at: start.expires_at - start.expires_in,
        relay_seq,
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

/// The highest seq the relay's log has assigned (asked with a cursor past any seq, the relay
/// answers with its head at once). Unreachable: `None`, and `auth wait` reads the whole log.
async fn relay_head(ctx: &Context) -> Option<i64> {
    let relay = ctx.platform.relay().await.ok()?;
    Some(relay.events(i64::MAX, 0, 1).await.ok()?.last_seq)
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
    let mut trail = match &pending {
        Some(p) => Some(Trail::new(p, ctx.platform.relay().await?)),
        None => None,
    };
    let waited = tokio::time::timeout(Duration::from_secs(timeout), async {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            let notice = tokio::select! {
                n = rx.recv() => n,
                _ = tick.tick() => {
                    // Another process (the app, a second CLI) may have applied the event, and
                    // then this feed never sees it: find the attempt in the relay's log.
                    if let Some(t) = trail.as_mut()
                        && let Some(appid) = t.stored_appid(&ctx).await?
                    {
                        return Ok(appid);
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

/// Follows the relay's log from the link on, without moving the data dir's cursor, for WeChat's
/// `authorized` push carrying this attempt's pre_auth_code: it names the account. The time of
/// authorization cannot tell it apart from another account authorized since the link (the app
/// may authorize one meanwhile, in the same second even).
struct Trail<'p> {
    pending: &'p Pending,
    relay: RelayClient,
    after: i64,
    found: Option<String>,
}

impl<'p> Trail<'p> {
    fn new(pending: &'p Pending, relay: RelayClient) -> Self {
        Trail {
            pending,
            relay,
            after: pending.relay_seq.unwrap_or(0),
            found: None,
        }
    }

    /// The account this attempt authorized, once it is stored here (by whichever process).
    async fn stored_appid(&mut self, ctx: &Context) -> Result<Option<String>> {
        if self.found.is_none() {
            self.read_log().await;
        }
        let Some(appid) = &self.found else {
            return Ok(None);
        };
        let stored = ctx.accounts.list().await?.into_iter().any(|a| {
            &a.appid == appid
                && a.authorized_at
                    .is_some_and(|t| t >= self.pending.created_at)
        });
        Ok(stored.then(|| appid.clone()))
    }

    /// Reads what the log holds past `after`. A relay error is left to the next tick: the feed
    /// itself reports a relay that stays unreachable.
    async fn read_log(&mut self) {
        // Bounded: a log that keeps growing must not hold one tick forever.
        for _ in 0..20 {
            let Ok(batch) = self.relay.events(self.after, 0, 1000).await else {
                return;
            };
            // Past events pruned unseen, the relay answers none and its head: move on.
            self.after = self.after.max(batch.last_seq);
            if batch.events.is_empty() {
                return;
            }
            for raw in batch.events {
                if let EventKind::Authorized {
                    authorizer_appid,
                    pre_auth_code,
                    ..
                } = FeedEvent::from_raw(raw).kind
                    && pre_auth_code == self.pending.pre_auth_code
                {
                    self.found = Some(authorizer_appid);
                    return;
                }
            }
        }
    }
}
