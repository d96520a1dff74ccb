//! Parametric QR codes (`cgi-bin/qrcode/create`): an account's temporary QR with a string or
//! number scene. Scanning one is `/__sim/scan` (a phone cannot reach the sim): a follower's scan
//! pushes `SCAN` with `EventKey` = the scene, a former follower's scan follows the account again
//! (pushing `subscribe` with `EventKey` = `qrscene_<scene>` and the code's `Ticket`), and
//! either opens the short customer-service window.

use serde_json::{Value, json};

use super::{Query, account_caller, body_json, str_field};
use crate::sim::Sim;
use crate::state::ApiErr;

/// How many live codes the sim keeps (the oldest go first).
pub const MAX_CODES: usize = 10_000;
const MAX_EXPIRE_SECS: i64 = 2_592_000;
const DEFAULT_EXPIRE_SECS: i64 = 60;

/// One temporary code.
#[derive(Debug, Clone)]
pub struct QrCode {
    pub account: u16,
    pub scene: String,
    /// What `qrcode/create` answered as `ticket`; a follow through the code carries it.
    pub ticket: String,
    pub expires_at: i64,
}

/// `POST /cgi-bin/qrcode/create`: `QR_SCENE` (`scene_id`, a positive 32-bit number) or
/// `QR_STR_SCENE` (`scene_str`, 1–64 characters), `expire_seconds` 60 s … 30 days (default 60).
/// Only verified service accounts may (48001 otherwise); permanent codes are not simulated.
pub fn create(sim: &Sim, q: &Query, body: &[u8]) -> crate::state::ApiResult<Value> {
    let a = account_caller(sim, q, "/cgi-bin/qrcode/create")?;
    if !a.can_send_templates() {
        return Err(ApiErr::new(48001, "api unauthorized"));
    }
    let m = body_json(body)?;
    let scene = &m
        .get("action_info")
        .and_then(|i| i.get("scene"))
        .cloned()
        .unwrap_or(Value::Null);
    let scene = match str_field(&m, "action_name") {
        "QR_STR_SCENE" => scene
            .get("scene_str")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty() && s.chars().count() <= 64)
            .map(str::to_owned),
        "QR_SCENE" => scene
            .get("scene_id")
            .and_then(Value::as_i64)
            .filter(|n| (1..=i64::from(u32::MAX)).contains(n))
            .map(|n| n.to_string()),
        _ => return Err(ApiErr::new(40053, "invalid action info")),
    }
    .ok_or_else(|| ApiErr::new(40053, "invalid action info"))?;
    let expire = m
        .get("expire_seconds")
        .and_then(Value::as_i64)
        .unwrap_or(DEFAULT_EXPIRE_SECS)
        .clamp(DEFAULT_EXPIRE_SECS, MAX_EXPIRE_SECS);
    let ticket = crate::ids::random_token("gQ", 58);
    // The form WeChat's codes encode; the sim's never leave the machine.
    let url = format!(
        "http://weixin.qq.com/q/{}",
        crate::ids::random_token("", 22)
    );
    let now = sim.now();
    let mut s = sim.lock();
    s.qr_codes.insert(
        url.clone(),
        QrCode {
            account: a.index,
            scene,
            ticket: ticket.clone(),
            expires_at: now + expire,
        },
    );
    s.qr_order.push_back(url.clone());
    while s.qr_order.len() > MAX_CODES {
        if let Some(old) = s.qr_order.pop_front() {
            s.qr_codes.remove(&old);
        }
    }
    Ok(json!({"ticket": ticket, "expire_seconds": expire, "url": url}))
}
