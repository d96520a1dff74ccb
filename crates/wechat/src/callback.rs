//! Decrypted push bodies (protocol B.2–B.4) as one typed enum. Parsing goes through the hardened
//! reader in `xml.rs`: no DTD or entities, bounded size, never a panic. Anything we do not model
//! — or a known type with a missing field — becomes `Unknown` with the raw XML, so a new WeChat
//! event can never make us drop a push.

use std::fmt;

use crate::error::Result;
use crate::xml::{self, Flat};

mod subscribe;
pub use subscribe::{SubscribeMsgEvent, SubscribeMsgItem, SubscribeMsgKind};

/// One push, after decryption. `Debug` redacts the ticket and shows only the size of `raw`.
#[derive(Clone, PartialEq, Eq)]
pub enum Callback {
    /// B.2 — the ticket is a secret: `Debug` prints it as `<redacted>`; never log it.
    ComponentVerifyTicket {
        app_id: String,
        create_time: i64,
        ticket: String,
    },
    Authorized(AuthChange),
    UpdateAuthorized(AuthChange),
    Unauthorized {
        app_id: String,
        create_time: i64,
        authorizer_appid: String,
    },
    /// B.4 delivery report of a template message. `status` is kept raw (`success`,
    /// `failed:user block`, `failed: system failed`, …); see [`Callback::template_send_succeeded`].
    TemplateSendJobFinish {
        to_user_name: String,
        from_user_name: String,
        create_time: i64,
        msg_id: i64,
        status: String,
    },
    Subscribe {
        to_user_name: String,
        from_user_name: String,
        create_time: i64,
        /// `qrscene_<scene>` when the follow came from a parametric QR code.
        event_key: Option<String>,
    },
    Unsubscribe {
        to_user_name: String,
        from_user_name: String,
        create_time: i64,
    },
    Text {
        to_user_name: String,
        from_user_name: String,
        create_time: i64,
        content: String,
        msg_id: i64,
    },
    Image {
        to_user_name: String,
        from_user_name: String,
        create_time: i64,
        pic_url: String,
        media_id: String,
        msg_id: i64,
    },
    /// G.6 订阅通知 events (popup choice, management-page rejection, bizsend result).
    SubscribeMsg(SubscribeMsgEvent),
    /// Anything else, with what could be read of it.
    Unknown {
        raw: String,
        msg_type: Option<String>,
        event: Option<String>,
        info_type: Option<String>,
        to_user_name: Option<String>,
        from_user_name: Option<String>,
        create_time: Option<i64>,
    },
}

/// Fields of `authorized` / `updateauthorized` (B.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthChange {
    pub app_id: String,
    pub create_time: i64,
    pub authorizer_appid: String,
    pub authorization_code: String,
    /// Informational only: the docs do not settle whether this is a timestamp or a duration.
    pub authorization_code_expired_time: i64,
    pub pre_auth_code: String,
}

impl fmt::Debug for Callback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Callback::ComponentVerifyTicket {
                app_id,
                create_time,
                ..
            } => f
                .debug_struct("ComponentVerifyTicket")
                .field("app_id", app_id)
                .field("create_time", create_time)
                .field("ticket", &"<redacted>")
                .finish(),
            Callback::Authorized(c) => f.debug_tuple("Authorized").field(c).finish(),
            Callback::UpdateAuthorized(c) => f.debug_tuple("UpdateAuthorized").field(c).finish(),
            Callback::Unauthorized {
                app_id,
                create_time,
                authorizer_appid,
            } => f
                .debug_struct("Unauthorized")
                .field("app_id", app_id)
                .field("create_time", create_time)
                .field("authorizer_appid", authorizer_appid)
                .finish(),
            Callback::TemplateSendJobFinish {
                to_user_name,
                from_user_name,
                create_time,
                msg_id,
                status,
            } => f
                .debug_struct("TemplateSendJobFinish")
                .field("to_user_name", to_user_name)
                .field("from_user_name", from_user_name)
                .field("create_time", create_time)
                .field("msg_id", msg_id)
                .field("status", status)
                .finish(),
            Callback::Subscribe {
                to_user_name,
                from_user_name,
                create_time,
                event_key,
            } => f
                .debug_struct("Subscribe")
                .field("to_user_name", to_user_name)
                .field("from_user_name", from_user_name)
                .field("create_time", create_time)
                .field("event_key", event_key)
                .finish(),
            Callback::Unsubscribe {
                to_user_name,
                from_user_name,
                create_time,
            } => f
                .debug_struct("Unsubscribe")
                .field("to_user_name", to_user_name)
                .field("from_user_name", from_user_name)
                .field("create_time", create_time)
                .finish(),
            Callback::Text {
                to_user_name,
                from_user_name,
                create_time,
                content,
                msg_id,
            } => f
                .debug_struct("Text")
                .field("to_user_name", to_user_name)
                .field("from_user_name", from_user_name)
                .field("create_time", create_time)
                .field("content", content)
                .field("msg_id", msg_id)
                .finish(),
            Callback::Image {
                to_user_name,
                from_user_name,
                create_time,
                pic_url,
                media_id,
                msg_id,
            } => f
                .debug_struct("Image")
                .field("to_user_name", to_user_name)
                .field("from_user_name", from_user_name)
                .field("create_time", create_time)
                .field("pic_url", pic_url)
                .field("media_id", media_id)
                .field("msg_id", msg_id)
                .finish(),
            Callback::SubscribeMsg(e) => f.debug_tuple("SubscribeMsg").field(e).finish(),
            Callback::Unknown {
                raw,
                msg_type,
                event,
                info_type,
                to_user_name,
                from_user_name,
                create_time,
            } => f
                .debug_struct("Unknown")
                // Unknown pushes may carry codes or tickets we do not know to redact.
                .field("raw", &format_args!("<{} bytes>", raw.len()))
                .field("msg_type", msg_type)
                .field("event", event)
                .field("info_type", info_type)
                .field("to_user_name", to_user_name)
                .field("from_user_name", from_user_name)
                .field("create_time", create_time)
                .finish(),
        }
    }
}

