//! An account's daily quota for template messages (openapi/quota/get, protocol C.7), for the
//! confirmation dialog: how many more template sends WeChat will accept today before it answers
//! 45009 and the engine pauses the job until the daily reset.

use serde::Serialize;
use wxdesk_wechat::errcode;

use crate::error::{Error, Result};
use crate::gateway::{AccountApi, call};

/// The API path whose daily quota bounds a template-message job.
pub const TEMPLATE_SEND_PATH: &str = "/cgi-bin/message/template/send";

/// One API's daily quota of one account, as WeChat counts it today (Beijing time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ApiQuota {
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub daily_limit: u64,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub used: u64,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub remaining: u64,
}

impl ApiQuota {
    /// Whether `recipients` sends fit in what is left today.
    pub fn covers(&self, recipients: u64) -> bool {
        recipients <= self.remaining
    }
}

/// `appid`'s daily quota of `cgi_path`, through the account's access token (for a third-party
/// platform: its authorizer_access_token, refreshed once if WeChat refuses it). WeChat's errcodes
/// become an explanation of what failed and what to do, in both languages.
pub async fn api_quota<A: AccountApi + ?Sized>(
    api: &A,
    appid: &str,
    cgi_path: &str,
) -> Result<ApiQuota> {
    let status = call(
        api,
        appid,
        |c, t| async move { c.quota_get(&t, cgi_path).await },
    )
    .await
    .map_err(explain)?;
    // Negative counts never come from WeChat; read them as zero rather than wrap around.
    let n = |v: i64| u64::try_from(v).unwrap_or(0);
    let q = status.quota;
    Ok(ApiQuota {
        daily_limit: n(q.daily_limit),
        used: n(q.used),
        remaining: n(q.remain),
    })
}

/// The template-message quota left today (`/cgi-bin/message/template/send`).
pub async fn template_send_quota<A: AccountApi + ?Sized>(api: &A, appid: &str) -> Result<ApiQuota> {
    api_quota(api, appid, TEMPLATE_SEND_PATH).await
}

/// A WeChat errcode from quota/get as what the operator should know, in both languages; other
/// errors (network, configuration, keychain) keep their own message.
fn explain(e: Error) -> Error {
    let Some(code) = e.wechat_errcode() else {
        return e;
    };
    let (zh, en) = match code {
        // The query API has its own daily limit: its 45009 says nothing about the send quota.
        45009 => (
            "查询额度的接口今日调用次数已达上限（这不表示模板消息额度已用完），明天再查询。"
                .to_string(),
            "The quota query API reached its own daily limit (this does not mean the template message quota is used up); query again tomorrow.".to_string(),
        ),
        _ => match errcode::explain(code) {
            Some(i) => (
                format!("{}。{}", i.zh, i.hint_zh),
                format!("{}. {}", i.en, i.hint_en),
            ),
            None => return e,
        },
    };
    Error::input(
        format!("查询今日额度失败（errcode {code}）：{zh}"),
        format!("The quota query failed (errcode {code}): {en}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wechat(code: i64) -> Error {
        Error::WeChat(wxdesk_wechat::Error::WeChat(
            wxdesk_wechat::WeChatError::new(code, "x rid: 1-2-3"),
        ))
    }

    #[test]
    fn a_quota_get_errcode_becomes_its_chinese_explanation_and_hint() {
        let e = explain(wechat(76022));
        assert_eq!(
            e.to_string(),
            format!(
                "查询今日额度失败（errcode 76022）：{}。{}",
                errcode::explain(76022).map(|i| i.zh).unwrap_or_default(),
                errcode::explain(76022)
                    .map(|i| i.hint_zh)
                    .unwrap_or_default(),
            )
        );
    }

    #[test]
    fn the_query_apis_own_45009_does_not_claim_the_send_quota_is_used_up() {
        let e = explain(wechat(45009));
        let msg = e.to_string();
        assert!(msg.contains("errcode 45009"), "{msg}");
        assert!(msg.contains("不表示模板消息额度已用完"), "{msg}");
        let en = e.message(crate::Lang::En);
        assert!(
            en.contains("does not mean the template message quota"),
            "{en}"
        );
    }

    #[test]
    fn an_unknown_errcode_and_a_non_wechat_error_pass_through() {
        assert!(matches!(explain(wechat(99999)), Error::WeChat(_)));
        assert!(matches!(
            explain(Error::AccountNotFound("wx1".into())),
            Error::AccountNotFound(_)
        ));
    }

    #[test]
    fn covers_is_true_up_to_the_remaining_count() {
        let q = ApiQuota {
            daily_limit: 100,
            used: 90,
            remaining: 10,
        };
        assert!(q.covers(10));
        assert!(!q.covers(11));
    }
}
