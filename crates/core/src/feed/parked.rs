//! Parked events: relay events whose effect failed in a way that may pass later, kept in
//! `parked_events` (migration 0007) so the feed can go on with the events behind them, and
//! retried with a backoff. Plain functions over `&Connection`, so parking shares the transaction
//! that moves the cursor.

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use serde_json::Value;

use crate::error::{Error, Msg, Result};
use crate::store::now;

/// The event kinds whose effect calls WeChat (through [`super::AuthActions`]) and so can fail
/// for a while: only these are ever parked.
pub const PARKABLE: &[&str] = &[
    "authorized",
    "updateauthorized",
    "unauthorized",
    "auth_callback",
    "query_auth_code",
];

/// The one-time codes in event data. They never go into SQLite: a retry reads them from the
/// relay again.
const SECRET_FIELDS: &[&str] = &["authorization_code", "auth_code", "query_auth_code"];

/// A parked event still failing after three days is given up (recorded in the audit log): every
/// code in it expired long ago, and the relay keeps its log only for a few weeks.
pub const GIVE_UP_AFTER_SECS: i64 = 3 * 24 * 3600;

/// One parked event, as the shell lists it. `data` has no secrets (see [`redact`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ParkedEvent {
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub seq: i64,
    pub kind: String,
    pub appid: Option<String>,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub received_at: i64,
    #[serde(skip)]
    #[cfg_attr(feature = "specta", specta(skip))]
    pub data: Value,
    /// The last failure, in both languages.
    pub error: Msg,
    /// The core's error code of the last failure (`wechat`, `relay`, `keychain`…).
    pub error_code: String,
    /// WeChat's errcode, when WeChat answered.
    #[cfg_attr(feature = "specta", specta(type = Option<specta_typescript::Number>))]
    pub errcode: Option<i64>,
    /// Failed attempts so far (1 when just parked).
    pub attempts: u32,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub parked_at: i64,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub next_retry_at: i64,
}

/// The delay before the next try after `attempts` failures ([`crate::retry::PARKED_EVENT`]).
pub fn retry_delay_secs(attempts: u32) -> i64 {
    i64::try_from(crate::retry::PARKED_EVENT.backoff(attempts).as_secs()).unwrap_or(i64::MAX)
}

/// The event data without its one-time codes.
pub fn redact(data: &Value) -> Value {
    let mut v = data.clone();
    if let Value::Object(map) = &mut v {
        for f in SECRET_FIELDS {
            map.remove(*f);
        }
    }
    v
}

/// Whether `data` lacks a code its kind needs (it was redacted): the retry must fetch the event
/// from the relay again.
pub fn needs_refetch(kind: &str) -> bool {
    matches!(
        kind,
        "authorized" | "updateauthorized" | "auth_callback" | "query_auth_code"
    )
}

/// What is stored about a failure.
pub struct Failure {
    pub message: Msg,
    pub error_code: String,
    pub errcode: Option<i64>,
}

impl Failure {
    pub fn of(e: &Error) -> Failure {
        Failure {
            message: Msg::of_error(e),
            error_code: e.code().to_string(),
            errcode: e.wechat_errcode(),
        }
    }
}

/// The `error` column holds the failure in both languages as JSON (`{"zh":…,"en":…}`).
fn stored_message(m: &Msg) -> String {
    serde_json::json!({"zh": m.zh, "en": m.en}).to_string()
}

/// The stored failure; a row parked by an older version holds only its Chinese text, so its
/// English is the kind of failure (the row's `error_code`).
fn read_message(text: &str, error_code: &str) -> Msg {
    #[derive(serde::Deserialize)]
    struct Both {
        zh: String,
        en: String,
    }
    match serde_json::from_str::<Both>(text) {
        Ok(b) => Msg::new(b.zh, b.en),
        Err(_) => Msg::new(
            text,
            format!("The last attempt failed (error code {error_code})"),
        ),
    }
}

/// Parks an event after its first failure; returns when it is retried. An event already parked
/// under the same seq (a relay that restarted its log) is replaced.
pub fn park(
    conn: &Connection,
    seq: i64,
    kind: &str,
    appid: Option<&str>,
    received_at: i64,
    data: &Value,
    failure: &Failure,
) -> Result<i64> {
    let at = now();
    let next = at + retry_delay_secs(1);
    conn.execute(
        "INSERT OR REPLACE INTO parked_events (seq, kind, appid, received_at, data, error,
           error_code, errcode, attempts, parked_at, next_retry_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1, ?9, ?10)",
        params![
            seq,
            kind,
            appid,
            received_at,
            redact(data).to_string(),
            stored_message(&failure.message),
            failure.error_code,
            failure.errcode,
            at,
            next
        ],
    )?;
    Ok(next)
}

/// Records one more failed retry; returns the new attempt count and when the next try is.
pub fn retry_failed(conn: &Connection, seq: i64, failure: &Failure) -> Result<(u32, i64)> {
    let attempts: u32 = conn
        .query_row(
            "SELECT attempts FROM parked_events WHERE seq = ?1",
            [seq],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(0)
        + 1;
    let next = now() + retry_delay_secs(attempts);
    conn.execute(
        "UPDATE parked_events SET attempts = ?2, next_retry_at = ?3, error = ?4, error_code = ?5,
           errcode = ?6 WHERE seq = ?1",
        params![
            seq,
            attempts,
            next,
            stored_message(&failure.message),
            failure.error_code,
            failure.errcode
        ],
    )?;
    Ok((attempts, next))
}

/// Removes a parked event (applied, or given up). Returns whether it was still there: another
/// process on the same data dir (the CLI) may have retried it first.
pub fn remove(conn: &Connection, seq: i64) -> Result<bool> {
    Ok(conn.execute("DELETE FROM parked_events WHERE seq = ?1", [seq])? > 0)
}

const COLUMNS: &str = "seq, kind, appid, received_at, data, error, error_code, errcode, attempts,
    parked_at, next_retry_at";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ParkedEvent> {
    let data: String = r.get(4)?;
    Ok(ParkedEvent {
        seq: r.get(0)?,
        kind: r.get(1)?,
        appid: r.get(2)?,
        received_at: r.get(3)?,
        // Written by `park` from a serde_json Value, so it parses; a hand-edited row that does
        // not becomes Null and the retry gives the event up instead of failing the feed.
        data: serde_json::from_str(&data).unwrap_or(Value::Null),
        error: read_message(&r.get::<_, String>(5)?, &r.get::<_, String>(6)?),
        error_code: r.get(6)?,
        errcode: r.get(7)?,
        attempts: r.get(8)?,
        parked_at: r.get(9)?,
        next_retry_at: r.get(10)?,
    })
}

