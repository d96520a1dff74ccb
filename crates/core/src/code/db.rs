//! The SQL of code management: rollouts, their rows, and recorded audit pushes.
//!
//! Durability: the store runs WAL with `synchronous = NORMAL`, which survives a crash of the
//! process (kill -9) but may lose the last commits on power loss. The row writes that record a
//! WeChat side effect or announce one (`committed`, `submitting`, `auditing` with its auditid,
//! `releasing`, `released`) go through [`durable`], which commits with `synchronous = FULL`:
//! the WAL is fsynced before the call returns.

use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};

use super::ext::PlannedRow;
use super::model::{
    AuditPushEvent, AuditPushRecord, Pause, PauseCode, Rollout, RolloutRow, RolloutStatus,
    RolloutTarget, RowCounts, RowState,
};
use crate::error::{Error, Msg, Result};
use wxdesk_wechat::api::AuditEvent;

/// Unix seconds now.
pub(crate) fn now() -> i64 {
    crate::store::now()
}

/// Unix milliseconds now (row schedules).
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Runs `f` in a transaction committed with `synchronous = FULL` (the WAL is fsynced at
/// commit), then goes back to the store's NORMAL.
pub(crate) fn durable<R>(
    conn: &mut Connection,
    f: impl FnOnce(&Transaction<'_>) -> Result<R>,
) -> Result<R> {
    conn.pragma_update(None, "synchronous", "FULL")?;
    let out = (|| {
        let tx = conn.transaction()?;
        let r = f(&tx)?;
        tx.commit()?;
        Ok(r)
    })();
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    out
}

fn bad(what: &'static str, value: &str) -> Error {
    super::CodeError::Corrupt {
        what,
        value: value.to_string(),
    }
    .into()
}

pub(crate) struct NewRollout<'a> {
    pub template_id: i64,
    pub user_version: &'a str,
    pub user_desc: &'a str,
    pub target: RolloutTarget,
    pub audit_json: &'a str,
    pub source: &'a str,
}

/// Writes the rollout and every row (`pending`) in one durable transaction.
pub(crate) fn create(
    conn: &mut Connection,
    r: &NewRollout<'_>,
    rows: &[PlannedRow],
) -> Result<i64> {
    let t = now();
    durable(conn, |tx| {
        tx.execute(
            "INSERT INTO code_rollouts (template_id, user_version, user_desc, target, audit_json,
                 status, source, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, 'draft', ?6, ?7, ?7)",
            params![
                r.template_id,
                r.user_version,
                r.user_desc,
                r.target.as_str(),
                r.audit_json,
                r.source,
                t
            ],
        )?;
        let id = tx.last_insert_rowid();
        let mut ins = tx.prepare(
            "INSERT INTO code_rollout_rows (rollout_id, appid, line, ext_json, state, updated_at)
             VALUES (?1, ?2, ?3, ?4, 'pending', ?5)",
        )?;
        for row in rows {
            ins.execute(params![id, row.appid, row.line, row.ext_json, t])?;
        }
        Ok(id)
    })
}

const ROLLOUT_COLUMNS: &str = "id, template_id, user_version, user_desc, target, status, \
     pause_code, pause_detail, source, created_at, updated_at, finished_at";

/// A rollout row with its coded columns still as text: (rollout, target, status, pause code,
/// pause detail).
type RawRollout = (Rollout, String, String, Option<String>, String);

fn rollout_from(r: &Row<'_>) -> rusqlite::Result<RawRollout> {
    Ok((
        Rollout {
            id: r.get(0)?,
            template_id: r.get(1)?,
            user_version: r.get(2)?,
            user_desc: r.get(3)?,
            target: RolloutTarget::Released,
            status: RolloutStatus::Draft,
            pause: None,
            source: r.get(8)?,
            created_at: r.get(9)?,
            updated_at: r.get(10)?,
            finished_at: r.get(11)?,
            counts: RowCounts::default(),
        },
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
    ))
}

