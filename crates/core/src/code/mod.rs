//! 小程序代码管理 (protocol section L): the platform's template library, each authorized mini
//! program's code (domains, commit with its ext.json, trial QR code, categories and pages,
//! audit, release, rollback, visit status, the audit quota), and the bulk rollout of one
//! template to many clients' mini programs ([`rollout`], [`runner`]).
//!
//! Everything is reached through the [`Code`] handle (`ctx.code`). WeChat's answers come back
//! as `Error::WeChat` with the errcode's explanation and hint (wxdesk-wechat's table); other
//! failures as `Error::Code` ([`CodeError`]). Audit results arrive as pushes through the relay
//! ([`AuditEvents`], a feed handler) and, as a fallback, by polling get_auditstatus.

mod db;
mod error;
mod events;
pub mod ext;
mod forms;
mod jobs;
pub mod model;
mod rollout;
mod runner;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use wxdesk_wechat::api as wx;

pub use error::CodeError;
pub use events::AuditEvents;
pub use ext::PlannedRow;
pub use forms::{AuditForm, AuditPick, ClientsForm, DomainOp, RolloutForm};
pub use jobs::{RolloutClients, RolloutDetail, RolloutInput, RolloutWatch};
pub use model::*;
pub use runner::RolloutConfig;
pub use wxdesk_wechat::api::{AuditItem, DomainAction, ServerDomains, SubmitAudit};

use crate::error::Result;
use crate::platform::Platform;
use crate::secrets::Secret;
use crate::store::Store;
use crate::store::accounts::{self, AccountKind, AccountStatus};

/// The trial version's QR code image.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct QrCode {
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// One version a rollback may return to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct HistoryVersion {
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub app_version: i64,
    pub user_version: String,
    pub user_desc: String,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub commit_time: i64,
}

/// The code-management handle: cheap to clone; rollouts started through any clone share one
/// registry of runners.
#[derive(Clone)]
pub struct Code {
    platform: Platform,
    data_dir: PathBuf,
    cfg: RolloutConfig,
    host: Arc<rollout::Host>,
}

impl std::fmt::Debug for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Code")
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}

impl Code {
    pub fn new(platform: Platform, data_dir: &Path) -> Code {
        Code {
            platform,
            data_dir: data_dir.to_path_buf(),
            cfg: RolloutConfig::default(),
            host: Arc::default(),
        }
    }

    /// How rollouts started through this handle are driven (tests poll faster).
    #[must_use]
    pub fn with_rollout_config(mut self, cfg: RolloutConfig) -> Code {
        self.cfg = cfg;
        self
    }

    fn store(&self) -> &Store {
        self.platform.store()
    }

    /// An authorized mini program here, or `CodeError::NotMiniProgram`.
    async fn check_mini(&self, appid: &str) -> Result<()> {
        let id = appid.to_string();
        let row = self.store().call(move |c| accounts::get(c, &id)).await?;
        match row {
            Some(a) if a.kind == AccountKind::Mini && a.status == AccountStatus::Authorized => {
                Ok(())
            }
            _ => Err(CodeError::NotMiniProgram {
                appid: appid.to_string(),
            }
            .into()),
        }
    }

    /// A call with the mini program's authorizer token (retries, one token refresh).
    async fn aat<T, F, Fut>(&self, appid: &str, f: F) -> Result<T>
    where
        F: FnMut(wx::Client, Secret) -> Fut,
        Fut: Future<Output = wxdesk_wechat::Result<T>>,
    {
        self.check_mini(appid).await?;
        let api = self.platform.api().await?;
        crate::gateway::call(&*api, appid, f).await
    }

    /// A call with the component token (one refresh on a token error).
    async fn cat<T, F, Fut>(&self, f: F) -> Result<T>
    where
        F: Fn(wx::Client, Secret) -> Fut,
        Fut: Future<Output = wxdesk_wechat::Result<T>>,
    {
        let api = self.platform.api().await?;
        let client = api.client().clone();
        Ok(api
            .tokens()
            .call_with_component_token(|cat| f(client.clone(), cat))
            .await?)
    }

    // ---- template library ----

    /// 草稿箱 and 模板库.
    pub async fn library(&self) -> Result<Library> {
        let drafts = self
            .cat(|c, t| async move { c.wxa_template_drafts(&t).await })
            .await?;
        let templates = self
            .cat(|c, t| async move { c.wxa_templates(&t, None).await })
            .await?;
        Ok(Library {
            drafts: drafts.into_iter().map(Draft::from).collect(),
            templates: templates.into_iter().map(Template::from).collect(),
        })
    }

