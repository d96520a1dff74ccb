//! Authorization codes already exchanged with api_query_auth, kept as SHA-1 digests: the same
//! code arrives twice (the browser redirect and the relay's `authorized` push) and WeChat refuses
//! a second exchange with 61009, so the second arrival must find the first one's result here.

use rusqlite::{Connection, OptionalExtension, params};
use sha1::{Digest, Sha1};

use crate::error::Result;

fn digest(code: &str) -> String {
    hex::encode(Sha1::digest(code.as_bytes()))
}

/// The appid a code was already exchanged for, if it was.
pub fn consumed_for(conn: &Connection, code: &str) -> Result<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT appid FROM consumed_auth_codes WHERE code_sha1 = ?1",
            [digest(code)],
            |r| r.get(0),
        )
        .optional()?)
}

pub fn mark_consumed(conn: &Connection, code: &str, appid: &str) -> Result<()> {
    conn.execute(
        "INSERT OR REPLACE INTO consumed_auth_codes (code_sha1, appid, consumed_at) VALUES (?1, ?2, ?3)",
        params![digest(code), appid, super::now()],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[tokio::test]
    async fn a_consumed_code_is_found_by_value_but_not_stored_in_clear() {
        let store = Store::open_in_memory().unwrap();
        store
            .call(|c| mark_consumed(c, "authcode@@@xyz", "wx1"))
            .await
            .unwrap();
        assert_eq!(
            store
                .call(|c| consumed_for(c, "authcode@@@xyz"))
                .await
                .unwrap()
                .as_deref(),
            Some("wx1")
        );
        assert_eq!(
            store.call(|c| consumed_for(c, "other")).await.unwrap(),
            None
        );
        let raw: String = store
            .call(|c| {
                Ok(
                    c.query_row("SELECT code_sha1 FROM consumed_auth_codes", [], |r| {
                        r.get(0)
                    })?,
                )
            })
            .await
            .unwrap();
        assert!(!raw.contains("authcode"));
        assert_eq!(raw.len(), 40);
    }
}
