//! The relay feed cursor: the highest event `seq` whose effect is already in this database.

use rusqlite::{Connection, params};

use crate::error::Result;

/// 0 before the first event has been applied.
pub fn get(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row(
        "SELECT coalesce(max(last_seq), 0) FROM relay_cursor",
        [],
        |r| r.get(0),
    )?)
}

/// Moves the cursor forward; never backwards, so a replayed batch cannot rewind it.
pub fn advance(conn: &Connection, seq: i64) -> Result<()> {
    conn.execute(
        "INSERT INTO relay_cursor (id, last_seq, updated_at) VALUES (1, ?1, ?2)
         ON CONFLICT (id) DO UPDATE SET last_seq = max(last_seq, excluded.last_seq),
           updated_at = excluded.updated_at",
        params![seq, super::now()],
    )?;
    Ok(())
}

/// Sets the cursor exactly, backwards too: for a new relay (its sequence starts again at 1).
pub fn reset(conn: &Connection, seq: i64) -> Result<()> {
    conn.execute(
        "INSERT INTO relay_cursor (id, last_seq, updated_at) VALUES (1, ?1, ?2)
         ON CONFLICT (id) DO UPDATE SET last_seq = excluded.last_seq, updated_at = excluded.updated_at",
        params![seq, super::now()],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[tokio::test]
    async fn cursor_starts_at_zero_and_only_moves_forward() {
        let store = Store::open_in_memory().unwrap();
        assert_eq!(store.call(|c| get(c)).await.unwrap(), 0);
        store.call(|c| advance(c, 7)).await.unwrap();
        store.call(|c| advance(c, 3)).await.unwrap();
        assert_eq!(store.call(|c| get(c)).await.unwrap(), 7);
        store.call(|c| reset(c, 2)).await.unwrap();
        assert_eq!(store.call(|c| get(c)).await.unwrap(), 2);
    }
}
