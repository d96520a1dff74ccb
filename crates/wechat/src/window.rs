//! 客服消息窗口 (protocol E, "Customer service message"): which user actions let an account
//! send `message/custom/send`, and for how long. A message from the user opens 48 hours; a
//! push-menu click, a follow or a QR-code scan opens a short window (1 minute in the current
//! quota table); anything else opens nothing, and an unsubscribe closes what was open.
//!
//! One table for the desk (its interactions) and the team server (its shared windows).

/// A message from the user opens this long a window.
pub const MESSAGE_SECS: i64 = 48 * 3600;
/// A push-menu click, a follow or a QR scan opens this long a window (current quota table:
/// 3 messages within 1 minute; older documentation said 20 within 48 hours).
pub const EVENT_SECS: i64 = 60;
/// Characters of a text message kept as its preview.
pub const PREVIEW_CHARS: usize = 40;

/// The action a push is, by its stable snake_case name (`text`, `subscribe`, `click`…), from
/// its `MsgType` (and `Event` when that is `event`); `None` for what opens nothing.
pub fn action(msg_type: &str, event: Option<&str>) -> Option<&'static str> {
    Some(match msg_type {
        "text" => "text",
        "image" => "image",
        "voice" => "voice",
        "video" => "video",
        "shortvideo" => "short_video",
        "location" => "location",
        "link" => "link",
        // Event names are case-sensitive on the wire; the menu ones are lower case.
        "event" => match event? {
            "subscribe" => "subscribe",
            "SCAN" => "scan",
            "CLICK" => "click",
            "scancode_push" => "scancode_push",
            "scancode_waitmsg" => "scancode_waitmsg",
            _ => return None,
        },
        _ => return None,
    })
}

/// Whether an action (by [`action`]'s name) is a message the user sent.
pub fn is_message(action: &str) -> bool {
    matches!(
        action,
        "text" | "image" | "voice" | "video" | "short_video" | "location" | "link"
    )
}

/// How long the window an action opens lasts.
pub fn secs(action: &str) -> i64 {
    if is_message(action) {
        MESSAGE_SECS
    } else {
        EVENT_SECS
    }
}

/// The first [`PREVIEW_CHARS`] characters on one line, with `…` when cut.
pub fn preview(text: &str) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out: String = one_line.chars().take(PREVIEW_CHARS).collect();
    if one_line.chars().count() > PREVIEW_CHARS {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_open_two_days_events_a_minute_and_the_rest_nothing() {
        assert_eq!(action("text", None).map(secs), Some(MESSAGE_SECS));
        assert_eq!(action("shortvideo", None), Some("short_video"));
        assert_eq!(action("event", Some("CLICK")).map(secs), Some(EVENT_SECS));
        assert_eq!(
            action("event", Some("click")),
            None,
            "event names are case-sensitive"
        );
        assert_eq!(action("event", Some("VIEW")), None);
        assert_eq!(action("event", Some("unsubscribe")), None);
        assert_eq!(action("event", None), None);
    }

    #[test]
    fn a_preview_is_one_line_and_cut_with_an_ellipsis() {
        assert_eq!(preview("发货了吗\n  谢谢"), "发货了吗 谢谢");
        let long = "字".repeat(50);
        assert_eq!(preview(&long).chars().count(), PREVIEW_CHARS + 1);
    }
}

/// What a push means for the user's window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Opened {
        openid: String,
        /// CreateTime; 0 when the push had none (the caller uses its receipt time).
        at: i64,
        /// [`action`]'s name.
        action: &'static str,
        preview: String,
    },
    /// The user unfollowed: no custom message reaches them any more.
    Closed { openid: String, at: i64 },
}

/// The window change a parsed message-URL push carries, if any.
pub fn change_of(cb: crate::callback::Callback) -> Option<Change> {
    use crate::callback::Callback;
    let opened = |openid: String, at: i64, action, preview| {
        Some(Change::Opened {
            openid,
            at,
            action,
            preview,
        })
    };
    match cb {
        Callback::Text {
            from_user_name,
            create_time,
            content,
            ..
        } => opened(from_user_name, create_time, "text", preview(&content)),
        Callback::Image {
            from_user_name,
            create_time,
            ..
        } => opened(from_user_name, create_time, "image", String::new()),
        Callback::Subscribe {
            from_user_name,
            create_time,
            ..
        } => opened(from_user_name, create_time, "subscribe", String::new()),
        Callback::Unsubscribe {
            from_user_name,
            create_time,
            ..
        } => Some(Change::Closed {
            openid: from_user_name,
            at: create_time,
        }),
        Callback::Unknown {
            msg_type,
            event,
            from_user_name,
            create_time,
            ..
        } => {
            let action = action(msg_type.as_deref()?, event.as_deref())?;
            let openid = from_user_name.filter(|o| !o.is_empty())?;
            opened(openid, create_time.unwrap_or(0), action, String::new())
        }
        _ => None,
    }
}
