//! 发送记录 of a team workspace: the team server's rows of every job it ran (`GET
//! /api/v1/team/history`), as the same [`HistoryRow`]s a desk's own history gives, so the page,
//! the detail drawer and the CSV export work unchanged.

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use super::history::{
    DayCounts, ExportRow, HistoryDetail, HistoryFilter, HistoryPage, HistoryRow, HistoryStatus,
};
use super::model::{Delivery, JobKind, JobPurpose, RecipientState};
use super::reason::{Explanation, RowNote};
use crate::error::{Error, Result};
use crate::relay::RelayClient;

#[derive(Deserialize)]
struct ServerRow {
    id: i64,
    job_id: i64,
    seq: i64,
    appid: String,
    kind: String,
    template_id: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    purpose: String,
    openid: String,
    state: String,
    attempts: i64,
    errcode: Option<i64>,
    errmsg: Option<String>,
    msgid: Option<String>,
    client_msg_id: Option<String>,
    delivery: Option<String>,
    created_at: i64,
    updated_at: i64,
}

#[derive(Deserialize)]
struct ServerPage {
    rows: Vec<ServerRow>,
    next_before: Option<i64>,
}

impl ServerRow {
    fn row(&self) -> Result<HistoryRow> {
        let state = RecipientState::parse(&self.state)?;
        let delivery = match self.delivery.as_deref() {
            Some(d) => Some(Delivery::parse(d)?),
            None if state == RecipientState::Sent => Some(Delivery::Pending),
            None => None,
        };
        // A skipped row was done when the job was written, as on a desk.
        let done = matches!(
            state,
            RecipientState::Sent
                | RecipientState::FailedPermanent
                | RecipientState::FailedRetryable
                | RecipientState::Skipped
                | RecipientState::Cancelled
        );
        // The desk's note of a skipped row, kept by the server as the desk wrote it.
        let (note, errmsg) = RowNote::split_stored(self.errmsg.clone());
        Ok(HistoryRow {
            id: self.id,
            job_id: self.job_id,
            seq: self.seq,
            appid: self.appid.clone(),
            kind: JobKind::parse(&self.kind)?,
            template_id: self.template_id.clone(),
            openid: self.openid.clone(),
            state,
            attempts: self.attempts.clamp(0, i64::from(u32::MAX)) as u32,
            msgid: self.msgid.as_deref().and_then(|m| m.parse().ok()),
            errcode: self.errcode,
            errmsg,
            note,
            delivery,
            delivery_raw: None,
            created_at: self.created_at,
            attempted_at: (self.attempts > 0).then_some(self.updated_at),
            done_at: done.then_some(self.updated_at),
            delivered_at: None,
            explanation: self.errcode.and_then(Explanation::of),
            jump: None,
        })
    }
}

fn query(f: &HistoryFilter, before: Option<i64>, limit: u32) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    fn text(v: &Option<String>) -> Option<&str> {
        v.as_deref().map(str::trim).filter(|v| !v.is_empty())
    }
    if let Some(v) = text(&f.appid) {
        q.append_pair("appid", v);
    }
    if let Some(v) = text(&f.template_id) {
        q.append_pair("template_id", v);
    }
    if let Some(v) = text(&f.openid) {
        q.append_pair("openid", v);
    }
    if let Some(v) = f.job_id {
        q.append_pair("job_id", &v.to_string());
    }
    if let Some(s) = f.status {
        use HistoryStatus as H;
        let (k, v) = match s {
            H::Delivered => ("delivery", "delivered"),
            H::UserBlock => ("delivery", "user_block"),
            H::SystemFailed => ("delivery", "system_failed"),
            H::DeliveryPending => ("delivery", "pending"),
            H::DeliveryUnknown => ("delivery", "unknown"),
            other => ("state", other.as_str()),
        };
        q.append_pair(k, v);
    }
    if let Some(v) = f.from {
        q.append_pair("from", &v.to_string());
    }
    if let Some(v) = f.to {
        q.append_pair("to", &v.to_string());
    }
    if let Some(v) = before {
        q.append_pair("before", &v.to_string());
    }
    q.append_pair("limit", &limit.clamp(1, 1000).to_string());
    q.finish()
}

async fn page(
    relay: &RelayClient,
    f: &HistoryFilter,
    before: Option<i64>,
    limit: u32,
) -> Result<(Vec<ServerRow>, Option<i64>)> {
    let p: ServerPage = relay
        .team_call::<(), _>(
            reqwest::Method::GET,
            &format!("api/v1/team/history?{}", query(f, before, limit)),
            None,
            Duration::from_secs(30),
        )
        .await?;
    Ok((p.rows, p.next_before))
}

pub(crate) async fn list(
    relay: &RelayClient,
    f: &HistoryFilter,
    before: Option<i64>,
    limit: u32,
) -> Result<HistoryPage> {
    let (rows, next_before) = page(relay, f, before, limit).await?;
    Ok(HistoryPage {
        rows: rows.iter().map(ServerRow::row).collect::<Result<_>>()?,
        next_before,
    })
}

