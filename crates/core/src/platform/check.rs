//! 检测连接: the Settings page's step-by-step connection check, and the start-up ticket check
//! that asks WeChat to push a ticket when the relay has none.

use serde::Serialize;
use wxdesk_wechat::ErrKind;

use std::sync::Arc;

use rand::Rng;

use super::{Platform, PlatformSettings, SettingsInput, WxApi};
use crate::error::{Error, ErrorReport, Msg, Result};
use crate::secrets::{Secret, SecretKey};
use crate::store::settings::Egress;

/// A ticket is valid for 12 hours.
const TICKET_LIFETIME_SECS: i64 = 12 * 3600;

/// The steps of 检测连接, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum CheckStepId {
    /// The relay answers and accepts the key.
    Relay,
    /// The relay serves the same platform AppID, 消息校验 Token and EncodingAESKey as this desk.
    Keys,
    /// The relay holds a fresh component_verify_ticket.
    Ticket,
    /// A component_access_token can be obtained.
    Token,
    /// The caller's IP is on the platform's whitelist.
    Whitelist,
}

impl CheckStepId {
    /// The step's name in Chinese (the CLI; the UI names it in its own language).
    pub fn name_zh(self) -> &'static str {
        match self {
            CheckStepId::Relay => "中继可达且密钥有效",
            CheckStepId::Keys => "中继的平台 AppID、Token 与 EncodingAESKey",
            CheckStepId::Ticket => "component_verify_ticket",
            CheckStepId::Token => "获取 component_access_token",
            CheckStepId::Whitelist => "IP 白名单",
        }
    }
}

/// Why a step was not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    NotConfigured,
    RelayIncomplete,
    RelayUnavailable,
    NoTicket,
    NeedsToken,
    /// A team workspace: the team server holds the ticket and the tokens.
    TeamServer,
    /// The relay predates the key check (`GET /api/v1/keys`).
    RelayTooOld,
}

impl SkipReason {
    fn zh(self) -> &'static str {
        match self {
            SkipReason::NotConfigured => "尚未配置平台",
            SkipReason::RelayIncomplete => "中继配置不完整",
            SkipReason::RelayUnavailable => "中继不可用",
            SkipReason::NoTicket => "没有 ticket 无法获取",
            SkipReason::NeedsToken => "需要先获取 component_access_token",
            SkipReason::TeamServer => "由团队服务器负责",
            SkipReason::RelayTooOld => "中继版本较旧，不能核对（升级 wxdesk-relay 后可核对）",
        }
    }
}

/// What a step found: a code and its parameters; the window words it (and the hint of what to
/// do) in its language, the CLI in Chinese ([`CheckStep::detail_zh`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum CheckDetail {
    RelayReachable {
        relay_url: String,
    },
    /// The relay's settings compared with this desk's: its platform AppID, and each secret
    /// by keyed fingerprint (neither side sends a secret).
    KeysCompared {
        relay_appid: String,
        appid_matches: bool,
        token: KeyMatch,
        aes_key: KeyMatch,
    },
    /// Received `age_secs` ago.
    TicketFresh {
        #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
        age_secs: i64,
    },
    /// Older than its 12 hours: the relay no longer receives WeChat's pushes.
    TicketExpired {
        #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
        age_secs: i64,
    },
    /// The relay has none; WeChat was asked to push one (`push_failed`: the ask failed).
    TicketMissing {
        push_failed: Option<ErrorReport>,
    },
    TokenObtained,
    WhitelistPassed {
        egress: Egress,
    },
    /// WeChat refused the caller's IP (the error says which).
    WhitelistRefused {
        egress: Egress,
        error: ErrorReport,
    },
    /// The step failed with this error.
    Failed {
        error: ErrorReport,
    },
    Skipped {
        why: SkipReason,
    },
}

