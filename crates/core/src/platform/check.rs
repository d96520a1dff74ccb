//! 检测连接: the Settings page's step-by-step connection check, and the start-up ticket check
//! that asks WeChat to push a ticket when the relay has none.

use serde::Serialize;
use wxdesk_wechat::ErrKind;

use super::Platform;
use crate::error::{Error, Result};
use crate::store::settings::Egress;

/// A ticket is valid for 12 hours.
const TICKET_LIFETIME_SECS: i64 = 12 * 3600;

/// One line of the check, shown with a ✓/✗ and, when it failed, what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckStep {
    pub name: String,
    pub ok: bool,
    /// Not run because an earlier step failed.
    pub skipped: bool,
    pub detail: String,
    pub hint: Option<String>,
}

impl CheckStep {
    fn ok(name: &str, detail: impl Into<String>) -> Self {
        CheckStep {
            name: name.into(),
            ok: true,
            skipped: false,
            detail: detail.into(),
            hint: None,
        }
    }
    fn failed(name: &str, detail: impl Into<String>, hint: Option<String>) -> Self {
        CheckStep {
            name: name.into(),
            ok: false,
            skipped: false,
            detail: detail.into(),
            hint,
        }
    }
    fn skipped(name: &str, why: &str) -> Self {
        CheckStep {
            name: name.into(),
            ok: false,
            skipped: true,
            detail: why.into(),
            hint: None,
        }
    }
}

pub const STEP_RELAY: &str = "中继可达且密钥有效";
pub const STEP_TICKET: &str = "component_verify_ticket";
pub const STEP_TOKEN: &str = "获取 component_access_token";
pub const STEP_WHITELIST: &str = "IP 白名单";

/// The relay's ticket state at start-up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TicketStatus {
    pub present: bool,
    pub age_secs: Option<i64>,
    /// api_start_push_ticket was called because the relay had none.
    pub push_requested: bool,
    /// What to tell the user.
    pub message: String,
}

fn age_zh(secs: i64) -> String {
    match secs {
        s if s < 60 => format!("{s} 秒前"),
        s if s < 3600 => format!("{} 分钟前", s / 60),
        s => format!("{} 小时 {} 分钟前", s / 3600, (s % 3600) / 60),
    }
}

fn skip_rest(steps: &mut Vec<CheckStep>, names: &[&str], why: &str) {
    for name in names {
        steps.push(CheckStep::skipped(name, why));
    }
}

impl Platform {
    /// On start: if the relay holds no ticket, ask WeChat to push one (api_start_push_ticket).
    pub async fn ensure_ticket(&self) -> Result<TicketStatus> {
        let api = self.api().await?;
        if let Some(t) = api.relay().fetch_ticket().await? {
            return Ok(TicketStatus {
                present: true,
                age_secs: Some(t.age_secs),
                push_requested: false,
                message: format!(
                    "中继已有 component_verify_ticket（{}收到）",
                    age_zh(t.age_secs)
                ),
            });
        }
        api.start_push_ticket().await?;
        Ok(TicketStatus {
            present: false,
            age_secs: None,
            push_requested: true,
            message:
                "中继还没有 component_verify_ticket，已请求微信立即推送（通常几秒到一分钟内到达）"
                    .into(),
        })
    }

