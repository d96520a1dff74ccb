//! The rollout use cases of [`Code`]: plan and write a rollout, start (or resume) it, pause,
//! cancel, watch its progress, and read it back.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;
use serde_json::Map;
use tokio::sync::watch;
use wxdesk_wechat::api::SubmitAudit;

use super::db::{self, NewRollout};
use super::error::Problem;
use super::ext::{self, PlannedRow};
use super::model::{
    Pause, PauseCode, Rollout, RolloutProgress, RolloutRow, RolloutStatus, RolloutTarget,
    VersionSummary,
};
use super::rollout::{self, progress_of};
use super::runner::StepCtx;
use super::{Code, CodeError, check_version};
use crate::audience::ImportSource;
use crate::error::Result;
use crate::store::accounts::{self, AccountKind, AccountStatus};

/// Which mini programs a rollout covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RolloutClients {
    /// A CSV/XLSX table with an `appid` column; its other columns go into each ext.json.
    Table(ImportSource),
    /// These appids, each with the base ext.json.
    Appids(Vec<String>),
}

/// What the operator asks for.
#[derive(Debug, Clone)]
pub struct RolloutInput {
    pub template_id: i64,
    pub user_version: String,
    pub user_desc: String,
    pub target: RolloutTarget,
    /// The ext.json every client starts from (a JSON object); `None` is `{}`.
    pub base_ext_json: Option<String>,
    pub clients: RolloutClients,
    /// The submit_audit body for every mini program (all fields optional).
    pub audit: SubmitAudit,
}

/// A rollout with all its rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RolloutDetail {
    pub rollout: Rollout,
    pub rows: Vec<RolloutRow>,
}

impl Code {
    /// Checks the input and makes every client's ext.json, without writing anything: the
    /// template must be in the library, the version valid, every appid an authorized mini
    /// program here, once.
    pub async fn plan_rollout(&self, input: &RolloutInput) -> Result<Vec<PlannedRow>> {
        check_version(&input.user_version)?;
        let base = match &input.base_ext_json {
            Some(text) => ext::parse_object(text)?,
            None => Map::new(),
        };
        let minis: HashSet<String> = self
            .store()
            .call(|c| accounts::list(c))
            .await?
            .into_iter()
            .filter(|a| a.kind == AccountKind::Mini && a.status == AccountStatus::Authorized)
            .map(|a| a.appid)
            .collect();
        let known = move |a: &str| minis.contains(a);
        let rows = match &input.clients {
            RolloutClients::Table(source) => {
                let source = source.clone();
                let table = tokio::task::spawn_blocking(move || ext::read_table(&source)).await??;
                ext::plan_rows(&table, &base, &known)?
            }
            RolloutClients::Appids(list) => {
                let mut problems = Vec::new();
                let mut seen = HashSet::new();
                let mut rows = Vec::new();
                for a in list {
                    let a = a.trim();
                    if !ext::is_appid_shape(a) {
                        problems.push(Problem::new(
                            format!("「{a}」不是 appid"),
                            format!("\"{a}\" is not an appid"),
                        ));
                    } else if !seen.insert(a.to_string()) {
                        problems.push(Problem::new(format!("{a} 重复"), format!("{a} repeated")));
                    } else if !known(a) {
                        problems.push(Problem::new(
                            format!("{a} 不是已授权的小程序"),
                            format!("{a} is not an authorized mini program"),
                        ));
                    } else {
                        rows.push(PlannedRow {
                            appid: a.to_string(),
                            line: 0,
                            ext_json: ext::client_ext(&base, a, &[]),
                        });
                    }
                }
                if rows.is_empty() && problems.is_empty() {
                    problems.push(Problem::new("没有小程序", "no mini program"));
                }
                if !problems.is_empty() {
                    return Err(ext::plan_error(problems).into());
                }
                rows
            }
        };
        let template_id = input.template_id;
        let library = self
            .cat(|c, t| async move { c.wxa_templates(&t, None).await })
            .await?;
        if !library.iter().any(|t| t.template_id == template_id) {
            return Err(CodeError::TemplateNotFound { template_id }.into());
        }
        Ok(rows)
    }

