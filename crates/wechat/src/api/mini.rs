//! Mini-program login: code → session (protocol C.6 "Mini program login").

use serde::Deserialize;

use super::Client;
use crate::error::Result;
use crate::secret::Secret;

#[derive(Debug, Clone, Deserialize)]
pub struct Session {
    pub openid: String,
    pub session_key: Secret,
    /// Only when the mini program is bound to an open-platform account.
    #[serde(default)]
    pub unionid: Option<String>,
}

impl Client {
    /// Third-party form: on behalf of an authorized mini program.
    pub async fn component_jscode2session(
        &self,
        appid: &str,
        js_code: &str,
        component_appid: &str,
        cat: &Secret,
    ) -> Result<Session> {
        self.get(
            "/sns/component/jscode2session",
            &[
                ("appid", appid),
                ("js_code", js_code),
                ("grant_type", "authorization_code"),
                ("component_appid", component_appid),
                ("component_access_token", cat.expose()),
            ],
        )
        .await
    }

    /// Direct form, with the mini program's own secret.
    pub async fn jscode2session(
        &self,
        appid: &str,
        secret: &Secret,
        js_code: &str,
    ) -> Result<Session> {
        self.get(
            "/sns/jscode2session",
            &[
                ("appid", appid),
                ("secret", secret.expose()),
                ("js_code", js_code),
                ("grant_type", "authorization_code"),
            ],
        )
        .await
    }
}
