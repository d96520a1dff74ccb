//! 模板 (templates) per authorized account: keyword parsing and value rules, and the local copy of
//! the account's private templates kept in step with WeChat.

pub mod keywords;