/// Every parked event, oldest first.
pub fn list(conn: &Connection) -> Result<Vec<ParkedEvent>> {
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM parked_events ORDER BY seq"))?;
    let rows = stmt.query_map([], row)?.collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// The events due for a retry at `at`, oldest first, at most `limit`.
pub fn due(conn: &Connection, at: i64, limit: u32) -> Result<Vec<ParkedEvent>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM parked_events WHERE next_retry_at <= ?1 ORDER BY seq LIMIT ?2"
    ))?;
    let rows = stmt
        .query_map(params![at, limit], row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// When the next retry is due, if anything is parked.
pub fn next_due(conn: &Connection) -> Result<Option<i64>> {
    Ok(
        conn.query_row("SELECT min(next_retry_at) FROM parked_events", [], |r| {
            r.get(0)
        })?,
    )
}

/// Makes every parked event due now (tests, and a user's "retry now").
pub fn retry_all_now(conn: &Connection) -> Result<usize> {
    Ok(conn.execute(
        "UPDATE parked_events SET next_retry_at = min(next_retry_at, ?1)",
        [now()],
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use serde_json::json;

    fn failure() -> Failure {
        Failure {
            message: Msg::new("微信系统繁忙", "WeChat is busy"),
            error_code: "wechat".into(),
            errcode: Some(-1),
        }
    }

    #[test]
    fn retries_start_soon_and_slow_down_to_hourly() {
        assert_eq!(retry_delay_secs(0), 10);
        assert_eq!(retry_delay_secs(1), 10);
        assert_eq!(retry_delay_secs(2), 30);
        assert!(retry_delay_secs(5) <= 600, "still within a code's life");
        assert_eq!(retry_delay_secs(8), 3600);
        assert_eq!(retry_delay_secs(500), 3600);
    }

    #[tokio::test]
    async fn a_parked_event_keeps_its_data_but_not_its_code_and_backs_off_on_each_failure() {
        let store = Store::open_in_memory().unwrap();
        let data = json!({"authorizer_appid":"wxA","authorization_code":"code@@@secret","pre_auth_code":"pre"});
        let next = store
            .call(move |c| park(c, 7, "authorized", Some("wxA"), 100, &data, &failure()))
            .await
            .unwrap();
        let stored: String = store
            .call(|c| Ok(c.query_row("SELECT data FROM parked_events", [], |r| r.get(0))?))
            .await
            .unwrap();
        assert!(!stored.contains("code@@@secret"), "{stored}");
        assert!(stored.contains("wxA") && stored.contains("pre"), "{stored}");

        let all = store.call(|c| list(c)).await.unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!((all[0].seq, all[0].attempts), (7, 1));
        assert_eq!(all[0].errcode, Some(-1));
        assert_eq!(all[0].next_retry_at, next);
        assert_eq!(store.call(|c| next_due(c)).await.unwrap(), Some(next));
        assert!(
            store
                .call(move |c| due(c, next - 1, 10))
                .await
                .unwrap()
                .is_empty(),
            "not due before its time"
        );
        assert_eq!(
            store.call(move |c| due(c, next, 10)).await.unwrap().len(),
            1
        );

        let (attempts, later) = store
            .call(|c| retry_failed(c, 7, &failure()))
            .await
            .unwrap();
        assert_eq!(attempts, 2);
        assert!(later > next, "the second delay is longer");
        assert!(store.call(|c| remove(c, 7)).await.unwrap());
        assert!(!store.call(|c| remove(c, 7)).await.unwrap());
        assert_eq!(store.call(|c| next_due(c)).await.unwrap(), None);
    }

    #[tokio::test]
    async fn the_failure_is_kept_in_both_languages_and_an_older_rows_chinese_stays_readable() {
        let store = Store::open_in_memory().unwrap();
        store
            .call(|c| park(c, 3, "unauthorized", Some("wxA"), 1, &json!({}), &failure()))
            .await
            .unwrap();
        // A row an older version parked: its failure in Chinese only.
        store
            .call(|c| {
                park(c, 4, "unauthorized", None, 1, &json!({}), &failure())?;
                c.execute(
                    "UPDATE parked_events SET error = '微信返回错误 -1：系统繁忙' WHERE seq = 4",
                    [],
                )?;
                Ok(())
            })
            .await
            .unwrap();
        let all = store.call(|c| list(c)).await.unwrap();
        assert_eq!(all[0].error, Msg::new("微信系统繁忙", "WeChat is busy"));
        assert_eq!(all[1].error.zh, "微信返回错误 -1：系统繁忙");
        let en = &all[1].error.en;
        assert!(en.contains("wechat"), "{en}");
        assert!(
            !en.chars().any(|c| ('\u{3000}'..='\u{9fff}').contains(&c)),
            "{en}"
        );
    }
}
