//! Typed events the shell sends the window (namespaced names, STYLE.md #8). Each is listed in
//! [`crate::specta_builder`] so `bindings.ts` has a typed listener for it.

use serde::Serialize;
use wxdesk_core::feed::FeedNotice;

/// Why the accounts changed; the window refetches on any of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum AccountsChangeReason {
    /// An account was authorized (or its authorization updated) and stored.
    Authorized,
    /// 已取消授权 / 需要重新授权 / back to 已授权.
    StatusChanged,
    /// An authorization event could not be completed.
    AuthorizationFailed,
    /// Notices were missed: refetch everything.
    Resync,
}

/// `accounts:changed`: the accounts table changed under the window (feed events).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type, tauri_specta::Event)]
#[tauri_specta(event_name = "accounts:changed")]
pub struct AccountsChanged {
    pub reason: AccountsChangeReason,
    pub appid: Option<String>,
    /// The wizard matches an `authorized` push to the attempt it started by these.
    pub pre_auth_code: Option<String>,
    pub state: Option<String>,
    /// For `authorization_failed`: what went wrong, in Chinese.
    pub message: Option<String>,
}

impl AccountsChanged {
    /// The wizard stored an account itself (captured redirect).
    pub fn authorized(appid: &str) -> Self {
        AccountsChanged {
            reason: AccountsChangeReason::Authorized,
            appid: Some(appid.to_owned()),
            pre_auth_code: None,
            state: None,
            message: None,
        }
    }

    /// Emits to every window; a failure only means no window listens, so it is logged.
    pub fn emit_logged<R: tauri::Runtime>(&self, app: &tauri::AppHandle<R>) {
        use tauri_specta::Event;
        if let Err(e) = self.emit(app) {
            tracing::warn!(error = %e, "could not emit accounts:changed");
        }
    }

    /// The account-related notices; `None` for the rest. A lagged receiver is reported by the
    /// caller as `CaughtUp { cursor: -1 }`, which means "resync".
    pub fn from_notice(n: &FeedNotice) -> Option<Self> {
        let ev = |reason, appid: Option<&String>| AccountsChanged {
            reason,
            appid: appid.cloned(),
            pre_auth_code: None,
            state: None,
            message: None,
        };
        Some(match n {
            FeedNotice::AccountAuthorized {
                appid,
                pre_auth_code,
                state,
            } => AccountsChanged {
                pre_auth_code: pre_auth_code.clone(),
                state: state.clone(),
                ..ev(AccountsChangeReason::Authorized, Some(appid))
            },
            FeedNotice::AccountStatusChanged { appid, .. } => {
                ev(AccountsChangeReason::StatusChanged, Some(appid))
            }
            FeedNotice::AuthorizationFailed { appid, message } => AccountsChanged {
                message: Some(message.clone()),
                ..ev(AccountsChangeReason::AuthorizationFailed, appid.as_ref())
            },
            FeedNotice::CaughtUp { cursor } if *cursor < 0 => {
                ev(AccountsChangeReason::Resync, None)
            }
            _ => return None,
        })
    }
}

/// `feed:notice`: every follower notice, for status displays and for other areas to refetch
/// on the event kinds they care about (e.g. `template_send_job_finish`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type, tauri_specta::Event)]
#[tauri_specta(event_name = "feed:notice")]
pub struct FeedStatus {
    /// `account_authorized`, `account_status_changed`, `authorization_failed`,
    /// `release_test_answered`, `event`, `retrying`, `caught_up`.
    pub notice: String,
    /// For `event`: the relay event kind (`template_send_job_finish`, `subscribe`, …).
    pub kind: Option<String>,
    pub appid: Option<String>,
    pub message: Option<String>,
}

impl FeedStatus {
    pub fn from_notice(n: &FeedNotice) -> Self {
        let s = |notice: &str, appid: Option<&String>| FeedStatus {
            notice: notice.to_owned(),
            kind: None,
            appid: appid.cloned(),
            message: None,
        };
        match n {
            FeedNotice::AccountAuthorized { appid, .. } => s("account_authorized", Some(appid)),
            FeedNotice::AccountStatusChanged { appid, .. } => {
                s("account_status_changed", Some(appid))
            }
            FeedNotice::AuthorizationFailed { appid, message } => FeedStatus {
                message: Some(message.clone()),
                ..s("authorization_failed", appid.as_ref())
            },
            FeedNotice::ReleaseTestAnswered { appid, .. } => {
                s("release_test_answered", appid.as_ref())
            }
            FeedNotice::Event { appid, kind, .. } => FeedStatus {
                kind: Some(kind.clone()),
                ..s("event", appid.as_ref())
            },
            FeedNotice::Retrying {
                message,
                retry_in_secs,
            } => FeedStatus {
                message: Some(format!("{message}（{retry_in_secs} 秒后重试）")),
                ..s("retrying", None)
            },
            FeedNotice::CaughtUp { .. } => s("caught_up", None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_authorized_push_carries_the_pre_auth_code_for_the_wizard() {
        let ev = AccountsChanged::from_notice(&FeedNotice::AccountAuthorized {
            appid: "wx1".into(),
            pre_auth_code: Some("preauthcode@@@1".into()),
            state: None,
        });
        assert_eq!(
            ev,
            Some(AccountsChanged {
                reason: AccountsChangeReason::Authorized,
                appid: Some("wx1".into()),
                pre_auth_code: Some("preauthcode@@@1".into()),
                state: None,
                message: None,
            })
        );
    }

    #[test]
    fn a_missed_notice_asks_for_a_resync_and_a_normal_catch_up_does_not() {
        let resync = AccountsChanged::from_notice(&FeedNotice::CaughtUp { cursor: -1 });
        assert_eq!(resync.map(|e| e.reason), Some(AccountsChangeReason::Resync));
        assert_eq!(
            AccountsChanged::from_notice(&FeedNotice::CaughtUp { cursor: 7 }),
            None
        );
    }

    #[test]
    fn other_events_reach_the_window_with_their_kind() {
        let st = FeedStatus::from_notice(&FeedNotice::Event {
            seq: 3,
            appid: Some("wx1".into()),
            kind: "template_send_job_finish".into(),
        });
        assert_eq!(st.notice, "event");
        assert_eq!(st.kind.as_deref(), Some("template_send_job_finish"));
        assert_eq!(st.appid.as_deref(), Some("wx1"));
    }
}
