//! The relay's event log entries as typed values. The `data` shapes per `kind` are the relay
//! contract (contracts.md, "Relay private API").

use serde::Deserialize;
use serde_json::Value;

use crate::relay::RawEvent;
use crate::secrets::Secret;

/// One typed event with its place in the log.
#[derive(Debug, Clone)]
pub struct FeedEvent {
    pub seq: i64,
    /// The authorizer the event concerns, when the relay knows it.
    pub appid: Option<String>,
    pub received_at: i64,
    pub kind: EventKind,
}

#[derive(Debug, Clone)]
pub enum EventKind {
    /// `authorized` / `updateauthorized` (`update` = true): exchange the code.
    Authorized {
        update: bool,
        authorizer_appid: String,
        authorization_code: Secret,
        pre_auth_code: String,
        create_time: i64,
    },
    /// The admin cancelled the authorization.
    Unauthorized {
        authorizer_appid: String,
        create_time: i64,
    },
    /// The browser came back to the relay's redirect_uri.
    AuthCallback {
        auth_code: Secret,
        expires_in: i64,
        state: Option<String>,
    },
    /// 全网发布 test case: answer with api_query_auth + custom/send `<code>_from_api`.
    QueryAuthCode {
        openid: String,
        query_auth_code: Secret,
        to_user_name: String,
    },
    TemplateSendJobFinish {
        openid: String,
        msg_id: i64,
        status: String,
        create_time: i64,
        to_user_name: String,
    },
    Subscribe {
        openid: String,
        create_time: i64,
        event_key: Option<String>,
    },
    Unsubscribe {
        openid: String,
        create_time: i64,
    },
    Text {
        openid: String,
        content: String,
        msg_id: i64,
        create_time: i64,
    },
    Image {
        openid: String,
        pic_url: String,
        media_id: String,
        msg_id: i64,
        create_time: i64,
    },
    /// Anything else the relay forwarded (decrypted raw XML), or a kind this build does not know.
    Other {
        kind: String,
        data: Value,
    },
}

impl EventKind {
    /// The relay's `kind` string.
    pub fn name(&self) -> &str {
        match self {
            EventKind::Authorized { update: false, .. } => "authorized",
            EventKind::Authorized { update: true, .. } => "updateauthorized",
            EventKind::Unauthorized { .. } => "unauthorized",
            EventKind::AuthCallback { .. } => "auth_callback",
            EventKind::QueryAuthCode { .. } => "query_auth_code",
            EventKind::TemplateSendJobFinish { .. } => "template_send_job_finish",
            EventKind::Subscribe { .. } => "subscribe",
            EventKind::Unsubscribe { .. } => "unsubscribe",
            EventKind::Text { .. } => "text",
            EventKind::Image { .. } => "image",
            EventKind::Other { kind, .. } => kind,
        }
    }
}

#[derive(Deserialize)]
struct AuthorizedData {
    authorizer_appid: String,
    authorization_code: Secret,
    #[serde(default)]
    pre_auth_code: String,
    #[serde(default)]
    create_time: i64,
}

#[derive(Deserialize)]
struct UnauthorizedData {
    authorizer_appid: String,
    #[serde(default)]
    create_time: i64,
}

#[derive(Deserialize)]
struct AuthCallbackData {
    auth_code: Secret,
    #[serde(default)]
    expires_in: i64,
    #[serde(default)]
    state: Option<String>,
}

#[derive(Deserialize)]
struct QueryAuthCodeData {
    openid: String,
    query_auth_code: Secret,
    #[serde(default)]
    to_user_name: String,
}

#[derive(Deserialize)]
struct JobFinishData {
    openid: String,
    msg_id: i64,
    status: String,
    #[serde(default)]
    create_time: i64,
    #[serde(default)]
    to_user_name: String,
}

#[derive(Deserialize)]
struct SubscribeData {
    openid: String,
    #[serde(default)]
    create_time: i64,
    #[serde(default)]
    event_key: Option<String>,
}

#[derive(Deserialize)]
struct TextData {
    openid: String,
    #[serde(default)]
    content: String,
    #[serde(default)]
    msg_id: i64,
    #[serde(default)]
    create_time: i64,
}

#[derive(Deserialize)]
struct ImageData {
    openid: String,
    #[serde(default)]
    pic_url: String,
    #[serde(default)]
    media_id: String,
    #[serde(default)]
    msg_id: i64,
    #[serde(default)]
    create_time: i64,
}

fn data<T: for<'de> Deserialize<'de>>(v: &Value) -> Option<T> {
    serde_json::from_value(v.clone()).ok()
}

