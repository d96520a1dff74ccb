//! The one thing the engine needs from the outside: make a send call on behalf of an account, and
//! refresh that account's token. A narrow trait so the engine is tested with fakes and the real
//! client (token cache + HTTP) plugs in behind it.

use std::future::Future;
use std::pin::Pin;

use serde_json::Value;
use wxdesk_wechat::ErrKind;

use super::render::ApiRequest;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A successful call: WeChat answered errcode 0.
#[derive(Debug, Clone, PartialEq)]
pub struct SendOk {
    /// `msgid` when the API returns one (template send, bizsend).
    pub msgid: Option<i64>,
    /// The response body as received (no token in it).
    pub response: Value,
}

/// A failed call, as much as is known.
#[derive(Debug, Clone, PartialEq)]
pub enum SendFailure {
    /// WeChat answered an errcode.
    Api { errcode: i64, errmsg: String },
    /// No usable answer. `maybe_sent` is false only when the request surely never left (connect
    /// refused, DNS); a reset or timeout after sending may have been accepted.
    Transport { maybe_sent: bool, detail: String },
    /// The account's token could not be obtained or refreshed (no refresh token, revoked…).
    Token { detail: String },
    /// Answered with an HTTP 4xx (or a redirect) and no WeChat errcode: the relay's key check or
    /// allowlist, or something else between us and WeChat, turned the request away, so it never
    /// reached WeChat. `detail` is the refusal's own reason when it gave one.
    Refused { status: u16, detail: String },
}

impl SendFailure {
    pub fn errcode(&self) -> Option<i64> {
        match self {
            SendFailure::Api { errcode, .. } => Some(*errcode),
            _ => None,
        }
    }

    pub fn message(&self) -> String {
        match self {
            SendFailure::Api { errmsg, .. } => errmsg.clone(),
            SendFailure::Transport { detail, .. } => format!("网络错误：{detail}"),
            SendFailure::Token { detail } => format!("无法取得接口令牌：{detail}"),
            SendFailure::Refused { status, detail } if detail.is_empty() => {
                format!("请求被拒绝（HTTP {status}），未到达微信")
            }
            SendFailure::Refused { status, detail } => {
                format!("请求被拒绝（HTTP {status}），未到达微信：{detail}")
            }
        }
    }

    /// Whether the request surely never reached WeChat.
    pub fn surely_not_sent(&self) -> bool {
        matches!(
            self,
            SendFailure::Transport {
                maybe_sent: false,
                ..
            } | SendFailure::Token { .. }
                | SendFailure::Refused { .. }
        )
    }

    /// The same failure, known not to have sent anything (it happened before the request, e.g.
    /// while getting the token): a transport failure then cannot have delivered the message.
    pub fn before_sending(self) -> SendFailure {
        match self {
            SendFailure::Transport { detail, .. } => SendFailure::Transport {
                maybe_sent: false,
                detail,
            },
            other => other,
        }
    }

    /// From the wechat client's error: errcodes stay errcodes, transport errors keep whether the
    /// request could have been received.
    pub fn from_wechat(e: &wxdesk_wechat::Error) -> SendFailure {
        use wxdesk_wechat::Error as E;
        match e {
            E::WeChat(w) => SendFailure::Api {
                errcode: w.errcode,
                errmsg: w.errmsg.clone(),
            },
            E::Http { reached, .. } => SendFailure::Transport {
                maybe_sent: *reached,
                detail: e.to_string(),
            },
            // A 4xx without an errcode is a refusal before WeChat (the relay's key check or
            // allowlist); a redirect is not followed.
            E::HttpStatus { status } if (400..500).contains(status) => SendFailure::Refused {
                status: *status,
                detail: String::new(),
            },
            E::Redirect { status, .. } => SendFailure::Refused {
                status: *status,
                detail: e.to_string(),
            },
            E::HttpStatus { .. } | E::Json(_) => SendFailure::Transport {
                maybe_sent: true,
                detail: e.to_string(),
            },
            E::NoTicket | E::NoRefreshToken { .. } | E::Store(_) => SendFailure::Token {
                detail: e.to_string(),
            },
            other => SendFailure::Transport {
                maybe_sent: false,
                detail: other.to_string(),
            },
        }
    }
}

/// Sends on behalf of authorizer accounts.
pub trait SendApi: Send + Sync + 'static {
    /// POST `req.body` to `req.path` with `appid`'s access token.
    fn send<'a>(
        &'a self,
        appid: &'a str,
        req: &'a ApiRequest,
    ) -> BoxFuture<'a, Result<SendOk, SendFailure>>;

    /// Drop `appid`'s cached token and fetch a new one (after 40001/42001/40014). The engine calls
    /// this at most once per token generation, however many requests saw the error.
    fn refresh_token<'a>(&'a self, appid: &'a str) -> BoxFuture<'a, Result<(), SendFailure>>;
}

/// What the engine does after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Back to pending with backoff (until the attempts run out).
    Retry,
    /// Refresh the token and retry once at once.
    RefreshToken,
    /// 45009: pause the job as `paused_quota`; the row goes back to pending unharmed.
    PauseQuota,
    /// The account cannot send at all (revoked, IP not whitelisted, permission missing): pause the
    /// job instead of failing every recipient; the row goes back to pending.
    PauseAccount,
    /// 45011, the per-minute limit: the row waits for the next minute (not an attempt used up).
    WaitNextMinute,
    /// The relay (or something before WeChat) refused the request: nothing was sent, and every
    /// row would be refused the same way (wrong relay key, path not allowed). Pause the job with
    /// the reason; the row goes back to pending.
    PauseRefused,
    /// This recipient fails for good.
    Permanent,
    /// The request may have been received and the API has no idempotency key: `uncertain`.
    Uncertain,
}

