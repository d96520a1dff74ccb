//! Third-party platform APIs (protocol C.1, C.2, C.4, C.5, C.7): the component token, pre-auth
//! codes, exchanging authorization codes, authorizer tokens and account information.
//!
//! The token goes in `?component_access_token=` (the older, most widely documented spelling).

use serde::Deserialize;
use serde_json::json;

use super::{Ack, Client};
use crate::error::Result;
use crate::secret::Secret;

const CAT: &str = "component_access_token";

#[derive(Debug, Clone, Deserialize)]
pub struct ComponentToken {
    pub component_access_token: Secret,
    pub expires_in: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PreAuthCode {
    pub pre_auth_code: String,
    pub expires_in: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct IdInfo {
    pub id: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct FuncInfo {
    pub funcscope_category: IdInfo,
    #[serde(default)]
    pub confirm_info: Option<serde_json::Value>,
}

/// `authorization_info` of api_query_auth and api_get_authorizer_info.
#[derive(Debug, Clone, Deserialize)]
pub struct AuthorizationInfo {
    /// Very old docs call it `appid`.
    #[serde(alias = "appid")]
    pub authorizer_appid: String,
    /// Present only when the account has API permissions.
    #[serde(default)]
    pub authorizer_access_token: Option<Secret>,
    #[serde(default)]
    pub expires_in: Option<i64>,
    #[serde(default)]
    pub authorizer_refresh_token: Option<Secret>,
    #[serde(default)]
    pub func_info: Vec<FuncInfo>,
}

impl AuthorizationInfo {
    /// Permission-set ids actually granted (the admin may have unticked some).
    pub fn granted_ids(&self) -> Vec<i64> {
        self.func_info
            .iter()
            .map(|f| f.funcscope_category.id)
            .collect()
    }
}

#[derive(Debug, Clone, Deserialize)]
struct QueryAuthResponse {
    authorization_info: AuthorizationInfo,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AuthorizerToken {
    pub authorizer_access_token: Secret,
    pub expires_in: i64,
    /// WeChat may return a (possibly new) refresh token; store it when present.
    #[serde(default)]
    pub authorizer_refresh_token: Option<Secret>,
}

/// `authorizer_info` of api_get_authorizer_info. Every field defaults: accounts differ.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AuthorizerInfo {
    pub nick_name: String,
    pub head_img: String,
    /// Official account: 0 subscription, 1 upgraded legacy subscription, 2 service account.
    pub service_type_info: Option<IdInfo>,
    /// -1 unverified, 0 WeChat-verified, 1 Weibo, 3/4 partial.
    pub verify_type_info: Option<IdInfo>,
    /// The gh_ id.
    pub user_name: String,
    pub alias: String,
    pub qrcode_url: String,
    pub principal_name: String,
    pub business_info: std::collections::BTreeMap<String, i64>,
    /// 1 normal, 14 cancelled, 16 banned, 18 warned, 19 frozen.
    pub account_status: Option<i64>,
    pub signature: String,
    #[serde(rename = "MiniProgramInfo")]
    pub mini_program_info: Option<serde_json::Value>,
}

impl AuthorizerInfo {
    /// `MiniProgramInfo` is present exactly for mini programs.
    pub fn is_mini_program(&self) -> bool {
        self.mini_program_info.is_some()
    }
}

/// Normalized api_get_authorizer_info answer.
#[derive(Debug, Clone)]
pub struct AuthorizerDetails {
    pub authorizer_info: AuthorizerInfo,
    pub authorization_info: AuthorizationInfo,
}

#[derive(Debug, Deserialize)]
struct AuthorizerInfoResponse {
    authorizer_info: AuthorizerInfo,
    authorization_info: AuthorizationInfo,
    /// Very old docs put qrcode_url at the top level.
    #[serde(default)]
    qrcode_url: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AuthorizerListItem {
    pub authorizer_appid: String,
    /// Reported missing in practice; then use api_query_auth.
    #[serde(default)]
    pub refresh_token: Option<Secret>,
    #[serde(default)]
    pub auth_time: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AuthorizerList {
    pub total_count: i64,
    #[serde(default)]
    pub list: Vec<AuthorizerListItem>,
}

impl Client {
    /// Ask WeChat to push a component_verify_ticket now (and restart the 10-minute pushes).
    pub async fn api_start_push_ticket(
        &self,
        component_appid: &str,
        component_secret: &Secret,
    ) -> Result<()> {
        let body = json!({"component_appid": component_appid, "component_secret": component_secret.expose()});
        let _: Ack = self
            .post("/cgi-bin/component/api_start_push_ticket", &[], &body)
            .await?;
        Ok(())
    }

    pub async fn api_component_token(
        &self,
        component_appid: &str,
        component_appsecret: &Secret,
        component_verify_ticket: &Secret,
    ) -> Result<ComponentToken> {
        let body = json!({
            "component_appid": component_appid,
            "component_appsecret": component_appsecret.expose(),
            "component_verify_ticket": component_verify_ticket.expose(),
        });
        self.post("/cgi-bin/component/api_component_token", &[], &body)
            .await
    }

    pub async fn api_create_preauthcode(
        &self,
        cat: &Secret,
        component_appid: &str,
    ) -> Result<PreAuthCode> {
        let body = json!({"component_appid": component_appid});
        self.post(
            "/cgi-bin/component/api_create_preauthcode",
            &[(CAT, cat.expose())],
            &body,
        )
        .await
    }

    /// Exchange an authorization code (from the redirect or the `authorized` push).
    pub async fn api_query_auth(
        &self,
        cat: &Secret,
        component_appid: &str,
        authorization_code: &str,
    ) -> Result<AuthorizationInfo> {
        let body =
            json!({"component_appid": component_appid, "authorization_code": authorization_code});
        let r: QueryAuthResponse = self
            .post(
                "/cgi-bin/component/api_query_auth",
                &[(CAT, cat.expose())],
                &body,
            )
            .await?;
        Ok(r.authorization_info)
    }

    pub async fn api_authorizer_token(
        &self,
        cat: &Secret,
        component_appid: &str,
        authorizer_appid: &str,
        authorizer_refresh_token: &Secret,
    ) -> Result<AuthorizerToken> {
        let body = json!({
            "component_appid": component_appid,
            "authorizer_appid": authorizer_appid,
            "authorizer_refresh_token": authorizer_refresh_token.expose(),
        });
        self.post(
            "/cgi-bin/component/api_authorizer_token",
            &[(CAT, cat.expose())],
            &body,
        )
        .await
    }

    pub async fn api_get_authorizer_info(
        &self,
        cat: &Secret,
        component_appid: &str,
        authorizer_appid: &str,
    ) -> Result<AuthorizerDetails> {
        let body =
            json!({"component_appid": component_appid, "authorizer_appid": authorizer_appid});
        let r: AuthorizerInfoResponse = self
            .post(
                "/cgi-bin/component/api_get_authorizer_info",
                &[(CAT, cat.expose())],
                &body,
            )
            .await?;
        let mut authorizer_info = r.authorizer_info;
        if authorizer_info.qrcode_url.is_empty()
            && let Some(url) = r.qrcode_url
        {
            authorizer_info.qrcode_url = url;
        }
        Ok(AuthorizerDetails {
            authorizer_info,
            authorization_info: r.authorization_info,
        })
    }

    /// One page of authorized accounts (`count` at most 500).
    pub async fn api_get_authorizer_list(
        &self,
        cat: &Secret,
        component_appid: &str,
        offset: u32,
        count: u32,
    ) -> Result<AuthorizerList> {
        let body =
            json!({"component_appid": component_appid, "offset": offset, "count": count.min(500)});
        self.post(
            "/cgi-bin/component/api_get_authorizer_list",
            &[(CAT, cat.expose())],
            &body,
        )
        .await
    }

    /// Reset the platform's own API quota (counts against 10 resets a month).
    pub async fn component_clear_quota(&self, cat: &Secret, component_appid: &str) -> Result<()> {
        let body = json!({"component_appid": component_appid});
        let _: Ack = self
            .post(
                "/cgi-bin/component/clear_quota",
                &[(CAT, cat.expose())],
                &body,
            )
            .await?;
        Ok(())
    }

    /// The token-free form, usable when the token API's own quota is exhausted. With
    /// `authorizer_appid` it resets that authorizer's quota instead of the platform's.
    pub async fn component_clear_quota_v2(
        &self,
        component_appid: &str,
        appsecret: &Secret,
        authorizer_appid: Option<&str>,
    ) -> Result<()> {
        let mut body = json!({"component_appid": component_appid, "appsecret": appsecret.expose()});
        if let (Some(appid), Some(obj)) = (authorizer_appid, body.as_object_mut()) {
            obj.insert("appid".into(), appid.into());
        }
        let _: Ack = self
            .post("/cgi-bin/component/clear_quota/v2", &[], &body)
            .await?;
        Ok(())
    }
}
