//! 模板 (templates) per authorized account: keyword parsing and value rules, and the local copy of
//! the account's private templates kept in step with WeChat (with local aliases and notes).

pub mod keywords;
pub mod service;
pub mod store;

pub use service::{
    IndustryPair, MAX_TEMPLATES, add_template, delete_template, get_industry, get_template,
    list_templates, set_const_values, set_industry, set_template_notes, sync_templates,
};
pub use store::{RemoteTemplate, Template, TemplateSyncReport};
