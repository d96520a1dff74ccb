//! The audit log: what happened to the platform and its accounts, for the operator. Never a
//! secret or a token in `detail`.

use rusqlite::{Connection, params};

use crate::error::Result;

/// One entry as read back. Nothing in the app reads the log yet; the tests check it.
#[cfg(test)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: i64,
    pub at: i64,
    pub kind: String,
    pub appid: Option<String>,
    pub detail: String,
}

pub fn record(conn: &Connection, kind: &str, appid: Option<&str>, detail: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO audit_log (at, kind, appid, detail) VALUES (?1, ?2, ?3, ?4)",
        params![super::now(), kind, appid, detail],
    )?;
    Ok(())
}

/// The newest `limit` entries, newest first.
#[cfg(test)]
pub fn recent(conn: &Connection, limit: u32) -> Result<Vec<AuditEntry>> {
    let mut stmt = conn
        .prepare("SELECT id, at, kind, appid, detail FROM audit_log ORDER BY id DESC LIMIT ?1")?;
    let rows = stmt
        .query_map([limit], |r| {
            Ok(AuditEntry {
                id: r.get(0)?,
                at: r.get(1)?,
                kind: r.get(2)?,
                appid: r.get(3)?,
                detail: r.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}
