//! 发送 (the composer): live checks of each keyword value with core's rules, the card preview
//! for the first recipients (with `{{变量}}` filled and WeChat's cut shown), the confirmation's
//! estimate and the account's quota left today, the test send to one openid, creating the bulk
//! job, and customer-service messages.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use specta_typescript::Number;
use tauri::{Manager, Runtime};
use wxdesk_core::send::{JobSpec, Payload, Recipient, Vars, render};
use wxdesk_core::templates::{self, keywords};

use super::send::{
    RecipientSource, TemplateDraft, check_placeholders, draft_spec, engine, load_recipients,
};
use super::templates::core_err;
use crate::error::ShellError;
use crate::state::AppState;

type CmdResult<T> = Result<T, ShellError>;

fn num(n: impl TryInto<i64>) -> f64 {
    n.try_into().map_or(f64::MAX, |v: i64| v as f64)
}

fn invalid(msg: impl Into<String>) -> ShellError {
    core_err(wxdesk_core::Error::Invalid(msg.into()))
}

/// Rows the preview renders.
const PREVIEW_ROWS: usize = 3;

/// One keyword value as checked against its rule.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct FieldCheck {
    pub key: String,
    pub label: String,
    /// Characters as WeChat counts them (Unicode scalar values).
    #[specta(type = Number)]
    pub chars: f64,
    /// The rule broken, zh-CN (`None`: fine, or it uses `{{变量}}` and is checked per row).
    pub problem: Option<String>,
    pub problem_en: Option<String>,
    /// Whether the value uses `{{变量}}` (then each previewed row is checked instead).
    pub templated: bool,
}

/// One keyword line of the card, as the recipient will see it.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct CardLine {
    pub label: String,
    pub text: String,
    /// WeChat cuts the value to 20 characters and adds `…`.
    pub cut: bool,
    pub emoji_removed: bool,
}

/// The card of one recipient.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct CardPreview {
    pub openid: String,
    pub lines: Vec<CardLine>,
    /// Why this recipient would be skipped (missing variable, 47003 rule), if so.
    pub problem: Option<String>,
}

/// The composer's check of a draft.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct ComposeCheck {
    pub template_title: String,
    pub fields: Vec<FieldCheck>,
    /// The variable names the recipients carry (CSV/list columns).
    pub variables: Vec<String>,
    /// `{{变量}}` used in the draft that no column provides.
    pub missing_variables: Vec<String>,
    pub cards: Vec<CardPreview>,
    /// Whether the draft can be sent (every field fine, no missing variable).
    pub ok: bool,
}

fn card(
    fields: &[keywords::Field],
    rendered: &BTreeMap<String, String>,
    openid: &str,
) -> CardPreview {
    let lines = fields
        .iter()
        .filter_map(|f| {
            let v = rendered.get(&f.key).map(String::as_str).unwrap_or("");
            keywords::display_field(f.kind, v).map(|d| CardLine {
                label: f.label.clone(),
                text: d.text,
                cut: d.cut,
                emoji_removed: d.emoji_removed,
            })
        })
        .collect();
    CardPreview {
        openid: openid.to_string(),
        lines,
        problem: None,
    }
}

