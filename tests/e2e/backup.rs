//! 备份与恢复 as a staff member moving to a new computer uses it: in 设置 of a sandbox workspace
//! with an authorized account, 导出加密备份 (the passphrase rule, the cannot-recover warning, the
//! counts of what the file holds); then a new, empty data dir's welcome screen offers
//! 从备份恢复, refuses a wrong passphrase, restores the file and announces the restart. The
//! restored data dir is read back through wxdesk-core (as the CLI would) to show the account and
//! its refresh token arrived.
//!
//! WebDriver cannot drive the native save/open dialogs, so the test answers the window's one
//! `plugin:dialog|save` / `plugin:dialog|open` request itself (a `fetch` stand-in in the page:
//! the app has no test hook). 重新启动 is not pressed: the relaunched process would outlive the
//! WebDriver session. (Checked by hand once: after 重新启动 the app logged "restarting after a
//! restore", a new process logged "wxdesk started" on the same data dir and brought up the
//! restored workspace's services.)

mod common;

use std::path::Path;
use std::time::Duration;

use fantoccini::Locator;
use serde_json::{Value, json};
use wxdesk_core::backup;
use wxdesk_core::context::Context;
use wxdesk_core::secrets::SecretKey;
use wxdesk_e2e::{Error, Harness, Options, RENDER_TIMEOUT, Result};

use common::{authorize_verified_account, fill, start_in_sandbox, wait_for_contains, wd};

const PASS: &str = "correct horse 2026";

/// Stands in for the native file dialog: the window's `plugin:dialog|<which>` IPC request is
/// answered with `path`, every other request goes to the app as usual.
async fn answer_file_dialog(h: &Harness, which: &str, path: &Path) -> Result<()> {
    const JS: &str = "const [cmd, answer] = arguments;\
        const real = window.__e2eRealFetch || window.fetch;\
        window.__e2eRealFetch = real;\
        window.fetch = (url, init) => String(url).includes(encodeURIComponent(cmd))\
          ? Promise.resolve(new Response(JSON.stringify(answer),\
              {headers: {'Tauri-Response': 'ok', 'Content-Type': 'application/json'}}))\
          : real(url, init);";
    h.client
        .execute(
            JS,
            vec![
                json!(format!("plugin:dialog|{which}")),
                json!(path.to_string_lossy()),
            ],
        )
        .await
        .map_err(wd("answering the file dialog"))?;
    Ok(())
}

async fn scroll_to(h: &Harness, css: &str) -> Result<()> {
    h.client
        .execute(
            "document.querySelector(arguments[0]).scrollIntoView({block: 'center'});",
            vec![json!(css)],
        )
        .await
        .map_err(wd("scrolling"))?;
    Ok(())
}