/// How one of this desk's message secrets compares with the relay's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum KeyMatch {
    Matches,
    /// The relay's previous EncodingAESKey (a rotation in progress): it still decrypts.
    MatchesPrevious,
    Differs,
    /// This desk has none saved: nothing to compare (the desk itself does not need it).
    NotSaved,
}

impl KeyMatch {
    fn zh(self) -> &'static str {
        match self {
            KeyMatch::Matches => "一致",
            KeyMatch::MatchesPrevious => "与中继的上一个密钥一致（轮换中）",
            KeyMatch::Differs => "不一致",
            KeyMatch::NotSaved => "本机未填写，未核对",
        }
    }
}

/// One line of the check, shown with a ✓/✗ and, when it failed, what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CheckStep {
    pub step: CheckStepId,
    pub ok: bool,
    /// Not run because an earlier step failed.
    pub skipped: bool,
    pub detail: CheckDetail,
}

const HINT_TICKET_EXPIRED: &str =
    "检查开放平台「授权事件接收URL」是否指向中继的 /wechat/component，且中继能收到推送。";
const HINT_TICKET_MISSING: &str = "确认开放平台「授权事件接收URL」为中继地址 + /wechat/component；平台审核通过后微信每 10 分钟推送一次。";
const HINT_KEYS: &str = "本机与中继须使用同一个第三方平台的设置：在开放平台 → 第三方平台 → 开发资料核对 AppID、消息校验 Token 与消息加解密 Key，改正本机设置或中继的配置（WXDESK_RELAY_COMPONENT_*，见部署指南）后重启中继。";
const HINT_DIRECT_EGRESS: &str =
    "也可以在设置中把出口模式改为「经中继」，只需把中继服务器的 IP 加入白名单。";

impl CheckStep {
    fn ok(step: CheckStepId, detail: CheckDetail) -> Self {
        CheckStep {
            step,
            ok: true,
            skipped: false,
            detail,
        }
    }
    fn failed(step: CheckStepId, detail: CheckDetail) -> Self {
        CheckStep {
            step,
            ok: false,
            skipped: false,
            detail,
        }
    }
    fn error(step: CheckStepId, e: &Error) -> Self {
        Self::failed(
            step,
            CheckDetail::Failed {
                error: ErrorReport::from(e),
            },
        )
    }
    fn skipped(step: CheckStepId, why: SkipReason) -> Self {
        CheckStep {
            step,
            ok: false,
            skipped: true,
            detail: CheckDetail::Skipped { why },
        }
    }

    /// The step's name in Chinese (the CLI).
    pub fn name_zh(&self) -> &'static str {
        self.step.name_zh()
    }

    /// What the step found, in Chinese (the CLI).
    pub fn detail_zh(&self) -> String {
        match &self.detail {
            CheckDetail::RelayReachable { relay_url } => format!("{relay_url} 可达，密钥已接受"),
            CheckDetail::KeysCompared {
                relay_appid,
                appid_matches,
                token,
                aes_key,
            } => format!(
                "平台 AppID {}；Token {}；EncodingAESKey {}",
                if *appid_matches {
                    "一致".to_string()
                } else {
                    format!("不一致（中继配置的是 {relay_appid}）")
                },
                token.zh(),
                aes_key.zh()
            ),
            CheckDetail::TicketFresh { age_secs } => format!("已收到（{}）", age_zh(*age_secs)),
            CheckDetail::TicketExpired { age_secs } => format!(
                "最新的 ticket 是{}收到的，已超过 12 小时有效期",
                age_zh(*age_secs)
            ),
            CheckDetail::TicketMissing { push_failed: None } => {
                "中继尚未收到 ticket；已请求微信立即推送，请稍后再检测".into()
            }
            CheckDetail::TicketMissing {
                push_failed: Some(e),
            } => format!("中继尚未收到 ticket；请求推送失败：{}", e.message.zh),
            CheckDetail::TokenObtained => "已获取（有效期 2 小时，只保存在内存中）".into(),
            CheckDetail::WhitelistPassed {
                egress: Egress::Direct,
            } => "本机的出口 IP 在平台白名单中".into(),
            CheckDetail::WhitelistPassed {
                egress: Egress::Relay,
            } => "中继的出口 IP 在平台白名单中".into(),
            CheckDetail::WhitelistRefused { .. } => "调用方 IP 不在第三方平台的白名单中".into(),
            CheckDetail::Failed { error } => error.message.zh.clone(),
            CheckDetail::Skipped { why } => why.zh().into(),
        }
    }

    /// What to do about it, in Chinese (the CLI); `None` when there is nothing to do.
    pub fn hint_zh(&self) -> Option<String> {
        let hint = |e: &ErrorReport| e.hint.as_ref().map(|h: &Msg| h.zh.clone());
        match &self.detail {
            CheckDetail::TicketExpired { .. } => Some(HINT_TICKET_EXPIRED.into()),
            CheckDetail::TicketMissing { .. } => Some(HINT_TICKET_MISSING.into()),
            CheckDetail::KeysCompared { .. } if !self.ok => Some(HINT_KEYS.into()),
            CheckDetail::WhitelistRefused { egress, error } => {
                let mut h = hint(error).unwrap_or_default();
                if *egress == Egress::Direct {
                    h.push(' ');
                    h.push_str(HINT_DIRECT_EGRESS);
                }
                Some(h.trim().to_string())
            }
            CheckDetail::Failed { error } => hint(error),
            _ => None,
        }
    }
}

