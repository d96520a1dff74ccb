//! Typed events the shell sends the window (namespaced names, STYLE.md #8). The payloads are
//! core's transport types (`wxdesk_core::feed::window`); each is wrapped here only to give it its
//! event name, and listed in [`crate::specta_builder`] so `bindings.ts` has a typed listener.

use serde::Serialize;
use wxdesk_core::feed::window::{AccountsChanged, FeedStatus};

/// `accounts:changed`: the accounts table changed under the window (feed events).
#[derive(Debug, Clone, Serialize, specta::Type, tauri_specta::Event)]
#[serde(transparent)]
#[specta(transparent)]
#[tauri_specta(event_name = "accounts:changed")]
pub struct AccountsChangedEvent(pub AccountsChanged);

/// `feed:notice`: every follower notice, for the frame's banner and for areas that refetch on
/// the event kinds they care about.
#[derive(Debug, Clone, Serialize, specta::Type, tauri_specta::Event)]
#[serde(transparent)]
#[specta(transparent)]
#[tauri_specta(event_name = "feed:notice")]
pub struct FeedNoticeEvent(pub FeedStatus);

/// Emits to every window; a failure only means no window listens, so it is logged.
pub fn emit_logged<R: tauri::Runtime, E: tauri_specta::Event + Serialize + Clone>(
    app: &tauri::AppHandle<R>,
    event: E,
) {
    if let Err(e) = event.emit(app) {
        tracing::warn!(error = %e, event = E::NAME, "could not emit an event");
    }
}
