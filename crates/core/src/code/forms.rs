//! What the window's forms send (提交审核, 批量发版), as transport types with their conversion to
//! the inputs core takes: WeChat's [`SubmitAudit`] and a [`RolloutInput`] whose clients may be a
//! file of the operator's.

use serde::Deserialize;

use super::{AuditItem, Category, RolloutClients, RolloutInput, RolloutTarget, SubmitAudit};
use crate::audience::ImportSource;

/// One 审核项: a page with its category (both optional, as WeChat takes them).
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AuditPick {
    pub address: String,
    pub title: String,
    pub tag: String,
    pub category: Option<Category>,
}

/// What the 提交审核 form sends (WeChat's other submit_audit fields are left out).
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AuditForm {
    pub items: Vec<AuditPick>,
    pub version_desc: String,
    pub privacy_api_not_use: Option<bool>,
}

impl From<AuditForm> for SubmitAudit {
    fn from(f: AuditForm) -> Self {
        SubmitAudit {
            item_list: f
                .items
                .into_iter()
                .map(|i| AuditItem {
                    address: i.address,
                    tag: i.tag,
                    title: i.title,
                    category: i.category.map(Into::into),
                })
                .collect(),
            version_desc: f.version_desc,
            privacy_api_not_use: f.privacy_api_not_use,
            ..SubmitAudit::default()
        }
    }
}

/// Which mini programs a rollout covers: chosen in the table, or a CSV/XLSX file of clients.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ClientsForm {
    Appids { appids: Vec<String> },
    Table { path: String },
}

/// The 批量发版 form.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RolloutForm {
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub template_id: i64,
    pub user_version: String,
    pub user_desc: String,
    pub target: RolloutTarget,
    pub base_ext_json: Option<String>,
    pub clients: ClientsForm,
    pub audit: AuditForm,
}

impl From<RolloutForm> for RolloutInput {
    fn from(f: RolloutForm) -> Self {
        RolloutInput {
            template_id: f.template_id,
            user_version: f.user_version,
            user_desc: f.user_desc,
            target: f.target,
            base_ext_json: f.base_ext_json,
            clients: match f.clients {
                ClientsForm::Appids { appids } => RolloutClients::Appids(appids),
                ClientsForm::Table { path } => {
                    RolloutClients::Table(ImportSource::File(path.into()))
                }
            },
            audit: f.audit.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rollout_form_as_the_window_sends_it_becomes_the_rollout_input() {
        let form: RolloutForm = serde_json::from_value(serde_json::json!({
            "template_id": 7,
            "user_version": "1.2.0",
            "user_desc": "d",
            "target": "released",
            "base_ext_json": null,
            "clients": {"kind": "table", "path": "/tmp/clients.csv"},
            "audit": {"items": [{"address": "pages/index", "title": "首页", "tag": "t", "category": null}],
                      "version_desc": "v", "privacy_api_not_use": true}
        }))
        .unwrap();
        let input = RolloutInput::from(form);
        assert_eq!(input.template_id, 7);
        assert!(matches!(
            &input.clients,
            RolloutClients::Table(ImportSource::File(p)) if p.ends_with("clients.csv")
        ));
        assert_eq!(input.audit.item_list.len(), 1);
        assert_eq!(input.audit.item_list[0].address, "pages/index");
        assert_eq!(input.audit.privacy_api_not_use, Some(true));
    }
}
