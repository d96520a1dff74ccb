//! The production [`SendApi`]: POSTs the engine's JSON bodies to the WeChat API (directly, or
//! through the relay's egress route) with the account's access token from a [`TokenSource`].
//! The token only ever travels in the request URL, which is never logged or stored: reqwest
//! errors are stripped of their URL before they become messages.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use wxdesk_wechat::Secret;

use super::api::{BoxFuture, SendApi, SendFailure, SendOk};
use super::render::ApiRequest;

/// Access tokens of authorizer accounts (the platform's token service implements this).
pub trait TokenSource: Send + Sync + 'static {
    /// A valid token for `appid` (cached, refreshed ahead of expiry by the implementation).
    fn token<'a>(&'a self, appid: &'a str) -> BoxFuture<'a, Result<Secret, SendFailure>>;
    /// Drop the cached token of `appid` and fetch a fresh one (after 40001/42001/40014).
    fn refresh<'a>(&'a self, appid: &'a str) -> BoxFuture<'a, Result<(), SendFailure>>;
}

/// Where requests go: WeChat itself, or the relay's `/api/v1/wechat/` egress route.
#[derive(Clone)]
pub struct Endpoint {
    /// e.g. `https://api.weixin.qq.com`, or `https://relay.example.com/api/v1/wechat`.
    pub base_url: String,
    /// The relay's bearer key when going through it.
    pub bearer: Option<Secret>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("base_url", &self.base_url)
            .field("bearer", &self.bearer.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

pub struct HttpSendApi {
    http: reqwest::Client,
    endpoint: Endpoint,
    tokens: Arc<dyn TokenSource>,
    /// Told whether each send reached WeChat (the frame's banner when it does not).
    health: Option<crate::health::WeChatHealth>,
}

impl HttpSendApi {
    pub fn new(endpoint: Endpoint, tokens: Arc<dyn TokenSource>) -> crate::Result<HttpSendApi> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(256)
            // In relay egress mode these requests go to the relay, which closes connections idle
            // for its header_read_timeout (15 s by default): never reuse one idle that long.
            .pool_idle_timeout(Duration::from_secs(10))
            // The URL carries the access token: never send it on to where a 3xx points.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| {
                let e = e.without_url();
                crate::Error::input(
                    format!("HTTP 客户端无法创建：{e}"),
                    format!("The HTTP client cannot be created: {e}"),
                )
            })?;
        Ok(HttpSendApi {
            http,
            endpoint,
            tokens,
            health: None,
        })
    }

    /// Tells `health` whether each send reached WeChat.
    #[must_use]
    pub fn telling(mut self, health: crate::health::WeChatHealth) -> Self {
        self.health = Some(health);
        self
    }

    async fn post(&self, appid: &str, req: &ApiRequest) -> Result<SendOk, SendFailure> {
        // Whatever fails here, the send request itself has not left yet.
        let token = self
            .tokens
            .token(appid)
            .await
            .map_err(SendFailure::before_sending)?;
        let url = url::Url::parse_with_params(
            &format!(
                "{}{}",
                self.endpoint.base_url.trim_end_matches('/'),
                req.path
            ),
            &[("access_token", token.expose())],
        )
        .map_err(|e| SendFailure::Transport {
            maybe_sent: false,
            detail: format!("接口地址无效：{e}"),
        })?;
        let mut rb = self.http.post(url).json(&req.body);
        if let Some(b) = &self.endpoint.bearer {
            rb = rb.bearer_auth(b.expose());
        }
        let resp = rb.send().await.map_err(transport)?;
        let status = resp.status().as_u16();
        if resp.status().is_redirection() {
            return Err(SendFailure::Refused {
                status,
                detail: wxdesk_wechat::api::redirect_error(&resp).to_string(),
            });
        }
        let bytes = resp.bytes().await.map_err(transport)?;
        let body: Option<Value> = serde_json::from_slice(&bytes).ok();
        let errcode = body
            .as_ref()
            .and_then(|b| b.get("errcode"))
            .and_then(Value::as_i64)
            .unwrap_or(0);
        if errcode != 0 {
            let errmsg = body
                .as_ref()
                .and_then(|b| b.get("errmsg"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            return Err(SendFailure::Api { errcode, errmsg });
        }
        // A 4xx without an errcode did not come from WeChat's API processing the message: the
        // relay refused it (401 wrong key, 403 path not on its allowlist, 400 bad path) or a
        // proxy did. Nothing was sent, so it is never "maybe sent".
        if (400..500).contains(&status) || relay_overloaded(status, body.as_ref()) {
            return Err(SendFailure::Refused {
                status,
                detail: body.as_ref().map(refusal_reason).unwrap_or_default(),
            });
        }
        let Some(body) = body else {
            return Err(SendFailure::Transport {
                maybe_sent: true,
                detail: format!("HTTP {status}，响应不是 JSON（{} 字节）", bytes.len()),
            });
        };
        if !(200..300).contains(&status) {
            return Err(SendFailure::Transport {
                maybe_sent: true,
                detail: format!("HTTP {status}"),
            });
        }
        Ok(SendOk {
            msgid: body.get("msgid").and_then(Value::as_i64),
            response: body,
        })
    }
}

/// The relay's own 503 when it is saturated (`{"error": "overloaded"}`, answered before any
/// forwarding): the request never left it. A 503 of WeChat's passed through says nothing of the
/// kind and stays "maybe sent".
fn relay_overloaded(status: u16, body: Option<&Value>) -> bool {
    status == 503
        && body
            .and_then(|b| b.get("error"))
            .and_then(Value::as_str)
            .is_some_and(|e| e == "overloaded")
}

/// The relay's refusal body is `{"error": code, "reason": "中文 / English"}`; anything else from
/// the network is shown only as far as it is a short plain string.
fn refusal_reason(body: &Value) -> String {
    let text = body
        .get("reason")
        .or_else(|| body.get("error"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    text.chars().filter(|c| !c.is_control()).take(200).collect()
}

/// A transport error without its URL (which holds the token). A request that never connected
/// surely was not received; anything later might have been.
fn transport(e: reqwest::Error) -> SendFailure {
    let maybe_sent = !(e.is_connect() || e.is_builder());
    SendFailure::Transport {
        maybe_sent,
        detail: wxdesk_wechat::error::transport_detail(&e),
    }
}

impl SendApi for HttpSendApi {
    fn send<'a>(
        &'a self,
        appid: &'a str,
        req: &'a ApiRequest,
    ) -> BoxFuture<'a, Result<SendOk, SendFailure>> {
        Box::pin(async move {
            let sent = self.post(appid, req).await;
            if let Some(h) = &self.health {
                match &sent {
                    Ok(_) | Err(SendFailure::Api { .. }) => h.reached(),
                    Err(SendFailure::Transport { detail, .. }) => {
                        h.unreachable(crate::error::Msg::new(
                            format!("无法连接微信接口：{detail}"),
                            format!("WeChat's API could not be reached: {detail}"),
                        ));
                    }
                    // A token that cannot be had or a refusal on the way says nothing of WeChat.
                    Err(_) => {}
                }
            }
            sent
        })
    }

    fn refresh_token<'a>(&'a self, appid: &'a str) -> BoxFuture<'a, Result<(), SendFailure>> {
        self.tokens.refresh(appid)
    }
}
