//! Typed events the shell sends the window (namespaced names, STYLE.md #8). Each is listed in
//! [`crate::specta_builder`] so `bindings.ts` has a typed listener for it.

use serde::Serialize;
use specta_typescript::Number;
use wxdesk_core::feed::FeedNotice;

use crate::error::ErrorCode;

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

/// Which follower notice a [`FeedStatus`] carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum FeedNoticeKind {
    AccountAuthorized,
    AccountStatusChanged,
    /// An authorization could not be completed (the reason is in `message`).
    AuthorizationFailed,
    ReleaseTestAnswered,
    /// Any other event was applied (`kind` says which).
    Event,
    /// The relay cannot be polled now (`code`: `relay`, `relay_unauthorized`, …).
    Retrying,
    /// Everything the relay had is applied; also sent when polling works again.
    CaughtUp,
    /// An event could not be applied yet and is retried later (`seq`, `kind`, `message`).
    EventParked,
    /// A parked event applied at last.
    ParkedApplied,
    /// A parked event can never apply and was dropped (`message` says why).
    ParkedGivenUp,
    /// The relay pruned events `seq..=to_seq` before they were applied.
    EventsLost,
}

/// `feed:notice`: every follower notice, for status displays (the frame's banner) and for other
/// areas to refetch on the event kinds they care about (e.g. `template_send_job_finish`).
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type, tauri_specta::Event)]
#[tauri_specta(event_name = "feed:notice")]
pub struct FeedStatus {
    pub notice: FeedNoticeKind,
    /// For `event` and the parked notices: the relay event kind (`template_send_job_finish`,
    /// `authorized`, …).
    pub kind: Option<String>,
    pub appid: Option<String>,
    /// What went wrong, in Chinese (no secrets).
    pub message: Option<String>,
    /// For `retrying`: the kind of failure, to say what to do.
    pub code: Option<ErrorCode>,
    /// WeChat's errcode, when WeChat refused.
    pub errcode: Option<i32>,
    /// The event's seq; for `events_lost` the first lost one.
    #[specta(type = Option<Number>)]
    pub seq: Option<f64>,
    /// For `events_lost`: the last lost seq.
    #[specta(type = Option<Number>)]
    pub to_seq: Option<f64>,
    /// For `retrying` and `event_parked`: seconds until the next try.
    pub retry_in_secs: Option<u32>,
}

impl FeedStatus {
    fn of(notice: FeedNoticeKind) -> Self {
        FeedStatus {
            notice,
            kind: None,
            appid: None,
            message: None,
            code: None,
            errcode: None,
            seq: None,
            to_seq: None,
            retry_in_secs: None,
        }
    }

    pub fn from_notice(n: &FeedNotice) -> Self {
        use FeedNoticeKind as K;
        let secs = |s: u64| Some(u32::try_from(s).unwrap_or(u32::MAX));
        match n {
            FeedNotice::AccountAuthorized { appid, .. } => FeedStatus {
                appid: Some(appid.clone()),
                ..Self::of(K::AccountAuthorized)
            },
            FeedNotice::AccountStatusChanged { appid, .. } => FeedStatus {
                appid: Some(appid.clone()),
                ..Self::of(K::AccountStatusChanged)
            },
            FeedNotice::AuthorizationFailed { appid, message } => FeedStatus {
                appid: appid.clone(),
                message: Some(message.clone()),
                ..Self::of(K::AuthorizationFailed)
            },
            FeedNotice::ReleaseTestAnswered { appid, .. } => FeedStatus {
                appid: appid.clone(),
                ..Self::of(K::ReleaseTestAnswered)
            },
            FeedNotice::Event { seq, appid, kind } => FeedStatus {
                kind: Some(kind.clone()),
                appid: appid.clone(),
                seq: Some(*seq as f64),
                ..Self::of(K::Event)
            },
            FeedNotice::Retrying {
                message,
                code,
                retry_in_secs,
            } => FeedStatus {
                message: Some(message.clone()),
                code: Some(ErrorCode::from_core(code)),
                retry_in_secs: secs(*retry_in_secs),
                ..Self::of(K::Retrying)
            },
            FeedNotice::CaughtUp { .. } => Self::of(K::CaughtUp),
            FeedNotice::EventParked {
                seq,
                appid,
                kind,
                message,
                errcode,
                retry_in_secs,
                ..
            } => FeedStatus {
                kind: Some(kind.clone()),
                appid: appid.clone(),
                message: Some(message.clone()),
                errcode: errcode.and_then(|c| i32::try_from(c).ok()),
                seq: Some(*seq as f64),
                retry_in_secs: secs(*retry_in_secs),
                ..Self::of(K::EventParked)
            },
            FeedNotice::ParkedApplied { seq, appid, kind } => FeedStatus {
                kind: Some(kind.clone()),
                appid: appid.clone(),
                seq: Some(*seq as f64),
                ..Self::of(K::ParkedApplied)
            },
            FeedNotice::ParkedGivenUp {
                seq,
                appid,
                kind,
                message,
            } => FeedStatus {
                kind: Some(kind.clone()),
                appid: appid.clone(),
                message: Some(message.clone()),
                seq: Some(*seq as f64),
                ..Self::of(K::ParkedGivenUp)
            },
            FeedNotice::EventsLost { from_seq, to_seq } => FeedStatus {
                seq: Some(*from_seq as f64),
                to_seq: Some(*to_seq as f64),
                ..Self::of(K::EventsLost)
            },
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
        assert_eq!(st.notice, FeedNoticeKind::Event);
        assert_eq!(st.kind.as_deref(), Some("template_send_job_finish"));
        assert_eq!(st.appid.as_deref(), Some("wx1"));
    }

    #[test]
    fn a_refused_relay_key_reaches_the_window_as_its_own_code() {
        let st = FeedStatus::from_notice(&FeedNotice::Retrying {
            message: "中继拒绝了密钥（HTTP 401）".into(),
            code: "relay_unauthorized".into(),
            retry_in_secs: 4,
        });
        assert_eq!(st.notice, FeedNoticeKind::Retrying);
        assert_eq!(st.code, Some(ErrorCode::RelayUnauthorized));
        assert_eq!(st.retry_in_secs, Some(4));
        let st = FeedStatus::from_notice(&FeedNotice::Retrying {
            message: "中继请求失败".into(),
            code: "relay".into(),
            retry_in_secs: 1,
        });
        assert_eq!(st.code, Some(ErrorCode::Relay));
    }

    #[test]
    fn parked_and_lost_events_carry_their_seqs_and_reason() {
        let st = FeedStatus::from_notice(&FeedNotice::EventParked {
            seq: 12,
            appid: Some("wx1".into()),
            kind: "authorized".into(),
            message: "微信系统繁忙".into(),
            errcode: Some(-1),
            attempts: 1,
            retry_in_secs: 10,
        });
        assert_eq!(st.notice, FeedNoticeKind::EventParked);
        assert_eq!(
            (st.seq, st.errcode, st.retry_in_secs),
            (Some(12.0), Some(-1), Some(10))
        );
        assert_eq!(st.kind.as_deref(), Some("authorized"));
        let st = FeedStatus::from_notice(&FeedNotice::EventsLost {
            from_seq: 4,
            to_seq: 9,
        });
        assert_eq!(
            (st.notice, st.seq, st.to_seq),
            (FeedNoticeKind::EventsLost, Some(4.0), Some(9.0))
        );
    }
}
