//! End-to-end harness: the real wxdesk binary, driven through tauri-driver and WebKitWebDriver.
//!
//! A test does:
//! ```no_run
//! # use wxdesk_e2e::{Harness, Options};
//! # async fn t() -> wxdesk_e2e::Result<()> {
//! let h = Harness::start(Options::new("frame")).await?;
//! h.wait_for_text("[data-testid=nav-overview]", "概览").await?;
//! h.screenshot("main").await?;
//! h.shutdown().await;
//! # Ok(()) }
//! ```
//! Each harness gets its own tauri-driver on free ports (so suites may run in parallel), a fresh
//! data directory, and an artifacts folder for screenshots.
//!
//! Tests that need the WeChat side start `wxdesk_sim::start(..)` and `wxdesk_relay::start(..)`
//! in their own tokio runtime first (both bind 127.0.0.1:0), keep the handles alive for the
//! test's length, and hand their URLs to the app with [`Options::env`]: the environment of the
//! tauri-driver process reaches the app through WebKitWebDriver.

mod error;
mod paths;
mod process;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};

pub use error::{Error, Result};
pub use paths::{app_binary, artifacts_dir};
use process::{Driver, Watchdog};

/// How long to wait for something the app renders. Generous: React renders after the session is
/// up, and 2-core CI machines are slow while other builds run.
pub const RENDER_TIMEOUT: Duration = Duration::from_secs(30);

/// What to start the app with.
#[derive(Debug, Clone)]
pub struct Options {
    /// Names the test's artifacts folder.
    pub name: String,
    /// Extra environment for the app (e.g. sim/relay URLs).
    pub env: Vec<(String, String)>,
    /// A data dir the test prepared (e.g. sandbox mode saved through wxdesk-core); `None` gives
    /// the app a fresh, empty one that is removed afterwards.
    pub data_dir: Option<PathBuf>,
    /// Run WebKitGTK the way the app ships (its DMA-BUF renderer off, see src-tauri/src/main.rs)
    /// instead of with the renderer kept on. See [`Options::renderer_as_shipped`].
    pub renderer_as_shipped: bool,
}

/// The variable the app sets at start unless it is set already.
const DMABUF_VAR: &str = "WEBKIT_DISABLE_DMABUF_RENDERER";

impl Options {
    pub fn new(name: &str) -> Self {
        Options {
            name: name.to_owned(),
            env: Vec::new(),
            data_dir: None,
            renderer_as_shipped: false,
        }
    }

    /// Sessions keep WebKitGTK's DMA-BUF renderer on by default (`WEBKIT_DISABLE_DMABUF_RENDERER=0`),
    /// the rendering the suite was built and timed against. With the renderer off, as the app
    /// ships, Xvfb has no GPU and WebKit draws without compositing: WebDriver screenshots then
    /// wait for a paint (the harness then keeps the page painting) and the
    /// page's timing changes enough that three journeys failed their races in one CI run (a
    /// click during a dialog's zoom-in). The frame test runs as shipped: every page in both
    /// languages, and its screenshots, with the renderer off.
    pub fn renderer_as_shipped(mut self) -> Self {
        self.renderer_as_shipped = true;
        self
    }

    pub fn data_dir(mut self, dir: &Path) -> Self {
        self.data_dir = Some(dir.to_path_buf());
        self
    }

    pub fn env(mut self, key: &str, value: impl Into<String>) -> Self {
        self.env.push((key.to_owned(), value.into()));
        self
    }
}

/// One running app under WebDriver. Call [`Harness::shutdown`] at the end; dropping it still
/// stops the driver (and with it the app), but without closing the session cleanly.
pub struct Harness {
    pub client: Client,
    driver: Driver,
    /// Ends the session if it hangs (see [`process::Watchdog`]).
    watchdog: Watchdog,
    /// The renderer runs as shipped: screenshots need the page to keep painting.
    keep_painting: bool,
    data_dir: PathBuf,
    /// Owns the fresh data dir (when the test gave none) so it is removed on drop.
    _fresh: Option<tempfile::TempDir>,
    /// The session's own XDG data and cache homes (removed on drop), see [`Harness::start`].
    _xdg: tempfile::TempDir,
    artifacts: PathBuf,
}

