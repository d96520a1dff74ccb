//! wxdesk's application logic, shared by the desktop shell and the CLI: the SQLite store, keychain
//! secrets, the relay feed, authorization, templates, audience, the send engine and history.
