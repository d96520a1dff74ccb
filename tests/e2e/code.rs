//! 小程序代码 as an operator uses it: three clients' mini programs listed by name, the platform's
//! template library, and a rollout of one template to the three from the page — its progress
//! visible while WeChat reviews (each review delayed once, then approved) — until every client is
//! released; the simulator's `/__sim/state` is the judge of what was committed, reviewed and
//! released. Then the same page in English, with no Chinese on it besides the clients' own data.
//!
//! The app's built-in sandbox has two mini programs (the default world), so the test runs its own
//! sandbox (sim + relay on loopback, eight accounts: three mini programs, already authorized) and
//! hands it to the app as a platform on loopback, the way a staff member points the app at a
//! real one. The app follows that relay, so the audit pushes reach the app's rollout.

use std::collections::HashSet;
use std::time::Duration;

use fantoccini::Locator;
use serde_json::Value;
use wxdesk_core::code::{DomainAction, ServerDomains};
use wxdesk_core::context::Context;
use wxdesk_core::platform::{Egress, Mode, SettingsInput};
use wxdesk_core::sandbox::{Sandbox, start_sandbox_with};
use wxdesk_e2e::{Error, Harness, Options, RENDER_TIMEOUT, Result};
use wxdesk_sim::SimConfig;
use wxdesk_sim::world::{Kind, World};

/// The version the rollout brings (the template's own is replaced, as staff number releases).
const VERSION: &str = "2.6.0";
/// Each client's review is delayed once by the sim before it passes (`sim_audit`), so the
/// rollout shows more than one state on its way.
const BASE_EXT: &str = r#"{"extEnable": true, "sim_audit": "delay", "ext": {"brand": "wxdesk"}}"#;

/// Chinese characters and full-width punctuation.
fn cjk(c: char) -> bool {
    ('\u{3000}'..='\u{9fff}').contains(&c) || ('\u{ff00}'..='\u{ffef}').contains(&c)
}

/// A WebDriver failure, saying what the test was doing.
fn wd(what: &str) -> impl FnOnce(fantoccini::error::CmdError) -> Error + '_ {
    move |e| Error::WebDriver(what.to_owned(), e.to_string())
}

struct Platform {
    dir: tempfile::TempDir,
    ctx: Context,
    sandbox: Sandbox,
    /// (appid, nickname) of the three mini programs.
    minis: Vec<(String, String)>,
}

/// A sandbox of eight accounts whose three mini programs are authorized into a fresh data dir,
/// then saved as the data dir's platform (production mode on loopback): the app started on the
/// dir talks to this sim and follows this relay instead of starting a sandbox of its own.
async fn prepare() -> Platform {
    let dir = tempfile::Builder::new()
        .prefix("wxdesk-e2e-code-")
        .tempdir()
        .expect("data dir");
    let ctx = Context::open(dir.path()).await.expect("open the data dir");
    let cfg = SimConfig {
        accounts: 8,
        followers: 10,
        // Reviews long enough to be pictured mid-way (a screenshot first waits up to 3 s for
        // animations, and the running progress bar always has one).
        audit_secs: 5,
        ..SimConfig::default()
    };
    let minis: Vec<String> = World::generate(cfg.seed, cfg.accounts, 1, 0)
        .accounts
        .iter()
        .filter(|a| a.kind == Kind::MiniProgram && !a.release_test)
        .map(|a| a.appid.clone())
        .collect();
    assert_eq!(minis.len(), 3, "the world has three mini programs");
    let authorized = minis
        .iter()
        .enumerate()
        .map(|(i, a)| wxdesk_sim::PreAuthorized {
            appid: a.clone(),
            refresh_token: format!("refreshtoken@@@e2e-code-{i}"),
        })
        .collect();
    let sandbox = start_sandbox_with(&ctx.platform, dir.path(), move |c| {
        *c = SimConfig { authorized, ..cfg };
    })
    .await
    .expect("sandbox");
    wait_for_ticket(&ctx).await;
    let report = ctx
        .accounts
        .recover_refresh_tokens()
        .await
        .expect("recover the authorizations");
    assert_eq!(report.added.len(), 3, "{report:?}");
    ctx.platform
        .save_settings(SettingsInput {
            mode: Mode::Production,
            component_appid: wxdesk_sim::SANDBOX_COMPONENT_APPID.into(),
            relay_url: sandbox.relay_url.clone(),
            egress: Egress::Direct,
            api_base: Some(sandbox.sim_url.clone()),
            // The sandbox's secrets stay in the keychain.
            component_appsecret: None,
            component_token: None,
            component_aes_key: None,
            relay_key: None,
        })
        .await
        .expect("platform on loopback");
    let names = ctx.accounts.list().await.expect("accounts");
    let minis = minis
        .into_iter()
        .map(|appid| {
            let name = names
                .iter()
                .find(|a| a.appid == appid)
                .map(|a| a.nickname.clone())
                .expect("the mini program is stored");
            (appid, name)
        })
        .collect();
    Platform {
        dir,
        ctx,
        sandbox,
        minis,
    }
}

