//! What a window hears about the feed: the follower's [`FeedNotice`]s as the two events the
//! desktop shell sends (`accounts:changed` for the accounts views, `feed:notice` for every
//! notice). Plain transport types; the shell only wraps them as its typed events and emits them.
//! Failures travel in both languages ([`Msg`]) and as an [`ErrorCode`], so the window shows them
//! in its own language.

use serde::Serialize;

use super::FeedNotice;
use crate::error::{ErrorCode, Msg};

/// Why the accounts changed; the window refetches on any of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AccountsChanged {
    pub reason: AccountsChangeReason,
    pub appid: Option<String>,
    /// The wizard matches an `authorized` push to the attempt it started by these.
    pub pre_auth_code: Option<String>,
    pub state: Option<String>,
    /// For `authorization_failed`: what went wrong.
    pub message: Option<Msg>,
}

impl AccountsChanged {
    fn of(reason: AccountsChangeReason, appid: Option<&String>) -> Self {
        AccountsChanged {
            reason,
            appid: appid.cloned(),
            pre_auth_code: None,
            state: None,
            message: None,
        }
    }

    /// The wizard stored an account itself (captured redirect).
    pub fn authorized(appid: &str) -> Self {
        Self::of(AccountsChangeReason::Authorized, Some(&appid.to_owned()))
    }

    /// The account-related notices; `None` for the rest. A lagged receiver is reported as
    /// `CaughtUp { cursor: -1 }`, which means "resync".
    pub fn from_notice(n: &FeedNotice) -> Option<Self> {
        use AccountsChangeReason as R;
        Some(match n {
            FeedNotice::AccountAuthorized {
                appid,
                pre_auth_code,
                state,
            } => AccountsChanged {
                pre_auth_code: pre_auth_code.clone(),
                state: state.clone(),
                ..Self::of(R::Authorized, Some(appid))
            },
            FeedNotice::AccountStatusChanged { appid, .. } => {
                Self::of(R::StatusChanged, Some(appid))
            }
            FeedNotice::AuthorizationFailed { appid, message } => AccountsChanged {
                message: Some(message.clone()),
                ..Self::of(R::AuthorizationFailed, appid.as_ref())
            },
            FeedNotice::CaughtUp { cursor } if *cursor < 0 => Self::of(R::Resync, None),
            _ => return None,
        })
    }
}

/// Which follower notice a [`FeedStatus`] carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
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
    /// WeChat's tickets stopped arriving at the relay (`age_secs`: the newest one's age, `null`
    /// when the relay has none).
    TicketStale,
    /// Tickets arrive again.
    TicketFresh,
    /// WeChat's API could not be reached (`message` says where and why).
    WechatUnreachable,
    /// WeChat answers again.
    WechatReachable,
}

