//! The relay feed's parked events (an authorization, a cancellation or a 全网发布 test the app
//! could not apply yet, retried in the background) for the window's banner. An adapter over
//! `wxdesk_core::feed::parked`.

use serde::Serialize;
use specta_typescript::Number;
use tauri::{Manager, Runtime};
use wxdesk_core::feed::parked::{self, ParkedEvent};

use super::templates::core_err;
use crate::error::ShellError;
use crate::state::AppState;

type CmdResult<T> = Result<T, ShellError>;

/// One parked event.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct ParkedEventView {
    #[specta(type = Number)]
    pub seq: f64,
    /// The relay event kind (`authorized`, `auth_callback`, `query_auth_code`, …).
    pub kind: String,
    pub appid: Option<String>,
    /// Why the last try failed, in Chinese.
    pub error: String,
    /// WeChat's errcode, when WeChat answered.
    pub errcode: Option<i32>,
    /// Tries that failed so far.
    pub attempts: u32,
    /// Unix seconds.
    #[specta(type = Number)]
    pub parked_at: f64,
    /// Unix seconds of the next automatic try.
    #[specta(type = Number)]
    pub next_retry_at: f64,
}

impl From<ParkedEvent> for ParkedEventView {
    fn from(p: ParkedEvent) -> Self {
        ParkedEventView {
            seq: p.seq as f64,
            kind: p.kind,
            appid: p.appid,
            error: p.error,
            errcode: p.errcode.and_then(|c| i32::try_from(c).ok()),
            attempts: p.attempts,
            parked_at: p.parked_at as f64,
            next_retry_at: p.next_retry_at as f64,
        }
    }
}

/// The events the feed parked, oldest first.
#[tauri::command]
#[specta::specta]
pub async fn feed_parked<R: Runtime>(app: tauri::AppHandle<R>) -> CmdResult<Vec<ParkedEventView>> {
    let store = app.state::<AppState>().ctx.store.clone();
    let rows = store.call(|c| parked::list(c)).await.map_err(core_err)?;
    Ok(rows.into_iter().map(Into::into).collect())
}
