//! 发送 keeps what was typed (#16 point 4): an operator half-writes a template message and a
//! customer-service message, goes to look at 任务 / 用户与名单 and comes back — the values, the
//! text and the typed recipient are still there, with 已保存草稿. After a restart of the app on
//! the same data dir they are there again. The data dir's store is the judge of what was saved
//! (the draft lives with the user's data, not in the webview's storage).

mod common;

use std::time::Duration;

use fantoccini::Locator;
use wxdesk_core::compose::DraftKind;
use wxdesk_core::context::Context;
use wxdesk_e2e::{Error, Harness, Options, RENDER_TIMEOUT, Result};

use common::{SimAccount, authorize_verified_account, start_in_sandbox, wait_for_contains, wd};

const TEXT: &str = "您好，双十一活动的优惠券已发放到您的账户，请在三天内使用。";
const TYPED_OPENID: &str = "oDraftRecipient0000000000001";
/// The sim's template (synced before the window opens) and what is typed in its first field.
const TEMPLATE_TITLE: &str = "订单发货通知";
const FIELD_VALUE: &str = "SO20261203001";

/// 发送 → 模板消息 (the first tab) of the one account.
async fn open_template(h: &Harness, appid: &str) -> Result<()> {
    h.click("[data-testid=nav-compose]").await?;
    wait_for_contains(h, "[data-testid=account-picker]", appid).await?;
    h.wait_for("[data-testid=composer-form]").await?;
    Ok(())
}

/// The first keyword field's test id and value, once the composer shows fields.
async fn first_field(h: &Harness) -> Result<(String, String)> {
    let input = h.wait_for("input[data-testid^=field-]").await?;
    let id = input
        .attr("data-testid")
        .await
        .map_err(wd("reading a field id"))?
        .unwrap_or_default();
    let value = input
        .prop("value")
        .await
        .map_err(wd("reading a field"))?
        .unwrap_or_default();
    Ok((id, value))
}

/// 发送 → 客服消息 of the one account.
async fn open_custom(h: &Harness, appid: &str) -> Result<()> {
    h.click("[data-testid=nav-compose]").await?;
    wait_for_contains(h, "[data-testid=account-picker]", appid).await?;
    let xpath = "//div[@role='tab'][normalize-space(.)='客服消息']";
    h.wait_for_locator(Locator::XPath(xpath))
        .await?
        .click()
        .await
        .map_err(wd("opening 客服消息"))?;
    h.wait_for("[data-testid=custom-content]").await?;
    Ok(())
}

/// Brings the composer's form into view for a screenshot.
async fn show_form(h: &Harness) -> Result<()> {
    h.client
        .execute(
            "document.querySelector('[data-testid=custom-content]').scrollIntoView({block: 'center'});",
            vec![],
        )
        .await
        .map_err(wd("scrolling to the form"))?;
    Ok(())
}

/// The message box's value and the recipients Select's tags, read from the DOM.
async fn composer_state(h: &Harness) -> Result<(String, String)> {
    const JS: &str = "const c = document.querySelector('[data-testid=custom-content]');\
        const r = document.querySelector('[data-testid=custom-recipients]');\
        return [c ? c.value : '', r ? Array.from(r.querySelectorAll('.ant-select-selection-item'))\
          .map(e => e.getAttribute('title') || e.textContent).join(' ') : ''];";
    let v = h
        .client
        .execute(JS, vec![])
        .await
        .map_err(wd("reading the composer"))?;
    let get = |i: usize| v[i].as_str().unwrap_or_default().to_owned();
    Ok((get(0), get(1)))
}

