//! SQL of the 订阅通知 tables (migration 0009): the accounts' chosen templates and what each user
//! granted each template.

use rusqlite::{Connection, OptionalExtension, params};
use wxdesk_wechat::callback::{SubscribeMsgEvent, SubscribeMsgKind};

use super::{Receiver, SubscribeKind, SubscribeTemplate};
use crate::error::Result;
use crate::templates::keywords::parse_content;

fn template_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SubscribeTemplate> {
    let content: String = r.get(3)?;
    Ok(SubscribeTemplate {
        appid: r.get(0)?,
        template_id: r.get(1)?,
        title: r.get(2)?,
        fields: parse_content(&content),
        content,
        example: r.get(4)?,
        kind: SubscribeKind::from_type(r.get(5)?),
        synced_at: r.get(6)?,
    })
}

const TEMPLATE_COLS: &str = "appid, template_id, title, content, example, type, synced_at";

/// Replace the stored list of `appid` with what WeChat just listed.
pub(crate) fn replace_templates(
    conn: &Connection,
    appid: &str,
    list: &[SubscribeTemplate],
) -> Result<()> {
    let tx = conn.unchecked_transaction()?;
    tx.execute(
        "DELETE FROM subscribe_templates WHERE appid = ?1",
        params![appid],
    )?;
    for t in list {
        tx.execute(
            "INSERT INTO subscribe_templates (appid, template_id, title, content, example, type, synced_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                appid,
                t.template_id,
                t.title,
                t.content,
                t.example,
                t.kind.as_type(),
                t.synced_at
            ],
        )?;
    }
    tx.commit()?;
    Ok(())
}

