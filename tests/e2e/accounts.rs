//! A new user's first journey: fresh data dir → 体验沙箱 → 检测连接 → 授权账号 in the embedded
//! `auth` window (driving the simulator's login page) → the account card and table row with the
//! sim's nickname; then a revocation at the sim shows 已取消授权 live; finally no secret the
//! journey handled is anywhere in the data dir.

use std::path::Path;
use std::time::Duration;

use fantoccini::Locator;
use wxdesk_e2e::{Error, Harness, Options, RENDER_TIMEOUT, Result};

fn wd(what: &str) -> impl FnOnce(fantoccini::error::CmdError) -> Error + '_ {
    move |e| Error::WebDriver(what.into(), e.to_string())
}

/// The sim's base URL from the app's log line `sandbox running sim_url=…`.
fn sim_url_from_log(log: &str) -> Option<String> {
    log.lines()
        .filter(|l| l.contains("sandbox running"))
        .find_map(|l| {
            let rest = &l[l.find("sim_url=")? + "sim_url=".len()..];
            Some(rest.split_whitespace().next()?.to_owned())
        })
}

async fn sim_state(sim: &str) -> serde_json::Value {
    reqwest::get(format!("{sim}/__sim/state"))
        .await
        .expect("sim state")
        .json()
        .await
        .expect("sim state json")
}

