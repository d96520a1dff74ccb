//! 发送 (compose), the same for both faces (`ctx.compose`): who the recipients are (one openid, a
//! saved list, a CSV/XLSX file — the CLI's `--to/--list/--csv` are the same three), a template
//! draft turned into a job spec with the template's keyword rules, the one placeholder check,
//! the composer's live check with the card preview, the confirmation's estimate and quota, the
//! test send, and customer-service messages. Bulk jobs are started by the engine host
//! (`ctx.sends`, [`crate::send::Sends::start_draft`]) from the same pieces.

mod check;
mod cover;
mod drafts;
mod find_me;
mod subscribe;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use check::{CardLine, CardPreview, ComposeCheck, FieldCheck, Words};
pub use cover::CardCover;
pub use drafts::{ComposeDraft, DraftKind, Drafts, MAX_DRAFT_BYTES};
pub use find_me::{FIND_YOURSELF_SCENE, FIND_YOURSELF_SECS, FindYourselfQr};
pub use subscribe::{
    PreparedSubscribe, SubscribeDraft, SubscribeReach, SubscribeStarted, UniformDraft, check_jump,
    nobody_subscribed,
};

use crate::audience::{ImportOptions, import, table};
use crate::error::{Error, Result};
use crate::platform::Platform;
use crate::relay::RelayClient;
use crate::send::quota::ApiQuota;
use crate::send::{
    EngineConfig, FieldRule, HistoryRow, JobPurpose, JobSpec, MiniProgram, Payload, Recipient,
    Sends, Vars, render,
};
use crate::store::Store;
use crate::templates::Template;

/// Where the recipients come from (exactly one).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RecipientSource {
    Openid {
        openid: String,
    },
    List {
        #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
        list_id: i64,
    },
    File {
        path: String,
    },
}

/// The recipients of a source, with the variable names they carry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resolved {
    pub recipients: Vec<Recipient>,
    /// Column names (list variables, the file's columns other than openid).
    pub variables: Vec<String>,
    /// File rows whose openid was not valid (left out).
    pub invalid: u64,
    /// File rows repeating an openid (left out).
    pub duplicates_removed: u64,
}

/// The jump target of a template message.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Jump {
    None,
    Url { url: String },
    Mini { appid: String, pagepath: String },
}

/// What the composer (or `send template`) has filled in for a template message.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TemplateDraft {
    pub appid: String,
    pub template_id: String,
    /// A name for the job (defaults to the template's title).
    pub title: String,
    /// Keyword key → value, which may use `{{变量}}`.
    pub data: BTreeMap<String, String>,
    pub jump: Jump,
}

/// A customer-service message (客服消息), only deliverable within 48 hours of the user's last
/// interaction (45015 otherwise; 45047 once the window's allowance is used up).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CustomMessage {
    Text {
        content: String,
    },
    News {
        title: String,
        description: String,
        url: String,
        picurl: String,
    },
    Mini {
        title: String,
        appid: String,
        pagepath: String,
        thumb_media_id: String,
    },
}

impl CustomMessage {
    fn payload(self) -> Payload {
        match self {
            CustomMessage::Text { content } => Payload::CustomText { content },
            CustomMessage::News {
                title,
                description,
                url,
                picurl,
            } => Payload::CustomNews {
                title,
                description,
                url,
                picurl,
            },
            CustomMessage::Mini {
                title,
                appid,
                pagepath,
                thumb_media_id,
            } => Payload::CustomMini {
                title,
                appid,
                pagepath,
                thumb_media_id,
            },
        }
    }
}

/// What the confirmation dialog shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SendEstimate {
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub recipients: u64,
    /// Requests per second the job will use.
    pub rate_per_sec: u32,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub eta_secs: u64,
    /// File rows left out before sending: an openid that is not valid, or one repeated.
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub left_out: u64,
}

/// Rows a list is read in.
const LIST_PAGE: usize = 5_000;

/// `ctx.compose`.
#[derive(Clone, Debug)]
pub struct Compose {
    platform: Platform,
    sends: Sends,
}

impl Compose {
    pub fn new(platform: Platform, sends: Sends) -> Compose {
        Compose { platform, sends }
    }

    fn store(&self) -> &Store {
        self.platform.store()
    }

    /// The team server of a team workspace: its 名单 are there.
    async fn team(&self) -> Result<Option<RelayClient>> {
        self.platform.team_server().await
    }

    /// The composers' unsent drafts (per composer, account and template).
    pub fn drafts(&self) -> Drafts {
        Drafts::new(self.store().clone())
    }