async fn wait_for_ticket(ctx: &Context) {
    let relay = ctx.platform.relay().await.expect("relay");
    for _ in 0..200 {
        if matches!(relay.fetch_ticket().await, Ok(Some(_))) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the relay never received the sandbox ticket");
}

/// `code` of one mini program in the sim's `/__sim/state`.
fn sim_code(sandbox: &Sandbox, appid: &str) -> Value {
    sandbox.sim_state()["accounts"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["appid"] == appid))
        .map(|a| a["code"].clone())
        .expect("the mini program in the sim's state")
}

/// Sets a React-controlled input or textarea to `text` (what typing ends with, without the
/// keystroke-by-keystroke re-renders).
async fn set_value(h: &Harness, css: &str, text: &str) -> Result<()> {
    h.wait_for(css).await?;
    const JS: &str = "const el = document.querySelector(arguments[0]);\
        const proto = el instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype\
          : HTMLInputElement.prototype;\
        Object.getOwnPropertyDescriptor(proto, 'value').set.call(el, arguments[1]);\
        el.dispatchEvent(new Event('input', { bubbles: true }));\
        return el.value;";
    let v = h
        .client
        .execute(
            JS,
            vec![Value::String(css.into()), Value::String(text.into())],
        )
        .await
        .map_err(wd("setting a value"))?;
    if v == Value::String(text.into()) {
        Ok(())
    } else {
        Err(Error::TextMismatch {
            css: css.into(),
            want: text.into(),
            got: v.to_string(),
        })
    }
}

