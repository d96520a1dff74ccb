//! HTTP routes, one file per caller: WeChat's pushes, the browser's authorization pages, and the
//! desktop app's private API with its egress to WeChat.

pub mod api;
pub mod auth;
pub mod egress;
pub mod team;
pub mod team_extract;
pub mod team_followers;
pub mod team_history;
pub mod team_jobs;
pub mod team_lists;
pub mod team_templates;
pub mod wechat;
