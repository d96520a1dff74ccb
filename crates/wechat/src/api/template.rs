//! Official-account template messages (protocol C.6 table): industry, library, send.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Ack, Client};
use crate::error::Result;
use crate::secret::Secret;

const AT: &str = "access_token";

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct IndustryClass {
    #[serde(default)]
    pub first_class: String,
    #[serde(default)]
    pub second_class: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Industry {
    pub primary_industry: IndustryClass,
    pub secondary_industry: IndustryClass,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[derive(Default)]
pub struct PrivateTemplate {
    pub template_id: String,
    pub title: String,
    pub primary_industry: String,
    pub deputy_industry: String,
    /// `{{name.DATA}}` placeholders, one per line.
    pub content: String,
    pub example: String,
}

#[derive(Debug, Deserialize)]
struct TemplateList {
    #[serde(default)]
    template_list: Vec<PrivateTemplate>,
}

#[derive(Debug, Deserialize)]
struct AddTemplateResponse {
    template_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MiniProgramLink {
    pub appid: String,
    pub pagepath: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TemplateValue {
    pub value: String,
    /// Ignored by WeChat since 2023-05-04, still accepted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
}

impl TemplateValue {
    pub fn new(value: impl Into<String>) -> Self {
        Self {
            value: value.into(),
            color: None,
        }
    }
}

/// Body of `message/template/send`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TemplateMessage {
    pub touser: String,
    pub template_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub miniprogram: Option<MiniProgramLink>,
    /// Idempotency key: one message per (openid, client_msg_id) for 10 minutes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_msg_id: Option<String>,
    pub data: BTreeMap<String, TemplateValue>,
}

#[derive(Debug, Deserialize)]
struct MsgIdResponse {
    msgid: i64,
}

impl Client {
    pub async fn template_set_industry(
        &self,
        at: &Secret,
        industry_id1: &str,
        industry_id2: &str,
    ) -> Result<()> {
        let body = json!({"industry_id1": industry_id1, "industry_id2": industry_id2});
        let _: Ack = self
            .post(
                "/cgi-bin/template/api_set_industry",
                &[(AT, at.expose())],
                &body,
            )
            .await?;
        Ok(())
    }

    pub async fn template_get_industry(&self, at: &Secret) -> Result<Industry> {
        self.get("/cgi-bin/template/get_industry", &[(AT, at.expose())])
            .await
    }

    /// Add a template from the library; returns the account's template_id. `keyword_names`
    /// selects and orders the keywords of a category template (empty for legacy templates).
    pub async fn template_add(
        &self,
        at: &Secret,
        template_id_short: &str,
        keyword_names: &[&str],
    ) -> Result<String> {
        let body = if keyword_names.is_empty() {
            json!({"template_id_short": template_id_short})
        } else {
            json!({"template_id_short": template_id_short, "keyword_name_list": keyword_names})
        };
        let r: AddTemplateResponse = self
            .post(
                "/cgi-bin/template/api_add_template",
                &[(AT, at.expose())],
                &body,
            )
            .await?;
        Ok(r.template_id)
    }

    pub async fn template_list(&self, at: &Secret) -> Result<Vec<PrivateTemplate>> {
        let r: TemplateList = self
            .get(
                "/cgi-bin/template/get_all_private_template",
                &[(AT, at.expose())],
            )
            .await?;
        Ok(r.template_list)
    }

    pub async fn template_delete(&self, at: &Secret, template_id: &str) -> Result<()> {
        let _: Ack = self
            .post(
                "/cgi-bin/template/del_private_template",
                &[(AT, at.expose())],
                &json!({"template_id": template_id}),
            )
            .await?;
        Ok(())
    }

    /// Send one template message; returns `msgid` (matches the TEMPLATESENDJOBFINISH `MsgID`).
    pub async fn template_send(&self, at: &Secret, msg: &TemplateMessage) -> Result<i64> {
        let r: MsgIdResponse = self
            .post("/cgi-bin/message/template/send", &[(AT, at.expose())], msg)
            .await?;
        Ok(r.msgid)
    }
}
