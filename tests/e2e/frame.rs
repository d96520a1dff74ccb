//! The app frame as a user sees it: the Chinese sidebar, each page's empty state, the 沙箱/正式
//! badge, the language switch, and the data directory the app was given.

use std::path::Path;

use fantoccini::Locator;
use wxdesk_e2e::{Harness, Options, Result};

const SIDEBAR_ZH: [&str; 8] = [
    "概览",
    "授权账号",
    "模板",
    "用户与名单",
    "发送",
    "任务",
    "发送记录",
    "设置",
];

/// (route key, the page's own heading, one more thing that page must say in a sandbox with no
/// accounts yet). The heading proves the route rendered the right page in Chinese; the second
/// string that the page is in the state a new sandbox user sees.
const PAGES: [(&str, &str, &str); 8] = [
    ("overview", "概览", "今日 · 发送成功"),
    ("accounts", "授权账号", "还没有授权账号"),
    ("templates", "模板", "还没有模板"),
    ("audience", "用户与名单", "还没有用户和名单"),
    ("compose", "发送", "还不能发送"),
    ("jobs", "任务", "创建的任务会出现在这里"),
    ("history", "发送记录", "发送记录"),
    ("settings", "设置", "平台"),
];

async fn sidebar_labels(h: &Harness) -> Result<Vec<String>> {
    let mut labels = Vec::new();
    for el in h
        .client
        .find_all(Locator::Css("[data-testid=sidebar] [data-testid^=nav-]"))
        .await
        .map_err(|e| wxdesk_e2e::Error::WebDriver("listing the sidebar".into(), e.to_string()))?
    {
        labels.push(el.text().await.unwrap_or_default());
    }
    Ok(labels)
}

/// Sandbox mode saved in the data dir's settings and keychain, as 「体验沙箱」 does; the servers
/// it starts stop again at once (the app starts its own).
async fn prepare_sandbox(dir: &Path) {
    let ctx = wxdesk_core::context::Context::open(dir)
        .await
        .expect("open the data dir");
    let sb = wxdesk_core::sandbox::start_sandbox(&ctx.platform, dir)
        .await
        .expect("sandbox settings");
    sb.shutdown().await;
}

#[tokio::test]
async fn frame_shows_chinese_sidebar_every_page_badge_and_language_switch() -> Result<()> {
    let dir = tempfile::tempdir().expect("temp dir");
    prepare_sandbox(dir.path()).await;
    let h = Harness::start(Options::new("frame").data_dir(dir.path())).await?;
    h.wait_for("[data-testid=sidebar]").await?;

    h.wait_for_text("[data-testid=mode-badge]", "沙箱").await?;
    assert_eq!(sidebar_labels(&h).await?, SIDEBAR_ZH);
    assert_eq!(h.text("[data-testid=app-title]").await?, "wxdesk");
    h.screenshot("main").await?;

    for (key, heading, says) in PAGES {
        h.click(&format!("[data-testid=nav-{key}]")).await?;
        // The empty state appears once the page's data has loaded.
        let page = h
            .wait_for_contains(&format!("[data-testid=page-{key}]"), says)
            .await?;
        assert!(
            page.starts_with(heading) && page.contains(says),
            "page {key} should start with {heading:?} and say {says:?}, shows {page:?}"
        );
        h.screenshot(&format!("page-{key}")).await?;
    }

    // Settings shows what app_info returned: the data dir this harness gave the app.
    let data_dir = h.data_dir().to_string_lossy().into_owned();
    let info = h
        .wait_for_contains("[data-testid=app-info]", &data_dir)
        .await?;
    assert!(
        info.contains(&data_dir),
        "settings should show {data_dir:?}, shows {info:?}"
    );
    assert!(
        info.contains("wx5a9d0c0e7f3b1a2c"),
        "sandbox appid missing from {info:?}"
    );

    // The empty state's action leads on: 授权账号 -> 授权新账号.
    h.click("[data-testid=nav-accounts]").await?;
    h.click("[data-testid=empty-action-accounts]").await?;
    h.wait_for_route("/accounts/authorize").await?;

    // English and back; the badge follows.
    h.click("[data-testid=lang-en]").await?;
    h.wait_for_text("[data-testid=nav-overview]", "Overview")
        .await?;
    h.wait_for_text("[data-testid=mode-badge]", "Sandbox")
        .await?;
    assert_eq!(
        sidebar_labels(&h).await?,
        [
            "Overview",
            "Accounts",
            "Templates",
            "Users & lists",
            "Send",
            "Jobs",
            "History",
            "Settings"
        ]
    );
    h.screenshot("english").await?;
    h.click("[data-testid=lang-zh-CN]").await?;
    h.wait_for_text("[data-testid=nav-overview]", "概览")
        .await?;
    h.wait_for_text("[data-testid=mode-badge]", "沙箱").await?;

    let log = h.app_log();
    assert!(log.contains("wxdesk started"), "app log: {log:?}");
    h.shutdown().await;
    Ok(())
}