/// The relay's ticket state at start-up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TicketStatus {
    pub present: bool,
    /// Seconds since the relay received it.
    #[cfg_attr(feature = "specta", specta(type = Option<specta_typescript::Number>))]
    pub age_secs: Option<i64>,
    /// api_start_push_ticket was called because the relay had none.
    pub push_requested: bool,
}

impl TicketStatus {
    /// What to tell the user, in Chinese (logs and the CLI).
    pub fn message_zh(&self) -> String {
        match self.age_secs {
            Some(age) if self.present => {
                format!("中继已有 component_verify_ticket（{}收到）", age_zh(age))
            }
            _ => "中继还没有 component_verify_ticket，已请求微信立即推送（通常几秒到一分钟内到达）"
                .into(),
        }
    }
}

fn age_zh(secs: i64) -> String {
    match secs {
        s if s < 60 => format!("{s} 秒前"),
        s if s < 3600 => format!("{} 分钟前", s / 60),
        s => format!("{} 小时 {} 分钟前", s / 3600, (s % 3600) / 60),
    }
}

/// The steps after the relay's, in order.
const LATER: [CheckStepId; 4] = [
    CheckStepId::Keys,
    CheckStepId::Ticket,
    CheckStepId::Token,
    CheckStepId::Whitelist,
];

/// The relay's platform AppID and message secrets against this desk's (a fresh nonce each time).
async fn keys_step(
    api: &WxApi,
    settings: &PlatformSettings,
    token: Option<&Secret>,
    aes_key: Option<&Secret>,
) -> CheckStep {
    use wxdesk_wechat::crypto::fingerprint::{KeyKind, fingerprint_matches};
    let nonce: String = rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(32)
        .map(char::from)
        .collect();
    let keys = match api.relay().key_fingerprints(&nonce).await {
        Ok(Some(k)) => k,
        Ok(None) => return CheckStep::skipped(CheckStepId::Keys, SkipReason::RelayTooOld),
        Err(e) => return CheckStep::error(CheckStepId::Keys, &e),
    };
    let compare = |kind, ours: Option<&Secret>, current: &str, previous: Option<&str>| {
        let Some(ours) = ours else {
            return KeyMatch::NotSaved;
        };
        if fingerprint_matches(kind, ours.expose(), &nonce, current) {
            KeyMatch::Matches
        } else if previous.is_some_and(|p| fingerprint_matches(kind, ours.expose(), &nonce, p)) {
            KeyMatch::MatchesPrevious
        } else {
            KeyMatch::Differs
        }
    };
    let token = compare(KeyKind::Token, token, &keys.token, None);
    let aes_key = compare(
        KeyKind::AesKey,
        aes_key,
        &keys.aes_key,
        keys.aes_key_previous.as_deref(),
    );
    let appid_matches = keys.component_appid == settings.component_appid;
    let detail = CheckDetail::KeysCompared {
        relay_appid: keys.component_appid,
        appid_matches,
        token,
        aes_key,
    };
    if appid_matches && token != KeyMatch::Differs && aes_key != KeyMatch::Differs {
        CheckStep::ok(CheckStepId::Keys, detail)
    } else {
        CheckStep::failed(CheckStepId::Keys, detail)
    }
}