pub(crate) fn templates(conn: &Connection, appid: &str) -> Result<Vec<SubscribeTemplate>> {
    let mut st = conn.prepare(&format!(
        "SELECT {TEMPLATE_COLS} FROM subscribe_templates WHERE appid = ?1 ORDER BY title, template_id"
    ))?;
    let rows = st.query_map(params![appid], template_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn template(
    conn: &Connection,
    appid: &str,
    template_id: &str,
) -> Result<Option<SubscribeTemplate>> {
    Ok(conn
        .query_row(
            &format!(
                "SELECT {TEMPLATE_COLS} FROM subscribe_templates WHERE appid = ?1 AND template_id = ?2"
            ),
            params![appid, template_id],
            template_row,
        )
        .optional()?)
}

pub(crate) fn remove_template(conn: &Connection, appid: &str, template_id: &str) -> Result<()> {
    conn.execute(
        "DELETE FROM subscribe_templates WHERE appid = ?1 AND template_id = ?2",
        params![appid, template_id],
    )?;
    // A deleted template can never be sent again: what users granted it goes with it.
    conn.execute(
        "DELETE FROM subscriptions WHERE appid = ?1 AND template_id = ?2",
        params![appid, template_id],
    )?;
    Ok(())
}

/// The SQL condition of "can receive": a one-time accept left, or (long-term) an accept not
/// switched off since.
const CAN_RECEIVE: &str = "(remaining > 0 OR (accepted = 1 AND ?3 = 1))";

/// Who can receive `template_id` now, newest choice first, at most `limit`; and how many in all.
pub(crate) fn receivers(
    conn: &Connection,
    appid: &str,
    template_id: &str,
    long_term: bool,
    limit: u32,
) -> Result<(u64, Vec<Receiver>)> {
    let total: i64 = conn.query_row(
        &format!(
            "SELECT count(*) FROM subscriptions WHERE appid = ?1 AND template_id = ?2 AND {CAN_RECEIVE}"
        ),
        params![appid, template_id, long_term],
        |r| r.get(0),
    )?;
    let mut st = conn.prepare(&format!(
        "SELECT openid, remaining, accepted, last_action, updated_at, sent FROM subscriptions \
         WHERE appid = ?1 AND template_id = ?2 AND {CAN_RECEIVE} \
         ORDER BY updated_at DESC, openid LIMIT ?4"
    ))?;
    let rows = st.query_map(params![appid, template_id, long_term, limit], receiver_row)?;
    Ok((
        u64::try_from(total).unwrap_or(0),
        rows.collect::<rusqlite::Result<_>>()?,
    ))
}

fn receiver_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Receiver> {
    Ok(Receiver {
        openid: r.get(0)?,
        remaining: r.get::<_, i64>(1)?.max(0) as u64,
        accepted: r.get(2)?,
        last_action: r.get(3)?,
        updated_at: r.get(4)?,
        sent: r.get::<_, i64>(5)?.max(0) as u64,
    })
}

/// What is known of one user and one template (`None`: no event ever seen).
pub(crate) fn grant(
    conn: &Connection,
    appid: &str,
    template_id: &str,
    openid: &str,
) -> Result<Option<Receiver>> {
    Ok(conn
        .query_row(
            "SELECT openid, remaining, accepted, last_action, updated_at, sent FROM subscriptions \
             WHERE appid = ?1 AND template_id = ?2 AND openid = ?3",
            params![appid, template_id, openid],
            receiver_row,
        )
        .optional()?)
}

/// Apply one pushed event (relay seq `seq`) to every template it names. A row already at or past
/// `seq` is left alone, so an event applied twice counts once.
pub(crate) fn apply_event(
    conn: &Connection,
    appid: &str,
    seq: i64,
    e: &SubscribeMsgEvent,
) -> Result<()> {
    let openid = e.from_user_name.as_str();
    for item in &e.items {
        // Make sure the row exists (a reject or a sent event may be the first we hear).
        conn.execute(
            "INSERT INTO subscriptions (appid, openid, template_id, last_action, updated_at, last_seq) \
             VALUES (?1, ?2, ?3, '', ?4, 0) ON CONFLICT DO NOTHING",
            params![appid, openid, item.template_id, e.create_time],
        )?;
        let sql = match e.kind {
            SubscribeMsgKind::Popup if item.accepted() => {
                "UPDATE subscriptions SET remaining = remaining + 1, accepted = 1, \
                 last_action = 'accept', updated_at = max(updated_at, ?4), last_seq = ?5 \
                 WHERE appid = ?1 AND openid = ?2 AND template_id = ?3 AND last_seq < ?5"
            }
            // 取消 in the popup: what was granted before stays.
            SubscribeMsgKind::Popup => {
                "UPDATE subscriptions SET last_action = 'reject', \
                 updated_at = max(updated_at, ?4), last_seq = ?5 \
                 WHERE appid = ?1 AND openid = ?2 AND template_id = ?3 AND last_seq < ?5"
            }
            SubscribeMsgKind::Change => {
                "UPDATE subscriptions SET remaining = 0, accepted = 0, last_action = 'switch_off', \
                 updated_at = max(updated_at, ?4), last_seq = ?5 \
                 WHERE appid = ?1 AND openid = ?2 AND template_id = ?3 AND last_seq < ?5"
            }
            // A notice went out: it used one accept, whatever became of its delivery.
            SubscribeMsgKind::Sent => {
                "UPDATE subscriptions SET remaining = max(remaining - 1, 0), sent = sent + 1, \
                 last_sent_at = ?4, last_errcode = ?6, last_seq = ?5 \
                 WHERE appid = ?1 AND openid = ?2 AND template_id = ?3 AND last_seq < ?5"
            }
        };
        let mut st = conn.prepare_cached(sql)?;
        // Unused parameters are not allowed by SQLite's binding: pass exactly what each uses.
        match e.kind {
            SubscribeMsgKind::Sent => st.execute(params![
                appid,
                openid,
                item.template_id,
                e.create_time,
                seq,
                item.error_code
            ])?,
            _ => st.execute(params![appid, openid, item.template_id, e.create_time, seq])?,
        };
    }
    Ok(())
}