fn finish_rollout(
    conn: &Connection,
    (mut r, target, status, pause, detail): RawRollout,
) -> Result<Rollout> {
    r.target = RolloutTarget::parse(&target).ok_or_else(|| bad("目标", &target))?;
    r.status = RolloutStatus::parse(&status).ok_or_else(|| bad("状态", &status))?;
    r.pause = match pause {
        None => None,
        Some(code) => Some(Pause {
            code: PauseCode::parse(&code).ok_or_else(|| bad("暂停原因", &code))?,
            detail,
        }),
    };
    r.counts = counts(conn, r.id, r.target)?;
    Ok(r)
}

pub(crate) fn load(conn: &Connection, id: i64) -> Result<Option<Rollout>> {
    let raw = conn
        .query_row(
            &format!("SELECT {ROLLOUT_COLUMNS} FROM code_rollouts WHERE id = ?1"),
            [id],
            rollout_from,
        )
        .optional()?;
    raw.map(|r| finish_rollout(conn, r)).transpose()
}

/// Newest first.
pub(crate) fn list(conn: &Connection, limit: u32) -> Result<Vec<Rollout>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {ROLLOUT_COLUMNS} FROM code_rollouts ORDER BY id DESC LIMIT ?1"
    ))?;
    let raw = stmt
        .query_map([limit], rollout_from)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    raw.into_iter().map(|r| finish_rollout(conn, r)).collect()
}

pub(crate) fn counts(conn: &Connection, id: i64, target: RolloutTarget) -> Result<RowCounts> {
    let mut stmt = conn.prepare_cached(
        "SELECT state, count(*) FROM code_rollout_rows WHERE rollout_id = ?1 GROUP BY state",
    )?;
    let mut c = RowCounts::default();
    let rows = stmt
        .query_map([id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for (state, n) in rows {
        let state = RowState::parse(&state).ok_or_else(|| bad("行状态", &state))?;
        let n = u64::try_from(n).unwrap_or(0);
        c.total += n;
        c.by_state.insert(state, n);
        match state {
            s if s == target.done_state() => c.done += n,
            RowState::AuditFailed => c.audit_failed += n,
            RowState::Failed => c.failed += n,
            RowState::Cancelled => c.cancelled += n,
            // Past the target (released in an audit-only rollout cannot happen; counted done).
            RowState::Released => c.done += n,
            _ => c.remaining += n,
        }
    }
    Ok(c)
}

const ROW_COLUMNS: &str = "appid, line, state, auditid, reason, screenshot, error, errcode, \
     attempts, updated_at, ext_json, submitted_at, next_at";

/// A row as the runner needs it.
#[derive(Debug, Clone)]
pub(crate) struct RunRow {
    pub row: RolloutRow,
    pub submitted_at: Option<i64>,
    pub next_at: i64,
}

fn run_row(r: &Row<'_>) -> rusqlite::Result<(RunRow, String)> {
    Ok((
        RunRow {
            row: RolloutRow {
                appid: r.get(0)?,
                line: r.get(1)?,
                state: RowState::Pending,
                auditid: r.get(3)?,
                reason: r.get(4)?,
                screenshot: r.get(5)?,
                error: r
                    .get::<_, Option<String>>(6)?
                    .map(|text| read_error(&text, r.get(7).ok().flatten())),
                errcode: r.get(7)?,
                attempts: r.get(8)?,
                updated_at: r.get(9)?,
                ext_json: r.get(10)?,
            },
            submitted_at: r.get(11)?,
            next_at: r.get(12)?,
        },
        r.get(2)?,
    ))
}

/// Every row of a rollout, in table order.
pub(crate) fn rows(conn: &Connection, id: i64) -> Result<Vec<RunRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {ROW_COLUMNS} FROM code_rollout_rows WHERE rollout_id = ?1 ORDER BY line, appid"
    ))?;
    let raw = stmt
        .query_map([id], run_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    raw.into_iter()
        .map(|(mut r, state)| {
            r.row.state = RowState::parse(&state).ok_or_else(|| bad("行状态", &state))?;
            Ok(r)
        })
        .collect()
}

/// The `error` column holds the failure in both languages as JSON (`{"zh":…,"en":…}`).
fn stored_error(m: &Msg) -> String {
    serde_json::json!({"zh": m.zh, "en": m.en}).to_string()
}

