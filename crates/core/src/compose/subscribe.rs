//! 订阅通知 and 统一服务消息 drafts, and the jump a message opens.
//!
//! A subscription notice goes only to users who can receive its template now (what
//! `ctx.subscriptions` learnt from the relay's pushes); the others would get 43101, so they are
//! refused before the job is written and nothing is sent to them. `uniform_send` was withdrawn
//! by WeChat on 2023-09-20: attempting it still reaches WeChat (45109), and the answer names the
//! replacement, a template message that opens the mini program.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Compose, Jump, RecipientSource, check_placeholders, resolve};
use crate::accounts::AccountKind;
use crate::error::{Error, Result};
use crate::send::{FieldRule, HistoryRow, JobPurpose, JobSpec, MiniProgram, Payload, Recipient};
use crate::subscriptions::{SubscribeTemplate, Subscriptions};

/// What the composer's 订阅通知 tab (or `send subscribe`) has filled in. `Jump::Url` is the
/// notice's `page`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SubscribeDraft {
    pub appid: String,
    pub template_id: String,
    pub title: String,
    /// Keyword key → value, which may use `{{变量}}`.
    pub data: BTreeMap<String, String>,
    pub jump: Jump,
}

/// A 统一服务消息 (`uniform_send`): a mini program sends the template message of its linked
/// official account. Withdrawn by WeChat (45109).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct UniformDraft {
    /// The mini program that calls uniform_send.
    pub appid: String,
    /// The official account whose template it is.
    pub mp_appid: String,
    pub template_id: String,
    pub data: BTreeMap<String, String>,
    pub jump: Jump,
}

/// Who of a source can receive a notice now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SubscribeReach {
    pub template: SubscribeTemplate,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub allowed: u64,
    /// Recipients without a live subscription (they would get 43101), the first 200.
    pub refused: Vec<String>,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub refused_count: u64,
}

/// A notice job ready to write: the spec, the recipients who can receive it, and the refused.
#[derive(Debug, Clone)]
pub struct PreparedSubscribe {
    pub spec: JobSpec,
    pub allowed: Vec<Recipient>,
    pub refused: Vec<String>,
}

/// A notice job started from the composer, and who was left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SubscribeStarted {
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub job_id: i64,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub sent_to: u64,
    pub refused: Vec<String>,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub refused_count: u64,
}

const LISTED_REFUSALS: usize = 200;

fn is_appid(s: &str) -> bool {
    s.len() == 18 && s.starts_with("wx") && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// A mini-program jump as the composer and the command line give it, checked before anything is
/// sent: a mini-program AppID (`wx` + 16 characters) that is not the sending account itself, and
/// a page path in the mini program (`pages/index/index?id=1`, no scheme, no leading `/`). Whether
/// WeChat accepts it — the mini program linked to the account (40013), the page in its released
/// version (40165) — only WeChat knows; the job stops at the first such answer.
pub fn check_jump(sender: &str, jump: &Jump) -> Result<()> {
    let Jump::Mini { appid, pagepath } = jump else {
        if let Jump::Url { url } = jump {
            let u = url.trim();
            if !(u.starts_with("https://") || u.starts_with("http://")) || u.contains(' ') {
                return Err(Error::input(
                    format!("跳转网址「{u}」应以 https:// 或 http:// 开头"),
                    format!("The link \"{u}\" must start with https:// or http://"),
                ));
            }
        }
        return Ok(());
    };
    let (appid, page) = (appid.trim(), pagepath.trim());
    if !is_appid(appid) {
        return Err(Error::input(
            format!("小程序 AppID「{appid}」无效：应为 wx 开头的 18 个字符"),
            format!(
                "The mini program AppID \"{appid}\" is not valid: 18 characters starting with wx"
            ),
        ));
    }
    if appid == sender {
        return Err(Error::input(
            "跳转的小程序不能是发送的公众号本身",
            "The mini program to open cannot be the sending official account itself",
        ));
    }
    let path = page.split('?').next().unwrap_or("");
    if path.is_empty()
        || page.len() > 1024
        || page.contains("://")
        || page.starts_with('/')
        || page.chars().any(char::is_whitespace)
    {
        return Err(Error::input(
            format!(
                "小程序页面路径「{page}」无效：应为已发布版本中的页面，如 pages/index/index?id=1"
            ),
            format!(
                "The mini program page \"{page}\" is not valid: a page of its released version, e.g. pages/index/index?id=1"
            ),
        ));
    }
    Ok(())
}

fn jump_parts(jump: &Jump) -> (Option<String>, Option<MiniProgram>) {
    match jump {
        Jump::None => (None, None),
        Jump::Url { url } => (Some(url.trim().to_string()), None),
        Jump::Mini { appid, pagepath } => (
            None,
            Some(MiniProgram {
                appid: appid.trim().to_string(),
                pagepath: pagepath.trim().to_string(),
            }),
        ),
    }
}

/// The notice's spec: only the template's own keywords, checked against their rules.
fn subscribe_spec(t: &SubscribeTemplate, d: &SubscribeDraft) -> JobSpec {
    let (page, miniprogram) = jump_parts(&d.jump);
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
        payload: Payload::Subscribe {
            template_id: t.template_id.clone(),
            data,
            page,
            miniprogram,
        },
        field_rules: t
            .fields
            .iter()
            .map(|f| FieldRule {
                key: f.key.clone(),
                title: super::rule_title(f),
                kind: f.kind,
                allowed: None,
            })
            .collect(),
        concurrency: None,
        rate_per_sec: None,
        max_attempts: None,
    }
}

