//! The gateway every feature calls WeChat through on behalf of an authorized account (audience,
//! templates, quotas, mini-program code): the API client and the account's access token behind a
//! narrow trait, so the platform's token service (or a test's own token) plugs in. Transient
//! failures are retried here with a short backoff; a refused token is refreshed once.

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
    /// Where each call's outcome is told, so the frame can say when WeChat cannot be reached
    /// (none: nobody is told).
    fn health(&self) -> Option<&crate::health::WeChatHealth> {
        None
    }
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

    fn health(&self) -> Option<&crate::health::WeChatHealth> {
        Some(crate::platform::WxApi::health(self))
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

    fn health(&self) -> Option<&crate::health::WeChatHealth> {
        (**self).health()
    }
}

/// Calls `f` with `appid`'s token: retries transient failures (-1, per-minute limits, network,
/// HTTP 5xx) as [`crate::retry::ACCOUNT_CALL`] says, and refreshes the token once when WeChat
/// refuses it. Every other error is returned at once.
pub(crate) async fn call<A, T, F, Fut>(api: &A, appid: &str, mut f: F) -> Result<T>
where
    A: AccountApi + ?Sized,
    F: FnMut(Client, Secret) -> Fut,
    Fut: Future<Output = wxdesk_wechat::Result<T>>,
{
    let policy = crate::retry::ACCOUNT_CALL;
    let mut refreshed = false;
    let mut attempt = 1;
    loop {
        let token = api.access_token(appid).await?;
        let outcome = f(api.client().clone(), token).await;
        if let Some(h) = api.health() {
            h.observe(&outcome);
        }
        match outcome {
            Ok(v) => return Ok(v),
            Err(e) => match e.kind() {
                Some(ErrKind::TokenInvalid) if !refreshed => {
                    refreshed = true;
                    api.token_refused(appid).await;
                }
                Some(ErrKind::Retryable | ErrKind::RateLimited) if policy.may_retry(attempt) => {
                    tokio::time::sleep(policy.backoff(attempt)).await;
                    attempt += 1;
                }
                _ => return Err(Error::WeChat(e)),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    use axum::routing::get;
    use axum::{Json, Router};
    use serde_json::{Value, json};
    use wxdesk_wechat::api::ClientConfig;

    use super::*;

    /// A WeChat that answers tags/get with `answers` in turn (the last one from then on).
    async fn wechat(answers: Vec<Value>) -> (Client, Arc<AtomicUsize>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let seen = Arc::clone(&calls);
        let answers = Arc::new(answers);
        let app = Router::new().route(
            "/cgi-bin/tags/get",
            get(move || {
                let n = seen.fetch_add(1, Ordering::SeqCst);
                let a = answers[n.min(answers.len() - 1)].clone();
                async move { Json(a) }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let client = Client::new(ClientConfig::with_base_url(format!("http://{addr}"))).unwrap();
        (client, calls)
    }

    /// Hands out tokens `t1`, `t2`, … and counts the refusals it is told about.
    struct Tokens {
        client: Client,
        issued: Mutex<u32>,
        refused: AtomicUsize,
        health: crate::health::WeChatHealth,
    }

    impl AccountApi for Tokens {
        fn client(&self) -> &Client {
            &self.client
        }
        async fn access_token(&self, _appid: &str) -> Result<Secret> {
            let mut n = self.issued.lock().unwrap();
            *n += 1;
            Ok(Secret::new(format!("t{n}")))
        }
        async fn token_refused(&self, _appid: &str) {
            self.refused.fetch_add(1, Ordering::SeqCst);
        }
        fn health(&self) -> Option<&crate::health::WeChatHealth> {
            Some(&self.health)
        }
    }

    fn api(client: Client) -> Tokens {
        Tokens {
            client,
            issued: Mutex::new(0),
            refused: AtomicUsize::new(0),
            health: crate::health::WeChatHealth::default(),
        }
    }

    async fn tags(api: &Tokens) -> Result<usize> {
        call(api, "wx1", |c, t| async move { c.tags_get(&t).await })
            .await
            .map(|t| t.len())
    }

    #[tokio::test]
    async fn a_busy_wechat_is_tried_again_and_a_refused_token_refreshed_once() {
        let busy = json!({"errcode": -1, "errmsg": "system error"});
        let ok = json!({"tags": [{"id": 2, "name": "星标组", "count": 1}]});
        let (client, calls) = wechat(vec![busy.clone(), busy, ok.clone()]).await;
        assert_eq!(tags(&api(client)).await.unwrap(), 1);
        assert_eq!(
            calls.load(Ordering::SeqCst),
            3,
            "two retries, then the answer"
        );

        let refused = json!({"errcode": 40001, "errmsg": "invalid credential"});
        let (client, calls) = wechat(vec![refused, ok]).await;
        let a = api(client);
        assert_eq!(tags(&a).await.unwrap(), 1);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        assert_eq!(
            a.refused.load(Ordering::SeqCst),
            1,
            "the token was dropped once"
        );
    }

    #[tokio::test]
    async fn retries_end_after_the_policys_attempts_and_other_errors_end_at_once() {
        let (client, calls) = wechat(vec![json!({"errcode": -1, "errmsg": "busy"})]).await;
        let e = tags(&api(client)).await.unwrap_err();
        assert_eq!(e.wechat_errcode(), Some(-1));
        assert_eq!(
            calls.load(Ordering::SeqCst),
            crate::retry::ACCOUNT_CALL.attempts as usize
        );

        let (client, calls) = wechat(vec![
            json!({"errcode": 48001, "errmsg": "api unauthorized"}),
        ])
        .await;
        let e = tags(&api(client)).await.unwrap_err();
        assert_eq!(e.wechat_errcode(), Some(48001));
        assert_eq!(calls.load(Ordering::SeqCst), 1, "a refusal is not retried");

        let refused = json!({"errcode": 40001, "errmsg": "invalid credential"});
        let (client, calls) = wechat(vec![refused]).await;
        let a = api(client);
        let e = tags(&a).await.unwrap_err();
        assert_eq!(e.wechat_errcode(), Some(40001));
        assert_eq!(calls.load(Ordering::SeqCst), 2, "one refresh, not more");
    }

    #[tokio::test]
    async fn every_call_tells_whether_wechat_was_reached() {
        // Nothing listens: the calls (retries included) cannot reach WeChat.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let down = api(Client::new(ClientConfig::with_base_url(format!(
            "http://127.0.0.1:{port}"
        )))
        .unwrap());
        let mut rx = down.health.subscribe();
        assert!(tags(&down).await.is_err());
        let why = rx.borrow_and_update().clone().expect("unreachable");
        assert!(why.zh.contains(&format!("127.0.0.1:{port}")), "{why:?}");

        // The same health, a WeChat that answers (even with a refusal): reached again.
        let (client, _) = wechat(vec![
            json!({"errcode": 48001, "errmsg": "api unauthorized"}),
        ])
        .await;
        let up = Tokens {
            health: down.health.clone(),
            ..api(client)
        };
        assert!(tags(&up).await.is_err());
        assert!(rx.has_changed().unwrap());
        assert!(rx.borrow_and_update().is_none(), "a refusal is an answer");
    }
}