    /// Adds a draft to the library (0 普通, 1 标准) and returns the library after it.
    pub async fn add_template(&self, draft_id: i64, template_type: i64) -> Result<Library> {
        self.cat(|c, t| async move { c.wxa_add_to_template(&t, draft_id, template_type).await })
            .await?;
        self.library().await
    }

    pub async fn delete_template(&self, template_id: i64) -> Result<()> {
        self.cat(|c, t| async move { c.wxa_delete_template(&t, template_id).await })
            .await
    }

    // ---- one mini program ----

    /// 服务器域名: add, delete, set or get (the lists are ignored for get).
    pub async fn domains(
        &self,
        appid: &str,
        op: DomainAction,
        lists: &ServerDomains,
    ) -> Result<Domains> {
        let r = self
            .aat(appid, |c, t| async move {
                c.wxa_modify_domain(&t, op, lists).await
            })
            .await?;
        Ok(Domains {
            invalid: r.invalid().into_iter().map(str::to_string).collect(),
            current: r.current.into(),
        })
    }

    /// 业务域名; `op: None` adds every webview domain the platform registered.
    pub async fn webview_domains(
        &self,
        appid: &str,
        op: Option<DomainAction>,
        domains: &[String],
    ) -> Result<Vec<String>> {
        self.aat(appid, |c, t| async move {
            c.wxa_set_webview_domain(&t, op, domains).await
        })
        .await
    }

    /// Uploads the template with this client's ext.json (checked to be a JSON object first).
    pub async fn commit(&self, appid: &str, input: &CommitInput) -> Result<()> {
        check_version(&input.user_version)?;
        let ext_json = match &input.ext_json {
            Some(text) => serde_json::Value::Object(ext::parse_object(text)?).to_string(),
            None => "{}".to_string(),
        };
        let req = wx::CommitRequest {
            template_id: input.template_id,
            ext_json,
            user_version: input.user_version.clone(),
            user_desc: input.user_desc.clone(),
        };
        let req = &req;
        self.aat(appid, |c, t| async move { c.wxa_commit(&t, req).await })
            .await
    }

    /// The 体验版 QR code (image bytes); `path` opens a given page.
    pub async fn qrcode(&self, appid: &str, path: Option<&str>) -> Result<QrCode> {
        let img = self
            .aat(appid, |c, t| async move { c.wxa_qrcode(&t, path).await })
            .await?;
        Ok(QrCode {
            content_type: img.content_type,
            bytes: img.bytes,
        })
    }

    pub async fn categories(&self, appid: &str) -> Result<Vec<Category>> {
        let list = self
            .aat(appid, |c, t| async move { c.wxa_categories(&t).await })
            .await?;
        Ok(list.into_iter().map(Category::from).collect())
    }

    pub async fn pages(&self, appid: &str) -> Result<Vec<String>> {
        self.aat(appid, |c, t| async move { c.wxa_pages(&t).await })
            .await
    }

    /// Submits the 体验版 for audit; returns the auditid.
    pub async fn submit_audit(&self, appid: &str, req: &SubmitAudit) -> Result<i64> {
        self.aat(
            appid,
            |c, t| async move { c.wxa_submit_audit(&t, req).await },
        )
        .await
    }

    /// The latest audit, `None` when there never was one.
    pub async fn latest_audit(&self, appid: &str) -> Result<Option<Audit>> {
        let l = self
            .aat(
                appid,
                |c, t| async move { c.wxa_latest_audit_status(&t).await },
            )
            .await?;
        Ok(l.map(|l| Audit {
            auditid: l.auditid,
            state: AuditState::from_status(l.status),
            status: l.status,
            reason: l.reason.filter(|r| !r.is_empty()),
            screenshot: l.screenshot.filter(|s| !s.is_empty()),
            user_version: l.user_version,
            submitted_at: l.submit_audit_time,
        }))
    }

    /// Where the mini program's code stands: versions, the latest audit, the newest audit push
    /// recorded from the relay, the visit status.
    pub async fn status(&self, appid: &str) -> Result<CodeStatus> {
        let v = self
            .aat(appid, |c, t| async move { c.wxa_version_info(&t).await })
            .await?;
        let latest_audit = self.latest_audit(appid).await?;
        let visit_open = self
            .aat(appid, |c, t| async move { c.wxa_visit_status(&t).await })
            .await
            .ok()
            .map(|s| s == 1);
        let id = appid.to_string();
        let last_push = self.store().call(move |c| db::last_push(c, &id)).await?;
        Ok(CodeStatus {
            appid: appid.to_string(),
            trial: v.exp_info.map(|e| VersionLine {
                version: e.exp_version,
                desc: e.exp_desc,
                time: e.exp_time,
            }),
            online: v.release_info.map(|r| VersionLine {
                version: r.release_version,
                desc: r.release_desc,
                time: r.release_time,
            }),
            latest_audit,
            last_push,
            visit_open,
        })
    }

