//! `backup export` / `backup import`: the encrypted workspace backup of wxdesk-core (database +
//! every keychain secret, argon2id + XChaCha20-Poly1305) from a shell. The passphrase comes from
//! the environment, stdin or a no-echo prompt — never argv, which every user sees in `ps`.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;

use serde_json::json;
use wxdesk_core::backup::{self, BackupSummary};
use wxdesk_core::secrets::{KeychainStore, Secret, Secrets};
use wxdesk_core::store::DB_FILE;
use zeroize::Zeroizing;

use crate::args::BackupCmd;
use crate::error::{CliError, Result};
use crate::out::Out;
use crate::{secret_input, session};

pub const ENV_PASSPHRASE: &str = "WXDESK_BACKUP_PASSPHRASE";

pub async fn run(c: BackupCmd, dir: &Path, out: Out) -> Result<()> {
    match c {
        BackupCmd::Export { file, force } => export(dir, &file, force, out).await,
        BackupCmd::Import { file } => import(dir, &file, out).await,
    }
}

async fn export(dir: &Path, file: &Path, force: bool, out: Out) -> Result<()> {
    if !dir.join(DB_FILE).exists() {
        return Err(CliError::Usage(format!(
            "数据目录 {} 没有工作区，无可备份（用 --data-dir 指定要备份的目录）",
            dir.display()
        )));
    }
    if file.exists() && !force {
        return Err(CliError::Usage(format!(
            "{} 已存在；加 --force 覆盖，或换一个文件名",
            file.display()
        )));
    }
    let passphrase = passphrase(true)?;
    // The same rule as the app's, checked before the workspace is opened (a usage error).
    backup::check_passphrase(&passphrase).map_err(|e| CliError::Usage(e.to_string()))?;
    let ctx = session::open(dir).await?;
    crate::note!("正在加密导出（派生密钥约需 1 秒）…");
    let summary = ctx
        .backup
        .export(&Secret::new(passphrase.as_str()), file)
        .await?
        .summary;
    out.emit(&report(&summary, file), || {
        crate::outln!("已导出加密备份：{}", file.display());
        print_summary(&summary);
        crate::outln!("请另行妥善保管备份口令：没有口令无法恢复。");
    })
}

async fn import(dir: &Path, file: &Path, out: Out) -> Result<()> {
    if !file.is_file() {
        return Err(CliError::Usage(format!(
            "找不到备份文件 {}",
            file.display()
        )));
    }
    let passphrase = passphrase(false)?;
    let keychain = KeychainStore::for_data_dir(dir)?;
    let secrets = Secrets::new(Arc::new(keychain));
    crate::note!("正在解密并校验备份…");
    let summary = backup::import(dir, &secrets, &passphrase, file).await?;
    out.emit(&report(&summary, file), || {
        crate::outln!("已恢复到数据目录：{}", dir.display());
        print_summary(&summary);
        crate::outln!("下一步：wxdesk-cli platform status 检测连接；账号无需重新授权。");
    })
}

fn report(s: &BackupSummary, file: &Path) -> serde_json::Value {
    json!({
        "file": file.display().to_string(),
        "created_at": s.created_at,
        "database_bytes": s.database_bytes,
        "secrets": s.secrets,
        "accounts_with_refresh_token": s.accounts_with_refresh_token,
    })
}

fn print_summary(s: &BackupSummary) {
    let created = time::OffsetDateTime::from_unix_timestamp(s.created_at)
        .ok()
        .and_then(|t| {
            let beijing = time::UtcOffset::from_hms(8, 0, 0).ok()?;
            let f = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
            t.to_offset(beijing).format(&f).ok()
        })
        .unwrap_or_else(|| s.created_at.to_string());
    crate::outln!("  备份时间      {created}（北京时间）");
    crate::outln!("  数据库        {} 字节", s.database_bytes);
    crate::outln!("  钥匙串条目    {} 个", s.secrets);
    crate::outln!("  账号刷新令牌  {} 个", s.accounts_with_refresh_token);
}

/// The environment, else the first line of a piped stdin, else a no-echo prompt on the terminal
/// (twice when `confirm`, so a typo cannot lock the operator out of their own backup).
fn passphrase(confirm: bool) -> Result<Zeroizing<String>> {
    if let Ok(p) = std::env::var(ENV_PASSPHRASE)
        && !p.is_empty()
    {
        return Ok(Zeroizing::new(p));
    }
    if !std::io::stdin().is_terminal() {
        let p = secret_input::stdin_line()?;
        if p.is_empty() {
            return Err(CliError::Usage(format!(
                "没有备份口令：设置环境变量 {ENV_PASSPHRASE}，或在标准输入第一行提供"
            )));
        }
        return Ok(p);
    }
    let first = secret_input::prompt("备份口令：", ENV_PASSPHRASE)?;
    if confirm && secret_input::prompt("再输入一次：", ENV_PASSPHRASE)? != first {
        return Err(CliError::Usage("两次输入的口令不一致".into()));
    }
    Ok(first)
}