async fn wait_until<F: AsyncFnMut() -> bool>(what: &str, mut f: F) {
    let deadline = tokio::time::Instant::now() + RENDER_TIMEOUT;
    while !f().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Every file under `dir`, recursively.
fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// Presses 在本机扫码 on the wizard, picks the first account on the sim's login page in the
/// embedded window, and waits until the app has taken the code and closed the window; returns
/// the appid chosen.
async fn authorize_in_window(
    h: &Harness,
    main: &fantoccini::wd::WindowHandle,
    shot: &str,
) -> Result<String> {
    h.click("[data-testid=authorize-local]").await?;

    let mut auth = None;
    wait_until("the auth window opens", async || {
        let handles = h.client.windows().await.unwrap_or_default();
        auth = handles.into_iter().find(|w| w != main);
        auth.is_some()
    })
    .await;
    let auth = auth.expect("auth window");
    h.client
        .switch_to_window(auth)
        .await
        .map_err(wd("switching to the auth window"))?;
    // The relay's page leads on to the sim's login page, with one button per account.
    let button = h.wait_for("button[id^=authorize-]").await?;
    let id = button
        .attr("id")
        .await
        .map_err(wd("button id"))?
        .unwrap_or_default();
    let appid = id.trim_start_matches("authorize-").to_owned();
    // The harness's screenshot keeps the window it is in painting (see `Harness::screenshot`).
    h.screenshot(shot).await?;
    button.click().await.map_err(wd("clicking 授权"))?;

    // The app captures the redirect and closes the window.
    wait_until("the auth window closes", async || {
        h.client
            .windows()
            .await
            .map(|w| w.len() == 1)
            .unwrap_or(false)
    })
    .await;
    h.client
        .switch_to_window(main.clone())
        .await
        .map_err(wd("back to the main window"))?;

    Ok(appid)
}

#[tokio::test]
async fn new_user_tries_the_sandbox_authorizes_an_account_and_sees_it_revoked() -> Result<()> {
    let dir = tempfile::tempdir().expect("temp dir");
    let h = Harness::start(Options::new("accounts").data_dir(dir.path())).await?;

    // (a) First start: the welcome offers the sandbox; the badge says nothing is configured.
    h.wait_for("[data-testid=mode-badge][data-mode=unconfigured]")
        .await?;
    h.screenshot("00-start").await?;
    h.wait_for("[data-testid=welcome]").await?;
    h.wait_for_text("[data-testid=start-sandbox]", "体验沙箱")
        .await?;
    h.screenshot("01-welcome").await?;
    h.click("[data-testid=start-sandbox]").await?;
    h.wait_for("[data-testid=sandbox-ready]").await?;
    h.wait_for("[data-testid=mode-badge][data-mode=sandbox]")
        .await?;
    h.screenshot("02-sandbox-ready").await?;
    let sim = sim_url_from_log(&h.app_log()).expect("the app logs the sandbox's sim URL");

    // 设置: the connection check passes every step against the sandbox.
    h.click("[data-testid=nav-settings]").await?;
    // The check runs on opening 设置; 检测连接 runs it again. Its summary is drawn from the
    // same steps as the list below it.
    h.wait_for("[data-testid=check-summary][data-ok='1']")
        .await?;
    h.click("[data-testid=check-connection]").await?;
    let summary = h
        .wait_for_contains("[data-testid=check-summary][data-ok='1']", "全部通过")
        .await?;
    let steps = h
        .client
        .find_all(Locator::Css("[data-testid=check-step]"))
        .await
        .map_err(wd("listing check steps"))?;
    let mut oks = Vec::new();
    for s in &steps {
        oks.push(s.attr("data-ok").await.map_err(wd("step result"))?);
    }
    h.screenshot("03-settings-check").await?;
    assert!(!oks.is_empty(), "the check shows its steps");
    assert!(
        oks.iter().all(|o| o.as_deref() == Some("1")),
        "every step passes against the sandbox: {oks:?}"
    );
    assert!(
        summary.contains(&format!("{} 项检测全部通过", oks.len())),
        "{summary:?}"
    );

    // 保存 of a real platform checks the form first: with a relay nobody listens on, it says
    // which step failed and saves nothing — the mode badge stays 沙箱.
    for (field, value) in [
        ("component_appid", "wx0123456789abcdef"),
        ("component_appsecret", "a-real-platform-secret"),
        ("relay_url", "http://127.0.0.1:9"),
        ("relay_key", "relay-key-for-a-relay-not-running"),
    ] {
        h.wait_for(&format!("[data-testid=input-{field}]"))
            .await?
            .send_keys(value)
            .await
            .map_err(wd("typing a setting"))?;
    }
    h.click("[data-testid=save]").await?;
    let refused = h
        .wait_for_contains("[data-testid=settings-check-failed]", "设置尚未保存")
        .await?;
    assert!(
        refused.contains("127.0.0.1:9") && refused.contains("中继"),
        "names the relay it could not reach: {refused:?}"
    );
    h.screenshot("03b-settings-check-failed").await?;
    h.wait_for("[data-testid=mode-badge][data-mode=sandbox]")
        .await?;
    h.click("[data-testid=settings-back]").await?;
    h.wait_gone("[data-testid=settings-check-failed]", RENDER_TIMEOUT)
        .await?;

    // 授权账号: empty table → wizard → the embedded window.
    h.click("[data-testid=nav-accounts]").await?;
    h.wait_for("[data-testid=empty-action-accounts]").await?;
    h.click("[data-testid=empty-action-accounts]").await?;
    h.click("[data-testid=begin-authorization]").await?;
    h.wait_for("[data-testid=mobile-qr]").await?;
    h.screenshot("04-wizard").await?;
    let main = h.client.window().await.map_err(wd("main window"))?;
    let appid = authorize_in_window(&h, &main, "05-auth-window").await?;

    let state = sim_state(&sim).await;
    let nickname = state["accounts"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["appid"] == appid.as_str()))
        .and_then(|x| x["nickname"].as_str())
        .expect("the sim knows the account")
        .to_owned();
    h.wait_for("[data-testid=account-card]").await?;
    assert_eq!(h.text("[data-testid=account-card-name]").await?, nickname);
    h.screenshot("06-authorized-card").await?;

    h.click("[data-testid=nav-accounts]").await?;
    let row = format!("[data-testid=accounts-table] tr[data-appid={appid}]");
    h.wait_for_text(&format!("{row} [data-testid=account-name]"), &nickname)
        .await?;
    assert_eq!(
        h.text(&format!("{row} [data-testid=account-status]"))
            .await?,
        "已授权"
    );
    h.screenshot("07-accounts").await?;

    // (b) The admin cancels at WeChat: the row turns 已取消授权 without a reload.
    let revoked = reqwest::Client::new()
        .post(format!("{sim}/__sim/revoke"))
        .json(&serde_json::json!({ "authorizer_appid": appid }))
        .send()
        .await
        .expect("revoke");
    assert_eq!(revoked.status(), 200);
    h.wait_for_text(&format!("{row} [data-testid=account-status]"), "已取消授权")
        .await?;
    h.screenshot("08-revoked").await?;

    // (c) Authorizing again starts logged out: the WeChat login page of the second attempt is
    // asked for without the session cookie the first one set.
    h.click("[data-testid=authorize-new]").await?;
    h.click("[data-testid=begin-authorization]").await?;
    h.wait_for("[data-testid=mobile-qr]").await?;
    authorize_in_window(&h, &main, "09-auth-window-again").await?;
    h.wait_for("[data-testid=account-card]").await?;
    h.click("[data-testid=nav-accounts]").await?;
    h.wait_for_text(&format!("{row} [data-testid=account-status]"), "已授权")
        .await?;
    let pages = &sim_state(&sim).await["login_pages"];
    assert_eq!(pages["served"], 2, "{pages}");
    assert_eq!(
        pages["with_session_cookie"], 0,
        "the second authorization must not carry the first one's WeChat login: {pages}"
    );

    // (d) No secret the journey handled is in the data dir (SQLite bytes, logs, relay files).
    let ctx = wxdesk_core::context::Context::open(dir.path())
        .await
        .expect("open the data dir");
    use wxdesk_core::secrets::SecretKey;
    let relay_key = ctx
        .platform
        .secrets()
        .get(SecretKey::RelayKey)
        .await
        .expect("keychain");
    let relay_key = relay_key.expect("the sandbox saved a relay key");
    let mut secrets = vec![
        (
            "appsecret",
            wxdesk_sim::SANDBOX_COMPONENT_APPSECRET.to_owned(),
        ),
        ("token", wxdesk_sim::SANDBOX_COMPONENT_TOKEN.to_owned()),
        ("aes key", wxdesk_sim::SANDBOX_COMPONENT_AES_KEY.to_owned()),
        ("relay key", relay_key.expose().to_owned()),
    ];
    // The refresh token was dropped at the revocation; if it is still there it must not leak.
    if let Ok(Some(rt)) = ctx
        .platform
        .secrets()
        .get(SecretKey::RefreshToken(appid.clone()))
        .await
    {
        secrets.push(("refresh token", rt.expose().to_owned()));
    }
    h.shutdown().await;

    let mut all = Vec::new();
    files(dir.path(), &mut all);
    assert!(!all.is_empty());
    for f in &all {
        let bytes = std::fs::read(f).unwrap_or_default();
        for (name, s) in &secrets {
            let found = bytes.windows(s.len()).any(|w| w == s.as_bytes());
            assert!(!found, "the {name} is in {}", f.display());
        }
    }
    Ok(())
}

