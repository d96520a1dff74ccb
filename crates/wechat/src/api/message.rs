//! Customer-service messages, the (withdrawn) unified message and subscription notices
//! (protocol C.6).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::template::{MiniProgramLink, TemplateValue};
use super::{Ack, Client};
use crate::error::Result;
use crate::secret::Secret;

const AT: &str = "access_token";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Article {
    pub title: String,
    pub description: String,
    pub url: String,
    pub picurl: String,
}

/// `message/custom/send` bodies we send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CustomMessage {
    Text {
        touser: String,
        content: String,
    },
    /// External link card (one article).
    News {
        touser: String,
        articles: Vec<Article>,
    },
    MiniProgramPage {
        touser: String,
        title: String,
        appid: String,
        pagepath: String,
        thumb_media_id: String,
    },
}

impl CustomMessage {
    /// The JSON body: `{"touser", "msgtype": X, X: {...}}`.
    pub fn to_json(&self) -> Value {
        match self {
            CustomMessage::Text { touser, content } => {
                json!({"touser": touser, "msgtype": "text", "text": {"content": content}})
            }
            CustomMessage::News { touser, articles } => {
                json!({"touser": touser, "msgtype": "news", "news": {"articles": articles}})
            }
            CustomMessage::MiniProgramPage {
                touser,
                title,
                appid,
                pagepath,
                thumb_media_id,
            } => json!({
                "touser": touser,
                "msgtype": "miniprogrampage",
                "miniprogrampage": {"title": title, "appid": appid, "pagepath": pagepath, "thumb_media_id": thumb_media_id},
            }),
        }
    }
}

/// `mp_template_msg` of uniform_send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MpTemplateMsg {
    /// The official account linked to the mini program.
    pub appid: String,
    pub template_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub miniprogram: Option<MiniProgramLink>,
    pub data: BTreeMap<String, TemplateValue>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UniformMessage {
    pub touser: String,
    pub mp_template_msg: MpTemplateMsg,
}

/// Body of `message/subscribe/bizsend` (official-account subscription notice).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubscribeMessage {
    pub touser: String,
    pub template_id: String,
    /// A URL to open.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub miniprogram: Option<MiniProgramLink>,
    pub data: BTreeMap<String, TemplateValue>,
}

#[derive(Debug, Deserialize)]
struct MaybeMsgId {
    #[serde(default)]
    msgid: Option<i64>,
}

impl Client {
    /// Customer-service message; only within 48 h of the user's last action (else 45015).
    pub async fn custom_send(&self, at: &Secret, msg: &CustomMessage) -> Result<()> {
        let _: Ack = self
            .post(
                "/cgi-bin/message/custom/send",
                &[(AT, at.expose())],
                &msg.to_json(),
            )
            .await?;
        Ok(())
    }

    /// Withdrawn by WeChat on 2023-09-20: expect errcode 45109 (`ErrKind::Unsupported`).
    pub async fn uniform_send(&self, mini_program_at: &Secret, msg: &UniformMessage) -> Result<()> {
        let _: Ack = self
            .post(
                "/cgi-bin/message/wxopen/template/uniform_send",
                &[(AT, mini_program_at.expose())],
                msg,
            )
            .await?;
        Ok(())
    }

    /// Subscription notice; returns `msgid` when WeChat gives one.
    pub async fn subscribe_bizsend(
        &self,
        at: &Secret,
        msg: &SubscribeMessage,
    ) -> Result<Option<i64>> {
        let r: MaybeMsgId = self
            .post(
                "/cgi-bin/message/subscribe/bizsend",
                &[(AT, at.expose())],
                msg,
            )
            .await?;
        Ok(r.msgid)
    }
}
