//! Which pages the embedded authorization window may load, and which one carries the
//! authorization code. The window is the shell's; this is the policy it follows, so it is tested
//! without one.
//!
//! The window goes nowhere but the relay and WeChat's login hosts ([`navigation_allowed`]): a
//! link or redirect elsewhere is refused, so the window cannot be turned into a browser for some
//! other site. The relay's `/auth/callback` of the attempt the window opened (same `state` as its
//! launch page, which the relay signed) carries the code ([`callback_code`]).

use url::Url;

use crate::error::{Error, Result};
use crate::platform::{Mode, Platform};

/// One attempt's pages: where the window starts and what it may load.
#[derive(Debug, Clone)]
pub struct AuthPages {
    relay: Url,
    login_base: Option<Url>,
    launch: Url,
    state: String,
}

impl AuthPages {
    /// The pages of the attempt whose launch page is `launch_url`: it must be the relay's own
    /// page and carry the attempt's `state`. `login_base` is where the sandbox serves its
    /// simulated WeChat login pages.
    pub fn new(relay_url: &str, login_base: Option<&str>, launch_url: &str) -> Result<Self> {
        let bad = |zh: &str, en: &str| {
            Error::input(
                format!("授权链接无效：{zh}"),
                format!("Invalid authorization link: {en}"),
            )
        };
        let relay = Url::parse(relay_url)
            .map_err(|_| bad("中继地址无法解析", "the relay URL does not parse"))?;
        let launch = Url::parse(launch_url).map_err(|_| {
            bad(
                "授权发起页的链接无法解析",
                "the launch page's link does not parse",
            )
        })?;
        if launch.origin() != relay.origin() {
            // Only the relay's own page is opened; anything else is not ours to show.
            return Err(bad("不是中继的授权发起页", "not the relay's launch page"));
        }
        let state = launch_state(&launch).ok_or_else(|| {
            bad(
                "授权发起页的链接缺少 state",
                "the launch page's link has no state",
            )
        })?;
        Ok(AuthPages {
            relay,
            login_base: login_base.and_then(|b| Url::parse(b).ok()),
            launch,
            state,
        })
    }

    /// The relay's launch page.
    pub fn launch(&self) -> &Url {
        &self.launch
    }

    /// Whether the window may load `url`.
    pub fn allows(&self, url: &Url) -> bool {
        navigation_allowed(&self.relay, self.login_base.as_ref(), url)
    }

    /// The authorization code when `url` is this attempt's callback.
    pub fn code_in(&self, url: &Url) -> Option<String> {
        callback_code(&self.relay, &self.state, url)
    }
}

impl Platform {
    /// The pages of an authorization attempt in the embedded window, with the saved relay (and,
    /// in the sandbox, the simulator's login pages, served from its api_base).
    pub async fn auth_pages(&self, launch_url: &str) -> Result<AuthPages> {
        let s = self.settings().await?;
        let login_base = (s.mode == Mode::Sandbox).then_some(s.api_base.as_str());
        AuthPages::new(&s.relay_url, login_base, launch_url)
    }
}

fn query(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .filter(|v| !v.is_empty())
}

/// The `state` of an attempt, from its launch page's link.
fn launch_state(launch: &Url) -> Option<String> {
    query(launch, "state")
}

/// The `auth_code` when `url` is the relay's callback (same scheme, host and port as the relay,
/// path `/auth/callback`) of the attempt whose `state` is `expected`; `None` for every other
/// page — also for a callback of another attempt (another window, an old link), whose code is
/// not this window's to take (the relay still records it, and the feed applies it).
fn callback_code(relay: &Url, expected: &str, url: &Url) -> Option<String> {
    let path = format!("{}/auth/callback", relay.path().trim_end_matches('/'));
    if !same_origin(relay, url) || url.path() != path {
        return None;
    }
    if query(url, "state").as_deref() != Some(expected) {
        tracing::warn!("an authorization callback of another attempt reached the auth window");
        return None;
    }
    query(url, "auth_code")
}

