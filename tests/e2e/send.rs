//! 发送 → 任务 → 发送记录 as an operator uses them, in the sandbox: compose a template message
//! with a per-recipient variable, send it to one openid first (先发给自己), bulk-send it to a list
//! through the confirmation dialog (with the account's template quota left today), watch the job's
//! progress bar reach the end, and find every record in 发送记录 — the sim's `/__sim/state`
//! (sends.accepted) is the judge of what was sent.
//!
//! The data dir is prepared through wxdesk-core's handles before and while the app runs (sandbox
//! mode saved; the account authorized through the app's own sim, its templates and followers
//! synced and a list imported from the sim's follower openids). At the end, in English, 任务 and
//! 发送记录 show no Chinese outside the user's own data (template and list names, job titles).

mod common;

use std::path::Path;
use std::time::Duration;

use fantoccini::Locator;
use serde_json::Value;
use wxdesk_core::audience::{ImportOptions, ImportSource, SyncOptions};
use wxdesk_e2e::{Error, Harness, RENDER_TIMEOUT, Result};

const TEMPLATE_TITLE: &str = "订单发货通知";
const TEMPLATE_SEND: &str = "/cgi-bin/message/template/send";
const LIST_NAME: &str = "e2e 发货名单";

use common::{
    SimAccount, authorize_verified_account, chinese_outside, start_in_sandbox, wait_for_contains,
    wd,
};

/// Waits until the test-recipient picker's search has narrowed the followers down to `openid`
/// alone, pictures the dropdown, and picks it.
async fn pick_follower(h: &Harness, openid: &str) -> Result<()> {
    const JS: &str = "const opts = Array.from(document.querySelectorAll(\
          '.ant-select-dropdown:not(.ant-select-dropdown-hidden) .ant-select-item-option'));\
        if (opts.length !== 1 || !opts[0].textContent.includes(arguments[0])) return false;\
        if (arguments[1]) opts[0].click();\
        return true;";
    let deadline = tokio::time::Instant::now() + RENDER_TIMEOUT;
    loop {
        let narrowed = h
            .client
            .execute(
                JS,
                vec![Value::String(openid.to_owned()), Value::Bool(false)],
            )
            .await
            .map_err(wd("searching the test recipient"))?;
        if narrowed == Value::Bool(true) {
            break;
        }
        if tokio::time::Instant::now() >= deadline {
            h.screenshot("test-recipient-missing").await?;
            return Err(Error::TextMismatch {
                css: "test-openid option".into(),
                want: openid.into(),
                got: String::new(),
            });
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    h.screenshot("test-recipient-search").await?;
    let clicked = h
        .client
        .execute(
            JS,
            vec![Value::String(openid.to_owned()), Value::Bool(true)],
        )
        .await
        .map_err(wd("choosing the test recipient"))?;
    if clicked == Value::Bool(true) {
        Ok(())
    } else {
        Err(Error::TextMismatch {
            css: "test-openid option".into(),
            want: openid.into(),
            got: String::new(),
        })
    }
}

/// Authorizes the sim's first verified official account through the app's sim, syncs its
/// templates and followers (the test-send picker searches them), and imports a list of its sample
/// followers with an 订单号 column. Returns (appid, sim URL, the list's openids).
async fn prepare_account(dir: &Path, http: &reqwest::Client) -> (String, String, Vec<String>) {
    prepared(authorize_verified_account(dir, http).await, http).await
}

/// Templates and followers synced, the list imported, for an authorized account.
async fn prepared(account: SimAccount, http: &reqwest::Client) -> (String, String, Vec<String>) {
    let SimAccount {
        ctx,
        sim_url,
        appid,
        ..
    } = account;
    ctx.templates.sync(&appid).await.expect("templates synced");
    ctx.audience
        .sync(&appid, SyncOptions::default(), &|_| {})
        .await
        .expect("followers synced");
    let account = common::get_json(http, &format!("{sim_url}/__sim/accounts/{appid}")).await;
    let openids: Vec<String> = account["sample_openids"]
        .as_array()
        .expect("sample openids")
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    let mut csv = String::from("openid,订单号\n");
    for (i, o) in openids.iter().enumerate() {
        csv.push_str(&format!("{o},SO2026112200{i}\n"));
    }
    ctx.audience
        .import_save(
            &appid,
            LIST_NAME,
            ImportSource::Pasted(csv),
            ImportOptions::default(),
        )
        .await
        .expect("list created");
    (appid, sim_url, openids)
}

/// The daily template-send limit of the app's sandbox sim (its default configuration).
fn sandbox_template_quota() -> u64 {
    wxdesk_sim::SimConfig::default()
        .quotas
        .get(TEMPLATE_SEND)
        .copied()
        .unwrap_or_else(|| wxdesk_sim::state::default_quota(TEMPLATE_SEND))
}

/// 100000 → "100,000", as the confirmation shows counts.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Template sends the sim accepted for `appid` (/__sim/state `accounts[].sends`).
fn sim_sends(state: &Value, appid: &str) -> u64 {
    state["accounts"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["appid"] == appid))
        .and_then(|a| a["sends"].as_u64())
        .expect("the account in the sim's state")
}

/// A value that passes each keyword type's rule; the order number comes from the list.
fn value_for(key: &str) -> &'static str {
    if key.starts_with("character_string") {
        "{{订单号}}"
    } else if key.starts_with("time") {
        "2026年11月22日 12:00"
    } else if key.starts_with("amount") {
        "¥128.00"
    } else if key.starts_with("const") {
        "已发货"
    } else {
        "有机绿茶礼盒"
    }
}