    /// Plans and writes the rollout and all its rows (status `draft`); start it with
    /// [`Code::start_rollout`].
    pub async fn create_rollout(&self, input: &RolloutInput) -> Result<i64> {
        let rows = self.plan_rollout(input).await?;
        let audit_json = serde_json::to_string(&input.audit).map_err(|e| CodeError::Corrupt {
            what: "submit_audit",
            value: e.to_string(),
        })?;
        let source = match &input.clients {
            RolloutClients::Table(s) => s.file_name(),
            RolloutClients::Appids(_) => String::new(),
        };
        let (template_id, version, desc, target) = (
            input.template_id,
            input.user_version.trim().to_string(),
            input.user_desc.clone(),
            input.target,
        );
        self.store()
            .call(move |c| {
                db::create(
                    c,
                    &NewRollout {
                        template_id,
                        user_version: &version,
                        user_desc: &desc,
                        target,
                        audit_json: &audit_json,
                        source: &source,
                    },
                    &rows,
                )
            })
            .await
    }

    /// A `running` rollout nobody drives (its process stopped) becomes paused `interrupted`.
    async fn reconcile(&self, r: Rollout) -> Result<Rollout> {
        if r.status != RolloutStatus::Running
            || self.host.is_running(r.id)
            || rollout::is_locked(&self.data_dir, r.id)?
        {
            return Ok(r);
        }
        let id = r.id;
        let pause = Pause {
            code: PauseCode::Interrupted,
            detail: String::new(),
        };
        self.store()
            .call(move |c| {
                db::pause_if_running(c, id, &pause)?;
                db::load(c, id)
            })
            .await?
            .ok_or_else(|| CodeError::RolloutNotFound { id }.into())
    }

    async fn load(&self, id: i64) -> Result<Rollout> {
        let r = self
            .store()
            .call(move |c| db::load(c, id))
            .await?
            .ok_or(CodeError::RolloutNotFound { id })?;
        self.reconcile(r).await
    }

    /// Starts a new rollout or resumes a paused or interrupted one, in this process. Refused
    /// while another process drives it, and once it is completed or cancelled.
    pub async fn start_rollout(&self, id: i64) -> Result<()> {
        let r = self.load(id).await?;
        if matches!(
            r.status,
            RolloutStatus::Completed | RolloutStatus::Cancelled
        ) {
            return Err(CodeError::RolloutFinished { id }.into());
        }
        if self.host.is_running(id) {
            return Ok(());
        }
        let lock = rollout::try_lock(&self.data_dir, id)?.ok_or(CodeError::RolloutBusy { id })?;
        let api = self.platform.api().await?;
        let audit_json = self.store().call(move |c| db::audit_json(c, id)).await?;
        let audit: SubmitAudit =
            serde_json::from_str(&audit_json).map_err(|e| CodeError::Corrupt {
                what: "submit_audit",
                value: e.to_string(),
            })?;
        let rows = self.store().call(move |c| db::rows(c, id)).await?;
        // The quota, when audits are still to be submitted: a rollout that cannot submit pauses
        // before spending calls, and the progress shows what is left.
        let needs = r.target != RolloutTarget::Committed
            && rows.iter().any(|x| rollout::needs_audit(x.row.state));
        let quota = match rows.first() {
            Some(first) if needs => self.quota(Some(&first.row.appid)).await.ok(),
            _ => None,
        };
        self.store()
            .call(move |c| db::set_status(c, id, RolloutStatus::Running, None))
            .await?;
        let r = self.load(id).await?;
        self.host.publish(progress_of(&r, quota));
        let ctx = StepCtx {
            api,
            store: self.store().clone(),
            rollout: r,
            audit,
            cfg: self.cfg.clone(),
            quota: Mutex::new(quota),
        };
        rollout::spawn(self.host.clone(), ctx, lock);
        Ok(())
    }

    /// Pauses: no new step starts; steps on the wire finish and are recorded.
    pub async fn pause_rollout(&self, id: i64) -> Result<()> {
        let r = self.load(id).await?;
        if r.status == RolloutStatus::Running {
            let pause = Pause {
                code: PauseCode::Operator,
                detail: String::new(),
            };
            self.store()
                .call(move |c| db::pause_if_running(c, id, &pause))
                .await?;
        }
        self.host.stop(id);
        Ok(())
    }

