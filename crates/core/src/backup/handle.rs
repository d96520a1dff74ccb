//! `ctx.backup`: 备份与恢复 for the faces — what the workspace holds (a restore is offered only
//! into an empty one), the encrypted export, and the restore into the running app's workspace.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{BackupSummary, KdfParams};
use crate::error::{Error, Result};
use crate::platform::Platform;
use crate::secrets::Secret;

/// Shorter passphrases fall to a guessing attack even behind argon2id (the rule of every face).
pub const MIN_PASSPHRASE_CHARS: usize = 8;

/// Refuses a new backup passphrase shorter than [`MIN_PASSPHRASE_CHARS`] characters (characters,
/// not bytes: eight Chinese characters are enough). The passphrase is never part of the message.
pub fn check_passphrase(passphrase: &str) -> Result<()> {
    if passphrase.chars().count() < MIN_PASSPHRASE_CHARS {
        return Err(Error::input(
            format!("备份口令至少 {MIN_PASSPHRASE_CHARS} 个字符"),
            format!("The backup passphrase needs at least {MIN_PASSPHRASE_CHARS} characters."),
        ));
    }
    Ok(())
}

/// Whether 从备份恢复 is offered: only a workspace with nothing in it may be replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct BackupStatus {
    pub restore_allowed: bool,
    pub platform_configured: bool,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub accounts: u64,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub jobs: u64,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub lists: u64,
    /// The data directory (to restore, start with a new one).
    pub data_dir: String,
    /// The passphrase rule, so the window checks it before sending the passphrase.
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub min_passphrase_chars: usize,
}

/// What an export wrote or a restore put back (counts only, never a value).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct BackupReport {
    /// The backup file.
    pub path: String,
    pub summary: BackupSummary,
}

/// The backup use cases over the platform's store and keychain.
#[derive(Clone, Debug)]
pub struct Backup {
    platform: Platform,
    data_dir: PathBuf,
    kdf: KdfParams,
}

impl Backup {
    pub fn new(platform: Platform, data_dir: &Path) -> Self {
        Backup {
            platform,
            data_dir: data_dir.to_path_buf(),
            kdf: KdfParams::default(),
        }
    }

    /// Exports with another key-derivation cost (tests use a cheap one).
    #[must_use]
    pub fn with_kdf(mut self, kdf: KdfParams) -> Self {
        self.kdf = kdf;
        self
    }

    /// What the workspace holds, and whether a restore may replace it.
    pub async fn status(&self) -> Result<BackupStatus> {
        let c = super::workspace_contents(self.platform.store()).await?;
        Ok(BackupStatus {
            restore_allowed: c.is_empty(),
            platform_configured: c.platform_configured,
            accounts: c.accounts,
            jobs: c.jobs,
            lists: c.lists,
            data_dir: self.data_dir.to_string_lossy().into_owned(),
            min_passphrase_chars: MIN_PASSPHRASE_CHARS,
        })
    }

    /// 导出加密备份 to `path`, sealed with `passphrase` (at least [`MIN_PASSPHRASE_CHARS`]).
    pub async fn export(&self, passphrase: &Secret, path: &Path) -> Result<BackupReport> {
        check_passphrase(passphrase.expose())?;
        let summary = super::export(
            self.platform.store(),
            self.platform.secrets(),
            passphrase.expose(),
            self.kdf,
            path,
        )
        .await?;
        tracing::info!(
            secrets = summary.secrets,
            refresh_tokens = summary.accounts_with_refresh_token,
            "encrypted backup exported"
        );
        Ok(report(path, summary))
    }

    /// 从备份恢复 into this (empty) workspace. No length rule: the backup was sealed with
    /// whatever passphrase it was made with. Services that started on the empty workspace
    /// should restart afterwards (the app restarts itself).
    pub async fn restore(&self, passphrase: &Secret, path: &Path) -> Result<BackupReport> {
        let summary = super::restore_into_empty(
            self.platform.store(),
            self.platform.secrets(),
            passphrase.expose(),
            path,
        )
        .await?;
        tracing::info!(
            secrets = summary.secrets,
            refresh_tokens = summary.accounts_with_refresh_token,
            "workspace restored from a backup"
        );
        Ok(report(path, summary))
    }
}

fn report(path: &Path, summary: BackupSummary) -> BackupReport {
    BackupReport {
        path: path.to_string_lossy().into_owned(),
        summary,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_passphrase_shorter_than_eight_characters_is_refused_with_the_rule_in_both_languages() {
        let err = check_passphrase("1234567").unwrap_err();
        assert_eq!(err.to_string(), "备份口令至少 8 个字符");
        assert_eq!(
            err.message(crate::Lang::En),
            "The backup passphrase needs at least 8 characters."
        );
        assert!(!err.to_string().contains("1234567"));
        // Characters, not bytes: eight Chinese characters are enough.
        assert!(check_passphrase("八个汉字的口令啊").is_ok());
        assert!(check_passphrase("12345678").is_ok());
    }
}