/// #16: a data dir switched from the sandbox to a real platform keeps the sandbox's account as
/// an archive — listed apart, marked 沙箱, never 已授权 — and 设置 removes it only when the
/// user confirms; the real platform's account stays.
#[tokio::test]
async fn the_sandboxs_accounts_after_a_switch_are_an_archive_removed_only_when_asked() -> Result<()>
{
    use wxdesk_core::platform::{Egress, Mode, SettingsInput};
    use wxdesk_core::secrets::Secret;

    const REAL_PLATFORM: &str = "wx0123456789abcdef";
    const REAL_OA: &str = "wx9999888877776666";
    let sandbox_oa = wxdesk_sim::world::World::generate(1, 5, 1, 0).accounts[0]
        .appid
        .clone();
    let dir = tempfile::tempdir().expect("temp dir");
    {
        let ctx = wxdesk_core::context::Context::open(dir.path())
            .await
            .expect("open the data dir");
        ctx.platform
            .save_settings(SettingsInput {
                mode: Mode::Production,
                component_appid: REAL_PLATFORM.into(),
                // Nothing listens there: the frame says so, the accounts are local.
                relay_url: "http://127.0.0.1:9".into(),
                egress: Egress::Direct,
                api_base: None,
                component_appsecret: Some(Secret::new("0123456789abcdef0123456789abcdef")),
                component_token: None,
                component_aes_key: None,
                relay_key: Some(Secret::new("e2e-archive-relay-key")),
            })
            .await
            .expect("production settings");
        // Both named alike, as the sandbox's and the real account were in the report.
        let ids = [
            (sandbox_oa.clone(), wxdesk_sim::SANDBOX_COMPONENT_APPID),
            (REAL_OA.to_owned(), REAL_PLATFORM),
        ];
        ctx.platform
            .store()
            .call(move |c| {
                for (appid, platform) in &ids {
                    c.execute(
                        "INSERT INTO accounts (appid, kind, nickname, status, authorized_at, \
                         updated_at, component_appid, service_type, verify_type) \
                         VALUES (?1, 'oa', '星辰服务号', 'authorized', 1, 1, ?2, 2, 0)",
                        [appid.as_str(), *platform],
                    )?;
                }
                Ok(())
            })
            .await
            .expect("accounts");
    }
    let h = Harness::start(Options::new("accounts-archive").data_dir(dir.path())).await?;
    // The window's language is the web view's, kept across runs: start from Chinese.
    h.click("[data-testid=lang-zh-CN]").await?;
    h.wait_for("[data-testid=mode-badge][data-mode=production]")
        .await?;

    h.click("[data-testid=nav-accounts]").await?;
    h.wait_for(&format!(
        "[data-testid=accounts-table] tr[data-appid={REAL_OA}]"
    ))
    .await?;
    let archived = format!("[data-testid=archived-accounts] tr[data-appid={sandbox_oa}]");
    h.wait_for_text(&format!("{archived} [data-testid=sandbox-tag]"), "沙箱")
        .await?;
    assert_eq!(
        h.text(&format!("{archived} [data-testid=account-status]"))
            .await?,
        "存档 · 不可用"
    );
    assert!(
        h.client
            .find_all(Locator::Css(&format!(
                "[data-testid=accounts-table] tr[data-appid={sandbox_oa}]"
            )))
            .await
            .map_err(wd("the usable accounts"))?
            .is_empty(),
        "the sandbox's account is not among the usable ones"
    );
    h.screenshot("archive-01-accounts").await?;
    // #16 point 2: nothing listens at the relay's address, and the frame says so with what to do
    // and the real cause (host and error), not only a log line.
    let banner = h
        .wait_for_contains("[data-testid=feed-banner-relay]", "无法连接中继")
        .await?;
    assert!(
        banner.contains("127.0.0.1:9") && banner.contains("检查中继地址"),
        "the banner names the host and what to check: {banner:?}"
    );

    // #16 point 5 with data on the page — both tables, the 沙箱 / 其他平台 tags, the banner for
    // the unreachable relay: in English at 1024 px its buttons do not overlap and nothing but
    // the accounts' own names (and the language switch's 中文) is Chinese.
    h.click("[data-testid=lang-en]").await?;
    h.wait_for_text("[data-testid=nav-overview]", "Overview")
        .await?;
    h.client
        .set_window_size(1024, 768)
        .await
        .map_err(|e| Error::WebDriver("resizing".into(), e.to_string()))?;
    h.wait_for(&format!("{archived} [data-testid=sandbox-tag]"))
        .await?;
    h.settle().await?;
    let (buttons, overlaps) = h.overlapping_buttons("[data-testid=page-accounts]").await?;
    h.screenshot("archive-01-accounts-en-1024").await?;
    h.wait_for_contains(
        "[data-testid=feed-banner-relay]",
        "The relay cannot be reached",
    )
    .await?;
    assert!(
        overlaps.is_empty(),
        "buttons overlap on the English accounts page at 1024 px: {overlaps:?}"
    );
    assert!(
        buttons >= 2,
        "the accounts page shows its buttons ({buttons})"
    );
    let shown = h
        .text("body")
        .await?
        .replace("星辰服务号", "")
        // The avatar's initial when there is no picture: data too.
        .replace('星', "")
        .replace("中文", "");
    let cjk: String = shown
        .chars()
        .filter(|c| ('\u{3000}'..='\u{9fff}').contains(c) || ('\u{ff00}'..='\u{ffef}').contains(c))
        .collect();
    assert!(
        cjk.is_empty(),
        "Chinese on the English accounts page ({cjk}): {shown}"
    );
    h.client
        .set_window_size(1280, 800)
        .await
        .map_err(|e| Error::WebDriver("resizing".into(), e.to_string()))?;
    h.click("[data-testid=lang-zh-CN]").await?;
    h.wait_for_text("[data-testid=nav-overview]", "概览")
        .await?;

    h.click("[data-testid=nav-settings]").await?;
    h.wait_for_contains("[data-testid=sandbox-archive]", "1 个沙箱账号")
        .await?;
    h.click(&format!(
        "[data-testid=purge-archive-{}]",
        wxdesk_sim::SANDBOX_COMPONENT_APPID
    ))
    .await?;
    h.wait_for_contains(".ant-popconfirm", "删除 1 个存档账号")
        .await?;
    h.screenshot("archive-02-confirm").await?;
    h.click(".ant-popconfirm .ant-btn-primary").await?;
    h.wait_gone("[data-testid=sandbox-archive]", RENDER_TIMEOUT)
        .await?;

    h.click("[data-testid=nav-accounts]").await?;
    h.wait_for(&format!(
        "[data-testid=accounts-table] tr[data-appid={REAL_OA}]"
    ))
    .await?;
    h.wait_gone("[data-testid=archived-accounts]", RENDER_TIMEOUT)
        .await?;
    h.screenshot("archive-03-removed").await?;
    h.shutdown().await;

    let ctx = wxdesk_core::context::Context::open(dir.path())
        .await
        .expect("open the data dir");
    let left: Vec<String> = ctx
        .accounts
        .list()
        .await
        .expect("accounts")
        .into_iter()
        .map(|a| a.appid)
        .collect();
    assert_eq!(left, [REAL_OA], "only the sandbox's account was removed");
    Ok(())
}
