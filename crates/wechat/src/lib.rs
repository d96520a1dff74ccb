//! The WeChat Open Platform protocol, and nothing else: message crypto, callback XML, the typed
//! API client, errcodes with their explanations, and the token cache. No SQLite, no Tauri, no
//! global state.

// Tests may unwrap: a panic there is a failed assertion.
#![cfg_attr(test, allow(clippy::unwrap_used))]

/// Typed async client for the HTTP APIs (protocol section C), one file per API family.
pub mod api;
/// Decrypted push bodies → one typed [`callback::Callback`] enum (protocol section B).
pub mod callback;
/// WXBizMsgCrypt (AES-256-CBC pushes and replies) and mini-program data decryption (section A).
pub mod crypto;
/// WeChat errcodes: kind, zh-CN/English explanation and a what-to-do hint (section D).
pub mod errcode;
/// The crate's one error type.
pub mod error;
/// Bodies of the fuzz targets (shared by cargo-fuzz and the stable smoke test).
#[doc(hidden)]
pub mod fuzz;
/// The 全网发布 release test: WeChat's test accounts and reserved contents (section F).
pub mod release;
/// A redacting wrapper for secrets and tokens.
pub mod secret;
#[cfg(test)]
mod test_server;
/// Token cache: single-flight refresh before expiry, storage and ticket traits.
pub mod token;

pub mod window;
/// Hardened XML reading shared by the envelope and callback parsers (no DTD, bounded size).
mod xml;

pub use errcode::{ErrInfo, ErrKind, explain};
pub use error::{Error, Result, WeChatError};
pub use secret::Secret;
