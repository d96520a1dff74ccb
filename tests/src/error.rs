//! The harness's one error type: each variant says what to do about it.

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "no display: run the e2e suite under Xvfb, e.g. `xvfb-run -a cargo test -p wxdesk-e2e -- --test-threads=1`"
    )]
    NoDisplay,
    #[error(
        "app binary not found at {0}: build it with `cargo build -p wxdesk` \
         (after `npm ci && npm run build` in ui/), or point WXDESK_APP_BIN at it"
    )]
    NoApp(String),
    #[error(
        "tauri-driver not found ({0}): install it with `cargo install tauri-driver --locked --version ^2`, \
         or point WXDESK_TAURI_DRIVER at it"
    )]
    NoDriver(String),
    #[error(
        "tauri-driver did not listen on {0} in time (is WebKitWebDriver installed? apt: webkit2gtk-driver)"
    )]
    DriverNotReady(String),
    #[error("could not open a WebDriver session on the app: {0}")]
    Session(String),
    #[error("element `{0}` did not appear: {1}")]
    NotFound(String, String),
    #[error("`{css}` shows {got:?}, expected {want:?}")]
    TextMismatch {
        css: String,
        want: String,
        got: String,
    },
    #[error("WebDriver failed {0}: {1}")]
    WebDriver(String, String),
    #[error("{0}: {1}")]
    Io(String, #[source] std::io::Error),
}

pub type Result<T> = std::result::Result<T, Error>;
