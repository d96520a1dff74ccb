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

impl Client {
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