/// Waits until the 从备份恢复 button is `enabled` (its status query answered).
async fn wait_restore_enabled(h: &Harness, enabled: bool) -> Result<()> {
    let deadline = tokio::time::Instant::now() + RENDER_TIMEOUT;
    loop {
        let v = h
            .client
            .execute(
                "const b = document.querySelector('[data-testid=backup-restore]');\
                 return b ? !b.disabled && !b.classList.contains('ant-btn-loading') : null;",
                vec![],
            )
            .await
            .map_err(wd("reading the restore button"))?;
        if v == Value::Bool(enabled) {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(Error::TextMismatch {
                css: "[data-testid=backup-restore]".into(),
                want: format!("enabled = {enabled}"),
                got: v.to_string(),
            });
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn settings_exports_a_backup_and_the_welcome_screen_of_a_new_data_dir_restores_it()
-> Result<()> {
    let http = reqwest::Client::new();
    let out = tempfile::tempdir().map_err(|e| Error::Io("creating the output dir".into(), e))?;
    let file = out.path().join("wxdesk-备份-e2e.wxbak");

    // The old computer: 设置 → 备份与恢复.
    let (old, h) = start_in_sandbox("backup").await?;
    let appid = authorize_verified_account(old.path(), &http).await.appid;
    h.click("[data-testid=nav-settings]").await?;
    wait_for_contains(&h, "[data-testid=backup-card]", "导出加密备份").await?;
    // Not empty: restoring here would overwrite the workspace, so the button is off and says why.
    wait_restore_enabled(&h, false).await?;
    scroll_to(&h, "[data-testid=backup-card]").await?;
    h.client
        .execute(
            "document.querySelector('[data-testid=restore-disabled]')\
               .dispatchEvent(new MouseEvent('mouseover', {bubbles: true}));",
            vec![],
        )
        .await
        .map_err(wd("hovering the restore button"))?;
    let tip = wait_for_contains(&h, ".ant-tooltip", "WXDESK_DATA_DIR").await?;
    assert!(tip.contains("wxdesk-cli backup import"), "{tip}");
    h.screenshot("settings-backup-card").await?;

    // 导出加密备份: the rule is enforced before any dialog opens.
    h.click("[data-testid=backup-export]").await?;
    wait_for_contains(
        &h,
        "[data-testid=backup-export-modal]",
        "忘记口令就无法恢复备份",
    )
    .await?;
    fill(&h, "[data-testid=backup-passphrase]", "short").await?;
    fill(&h, "[data-testid=backup-confirm]", "short").await?;
    h.click("[data-testid=backup-export-go]").await?;
    wait_for_contains(&h, "[data-testid=backup-export-modal]", "口令至少 8 个字符").await?;
    h.screenshot("export-rule").await?;
    fill(&h, "[data-testid=backup-passphrase]", PASS).await?;
    fill(&h, "[data-testid=backup-confirm]", "correct horse 2025").await?;
    h.click("[data-testid=backup-export-go]").await?;
    wait_for_contains(
        &h,
        "[data-testid=backup-export-modal]",
        "两次输入的口令不一致",
    )
    .await?;
    fill(&h, "[data-testid=backup-confirm]", PASS).await?;
    h.screenshot("export-modal").await?;
    answer_file_dialog(&h, "save", &file).await?;
    h.click("[data-testid=backup-export-go]").await?;
    let done = wait_for_contains(&h, "[data-testid=backup-export-done]", "备份已导出").await?;
    // Label and value cells read back without separators: compare without whitespace.
    let compact: String = done.split_whitespace().collect();
    assert!(compact.contains("账号刷新令牌1个"), "{done}");
    // Platform AppSecret, Token, EncodingAESKey, relay key, the account's refresh token.
    assert!(compact.contains("钥匙串条目5个"), "{done}");
    assert!(
        done.contains(&file.to_string_lossy().into_owned()),
        "{done}"
    );
    h.screenshot("export-done").await?;
    let bytes = std::fs::read(&file).map_err(|e| Error::Io("reading the backup".into(), e))?;
    assert_eq!(&bytes[..8], b"WXDESKBK");
    h.shutdown().await;

    // The new computer: an empty data dir opens on the welcome screen.
    let h = Harness::start(Options::new("backup-restore")).await?;
    let new_dir = h.data_dir().to_path_buf();
    wait_for_contains(&h, "[data-testid=welcome-restore]", "导出过加密备份").await?;
    wait_restore_enabled(&h, true).await?;
    h.screenshot("welcome-restore").await?;
    h.click("[data-testid=backup-restore]").await?;
    wait_for_contains(&h, "[data-testid=restore-modal]", "导出时设置的口令").await?;
    h.screenshot("restore-modal").await?;
    answer_file_dialog(&h, "open", &file).await?;
    h.click("[data-testid=restore-pick]").await?;
    wait_for_contains(&h, "[data-testid=restore-file]", "wxdesk-备份-e2e.wxbak").await?;

    // A wrong passphrase is refused and changes nothing.
    fill(&h, "[data-testid=restore-passphrase]", "not the passphrase").await?;
    h.click("[data-testid=restore-go]").await?;
    wait_for_contains(&h, "[data-testid=restore-error]", "备份口令错误").await?;
    h.screenshot("restore-wrong-passphrase").await?;
    let seen = Context::open(&new_dir)
        .await
        .expect("open the new data dir");
    assert!(
        backup::workspace_contents(seen.platform.store())
            .await
            .expect("contents")
            .is_empty()
    );
    let refresh = SecretKey::RefreshToken(appid.clone());
    assert!(
        seen.platform
            .secrets()
            .get(refresh.clone())
            .await
            .expect("keychain")
            .is_none()
    );

    fill(&h, "[data-testid=restore-passphrase]", PASS).await?;
    h.click("[data-testid=restore-go]").await?;
    let done =
        wait_for_contains(&h, "[data-testid=restore-done]", "恢复完成，应用将重新启动").await?;
    assert!(
        done.contains("已恢复 1 个账号的刷新令牌和 5 个钥匙串条目"),
        "{done}"
    );
    h.screenshot("restore-done").await?;

    // The new data dir and its keychain hold the old workspace.
    let accounts: Vec<String> = seen
        .accounts
        .list()
        .await
        .expect("accounts")
        .into_iter()
        .map(|a| a.appid)
        .collect();
    assert_eq!(accounts, vec![appid]);
    let old_ctx = Context::open(old.path())
        .await
        .expect("open the old data dir");
    let restored = seen
        .platform
        .secrets()
        .get(refresh.clone())
        .await
        .expect("keychain");
    let original = old_ctx
        .platform
        .secrets()
        .get(refresh)
        .await
        .expect("keychain");
    assert_eq!(
        restored.as_ref().map(|s| s.expose()),
        original.as_ref().map(|s| s.expose()),
        "the refresh token came along"
    );
    assert!(restored.is_some());
    let buttons = h
        .client
        .find_all(Locator::Css("[data-testid=restart-now]"))
        .await
        .map_err(wd("finding 重新启动"))?;
    assert_eq!(buttons.len(), 1, "the dialog offers the restart");
    h.shutdown().await;
    Ok(())
}
