//! The gateway every feature calls WeChat through on behalf of an authorized account (audience,
//! templates, quotas, mini-program code): the API client and the account's access token behind a
//! narrow trait, so the platform's token service (or a test's own token) plugs in. Transient
//! failures are retried here with a short backoff; a refused token is refreshed once.

use std::time::Duration;

use wxdesk_wechat::api::Client;
use wxdesk_wechat::errcode::ErrKind;

use crate::error::{Error, Result};
use crate::secrets::Secret;

/// The API client and the access tokens of authorized accounts.
pub trait AccountApi: Send + Sync {
    fn client(&self) -> &Client;
    /// A valid access token for `appid` (the authorizer_access_token of a third-party platform).
    fn access_token(&self, appid: &str) -> impl Future<Output = Result<Secret>> + Send;
    /// WeChat refused the token (40001/42001/40014): drop it so the next call gets a fresh one.
    fn token_refused(&self, appid: &str) -> impl Future<Output = ()> + Send;
}

/// The platform's connection: authorizer_access_token from the refresh token in the keychain.
impl AccountApi for crate::platform::WxApi {
    fn client(&self) -> &Client {
        crate::platform::WxApi::client(self)
    }

    async fn access_token(&self, appid: &str) -> Result<Secret> {
        self.authorizer_token(appid).await
    }

    async fn token_refused(&self, appid: &str) {
        self.forget_authorizer(appid).await;
    }
}

/// Shared handles work too (the shell holds `Arc<WxApi>`).
impl<T: AccountApi> AccountApi for std::sync::Arc<T> {
    fn client(&self) -> &Client {
        (**self).client()
    }

    fn access_token(&self, appid: &str) -> impl Future<Output = Result<Secret>> + Send {
        (**self).access_token(appid)
    }

    fn token_refused(&self, appid: &str) -> impl Future<Output = ()> + Send {
        (**self).token_refused(appid)
    }
}

/// Attempts for a call that fails transiently (-1, per-minute limits, network, HTTP 5xx).
const ATTEMPTS: u32 = 4;
const FIRST_BACKOFF: Duration = Duration::from_millis(200);

/// Calls `f` with `appid`'s token: retries transient failures with exponential backoff, and
/// refreshes the token once when WeChat refuses it. Every other error is returned at once.
pub(crate) async fn call<A, T, F, Fut>(api: &A, appid: &str, mut f: F) -> Result<T>
where
    A: AccountApi + ?Sized,
    F: FnMut(Client, Secret) -> Fut,
    Fut: Future<Output = wxdesk_wechat::Result<T>>,
{
    let mut backoff = FIRST_BACKOFF;
    let mut refreshed = false;
    let mut attempt = 1;
    loop {
        let token = api.access_token(appid).await?;
        match f(api.client().clone(), token).await {
            Ok(v) => return Ok(v),
            Err(e) => match e.kind() {
                Some(ErrKind::TokenInvalid) if !refreshed => {
                    refreshed = true;
                    api.token_refused(appid).await;
                }
                Some(ErrKind::Retryable | ErrKind::RateLimited) if attempt < ATTEMPTS => {
                    attempt += 1;
                    tokio::time::sleep(backoff).await;
                    backoff *= 3;
                }
                _ => return Err(Error::WeChat(e)),
            },
        }
    }
}
