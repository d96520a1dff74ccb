//! The embedded authorization window (label `auth`). It shows the relay's 授权发起页 and, from
//! there, WeChat's own pages — remote content, so it is in no capability and gets no IPC. The
//! shell watches its navigations: the one to the relay's `/auth/callback` of the attempt this
//! window opened (same `state` as its launch page, which the relay signed) carries the
//! authorization code; it is taken, the navigation blocked and the window closed.
//!
//! The window goes nowhere but the relay and WeChat's login hosts ([`navigation_allowed`]): a
//! link or redirect elsewhere is refused, so the window cannot be turned into a browser for some
//! other site. Every authorization starts logged out: the window opens on a blank page, every
//! cookie of the webview context (WeChat's login session among them; the app's own window keeps
//! nothing in cookies) is deleted, and only then does it go to the relay; the cookies are deleted
//! again once the code is captured. (Not an incognito webview: WebKitGTK allows automation on
//! one web context only, so an ephemeral one would be out of the end-to-end suite's reach.)

use std::sync::{Arc, Mutex};

use tauri::{Manager, Runtime, WebviewUrl, WebviewWindowBuilder, WindowEvent};
use tokio::sync::oneshot;
use url::Url;

use crate::error::{Error, Result};

pub const AUTH_WINDOW: &str = "auth";

fn query(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .filter(|v| !v.is_empty())
}

/// The `state` of an attempt, from its launch page's link.
pub fn launch_state(launch: &Url) -> Option<String> {
    query(launch, "state")
}

/// The `auth_code` when `url` is the relay's callback (same scheme, host and port as the relay,
/// path `/auth/callback`) of the attempt whose `state` is `expected`; `None` for every other
/// page — also for a callback of another attempt (another window, an old link), whose code is
/// not this window's to take (the relay still records it, and the feed applies it).
pub fn callback_code(relay: &Url, expected: &str, url: &Url) -> Option<String> {
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
pub fn navigation_allowed(relay: &Url, login_base: Option<&Url>, url: &Url) -> bool {
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

type Waiter = Arc<Mutex<Option<oneshot::Sender<Option<String>>>>>;

fn finish(waiter: &Waiter, code: Option<String>) {
    let tx = waiter.lock().ok().and_then(|mut w| w.take());
    if let Some(tx) = tx {
        // The command may have gone away (app closing): nothing to tell.
        let _ = tx.send(code);
    }
}

/// Opens the window on `launch_url` and waits for the code (`None`: the user closed it).
/// `login_base` is where the sandbox serves its simulated WeChat login pages.
pub async fn capture_auth_code<R: Runtime>(
    app: &tauri::AppHandle<R>,
    relay_url: &str,
    login_base: Option<&str>,
    launch_url: &str,
) -> Result<Option<String>> {
    let relay = Url::parse(relay_url).map_err(|e| Error::AuthLink(e.to_string()))?;
    let login_base = login_base.and_then(|b| Url::parse(b).ok());
    let launch = Url::parse(launch_url).map_err(|e| Error::AuthLink(e.to_string()))?;
    if launch.origin() != relay.origin() {
        // Only the relay's own page is opened here; anything else is not ours to show.
        return Err(Error::AuthLink("不是中继的授权发起页".into()));
    }
    // The callback that ends this window must carry the state of the attempt it opened.
    let state = launch_state(&launch)
        .ok_or_else(|| Error::AuthLink("授权发起页的链接缺少 state".into()))?;
    if let Some(old) = app.get_webview_window(AUTH_WINDOW) {
        // A previous attempt's window: its waiter sees it close and returns `None`.
        let _ = old.destroy();
    }

    let (tx, rx) = oneshot::channel();
    let waiter: Waiter = Arc::new(Mutex::new(Some(tx)));
    let nav_waiter = waiter.clone();
    let nav_app = app.clone();
    let blank = Url::parse("about:blank").map_err(|e| Error::AuthLink(e.to_string()))?;
    let window = WebviewWindowBuilder::new(app, AUTH_WINDOW, WebviewUrl::External(blank))
        .title("授权公众号 / 小程序 — wxdesk")
        .inner_size(960.0, 720.0)
        .center()
        .on_navigation(move |url| {
            tracing::debug!(host = ?url.host_str(), path = url.path(), "auth window navigating");
            if !navigation_allowed(&relay, login_base.as_ref(), url) {
                // Not the query (it may carry codes): the host says enough.
                tracing::warn!(scheme = url.scheme(), host = ?url.host_str(), "auth window navigation refused");
                return false;
            }
            match callback_code(&relay, &state, url) {
                Some(code) => {
                    tracing::info!("authorization code captured from the auth window");
                    finish(&nav_waiter, Some(code));
                    let app = nav_app.clone();
                    // Closing from inside the navigation handler would re-enter the webview.
                    tauri::async_runtime::spawn(async move {
                        if let Some(w) = app.get_webview_window(AUTH_WINDOW) {
                            forget_cookies(&w);
                            let _ = w.close();
                        }
                    });
                    false
                }
                None => true,
            }
        })
        .build()
        .map_err(Error::AuthWindow)?;
    // Logged out before the first request leaves (the cookie store is the context's, shared
    // with earlier auth windows).
    forget_cookies(&window);
    window.navigate(launch).map_err(Error::AuthWindow)?;
    let close_waiter = waiter.clone();
    window.on_window_event(move |e| {
        if matches!(e, WindowEvent::Destroyed) {
            finish(&close_waiter, None);
        }
    });
    Ok(rx.await.ok().flatten())
}

/// Deletes every cookie of the webview's context. Called off the main thread (it blocks on
/// Linux until WebKit answers).
fn forget_cookies<R: Runtime>(w: &tauri::WebviewWindow<R>) {
    match w.cookies() {
        Ok(cookies) => {
            for c in cookies {
                if let Err(e) = w.delete_cookie(c) {
                    tracing::warn!(error = %e, "a cookie of the auth window could not be deleted");
                }
            }
        }
        Err(e) => tracing::warn!(error = %e, "the auth window's cookies could not be read"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
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