    /// Every recipient of `source` with their variables (the first `limit` when given).
    pub async fn resolve(
        &self,
        appid: &str,
        source: &RecipientSource,
        limit: Option<usize>,
    ) -> Result<Resolved> {
        resolve(
            self.store(),
            self.team().await?.as_ref(),
            appid,
            source,
            limit,
        )
        .await
    }

    /// The job spec of a draft, with the template's keyword rules so 47003 values are skipped.
    pub async fn spec(&self, draft: &TemplateDraft) -> Result<JobSpec> {
        check_jump(&draft.appid, &draft.jump)?;
        Ok(spec_of(
            &template(self.store(), self.team().await?.as_ref(), draft).await?,
            draft,
        ))
    }

    /// The composer's check: each value against its keyword rule, the variables the draft uses
    /// that no recipient column provides, and the cards of the first recipients.
    pub async fn check(
        &self,
        draft: &TemplateDraft,
        source: Option<&RecipientSource>,
    ) -> Result<ComposeCheck> {
        let t = template(self.store(), self.team().await?.as_ref(), draft).await?;
        let spec = spec_of(&t, draft);
        let sample = match source {
            // A source that cannot be read yet (a list just deleted, a file moved) previews as
            // no recipients; sending says why.
            Some(src) => resolve(
                self.store(),
                self.team().await?.as_ref(),
                &draft.appid,
                src,
                Some(check::PREVIEW_ROWS),
            )
            .await
            .unwrap_or_default(),
            None => Resolved::default(),
        };
        Ok(check::check(&t, draft, &spec, sample, source.is_some()))
    }

    /// How many recipients a source has and how long the job takes at the engine's rate.
    pub async fn estimate(&self, appid: &str, source: &RecipientSource) -> Result<SendEstimate> {
        let resolved = self.resolve(appid, source, None).await?;
        let n = resolved.recipients.len() as u64;
        let left_out = resolved.invalid + resolved.duplicates_removed;
        if n == 0 {
            // A job of nobody would show as a finished send; say why there is no one instead.
            return Err(Error::input(
                format!("没有可发送的接收者（{left_out} 行 openid 无效或重复）；请检查名单或文件"),
                format!(
                    "There is no one to send to ({left_out} rows had an invalid or repeated \
                     openid); check the list or the file"
                ),
            ));
        }
        let rate = EngineConfig::default().rate_per_sec.max(1);
        Ok(SendEstimate {
            recipients: n,
            rate_per_sec: rate,
            eta_secs: n.div_ceil(u64::from(rate)),
            left_out,
        })
    }

    /// 今日剩余额度: the account's template-message quota today, asked of WeChat.
    pub async fn quota(&self, appid: &str) -> Result<ApiQuota> {
        let api = self.platform.api().await?;
        crate::send::quota::template_send_quota(&api, appid).await
    }

    /// 先发给自己: the draft to one openid, with the first recipient's variables, as a one-row
    /// job (so it is in 发送记录 too); waits for the outcome.
    pub async fn test_send(
        &self,
        draft: &TemplateDraft,
        source: Option<&RecipientSource>,
        openid: &str,
    ) -> Result<HistoryRow> {
        let spec = self.spec(draft).await?;
        let first = match source {
            Some(src) => resolve(
                self.store(),
                self.team().await?.as_ref(),
                &draft.appid,
                src,
                Some(1),
            )
            .await
            .unwrap_or_default(),
            None => Resolved::default(),
        };
        check_placeholders(&spec, &first.variables)?;
        let openid = openid.trim();
        if openid.is_empty() {
            return Err(Error::input(
                "请填写测试接收者的 openid",
                "Enter the openid of the test recipient",
            ));
        }
        let vars: Vars = first
            .recipients
            .into_iter()
            .next()
            .map(|r| r.vars)
            .unwrap_or_default();
        let to = Recipient {
            openid: openid.to_string(),
            vars,
        };
        self.run_one(spec, JobPurpose::Test, to).await
    }

    /// Sends a customer-service message to one openid and waits for the outcome.
    pub async fn custom_send(
        &self,
        appid: &str,
        openid: &str,
        message: CustomMessage,
    ) -> Result<HistoryRow> {
        let openid = openid.trim();
        if openid.is_empty() {
            return Err(Error::input(
                "请填写接收者 openid",
                "Enter the recipient's openid",
            ));
        }
        let spec = JobSpec {
            appid: appid.to_string(),
            title: String::new(),
            payload: message.payload(),
            field_rules: Vec::new(),
            concurrency: None,
            rate_per_sec: None,
            max_attempts: None,
        };
        self.run_one(spec, JobPurpose::Custom, Recipient::new(openid))
            .await
    }

