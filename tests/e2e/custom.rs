//! 发送 → 客服消息 as an operator uses it, in the sandbox: a follower writes to the account (the
//! sim pushes the message through the app's relay), the user appears in 「48 小时内互动的用户」
//! with the message's preview and the time left, the operator ticks them, adds by hand an openid
//! that never wrote, and sends a text. The listed user receives it; the other fails with 45015,
//! explained. The sim's `/__sim/state` (sends.custom_accepted) is the judge.

mod common;

use std::path::Path;
use std::time::Duration;

use fantoccini::Locator;
use serde_json::{Value, json};
use wxdesk_e2e::{Error, Harness, RENDER_TIMEOUT, Result};

use common::{SimAccount, authorize_verified_account, start_in_sandbox, wait_for_contains, wd};

const MESSAGE: &str = "您好，我想查询订单 SO-1001 的物流进度";

/// Authorizes the sim's verified official account through the app's sim. Returns (appid, sim
/// URL, a follower who will write, a follower who never wrote — not even in the sim's
/// generated past).
async fn prepare_account(dir: &Path, http: &reqwest::Client) -> (String, String, String, String) {
    let SimAccount { sim_url, appid, .. } = authorize_verified_account(dir, http).await;
    let account = common::get_json(http, &format!("{sim_url}/__sim/accounts/{appid}")).await;
    let quiet = account["quiet_openid"]
        .as_str()
        .expect("a follower who never wrote")
        .to_owned();
    let writer = account["sample_openids"]
        .as_array()
        .expect("sample openids")
        .iter()
        .filter_map(Value::as_str)
        .find(|o| *o != quiet)
        .expect("another follower")
        .to_owned();
    (appid, sim_url, writer, quiet)
}

/// Clicks the tab whose label is `label`.
async fn open_tab(h: &Harness, label: &str) -> Result<()> {
    let xpath = format!("//div[@role='tab'][normalize-space(.)='{label}']");
    h.wait_for_locator(Locator::XPath(&xpath))
        .await?
        .click()
        .await
        .map_err(wd("opening the tab"))
}