impl Harness {
    /// Starts tauri-driver, opens a session on the app binary and waits for React to render.
    pub async fn start(opts: Options) -> Result<Harness> {
        require_display()?;
        let app = app_binary()?;
        let (data_dir, fresh) = match opts.data_dir {
            Some(dir) => (dir, None),
            None => {
                let t = tempfile::Builder::new()
                    .prefix("wxdesk-e2e-")
                    .tempdir()
                    .map_err(|e| Error::Io("creating the data dir".into(), e))?;
                (t.path().to_path_buf(), Some(t))
            }
        };
        let artifacts = artifacts_dir()?.join(&opts.name);
        std::fs::create_dir_all(&artifacts)
            .map_err(|e| Error::Io(format!("creating {}", artifacts.display()), e))?;

        // WebKit keeps the page's storage (localStorage: the saved language, the folded
        // sidebar) under the user's XDG data home, not in the app's data dir: each session gets
        // homes of its own, so one session's leftovers (a test that failed in English) cannot
        // decide how the next one starts, and the suite leaves the user's own app alone.
        let xdg = tempfile::Builder::new()
            .prefix("wxdesk-e2e-xdg-")
            .tempdir()
            .map_err(|e| Error::Io("creating the XDG homes".into(), e))?;
        let mut env = vec![
            (
                "WXDESK_DATA_DIR".to_owned(),
                data_dir.to_string_lossy().into_owned(),
            ),
            (
                "XDG_DATA_HOME".to_owned(),
                xdg.path().join("data").to_string_lossy().into_owned(),
            ),
            (
                "XDG_CACHE_HOME".to_owned(),
                xdg.path().join("cache").to_string_lossy().into_owned(),
            ),
        ];
        if !opts.renderer_as_shipped {
            env.push((DMABUF_VAR.to_owned(), "0".to_owned()));
        }
        env.extend(opts.env);
        let driver = Driver::spawn(&env).await?;
        let watchdog = Watchdog::arm(
            driver.pid(),
            process::session_limit(),
            format!("the `{}` session", opts.name),
        );

        let mut caps = serde_json::Map::new();
        caps.insert(
            "tauri:options".into(),
            serde_json::json!({ "application": app.to_string_lossy() }),
        );
        let client = ClientBuilder::native()
            .capabilities(caps)
            .connect(&driver.url())
            .await
            .map_err(|e| Error::Session(e.to_string()))?;
        let h = Harness {
            client,
            driver,
            watchdog,
            keep_painting: opts.renderer_as_shipped,
            data_dir,
            _fresh: fresh,
            _xdg: xdg,
            artifacts,
        };
        // Something rendered: the page itself decides what (the frame, or a first-run screen).
        h.wait_for("#root *").await?;
        if h.keep_painting {
            h.paint_ticker().await?;
        }
        Ok(h)
    }

    /// Keeps the page painting, in sessions with the renderer as shipped: a 1-px, see-through
    /// element in a corner changes colour 20 times a second. With the DMA-BUF renderer off and
    /// no GPU (Xvfb) WebKitGTK draws without compositing, and in that mode (2.50) a WebDriver
    /// screenshot is taken only after the page's next paint — on a page that holds still, never
    /// (the suite hung on its first screenshot). Idempotent: called at start and before each
    /// screenshot, so a reload cannot leave a screenshot waiting.
    async fn paint_ticker(&self) -> Result<()> {
        let script = "if (!window.__wxdeskPaintTicker) { \
            const d = document.createElement('div'); \
            d.setAttribute('aria-hidden', 'true'); \
            d.style.cssText = 'position:fixed;left:0;bottom:0;width:1px;height:1px;pointer-events:none;z-index:2147483647'; \
            document.documentElement.appendChild(d); let f = 0; \
            window.__wxdeskPaintTicker = setInterval(() => { \
              d.style.backgroundColor = (f++ % 2) ? 'rgba(0,0,0,0.01)' : 'rgba(0,0,0,0.02)'; }, 50); } \
            return true";
        self.client
            .execute(script, vec![])
            .await
            .map_err(|e| Error::WebDriver("starting the paint ticker".into(), e.to_string()))?;
        Ok(())
    }