/// WeChat's hosts the authorization pages live on (the PC QR page, its scan frame, the
/// confirmation pages), HTTPS only.
const WECHAT_HOSTS: &[&str] = &["mp.weixin.qq.com", "open.weixin.qq.com"];

fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

fn is_loopback(u: &Url) -> bool {
    match u.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Whether the authorization window may load `url`: the relay's origin, WeChat's login hosts
/// over HTTPS, the sandbox's simulated login pages (`login_base`, only when it is on loopback),
/// and the empty documents frames start with. Everything else is refused.
fn navigation_allowed(relay: &Url, login_base: Option<&Url>, url: &Url) -> bool {
    if url.scheme() == "about" {
        return matches!(url.path(), "blank" | "srcdoc");
    }
    if same_origin(relay, url) {
        return true;
    }
    if url.scheme() == "https"
        && url.port().is_none()
        && url
            .host_str()
            .is_some_and(|h| WECHAT_HOSTS.iter().any(|w| h.eq_ignore_ascii_case(w)))
    {
        return true;
    }
    login_base.is_some_and(|base| is_loopback(base) && same_origin(base, url))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn an_attempt_opens_only_the_relays_own_launch_page_with_its_state() {
        let pages = AuthPages::new(
            "https://relay.example.com",
            None,
            "https://relay.example.com/auth/start?pre_auth_code=p&state=s1",
        )
        .unwrap();
        assert_eq!(pages.launch().path(), "/auth/start");
        assert_eq!(
            pages.code_in(&u(
                "https://relay.example.com/auth/callback?auth_code=c&state=s1"
            )),
            Some("c".into())
        );
        assert!(!pages.allows(&u("https://evil.example.com/")));
        for launch in [
            "https://evil.example.com/auth/start?state=s1",
            "https://relay.example.com/auth/start?pre_auth_code=p",
            "not a url",
        ] {
            let e = AuthPages::new("https://relay.example.com", None, launch).unwrap_err();
            assert_eq!(e.code(), "invalid", "{launch}");
            let en = e.message(crate::Lang::En);
            assert!(en.starts_with("Invalid authorization link"), "{en}");
            assert!(
                !en.chars().any(|c| ('\u{3000}'..='\u{9fff}').contains(&c)),
                "{en}"
            );
        }
    }

    #[test]
    fn the_relay_callback_yields_its_code() {
        let relay = u("http://127.0.0.1:4100");
        assert_eq!(
            callback_code(
                &relay,
                "ab",
                &u(
                    "http://127.0.0.1:4100/auth/callback?auth_code=queryauthcode%40%40%40x&expires_in=3600&state=ab"
                )
            ),
            Some("queryauthcode@@@x".into())
        );
    }

    #[test]
    fn a_callback_of_another_attempt_is_not_taken() {
        let relay = u("https://relay.example.com");
        let launch = u(
            "https://relay.example.com/auth/start?pre_auth_code=p&auth_type=3&state=1700000000.abc.sig",
        );
        let ours = launch_state(&launch).unwrap();
        assert_eq!(ours, "1700000000.abc.sig");
        let callback = |state: &str| {
            u(&format!(
                "https://relay.example.com/auth/callback?auth_code=c&expires_in=3600{state}"
            ))
        };
        assert_eq!(
            callback_code(&relay, &ours, &callback("&state=1700000000.abc.sig")),
            Some("c".into())
        );
        assert_eq!(
            callback_code(&relay, &ours, &callback("&state=1700000000.xyz.sig")),
            None,
            "another attempt's state"
        );
        assert_eq!(
            callback_code(&relay, &ours, &callback("")),
            None,
            "no state at all"
        );
        assert_eq!(
            callback_code(&relay, &ours, &callback("&state=")),
            None,
            "an empty state"
        );
        assert_eq!(
            launch_state(&u("https://relay.example.com/auth/start?pre_auth_code=p")),
            None
        );
    }

    #[test]
    fn other_pages_and_other_origins_are_not_the_callback() {
        let relay = u("https://relay.example.com");
        let code = |url: &str| callback_code(&relay, "s", &u(url));
        assert_eq!(
            code("https://relay.example.com/auth/start?auth_code=x&state=s"),
            None
        );
        assert_eq!(
            code("https://evil.example.com/auth/callback?auth_code=x&state=s"),
            None
        );
        assert_eq!(
            code("http://relay.example.com/auth/callback?auth_code=x&state=s"),
            None,
            "a scheme downgrade is a different origin"
        );
        assert_eq!(
            code("https://relay.example.com/auth/callback?auth_code=&state=s"),
            None
        );
        assert_eq!(
            code("https://relay.example.com:443/auth/callback?auth_code=c&state=s"),
            Some("c".into())
        );
    }

    #[test]
    fn a_relay_under_a_path_prefix_has_its_callback_there() {
        let relay = u("https://example.com/relay/");
        assert_eq!(
            callback_code(
                &relay,
                "s",
                &u("https://example.com/relay/auth/callback?auth_code=c&state=s")
            ),
            Some("c".into())
        );
        assert_eq!(
            callback_code(
                &relay,
                "s",
                &u("https://example.com/auth/callback?auth_code=c&state=s")
            ),
            None
        );
    }

    #[test]
    fn the_window_goes_only_to_the_relay_and_wechats_login_hosts() {
        let relay = u("https://relay.example.com");
        let ok = |s: &str| navigation_allowed(&relay, None, &u(s));
        assert!(ok("https://relay.example.com/auth/start?x=1"));
        assert!(ok(
            "https://mp.weixin.qq.com/cgi-bin/componentloginpage?component_appid=wx1"
        ));
        assert!(ok("https://open.weixin.qq.com/connect/qrconnect?appid=wx1"));
        assert!(ok("about:blank"));
        assert!(!ok("https://evil.example.com/"), "another site");
        assert!(
            !ok("https://relay.example.com.evil.com/"),
            "a look-alike host"
        );
        assert!(!ok("https://weixin.qq.com.evil.com/"), "a look-alike host");
        assert!(!ok("https://res.wx.qq.com/"), "not a login page");
        assert!(
            !ok("http://mp.weixin.qq.com/cgi-bin/x"),
            "no downgrade to http"
        );
        assert!(!ok("https://mp.weixin.qq.com:8443/"), "not on another port");
        assert!(!ok("http://relay.example.com/"), "the relay's scheme only");
        assert!(!ok("file:///etc/passwd"));
        assert!(!ok("data:text/html,<h1>hi</h1>"));
        assert!(!ok("javascript:alert(1)"));
        assert!(!ok("about:config"));
    }

    #[test]
    fn the_sandboxs_login_pages_are_allowed_only_on_loopback() {
        let relay = u("http://127.0.0.1:4100");
        let sim = u("http://127.0.0.1:4200");
        assert!(navigation_allowed(
            &relay,
            Some(&sim),
            &u("http://127.0.0.1:4200/cgi-bin/componentloginpage?x=1")
        ));
        assert!(
            !navigation_allowed(&relay, None, &u("http://127.0.0.1:4200/cgi-bin/x")),
            "not without the sandbox"
        );
        assert!(
            !navigation_allowed(&relay, Some(&sim), &u("http://127.0.0.1:4300/")),
            "another loopback port is another server"
        );
        let remote = u("http://login.example.com");
        assert!(
            !navigation_allowed(&relay, Some(&remote), &u("http://login.example.com/x")),
            "a login base that is not loopback is no exception"
        );
        assert!(navigation_allowed(
            &relay,
            Some(&u("http://localhost:4200")),
            &u("http://localhost:4200/safe/bindcomponent")
        ));
    }
}