    /// 检测连接, step by step. Never fails as a whole: every problem is a failed step.
    pub async fn check_connection(&self) -> Vec<CheckStep> {
        let mut steps = Vec::with_capacity(4);
        let later = [STEP_TICKET, STEP_TOKEN, STEP_WHITELIST];
        let settings = match self.settings().await {
            Ok(s) => s,
            Err(e) => {
                steps.push(CheckStep::failed(
                    STEP_RELAY,
                    e.to_string(),
                    e.hint(crate::error::Lang::Zh),
                ));
                skip_rest(&mut steps, &later, "尚未配置平台");
                return steps;
            }
        };
        let api = match self.api().await {
            Ok(api) => api,
            Err(e) => {
                steps.push(CheckStep::failed(
                    STEP_RELAY,
                    e.to_string(),
                    e.hint(crate::error::Lang::Zh),
                ));
                skip_rest(&mut steps, &later, "中继配置不完整");
                return steps;
            }
        };

        // The ticket call proves the relay answers and accepts the key.
        let ticket = match api.relay().fetch_ticket().await {
            Ok(t) => {
                let detail = format!("{} 可达，密钥已接受", api.relay().base_url());
                steps.push(CheckStep::ok(STEP_RELAY, detail));
                t
            }
            Err(e) => {
                steps.push(CheckStep::failed(
                    STEP_RELAY,
                    e.to_string(),
                    e.hint(crate::error::Lang::Zh),
                ));
                skip_rest(&mut steps, &later, "中继不可用");
                return steps;
            }
        };
        match &ticket {
            Some(t) if t.age_secs > TICKET_LIFETIME_SECS => steps.push(CheckStep::failed(
                STEP_TICKET,
                format!("最新的 ticket 是{}收到的，已超过 12 小时有效期", age_zh(t.age_secs)),
                Some(
                    "检查开放平台「授权事件接收URL」是否指向中继的 /wechat/component，且中继能收到推送。"
                        .into(),
                ),
            )),
            Some(t) => {
                steps.push(CheckStep::ok(STEP_TICKET, format!("已收到（{}）", age_zh(t.age_secs))))
            }
            None => {
                let detail = match api.start_push_ticket().await {
                    Ok(()) => "中继尚未收到 ticket；已请求微信立即推送，请稍后再检测".to_string(),
                    Err(e) => format!("中继尚未收到 ticket；请求推送失败：{e}"),
                };
                steps.push(CheckStep::failed(
                    STEP_TICKET,
                    detail,
                    Some(
                        "确认开放平台「授权事件接收URL」为中继地址 + /wechat/component；平台审核通过后微信每 10 分钟推送一次。"
                            .into(),
                    ),
                ));
                skip_rest(&mut steps, &[STEP_TOKEN], "没有 ticket 无法获取");
                skip_rest(&mut steps, &[STEP_WHITELIST], "需要先获取 component_access_token");
                return steps;
            }
        }

        // api_component_token is whitelist-checked, so its answer settles both remaining steps.
        match api.fresh_component_token().await {
            Ok(_) => {
                steps.push(CheckStep::ok(
                    STEP_TOKEN,
                    "已获取（有效期 2 小时，只保存在内存中）",
                ));
                let via = match settings.egress {
                    Egress::Direct => "本机的出口 IP 在平台白名单中",
                    Egress::Relay => "中继的出口 IP 在平台白名单中",
                };
                steps.push(CheckStep::ok(STEP_WHITELIST, via));
            }
            Err(e) if wechat_kind(&e) == Some(ErrKind::IpNotWhitelisted) => {
                steps.push(CheckStep::failed(STEP_TOKEN, e.to_string(), None));
                let mut hint = e.hint(crate::error::Lang::Zh).unwrap_or_default();
                if settings.egress == Egress::Direct {
                    hint.push_str(
                        " 也可以在设置中把出口模式改为「经中继」，只需把中继服务器的 IP 加入白名单。",
                    );
                }
                steps.push(CheckStep::failed(
                    STEP_WHITELIST,
                    "调用方 IP 不在第三方平台的白名单中",
                    Some(hint.trim().to_string()),
                ));
            }
            Err(e) => {
                steps.push(CheckStep::failed(
                    STEP_TOKEN,
                    e.to_string(),
                    e.hint(crate::error::Lang::Zh),
                ));
                skip_rest(
                    &mut steps,
                    &[STEP_WHITELIST],
                    "需要先获取 component_access_token",
                );
            }
        }
        steps
    }
}

fn wechat_kind(e: &Error) -> Option<ErrKind> {
    match e {
        Error::WeChat(w) => w.wechat().map(|we| we.kind),
        _ => None,
    }
}

#[cfg(test)]
#[path = "check_tests.rs"]
mod tests;
