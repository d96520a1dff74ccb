//! Setup shared by the e2e tests that need an authorized sandbox account before the window opens.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use tempfile::TempDir;
use wxdesk_core::auth::AuthScope;
use wxdesk_core::context::Context;
use wxdesk_core::secrets::Secret;
use wxdesk_e2e::{Error, Harness, Options, Result};

/// Sandbox mode saved in the data dir's settings and keychain, as 「体验沙箱」 does; the servers it
/// starts stop again at once (the app starts its own on the same ports).
async fn prepare_sandbox(dir: &Path) {
    let ctx = Context::open(dir).await.expect("open the data dir");
    let sb = wxdesk_core::sandbox::start_sandbox(&ctx.platform, dir)
        .await
        .expect("sandbox settings");
    sb.shutdown().await;
}

/// The app started as `name` on a fresh data dir already in sandbox mode (the app starts its own
/// sandbox on the saved ports). The dir is removed when the returned [`TempDir`] drops, so keep it
/// for as long as the app runs.
pub async fn start_in_sandbox(name: &str) -> Result<(TempDir, Harness)> {
    let dir = tempfile::Builder::new()
        .prefix(&format!("wxdesk-e2e-{name}-"))
        .tempdir()
        .map_err(|e| Error::Io("creating the data dir".into(), e))?;
    prepare_sandbox(dir.path()).await;
    let h = Harness::start(Options::new(name).data_dir(dir.path())).await?;
    Ok((dir, h))
}

/// The sim's first verified official account, authorized into a sandbox data dir.
// Every test file compiles this module on its own and reads only the fields it needs.
#[allow(dead_code)]
pub struct SimAccount {
    /// The data dir's context the account was stored through.
    pub ctx: Context,
    /// The app's sandbox sim, as its saved settings name it.
    pub sim_url: String,
    pub appid: String,
    /// The account as the sim's `/__sim/state` lists it.
    pub state: Value,
}

/// Opens the data dir (already in sandbox mode, see [`start_in_sandbox`]), finds the sim's first
/// verified service account in `/__sim/state` and authorizes it through the app's own sim, the way
/// the admin's scan would.
pub async fn authorize_verified_account(dir: &Path, http: &reqwest::Client) -> SimAccount {
    let ctx = Context::open(dir).await.expect("open the data dir");
    let sim_url = ctx
        .platform
        .load_settings()
        .await
        .expect("settings")
        .settings
        .expect("sandbox settings saved")
        .api_base;
    authorize_verified_account_at(ctx, http, sim_url).await
}

/// As [`authorize_verified_account`], with the sim named (a production data dir's settings name
/// WeChat, or the relay, not the sim).
pub async fn authorize_verified_account_at(
    ctx: Context,
    http: &reqwest::Client,
    sim_url: String,
) -> SimAccount {
    let world = get_json(http, &format!("{sim_url}/__sim/state")).await;
    let state = world["accounts"]
        .as_array()
        .and_then(|a| {
            a.iter()
                .find(|a| a["kind"] == "service" && a["verified"] == true)
                .cloned()
        })
        .expect("the sim's world has a verified official account");
    let appid = state["appid"].as_str().expect("appid").to_owned();
    authorize_through_sim(&ctx, http, &sim_url, &appid, AuthScope::Oa).await;
    SimAccount {
        ctx,
        sim_url,
        appid,
        state,
    }
}

/// What a scanning admin does, through the app's own core: a pre_auth_code from the app's sandbox
/// (retried until the sim's first ticket has reached the relay), 授权 on the sim for `appid`, and
/// the code completed into the app's store and keychain.
pub async fn authorize_through_sim(
    ctx: &Context,
    http: &reqwest::Client,
    sim_url: &str,
    appid: &str,
    scope: AuthScope,
) {
    let mut start = None;
    for _ in 0..60 {
        match ctx
            .authorizer
            .begin_authorization(scope, false, Some(appid))
            .await
        {
            Ok(s) => {
                start = Some(s);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    }
    let start = start.expect("a pre_auth_code from the app's sandbox");
    let answer: Value = http
        .post(format!("{sim_url}/__sim/authorize"))
        .json(&serde_json::json!({
            "pre_auth_code": start.pre_auth_code,
            "authorizer_appid": appid,
        }))
        .send()
        .await
        .expect("sim authorize")
        .json()
        .await
        .expect("sim authorize JSON");
    let code = answer["auth_code"].as_str().expect("auth_code").to_owned();
    // The sim also pushes `authorized` through the relay, and the running app's feed may redeem
    // the code first (a code works once: 61009 for the second taker). Either way the account
    // must end up stored, with its refresh token, in the app's data dir.
    if let Err(e) = ctx
        .authorizer
        .complete_authorization(&Secret::new(code))
        .await
    {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let stored = ctx.accounts.show(appid).await.ok();
            if stored.is_some_and(|a| a.has_refresh_token) {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{appid} was never stored (our own redemption failed: {e})"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// A GET to the sim's test routes, as JSON.
pub async fn get_json(http: &reqwest::Client, url: &str) -> Value {
    http.get(url)
        .send()
        .await
        .expect("sim reachable")
        .json()
        .await
        .expect("sim answers JSON")
}

/// A WebDriver failure, saying what the test was doing.
pub fn wd(what: &str) -> impl FnOnce(fantoccini::error::CmdError) -> Error + '_ {
    move |e| Error::WebDriver(what.to_owned(), e.to_string())
}

/// Waits until the text of `css` contains `want`; returns the text.
pub async fn wait_for_contains(h: &Harness, css: &str, want: &str) -> Result<String> {
    h.wait_for_contains(css, want).await
}

/// Types into an input the way a user does: selects what is there, then types (WebDriver's
/// clear() would bypass React's onChange and leave the form's value in place).
// Not every test file types into a form.
#[allow(dead_code)]
pub async fn fill(h: &Harness, css: &str, text: &str) -> Result<()> {
    let el = h.wait_for(css).await?;
    h.client
        .execute(
            "document.querySelector(arguments[0]).select();",
            vec![serde_json::json!(css)],
        )
        .await
        .map_err(wd("selecting an input's text"))?;
    el.send_keys(text).await.map_err(wd("typing"))
}

/// Chinese characters (and full-width punctuation) in `text` once the user's own data (account
/// names, template titles, values typed) is taken out: what an English screen must not show.
// Not every test file has an English pass.
#[allow(dead_code)]
pub fn chinese_outside(text: &str, user_data: &[&str]) -> Vec<char> {
    let mut rest = text.to_string();
    for d in user_data {
        rest = rest.replace(d, "");
    }
    rest.chars()
        .filter(|c| ('\u{3000}'..='\u{9fff}').contains(c) || ('\u{ff00}'..='\u{ffef}').contains(c))
        .collect()
}
