//! 额度工具 (protocol C.7): an account's daily quota of one API (openapi/quota/get — the same
//! query the send engine's confirmation uses), and resetting the quotas of an account
//! (`clear_quota`) or of the platform itself (`component/clear_quota`). Each reset counts
//! against WeChat's limit of 10 per account per month (console and API together); past it
//! WeChat answers 48006, whose explanation says so.

use serde::Serialize;

use crate::error::{Error, Result};
use crate::platform::Platform;
use crate::secrets::SecretKey;
use crate::send::quota::{ApiQuota, TEMPLATE_SEND_PATH, api_quota};

/// Resets WeChat allows per account (and for the platform) per month.
pub const CLEARS_PER_MONTH: u32 = 10;

/// One API's quota of one account today.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct QuotaReport {
    pub appid: String,
    pub cgi_path: String,
    pub quota: ApiQuota,
}

/// A reset that WeChat accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct QuotaCleared {
    /// The account reset, or the platform's component appid.
    pub appid: String,
    /// The platform's own quota (component APIs) rather than an account's.
    pub component: bool,
    /// WeChat's monthly limit of resets (this one counted against it).
    pub monthly_limit: u32,
}

/// The quota tools' handle: cheap to clone.
#[derive(Clone, Debug)]
pub struct Quotas {
    platform: Platform,
}

impl Quotas {
    pub fn new(platform: Platform) -> Quotas {
        Quotas { platform }
    }

    /// `appid`'s daily quota of `cgi_path` (template messages when `None` or blank).
    pub async fn get(&self, appid: &str, cgi_path: Option<&str>) -> Result<QuotaReport> {
        let path = cgi_path
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .unwrap_or(TEMPLATE_SEND_PATH);
        if !path.starts_with('/') || path.len() > 128 || path.contains(['?', ' ']) {
            return Err(Error::input(
                format!("接口路径「{path}」应以 / 开头，如 /cgi-bin/message/custom/send"),
                format!(
                    "The API path \"{path}\" must start with /, e.g. /cgi-bin/message/custom/send"
                ),
            ));
        }
        let api = self.platform.api().await?;
        let quota = api_quota(&*api, appid, path).await?;
        Ok(QuotaReport {
            appid: appid.to_string(),
            cgi_path: path.to_string(),
            quota,
        })
    }

    /// Resets every daily API quota of authorized account `appid` (with its authorizer token).
    pub async fn clear(&self, appid: &str) -> Result<QuotaCleared> {
        let api = self.platform.api().await?;
        let target = appid.to_string();
        crate::gateway::call(&*api, appid, |c, t| {
            let target = target.clone();
            async move { c.clear_quota(&t, &target).await }
        })
        .await?;
        tracing::info!(appid, "quota cleared");
        Ok(QuotaCleared {
            appid: appid.to_string(),
            component: false,
            monthly_limit: CLEARS_PER_MONTH,
        })
    }

    /// Resets the platform's own quota (its component APIs). With the component token; when
    /// that cannot be had because the token API's own quota is used up (45009), by secret
    /// (`clear_quota/v2`), which works without a token.
    pub async fn clear_component(&self) -> Result<QuotaCleared> {
        let api = self.platform.api().await?;
        let component_appid = api.component_appid().to_string();
        let client = api.client().clone();
        let v1 = api
            .tokens()
            .call_with_component_token(|cat| {
                let (client, appid) = (client.clone(), component_appid.clone());
                async move { client.component_clear_quota(&cat, &appid).await }
            })
            .await;
        match v1 {
            Ok(()) => {}
            Err(e) if e.wechat().is_some_and(|w| w.errcode == 45009) => {
                let secret = self
                    .platform
                    .secrets()
                    .get(SecretKey::ComponentAppsecret)
                    .await?
                    .ok_or(Error::NotConfigured(
                        crate::error::Missing::ComponentAppsecret,
                    ))?;
                client
                    .component_clear_quota_v2(&component_appid, &secret, None)
                    .await?;
            }
            Err(e) => return Err(e.into()),
        }
        tracing::info!("platform quota cleared");
        Ok(QuotaCleared {
            appid: component_appid,
            component: true,
            monthly_limit: CLEARS_PER_MONTH,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::Secrets;
    use crate::store::Store;

    #[tokio::test]
    async fn a_blank_api_path_means_template_messages_and_a_bad_one_is_refused_before_any_call() {
        let platform = Platform::new(Store::open_in_memory().unwrap(), Secrets::memory());
        let quotas = Quotas::new(platform);
        // Checked and accepted: it goes on to the platform, which is not set up here.
        for blank in [None, Some(""), Some("   ")] {
            let e = quotas.get("wx1", blank).await.unwrap_err();
            assert_eq!(e.code(), "not_configured", "{blank:?}: {e}");
        }
        let e = quotas.get("wx1", Some("cgi-bin/x")).await.unwrap_err();
        assert_eq!(e.code(), "invalid");
    }
}
