//! Decrypted pushes → event-log entries with the `kind`/`data` shapes of contracts.md, and the
//! de-duplication key that makes a WeChat retry the same entry.
//!
//! Dedup keys (protocol B.5): component notices by InfoType+AuthorizerAppid+CreateTime; messages
//! by appid+MsgId; delivery reports by appid+MsgID; other events by
//! appid+FromUserName+CreateTime+Event; anything unmodelled by a hash of its decrypted XML (a
//! retry carries the same plaintext).

use serde_json::json;
use sha1::{Digest, Sha1};
use wxdesk_wechat::callback::{AuthChange, Callback};

use crate::store::NewEvent;

/// What a push on the authorization-event URL amounts to.
pub enum ComponentPush {
    /// A component_verify_ticket: kept apart from the log, never in it.
    Ticket { ticket: String, create_time: i64 },
    /// Anything else: an event.
    Event(NewEvent),
}

/// Map a push received on `POST /wechat/component`.
pub fn from_component(cb: Callback, raw_xml: &str, now: i64) -> ComponentPush {
    match cb {
        Callback::ComponentVerifyTicket {
            ticket,
            create_time,
            ..
        } => ComponentPush::Ticket {
            ticket,
            create_time,
        },
        Callback::Authorized(a) => ComponentPush::Event(auth_change("authorized", a, now)),
        Callback::UpdateAuthorized(a) => {
            ComponentPush::Event(auth_change("updateauthorized", a, now))
        }
        Callback::Unauthorized {
            create_time,
            authorizer_appid,
            ..
        } => ComponentPush::Event(NewEvent {
            kind: "unauthorized",
            dedup_key: format!("c:unauthorized:{authorizer_appid}:{create_time}"),
            appid: Some(authorizer_appid.clone()),
            received_at: now,
            data: json!({ "authorizer_appid": authorizer_appid, "create_time": create_time }),
        }),
        // A message-URL shape arriving on the component URL is still kept, as raw XML.
        _ => ComponentPush::Event(other(None, raw_xml, now)),
    }
}

fn auth_change(kind: &'static str, a: AuthChange, now: i64) -> NewEvent {
    NewEvent {
        kind,
        dedup_key: format!("c:{kind}:{}:{}", a.authorizer_appid, a.create_time),
        appid: Some(a.authorizer_appid.clone()),
        received_at: now,
        data: json!({
            "authorizer_appid": a.authorizer_appid,
            "authorization_code": a.authorization_code,
            "authorization_code_expired_time": a.authorization_code_expired_time,
            "pre_auth_code": a.pre_auth_code,
            "create_time": a.create_time,
        }),
    }
}

/// Map a push received on `POST /wechat/{appid}/callback` (not a release-test case).
pub fn from_message(appid: &str, cb: Callback, raw_xml: &str, now: i64) -> NewEvent {
    let appid_owned = Some(appid.to_owned());
    match cb {
        Callback::Text {
            from_user_name,
            create_time,
            content,
            msg_id,
            ..
        } => NewEvent {
            kind: "text",
            dedup_key: format!("m:{appid}:{msg_id}"),
            appid: appid_owned,
            received_at: now,
            data: json!({ "openid": from_user_name, "content": content, "msg_id": msg_id, "create_time": create_time }),
        },
        Callback::Image {
            from_user_name,
            create_time,
            pic_url,
            media_id,
            msg_id,
            ..
        } => NewEvent {
            kind: "image",
            dedup_key: format!("m:{appid}:{msg_id}"),
            appid: appid_owned,
            received_at: now,
            data: json!({
                "openid": from_user_name, "pic_url": pic_url, "media_id": media_id,
                "msg_id": msg_id, "create_time": create_time,
            }),
        },
        Callback::Subscribe {
            from_user_name,
            create_time,
            event_key,
            ..
        } => NewEvent {
            kind: "subscribe",
            dedup_key: format!("e:{appid}:{from_user_name}:{create_time}:subscribe"),
            appid: appid_owned,
            received_at: now,
            data: json!({ "openid": from_user_name, "create_time": create_time, "event_key": event_key }),
        },
        Callback::Unsubscribe {
            from_user_name,
            create_time,
            ..
        } => NewEvent {
            kind: "unsubscribe",
            dedup_key: format!("e:{appid}:{from_user_name}:{create_time}:unsubscribe"),
            appid: appid_owned,
            received_at: now,
            data: json!({ "openid": from_user_name, "create_time": create_time, "event_key": null }),
        },
        // Keyed by MsgID, not FromUserName+CreateTime: two sends to one user in one second are
        // two different reports.
        Callback::TemplateSendJobFinish {
            to_user_name,
            from_user_name,
            create_time,
            msg_id,
            status,
        } => NewEvent {
            kind: "template_send_job_finish",
            dedup_key: format!("t:{appid}:{msg_id}"),
            appid: appid_owned,
            received_at: now,
            data: json!({
                "openid": from_user_name, "msg_id": msg_id, "status": status,
                "create_time": create_time, "to_user_name": to_user_name,
            }),
        },
        _ => other(Some(appid), raw_xml, now),
    }
}

/// The `query_auth_code` event of the full-network release test (protocol F case 3).
pub fn query_auth_code(
    appid: &str,
    openid: &str,
    to_user_name: &str,
    code: &str,
    msg_id: i64,
    now: i64,
) -> NewEvent {
    NewEvent {
        kind: "query_auth_code",
        dedup_key: format!("m:{appid}:{msg_id}"),
        appid: Some(appid.to_owned()),
        received_at: now,
        data: json!({ "openid": openid, "query_auth_code": code, "to_user_name": to_user_name }),
    }
}

/// The `auth_callback` event recorded by `GET /auth/callback`. Keyed by the code so reloading
/// the page does not record it twice.
pub fn auth_callback(auth_code: &str, expires_in: i64, state: Option<&str>, now: i64) -> NewEvent {
    NewEvent {
        kind: "auth_callback",
        dedup_key: format!("a:{auth_code}"),
        appid: None,
        received_at: now,
        data: json!({ "auth_code": auth_code, "expires_in": expires_in, "state": state }),
    }
}

fn other(appid: Option<&str>, raw_xml: &str, now: i64) -> NewEvent {
    let digest = hex::encode(Sha1::digest(raw_xml.as_bytes()));
    NewEvent {
        kind: "other",
        dedup_key: format!("x:{}:{digest}", appid.unwrap_or("-")),
        appid: appid.map(str::to_owned),
        received_at: now,
        data: json!({ "xml": raw_xml }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_reports_for_one_user_in_one_second_are_distinct_events() {
        let report = |msg_id| Callback::TemplateSendJobFinish {
            to_user_name: "gh_1".into(),
            from_user_name: "o1".into(),
            create_time: 100,
            msg_id,
            status: "success".into(),
        };
        let a = from_message("wxa", report(1), "", 5);
        let b = from_message("wxa", report(2), "", 5);
        assert_ne!(a.dedup_key, b.dedup_key);
        assert_eq!(a.kind, "template_send_job_finish");
        assert_eq!(a.data["msg_id"], 1);
        assert_eq!(a.data["openid"], "o1");
    }

    #[test]
    fn the_same_message_id_on_two_accounts_is_two_events() {
        let text = || Callback::Text {
            to_user_name: "gh".into(),
            from_user_name: "o".into(),
            create_time: 1,
            content: "hi".into(),
            msg_id: 7,
        };
        assert_ne!(
            from_message("wxa", text(), "", 0).dedup_key,
            from_message("wxb", text(), "", 0).dedup_key
        );
    }
}