impl Callback {
    /// For `TemplateSendJobFinish`: whether the status means delivered. Anything starting with
    /// `failed` (with or without a space) is a failure; unknown statuses count as not delivered.
    pub fn template_send_succeeded(&self) -> Option<bool> {
        match self {
            Callback::TemplateSendJobFinish { status, .. } => Some(status.trim() == "success"),
            _ => None,
        }
    }
}

/// Parse a decrypted push body. Errors only for XML that is unsafe or not well-formed; unknown
/// shapes become [`Callback::Unknown`].
pub fn parse(xml_text: &str) -> Result<Callback> {
    let flat = xml::parse_flat(xml_text)?;
    if let Some(e) = subscribe::read(&flat, xml_text) {
        return Ok(Callback::SubscribeMsg(e));
    }
    Ok(typed(&flat).unwrap_or_else(|| unknown(xml_text, &flat)))
}

fn trimmed(flat: &Flat, name: &str) -> Option<String> {
    flat.get(name).map(|v| v.trim().to_owned())
}

/// Required string field; `None` (→ Unknown) if absent.
fn s(flat: &Flat, name: &str) -> Option<String> {
    flat.get(name).map(str::to_owned)
}

fn int(flat: &Flat, name: &str) -> Option<i64> {
    flat.get(name).and_then(|v| v.trim().parse().ok())
}

fn typed(f: &Flat) -> Option<Callback> {
    if let Some(info_type) = trimmed(f, "InfoType") {
        return match info_type.as_str() {
            "component_verify_ticket" => Some(Callback::ComponentVerifyTicket {
                app_id: s(f, "AppId")?,
                create_time: int(f, "CreateTime")?,
                ticket: s(f, "ComponentVerifyTicket")?,
            }),
            "authorized" => auth_change(f).map(Callback::Authorized),
            "updateauthorized" => auth_change(f).map(Callback::UpdateAuthorized),
            "unauthorized" => Some(Callback::Unauthorized {
                app_id: s(f, "AppId")?,
                create_time: int(f, "CreateTime")?,
                authorizer_appid: s(f, "AuthorizerAppid")?,
            }),
            _ => None,
        };
    }
    let msg_type = trimmed(f, "MsgType")?;
    let to_user_name = s(f, "ToUserName")?;
    let from_user_name = s(f, "FromUserName")?;
    let create_time = int(f, "CreateTime")?;
    match msg_type.as_str() {
        "event" => {
            let event = trimmed(f, "Event")?;
            // Event names are documented in both cases (subscribe vs TEMPLATESENDJOBFINISH);
            // match case-insensitively.
            match event.to_ascii_lowercase().as_str() {
                "templatesendjobfinish" => Some(Callback::TemplateSendJobFinish {
                    to_user_name,
                    from_user_name,
                    create_time,
                    // Documented as `MsgID`; accept `MsgId` too.
                    msg_id: int(f, "MsgID").or_else(|| int(f, "MsgId"))?,
                    status: s(f, "Status")?,
                }),
                "subscribe" => Some(Callback::Subscribe {
                    to_user_name,
                    from_user_name,
                    create_time,
                    event_key: s(f, "EventKey").filter(|k| !k.is_empty()),
                }),
                "unsubscribe" => Some(Callback::Unsubscribe {
                    to_user_name,
                    from_user_name,
                    create_time,
                }),
                _ => None,
            }
        }
        "text" => Some(Callback::Text {
            to_user_name,
            from_user_name,
            create_time,
            content: s(f, "Content")?,
            msg_id: int(f, "MsgId")?,
        }),
        "image" => Some(Callback::Image {
            to_user_name,
            from_user_name,
            create_time,
            pic_url: s(f, "PicUrl")?,
            media_id: s(f, "MediaId")?,
            msg_id: int(f, "MsgId")?,
        }),
        _ => None,
    }
}

fn auth_change(f: &Flat) -> Option<AuthChange> {
    Some(AuthChange {
        app_id: s(f, "AppId")?,
        create_time: int(f, "CreateTime")?,
        authorizer_appid: s(f, "AuthorizerAppid")?,
        authorization_code: s(f, "AuthorizationCode")?,
        authorization_code_expired_time: int(f, "AuthorizationCodeExpiredTime")?,
        pre_auth_code: s(f, "PreAuthCode")?,
    })
}

fn unknown(raw: &str, f: &Flat) -> Callback {
    Callback::Unknown {
        raw: raw.to_owned(),
        msg_type: trimmed(f, "MsgType"),
        event: trimmed(f, "Event"),
        info_type: trimmed(f, "InfoType"),
        to_user_name: s(f, "ToUserName"),
        from_user_name: s(f, "FromUserName"),
        create_time: int(f, "CreateTime"),
    }
}

#[cfg(test)]
mod tests;
