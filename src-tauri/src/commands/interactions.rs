//! 客服消息 recipients: the users whose customer-service window is open now (they wrote to the
//! account, clicked a push menu, followed or scanned within the window), newest first, in keyset
//! pages. An adapter over `wxdesk_core::interactions`, which the relay feed keeps current.

use serde::{Deserialize, Serialize};
use specta_typescript::Number;
use tauri::{Manager, Runtime};
use wxdesk_core::interactions::{self, InteractionKind, OpenWindow, WindowCursor, WindowPage};

use super::templates::core_err;
use crate::error::ShellError;
use crate::state::AppState;

type CmdResult<T> = Result<T, ShellError>;

/// Rows per page when the window asks for none.
const DEFAULT_PAGE: u32 = 200;

/// What the user last did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum InteractionAction {
    Text,
    Image,
    Voice,
    Video,
    ShortVideo,
    Location,
    Link,
    Subscribe,
    Scan,
    Click,
    ScancodePush,
    ScancodeWaitmsg,
}

impl From<InteractionKind> for InteractionAction {
    fn from(k: InteractionKind) -> Self {
        match k {
            InteractionKind::Text => InteractionAction::Text,
            InteractionKind::Image => InteractionAction::Image,
            InteractionKind::Voice => InteractionAction::Voice,
            InteractionKind::Video => InteractionAction::Video,
            InteractionKind::ShortVideo => InteractionAction::ShortVideo,
            InteractionKind::Location => InteractionAction::Location,
            InteractionKind::Link => InteractionAction::Link,
            InteractionKind::Subscribe => InteractionAction::Subscribe,
            InteractionKind::Scan => InteractionAction::Scan,
            InteractionKind::Click => InteractionAction::Click,
            InteractionKind::ScancodePush => InteractionAction::ScancodePush,
            InteractionKind::ScancodeWaitmsg => InteractionAction::ScancodeWaitmsg,
        }
    }
}

/// One user who can be sent a customer-service message now.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct InteractionRow {
    pub openid: String,
    /// 备注名 from the follower table, when set.
    pub remark: Option<String>,
    pub action: InteractionAction,
    /// The action in Chinese (发来文字, 点击菜单, 关注…).
    pub action_label: String,
    /// The first 40 characters of the last text message; empty for other actions.
    pub preview: String,
    /// Unix seconds (WeChat's CreateTime) of the last action.
    #[specta(type = Number)]
    pub last_at: f64,
    /// Unix seconds when the window closes.
    #[specta(type = Number)]
    pub window_until: f64,
    /// Seconds left now.
    #[specta(type = Number)]
    pub remaining_secs: f64,
}

impl From<OpenWindow> for InteractionRow {
    fn from(w: OpenWindow) -> Self {
        InteractionRow {
            openid: w.openid,
            remark: w.remark,
            action: w.kind.into(),
            action_label: w.kind.label_zh().into(),
            preview: w.preview,
            last_at: w.last_at as f64,
            window_until: w.window_until as f64,
            remaining_secs: w.remaining_secs as f64,
        }
    }
}

/// Where the next page starts (pass back as `after`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, specta::Type)]
pub struct InteractionCursor {
    #[specta(type = Number)]
    pub last_at: f64,
    pub openid: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct InteractionPage {
    pub rows: Vec<InteractionRow>,
    /// Users with an open window, all pages together.
    #[specta(type = Number)]
    pub total: f64,
    pub next: Option<InteractionCursor>,
}

impl From<WindowPage> for InteractionPage {
    fn from(p: WindowPage) -> Self {
        InteractionPage {
            rows: p.rows.into_iter().map(Into::into).collect(),
            total: p.total as f64,
            next: p.next.map(|c| InteractionCursor {
                last_at: c.last_at as f64,
                openid: c.openid,
            }),
        }
    }
}

/// The users of `appid` whose customer-service window is open now, newest action first;
/// `limit` rows (1–500, default 200) after `after`.
#[tauri::command]
#[specta::specta]
pub async fn interactions_open<R: Runtime>(
    app: tauri::AppHandle<R>,
    appid: String,
    after: Option<InteractionCursor>,
    limit: Option<f64>,
) -> CmdResult<InteractionPage> {
    let store = app.state::<AppState>().ctx.store.clone();
    let limit = limit.map_or(DEFAULT_PAGE, |l| l.clamp(1.0, 500.0) as u32);
    let after = after.map(|c| WindowCursor {
        last_at: c.last_at as i64,
        openid: c.openid,
    });
    let now = interactions::now();
    store
        .call(move |c| interactions::open_windows(c, &appid, now, after.as_ref(), limit))
        .await
        .map(Into::into)
        .map_err(core_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_core_kind_keeps_its_wire_name() {
        for k in InteractionKind::ALL {
            let dto = serde_json::to_value(InteractionAction::from(k)).unwrap_or_default();
            assert_eq!(dto, serde_json::Value::String(k.as_str().into()));
        }
    }
}