fn skip_rest(steps: &mut Vec<CheckStep>, ids: &[CheckStepId], why: SkipReason) {
    for id in ids {
        steps.push(CheckStep::skipped(*id, why));
    }
}

impl Platform {
    /// On start: if the relay holds no ticket, ask WeChat to push one (api_start_push_ticket).
    pub async fn ensure_ticket(&self) -> Result<TicketStatus> {
        let api = self.api().await?;
        if api.is_team() {
            // The team server receives the tickets and is the only one that uses them.
            return Ok(TicketStatus {
                present: true,
                age_secs: None,
                push_requested: false,
            });
        }
        if let Some(t) = api.relay().fetch_ticket().await? {
            return Ok(TicketStatus {
                present: true,
                age_secs: Some(t.age_secs),
                push_requested: false,
            });
        }
        api.start_push_ticket().await?;
        Ok(TicketStatus {
            present: false,
            age_secs: None,
            push_requested: true,
        })
    }

    /// 检测连接, step by step, with the saved settings. Never fails as a whole: every problem is
    /// a failed step.
    pub async fn check_connection(&self) -> Vec<CheckStep> {
        let settings = match self.settings().await {
            Ok(s) => s,
            Err(e) => {
                let mut steps = vec![CheckStep::error(CheckStepId::Relay, &e)];
                skip_rest(&mut steps, &LATER, SkipReason::NotConfigured);
                return steps;
            }
        };
        let api = self.api().await;
        let token = self
            .secrets
            .get(SecretKey::ComponentToken)
            .await
            .ok()
            .flatten();
        let aes_key = self
            .secrets
            .get(SecretKey::ComponentAesKey)
            .await
            .ok()
            .flatten();
        self.check_with(&settings, api, token, aes_key).await
    }

    /// 检测连接 for a settings form before it is saved (保存 runs it first, so the user learns
    /// what is wrong before the mode changes). Secrets the form leaves empty are the saved ones.
    /// Fails only when the form itself is invalid (the same checks as saving).
    pub async fn check_candidate(&self, input: SettingsInput) -> Result<Vec<CheckStep>> {
        if self.team {
            return Err(super::team_manages_platform());
        }
        let s = super::settings::validate(&input)?;
        let saved = |key: SecretKey| async move { self.secrets.get(key).await };
        let or_saved = |given: Option<Secret>, key: SecretKey| async move {
            match given {
                Some(v) => Ok::<_, Error>(Some(v)),
                None => saved(key).await,
            }
        };
        let relay_key = or_saved(input.relay_key, SecretKey::RelayKey).await?;
        let appsecret = or_saved(input.component_appsecret, SecretKey::ComponentAppsecret).await?;
        let token = or_saved(input.component_token, SecretKey::ComponentToken).await?;
        let aes_key = or_saved(input.component_aes_key, SecretKey::ComponentAesKey).await?;
        // No token sharing: a token obtained with a candidate's secret is not the saved
        // platform's and must not reach the other processes.
        let api = super::relay_with(&s, relay_key)
            .and_then(|relay| self.connect(&s, relay, appsecret, None))
            .map(Arc::new);
        Ok(self.check_with(&s, api, token, aes_key).await)
    }