impl FeedEvent {
    /// Never fails: a known kind whose data does not parse becomes `Other`, so one odd event
    /// cannot stall the feed.
    pub fn from_raw(raw: RawEvent) -> FeedEvent {
        let d = &raw.data;
        let kind = match raw.kind.as_str() {
            k @ ("authorized" | "updateauthorized") => {
                data::<AuthorizedData>(d).map(|a| EventKind::Authorized {
                    update: k == "updateauthorized",
                    authorizer_appid: a.authorizer_appid,
                    authorization_code: a.authorization_code,
                    pre_auth_code: a.pre_auth_code,
                    create_time: a.create_time,
                })
            }
            "unauthorized" => data::<UnauthorizedData>(d).map(|u| EventKind::Unauthorized {
                authorizer_appid: u.authorizer_appid,
                create_time: u.create_time,
            }),
            "auth_callback" => data::<AuthCallbackData>(d).map(|a| EventKind::AuthCallback {
                auth_code: a.auth_code,
                expires_in: a.expires_in,
                state: a.state.filter(|s| !s.is_empty()),
            }),
            "query_auth_code" => data::<QueryAuthCodeData>(d).map(|q| EventKind::QueryAuthCode {
                openid: q.openid,
                query_auth_code: q.query_auth_code,
                to_user_name: q.to_user_name,
            }),
            "template_send_job_finish" => {
                data::<JobFinishData>(d).map(|j| EventKind::TemplateSendJobFinish {
                    openid: j.openid,
                    msg_id: j.msg_id,
                    status: j.status,
                    create_time: j.create_time,
                    to_user_name: j.to_user_name,
                })
            }
            "subscribe" => data::<SubscribeData>(d).map(|s| EventKind::Subscribe {
                openid: s.openid,
                create_time: s.create_time,
                event_key: s.event_key.filter(|k| !k.is_empty()),
            }),
            "unsubscribe" => data::<SubscribeData>(d).map(|s| EventKind::Unsubscribe {
                openid: s.openid,
                create_time: s.create_time,
            }),
            "text" => data::<TextData>(d).map(|t| EventKind::Text {
                openid: t.openid,
                content: t.content,
                msg_id: t.msg_id,
                create_time: t.create_time,
            }),
            "image" => data::<ImageData>(d).map(|i| EventKind::Image {
                openid: i.openid,
                pic_url: i.pic_url,
                media_id: i.media_id,
                msg_id: i.msg_id,
                create_time: i.create_time,
            }),
            _ => None,
        };
        // The appid of authorization events is in `data`; fill it in so consumers need one place.
        let appid = raw.appid.filter(|a| !a.is_empty()).or_else(|| match &kind {
            Some(EventKind::Authorized {
                authorizer_appid, ..
            })
            | Some(EventKind::Unauthorized {
                authorizer_appid, ..
            }) => Some(authorizer_appid.clone()),
            _ => None,
        });
        FeedEvent {
            seq: raw.seq,
            appid,
            received_at: raw.received_at,
            kind: kind.unwrap_or(EventKind::Other {
                kind: raw.kind,
                data: raw.data,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn raw(kind: &str, appid: Option<&str>, data: Value) -> RawEvent {
        RawEvent {
            seq: 9,
            kind: kind.into(),
            appid: appid.map(str::to_string),
            received_at: 100,
            data,
        }
    }

    #[test]
    fn authorized_event_takes_its_appid_from_data_and_keeps_the_code_secret() {
        let ev = FeedEvent::from_raw(raw(
            "updateauthorized",
            None,
            json!({"authorizer_appid":"wxA","authorization_code":"code@@@1",
                   "authorization_code_expired_time":1700000600,"pre_auth_code":"pre@@@1","create_time":1700000000}),
        ));
        assert_eq!(ev.appid.as_deref(), Some("wxA"));
        match &ev.kind {
            EventKind::Authorized {
                update,
                authorization_code,
                pre_auth_code,
                create_time,
                ..
            } => {
                assert!(*update);
                assert_eq!(authorization_code.expose(), "code@@@1");
                assert_eq!(pre_auth_code, "pre@@@1");
                assert_eq!(*create_time, 1_700_000_000);
            }
            other => panic!("{other:?}"),
        }
        assert!(
            !format!("{ev:?}").contains("code@@@1"),
            "Debug must redact the code"
        );
        assert_eq!(ev.kind.name(), "updateauthorized");
    }

    #[test]
    fn each_contract_kind_parses_to_its_variant() {
        let cases = [
            (
                "unauthorized",
                json!({"authorizer_appid":"wxA","create_time":1}),
                "unauthorized",
            ),
            (
                "auth_callback",
                json!({"auth_code":"c","expires_in":600,"state":"s"}),
                "auth_callback",
            ),
            (
                "query_auth_code",
                json!({"openid":"o","query_auth_code":"q","to_user_name":"gh_1"}),
                "query_auth_code",
            ),
            (
                "template_send_job_finish",
                json!({"openid":"o","msg_id":5,"status":"success","create_time":1,"to_user_name":"gh"}),
                "template_send_job_finish",
            ),
            (
                "subscribe",
                json!({"openid":"o","create_time":1,"event_key":"qrscene_1"}),
                "subscribe",
            ),
            (
                "unsubscribe",
                json!({"openid":"o","create_time":1,"event_key":null}),
                "unsubscribe",
            ),
            (
                "text",
                json!({"openid":"o","content":"hi","msg_id":3,"create_time":1}),
                "text",
            ),
            (
                "image",
                json!({"openid":"o","pic_url":"u","media_id":"m","msg_id":3,"create_time":1}),
                "image",
            ),
        ];
        for (kind, data, want) in cases {
            let ev = FeedEvent::from_raw(raw(kind, Some("wxB"), data));
            assert!(
                !matches!(ev.kind, EventKind::Other { .. }),
                "{kind} fell through to Other"
            );
            assert_eq!(ev.kind.name(), want);
            assert_eq!(ev.appid.as_deref(), Some("wxB"));
        }
    }

    #[test]
    fn malformed_or_unknown_events_become_other_instead_of_failing() {
        let ev = FeedEvent::from_raw(raw("authorized", None, json!({"nope":1})));
        assert!(matches!(&ev.kind, EventKind::Other { kind, .. } if kind == "authorized"));
        let ev = FeedEvent::from_raw(raw("other", Some("wxC"), json!({"xml":"<xml/>"})));
        assert!(matches!(&ev.kind, EventKind::Other { kind, .. } if kind == "other"));
        assert_eq!(ev.seq, 9);
    }
}
