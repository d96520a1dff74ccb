//! The 订阅通知 events of protocol G.6: a user's choice in the subscribe popup, a rejection from
//! the 服务通知 management page, and the result of a bizsend. Each carries one or more `<List>`
//! items inside a wrapper element.

use crate::xml::{self, Flat};

/// Which of the three events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SubscribeMsgKind {
    /// `subscribe_msg_popup_event`: accept/reject in the popup (PopupScene 1 H5, 2 article).
    Popup,
    /// `subscribe_msg_change_event`: the user switched a notice off (only rejections are pushed).
    Change,
    /// `subscribe_msg_sent_event`: the asynchronous result of a bizsend.
    Sent,
}

impl SubscribeMsgKind {
    pub fn event_name(self) -> &'static str {
        match self {
            SubscribeMsgKind::Popup => "subscribe_msg_popup_event",
            SubscribeMsgKind::Change => "subscribe_msg_change_event",
            SubscribeMsgKind::Sent => "subscribe_msg_sent_event",
        }
    }

    fn from_event(event: &str) -> Option<SubscribeMsgKind> {
        Some(match event {
            "subscribe_msg_popup_event" => SubscribeMsgKind::Popup,
            "subscribe_msg_change_event" => SubscribeMsgKind::Change,
            "subscribe_msg_sent_event" => SubscribeMsgKind::Sent,
            _ => return None,
        })
    }

    /// The wrapper element(s) holding the items. The change event's official example wraps it in
    /// `SubscribeMsgPopupEvent` (a doc bug the SDKs do not follow): both are read.
    fn wrappers(self) -> &'static [&'static str] {
        match self {
            SubscribeMsgKind::Popup => &["SubscribeMsgPopupEvent"],
            SubscribeMsgKind::Change => &["SubscribeMsgChangeEvent", "SubscribeMsgPopupEvent"],
            SubscribeMsgKind::Sent => &["SubscribeMsgSentEvent"],
        }
    }
}

/// One `<List>` item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscribeMsgItem {
    pub template_id: String,
    /// `accept` / `reject` (popup and change events); empty on the sent event.
    pub status: String,
    /// Popup only: 1 H5 page, 2 article (0 in mini programs).
    pub popup_scene: Option<i64>,
    /// Sent only: the bizsend `msgid`.
    pub msg_id: Option<i64>,
    /// Sent only: 0 delivered, otherwise an API errcode.
    pub error_code: Option<i64>,
    pub error_status: Option<String>,
}

impl SubscribeMsgItem {
    pub fn accepted(&self) -> bool {
        self.status.trim() == "accept"
    }
}

/// A 订阅通知 event with its items (at least one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscribeMsgEvent {
    pub kind: SubscribeMsgKind,
    pub to_user_name: String,
    /// The user's openid.
    pub from_user_name: String,
    pub create_time: i64,
    pub items: Vec<SubscribeMsgItem>,
}

fn int(f: &Flat, name: &str) -> Option<i64> {
    f.get(name).and_then(|v| v.trim().parse().ok())
}

/// `None` unless `flat` (the body's direct children) is one of the three events with at least
/// one item naming a template; the items are read from `raw`.
pub(super) fn read(flat: &Flat, raw: &str) -> Option<SubscribeMsgEvent> {
    if !flat.get("MsgType")?.trim().eq_ignore_ascii_case("event") {
        return None;
    }
    let kind = SubscribeMsgKind::from_event(flat.get("Event")?.trim())?;
    let items: Vec<SubscribeMsgItem> = xml::parse_lists(raw, kind.wrappers())
        .ok()?
        .into_iter()
        .filter_map(|it| {
            let template_id = it.get("TemplateId")?.trim().to_owned();
            (!template_id.is_empty()).then(|| SubscribeMsgItem {
                template_id,
                status: it
                    .get("SubscribeStatusString")
                    .map(|s| s.trim().to_owned())
                    .unwrap_or_default(),
                popup_scene: int(&it, "PopupScene"),
                msg_id: int(&it, "MsgID").or_else(|| int(&it, "MsgId")),
                error_code: int(&it, "ErrorCode"),
                error_status: it.get("ErrorStatus").map(|s| s.trim().to_owned()),
            })
        })
        .collect();
    if items.is_empty() {
        return None;
    }
    Some(SubscribeMsgEvent {
        kind,
        to_user_name: flat.get("ToUserName")?.to_owned(),
        from_user_name: flat.get("FromUserName")?.to_owned(),
        create_time: int(flat, "CreateTime")?,
        items,
    })
}