    /// A one-row job, waited for; its row as 发送记录 shows it.
    async fn run_one(
        &self,
        spec: JobSpec,
        purpose: JobPurpose,
        to: Recipient,
    ) -> Result<HistoryRow> {
        let job = self.sends.run_one(spec, purpose, to).await?;
        let history = crate::send::History::new(self.store().clone());
        let history = if self.platform.is_team() {
            history.in_team(self.platform.clone())
        } else {
            history
        };
        history.only_row(job.id).await?.ok_or_else(|| {
            Error::input(
                format!("测试任务 {} 没有记录", job.id),
                format!("Job {} has no record", job.id),
            )
        })
    }
}

/// A draft's template, as synced (in a team workspace, the team's copy, pulled first).
async fn template(
    store: &Store,
    team: Option<&RelayClient>,
    draft: &TemplateDraft,
) -> Result<Template> {
    if let Some(relay) = team {
        crate::templates::team::pull(relay, store, &draft.appid).await?;
    }
    crate::templates::get_template(store, &draft.appid, &draft.template_id)
        .await?
        .ok_or_else(|| {
            Error::input(
                format!(
                    "本地没有账号 {} 的模板 {}；先在「模板」页同步（命令行：templates sync {}）",
                    draft.appid, draft.template_id, draft.appid
                ),
                format!(
                    "There is no local template {} of account {}: sync the templates first (Templates page, or `templates sync {}`)",
                    draft.template_id, draft.appid, draft.appid
                ),
            )
        })
}

/// The keyword rules of a stored template, with the locally entered approved values of its
/// const/enum keywords, so values WeChat would refuse (47003) are skipped before sending.
pub fn field_rules(t: &Template) -> Vec<FieldRule> {
    t.fields
        .iter()
        .map(|f| FieldRule {
            key: f.key.clone(),
            title: rule_title(f),
            kind: f.kind,
            allowed: t.const_values.get(&f.key).cloned(),
        })
        .collect()
}

/// The keyword's title as the template shows it (`订单金额`), or `None` when it has none
/// (`first`/`remark`): a skipped row then names the key.
pub(crate) fn rule_title(f: &crate::templates::keywords::Field) -> Option<String> {
    let label = f.label.trim();
    (!label.is_empty()).then(|| label.to_string())
}