/// The drawer of one row: what the server keeps of it (the request body stays on the server).
pub(crate) async fn detail(relay: &RelayClient, id: i64) -> Result<Option<HistoryDetail>> {
    // Row ids are job × 1,000,000 + seq on the server; the row itself is the first one before
    // the next id.
    let f = HistoryFilter {
        job_id: Some(id.div_euclid(1_000_000)),
        ..HistoryFilter::default()
    };
    let (rows, _) = page(relay, &f, Some(id + 1), 1).await?;
    let Some(r) = rows.into_iter().find(|r| r.id == id) else {
        return Ok(None);
    };
    Ok(Some(HistoryDetail {
        row: r.row()?,
        job_title: r.title.clone(),
        job_purpose: JobPurpose::parse(&r.purpose).unwrap_or(JobPurpose::Plain),
        vars: String::new(),
        client_msg_id: r.client_msg_id.clone(),
        request_line: None,
        request_body: None,
        response: None,
    }))
}

/// Every matching row to `path` as the same CSV a desk exports, read in pages of 1,000.
pub(crate) async fn export_csv(relay: &RelayClient, f: &HistoryFilter, path: &Path) -> Result<u64> {
    let mut all = Vec::new();
    let mut before = None;
    loop {
        let (rows, next) = page(relay, f, before, 1000).await?;
        for r in &rows {
            // The server keeps no variables and no template titles: those cells stay empty.
            all.push(r.row().map(|row| {
                ExportRow {
                    row,
                    job_title: JobPurpose::parse(&r.purpose)
                        .unwrap_or(JobPurpose::Plain)
                        .title_zh(&r.title),
                    template_title: String::new(),
                    vars: String::new(),
                }
            }));
        }
        match next {
            Some(n) if !rows.is_empty() => before = Some(n),
            _ => break,
        }
        if all.len() > 5_000_000 {
            return Err(Error::input(
                "要导出的记录超过 500 万行：请按日期或账号筛选后分批导出",
                "More than 5,000,000 rows to export: filter by date or account and export in parts",
            ));
        }
    }
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || super::history::write_csv(all.into_iter(), &path))
        .await
        .map_err(|e| Error::input(format!("导出中断：{e}"), format!("Export interrupted: {e}")))?
}

#[derive(Deserialize)]
struct ServerDays {
    days: Vec<ServerDay>,
}

#[derive(Deserialize)]
struct ServerDay {
    day: String,
    sent: i64,
    failed: i64,
    uncertain: i64,
    delivered: i64,
    user_block: i64,
    system_failed: i64,
}

/// 概览's outcomes per Beijing day from the team server: every day of `days` (oldest first),
/// zeros where nothing happened.
pub(crate) async fn days(
    relay: &RelayClient,
    days: &[String],
    appid: Option<&str>,
) -> Result<Vec<DayCounts>> {
    let (Some(first), Some(last)) = (days.first(), days.last()) else {
        return Ok(Vec::new());
    };
    // Built before the await: the serializer is not Send.
    let query = {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        q.append_pair("from", first).append_pair("to", last);
        if let Some(a) = appid.map(str::trim).filter(|a| !a.is_empty()) {
            q.append_pair("appid", a);
        }
        q.finish()
    };
    let have: ServerDays = relay
        .team_call::<(), _>(
            reqwest::Method::GET,
            &format!("api/v1/team/history/days?{query}"),
            None,
            Duration::from_secs(30),
        )
        .await?;
    Ok(days
        .iter()
        .map(|day| match have.days.iter().find(|d| &d.day == day) {
            Some(d) => DayCounts {
                day: d.day.clone(),
                sent: d.sent,
                failed: d.failed,
                uncertain: d.uncertain,
                delivered: d.delivered,
                user_block: d.user_block,
                system_failed: d.system_failed,
            },
            None => DayCounts {
                day: day.clone(),
                ..DayCounts::default()
            },
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Lang;

    fn server_row(state: &str, errmsg: Option<&str>) -> ServerRow {
        serde_json::from_value(serde_json::json!({
            "id": 7_000_002, "job_id": 7, "seq": 2, "appid": "wxA", "kind": "template",
            "template_id": "T1", "title": "发货", "purpose": "plain", "openid": "o2",
            "state": state, "attempts": 0, "errcode": null, "errmsg": errmsg, "msgid": null,
            "client_msg_id": null, "delivery": null, "created_at": 100, "updated_at": 101,
        }))
        .expect("a server row")
    }

    #[test]
    fn a_team_row_skipped_at_the_desk_reads_with_its_note_in_both_languages() {
        let note = RowNote::InvalidValue {
            key: "amount5".into(),
            title: Some("订单金额".into()),
            zh: "须为金额".into(),
            en: "must be an amount".into(),
        };
        let row = server_row("skipped", Some(&note.to_stored()))
            .row()
            .expect("a row");
        assert_eq!(row.state, RecipientState::Skipped);
        assert_eq!(row.note.as_ref(), Some(&note), "{row:?}");
        assert_eq!(row.errmsg, None, "the note is not WeChat's errmsg");
        assert_eq!(
            row.error_text(Lang::Zh).as_deref(),
            Some("订单金额：须为金额")
        );
        assert_eq!(
            row.error_text(Lang::En).as_deref(),
            Some("订单金额: must be an amount")
        );
        assert_eq!(
            row.done_at,
            Some(101),
            "skipped rows are done, as on a desk"
        );

        // WeChat's own errmsg stays as it came.
        let failed = server_row("failed_permanent", Some("invalid openid rid: 1"))
            .row()
            .expect("a row");
        assert_eq!(failed.note, None);
        assert_eq!(failed.errmsg.as_deref(), Some("invalid openid rid: 1"));
    }
}