/// Every keyword of the template needs a value (WeChat refuses a notice with one missing).
fn check_complete(t: &SubscribeTemplate, d: &SubscribeDraft) -> Result<()> {
    let missing: Vec<&str> = t
        .fields
        .iter()
        .filter(|f| d.data.get(&f.key).is_none_or(|v| v.trim().is_empty()))
        .map(|f| f.key.as_str())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(Error::input(
        format!("订阅通知的每个关键词都要填写：缺少 {}", missing.join("、")),
        format!(
            "Every keyword of a subscription notice needs a value: missing {}",
            missing.join(", ")
        ),
    ))
}

impl Compose {
    fn subscriptions(&self) -> Subscriptions {
        Subscriptions::new(self.platform.clone())
    }

    /// The job spec of a notice draft, with its template's keyword rules.
    pub async fn subscribe_spec(&self, d: &SubscribeDraft) -> Result<JobSpec> {
        let t = self
            .subscriptions()
            .template(&d.appid, &d.template_id)
            .await?;
        check_jump(&d.appid, &d.jump)?;
        check_complete(&t, d)?;
        Ok(subscribe_spec(&t, d))
    }

    /// The notice job for `source`: who can receive it and who is refused (43101 otherwise).
    pub async fn prepare_subscribe(
        &self,
        d: &SubscribeDraft,
        source: &RecipientSource,
    ) -> Result<PreparedSubscribe> {
        let spec = self.subscribe_spec(d).await?;
        let r = resolve(
            self.store(),
            self.team().await?.as_ref(),
            &d.appid,
            source,
            None,
        )
        .await?;
        if r.recipients.is_empty() {
            return Err(Error::input(
                "没有接收者：名单或文件中没有有效的 openid",
                "No recipients: the list or file has no valid openid",
            ));
        }
        check_placeholders(&spec, &r.variables)?;
        let openids: Vec<String> = r.recipients.iter().map(|x| x.openid.clone()).collect();
        let reach = self
            .subscriptions()
            .reach(&d.appid, &d.template_id, &openids)
            .await?;
        let allowed: Vec<Recipient> = r
            .recipients
            .into_iter()
            .filter(|x| reach.allowed.contains(&x.openid))
            .collect();
        Ok(PreparedSubscribe {
            spec,
            allowed,
            refused: reach.refused,
        })
    }

    /// The 订阅通知 tab's check: how many of the source can receive the notice now.
    pub async fn subscribe_reach(
        &self,
        d: &SubscribeDraft,
        source: &RecipientSource,
    ) -> Result<SubscribeReach> {
        let t = self
            .subscriptions()
            .template(&d.appid, &d.template_id)
            .await?;
        let r = resolve(
            self.store(),
            self.team().await?.as_ref(),
            &d.appid,
            source,
            None,
        )
        .await?;
        let openids: Vec<String> = r.recipients.into_iter().map(|x| x.openid).collect();
        let reach = self
            .subscriptions()
            .reach(&d.appid, &d.template_id, &openids)
            .await?;
        let refused_count = reach.refused.len() as u64;
        let mut refused = reach.refused;
        refused.truncate(LISTED_REFUSALS);
        Ok(SubscribeReach {
            template: t,
            allowed: reach.allowed.len() as u64,
            refused,
            refused_count,
        })
    }

    /// Writes and starts a notice job for those who can receive it; refuses (nothing written)
    /// when nobody can.
    pub async fn start_subscribe(
        &self,
        d: &SubscribeDraft,
        source: &RecipientSource,
    ) -> Result<SubscribeStarted> {
        let p = self.prepare_subscribe(d, source).await?;
        if p.allowed.is_empty() {
            return Err(nobody_subscribed(p.refused.len()));
        }
        let sent_to = p.allowed.len() as u64;
        let job_id = self.sends.create_and_start(p.spec, p.allowed).await?;
        let refused_count = p.refused.len() as u64;
        let mut refused = p.refused;
        refused.truncate(LISTED_REFUSALS);
        Ok(SubscribeStarted {
            job_id,
            sent_to,
            refused,
            refused_count,
        })
    }