    /// The processes this session's driver started, directly or not (Linux `/proc`): pid and
    /// command name (the app is `wxdesk`, its web processes `WebKitWebProces`).
    fn session_processes(&self) -> Vec<(u32, String)> {
        let Some(root) = self.driver.pid() else {
            return Vec::new();
        };
        let mut parent = std::collections::HashMap::new();
        let mut comm = std::collections::HashMap::new();
        for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
                continue;
            };
            // `pid (comm) state ppid …`; comm may hold spaces and parentheses.
            let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
                continue;
            };
            let ppid = stat[close + 1..]
                .split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<u32>().ok());
            if let Some(ppid) = ppid {
                parent.insert(pid, ppid);
                comm.insert(pid, stat[open + 1..close].to_owned());
            }
        }
        let descends = |mut pid: u32| {
            for _ in 0..16 {
                match parent.get(&pid) {
                    Some(&p) if p == root => return true,
                    Some(&p) if p > 1 => pid = p,
                    _ => return false,
                }
            }
            false
        };
        comm.into_iter().filter(|(pid, _)| descends(*pid)).collect()
    }

    /// The value of `var` in the environment of the app's WebKit web processes: what the app
    /// handed WebKit, including variables the app set for itself at start, which its own
    /// `/proc/PID/environ` does not show.
    pub fn web_process_env(&self, var: &str) -> Vec<Option<String>> {
        let prefix = format!("{var}=");
        self.session_processes()
            .into_iter()
            .filter(|(_, c)| c.starts_with("WebKitWebProces"))
            .map(|(pid, _)| {
                std::fs::read(format!("/proc/{pid}/environ"))
                    .ok()
                    .and_then(|env| {
                        env.split(|b| *b == 0)
                            .filter_map(|kv| std::str::from_utf8(kv).ok())
                            .find_map(|kv| kv.strip_prefix(&prefix).map(str::to_owned))
                    })
            })
            .collect()
    }

    /// The titles of the app's top-level X windows, as a window manager would show them
    /// (`_NET_WM_NAME`, read with x11-utils' `xwininfo` and `xprop`, which the setup script
    /// installs): WebDriver sees only the page's `document.title`. Windows of other processes on
    /// the display are left out (`_NET_WM_PID`); GTK's hidden leader window is among them.
    pub fn window_titles(&self) -> Result<Vec<String>> {
        let app: std::collections::HashSet<u32> = self
            .session_processes()
            .into_iter()
            .map(|(pid, _)| pid)
            .collect();
        let run = |args: &[&str]| -> Result<String> {
            let what = format!("running {args:?} (x11-utils: scripts/setup-system.sh)");
            let out = std::process::Command::new(args[0])
                .args(&args[1..])
                .output()
                .map_err(|e| Error::Io(what.clone(), e))?;
            if !out.status.success() {
                return Err(Error::Io(
                    what,
                    std::io::Error::other(String::from_utf8_lossy(&out.stderr).into_owned()),
                ));
            }
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        };
        let mut titles = Vec::new();
        for line in run(&["xwininfo", "-root", "-children"])?.lines() {
            let Some(id) = line
                .split_whitespace()
                .next()
                .filter(|w| w.starts_with("0x"))
            else {
                continue;
            };
            let props = run(&["xprop", "-id", id, "_NET_WM_PID", "_NET_WM_NAME"])?;
            let value = |name: &str| {
                props
                    .lines()
                    .find(|l| l.starts_with(name))
                    .and_then(|l| l.split_once(" = "))
                    .map(|(_, v)| v.trim().to_owned())
            };
            let pid = value("_NET_WM_PID").and_then(|p| p.parse::<u32>().ok());
            if pid.is_some_and(|p| app.contains(&p))
                && let Some(name) = value("_NET_WM_NAME")
            {
                titles.push(name.trim_matches('"').to_owned());
            }
        }
        Ok(titles)
    }

    /// The app's data directory (the test's, or a fresh one removed on drop).
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Where this test's screenshots go.
    pub fn artifacts(&self) -> &Path {
        &self.artifacts
    }

    /// Waits until an element matching `css` exists.
    pub async fn wait_for(&self, css: &str) -> Result<Element> {
        self.wait_for_locator(Locator::Css(css)).await
    }

    /// Waits until an element matching `locator` exists. Besides "no such element", the errors a
    /// page in motion gives are retried too: a node React replaced between WebDriver's match and
    /// its handle ("stale element"), and a navigation under the lookup ("Callback was not called
    /// before the unload event", while a page redirects). Any other error ends the wait.
    pub async fn wait_for_locator(&self, locator: Locator<'_>) -> Result<Element> {
        let deadline = tokio::time::Instant::now() + RENDER_TIMEOUT;
        loop {
            let last = match self.client.find(locator).await {
                Ok(el) => return Ok(el),
                Err(e) if e.is_no_such_element() || is_transient(&e) => e.to_string(),
                Err(e) => return Err(Error::NotFound(format!("{locator:?}"), e.to_string())),
            };
            if tokio::time::Instant::now() >= deadline {
                return Err(Error::NotFound(format!("{locator:?}"), last));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the element matching `css` has exactly `text` as its visible text.
    pub async fn wait_for_text(&self, css: &str, text: &str) -> Result<()> {
        let deadline = tokio::time::Instant::now() + RENDER_TIMEOUT;
        let mut last = String::new();
        loop {
            if let Ok(el) = self.client.find(Locator::Css(css)).await {
                last = el.text().await.unwrap_or_default();
                if last.trim() == text {
                    return Ok(());
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(Error::TextMismatch {
                    css: css.to_owned(),
                    want: text.to_owned(),
                    got: last,
                });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the text of `css` contains `want` (data that loads after the page renders);
    /// returns the text.
    pub async fn wait_for_contains(&self, css: &str, want: &str) -> Result<String> {
        let deadline = tokio::time::Instant::now() + RENDER_TIMEOUT * 2;
        let mut last = String::new();
        loop {
            if let Ok(el) = self.client.find(Locator::Css(css)).await {
                last = el.text().await.unwrap_or_default();
                if last.contains(want) {
                    return Ok(last);
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(Error::TextMismatch {
                    css: css.to_owned(),
                    want: format!("…{want}…"),
                    got: last,
                });
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Waits until no element matches `css` (a banner that clears itself), for up to `within`;
    /// returns the text it last showed as the error otherwise.
    pub async fn wait_gone(&self, css: &str, within: Duration) -> Result<()> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let last = match self.client.find(Locator::Css(css)).await {
                Err(e) if e.is_no_such_element() => return Ok(()),
                Err(e) if is_transient(&e) => String::new(),
                Err(e) => {
                    return Err(Error::WebDriver(
                        format!("looking for {css}"),
                        e.to_string(),
                    ));
                }
                Ok(el) => el.text().await.unwrap_or_default(),
            };
            if tokio::time::Instant::now() >= deadline {
                return Err(Error::TextMismatch {
                    css: css.to_owned(),
                    want: "(gone)".into(),
                    got: last,
                });
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Waits until the app's (hash) route is `path`, e.g. `/accounts/authorize`.
    pub async fn wait_for_route(&self, path: &str) -> Result<()> {
        let want = format!("#{path}");
        let deadline = tokio::time::Instant::now() + RENDER_TIMEOUT;
        let mut last = String::new();
        loop {
            if let Ok(url) = self.client.current_url().await {
                if url.fragment().map(|f| format!("#{f}")).as_deref() == Some(want.as_str()) {
                    return Ok(());
                }
                last = url.to_string();
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(Error::TextMismatch {
                    css: "location".into(),
                    want,
                    got: last,
                });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The visible text of the first element matching `css` (waiting for it to exist).
    pub async fn text(&self, css: &str) -> Result<String> {
        let el = self.wait_for(css).await?;
        el.text()
            .await
            .map_err(|e| Error::WebDriver(format!("reading text of {css}"), e.to_string()))
    }

    /// Clicks the first element matching `css`, waiting for it to exist and to take the click:
    /// while a closing drawer's or modal's mask still covers it, WebDriver refuses the click
    /// ("element click intercepted"), so it is retried until the render timeout.
    pub async fn click(&self, css: &str) -> Result<()> {
        let deadline = tokio::time::Instant::now() + RENDER_TIMEOUT;
        loop {
            let el = self.wait_for(css).await?;
            match el.click().await {
                Ok(()) => return Ok(()),
                Err(_) if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => {
                    return Err(Error::WebDriver(format!("clicking {css}"), e.to_string()));
                }
            }
        }
    }

    /// Clicks the open Select dropdown's option whose text contains `text`, found by its text
    /// (the option markup differs between antd majors): the last leaf element outside a form
    /// holding it.
    pub async fn pick_option(&self, text: &str) -> Result<()> {
        const JS: &str = "const t = arguments[0];\
            const leaves = Array.from(document.querySelectorAll('body *')).filter(e =>\
              e.children.length === 0 && e.textContent.includes(t) && !e.closest('form'));\
            const el = leaves[leaves.length - 1];\
            if (!el) return false;\
            el.click();\
            return true;";
        let deadline = tokio::time::Instant::now() + RENDER_TIMEOUT;
        loop {
            let clicked = self
                .client
                .execute(JS, vec![serde_json::Value::String(text.to_owned())])
                .await
                .map_err(|e| Error::WebDriver("choosing an option".into(), e.to_string()))?;
            if clicked == serde_json::Value::Bool(true) {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(Error::TextMismatch {
                    css: "select option".into(),
                    want: text.into(),
                    got: String::new(),
                });
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Waits until no Select dropdown is open and no animation runs.
    pub async fn settle(&self) -> Result<()> {
        const JS: &str = "return document.querySelectorAll(\
              '.ant-select-dropdown:not(.ant-select-dropdown-hidden)').length === 0\
            && document.getAnimations().every(a => a.playState !== 'running');";
        let deadline = tokio::time::Instant::now() + RENDER_TIMEOUT;
        loop {
            let settled = self.client.execute(JS, vec![]).await.map_err(|e| {
                Error::WebDriver("waiting for the page to settle".into(), e.to_string())
            })?;
            if settled == serde_json::Value::Bool(true) {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(Error::NotFound(
                    "a settled page".into(),
                    "a dropdown or an animation is still running".into(),
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The visible buttons inside `scope` (a CSS selector) whose boxes overlap another's, as
    /// "label / label" pairs, and how many visible buttons there were (a layout check: labels
    /// that grow, e.g. in English, must wrap or shrink, not slide under their neighbours).
    pub async fn overlapping_buttons(&self, scope: &str) -> Result<(u64, Vec<String>)> {
        const JS: &str = r#"const bs = [...document.querySelectorAll(arguments[0] + ' button')]
                 .filter(b => b.offsetParent !== null).map(b => [b.innerText, b.getBoundingClientRect()]);
               const out = [];
               for (let i = 0; i < bs.length; i++) for (let j = i + 1; j < bs.length; j++) {
                 const [ta, a] = bs[i], [tb, b] = bs[j];
                 if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1)
                   out.push(ta + ' / ' + tb);
               }
               return [bs.length, out];"#;
        let found = self
            .client
            .execute(JS, vec![serde_json::json!(scope)])
            .await
            .map_err(|e| Error::WebDriver("measuring buttons".into(), e.to_string()))?;
        let count = found[0].as_u64().unwrap_or(0);
        let pairs = found[1]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        Ok((count, pairs))
    }

    /// Saves a PNG of the main window as `<artifacts>/<label>.png`, prints and returns its path.
    /// Waits for running CSS transitions first, so the picture shows the settled state (e.g. the
    /// newly selected menu item) rather than a frame of the animation.
    pub async fn screenshot(&self, label: &str) -> Result<PathBuf> {
        self.wait_for_animations().await;
        if self.keep_painting {
            self.paint_ticker().await?;
        }
        let png = self
            .client
            .screenshot()
            .await
            .map_err(|e| Error::WebDriver("taking a screenshot".into(), e.to_string()))?;
        let path = self.artifacts.join(format!("{label}.png"));
        std::fs::write(&path, png)
            .map_err(|e| Error::Io(format!("writing {}", path.display()), e))?;
        // Straight to stderr, not println!: libtest would hide it for a passing test.
        let _ = writeln!(std::io::stderr(), "screenshot: {}", path.display());
        Ok(path)
    }

    /// Polls until no Web Animation (CSS transitions included) is running; gives up quietly after
    /// a few seconds, since an endless animation (a spinner) must not block a screenshot.
    async fn wait_for_animations(&self) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
        let script =
            "return document.getAnimations().filter(a => a.playState === 'running').length";
        while tokio::time::Instant::now() < deadline {
            match self.client.execute(script, vec![]).await {
                Ok(v) if v.as_u64() == Some(0) => return,
                Ok(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                Err(_) => return,
            }
        }
    }

    /// The app's log file (the app's stdout is swallowed by WebKitWebDriver).
    pub fn app_log(&self) -> String {
        std::fs::read_to_string(self.data_dir.join("logs").join("wxdesk.log")).unwrap_or_default()
    }

    /// Ends the session (WebKitWebDriver then stops the app) and stops tauri-driver.
    pub async fn shutdown(self) {
        let Harness {
            client,
            driver,
            watchdog,
            ..
        } = self;
        let _ = client.close().await;
        watchdog.disarm();
        driver.stop().await;
    }
}

/// A WebDriver error a page in motion gives that a second look clears: the matched node was
/// replaced before its handle was made, or the page navigated under the command.
pub fn is_transient(e: &fantoccini::error::CmdError) -> bool {
    let text = e.to_string();
    text.contains("Stale element")
        || text.contains("stale element")
        || text.contains("before the unload event")
}

/// The suite runs in CI under Xvfb; without a display it must fail with the fix, not skip.
fn require_display() -> Result<()> {
    if cfg!(target_os = "linux")
        && std::env::var_os("DISPLAY").is_none()
        && std::env::var_os("WAYLAND_DISPLAY").is_none()
    {
        return Err(Error::NoDisplay);
    }
    Ok(())
}