/// The stored failure. A row written by an older version holds one text: Chinese, or
/// "中文 / English" for the runner's own two failures; its English half is kept, else the
/// English says only that the step failed (with WeChat's errcode when there was one).
fn read_error(text: &str, errcode: Option<i64>) -> Msg {
    #[derive(serde::Deserialize)]
    struct Both {
        zh: String,
        en: String,
    }
    if let Ok(b) = serde_json::from_str::<Both>(text) {
        return Msg::new(b.zh, b.en);
    }
    let cjk = |s: &str| s.chars().any(|c| ('\u{3000}'..='\u{9fff}').contains(&c));
    if let Some((zh, en)) = text.split_once(" / ")
        && !cjk(en)
    {
        return Msg::new(zh, en);
    }
    let en = match errcode {
        Some(code) => format!("This step failed (WeChat errcode {code})"),
        None => "This step failed".to_string(),
    };
    Msg::new(text, if cjk(text) { en } else { text.to_string() })
}

/// How a row moves. Fields left `None` keep their value.
#[derive(Debug, Clone, Default)]
pub(crate) struct Move {
    pub auditid: Option<i64>,
    pub submitted_at: Option<i64>,
    pub reason: Option<String>,
    pub screenshot: Option<String>,
    /// Set the failure (message, errcode); `clear_error` wipes it.
    pub error: Option<(Msg, Option<i64>)>,
    pub clear_error: bool,
    /// Add one attempt; `reset_attempts` sets 0.
    pub attempt: bool,
    pub reset_attempts: bool,
    pub next_at: i64,
}

/// Moves `appid`'s row from `from` to `to` if it is still in `from` (someone else — the feed,
/// a cancel — may have moved it meanwhile: then nothing changes). Returns whether it moved.
pub(crate) fn move_row(
    tx: &Connection,
    id: i64,
    appid: &str,
    from: RowState,
    to: RowState,
    m: &Move,
) -> Result<bool> {
    let n = tx.execute(
        "UPDATE code_rollout_rows SET
             state = ?4,
             auditid = COALESCE(?5, auditid),
             submitted_at = COALESCE(?6, submitted_at),
             reason = COALESCE(?7, reason),
             screenshot = COALESCE(?8, screenshot),
             error = CASE WHEN ?9 THEN NULL ELSE COALESCE(?10, error) END,
             errcode = CASE WHEN ?9 THEN NULL WHEN ?10 IS NOT NULL THEN ?11 ELSE errcode END,
             attempts = CASE WHEN ?12 THEN 0 WHEN ?13 THEN attempts + 1 ELSE attempts END,
             next_at = ?14,
             updated_at = ?15
         WHERE rollout_id = ?1 AND appid = ?2 AND state = ?3",
        params![
            id,
            appid,
            from.as_str(),
            to.as_str(),
            m.auditid,
            m.submitted_at,
            m.reason,
            m.screenshot,
            m.clear_error,
            m.error.as_ref().map(|e| stored_error(&e.0)),
            m.error.as_ref().and_then(|e| e.1),
            m.reset_attempts,
            m.attempt,
            m.next_at,
            now(),
        ],
    )?;
    Ok(n > 0)
}

pub(crate) fn set_status(
    conn: &Connection,
    id: i64,
    status: RolloutStatus,
    pause: Option<&Pause>,
) -> Result<()> {
    let finished = matches!(status, RolloutStatus::Completed | RolloutStatus::Cancelled);
    conn.execute(
        "UPDATE code_rollouts SET status = ?2, pause_code = ?3, pause_detail = ?4,
             updated_at = ?5, finished_at = CASE WHEN ?6 THEN ?5 ELSE finished_at END
         WHERE id = ?1",
        params![
            id,
            status.as_str(),
            pause.map(|p| p.code.as_str()),
            pause.map_or("", |p| p.detail.as_str()),
            now(),
            finished
        ],
    )?;
    Ok(())
}

/// Pauses the rollout only while it is `running`: a runner that read `running` a moment ago
/// must not overwrite a cancel (or a pause) written since. Whether it paused.
pub(crate) fn pause_if_running(conn: &Connection, id: i64, pause: &Pause) -> Result<bool> {
    let n = conn.execute(
        "UPDATE code_rollouts SET status = 'paused', pause_code = ?2, pause_detail = ?3,
             updated_at = ?4
         WHERE id = ?1 AND status = 'running'",
        params![id, pause.code.as_str(), pause.detail.as_str(), now()],
    )?;
    Ok(n > 0)
}