/// Checks every value with core's keyword rules and renders the card for the first recipients.
#[tauri::command]
#[specta::specta]
pub async fn compose_check<R: Runtime>(
    app: tauri::AppHandle<R>,
    draft: TemplateDraft,
    recipients: Option<RecipientSource>,
) -> CmdResult<ComposeCheck> {
    let ctx = app.state::<AppState>().ctx.clone();
    let t = templates::get_template(&ctx.store, &draft.appid, &draft.template_id)
        .await
        .map_err(core_err)?
        .ok_or_else(|| invalid("本地没有这个模板；先在「模板」页同步"))?;
    let spec = draft_spec(&ctx, &draft).await?;
    let (rows, variables) = match &recipients {
        Some(src) => load_recipients(&ctx, &draft.appid, src, Some(PREVIEW_ROWS))
            .await
            .unwrap_or_default(),
        None => (Vec::new(), Vec::new()),
    };
    let shown: Vec<keywords::Field> = t
        .fields
        .iter()
        .filter(|f| f.kind.is_shown())
        .cloned()
        .collect();
    let mut ok = true;
    let fields: Vec<FieldCheck> = shown
        .iter()
        .map(|f| {
            let v = draft.data.get(&f.key).map(String::as_str).unwrap_or("");
            let templated = v.contains("{{");
            let allowed = t.const_values.get(&f.key).map(Vec::as_slice);
            let violation = if templated {
                None
            } else {
                keywords::validate_with_allowed(f.kind, v, allowed).err()
            };
            ok &= violation.is_none();
            FieldCheck {
                key: f.key.clone(),
                label: f.label.clone(),
                chars: num(v.chars().count()),
                problem: violation.as_ref().map(|x| x.zh.clone()),
                problem_en: violation.map(|x| x.en),
                templated,
            }
        })
        .collect();
    let missing_variables: Vec<String> = render::placeholders(&spec.payload)
        .into_iter()
        .filter(|p| !variables.contains(p))
        .collect();
    ok &= missing_variables.is_empty();
    let data = match &spec.payload {
        Payload::Template { data, .. } => data.clone(),
        _ => BTreeMap::new(),
    };
    let sample: Vec<Recipient> = if rows.is_empty() {
        vec![Recipient::new("")]
    } else {
        rows
    };
    let cards = sample
        .iter()
        .map(
            |r| match render::render_data(&data, &r.vars, &spec.field_rules) {
                Ok(rendered) => card(&shown, &rendered, &r.openid),
                Err(p) => {
                    // Still draw the card with the raw values, and say why the row would be skipped.
                    let mut c = card(&shown, &data, &r.openid);
                    c.problem = Some(p.message());
                    c
                }
            },
        )
        .collect();
    Ok(ComposeCheck {
        template_title: t.title,
        fields,
        variables,
        missing_variables,
        cards,
        ok,
    })
}

/// What the confirmation dialog shows.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct SendEstimate {
    #[specta(type = Number)]
    pub recipients: f64,
    /// Requests per second the job will use.
    #[specta(type = Number)]
    pub rate_per_sec: f64,
    #[specta(type = Number)]
    pub eta_secs: f64,
}

/// Counts the recipients of a source and estimates the duration at the engine's rate.
#[tauri::command]
#[specta::specta]
pub async fn compose_estimate<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
    recipients: RecipientSource,
) -> CmdResult<SendEstimate> {
    let ctx = app.state::<AppState>().ctx.clone();
    let (rows, _) = load_recipients(&ctx, &appid, &recipients, None).await?;
    let rate = f64::from(wxdesk_core::send::EngineConfig::default().rate_per_sec);
    let n = rows.len() as f64;
    Ok(SendEstimate {
        recipients: n,
        rate_per_sec: rate,
        eta_secs: (n / rate).ceil(),
    })
}

/// The account's template-message quota today (openapi/quota/get), for the confirmation.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct SendQuotaView {
    #[specta(type = Number)]
    pub daily_limit: f64,
    #[specta(type = Number)]
    pub used: f64,
    #[specta(type = Number)]
    pub remaining: f64,
}

/// 今日剩余额度: asked of WeChat through the account's authorizer token each time the dialog
/// opens. A failure is the window's to show next to the estimate; it never blocks sending.
#[tauri::command]
#[specta::specta]
pub async fn compose_quota<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
) -> CmdResult<SendQuotaView> {
    let ctx = app.state::<AppState>().ctx.clone();
    let api = ctx.platform.api().await.map_err(core_err)?;
    let q = wxdesk_core::send::quota::template_send_quota(&api, &appid)
        .await
        .map_err(core_err)?;
    Ok(SendQuotaView {
        daily_limit: num(q.daily_limit),
        used: num(q.used),
        remaining: num(q.remaining),
    })
}

/// Creates the durable job for every recipient and starts it; returns the job id.
#[tauri::command]
#[specta::specta]
pub async fn compose_send<R: Runtime>(
    app: tauri::AppHandle<R>,
    draft: TemplateDraft,
    recipients: RecipientSource,
) -> CmdResult<f64> {
    let ctx = app.state::<AppState>().ctx.clone();
    let spec = draft_spec(&ctx, &draft).await?;
    let (rows, variables) = load_recipients(&ctx, &draft.appid, &recipients, None).await?;
    if rows.is_empty() {
        return Err(invalid("没有接收者：名单或文件中没有有效的 openid"));
    }
    check_placeholders(&spec, &variables)?;
    create_and_start(&app, spec, rows).await
}

