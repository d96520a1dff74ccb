//! An account's own token and quota APIs (protocol C.6 cgi-bin/token, C.7).

use serde::Deserialize;
use serde_json::json;

use super::{Ack, Client};
use crate::error::Result;
use crate::secret::Secret;

#[derive(Debug, Clone, Deserialize)]
pub struct AccessToken {
    pub access_token: Secret,
    pub expires_in: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct QuotaInfo {
    pub daily_limit: i64,
    pub used: i64,
    pub remain: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RateLimit {
    pub call_count: i64,
    pub refresh_second: i64,
}

/// openapi/quota/get answer; the rate-limit parts only appear in newer responses.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct QuotaStatus {
    pub quota: QuotaInfo,
    #[serde(default)]
    pub rate_limit: Option<RateLimit>,
    #[serde(default)]
    pub component_rate_limit: Option<RateLimit>,
}

/// A temporary parametric QR code (`cgi-bin/qrcode/create`). `url` is what the code encodes:
/// render it as a QR for a phone to scan (WeChat also serves the image for `ticket` at
/// mp.weixin.qq.com/cgi-bin/showqrcode, which a desk does not need).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct QrTicket {
    pub ticket: String,
    #[serde(default)]
    pub expire_seconds: i64,
    pub url: String,
}

/// The longest a temporary QR code lives (30 days), and its longest string scene.
pub const QR_MAX_EXPIRE_SECS: u32 = 2_592_000;
pub const QR_SCENE_MAX_LEN: usize = 64;

impl Client {
    /// `POST /cgi-bin/qrcode/create` with `QR_STR_SCENE`: a temporary QR code of the account
    /// whose scan WeChat pushes to the platform — a follower's as `SCAN` with `EventKey` =
    /// `scene`, a new follower's as `subscribe` with `EventKey` = `qrscene_<scene>` — and which
    /// opens the short customer-service window either way. Service accounts that are verified
    /// only (others get 48001). `expire_secs` is clamped to WeChat's 60 s … 30 days.
    pub async fn qrcode_create_temp(
        &self,
        access_token: &Secret,
        scene: &str,
        expire_secs: u32,
    ) -> Result<QrTicket> {
        self.post(
            "/cgi-bin/qrcode/create",
            &[("access_token", access_token.expose())],
            &json!({
                "expire_seconds": expire_secs.clamp(60, QR_MAX_EXPIRE_SECS),
                "action_name": "QR_STR_SCENE",
                "action_info": {"scene": {"scene_str": scene}},
            }),
        )
        .await
    }

    /// `GET /cgi-bin/token?grant_type=client_credential` — an account's own access_token.
    pub async fn client_credential_token(
        &self,
        appid: &str,
        secret: &Secret,
    ) -> Result<AccessToken> {
        self.get(
            "/cgi-bin/token",
            &[
                ("grant_type", "client_credential"),
                ("appid", appid),
                ("secret", secret.expose()),
            ],
        )
        .await
    }

    /// Reset `appid`'s quota with any token (AT, AAT or CAT).
    pub async fn clear_quota(&self, access_token: &Secret, appid: &str) -> Result<()> {
        let _: Ack = self
            .post(
                "/cgi-bin/clear_quota",
                &[("access_token", access_token.expose())],
                &json!({"appid": appid}),
            )
            .await?;
        Ok(())
    }

    /// Quota of one API path, e.g. `/cgi-bin/message/custom/send`.
    pub async fn quota_get(&self, access_token: &Secret, cgi_path: &str) -> Result<QuotaStatus> {
        self.post(
            "/cgi-bin/openapi/quota/get",
            &[("access_token", access_token.expose())],
            &json!({"cgi_path": cgi_path}),
        )
        .await
    }
}
