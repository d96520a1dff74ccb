//! wxdesk-relay owns the public callback URLs WeChat pushes to (tickets, authorization events,
//! account messages, the authorization launch page) and serves them to the desktop app as a
//! durable, authenticated event log.