    async fn check_with(
        &self,
        settings: &PlatformSettings,
        api: Result<Arc<WxApi>>,
        token: Option<Secret>,
        aes_key: Option<Secret>,
    ) -> Vec<CheckStep> {
        use CheckStepId::{Relay, Ticket, Token, Whitelist};
        let mut steps = Vec::with_capacity(5);
        let api = match api {
            Ok(api) => api,
            Err(e) => {
                steps.push(CheckStep::error(Relay, &e));
                skip_rest(&mut steps, &LATER, SkipReason::RelayIncomplete);
                return steps;
            }
        };

        if api.is_team() {
            // A team desk: the server answering and accepting the member key is the whole check;
            // the keys, the ticket, the tokens and the whitelist are the server's.
            match api.relay().team_accounts().await {
                Ok(_) => {
                    let relay_url = api.relay().base_url().to_string();
                    steps.push(CheckStep::ok(
                        Relay,
                        CheckDetail::RelayReachable { relay_url },
                    ));
                }
                Err(e) => steps.push(CheckStep::error(Relay, &e)),
            }
            // Not this desk's to check, and not a failure: the server answers for them.
            steps.extend(LATER.iter().map(|id| CheckStep {
                ok: true,
                ..CheckStep::skipped(*id, SkipReason::TeamServer)
            }));
            return steps;
        }
        // The ticket call proves the relay answers and accepts the key.
        let ticket = match api.relay().fetch_ticket().await {
            Ok(t) => {
                let relay_url = api.relay().base_url().to_string();
                steps.push(CheckStep::ok(
                    Relay,
                    CheckDetail::RelayReachable { relay_url },
                ));
                t
            }
            Err(e) => {
                steps.push(CheckStep::error(Relay, &e));
                skip_rest(&mut steps, &LATER, SkipReason::RelayUnavailable);
                return steps;
            }
        };
        steps.push(keys_step(&api, settings, token.as_ref(), aes_key.as_ref()).await);
        match &ticket {
            Some(t) if t.age_secs > TICKET_LIFETIME_SECS => steps.push(CheckStep::failed(
                Ticket,
                CheckDetail::TicketExpired {
                    age_secs: t.age_secs,
                },
            )),
            Some(t) => steps.push(CheckStep::ok(
                Ticket,
                CheckDetail::TicketFresh {
                    age_secs: t.age_secs,
                },
            )),
            None => {
                let push_failed = api
                    .start_push_ticket()
                    .await
                    .err()
                    .map(|e| ErrorReport::from(&e));
                steps.push(CheckStep::failed(
                    Ticket,
                    CheckDetail::TicketMissing { push_failed },
                ));
                skip_rest(&mut steps, &[Token], SkipReason::NoTicket);
                skip_rest(&mut steps, &[Whitelist], SkipReason::NeedsToken);
                return steps;
            }
        }

        // api_component_token is whitelist-checked, so its answer settles both remaining steps.
        match api.fresh_component_token().await {
            Ok(_) => {
                steps.push(CheckStep::ok(Token, CheckDetail::TokenObtained));
                steps.push(CheckStep::ok(
                    Whitelist,
                    CheckDetail::WhitelistPassed {
                        egress: settings.egress,
                    },
                ));
            }
            Err(e) if wechat_kind(&e) == Some(ErrKind::IpNotWhitelisted) => {
                // The fix is the whitelist step's; the token step only says what WeChat said.
                let error = ErrorReport::from(&e);
                steps.push(CheckStep::failed(
                    Token,
                    CheckDetail::Failed {
                        error: ErrorReport {
                            hint: None,
                            ..error.clone()
                        },
                    },
                ));
                steps.push(CheckStep::failed(
                    Whitelist,
                    CheckDetail::WhitelistRefused {
                        egress: settings.egress,
                        error,
                    },
                ));
            }
            Err(e) => {
                steps.push(CheckStep::error(Token, &e));
                skip_rest(&mut steps, &[Whitelist], SkipReason::NeedsToken);
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
