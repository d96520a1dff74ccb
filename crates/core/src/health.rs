//! Whether WeChat's API answers this desk: every call through the gateway says how it went, and
//! the frame shows a banner from the first call that could not reach WeChat (or the relay's
//! egress route to it) until the next one that did. Only changes are announced.

use std::sync::Arc;

use tokio::sync::watch;

use crate::error::Msg;

/// The latest word on reaching WeChat: `None` while it answers (or nothing was tried yet),
/// `Some(why)` after a call could not reach it.
#[derive(Clone, Debug)]
pub struct WeChatHealth {
    tx: Arc<watch::Sender<Option<Msg>>>,
}

impl Default for WeChatHealth {
    fn default() -> Self {
        WeChatHealth {
            tx: Arc::new(watch::channel(None).0),
        }
    }
}

impl WeChatHealth {
    /// A call reached WeChat (whatever it answered): any trouble is over.
    pub fn reached(&self) {
        self.tx.send_if_modified(|t| t.take().is_some());
    }

    /// A call could not reach WeChat. The first such call after a good one is the news; later
    /// ones while it lasts only keep the latest reason.
    pub fn unreachable(&self, why: Msg) {
        self.tx.send_if_modified(|t| {
            let news = t.is_none();
            *t = Some(why);
            news
        });
    }

    /// What a call's outcome says about reaching WeChat: transport failures (no connection,
    /// timeout) and 5xx answers of the route in between (the relay's egress could not reach
    /// WeChat) mean unreachable; any WeChat answer, even a refusal, means reached.
    pub fn observe<T>(&self, outcome: &std::result::Result<T, wxdesk_wechat::Error>) {
        use wxdesk_wechat::Error as E;
        match outcome {
            Ok(_) | Err(E::WeChat(_)) => self.reached(),
            Err(E::Http { detail, .. }) => self.unreachable(Msg::new(
                format!("无法连接微信接口：{detail}"),
                format!("WeChat's API could not be reached: {detail}"),
            )),
            Err(E::HttpStatus { status: status @ 500.. }) => self.unreachable(Msg::new(
                format!("无法连接微信接口：途经的中继或网关答复 HTTP {status}"),
                format!("WeChat's API could not be reached: the relay or gateway on the way answered HTTP {status}"),
            )),
            // A malformed answer or a refusal before WeChat says nothing about reaching it.
            Err(_) => {}
        }
    }

    /// The current word, and every change from now on.
    pub fn subscribe(&self) -> watch::Receiver<Option<Msg>> {
        self.tx.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transport() -> wxdesk_wechat::Error {
        wxdesk_wechat::Error::Http {
            detail: "api.weixin.qq.com:443: Connection refused (os error 111)".into(),
            timeout: false,
            reached: false,
        }
    }

    #[test]
    fn trouble_is_news_once_and_ends_with_any_answer_from_wechat() {
        let h = WeChatHealth::default();
        let mut rx = h.subscribe();
        assert!(rx.borrow_and_update().is_none());

        h.observe::<()>(&Err(transport()));
        assert!(rx.has_changed().unwrap(), "the first failure is news");
        let why = rx.borrow_and_update().clone().expect("trouble");
        assert!(why.zh.contains("api.weixin.qq.com:443"), "{why:?}");
        assert!(
            why.en.starts_with("WeChat's API could not be reached"),
            "{why:?}"
        );

        h.observe::<()>(&Err(wxdesk_wechat::Error::HttpStatus { status: 502 }));
        assert!(
            !rx.has_changed().unwrap(),
            "still the same trouble: no news"
        );
        assert!(rx.borrow().is_some());

        // A refusal is an answer: WeChat was reached.
        let refusal = wxdesk_wechat::Error::WeChat(wxdesk_wechat::WeChatError::new(
            48001,
            "api unauthorized",
        ));
        h.observe::<()>(&Err(refusal));
        assert!(rx.has_changed().unwrap());
        assert!(rx.borrow_and_update().is_none());

        // Good calls while all is well are no news; a 4xx before WeChat says nothing.
        h.observe(&Ok(1));
        h.observe::<()>(&Err(wxdesk_wechat::Error::HttpStatus { status: 403 }));
        assert!(!rx.has_changed().unwrap());
    }
}
