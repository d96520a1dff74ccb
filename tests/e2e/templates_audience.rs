//! 模板 and 用户与名单 as an operator uses them, in the sandbox: sync an account's templates and
//! see a template of the sim's world with its fields; sync the followers and see the sim's count;
//! make a list from pasted openids and read the import preview's numbers.
//!
//! The data dir is prepared through wxdesk-core before the app starts (sandbox mode saved, so
//! the app starts its sandbox on the same ports); the account is then authorized through the
//! app's own sim the way the admin's scan would (`POST /__sim/authorize`).

mod common;

use std::time::Duration;

use fantoccini::Locator;
use serde_json::Value;
use wxdesk_e2e::{Error, Harness, RENDER_TIMEOUT, Result};

/// A template every verified service account of the sim starts with (its library's first entry).
const SIM_TEMPLATE_TITLE: &str = "订单发货通知";

use common::{SimAccount, authorize_verified_account, start_in_sandbox, wait_for_contains, wd};

/// Waits for `css`, then clicks it in the DOM. WebKitWebDriver's hit test sometimes refuses a
/// click while an antd drawer or modal animates over the window; the DOM click is what the
/// user's click does once it settles.
async fn dom_click(h: &Harness, css: &str) -> Result<()> {
    h.wait_for(css).await?;
    h.client
        .execute(
            "document.querySelector(arguments[0]).click()",
            vec![Value::String(css.to_owned())],
        )
        .await
        .map_err(wd(css))?;
    Ok(())
}

/// Waits until nothing matches `css` (e.g. a closing drawer's mask, which takes the clicks).
async fn wait_until_gone(h: &Harness, css: &str) -> Result<()> {
    let deadline = tokio::time::Instant::now() + RENDER_TIMEOUT;
    while h.client.find(Locator::Css(css)).await.is_ok() {
        if tokio::time::Instant::now() >= deadline {
            return Err(Error::NotFound(
                format!("{css} to go away"),
                "still shown".into(),
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

/// A statistic's number as shown (`1,000` → 1000).
async fn stat_value(h: &Harness, testid: &str) -> Result<u64> {
    let text = h
        .text(&format!("[data-testid={testid}] .ant-statistic-content"))
        .await?;
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    digits.parse().map_err(|_| Error::TextMismatch {
        css: testid.to_owned(),
        want: "a number".into(),
        got: text,
    })
}

#[tokio::test]
async fn templates_and_followers_sync_from_the_ui_and_a_pasted_list_previews() -> Result<()> {
    let (dir, h) = start_in_sandbox("templates_audience").await?;
    let http = reqwest::Client::new();
    let SimAccount {
        sim_url,
        appid,
        state: account,
        ..
    } = authorize_verified_account(dir.path(), &http).await;

    // 模板: the picker holds the account; 同步模板 brings the sim's templates.
    h.click("[data-testid=nav-templates]").await?;
    wait_for_contains(&h, "[data-testid=account-picker]", &appid).await?;
    h.screenshot("templates-before-sync").await?;
    h.click("[data-testid=templates-sync]").await?;
    wait_for_contains(&h, "[data-testid=templates-table]", SIM_TEMPLATE_TITLE).await?;
    let usage = h.text("[data-testid=templates-usage]").await?;
    assert!(usage.contains("/ 25"), "usage shows the limit: {usage:?}");
    h.screenshot("templates-table").await?;

    // The drawer: example and each field's rule.
    let titles = h
        .client
        .find_all(Locator::Css("[data-testid=template-title]"))
        .await
        .map_err(wd("listing template titles"))?;
    let mut opened = false;
    for t in titles {
        if t.text().await.unwrap_or_default() == SIM_TEMPLATE_TITLE {
            t.click().await.map_err(wd("opening the template"))?;
            opened = true;
            break;
        }
    }
    assert!(opened, "{SIM_TEMPLATE_TITLE} has a clickable title");
    let rules = wait_for_contains(&h, "[data-testid=field-rules]", "character_string1").await?;
    assert!(
        rules.contains("最多 32 个字符，只能是数字、字母或符号"),
        "character_string rule shown: {rules:?}"
    );
    assert!(
        rules.contains("最多 20 个字"),
        "thing rule shown: {rules:?}"
    );
    h.screenshot("templates-drawer").await?;
    dom_click(&h, ".ant-drawer-close").await?;
    wait_until_gone(&h, ".ant-drawer-open").await?;

    // 用户与名单 → 粉丝: 同步粉丝 until done; the count equals the sim's.
    dom_click(&h, "[data-testid=nav-audience]").await?;
    h.click("[data-testid=followers-sync]").await?;
    wait_for_contains(&h, "[data-testid=followers-sync-done]", "同步完成").await?;
    let sim_account = common::get_json(&http, &format!("{sim_url}/__sim/accounts/{appid}")).await;
    let sim_followers = sim_account["followers"]
        .as_u64()
        .or_else(|| account["followers"].as_u64())
        .expect("the sim reports its follower count");
    assert_eq!(stat_value(&h, "followers-subscribed").await?, sim_followers);
    // No filter: the table's row count is every follower synced, following or not.
    let shown = wait_for_contains(&h, "[data-testid=followers-shown]", "符合条件").await?;
    let total = stat_value(&h, "followers-total").await?;
    assert_eq!(shown.trim(), format!("符合条件 {total} 人"));
    h.wait_for("[data-testid=followers-table] .ant-table-row")
        .await?;
    h.screenshot("followers-table").await?;

    // 名单 → 新建名单 → 粘贴 openid: 2 followers, one of them twice, a former follower and junk.
    let sample: Vec<String> = sim_account["sample_openids"]
        .as_array()
        .expect("sample openids")
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    let former = sim_account["former_openid"]
        .as_str()
        .expect("former openid");
    let pasted = [
        sample[0].as_str(),
        sample[1].as_str(),
        sample[0].as_str(),
        former,
        "not-an-openid",
    ]
    // WebDriver's Enter key (WebKitWebDriver drops a plain "\n" in send_keys).
    .join("\u{E007}");
    dom_click(&h, "[data-testid=tab-lists]").await?;
    dom_click(&h, "[data-testid=list-create]").await?;
    h.wait_for("[data-testid=list-name]")
        .await?
        .send_keys("e2e 粘贴名单")
        .await
        .map_err(wd("typing the list name"))?;
    dom_click(&h, "[data-testid=source-paste]").await?;
    h.wait_for("[data-testid=list-paste]")
        .await?
        .send_keys(&pasted)
        .await
        .map_err(wd("pasting openids"))?;
    dom_click(&h, "[data-testid=list-preview]").await?;
    if let Err(e) = h.wait_for("[data-testid=import-preview]").await {
        h.screenshot("import-preview-missing").await?;
        return Err(e);
    }
    assert_eq!(stat_value(&h, "preview-rows").await?, 5);
    assert_eq!(stat_value(&h, "preview-valid").await?, 3);
    assert_eq!(stat_value(&h, "preview-invalid").await?, 1);
    assert_eq!(stat_value(&h, "preview-duplicates").await?, 1);
    assert_eq!(stat_value(&h, "preview-not-following").await?, 1);
    h.screenshot("import-preview").await?;
    dom_click(&h, "[data-testid=list-save]").await?;
    wait_for_contains(&h, "[data-testid=lists-table]", "e2e 粘贴名单").await?;
    h.screenshot("lists").await?;

    h.shutdown().await;
    drop(dir);
    Ok(())
}