    /// Cancels: every row with steps left becomes `cancelled` (an audit already submitted
    /// goes on at WeChat; withdraw it with [`Code::undo_audit`] if needed).
    pub async fn cancel_rollout(&self, id: i64) -> Result<()> {
        let r = self.load(id).await?;
        if matches!(
            r.status,
            RolloutStatus::Completed | RolloutStatus::Cancelled
        ) {
            return Err(CodeError::RolloutFinished { id }.into());
        }
        let target = r.target;
        self.store()
            .call(move |c| db::set_status(c, id, RolloutStatus::Cancelled, None))
            .await?;
        // Whoever drives it cancels the rows once its steps on the wire are recorded; when
        // nobody does, here.
        if let Some(lock) = rollout::try_lock(&self.data_dir, id)? {
            self.store()
                .call(move |c| db::cancel_rows(c, id, target))
                .await?;
            drop(lock);
        }
        self.host.stop(id);
        let r = self.load(id).await?;
        self.host.publish(progress_of(&r, None));
        Ok(())
    }

    /// Whether this process drives the rollout now.
    pub fn is_active(&self, id: i64) -> bool {
        self.host.is_running(id)
    }

    /// Live progress (the current state at once, then each change).
    pub async fn subscribe(&self, id: i64) -> Result<watch::Receiver<RolloutProgress>> {
        let r = self.load(id).await?;
        Ok(self.host.subscribe(progress_of(&r, None)))
    }

    /// Watches a rollout's progress: the current state at once, then each change, until no
    /// runner of this process drives it any more (see [`RolloutWatch::next`]).
    pub async fn watch(&self, id: i64) -> Result<RolloutWatch> {
        Ok(RolloutWatch {
            code: self.clone(),
            id,
            rx: self.subscribe(id).await?,
            started: false,
            ended: false,
        })
    }

    /// Waits until this process's runner of the rollout stops (done, paused, cancelled), then
    /// returns the rollout.
    pub async fn wait_rollout(&self, id: i64) -> Result<Rollout> {
        if let Some(mut done) = self.host.finished(id) {
            while !*done.borrow_and_update() {
                if done.changed().await.is_err() {
                    break;
                }
            }
        }
        self.load(id).await
    }

    pub async fn rollout(&self, id: i64) -> Result<RolloutDetail> {
        let rollout = self.load(id).await?;
        let rows = self
            .store()
            .call(move |c| db::rows(c, id))
            .await?
            .into_iter()
            .map(|r| r.row)
            .collect();
        Ok(RolloutDetail { rollout, rows })
    }

    /// The newest rollouts first.
    pub async fn rollouts(&self, limit: u32) -> Result<Vec<Rollout>> {
        let list = self.store().call(move |c| db::list(c, limit)).await?;
        let mut out = Vec::with_capacity(list.len());
        for r in list {
            out.push(self.reconcile(r).await?);
        }
        Ok(out)
    }

    /// Which of the rollout's mini programs are on which online version now.
    pub async fn rollout_versions(&self, id: i64) -> Result<VersionSummary> {
        let appids: Vec<String> = self
            .store()
            .call(move |c| db::rows(c, id))
            .await?
            .into_iter()
            .map(|r| r.row.appid)
            .collect();
        self.versions(&appids).await
    }
}

/// A rollout's progress as a face shows it live (see [`Code::watch`]).
pub struct RolloutWatch {
    code: Code,
    id: i64,
    rx: watch::Receiver<RolloutProgress>,
    started: bool,
    ended: bool,
}

impl RolloutWatch {
    /// The current state at once, then one per change (at least every second, so a runner's
    /// end is seen); the last one is the state after the runner stopped, then `None`.
    pub async fn next(&mut self) -> Option<RolloutProgress> {
        if self.ended {
            return None;
        }
        if self.started {
            let _ = tokio::time::timeout(Duration::from_secs(1), self.rx.changed()).await;
        }
        self.started = true;
        // Asked before reading: a runner publishes its last state before it stops, so a
        // stopped one's last state is the one read next.
        self.ended = !self.code.is_active(self.id);
        Some(self.rx.borrow_and_update().clone())
    }
}
