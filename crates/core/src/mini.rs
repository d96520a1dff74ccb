//! Mini-program login for the platform (protocol K, `sns/component/jscode2session`): the code a
//! mini program's `wx.login` gave becomes the user's openid (and unionid when the mini program is
//! bound to an open-platform account). The session_key WeChat returns with them never leaves
//! this function: it is a secret of the mini program's backend, not something to print.

use serde::Serialize;

use crate::accounts::{AccountKind, AccountStatus};
use crate::error::{Error, Result};
use crate::platform::Platform;

/// Who the code belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct MiniSession {
    pub appid: String,
    pub openid: String,
    pub unionid: Option<String>,
}

/// The mini-program login handle: cheap to clone.
#[derive(Clone, Debug)]
pub struct Mini {
    platform: Platform,
}

impl Mini {
    pub fn new(platform: Platform) -> Mini {
        Mini { platform }
    }

    /// Exchange `js_code` of authorized mini program `appid` for the user's ids. A code works
    /// once and for about five minutes (40029 / 40163 otherwise, with their explanation).
    pub async fn session(&self, appid: &str, js_code: &str) -> Result<MiniSession> {
        let code = js_code.trim();
        if code.is_empty() || code.len() > 128 || code.chars().any(char::is_whitespace) {
            return Err(Error::input(
                "js_code 应为小程序 wx.login 返回的 code（不含空白，不超过 128 个字符）",
                "js_code must be the code wx.login returned in the mini program (no spaces, at most 128 characters)",
            ));
        }
        let id = appid.to_string();
        let row = self
            .platform
            .store()
            .call(move |c| crate::accounts::db::get(c, &id))
            .await?;
        match row {
            Some(a) if a.kind == AccountKind::Mini && a.status == AccountStatus::Authorized => {}
            Some(a) if a.kind == AccountKind::Oa => {
                return Err(Error::input(
                    format!("{appid} 是公众号：只有小程序能用 js_code 登录"),
                    format!(
                        "{appid} is an official account: only mini programs log in with a js_code"
                    ),
                ));
            }
            Some(_) => {
                return Err(Error::input(
                    format!("小程序 {appid} 未授权（或已取消授权）：请先重新授权"),
                    format!("The mini program {appid} is not authorized: authorize it again"),
                ));
            }
            None => return Err(Error::AccountNotFound(appid.to_string())),
        }
        let api = self.platform.api().await?;
        api.ensure_platform(appid).await?;
        let (client, component_appid) = (api.client().clone(), api.component_appid().to_string());
        let s = api
            .tokens()
            .call_with_component_token(|cat| {
                let (client, component_appid) = (client.clone(), component_appid.clone());
                let (appid, code) = (appid.to_string(), code.to_string());
                async move {
                    client
                        .component_jscode2session(&appid, &code, &component_appid, &cat)
                        .await
                }
            })
            .await?;
        Ok(MiniSession {
            appid: appid.to_string(),
            openid: s.openid,
            unionid: s.unionid.filter(|u| !u.is_empty()),
        })
    }
}