/// Waits until the composer shows `TEXT` and `TYPED_OPENID` (a restored draft fills in once the
/// store has answered).
async fn wait_for_draft(h: &Harness, label: &str) -> Result<()> {
    let deadline = tokio::time::Instant::now() + RENDER_TIMEOUT;
    loop {
        let (text, recipients) = composer_state(h).await?;
        if text == TEXT && recipients.contains(TYPED_OPENID) {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            h.screenshot(&format!("{label}-missing")).await?;
            return Err(Error::TextMismatch {
                css: "[data-testid=custom-content]".into(),
                want: format!("{TEXT} / {TYPED_OPENID}"),
                got: format!("{text} / {recipients}"),
            });
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_half_written_message_survives_a_page_change_and_a_restart() -> Result<()> {
    let (dir, h) = start_in_sandbox("drafts").await?;
    let http = reqwest::Client::new();
    let SimAccount { appid, ctx, .. } = authorize_verified_account(dir.path(), &http).await;
    ctx.templates.sync(&appid).await.expect("templates synced");

    // 模板消息: choose the template, type into its first field, look at 任务, come back.
    open_template(&h, &appid).await?;
    h.click("[data-testid=compose-template]").await?;
    h.pick_option(TEMPLATE_TITLE).await?;
    let (field, _) = first_field(&h).await?;
    h.wait_for(&format!("[data-testid={field}]"))
        .await?
        .send_keys(FIELD_VALUE)
        .await
        .map_err(wd("typing a value"))?;
    wait_for_contains(&h, "[data-testid=template-draft-saved]", "已保存草稿").await?;
    h.click("[data-testid=nav-jobs]").await?;
    h.wait_for_route("/jobs").await?;
    open_template(&h, &appid).await?;
    assert_eq!(
        first_field(&h).await?,
        (field.clone(), FIELD_VALUE.to_owned())
    );
    let chosen = h.text("[data-testid=compose-template]").await?;
    assert!(
        chosen.contains(TEMPLATE_TITLE),
        "the template is chosen again: {chosen:?}"
    );
    wait_for_contains(&h, "[data-testid=compose-preview]", FIELD_VALUE).await?;
    h.screenshot("draft-template-after-page-change").await?;

    open_custom(&h, &appid).await?;
    h.wait_for("[data-testid=custom-recipients] input")
        .await?
        .send_keys(&format!("{TYPED_OPENID},"))
        .await
        .map_err(wd("typing an openid"))?;
    h.wait_for("[data-testid=custom-content]")
        .await?
        .send_keys(TEXT)
        .await
        .map_err(wd("typing the message"))?;
    let saved = wait_for_contains(&h, "[data-testid=custom-draft-saved]", "已保存草稿").await?;
    show_form(&h).await?;
    h.screenshot("draft-typed").await?;

    // To 用户与名单 and back: nothing typed is lost.
    h.click("[data-testid=nav-audience]").await?;
    h.wait_for_route("/audience").await?;
    h.wait_gone("[data-testid=custom-content]", RENDER_TIMEOUT)
        .await?;
    open_custom(&h, &appid).await?;
    wait_for_draft(&h, "draft-after-page-change").await?;
    let again = h.text("[data-testid=custom-draft-saved]").await?;
    assert_eq!(again, saved, "the same saved draft, not a new one");
    show_form(&h).await?;
    h.screenshot("draft-after-page-change").await?;
    h.shutdown().await;

    // The store holds it (with the typed openid), under this account's 客服消息.
    {
        let ctx = Context::open(dir.path()).await.expect("open the data dir");
        let drafts = ctx
            .compose
            .drafts()
            .list(DraftKind::Custom, &appid)
            .await
            .expect("drafts");
        assert_eq!(drafts.len(), 1, "{drafts:?}");
        assert!(drafts[0].body.contains(TEXT), "{:?}", drafts[0].body);
        assert!(
            drafts[0].body.contains(TYPED_OPENID),
            "{:?}",
            drafts[0].body
        );
    }

    // A restart on the same data dir.
    let h = Harness::start(Options::new("drafts-restart").data_dir(dir.path())).await?;
    open_template(&h, &appid).await?;
    assert_eq!(first_field(&h).await?, (field, FIELD_VALUE.to_owned()));
    wait_for_contains(&h, "[data-testid=compose-preview]", FIELD_VALUE).await?;
    h.screenshot("draft-template-after-restart").await?;
    open_custom(&h, &appid).await?;
    wait_for_draft(&h, "draft-after-restart").await?;
    show_form(&h).await?;
    h.screenshot("draft-after-restart").await?;

    // 清空 asks first, says what it clears, and then the form and the store are empty.
    h.click("[data-testid=custom-draft-clear]").await?;
    let confirm = wait_for_contains(&h, ".ant-popconfirm", "清空这份草稿？").await?;
    assert!(
        confirm.contains("消息类型、内容、封面和已填写的收件人"),
        "what it clears: {confirm:?}"
    );
    h.screenshot("draft-clear-confirm").await?;
    h.click("[data-testid=custom-draft-clear-ok]").await?;
    h.wait_gone("[data-testid=custom-draft-saved]", RENDER_TIMEOUT)
        .await?;
    let (text, recipients) = composer_state(&h).await?;
    assert_eq!((text.as_str(), recipients.as_str()), ("", ""));
    let ctx = Context::open(dir.path()).await.expect("open the data dir");
    let left = ctx
        .compose
        .drafts()
        .list(DraftKind::Custom, &appid)
        .await
        .expect("drafts");
    assert!(left.is_empty(), "清空 removes the stored draft: {left:?}");
    h.screenshot("draft-cleared").await?;
    h.shutdown().await;
    Ok(())
}
