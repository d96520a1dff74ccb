//! 小程序代码管理 (protocol section L): the platform's template library, each authorized mini
//! program's code (domains, commit with its ext.json, trial QR code, audit, release, rollback),
//! and the bulk rollout of one template to many clients' mini programs.

mod error;
pub mod ext;
pub mod model;

pub use error::CodeError;
pub use model::*;