    /// 统一服务消息 to one user: sent as WeChat has it — since 2023-09-20 the answer is 45109,
    /// returned as an error that names the replacement. (A success, should WeChat ever answer
    /// one, is the row.)
    pub async fn uniform_send(&self, d: &UniformDraft, openid: &str) -> Result<HistoryRow> {
        let openid = openid.trim();
        if openid.is_empty() {
            return Err(Error::input(
                "请填写接收者 openid",
                "Enter the recipient's openid",
            ));
        }
        let kind = self.account_kind(&d.appid).await?;
        if kind != AccountKind::Mini {
            return Err(Error::input(
                format!("统一服务消息由小程序发送：{} 不是小程序", d.appid),
                format!(
                    "A unified message is sent by a mini program: {} is not one",
                    d.appid
                ),
            ));
        }
        let (url, miniprogram) = jump_parts(&d.jump);
        let spec = JobSpec {
            appid: d.appid.clone(),
            title: String::new(),
            payload: Payload::Uniform {
                mp_appid: d.mp_appid.trim().to_string(),
                template_id: d.template_id.trim().to_string(),
                data: d.data.clone(),
                url,
                miniprogram,
            },
            field_rules: Vec::new(),
            concurrency: None,
            rate_per_sec: None,
            max_attempts: Some(1),
        };
        let row = self
            .run_one(spec, JobPurpose::Uniform, Recipient::new(openid))
            .await?;
        match row.errcode {
            Some(code @ (45109 | 45103)) => Err(uniform_withdrawn(code, d)),
            _ => Ok(row),
        }
    }

    async fn account_kind(&self, appid: &str) -> Result<AccountKind> {
        let id = appid.to_string();
        self.store()
            .call(move |c| crate::accounts::db::get(c, &id))
            .await?
            .map(|a| a.kind)
            .ok_or_else(|| Error::AccountNotFound(appid.to_string()))
    }
}

/// Nobody of the source can receive the notice: nothing is written.
pub fn nobody_subscribed(refused: usize) -> Error {
    Error::input(
        format!(
            "这 {refused} 位接收者都没有可用的订阅（从未同意、一次性订阅已用完或已关闭），发送会得到 43101：没有发送。请让用户先在订阅弹窗中同意"
        ),
        format!(
            "None of the {refused} recipients has a live subscription (never accepted, a one-time subscription used up, or switched off); WeChat would answer 43101, so nothing was sent. Users must accept in the subscribe popup first"
        ),
    )
}

/// 45109, with the replacement spelled out.
fn uniform_withdrawn(code: i64, d: &UniformDraft) -> Error {
    let page = match &d.jump {
        Jump::Mini { pagepath, .. } if !pagepath.trim().is_empty() => pagepath.trim().to_string(),
        _ => "pages/index/index".to_string(),
    };
    Error::input(
        format!(
            "统一服务消息接口已于 2023-09-20 被微信下线（errcode {code}），消息没有发出。改用公众号 {mp} 的模板消息并跳转小程序 {mini}（该小程序须已与公众号关联）：wxdesk-cli send template --account {mp} --template TID --to OPENID --mini {mini}:{page}",
            mp = d.mp_appid,
            mini = d.appid
        ),
        format!(
            "WeChat withdrew uniform_send on 2023-09-20 (errcode {code}); nothing was sent. Send a template message of the official account {mp} that opens the mini program {mini} (linked to the account) instead: wxdesk-cli send template --account {mp} --template TID --to OPENID --mini {mini}:{page}",
            mp = d.mp_appid,
            mini = d.appid
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const OA: &str = "wx0123456789abcdef";

    fn mini(appid: &str, page: &str) -> Jump {
        Jump::Mini {
            appid: appid.into(),
            pagepath: page.into(),
        }
    }

    #[test]
    fn a_jump_is_checked_before_anything_is_sent() {
        assert!(check_jump(OA, &Jump::None).is_ok());
        assert!(check_jump(OA, &mini("wx1111222233334444", "pages/index/index?id=1")).is_ok());
        for (appid, page) in [
            ("wx11112222", "pages/index/index"),
            ("gh_1111222233334444", "pages/index/index"),
            (OA, "pages/index/index"),
            ("wx1111222233334444", ""),
            ("wx1111222233334444", "/pages/index/index"),
            ("wx1111222233334444", "https://m.example.com"),
            ("wx1111222233334444", "pages/index index"),
        ] {
            let e = check_jump(OA, &mini(appid, page)).unwrap_err();
            assert_eq!(e.code(), "invalid", "{appid} {page}");
        }
        assert!(
            check_jump(
                OA,
                &Jump::Url {
                    url: "https://a.example".into()
                }
            )
            .is_ok()
        );
        assert!(
            check_jump(
                OA,
                &Jump::Url {
                    url: "a.example".into()
                }
            )
            .is_err()
        );
    }

    #[test]
    fn the_withdrawal_names_the_replacement_in_both_languages() {
        let d = UniformDraft {
            appid: "wx1111222233334444".into(),
            mp_appid: OA.into(),
            template_id: "T".into(),
            data: BTreeMap::new(),
            jump: mini("wx1111222233334444", "pages/order/list"),
        };
        let e = uniform_withdrawn(45109, &d);
        let zh = e.message(crate::Lang::Zh);
        assert!(zh.contains("45109") && zh.contains("--mini wx1111222233334444:pages/order/list"));
        let en = e.message(crate::Lang::En);
        assert!(en.contains("template message") && en.contains("send template"));
    }
}