/// Every row with steps left becomes `cancelled`.
pub(crate) fn cancel_rows(conn: &Connection, id: i64, target: RolloutTarget) -> Result<u64> {
    let open: Vec<&str> = RowState::ALL
        .iter()
        .filter(|s| !s.is_terminal_for(target))
        .map(|s| s.as_str())
        .collect();
    let list = open
        .iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(",");
    let n = conn.execute(
        &format!(
            "UPDATE code_rollout_rows SET state = 'cancelled', updated_at = ?2
             WHERE rollout_id = ?1 AND state IN ({list})"
        ),
        params![id, now()],
    )?;
    Ok(n as u64)
}

// ---- audit pushes ----

fn event_str(e: AuditEvent) -> &'static str {
    match e {
        AuditEvent::Success => "success",
        AuditEvent::Fail => "fail",
        AuditEvent::Delay => "delay",
    }
}

/// Records an audit push (once per relay seq) and moves the rows it answers: rows of `appid`
/// waiting for an audit submitted before the push. A delay never undoes a pass or a failure
/// (pushes may arrive out of order).
pub(crate) fn record_push(
    tx: &Transaction<'_>,
    seq: i64,
    appid: &str,
    push: &wxdesk_wechat::api::AuditPush,
) -> Result<()> {
    let inserted = tx.execute(
        "INSERT INTO code_audit_events (seq, appid, event, at, reason, screenshot, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (seq) DO NOTHING",
        params![
            seq,
            appid,
            event_str(push.event),
            push.at,
            push.reason,
            push.screenshot,
            now()
        ],
    )?;
    if inserted == 0 {
        return Ok(());
    }
    let to = match push.event {
        AuditEvent::Success => RowState::AuditPassed,
        AuditEvent::Fail => RowState::AuditFailed,
        AuditEvent::Delay => RowState::AuditDelayed,
    };
    // WeChat's clock and ours differ a little: a push up to two minutes "before" the submit is
    // still about it.
    tx.execute(
        "UPDATE code_rollout_rows SET state = ?2, reason = COALESCE(?3, reason),
             screenshot = COALESCE(?4, screenshot), next_at = 0, updated_at = ?6
         WHERE appid = ?1 AND state IN ('auditing', 'audit_delayed')
           AND COALESCE(submitted_at, 0) <= ?5 + 120
           AND rollout_id IN (SELECT id FROM code_rollouts
                              WHERE status IN ('draft', 'running', 'paused'))",
        params![
            appid,
            to.as_str(),
            push.reason,
            push.screenshot,
            push.at,
            now()
        ],
    )?;
    Ok(())
}

/// The newest recorded audit push of a mini program.
pub(crate) fn last_push(conn: &Connection, appid: &str) -> Result<Option<AuditPushRecord>> {
    let raw = conn
        .query_row(
            "SELECT seq, event, at, reason, screenshot FROM code_audit_events
             WHERE appid = ?1 ORDER BY seq DESC LIMIT 1",
            [appid],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, Option<String>>(4)?,
                ))
            },
        )
        .optional()?;
    raw.map(|(seq, event, at, reason, screenshot)| {
        let event = match event.as_str() {
            "success" => AuditPushEvent::Success,
            "fail" => AuditPushEvent::Fail,
            "delay" => AuditPushEvent::Delay,
            other => return Err(bad("审核推送", other)),
        };
        Ok(AuditPushRecord {
            event,
            at,
            reason,
            screenshot,
            seq,
        })
    })
    .transpose()
}