/// Waits until the open-window table lists `openid` (the feed brings the message; the list
/// refetches on the feed's notice).
async fn wait_for_listed(h: &Harness, openid: &str) -> Result<()> {
    let css = format!("[data-testid=interactions-card] tr[data-row-key='{openid}']");
    let deadline = tokio::time::Instant::now() + RENDER_TIMEOUT * 2;
    loop {
        if h.client.find(Locator::Css(&css)).await.is_ok() {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            h.screenshot("custom-user-not-listed").await?;
            return Err(Error::NotFound(css, "the user never appeared".into()));
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// Waits until the recipients Select holds `openid` (read from the DOM: WebKit's WebDriver
/// reports no visible text for the Select's measured overflow tags).
async fn wait_for_recipient(h: &Harness, openid: &str) -> Result<()> {
    const JS: &str = "const el = document.querySelector('[data-testid=custom-recipients]');\
        return el ? Array.from(el.querySelectorAll('.ant-select-selection-item'))\
          .map(e => e.getAttribute('title') || e.textContent).join(' ') : '';";
    let deadline = tokio::time::Instant::now() + RENDER_TIMEOUT;
    loop {
        let got = h
            .client
            .execute(JS, vec![])
            .await
            .map_err(wd("reading the recipients"))?;
        let got = got.as_str().unwrap_or_default().to_owned();
        if got.contains(openid) {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            h.screenshot("custom-recipient-missing").await?;
            return Err(Error::TextMismatch {
                css: "[data-testid=custom-recipients]".into(),
                want: openid.into(),
                got,
            });
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_user_who_wrote_is_listed_selected_and_sent_a_custom_message() -> Result<()> {
    let (dir, h) = start_in_sandbox("custom").await?;
    let http = reqwest::Client::new();
    let (appid, sim_url, writer, quiet) = prepare_account(dir.path(), &http).await;

    // 发送 → 客服消息, before anyone wrote: the empty state says how the window opens.
    h.click("[data-testid=nav-compose]").await?;
    wait_for_contains(&h, "[data-testid=account-picker]", &appid).await?;
    open_tab(&h, "客服消息").await?;
    let empty = wait_for_contains(&h, "[data-testid=interactions-card]", "48 小时内").await?;
    assert!(
        empty.contains("目前没有可以接收客服消息的用户"),
        "empty state: {empty:?}"
    );
    let rules = h.text(".ant-alert-info").await?;
    assert!(rules.contains("45015"), "the 45015 note: {rules:?}");
    h.screenshot("custom-empty").await?;

    // The follower writes; WeChat (the sim) pushes it to the app's relay.
    let r = http
        .post(format!("{sim_url}/__sim/message"))
        .json(&json!({"authorizer_appid": appid, "openid": writer, "content": MESSAGE}))
        .send()
        .await
        .expect("sim reachable");
    assert!(r.status().is_success(), "sim message: {}", r.status());
    wait_for_listed(&h, &writer).await?;
    let row = wait_for_contains(&h, &format!("tr[data-row-key='{writer}']"), MESSAGE).await?;
    h.screenshot("custom-listed").await?;
    assert!(row.contains("发来文字"), "the action: {row:?}");
    // 48 hours from the message's CreateTime, less the second or so it took to get here.
    assert!(
        row.contains("还剩 47 小时") || row.contains("还剩 48 小时"),
        "the time left: {row:?}"
    );
    let card = h.text("[data-testid=interactions-card]").await?;
    assert!(
        card.contains("共 1 人可接收客服消息"),
        "the count: {card:?}"
    );

    // Tick the user; type the one who never wrote; write the text.
    h.click(&format!(
        "tr[data-row-key='{writer}'] .ant-table-selection-column input"
    ))
    .await?;
    wait_for_recipient(&h, &writer).await?;
    h.wait_for("[data-testid=custom-recipients] input")
        .await?
        .send_keys(&format!("{quiet},"))
        .await
        .map_err(wd("typing an openid"))?;
    wait_for_recipient(&h, &quiet).await?;
    let warning = wait_for_contains(&h, ".ant-alert-warning", "不在 48 小时互动列表中").await?;
    assert!(warning.contains(&quiet), "names the openid: {warning:?}");
    h.wait_for("[data-testid=custom-content]")
        .await?
        .send_keys("您的订单 SO-1001 已发货，预计明天送达。")
        .await
        .map_err(wd("typing the message"))?;
    let button = h.text("[data-testid=custom-send]").await?;
    assert_eq!(button.replace(' ', ""), "发送给2人");
    h.screenshot("custom-ready").await?;

    h.click("[data-testid=custom-send]").await?;
    let results = wait_for_contains(
        &h,
        "[data-testid=custom-results]",
        "发送结果：成功 1，失败 1",
    )
    .await?;
    let lines: Vec<&str> = results.lines().collect();
    let line_of = |o: &str| {
        lines
            .iter()
            .position(|l| l.contains(o))
            .and_then(|i| lines.get(i..(i + 2).min(lines.len())))
            .map(|l| l.join(" "))
            .unwrap_or_default()
    };
    assert!(line_of(&writer).contains("已发送"), "{results:?}");
    assert!(line_of(&quiet).contains("45015"), "{results:?}");
    assert!(
        line_of(&quiet).contains("48 小时"),
        "explained: {results:?}"
    );
    h.client
        .execute(
            "document.querySelector('[data-testid=custom-results]').scrollIntoView({block: 'end'});",
            vec![],
        )
        .await
        .map_err(wd("scrolling to the results"))?;
    h.screenshot("custom-sent").await?;

    let state = common::get_json(&http, &format!("{sim_url}/__sim/state")).await;
    assert_eq!(state["sends"]["custom_accepted"], 1, "only the listed user");
    h.shutdown().await;
    Ok(())
}