/// The engine's policy for a failure (protocol D; kinds from the wechat crate's errcode table).
pub fn classify(f: &SendFailure, idempotent: bool) -> Action {
    match f {
        // The mini-program jump every row of the job shares is not a page of the released
        // version (protocol H.2): every other row would fail the same way, so the job stops
        // with the explanation instead (40013, an unlinked mini program, already does).
        SendFailure::Api { errcode: 40165, .. } => Action::PauseAccount,
        SendFailure::Api { errcode, .. } => match wxdesk_wechat::errcode::kind_of(*errcode) {
            ErrKind::Retryable => Action::Retry,
            ErrKind::RateLimited => Action::WaitNextMinute,
            ErrKind::TokenInvalid => Action::RefreshToken,
            ErrKind::Quota => Action::PauseQuota,
            ErrKind::IpNotWhitelisted
            | ErrKind::Permission
            | ErrKind::AuthorizationRevoked
            | ErrKind::TicketInvalid
            | ErrKind::BadCredentials => Action::PauseAccount,
            ErrKind::NotSubscribed
            | ErrKind::OutOfWindow
            | ErrKind::Unsupported
            | ErrKind::Permanent
            | ErrKind::Unknown => Action::Permanent,
        },
        SendFailure::Transport {
            maybe_sent: false, ..
        } => Action::Retry,
        SendFailure::Transport {
            maybe_sent: true, ..
        } => {
            if idempotent {
                Action::Retry
            } else {
                Action::Uncertain
            }
        }
        SendFailure::Token { .. } => Action::PauseAccount,
        // Timed out before it was read, too many requests, the relay saturated: the same
        // request later is fine.
        SendFailure::Refused {
            status: 408 | 429 | 503,
            ..
        } => Action::Retry,
        SendFailure::Refused { .. } => Action::PauseRefused,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(errcode: i64) -> SendFailure {
        SendFailure::Api {
            errcode,
            errmsg: String::new(),
        }
    }

    #[test]
    fn errcodes_map_to_the_engine_policy() {
        for (code, want) in [
            (-1, Action::Retry),
            (45011, Action::WaitNextMinute),
            (40001, Action::RefreshToken),
            (42001, Action::RefreshToken),
            (40014, Action::RefreshToken),
            (45009, Action::PauseQuota),
            (61004, Action::PauseAccount),
            (61003, Action::PauseAccount),
            (48001, Action::PauseAccount),
            (43004, Action::Permanent),
            (40003, Action::Permanent),
            (47003, Action::Permanent),
            (40037, Action::Permanent),
            (45015, Action::Permanent),
            (45047, Action::Permanent),
            (45109, Action::Permanent),
            (43101, Action::Permanent),
            // A jump every row shares: an unlinked mini program, a page not released.
            (40013, Action::PauseAccount),
            (40165, Action::PauseAccount),
            (99999, Action::Permanent),
        ] {
            assert_eq!(classify(&api(code), true), want, "errcode {code}");
        }
    }

    #[test]
    fn a_refusal_before_wechat_is_never_uncertain() {
        let refused = |status| SendFailure::Refused {
            status,
            detail: String::new(),
        };
        for status in [301, 302, 400, 401, 403, 404, 405, 413] {
            assert_eq!(
                classify(&refused(status), false),
                Action::PauseRefused,
                "{status}"
            );
            assert!(refused(status).surely_not_sent());
        }
        for status in [408, 429, 503] {
            assert_eq!(classify(&refused(status), false), Action::Retry, "{status}");
        }
        // The wechat client's status errors of a relay refusal and of a redirect.
        for e in [
            wxdesk_wechat::Error::HttpStatus { status: 401 },
            wxdesk_wechat::Error::Redirect {
                status: 302,
                host: "evil.example".into(),
            },
        ] {
            let f = SendFailure::from_wechat(&e);
            assert!(matches!(f, SendFailure::Refused { .. }), "{f:?}");
        }
        assert!(matches!(
            SendFailure::from_wechat(&wxdesk_wechat::Error::HttpStatus { status: 502 }),
            SendFailure::Transport {
                maybe_sent: true,
                ..
            }
        ));
        // A failure before the request (getting the token) never counts as maybe sent.
        let before = SendFailure::Transport {
            maybe_sent: true,
            detail: "502".into(),
        }
        .before_sending();
        assert!(before.surely_not_sent());
        assert_eq!(classify(&before, false), Action::Retry);
    }

    #[test]
    fn a_reset_is_retried_only_where_client_msg_id_protects_the_resend() {
        let reset = SendFailure::Transport {
            maybe_sent: true,
            detail: "reset".into(),
        };
        assert_eq!(classify(&reset, true), Action::Retry);
        assert_eq!(classify(&reset, false), Action::Uncertain);
        let refused = SendFailure::Transport {
            maybe_sent: false,
            detail: "refused".into(),
        };
        assert_eq!(classify(&refused, false), Action::Retry);
    }
}
