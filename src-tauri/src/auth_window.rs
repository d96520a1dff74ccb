//! The embedded authorization window (label `auth`). It shows the relay's 授权发起页 and, from
//! there, WeChat's own pages — remote content, so it is in no capability and gets no IPC. The
//! shell watches its navigations against the attempt's [`AuthPages`] (core decides which pages
//! are allowed and which callback carries the code): the code is taken, the navigation blocked
//! and the window closed. Every authorization starts logged out: the window opens on a blank
//! page, every cookie of the webview context (WeChat's login session among them; the app's own
//! window keeps nothing in cookies) is deleted, and only then does it go to the relay; the
//! cookies are deleted again once the code is captured. (Not an incognito webview: WebKitGTK
//! allows automation on one web context only, so an ephemeral one would be out of the
//! end-to-end suite's reach.)

use std::sync::{Arc, Mutex};

use tauri::{Manager, Runtime, WebviewUrl, WebviewWindowBuilder, WindowEvent};
use tokio::sync::oneshot;
use url::Url;
use wxdesk_core::auth_pages::AuthPages;

use crate::error::{Error, Result};

pub const AUTH_WINDOW: &str = "auth";

type Waiter = Arc<Mutex<Option<oneshot::Sender<Option<String>>>>>;

fn finish(waiter: &Waiter, code: Option<String>) {
    let tx = waiter.lock().ok().and_then(|mut w| w.take());
    if let Some(tx) = tx {
        // The command may have gone away (app closing): nothing to tell.
        let _ = tx.send(code);
    }
}

/// Opens the window on the attempt's launch page and waits for the code (`None`: the user
/// closed it).
pub async fn capture_auth_code<R: Runtime>(
    app: &tauri::AppHandle<R>,
    pages: AuthPages,
) -> Result<Option<String>> {
    let launch = pages.launch().clone();
    if let Some(old) = app.get_webview_window(AUTH_WINDOW) {
        // A previous attempt's window: its waiter sees it close and returns `None`.
        let _ = old.destroy();
    }

    let (tx, rx) = oneshot::channel();
    let waiter: Waiter = Arc::new(Mutex::new(Some(tx)));
    let nav_waiter = waiter.clone();
    let nav_app = app.clone();
    let blank =
        Url::parse("about:blank").map_err(|e| Error::AuthWindow(tauri::Error::InvalidUrl(e)))?;
    let window = WebviewWindowBuilder::new(app, AUTH_WINDOW, WebviewUrl::External(blank))
        .title(crate::auth_window_title(crate::error::lang()))
        .inner_size(960.0, 720.0)
        .center()
        .on_navigation(move |url| {
            tracing::debug!(host = ?url.host_str(), path = url.path(), "auth window navigating");
            if !pages.allows(url) {
                // Not the query (it may carry codes): the host says enough.
                tracing::warn!(scheme = url.scheme(), host = ?url.host_str(), "auth window navigation refused");
                return false;
            }
            match pages.code_in(url) {
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
