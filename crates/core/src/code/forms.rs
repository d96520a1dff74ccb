//! What the window's forms send (提交审核, 批量发版, 域名), as transport types with their conversion
//! to the inputs core takes: WeChat's [`SubmitAudit`], a [`RolloutInput`] whose clients may be a
//! file of the operator's, and WeChat's [`DomainAction`] / [`ServerDomains`].

use serde::Deserialize;

use super::{
    AuditItem, Category, DomainAction, RolloutClients, RolloutInput, RolloutTarget, ServerDomains,
    ServerLists, SubmitAudit,
};
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

/// What a 服务器域名 / 业务域名 change does (WeChat's `action`; the wechat crate's enum has no
/// TypeScript type, so the window sends this one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum DomainOp {
    Get,
    Add,
    Delete,
    /// Overwrite with exactly the given lists.
    Set,
}

impl From<DomainOp> for DomainAction {
    fn from(op: DomainOp) -> Self {
        match op {
            DomainOp::Get => DomainAction::Get,
            DomainOp::Add => DomainAction::Add,
            DomainOp::Delete => DomainAction::Delete,
            DomainOp::Set => DomainAction::Set,
        }
    }
}

impl From<ServerLists> for ServerDomains {
    fn from(l: ServerLists) -> Self {
        ServerDomains {
            requestdomain: l.requestdomain,
            wsrequestdomain: l.wsrequestdomain,
            uploaddomain: l.uploaddomain,
            downloaddomain: l.downloaddomain,
            udpdomain: l.udpdomain,
            tcpdomain: l.tcpdomain,
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

    #[test]
    fn the_domain_form_as_the_window_sends_it_becomes_wechats_action_and_lists() {
        let op: DomainOp = serde_json::from_value(serde_json::json!("set")).unwrap();
        assert_eq!(DomainAction::from(op), DomainAction::Set);
        assert!(serde_json::from_value::<DomainOp>(serde_json::json!("Set")).is_err());
        let lists: ServerLists = serde_json::from_value(serde_json::json!({
            "requestdomain": ["https://api.example.com"], "wsrequestdomain": ["wss://ws.example.com"],
            "uploaddomain": [], "downloaddomain": ["https://dl.example.com"],
            "udpdomain": ["udp://u.example.com"], "tcpdomain": ["tcp://t.example.com"]
        }))
        .unwrap();
        let d = ServerDomains::from(lists.clone());
        assert_eq!(d.requestdomain, ["https://api.example.com"]);
        assert_eq!(d.wsrequestdomain, ["wss://ws.example.com"]);
        assert_eq!(d.downloaddomain, ["https://dl.example.com"]);
        assert_eq!(d.udpdomain, ["udp://u.example.com"]);
        assert_eq!(d.tcpdomain, ["tcp://t.example.com"]);
        assert_eq!(ServerLists::from(d), lists, "the same six lists both ways");
    }
}