async fn create_and_start<R: Runtime>(
    app: &tauri::AppHandle<R>,
    spec: JobSpec,
    rows: Vec<Recipient>,
) -> CmdResult<f64> {
    let id = engine(app)
        .await?
        .create_and_start(spec, rows)
        .await
        .map_err(core_err)?;
    Ok(num(id))
}

/// The outcome of a test send.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct TestSendResult {
    #[specta(type = Number)]
    pub job_id: f64,
    /// `sent`, `failed_permanent`, `skipped`, …
    pub state: String,
    pub state_label: String,
    #[specta(type = Option<Number>)]
    pub msgid: Option<f64>,
    #[specta(type = Option<Number>)]
    pub errcode: Option<f64>,
    pub errmsg: Option<String>,
    /// What the errcode means and what to do (zh-CN).
    pub hint: Option<String>,
}

/// 先发给自己: the draft to one openid, with the first recipient's variables, as a one-row job
/// (so it is in 发送记录 too); waits for the outcome.
#[tauri::command]
#[specta::specta]
pub async fn compose_test_send<R: Runtime>(
    app: tauri::AppHandle<R>,
    draft: TemplateDraft,
    recipients: Option<RecipientSource>,
    openid: String,
) -> CmdResult<TestSendResult> {
    let ctx = app.state::<AppState>().ctx.clone();
    let mut spec = draft_spec(&ctx, &draft).await?;
    spec.title = format!("测试：{}", spec.title);
    let (first, variables) = match &recipients {
        Some(src) => load_recipients(&ctx, &draft.appid, src, Some(1))
            .await
            .unwrap_or_default(),
        None => (Vec::new(), Vec::new()),
    };
    check_placeholders(&spec, &variables)?;
    let vars: Vars = first.into_iter().next().map(|r| r.vars).unwrap_or_default();
    let openid = openid.trim().to_string();
    if openid.is_empty() {
        return Err(invalid("请填写测试接收者的 openid"));
    }
    run_one(&app, spec, Recipient { openid, vars }).await
}

async fn run_one<R: Runtime>(
    app: &tauri::AppHandle<R>,
    spec: JobSpec,
    to: Recipient,
) -> CmdResult<TestSendResult> {
    let engine = engine(app).await?;
    let id = engine
        .create_and_start(spec, vec![to])
        .await
        .map_err(core_err)?;
    engine.wait_idle(id).await.map_err(core_err)?;
    let store = app.state::<AppState>().ctx.store.clone();
    let filter = wxdesk_core::history::HistoryFilter {
        job_id: Some(id),
        ..Default::default()
    };
    let page = store
        .call(move |c| wxdesk_core::history::list(c, &filter, None, 1))
        .await
        .map_err(core_err)?;
    let row = page
        .rows
        .into_iter()
        .next()
        .ok_or_else(|| invalid("测试任务没有记录"))?;
    Ok(TestSendResult {
        job_id: num(id),
        state: row.state.as_str().into(),
        state_label: row.state.label_zh().into(),
        msgid: row.msgid.map(num),
        errcode: row.errcode.map(num),
        errmsg: row.errmsg,
        hint: row.explanation.map(|e| format!("{}：{}", e.zh, e.hint_zh)),
    })
}

/// A customer-service message (客服消息), only deliverable within 48 hours of the user's last
/// interaction (45015 otherwise; 45047 once the window's message allowance is used up — 5 per
/// 48-hour window, 3 per 1-minute window after a click or follow).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, specta::Type)]
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

/// Sends a customer-service message to one openid and waits for the outcome.
#[tauri::command]
#[specta::specta]
pub async fn compose_custom_send<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
    openid: String,
    message: CustomMessage,
) -> CmdResult<TestSendResult> {
    let payload = match message {
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
    };
    let openid = openid.trim().to_string();
    if openid.is_empty() {
        return Err(invalid("请填写接收者 openid"));
    }
    let spec = JobSpec {
        appid,
        title: "客服消息".into(),
        payload,
        field_rules: Vec::new(),
        concurrency: None,
        rate_per_sec: None,
        max_attempts: None,
    };
    run_one(&app, spec, Recipient::new(openid)).await
}
