//! The audience tables' SQL: plain functions over `&Connection` (so the feed can apply a follow
//! in the transaction that moves its cursor), reached from outside the crate only through the
//! [`super::Audience`] handle. The types they return are re-exported from `audience`.

pub(crate) mod deferred;
pub(crate) mod followers;
pub(crate) mod lists;
pub(crate) mod stage;
pub(crate) mod sync;
pub(crate) mod tags;