/// The number at the end of a count like 「成功 12」.
fn count_in(text: &str) -> u64 {
    text.split_whitespace()
        .last()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a count in {text:?}"))
}

/// Polls `css` until its count (「成功 N」) satisfies `ok`; returns it.
async fn count_until(h: &Harness, css: &str, ok: impl Fn(u64) -> bool) -> Result<u64> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let n = count_in(&h.text(css).await?);
        if ok(n) {
            return Ok(n);
        }
        if tokio::time::Instant::now() > deadline {
            h.screenshot("count-timeout").await?;
            return Err(Error::TextMismatch {
                css: css.into(),
                want: "the count to move".into(),
                got: n.to_string(),
            });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// 取消 mid-way (#16): a slow job (2 a second) over the synced followers is started from 任务 and
/// cancelled once a few went out. The row's numbers are the rows' own — sent plus cancelled is
/// every recipient, nothing is left 待发送, the cancelled ones read 已取消 — and they match the
/// sim's count, 概览's today and 发送记录 of that job.
async fn cancel_mid_way(
    h: &Harness,
    dir: &Path,
    http: &reqwest::Client,
    appid: &str,
    sim_url: &str,
) -> Result<()> {
    use wxdesk_core::send::{JobSpec, Recipient};
    let ctx = wxdesk_core::context::Context::open(dir)
        .await
        .expect("open the data dir");
    // The bulk job's message, to the synced followers, slowly.
    let jobs = ctx
        .sends
        .list(Some(appid.into()), None, 10)
        .await
        .expect("jobs");
    let bulk = jobs
        .iter()
        .find(|j| j.counts.total > 1)
        .expect("the bulk job");
    let followers = ctx
        .audience
        .followers(appid, Default::default(), None, 40)
        .await
        .expect("followers");
    let total = followers.items.len() as u64;
    assert!(total >= 10, "enough followers to cancel mid-way: {total}");
    let recipients = followers.items.iter().enumerate().map(|(i, f)| Recipient {
        openid: f.openid.clone(),
        vars: [("订单号".to_string(), format!("SO-C{i}"))].into(),
    });
    let spec = JobSpec {
        appid: appid.into(),
        title: "e2e cancel".into(),
        payload: bulk.payload.clone(),
        field_rules: Vec::new(),
        concurrency: Some(1),
        rate_per_sec: Some(2),
        max_attempts: None,
    };
    let id = ctx
        .sends
        .create(spec, recipients.collect())
        .await
        .expect("a draft job");
    let before = sim_sends(
        &common::get_json(http, &format!("{sim_url}/__sim/state")).await,
        appid,
    );

    h.click("[data-testid=nav-jobs]").await?;
    h.click(&format!("[data-testid=job-start-{id}]")).await?;
    let sent_css = format!("[data-testid=job-sent-{id}]");
    count_until(h, &sent_css, |n| n >= 2).await?;
    // Paused first: a running job's row re-renders with every progress report, which can
    // close the 更多 menu under the click; a paused row holds still.
    h.click(&format!("[data-testid=job-pause-{id}]")).await?;
    wait_for_contains(h, &format!("[data-testid=job-status-{id}]"), "已暂停").await?;
    // A paused row still changes while the last request's outcome and the delivery reports
    // (through the relay: a moment later) arrive, and each change can close the menu under the
    // click: wait until its numbers have held still for two seconds.
    let progress = format!("[data-testid=job-progress-{id}]");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let (mut last, mut since) = (h.text(&progress).await?, tokio::time::Instant::now());
    while since.elapsed() < Duration::from_secs(2) && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let now = h.text(&progress).await?;
        if now != last {
            (last, since) = (now, tokio::time::Instant::now());
        }
    }
    open_cancel_confirm(h, id).await?;
    // The dialog's buttons say what they do (取消/确定 read 取消 as "don't cancel").
    // Read once shown: during the opening animation WebDriver reads the buttons as no text.
    let buttons =
        wait_for_contains(h, ".ant-modal-confirm .ant-modal-confirm-btns", "保留任务").await?;
    assert!(
        buttons.contains("取消任务"),
        "cancel dialog buttons: {buttons}"
    );
    h.click(".ant-modal-confirm .ant-btn-dangerous").await?;
    wait_for_contains(h, &format!("[data-testid=job-status-{id}]"), "已取消").await?;
    // Requests on the wire at the cancel finish and are counted; then the row holds still.
    let pending = count_until(h, &format!("[data-testid=job-pending-{id}]"), |n| n == 0).await?;
    let cancelled_css = format!("[data-testid=job-cancelled-{id}]");
    let cancelled = count_in(&wait_for_contains(h, &cancelled_css, "已取消").await?);
    let sent = count_in(&h.text(&sent_css).await?);
    h.screenshot("job-cancelled").await?;
    assert_eq!(pending, 0);
    assert!(
        cancelled > 0 && sent < total,
        "cancelled mid-way: {sent} sent"
    );
    assert_eq!(
        sent + cancelled,
        total,
        "every recipient is sent or cancelled"
    );
    // The cancelled count has its own colour, not the grey of 待发送.
    let colour = h
        .client
        .execute(
            "const a = getComputedStyle(document.querySelector(arguments[0])).color;\
             const b = getComputedStyle(document.querySelector(arguments[1])).color;\
             return [a, b];",
            vec![
                Value::String(cancelled_css.clone()),
                Value::String(format!("[data-testid=job-pending-{id}]")),
            ],
        )
        .await
        .map_err(wd("reading the colours"))?;
    assert_ne!(colour[0], colour[1], "cancelled vs pending colour");
    // The stored job and the sim agree with the row.
    let job = ctx.sends.job(id).await.expect("the job");
    assert_eq!(
        (job.counts.sent, job.counts.cancelled, job.counts.pending()),
        (sent, cancelled, 0)
    );
    let state = common::get_json(http, &format!("{sim_url}/__sim/state")).await;
    assert_eq!(sim_sends(&state, appid) - before, sent, "the sim's count");
    let accepted = state["sends"]["accepted"].as_u64().expect("sends.accepted");

    // 概览: today's sends are what the sim accepted (the test send, the bulk job, this one).
    h.click("[data-testid=nav-overview]").await?;
    let today = count_until(h, "[data-testid=today-sent] .ant-statistic-content", |n| {
        n == accepted
    })
    .await?;
    assert_eq!(today, accepted);
    h.screenshot("overview-after-cancel").await?;

    // 发送记录 of this job: the same numbers above the rows, and the rows say 已取消.
    h.click("[data-testid=nav-jobs]").await?;
    // A click on the menu item during the dropdown's opening animation can land on nothing (CI
    // failed once still on 任务): the step is tried again until the route changes.
    let route = format!("#/history?job={id}");
    for _ in 0..5 {
        h.click(&format!("[data-testid=job-more-{id}]")).await?;
        // The dropdown's opening animation (antd: 0.2 s), not a timing assertion.
        tokio::time::sleep(Duration::from_millis(400)).await;
        h.click(&format!("[data-testid=job-history-{id}]")).await?;
        let mut there = false;
        for _ in 0..30 {
            let at = h
                .client
                .current_url()
                .await
                .map_err(wd("reading the route"))?;
            if at.fragment().map(|f| format!("#{f}")).as_deref() == Some(route.as_str()) {
                there = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if there {
            break;
        }
    }
    h.wait_for_route(&format!("/history?job={id}")).await?;
    let summary = wait_for_contains(h, "[data-testid=history-job-summary]", "已取消").await?;
    assert!(
        summary.contains(&format!("成功 {sent}"))
            && summary.contains(&format!("已取消 {cancelled}")),
        "{summary:?}"
    );
    let table = wait_for_contains(h, "[data-testid=history-table]", "已取消").await?;
    assert_eq!(
        table.matches("已取消").count() as u64,
        cancelled,
        "{table:?}"
    );
    assert_eq!(table.matches("待发送").count(), 0, "{table:?}");
    h.screenshot("history-cancelled").await?;
    Ok(())
}

#[tokio::test]
async fn compose_test_send_bulk_send_and_find_every_record_in_history() -> Result<()> {
    let (dir, h) = start_in_sandbox("send").await?;
    let http = reqwest::Client::new();
    let (appid, sim_url, openids) = prepare_account(dir.path(), &http).await;
    journey(&h, dir.path(), &http, &appid, &sim_url, &openids).await?;
    h.shutdown().await;
    drop(dir);
    Ok(())
}

/// The operator's day from 发送 on: compose, 先发给自己, bulk send through the confirmation,
/// the job to its end, every record in 发送记录 with its delivery report, 概览, a slow job paused
/// and cancelled mid-way with every page's numbers matching the sim's count, and 任务 and
/// 发送记录 in English.
async fn journey(
    h: &Harness,
    dir: &Path,
    http: &reqwest::Client,
    appid: &str,
    sim_url: &str,
    openids: &[String],
) -> Result<()> {
    let (appid, sim_url) = (appid.to_owned(), sim_url.to_owned());
    let http = http.clone();
    // The account's own name: shown for its appid, and the user's data (not the app's words).
    let world = common::get_json(&http, &format!("{sim_url}/__sim/state")).await;
    let nickname = world["accounts"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["appid"] == appid.as_str()))
        .and_then(|a| a["nickname"].as_str())
        .expect("the account's nickname")
        .to_owned();

    // 发送: the account, the template, every keyword field.
    h.click("[data-testid=nav-compose]").await?;
    wait_for_contains(h, "[data-testid=account-picker]", &appid).await?;
    h.click("[data-testid=compose-template]").await?;
    if let Err(e) = h.pick_option(TEMPLATE_TITLE).await {
        h.screenshot("composer-template-missing").await?;
        return Err(e);
    }
    h.wait_for("[data-testid^=field-]").await?;
    // The list Select is disabled until the lists have loaded, so it opens with its options.
    // Click it once the template Select has settled: while its dropdown closes it takes the
    // focus back and scrolls the page to itself, and a click aimed at the list then lands on
    // whatever has moved under the pointer.
    h.wait_for("[data-testid=compose-list]:not(.ant-select-disabled)")
        .await?;
    h.settle().await?;
    h.click("[data-testid=compose-list]").await?;
    if let Err(e) = h.pick_option(LIST_NAME).await {
        h.screenshot("composer-list-missing").await?;
        return Err(e);
    }
    fill_fields(h, value_for).await?;
    // The preview fills 订单号 from the list's first rows and shows WeChat's cut.
    let preview = wait_for_contains(h, "[data-testid=compose-preview]", "SO20261122000").await?;
    assert!(preview.contains(TEMPLATE_TITLE), "card title: {preview:?}");
    assert!(
        preview.contains('…'),
        "the 22-character thing is cut: {preview:?}"
    );
    h.screenshot("composer-preview").await?;

    // 先发给自己: search the synced followers by the start of an openid and pick it.
    // (The picker may hold the openid remembered from an earlier run: WebKit's storage
    // outlives the data dir.)
    let test_openid = &openids[0];
    // 扫码找到自己 first: the account's code, "scanned" by the follower (a phone cannot reach a
    // sim), who is then offered in the dialog and picked with one click.
    h.click("[data-testid=find-yourself]").await?;
    let code = h
        .wait_for("[data-testid=find-yourself-qr]")
        .await?
        .attr("data-url")
        .await
        .map_err(wd("reading the code's URL"))?
        .unwrap_or_default();
    let scanned: Value = http
        .post(format!("{sim_url}/__sim/scan"))
        .json(&serde_json::json!({"url": code, "openid": test_openid}))
        .send()
        .await
        .map_err(|e| Error::Io("scanning".into(), std::io::Error::other(e)))?
        .json()
        .await
        .map_err(|e| Error::Io("the scan's answer".into(), std::io::Error::other(e)))?;
    assert_eq!(
        scanned["event"], "SCAN",
        "the account's own code: {scanned}"
    );
    let pick = format!("[data-testid=find-yourself-pick-{test_openid}]");
    h.wait_for(&pick).await?;
    h.screenshot("find-yourself").await?;
    h.click(&pick).await?;
    h.wait_gone("[data-testid=find-yourself-qr]", RENDER_TIMEOUT)
        .await?;
    let chosen = test_openid_value(h).await?;
    assert_eq!(
        chosen,
        Value::String(test_openid.clone()),
        "picked from the scan"
    );
    // Then the other way: search the synced followers by the start of an openid.
    let picker = h.wait_for("[data-testid=test-openid] input").await?;
    h.client
        .execute(
            "const i = document.querySelector('[data-testid=test-openid] input');\
             Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set.call(i, '');\
             i.dispatchEvent(new Event('input', { bubbles: true }));",
            vec![],
        )
        .await
        .map_err(wd("clearing the test recipient"))?;
    picker
        .send_keys(&test_openid[..12])
        .await
        .map_err(wd("searching the test recipient"))?;
    pick_follower(h, test_openid).await?;
    let chosen = test_openid_value(h).await?;
    assert_eq!(chosen, Value::String(test_openid.clone()));
    // Let the dropdown finish closing before the picture.
    tokio::time::sleep(Duration::from_millis(400)).await;
    h.screenshot("test-recipient-picked").await?;
    h.click("[data-testid=test-send]").await?;
    wait_for_contains(h, ".ant-message", "测试消息已发送").await?;

    // 发送… → the confirmation with the count and today's quota → create the job.
    h.click("[data-testid=compose-send]").await?;
    let confirm = wait_for_contains(h, "[data-testid=confirm-dialog]", "接收者").await?;
    assert!(
        confirm.contains(&format!("接收者{}发送速度", openids.len())),
        "the dialog shows the count: {confirm:?}"
    );
    // The limit of the sandbox's sim less what it accepted from this account so far (the test).
    let state = common::get_json(&http, &format!("{sim_url}/__sim/state")).await;
    let (limit, used) = (sandbox_template_quota(), sim_sends(&state, &appid));
    assert_eq!(used, 1, "the sim accepted the test send");
    let quota = wait_for_contains(h, "[data-testid=quota-value]", "/ 上限").await?;
    assert_eq!(
        quota,
        format!("{} / 上限 {}", grouped(limit - used), grouped(limit))
    );
    let confirm = h.text("[data-testid=confirm-dialog]").await?;
    assert!(
        confirm.contains("今日剩余额度") && !confirm.contains("额度查询失败"),
        "{confirm:?}"
    );
    assert!(
        h.client
            .find(Locator::Css("[data-testid=quota-warning]"))
            .await
            .is_err(),
        "{} recipients fit in the quota: no warning",
        openids.len()
    );
    h.screenshot("confirm-dialog").await?;
    h.click("#confirm-send").await?;

    // 任务: the bulk job runs to the end with its bar full.
    h.wait_for_route("/jobs").await?;
    let bar = format!("{}/{}", openids.len(), openids.len());
    wait_for_contains(h, "[data-testid=jobs-table]", "已完成").await?;
    wait_for_contains(h, "[data-testid=jobs-table]", &bar).await?;
    h.screenshot("job-progress").await?;

    // The sim accepted the test send and every list member exactly once.
    let state = common::get_json(&http, &format!("{sim_url}/__sim/state")).await;
    let accepted = state["sends"]["accepted"].as_u64().expect("sends.accepted");
    assert_eq!(accepted, openids.len() as u64 + 1);

    // 发送记录: every record, sent.
    h.click("[data-testid=nav-history]").await?;
    let shown = wait_for_contains(h, "[data-testid=history-table]", "已发送").await?;
    h.screenshot("history").await?;
    let rows = h
        .client
        .find_all(Locator::Css("[data-testid=history-table] .ant-table-row"))
        .await
        .map_err(wd("listing history rows"))?;
    assert_eq!(rows.len() as u64, accepted, "history rows: {shown:?}");
    // Names over ids: the account and the template by name, the ids on hover.
    let named = |testid: &'static str, want: String| async move {
        let js = format!(
            "return [...document.querySelectorAll('[data-testid={testid}]')]\
                 .map(e => [e.textContent, e.dataset.id]);"
        );
        let deadline = tokio::time::Instant::now() + RENDER_TIMEOUT;
        loop {
            let cells = h
                .client
                .execute(&js, vec![])
                .await
                .map_err(wd("reading names"))?;
            let cells: Vec<(String, String)> = serde_json::from_value(cells).unwrap_or_default();
            if !cells.is_empty() && cells.iter().all(|(text, _)| *text == want) {
                return Ok::<_, Error>(cells);
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(Error::TextMismatch {
                    css: format!("[data-testid={testid}]"),
                    want,
                    got: format!("{cells:?}"),
                });
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    let accounts = named("history-account", nickname.clone()).await?;
    assert!(
        accounts.iter().all(|(_, id)| *id == appid),
        "each name stands for the appid, kept for hover and copy: {accounts:?}"
    );
    named("history-template", TEMPLATE_TITLE.to_owned()).await?;
    assert_eq!(shown.matches("已发送").count() as u64, accepted);
    // 已送达: the sim reports each accepted message (TEMPLATESENDJOBFINISH) to the relay, the
    // app's feed applies it to its record, and the open page shows it without a refresh.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let delivered = loop {
        let text = h.text("[data-testid=history-table]").await?;
        let n = text.matches("已送达").count() as u64;
        if n == accepted || tokio::time::Instant::now() > deadline {
            break (n, text);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(delivered.0, accepted, "送达 column: {:?}", delivered.1);
    h.click("[data-testid=history-table] .ant-table-row td")
        .await?;
    let detail = wait_for_contains(h, "[data-testid=history-detail]", "access_token=***").await?;
    assert!(detail.contains("client_msg_id"), "detail: {detail:?}");
    h.screenshot("history").await?;

    // Close the drawer (its mask covers the navigation), then 概览.
    h.client
        .execute(
            "document.querySelector('.ant-drawer button')?.click(); return true;",
            vec![],
        )
        .await
        .map_err(wd("closing the drawer"))?;
    // The closing drawer's mask takes clicks until its animation ends; `click` retries.
    h.click("[data-testid=nav-overview]").await?;
    h.wait_for("[data-testid=overview-chart] canvas").await?;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    h.screenshot("overview").await?;

    cancel_mid_way(h, dir, &http, &appid, &sim_url).await?;

    // Back in 发送, the test recipient is the one last used for this account.
    h.click("[data-testid=nav-compose]").await?;
    h.click("[data-testid=compose-template]").await?;
    h.pick_option(TEMPLATE_TITLE).await?;
    h.wait_for("[data-testid=test-openid] input").await?;
    let remembered = test_openid_value(h).await?;
    assert_eq!(remembered, Value::String(test_openid.clone()));

    // #16 point 1: a job none of whose rows got through — one recipient who no longer follows
    // the account (WeChat answers 43004) — is 失败 in red, never a green 已完成, and 概览 lists
    // it under 需要关注 with what failed.
    let account = common::get_json(&http, &format!("{sim_url}/__sim/accounts/{appid}")).await;
    let former = account["former_openid"]
        .as_str()
        .expect("the sim's former follower")
        .to_owned();
    choose_then_type(
        h,
        "//*[contains(@class,'ant-segmented-item')][.//*[text()='单个 openid']]",
        "[data-testid=compose-openid]",
        &former,
    )
    .await?;
    // One openid has no list variables: 订单号 is written out.
    fill_fields(h, |key| {
        if key.starts_with("character_string") {
            "SO20261204FAIL"
        } else {
            value_for(key)
        }
    })
    .await?;
    // 发送… turns on once the live check has passed the typed values.
    h.wait_for("[data-testid=compose-send]:not([disabled])")
        .await?;
    h.screenshot("single-openid").await?;
    h.click("[data-testid=compose-send]").await?;
    wait_for_contains(h, "[data-testid=confirm-dialog]", "接收者").await?;
    h.click("#confirm-send").await?;
    h.wait_for_route("/jobs").await?;
    let first_row = "[data-testid=jobs-table] .ant-table-row:first-child";
    let failed = wait_for_contains(
        h,
        &format!("{first_row} [data-testid^=job-status-]"),
        "失败",
    )
    .await?;
    assert_eq!(failed, "失败", "shown as failed, not 已完成 or 部分失败");
    wait_for_contains(h, first_row, "失败 1").await?;
    h.screenshot("job-failed").await?;
    h.click("[data-testid=nav-overview]").await?;
    let attention = wait_for_contains(h, "[data-testid=overview-attention]", "发送失败").await?;
    assert!(
        attention.contains("1 位接收者无一送出"),
        "概览 says what failed: {attention:?}"
    );
    h.screenshot("overview-failed").await?;

    // In English, 任务 and 发送记录 say everything in English; only the user's data (the job
    // titles made from the template's name) stays as it was written.
    h.click("[data-testid=lang-en]").await?;
    let user_data = [TEMPLATE_TITLE, "测试：", LIST_NAME, nickname.as_str()];
    h.click("[data-testid=nav-jobs]").await?;
    wait_for_contains(h, "[data-testid=jobs-table]", "Completed").await?;
    let jobs = h.text("[data-testid=page-jobs]").await?;
    h.screenshot("jobs-en").await?;
    let zh = chinese_outside(&jobs, &user_data);
    h.click("[data-testid=nav-history]").await?;
    let history = wait_for_contains(h, "[data-testid=page-history]", "Sent").await?;
    h.screenshot("history-en").await?;
    // Back to Chinese before any assertion: the language outlives this data dir (WebKit storage).
    h.click("[data-testid=lang-zh-CN]").await?;
    assert!(
        zh.is_empty(),
        "Chinese on 任务 in English: {zh:?} in {jobs:?}"
    );
    let zh = chinese_outside(&history, &user_data);
    assert!(
        zh.is_empty(),
        "Chinese on 发送记录 in English: {zh:?} in {history:?}"
    );
    Ok(())
}

/// What the test-recipient picker holds.
async fn test_openid_value(h: &Harness) -> Result<Value> {
    h.client
        .execute(
            "return document.querySelector('[data-testid=test-openid] input').value;",
            vec![],
        )
        .await
        .map_err(wd("reading the test openid"))
}

/// Clicks the choice at `choice` (an XPath: antd's radios and segments have no test ids of
/// their own), then types `text` into the input it reveals at `input` (CSS).
///
/// A click on the choice that the page does not take (seen once in CI, 2026-12-06: the input never
/// appeared, right after a template was picked from a select whose dropdown was closing) is
/// photographed (`choice-missed-N`) and tried again, three times at most.
async fn choose_then_type(h: &Harness, choice: &str, input: &str, text: &str) -> Result<()> {
    let mut tries = 0;
    let field = loop {
        tries += 1;
        h.client
            .find(Locator::XPath(choice))
            .await
            .map_err(wd("finding a choice"))?
            .click()
            .await
            .map_err(wd("choosing"))?;
        if tries == 3 {
            break h.wait_for(input).await?;
        }
        match tokio::time::timeout(Duration::from_secs(5), h.wait_for(input)).await {
            Ok(found) => break found?,
            Err(_) => {
                h.screenshot(&format!("choice-missed-{tries}")).await?;
            }
        }
    };
    field.send_keys(text).await.map_err(wd("typing"))
}

/// Types each keyword field's value (`value(key)`) into the composer.
async fn fill_fields(h: &Harness, value: fn(&str) -> &'static str) -> Result<()> {
    h.wait_for("input[data-testid^=field-]").await?;
    let inputs = h
        .client
        .find_all(Locator::Css("input[data-testid^=field-]"))
        .await
        .map_err(wd("listing fields"))?;
    for input in inputs {
        let testid = input
            .attr("data-testid")
            .await
            .map_err(wd("reading a field id"))?
            .unwrap_or_default();
        let key = testid.trim_start_matches("field-");
        input
            .send_keys(value(key))
            .await
            .map_err(wd("typing a value"))?;
    }
    Ok(())
}

/// Opens job `id`'s 取消 confirmation from its 更多 menu while the job runs. The menu's item is
/// clicked after the menu's opening animation (a click during it can land on nothing; that failed
/// once in CI), and the whole step is tried again if no confirmation appeared. (`settle` cannot
/// be used here: the running job's progress bar animates until the job ends.)
async fn open_cancel_confirm(h: &Harness, id: i64) -> Result<()> {
    const CONFIRM: &str =
        "return document.querySelector('.ant-modal-confirm .ant-btn-dangerous') !== null;";
    for _ in 0..5 {
        h.click(&format!("[data-testid=job-more-{id}]")).await?;
        // The dropdown's opening animation (antd: 0.2 s), not a timing assertion.
        tokio::time::sleep(Duration::from_millis(400)).await;
        h.click(&format!("[data-testid=job-cancel-{id}]")).await?;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
        while tokio::time::Instant::now() < deadline {
            let shown = h
                .client
                .execute(CONFIRM, vec![])
                .await
                .map_err(wd("looking for the cancel confirmation"))?;
            if shown == Value::Bool(true) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        h.screenshot("cancel-confirm-missing").await?;
    }
    Err(Error::NotFound(
        "the cancel confirmation".into(),
        "not shown after five tries of 更多 → 取消".into(),
    ))
}

/// A server of its own process (wxdesk-relay, wxdesk-sim), killed when dropped.
struct Process(std::process::Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The built binary `name`: `$env` when set, else the target dir's debug build. Fails with how to
/// build it (scripts/test-all.sh does) rather than skipping.
fn binary(name: &str, env: &str) -> std::path::PathBuf {
    let path = std::env::var_os(env)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::env::var_os("CARGO_TARGET_DIR")
                .map(std::path::PathBuf::from)
                .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"))
                .join("debug")
                .join(name)
        });
    assert!(
        path.exists(),
        "{name} is not built at {}: run `cargo build -p {name}` (scripts/test-all.sh does) or set {env}",
        path.display()
    );
    path
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// Waits until `url` answers at all (the process is listening).
async fn until_listening(http: &reqwest::Client, url: &str, what: &str) {
    for _ in 0..150 {
        if http.get(url).send().await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what} never listened at {url}");
}

const RELAY_KEY: &str = "e2e-production-relay-key-5c1d0a9e";

/// #16 point 8, production mode as docs/deploy sets it up: wxdesk-relay and wxdesk-sim run as
/// processes of their own (the relay's upstream and login base are the sim; the sim pushes to the
/// relay), and a new user's app is configured through 设置 alone — AppID and AppSecret, the
/// optional token and key, the relay's address and key, egress through the relay. 保存 checks
/// the settings first (every step passes, the relay's keys included) and the badge turns 正式.
/// The admin's scan authorizes an account (the sim pushes `authorized` through the relay), and
/// the operator's day runs on it — bulk send, a job paused and cancelled mid-way — with every
/// page's numbers checked against the sim's.
#[tokio::test]
async fn production_mode_against_a_relay_and_a_sim_of_their_own() -> Result<()> {
    production_mode(Egress::Relay).await
}

/// The same with direct egress: the desk calls the API base typed in 设置 (the sim, standing in
/// for api.weixin.qq.com or a company's proxy) for tokens and sends, and the relay only for
/// tickets and pushes. The check's whitelist step names this machine's IP, not the relay's.
#[tokio::test]
async fn production_mode_with_direct_egress_to_the_api_base() -> Result<()> {
    production_mode(Egress::Direct).await
}

#[derive(Clone, Copy, PartialEq)]
enum Egress {
    Relay,
    Direct,
}

async fn production_mode(egress: Egress) -> Result<()> {
    use wxdesk_sim::{
        SANDBOX_COMPONENT_AES_KEY as AES_KEY, SANDBOX_COMPONENT_APPSECRET as APPSECRET,
        SANDBOX_COMPONENT_TOKEN as TOKEN,
    };
    // A platform and a world of its own: not the sandbox's AppID, nor its accounts (another
    // seed), so nothing here can pass for sandbox data.
    const APPID: &str = "wx0123456789abcdef";
    const SEED: &str = "20261204";
    let http = reqwest::Client::new();
    let servers = tempfile::tempdir().expect("a dir for the relay");
    let (relay_port, sim_port) = (free_port(), free_port());
    let relay_url = format!("http://127.0.0.1:{relay_port}");
    let sim_url = format!("http://127.0.0.1:{sim_port}");
    // The relay first, so the sim's first ticket push finds it.
    let _relay = Process(
        std::process::Command::new(binary("wxdesk-relay", "WXDESK_RELAY_BIN"))
            .env("WXDESK_RELAY_LISTEN", format!("127.0.0.1:{relay_port}"))
            .env("WXDESK_RELAY_DATA_DIR", servers.path())
            .env("WXDESK_RELAY_COMPONENT_APPID", APPID)
            .env("WXDESK_RELAY_COMPONENT_TOKEN", TOKEN)
            .env("WXDESK_RELAY_COMPONENT_AES_KEY", AES_KEY)
            .env("WXDESK_RELAY_API_KEY", RELAY_KEY)
            .env("WXDESK_RELAY_PUBLIC_BASE_URL", &relay_url)
            .env("WXDESK_RELAY_UPSTREAM", &sim_url)
            .env("WXDESK_RELAY_LOGIN_BASE", &sim_url)
            .stdout(std::process::Stdio::null())
            .spawn()
            .map_err(|e| Error::Io("starting wxdesk-relay".into(), e))?,
    );
    until_listening(&http, &format!("{relay_url}/healthz"), "wxdesk-relay").await;
    let _sim = Process(
        std::process::Command::new(binary("wxdesk-sim", "WXDESK_SIM_BIN"))
            .env("WXDESK_SIM_LISTEN", format!("127.0.0.1:{sim_port}"))
            .env("WXDESK_SIM_RELAY_URL", &relay_url)
            .env("WXDESK_SIM_COMPONENT_APPID", APPID)
            .env("WXDESK_SIM_COMPONENT_APPSECRET", APPSECRET)
            .env("WXDESK_SIM_COMPONENT_TOKEN", TOKEN)
            .env("WXDESK_SIM_COMPONENT_AES_KEY", AES_KEY)
            .env("WXDESK_SIM_AUTH_DOMAIN", "127.0.0.1")
            .env("WXDESK_SIM_SEED", SEED)
            .stdout(std::process::Stdio::null())
            .spawn()
            .map_err(|e| Error::Io("starting wxdesk-sim".into(), e))?,
    );
    until_listening(&http, &format!("{sim_url}/__sim/state"), "wxdesk-sim").await;

    let dir = tempfile::Builder::new()
        .prefix("wxdesk-e2e-production-")
        .tempdir()
        .map_err(|e| Error::Io("creating the data dir".into(), e))?;
    let name = match egress {
        Egress::Relay => "send-production",
        Egress::Direct => "send-production-direct",
    };
    let h = Harness::start(wxdesk_e2e::Options::new(name).data_dir(dir.path())).await?;
    h.click("[data-testid=lang-zh-CN]").await?;

    // A new user: the welcome's way to a real platform, then 设置.
    h.click("[data-testid=go-settings]").await?;
    for (field, value) in [
        ("component_appid", APPID),
        ("component_appsecret", APPSECRET),
        ("component_token", TOKEN),
        ("component_aes_key", AES_KEY),
        ("relay_url", relay_url.as_str()),
        ("relay_key", RELAY_KEY),
    ] {
        h.wait_for(&format!("[data-testid=input-{field}]"))
            .await?
            .send_keys(value)
            .await
            .map_err(wd("typing a setting"))?;
    }
    if egress == Egress::Direct {
        // The address field appears with 直连 only, WeChat's own as its placeholder.
        // Registered while hidden: wait for the shown one.
        choose_then_type(
            &h,
            "//label[.//input[@type='radio'][@value='direct']]",
            ".ant-form-item:not(.ant-form-item-hidden) [data-testid=input-api_base]",
            &sim_url,
        )
        .await?;
    }
    h.screenshot("settings-filled").await?;
    h.click("[data-testid=save]").await?;
    // Checked before saved: every step passes, then the mode is 正式.
    wait_for_contains(&h, ".ant-message", "已保存").await?;
    h.wait_for("[data-testid=mode-badge][data-mode=production]")
        .await?;
    assert!(
        h.client
            .find(Locator::Css("[data-testid=settings-check-failed]"))
            .await
            .is_err(),
        "the check passed before saving"
    );
    let summary =
        wait_for_contains(&h, "[data-testid=check-summary][data-ok='1']", "全部通过").await?;
    assert!(summary.contains("5 项"), "{summary:?}");
    let steps = h.text("[data-testid=check-steps]").await?;
    let whitelisted = match egress {
        Egress::Relay => "中继的出口 IP",
        Egress::Direct => "本机的出口 IP",
    };
    assert!(
        steps.contains(&relay_url) && steps.contains("Token 一致") && steps.contains(whitelisted),
        "the relay's keys compared, the egress's IP whitelisted ({whitelisted}): {steps:?}"
    );
    h.screenshot("settings-checked").await?;

    // The admin's scan; then the account's templates and followers synced and a list made.
    let ctx = wxdesk_core::context::Context::open(dir.path())
        .await
        .expect("open the data dir");
    let account = common::authorize_verified_account_at(ctx, &http, sim_url.clone()).await;
    let (appid, sim_url, openids) = prepared(account, &http).await;
    h.click("[data-testid=nav-accounts]").await?;
    let accounts = wait_for_contains(&h, "[data-testid=page-accounts]", "已授权").await?;
    assert!(
        !accounts.contains("沙箱"),
        "a real platform's account: {accounts:?}"
    );

    journey(&h, dir.path(), &http, &appid, &sim_url, &openids).await?;
    h.shutdown().await;
    drop(dir);
    Ok(())
}
