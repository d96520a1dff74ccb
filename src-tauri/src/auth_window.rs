//! The embedded authorization window (label `auth`). It shows the relay's 授权发起页 and, from
//! there, WeChat's own pages — remote content, so it is in no capability and gets no IPC. The
//! shell watches its navigations: the one to the relay's `/auth/callback` carries the
//! authorization code; it is taken, the navigation blocked and the window closed.

use std::sync::{Arc, Mutex};

use tauri::{Manager, Runtime, WebviewUrl, WebviewWindowBuilder, WindowEvent};
use tokio::sync::oneshot;
use url::Url;

use crate::error::{Error, Result};

pub const AUTH_WINDOW: &str = "auth";

/// The `auth_code` when `url` is the relay's callback (same scheme, host and port as the relay,
/// path `/auth/callback`); `None` for every other page.
pub fn callback_code(relay: &Url, url: &Url) -> Option<String> {
    let same_origin = url.scheme() == relay.scheme()
        && url.host_str() == relay.host_str()
        && url.port_or_known_default() == relay.port_or_known_default();
    let path = format!("{}/auth/callback", relay.path().trim_end_matches('/'));
    if !same_origin || url.path() != path {
        return None;
    }
    url.query_pairs()
        .find(|(k, _)| k == "auth_code")
        .map(|(_, v)| v.into_owned())
        .filter(|v| !v.is_empty())
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
pub async fn capture_auth_code<R: Runtime>(
    app: &tauri::AppHandle<R>,
    relay_url: &str,
    launch_url: &str,
) -> Result<Option<String>> {
    let relay = Url::parse(relay_url).map_err(|e| Error::AuthLink(e.to_string()))?;
    let launch = Url::parse(launch_url).map_err(|e| Error::AuthLink(e.to_string()))?;
    if launch.origin() != relay.origin() {
        // Only the relay's own page is opened here; anything else is not ours to show.
        return Err(Error::AuthLink("不是中继的授权发起页".into()));
    }
    if let Some(old) = app.get_webview_window(AUTH_WINDOW) {
        // A previous attempt's window: its waiter sees it close and returns `None`.
        let _ = old.destroy();
    }

    let (tx, rx) = oneshot::channel();
    let waiter: Waiter = Arc::new(Mutex::new(Some(tx)));
    let nav_waiter = waiter.clone();
    let nav_app = app.clone();
    let window = WebviewWindowBuilder::new(app, AUTH_WINDOW, WebviewUrl::External(launch))
        .title("授权公众号 / 小程序 — wxdesk")
        .inner_size(960.0, 720.0)
        .center()
        .on_navigation(move |url| {
            tracing::debug!(host = ?url.host_str(), path = url.path(), "auth window navigating");
            match callback_code(&relay, url) {
                Some(code) => {
                    tracing::info!("authorization code captured from the auth window");
                    finish(&nav_waiter, Some(code));
                    let app = nav_app.clone();
                    // Closing from inside the navigation handler would re-enter the webview.
                    tauri::async_runtime::spawn(async move {
                        if let Some(w) = app.get_webview_window(AUTH_WINDOW) {
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
    let close_waiter = waiter.clone();
    window.on_window_event(move |e| {
        if matches!(e, WindowEvent::Destroyed) {
            finish(&close_waiter, None);
        }
    });
    Ok(rx.await.ok().flatten())
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
                &u(
                    "http://127.0.0.1:4100/auth/callback?auth_code=queryauthcode%40%40%40x&expires_in=3600&state=ab"
                )
            ),
            Some("queryauthcode@@@x".into())
        );
    }

    #[test]
    fn other_pages_and_other_origins_are_not_the_callback() {
        let relay = u("https://relay.example.com");
        assert_eq!(
            callback_code(
                &relay,
                &u("https://relay.example.com/auth/start?auth_code=x")
            ),
            None
        );
        assert_eq!(
            callback_code(
                &relay,
                &u("https://evil.example.com/auth/callback?auth_code=x")
            ),
            None
        );
        assert_eq!(
            callback_code(
                &relay,
                &u("http://relay.example.com/auth/callback?auth_code=x")
            ),
            None,
            "a scheme downgrade is a different origin"
        );
        assert_eq!(
            callback_code(
                &relay,
                &u("https://relay.example.com/auth/callback?auth_code=")
            ),
            None
        );
        assert_eq!(
            callback_code(
                &relay,
                &u("https://relay.example.com:443/auth/callback?auth_code=c")
            ),
            Some("c".into())
        );
    }

    #[test]
    fn a_relay_under_a_path_prefix_has_its_callback_there() {
        let relay = u("https://example.com/relay/");
        assert_eq!(
            callback_code(
                &relay,
                &u("https://example.com/relay/auth/callback?auth_code=c")
            ),
            Some("c".into())
        );
        assert_eq!(
            callback_code(&relay, &u("https://example.com/auth/callback?auth_code=c")),
            None
        );
    }
}