    /// Publishes the last approved version.
    pub async fn release(&self, appid: &str) -> Result<()> {
        self.aat(appid, |c, t| async move { c.wxa_release(&t).await })
            .await
    }

    /// Back to `app_version` (from [`Code::history`]) or the previous online version.
    pub async fn rollback(&self, appid: &str, app_version: Option<i64>) -> Result<()> {
        self.aat(appid, |c, t| async move {
            c.wxa_revert_code_release(&t, app_version).await
        })
        .await
    }

    pub async fn history(&self, appid: &str) -> Result<Vec<HistoryVersion>> {
        let list = self
            .aat(
                appid,
                |c, t| async move { c.wxa_history_versions(&t).await },
            )
            .await?;
        Ok(list
            .into_iter()
            .map(|h| HistoryVersion {
                app_version: h.app_version,
                user_version: h.user_version,
                user_desc: h.user_desc,
                commit_time: h.commit_time,
            })
            .collect())
    }

    /// 撤回 the audit under way (5 a day, 10 a month).
    pub async fn undo_audit(&self, appid: &str) -> Result<()> {
        self.aat(appid, |c, t| async move { c.wxa_undo_code_audit(&t).await })
            .await
    }

    /// 加急 an audit (the latest when `auditid` is `None`).
    pub async fn speed_up(&self, appid: &str, auditid: Option<i64>) -> Result<()> {
        let auditid = match auditid {
            Some(a) => a,
            None => match self.latest_audit(appid).await? {
                Some(a) => a.auditid,
                None => {
                    return Err(crate::Error::WeChat(wxdesk_wechat::Error::WeChat(
                        wxdesk_wechat::WeChatError::new(
                            wx::NO_AUDIT_ERRCODE,
                            "no valid audit_id exist",
                        ),
                    )));
                }
            },
        };
        self.aat(appid, |c, t| async move {
            c.wxa_speedup_audit(&t, auditid).await
        })
        .await
    }

    /// Opens (`true`) or closes the online version to users.
    pub async fn set_visit(&self, appid: &str, open: bool) -> Result<()> {
        self.aat(appid, |c, t| async move {
            c.wxa_change_visit_status(&t, open).await
        })
        .await
    }

    /// The platform's audit quota, asked with `appid`'s token or any authorized mini program's.
    pub async fn quota(&self, appid: Option<&str>) -> Result<AuditQuota> {
        let appid = match appid {
            Some(a) => a.to_string(),
            None => self
                .store()
                .call(|c| accounts::list(c))
                .await?
                .into_iter()
                .find(|a| a.kind == AccountKind::Mini && a.status == AccountStatus::Authorized)
                .map(|a| a.appid)
                .ok_or(CodeError::NoMiniProgram)?,
        };
        let q = self
            .aat(&appid, |c, t| async move { c.wxa_query_quota(&t).await })
            .await?;
        Ok(q.into())
    }

    /// Which mini programs are on which online version (getversioninfo for each).
    pub async fn versions(&self, appids: &[String]) -> Result<VersionSummary> {
        use futures::StreamExt;
        let answers: Vec<(String, Result<wx::VersionInfo>)> =
            futures::stream::iter(appids.iter().cloned())
                .map(|appid| async move {
                    let r = self
                        .aat(&appid, |c, t| async move { c.wxa_version_info(&t).await })
                        .await;
                    (appid, r)
                })
                .buffered(4)
                .collect()
                .await;
        let mut groups: Vec<VersionGroup> = Vec::new();
        let mut unknown = Vec::new();
        for (appid, r) in answers {
            match r {
                Ok(v) => {
                    let version = v.release_info.map(|r| r.release_version);
                    match groups.iter_mut().find(|g| g.version == version) {
                        Some(g) => g.appids.push(appid),
                        None => groups.push(VersionGroup {
                            version,
                            appids: vec![appid],
                        }),
                    }
                }
                Err(e) => unknown.push((appid, e.to_string())),
            }
        }
        groups.sort_by_key(|g| std::cmp::Reverse(g.appids.len()));
        Ok(VersionSummary { groups, unknown })
    }
}

/// WeChat takes 1 to 64 characters of user_version.
pub(crate) fn check_version(v: &str) -> Result<()> {
    let n = v.trim().chars().count();
    if n == 0 || n > 64 {
        return Err(CodeError::Version {
            version: v.to_string(),
        }
        .into());
    }
    Ok(())
}