/// The submit_audit body of a rollout.
pub(crate) fn audit_json(conn: &Connection, id: i64) -> Result<String> {
    Ok(conn.query_row(
        "SELECT audit_json FROM code_rollouts WHERE id = ?1",
        [id],
        |r| r.get(0),
    )?)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::store::Store;

    fn planned(appid: &str, line: i64) -> PlannedRow {
        PlannedRow {
            appid: appid.into(),
            line,
            ext_json: "{}".into(),
        }
    }

    /// A rollout to release version 1.0.0 of template 1.
    fn released() -> NewRollout<'static> {
        NewRollout {
            template_id: 1,
            user_version: "1.0.0",
            user_desc: "",
            target: RolloutTarget::Released,
            audit_json: "{}",
            source: "",
        }
    }

    /// A row's failure is stored as both languages; rows an older version wrote (one Chinese
    /// text, or the runner's "中文 / English") still read, in both languages.
    #[tokio::test]
    async fn a_failure_is_stored_in_both_languages_and_older_rows_still_read() {
        let store = Store::open_in_memory().unwrap();
        let (stored, read) = store
            .call(|c| {
                let id = create(
                    c,
                    &released(),
                    &[planned("wxA", 1), planned("wxB", 2), planned("wxC", 3)],
                )?;
                let busy = Msg::new("微信系统繁忙，请稍后再试", "WeChat is busy; try again later");
                let m = Move {
                    error: Some((busy, Some(-1))),
                    ..Move::default()
                };
                move_row(c, id, "wxA", RowState::Pending, RowState::Failed, &m)?;
                c.execute(
                    "UPDATE code_rollout_rows SET error = '提交审核失败：类目不符', errcode = 85008 \
                     WHERE appid = 'wxB'",
                    [],
                )?;
                c.execute(
                    "UPDATE code_rollout_rows SET error = '审核已被撤回 / the audit was withdrawn' \
                     WHERE appid = 'wxC'",
                    [],
                )?;
                let stored: String = c.query_row(
                    "SELECT error FROM code_rollout_rows WHERE appid = 'wxA'",
                    [],
                    |r| r.get(0),
                )?;
                Ok((stored, rows(c, id)?))
            })
            .await
            .unwrap();
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&stored).unwrap(),
            json!({"zh": "微信系统繁忙，请稍后再试", "en": "WeChat is busy; try again later"})
        );
        let errors: Vec<(&str, Option<Msg>, Option<i64>)> = read
            .iter()
            .map(|r| (r.row.appid.as_str(), r.row.error.clone(), r.row.errcode))
            .collect();
        assert_eq!(
            errors,
            [
                (
                    "wxA",
                    Some(Msg::new(
                        "微信系统繁忙，请稍后再试",
                        "WeChat is busy; try again later"
                    )),
                    Some(-1)
                ),
                (
                    "wxB",
                    Some(Msg::new(
                        "提交审核失败：类目不符",
                        "This step failed (WeChat errcode 85008)"
                    )),
                    Some(85008)
                ),
                (
                    "wxC",
                    Some(Msg::new("审核已被撤回", "the audit was withdrawn")),
                    None
                ),
            ]
        );
    }

    /// A runner that read `running` just before a cancel was written pauses for the stop
    /// signal the cancel sent: the pause must not turn the cancel back into `paused` (it did,
    /// once in about fifteen runs of the rollout test under load).
    #[tokio::test]
    async fn a_pause_lands_only_on_a_running_rollout_and_never_undoes_a_cancel() {
        let store = Store::open_in_memory().unwrap();
        let operator = Pause {
            code: PauseCode::Operator,
            detail: String::new(),
        };
        let (paused_running, paused_cancelled, after) = store
            .call(move |c| {
                let id = create(c, &released(), &[planned("wxA", 1)])?;
                set_status(c, id, RolloutStatus::Running, None)?;
                let paused_running = pause_if_running(c, id, &operator)?;
                let first = load(c, id)?.map(|r| (r.status, r.pause.map(|p| p.code)));
                set_status(c, id, RolloutStatus::Running, None)?;
                set_status(c, id, RolloutStatus::Cancelled, None)?;
                let paused_cancelled = pause_if_running(c, id, &operator)?;
                let after = load(c, id)?.map(|r| (r.status, r.pause.is_none()));
                assert_eq!(
                    first,
                    Some((RolloutStatus::Paused, Some(PauseCode::Operator)))
                );
                Ok((paused_running, paused_cancelled, after))
            })
            .await
            .unwrap();
        assert!(paused_running);
        assert!(!paused_cancelled);
        assert_eq!(after, Some((RolloutStatus::Cancelled, true)));
    }
}