/// `feed:notice`: every follower notice, for status displays (the frame's banner) and for other
/// areas to refetch on the event kinds they care about (e.g. `template_send_job_finish`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FeedStatus {
    pub notice: FeedNoticeKind,
    /// For `event` and the parked notices: the relay event kind (`template_send_job_finish`,
    /// `authorized`, …).
    pub kind: Option<String>,
    pub appid: Option<String>,
    /// What went wrong, in both languages (no secrets).
    pub message: Option<Msg>,
    /// For `retrying`: the kind of failure, to say what to do.
    pub code: Option<ErrorCode>,
    /// WeChat's errcode, when WeChat refused.
    #[cfg_attr(feature = "specta", specta(type = Option<specta_typescript::Number>))]
    pub errcode: Option<i64>,
    /// The event's seq; for `events_lost` the first lost one.
    #[cfg_attr(feature = "specta", specta(type = Option<specta_typescript::Number>))]
    pub seq: Option<i64>,
    /// For `events_lost`: the last lost seq.
    #[cfg_attr(feature = "specta", specta(type = Option<specta_typescript::Number>))]
    pub to_seq: Option<i64>,
    /// For `retrying` and `event_parked`: seconds until the next try.
    #[cfg_attr(feature = "specta", specta(type = Option<specta_typescript::Number>))]
    pub retry_in_secs: Option<u64>,
    /// For `ticket_stale` and `ticket_fresh`: the relay's newest ticket's age in seconds.
    #[cfg_attr(feature = "specta", specta(type = Option<specta_typescript::Number>))]
    pub age_secs: Option<i64>,
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
            age_secs: None,
        }
    }

    pub fn from_notice(n: &FeedNotice) -> Self {
        use FeedNoticeKind as K;
        // An event of `kind` for `appid`, numbered `seq`.
        let event = |notice, seq: i64, appid: &Option<String>, kind: &str| FeedStatus {
            kind: Some(kind.to_owned()),
            appid: appid.clone(),
            seq: Some(seq),
            ..Self::of(notice)
        };
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
            FeedNotice::Event { seq, appid, kind } => event(K::Event, *seq, appid, kind),
            FeedNotice::Retrying {
                message,
                code,
                retry_in_secs,
            } => FeedStatus {
                message: Some(message.clone()),
                code: Some(ErrorCode::of(code)),
                retry_in_secs: Some(*retry_in_secs),
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
                message: Some(message.clone()),
                errcode: *errcode,
                retry_in_secs: Some(*retry_in_secs),
                ..event(K::EventParked, *seq, appid, kind)
            },
            FeedNotice::ParkedApplied { seq, appid, kind } => {
                event(K::ParkedApplied, *seq, appid, kind)
            }
            FeedNotice::ParkedGivenUp {
                seq,
                appid,
                kind,
                message,
            } => FeedStatus {
                message: Some(message.clone()),
                ..event(K::ParkedGivenUp, *seq, appid, kind)
            },
            FeedNotice::EventsLost { from_seq, to_seq } => FeedStatus {
                seq: Some(*from_seq),
                to_seq: Some(*to_seq),
                ..Self::of(K::EventsLost)
            },
            FeedNotice::TicketStale { age_secs } => FeedStatus {
                age_secs: *age_secs,
                ..Self::of(K::TicketStale)
            },
            FeedNotice::TicketFresh { age_secs } => FeedStatus {
                age_secs: Some(*age_secs),
                ..Self::of(K::TicketFresh)
            },
            FeedNotice::WechatUnreachable { message } => FeedStatus {
                message: Some(message.clone()),
                ..Self::of(K::WechatUnreachable)
            },
            FeedNotice::WechatReachable => Self::of(K::WechatReachable),
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
    fn a_refused_relay_key_reaches_the_window_as_its_own_code_in_both_languages() {
        let e = crate::Error::RelayUnauthorized;
        let st = FeedStatus::from_notice(&FeedNotice::Retrying {
            message: Msg::of_error(&e),
            code: e.code().into(),
            retry_in_secs: 4,
        });
        assert_eq!(st.notice, FeedNoticeKind::Retrying);
        assert_eq!(st.code, Some(ErrorCode::RelayUnauthorized));
        assert_eq!(st.retry_in_secs, Some(4));
        let m = st.message.unwrap();
        assert_eq!(m.zh, e.to_string());
        assert!(m.en.contains("relay refused the key"), "{}", m.en);
        let st = FeedStatus::from_notice(&FeedNotice::Retrying {
            message: Msg::new("中继请求失败", "The relay request failed"),
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
            message: Msg::new("微信系统繁忙", "WeChat is busy"),
            errcode: Some(-1),
            attempts: 1,
            retry_in_secs: 10,
        });
        assert_eq!(st.notice, FeedNoticeKind::EventParked);
        assert_eq!(
            (st.seq, st.errcode, st.retry_in_secs),
            (Some(12), Some(-1), Some(10))
        );
        assert_eq!(st.kind.as_deref(), Some("authorized"));
        assert_eq!(st.message.map(|m| m.en), Some("WeChat is busy".into()));
        let st = FeedStatus::from_notice(&FeedNotice::EventsLost {
            from_seq: 4,
            to_seq: 9,
        });
        assert_eq!(
            (st.notice, st.seq, st.to_seq),
            (FeedNoticeKind::EventsLost, Some(4), Some(9))
        );
    }
}
