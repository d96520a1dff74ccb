//! The WeChat Open Platform protocol, and nothing else: message crypto, callback XML, the typed
//! API client, errcodes with their explanations, and the token cache. No SQLite, no Tauri, no
//! global state.
