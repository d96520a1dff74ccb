//! 扫码找到自己 (先发给自己): staff rarely know their own openid. The desk asks WeChat for a
//! temporary QR code of the account (`cgi-bin/qrcode/create`, a string scene); scanning it in
//! WeChat makes the scanner "the user who just wrote" — WeChat pushes `SCAN` (or `subscribe`
//! for someone who does not follow yet) through the relay, the feed records it as an
//! interaction, and the test-recipient picker offers that user first. Verified service accounts
//! only: for others WeChat answers 48001, explained with the way that always works (search by
//! 备注 or write to the account).

use serde::Serialize;
use wxdesk_wechat::errcode;

use super::Compose;
use crate::error::{Error, Result};

/// The scene the code carries (its `EventKey`): says the scan came from this desk's picker.
pub const FIND_YOURSELF_SCENE: &str = "wxdesk_find_yourself";

/// How long a code stays valid: long enough to take the phone out, short enough not to linger.
pub const FIND_YOURSELF_SECS: u32 = 600;

/// A code to scan, and until when it works.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FindYourselfQr {
    /// What the QR code encodes (render it as a QR code).
    pub url: String,
    /// Unix seconds.
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub expires_at: i64,
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

impl Compose {
    /// A temporary QR code of account `appid` whose scan makes the scanner the user who just
    /// wrote (see the module's note).
    pub async fn find_yourself_qr(&self, appid: &str) -> Result<FindYourselfQr> {
        let api = self.platform.api().await?;
        let qr = crate::gateway::call(&api, appid, |c, t| async move {
            c.qrcode_create_temp(&t, FIND_YOURSELF_SCENE, FIND_YOURSELF_SECS)
                .await
        })
        .await
        .map_err(explain)?;
        let lives = if qr.expire_seconds > 0 {
            qr.expire_seconds
        } else {
            i64::from(FIND_YOURSELF_SECS)
        };
        Ok(FindYourselfQr {
            url: qr.url,
            expires_at: now() + lives,
        })
    }
}

/// WeChat's refusal as what to do instead; other errors keep their own message.
fn explain(e: Error) -> Error {
    match e.wechat_errcode() {
        Some(48001) => Error::input(
            "该账号不能生成带参数二维码（微信只允许已认证的服务号，错误码 48001）。请用手机微信给公众号发一条消息，再在列表中选择刚发消息的自己，或按备注搜索。",
            "This account cannot make a scannable code (WeChat allows it for verified service accounts only, errcode 48001). Send the account any message from your phone and pick yourself as the user who just wrote, or search by remark.",
        ),
        Some(code) => match errcode::explain(code) {
            Some(i) => Error::input(
                format!("生成二维码失败：{}。{}", i.zh, i.hint_zh),
                format!("Could not make the code: {}. {}", i.en, i.hint_en),
            ),
            None => e,
        },
        None => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Lang;

    #[test]
    fn an_unverified_account_is_told_the_way_that_always_works_in_both_languages() {
        let e = explain(Error::WeChat(wxdesk_wechat::Error::WeChat(
            wxdesk_wechat::WeChatError::new(48001, "api unauthorized"),
        )));
        let zh = e.message(Lang::Zh);
        assert!(
            zh.contains("已认证的服务号") && zh.contains("按备注搜索"),
            "{zh}"
        );
        let en = e.message(Lang::En);
        assert!(
            en.contains("verified service accounts") && en.contains("remark"),
            "{en}"
        );
        assert!(
            !en.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "{en}"
        );
    }
}