/// Clicks the option of the open Select dropdown whose text contains `text`.
async fn pick_option(h: &Harness, text: &str) -> Result<()> {
    const JS: &str = "const opts = Array.from(document.querySelectorAll(\
          '.ant-select-dropdown:not(.ant-select-dropdown-hidden) .ant-select-item-option'));\
        const o = opts.find(o => o.textContent.includes(arguments[0]));\
        if (!o) return false;\
        o.click();\
        return true;";
    let deadline = tokio::time::Instant::now() + RENDER_TIMEOUT;
    loop {
        let clicked = h
            .client
            .execute(JS, vec![Value::String(text.to_owned())])
            .await
            .map_err(wd("choosing an option"))?;
        if clicked == Value::Bool(true) {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            h.screenshot("option-missing").await?;
            return Err(Error::NotFound(
                format!("option {text:?}"),
                "not listed".into(),
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The text of `css` once it contains every one of `want`.
async fn wait_for_all(h: &Harness, css: &str, want: &[&str]) -> Result<String> {
    let deadline = tokio::time::Instant::now() + RENDER_TIMEOUT * 2;
    loop {
        let text = h.text(css).await?;
        if want.iter().all(|w| text.contains(w)) {
            return Ok(text);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(Error::TextMismatch {
                css: css.into(),
                want: want.join(" & "),
                got: text,
            });
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The text of `css` once `want` shows in it `n` times.
async fn wait_for_count(h: &Harness, css: &str, want: &str, n: usize) -> Result<String> {
    let deadline = tokio::time::Instant::now() + RENDER_TIMEOUT * 2;
    loop {
        let text = h.text(css).await?;
        if text.matches(want).count() == n {
            return Ok(text);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(Error::TextMismatch {
                css: css.into(),
                want: format!("{n} × {want}"),
                got: text,
            });
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// How many rows of the rollout are in `state` (the tags carry it as data-state).
async fn rows_in(h: &Harness, state: &str) -> Result<usize> {
    let css = format!("[data-testid=rollout-rows] [data-testid=row-state][data-state={state}]");
    Ok(h.client
        .find_all(Locator::Css(&css))
        .await
        .map_err(wd("counting rollout rows"))?
        .len())
}

/// The page's text without the data it shows (clients' names, templates' descriptions,
/// WeChat's review reasons): what is left is the app's own words.
async fn own_words(h: &Harness, data: &HashSet<String>) -> Result<String> {
    let mut text = h.text("[data-testid=page-code]").await?;
    let mut data: Vec<&String> = data.iter().collect();
    // Longer first, so a name inside another is not cut out of it.
    data.sort_by_key(|d| std::cmp::Reverse(d.len()));
    for d in data {
        text = text.replace(d.as_str(), "");
    }
    Ok(text)
}

#[tokio::test]
async fn a_rollout_of_three_mini_programs_from_the_page_ends_with_all_released() -> Result<()> {
    let p = prepare().await;
    let h = Harness::start(Options::new("code").data_dir(p.dir.path())).await?;
    // WebKit's storage outlives the data dir: start in Chinese whatever an earlier run chose.
    h.click("[data-testid=lang-zh-CN]").await?;
    let names: Vec<&str> = p.minis.iter().map(|(_, n)| n.as_str()).collect();

    // 小程序: the three clients by name, nothing committed yet, the audit quota.
    h.click("[data-testid=nav-code]").await?;
    wait_for_all(&h, "[data-testid=minis-table]", &names).await?;
    let table = wait_for_count(&h, "[data-testid=minis-table]", "未提交过审核", 3).await?;
    for (appid, _) in &p.minis {
        assert!(
            !table.contains(appid.as_str()),
            "names, not appids: {table:?}"
        );
    }
    let quota = h
        .wait_for_contains("[data-testid=code-quota]", "本月审核额度剩余")
        .await?;
    assert!(
        quota.contains("/ 100"),
        "the sim's monthly quota: {quota:?}"
    );
    h.screenshot("minis").await?;

    // 模板库: the sim's seeded templates with their versions.
    let library = p.ctx.code.library().await.expect("library");
    let template = library
        .templates
        .first()
        .expect("a seeded template")
        .clone();
    h.click("[data-testid=tab-library]").await?;
    wait_for_all(
        &h,
        "[data-testid=library-templates]",
        &[&template.template_id.to_string(), &template.user_version],
    )
    .await?;
    h.screenshot("library").await?;

    // 批量发版 for every mini program: the template, our version, the base ext.json, a preview.
    h.click("[data-testid=tab-minis]").await?;
    h.click("[data-testid=minis-table] thead .ant-checkbox-input")
        .await?;
    h.wait_for_contains("[data-testid=bulk-rollout]", "已选 3 个")
        .await?;
    h.click("[data-testid=bulk-rollout]").await?;
    h.click("[data-testid=rollout-template]").await?;
    pick_option(&h, &format!("#{} ·", template.template_id)).await?;
    // The version follows the template until it is changed.
    let filled = h
        .client
        .execute(
            "return document.querySelector('[data-testid=rollout-version]').value;",
            vec![],
        )
        .await
        .map_err(wd("reading the version"))?;
    assert_eq!(filled, Value::String(template.user_version.clone()));
    set_value(&h, "[data-testid=rollout-version]", VERSION).await?;
    set_value(&h, "[data-testid=rollout-ext]", BASE_EXT).await?;
    h.wait_for_contains("[data-testid=rollout-ext-check]", "JSON 格式正确")
        .await?;
    h.click("[data-testid=rollout-preview]").await?;
    let plan = wait_for_all(&h, "[data-testid=rollout-plan]", &names).await?;
    assert!(
        plan.contains(&format!("将把 {VERSION} 部署到 3 个小程序")),
        "{plan:?}"
    );
    for (appid, _) in &p.minis {
        assert!(
            plan.contains(&format!("\"extAppid\":\"{appid}\"")),
            "each client's ext.json names it: {plan:?}"
        );
    }
    h.screenshot("rollout-preview").await?;
    h.click("[data-testid=rollout-start]").await?;

    // The rollout's progress while WeChat reviews: the delay pushed through the relay shows with
    // WeChat's reason, the bar part-way.
    h.wait_for_contains("[data-testid=rollout-status]", "进行中")
        .await?;
    let rows = h
        .wait_for_contains("[data-testid=rollout-rows]", "延后原因")
        .await?;
    assert!(rows_in(&h, "audit_delayed").await? > 0, "{rows:?}");
    h.screenshot("rollout-progress").await?;
    // Still under way after the picture (states only move forward): it shows the middle.
    let progress = h.text("[data-testid=rollout-progress]").await?;
    assert!(
        rows_in(&h, "released").await? < 3 && !progress.contains("3/3"),
        "pictured mid-way: {progress:?}"
    );

    // The end: every client released, the versions summary shows all three on VERSION. Each
    // review ends one audit_secs after its delay on the sim's timer and reaches the app through
    // the relay's feed; on a loaded CI machine that has taken longer than one wait, so wait
    // longer — and if it still does not end, say what the sim and the rows were at.
    let mut ended = h
        .wait_for_contains("[data-testid=rollout-status]", "已完成")
        .await;
    if ended.is_err() {
        ended = h
            .wait_for_contains("[data-testid=rollout-status]", "已完成")
            .await;
    }
    if let Err(e) = ended {
        let rows = h
            .text("[data-testid=rollout-rows]")
            .await
            .unwrap_or_default();
        let sim: Vec<Value> = p
            .minis
            .iter()
            .map(|(appid, _)| sim_code(&p.sandbox, appid))
            .collect();
        panic!("the rollout did not end: {e}\nrows: {rows:?}\nsim: {sim:?}");
    }
    h.wait_for_contains("[data-testid=rollout-progress]", "3/3")
        .await?;
    assert_eq!(rows_in(&h, "released").await?, 3);
    let rows = h.text("[data-testid=rollout-rows]").await?;
    assert!(rows.contains("延后原因"), "the delay was seen: {rows:?}");
    let versions = h
        .wait_for_contains("[data-testid=rollout-versions]", VERSION)
        .await?;
    assert!(versions.contains("3 个"), "{versions:?}");
    h.screenshot("rollout-done").await?;

    // WeChat's side: each mini program committed with its ext.json, reviewed, released once.
    for (appid, _) in &p.minis {
        let code = sim_code(&p.sandbox, appid);
        assert_eq!(code["released"]["user_version"], VERSION, "{appid}: {code}");
        assert_eq!(
            code["releases"],
            serde_json::json!({ VERSION: 1 }),
            "{appid}"
        );
        assert_eq!(code["committed"]["ext"]["extAppid"], appid.as_str());
        assert_eq!(code["committed"]["ext"]["ext"]["brand"], "wxdesk");
        assert_eq!(code["audits_submitted"], 1, "{appid}: one review each");
    }

    // 小程序: each client on VERSION online, the summary says so, nothing left to release.
    h.click("[data-testid=tab-minis]").await?;
    wait_for_count(&h, "[data-testid=minis-table]", VERSION, 9).await?;
    let spread = h
        .wait_for_contains("[data-testid=version-summary]", VERSION)
        .await?;
    assert!(
        spread.contains("3 个") && !spread.contains("未发布"),
        "{spread:?}"
    );
    let releasable = h
        .client
        .find_all(Locator::Css("[data-testid=action-release]:not([disabled])"))
        .await
        .map_err(wd("finding release buttons"))?;
    assert!(
        releasable.is_empty(),
        "the approved versions are online already"
    );
    h.screenshot("minis-released").await?;
    h.click("[data-testid=tab-rollouts]").await?;

    // The same page in English: the app's own words carry no Chinese.
    let detail = p.ctx.code.rollouts(1).await.expect("rollouts");
    let rollout = p.ctx.code.rollout(detail[0].id).await.expect("the rollout");
    let mut data: HashSet<String> = names.iter().map(|n| n.to_string()).collect();
    data.extend(rollout.rows.iter().filter_map(|r| r.reason.clone()));
    for t in &library.templates {
        data.insert(t.user_desc.clone());
        data.insert(t.source_miniprogram.clone());
    }
    data.extend(library.drafts.iter().map(|d| d.user_desc.clone()));
    data.retain(|d| !d.is_empty());
    h.click("[data-testid=lang-en]").await?;
    h.wait_for_text("[data-testid=nav-code]", "Mini-program code")
        .await?;
    h.wait_for_contains("[data-testid=rollout-status]", "Completed")
        .await?;
    h.wait_for_contains("[data-testid=rollout-versions]", VERSION)
        .await?;
    let words = own_words(&h, &data).await?;
    let chinese: String = words.chars().filter(|c| cjk(*c)).collect();
    assert!(
        chinese.is_empty(),
        "Chinese on the English rollout: {chinese:?} in {words:?}"
    );
    h.screenshot("rollout-done-en").await?;
    h.click("[data-testid=tab-minis]").await?;
    wait_for_all(&h, "[data-testid=minis-table]", &[VERSION, "Approved"]).await?;
    let words = own_words(&h, &data).await?;
    let chinese: String = words.chars().filter(|c| cjk(*c)).collect();
    assert!(
        chinese.is_empty(),
        "Chinese on the English list: {chinese:?} in {words:?}"
    );
    h.screenshot("minis-en").await?;
    h.click("[data-testid=tab-library]").await?;
    h.wait_for_contains("[data-testid=library-templates]", "Regular")
        .await?;
    h.wait_for_contains("[data-testid=library-drafts]", "Add to library")
        .await?;
    let words = own_words(&h, &data).await?;
    let chinese: String = words.chars().filter(|c| cjk(*c)).collect();
    assert!(
        chinese.is_empty(),
        "Chinese on the English library: {chinese:?} in {words:?}"
    );
    h.screenshot("library-en").await?;

    h.click("[data-testid=lang-zh-CN]").await?;
    h.shutdown().await;
    p.sandbox.shutdown().await;
    drop(p.dir);
    Ok(())
}

/// `testid` inside the minis table's row of `appid`.
fn in_row(appid: &str, testid: &str) -> String {
    format!("[data-testid=minis-table] [data-row-key={appid}] [data-testid={testid}]")
}

/// Clicks the item of the open dropdown menu whose text is `text`.
async fn menu_item(h: &Harness, text: &str) -> Result<()> {
    const JS: &str = "const items = Array.from(document.querySelectorAll(\
          '.ant-dropdown:not(.ant-dropdown-hidden) .ant-dropdown-menu-item'));\
        const i = items.find(i => i.textContent.trim() === arguments[0]);\
        if (!i) return false;\
        i.click();\
        return true;";
    let deadline = tokio::time::Instant::now() + RENDER_TIMEOUT;
    loop {
        let clicked = h
            .client
            .execute(JS, vec![Value::String(text.to_owned())])
            .await
            .map_err(wd("choosing a menu item"))?;
        if clicked == Value::Bool(true) {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(Error::NotFound(
                format!("menu item {text:?}"),
                "not shown".into(),
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits until no modal is open (a closing one's mask takes clicks until it is gone).
async fn no_modal(h: &Harness) -> Result<()> {
    h.wait_gone(
        ".ant-modal-wrap:not([style*='display: none']) .ant-modal",
        RENDER_TIMEOUT,
    )
    .await
}

/// 提交代码 of `template` as `version` with `ext` for one mini program, from its row.
async fn commit(h: &Harness, appid: &str, template: i64, version: &str, ext: &str) -> Result<()> {
    h.click(&in_row(appid, "action-commit")).await?;
    h.click("[data-testid=commit-template]").await?;
    pick_option(h, &format!("#{template} ·")).await?;
    set_value(h, "[data-testid=commit-version]", version).await?;
    set_value(h, "[data-testid=ext-json]", ext).await?;
    h.wait_for_contains("[data-testid=ext-json-check]", "JSON 格式正确")
        .await?;
    h.click("#commit-ok").await?;
    h.wait_for_contains(".ant-message", "已提交到").await?;
    no_modal(h).await?;
    h.wait_for_contains(&in_row(appid, "trial-version"), version)
        .await?;
    Ok(())
}

/// 提交审核 from the row, with the first page and category WeChat lists.
async fn submit_audit(h: &Harness, appid: &str) -> Result<()> {
    h.click(&in_row(appid, "action-audit")).await?;
    h.wait_for_contains("[data-testid=audit-page]", "pages/")
        .await?;
    h.wait_for_contains("[data-testid=audit-category]", "›")
        .await?;
    h.click("#audit-ok").await?;
    Ok(())
}

/// Waits for the review to pass (the push through the relay refreshes the row), then 发布.
async fn release_when_approved(h: &Harness, appid: &str, version: &str) -> Result<()> {
    h.wait_for_text(&in_row(appid, "audit-state"), "审核通过")
        .await?;
    h.click(&in_row(appid, "action-release")).await?;
    h.click("#release-confirm").await?;
    // A click during the confirmation's opening animation can land on nothing (CI failed once
    // with 1.0.1 still online a minute later): while the button is there and not busy with the
    // request, it is pressed again. A pressed button turns loading, so a release is never asked
    // twice; the dialog is removed once the release is done.
    for _ in 0..5 {
        if h.wait_gone("#release-confirm", Duration::from_secs(8))
            .await
            .is_ok()
        {
            break;
        }
        let busy = h
            .client
            .execute(
                "const b = document.getElementById('release-confirm');\
                 return b !== null && b.classList.contains('ant-btn-loading');",
                vec![],
            )
            .await
            .map_err(wd("looking at the release button"))?;
        if busy != Value::Bool(true) {
            h.screenshot(&format!("release-{version}-pressed-again"))
                .await?;
            h.click("#release-confirm").await?;
        }
    }
    if let Err(e) = h
        .wait_for_contains(&in_row(appid, "online-version"), version)
        .await
    {
        h.screenshot(&format!("release-{version}-not-online"))
            .await?;
        return Err(e);
    }
    Ok(())
}

#[tokio::test]
async fn one_mini_program_by_hand_commit_review_release_and_roll_back() -> Result<()> {
    let p = prepare().await;
    let h = Harness::start(Options::new("code-single").data_dir(p.dir.path())).await?;
    h.click("[data-testid=lang-zh-CN]").await?;
    let (appid, name) = p.minis[0].clone();
    let template = p.ctx.code.library().await.expect("library").templates[0].template_id;
    h.click("[data-testid=nav-code]").await?;
    h.wait_for_contains("[data-testid=minis-table]", &name)
        .await?;

    // 域名 from the drawer, before any release (as the note by the button advises): one request
    // domain the platform registered and one it did not; WeChat keeps the first and the drawer
    // names the second with where to register it.
    h.click(&in_row(&appid, "action-more")).await?;
    menu_item(&h, "查看状态").await?;
    h.wait_for_text("[data-testid=domains-requestdomain]", "（无）")
        .await?;
    h.click("[data-testid=domains-edit]").await?;
    h.wait_for("[data-testid=domains-field-requestdomain] input")
        .await?
        .send_keys("https://api.wxdesk-demo.com\u{E007}https://nope.example.com\u{E007}")
        .await
        .map_err(wd("typing the domains"))?;
    h.click("#domains-save").await?;
    let warning = h
        .wait_for_contains("[data-testid=domains-invalid]", "https://nope.example.com")
        .await?;
    assert!(
        warning.contains("开放平台 → 第三方平台 → 开发配置"),
        "{warning:?}"
    );
    h.wait_for_text(
        "[data-testid=domains-requestdomain]",
        "https://api.wxdesk-demo.com",
    )
    .await?;
    no_modal(&h).await?;
    h.screenshot("domains").await?;
    let d = p
        .ctx
        .code
        .domains(&appid, DomainAction::Get, &ServerDomains::default())
        .await
        .expect("the domains WeChat has");
    assert_eq!(d.current.requestdomain, ["https://api.wxdesk-demo.com"]);
    h.click(".ant-drawer-close").await?;
    h.wait_gone(".ant-drawer-open", RENDER_TIMEOUT).await?;

    // 提交代码: ext.json with a missing comma is pointed at and cannot be sent.
    h.click(&in_row(&appid, "action-commit")).await?;
    h.click("[data-testid=commit-template]").await?;
    pick_option(&h, &format!("#{template} ·")).await?;
    set_value(
        &h,
        "[data-testid=ext-json]",
        &format!("{{\n  \"extAppid\": \"{appid}\"\n  \"ext\": {{}}\n}}"),
    )
    .await?;
    let check = h
        .wait_for_contains("[data-testid=ext-json-check]", "第 3 行第 3 列")
        .await?;
    assert!(check.contains("不是合法的 JSON"), "{check:?}");
    let ok = h.wait_for("#commit-ok").await?;
    assert_eq!(
        ok.attr("disabled")
            .await
            .map_err(wd("reading the button"))?
            .as_deref(),
        Some("true"),
        "nothing is sent while ext.json is wrong"
    );
    h.screenshot("commit-invalid-ext").await?;
    // The same form with the comma is ready to send: the JSON alone held it back.
    set_value(
        &h,
        "[data-testid=ext-json]",
        &format!("{{\n  \"extAppid\": \"{appid}\",\n  \"ext\": {{}}\n}}"),
    )
    .await?;
    h.wait_for_contains("[data-testid=ext-json-check]", "JSON 格式正确")
        .await?;
    let ok = h.wait_for("#commit-ok").await?;
    assert_eq!(
        ok.attr("disabled")
            .await
            .map_err(wd("reading the button"))?,
        None
    );
    h.click(".ant-modal-close").await?;
    no_modal(&h).await?;
    assert_eq!(
        sim_code(&p.sandbox, &appid)["commits"],
        0,
        "nothing reached WeChat"
    );

    let ext =
        format!(r#"{{"extEnable": true, "extAppid": "{appid}", "ext": {{"shop": "一号店"}}}}"#);
    commit(&h, &appid, template, "1.0.1", &ext).await?;

    // 体验版二维码: the image WeChat made, in the app.
    h.click(&in_row(&appid, "action-more")).await?;
    menu_item(&h, "体验版二维码").await?;
    h.wait_for("[data-testid=qr-modal] img[src^='data:image/']")
        .await?;
    h.screenshot("trial-qr").await?;
    h.click(".ant-modal-close").await?;
    no_modal(&h).await?;

    // 提交审核, then again while it is under review: WeChat's 85009 explained with what to do.
    submit_audit(&h, &appid).await?;
    h.wait_for_contains(".ant-message", "已提交审核").await?;
    no_modal(&h).await?;
    h.wait_for_text(&in_row(&appid, "audit-state"), "审核中")
        .await?;
    submit_audit(&h, &appid).await?;
    // The explanation comes a moment after the errcode (explained asynchronously): wait for it.
    let refused = h
        .wait_for_contains("[data-testid=code-error]", "已有版本在审核中")
        .await?;
    assert!(
        refused.contains("85009") && refused.contains("撤回审核"),
        "the errcode's explanation and hint: {refused:?}"
    );
    h.screenshot("audit-refused").await?;
    h.click(".ant-modal-close").await?;
    no_modal(&h).await?;

    release_when_approved(&h, &appid, "1.0.1").await?;

    // A second version through the same steps, then 版本回退 to the first after a confirmation.
    commit(&h, &appid, template, "1.0.2", &ext).await?;
    submit_audit(&h, &appid).await?;
    no_modal(&h).await?;
    h.wait_for_text(&in_row(&appid, "audit-state"), "审核中")
        .await?;
    release_when_approved(&h, &appid, "1.0.2").await?;
    h.click(&in_row(&appid, "action-more")).await?;
    menu_item(&h, "版本回退").await?;
    h.wait_for_contains(".ant-modal", "上一个线上版本").await?;
    h.click("#rollback-ok").await?;
    h.wait_for_contains(".ant-modal-confirm", "线上版本将退回到上一个版本")
        .await?;
    h.screenshot("rollback-confirm").await?;
    h.click("#rollback-confirm").await?;
    h.wait_for_contains(&in_row(&appid, "online-version"), "1.0.1")
        .await?;
    no_modal(&h).await?;
    h.screenshot("rolled-back").await?;

    let code = sim_code(&p.sandbox, &appid);
    assert_eq!(code["released"]["user_version"], "1.0.1", "{code}");
    assert_eq!(code["released"]["from_rollback"], true, "{code}");
    assert_eq!(code["reverts"], 1);
    assert_eq!(
        code["releases"],
        serde_json::json!({"1.0.1": 1, "1.0.2": 1}),
        "each released once"
    );
    assert_eq!(
        code["audits_submitted"], 2,
        "the refused submission reached no audit"
    );
    assert_eq!(code["committed"]["ext"]["ext"]["shop"], "一号店");

    h.shutdown().await;
    p.sandbox.shutdown().await;
    drop(p.dir);
    Ok(())
}