fn spec_of(t: &Template, d: &TemplateDraft) -> JobSpec {
    let (url, miniprogram) = match &d.jump {
        Jump::None => (None, None),
        Jump::Url { url } => (Some(url.trim().to_string()), None),
        Jump::Mini { appid, pagepath } => (
            None,
            Some(MiniProgram {
                appid: appid.trim().to_string(),
                pagepath: pagepath.trim().to_string(),
            }),
        ),
    };
    // Only the template's own keywords (a value left from another template is not sent).
    // first/remark go out when given (WeChat hides them since 2023-05; the composer offers
    // none, `send template --data first=…` may).
    let data = d
        .data
        .iter()
        .filter(|(k, _)| t.fields.iter().any(|f| &f.key == *k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    JobSpec {
        appid: d.appid.clone(),
        title: if d.title.trim().is_empty() {
            t.title.clone()
        } else {
            d.title.trim().to_string()
        },
        payload: Payload::Template {
            template_id: t.template_id.clone(),
            data,
            url,
            miniprogram,
        },
        field_rules: field_rules(t),
        concurrency: None,
        rate_per_sec: None,
        max_attempts: None,
    }
}

/// The `{{变量}}` of a spec that no recipient column provides.
pub fn missing_variables(spec: &JobSpec, variables: &[String]) -> Vec<String> {
    render::placeholders(&spec.payload)
        .into_iter()
        .filter(|p| !variables.contains(p))
        .collect()
}

/// Refuses a job whose `{{变量}}` no recipient column provides: every row would be skipped.
pub fn check_placeholders(spec: &JobSpec, variables: &[String]) -> Result<()> {
    let missing = missing_variables(spec, variables);
    if missing.is_empty() {
        return Ok(());
    }
    let (have_zh, have_en) = if variables.is_empty() {
        ("没有".to_string(), "none".to_string())
    } else {
        (variables.join("、"), variables.join(", "))
    };
    Err(Error::input(
        format!(
            "变量 {{{{{}}}}} 不在接收者数据中；可用变量：{have_zh}",
            missing.join("}}、{{")
        ),
        format!(
            "The variable {{{{{}}}}} is not in the recipients' data; available: {have_en}",
            missing.join("}}, {{")
        ),
    ))
}

/// Every recipient of a source (the first `limit`), with the variable names.
pub(crate) async fn resolve(
    store: &Store,
    team: Option<&RelayClient>,
    appid: &str,
    source: &RecipientSource,
    limit: Option<usize>,
) -> Result<Resolved> {
    match source {
        RecipientSource::Openid { openid } => {
            let o = openid.trim();
            if o.is_empty() {
                return Err(Error::input(
                    "请填写接收者 openid",
                    "Enter the recipient's openid",
                ));
            }
            Ok(Resolved {
                recipients: vec![Recipient::new(o)],
                ..Resolved::default()
            })
        }
        RecipientSource::List { list_id } => {
            resolve_list(store, team, appid, *list_id, limit).await
        }
        RecipientSource::File { path } => {
            let path = PathBuf::from(path);
            let prepared = tokio::task::spawn_blocking(move || {
                let t = table::read_path(&path)?;
                import::parse_table(t, &ImportOptions::default())
            })
            .await??;
            let p = &prepared.preview;
            let names = p.variables.clone();
            let (invalid, duplicates_removed) = (p.invalid_count, p.duplicates_removed);
            let mut recipients: Vec<Recipient> = prepared
                .rows
                .into_iter()
                .map(|r| Recipient {
                    vars: names.iter().cloned().zip(r.values).collect::<Vars>(),
                    openid: r.openid,
                })
                .collect();
            if let Some(l) = limit {
                recipients.truncate(l);
            }
            Ok(Resolved {
                recipients,
                variables: names,
                invalid,
                duplicates_removed,
            })
        }
    }
}

async fn resolve_list(
    store: &Store,
    team: Option<&RelayClient>,
    appid: &str,
    id: i64,
    limit: Option<usize>,
) -> Result<Resolved> {
    use crate::audience::db::lists;
    let list = match team {
        Some(relay) => crate::audience::team_lists::get(relay, id).await?,
        None => store.call(move |c| lists::get_list(c, id)).await?,
    };
    let list = list.ok_or_else(|| {
        Error::input(
            "名单不存在（可能已被删除）",
            "The list does not exist (it may have been deleted)",
        )
    })?;
    if list.appid != appid {
        return Err(Error::input(
            format!(
                "名单「{}」属于账号 {}，不能用账号 {appid} 发送",
                list.name, list.appid
            ),
            format!(
                "The list \"{}\" belongs to account {}, not to {appid}",
                list.name, list.appid
            ),
        ));
    }
    let mut all = Vec::with_capacity(list.member_count.min(1 << 20) as usize);
    let mut after: Option<String> = None;
    loop {
        let from = after.take();
        let page = match team {
            Some(relay) => {
                crate::audience::team_lists::members(relay, id, from.as_deref(), LIST_PAGE as u32)
                    .await?
            }
            None => {
                store
                    .call(move |c| lists::list_members(c, id, from.as_deref(), LIST_PAGE))
                    .await?
            }
        };
        all.extend(page.items.into_iter().map(|m| Recipient {
            openid: m.openid,
            vars: m.vars.into_iter().collect(),
        }));
        if limit.is_some_and(|l| all.len() >= l) {
            break;
        }
        match page.next_after {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    if let Some(l) = limit {
        all.truncate(l);
    }
    Ok(Resolved {
        recipients: all,
        variables: list.variables,
        ..Resolved::default()
    })
}

/// A bulk job from a draft and a source: the spec, every recipient, and the refusals that come
/// before anything is written (no recipient, a placeholder no column provides).
pub(crate) async fn prepare_send(
    store: &Store,
    team: Option<&RelayClient>,
    draft: &TemplateDraft,
    source: &RecipientSource,
) -> Result<(JobSpec, Vec<Recipient>)> {
    check_jump(&draft.appid, &draft.jump)?;
    let spec = spec_of(&template(store, team, draft).await?, draft);
    let r = resolve(store, team, &draft.appid, source, None).await?;
    if r.recipients.is_empty() {
        return Err(Error::input(
            "没有接收者：名单或文件中没有有效的 openid",
            "No recipients: the list or file has no valid openid",
        ));
    }
    check_placeholders(&spec, &r.variables)?;
    Ok((spec, r.recipients))
}

#[cfg(test)]
mod purpose_tests;
#[cfg(test)]
mod tests;
