//! 发送记录: filters, openid search, keyset paging, the detail drawer, per-day counts and CSV
//! export, over rows written by the real engine (fake API); and the delivery join's two orders.
#![allow(clippy::unwrap_used)]

use crate::send_support;

use std::sync::Arc;

use send_support::*;
use wxdesk_core::send::delivery::{self, DeliveryApplied};
use wxdesk_core::send::{
    Delivery, History, HistoryFilter, HistoryPage, HistoryStatus, RecipientState, SendEngine,
};
use wxdesk_core::store::Store;

/// Two jobs on wxA (the second with 43004 for one recipient) and one on wxB.
async fn populated() -> (SendEngine, [i64; 3]) {
    let api = FakeApi::new(|_, openid| (openid == "oUser0000007").then(|| api_err(43004)));
    let engine = SendEngine::new(Store::open_in_memory().unwrap(), api, fast_config());
    let a1 = engine
        .create_and_start(template_spec("wxA"), recipients(30))
        .await
        .unwrap();
    engine.wait_idle(a1).await.unwrap();
    let mut spec = template_spec("wxA");
    if let wxdesk_core::send::Payload::Template { template_id, .. } = &mut spec.payload {
        *template_id = "TPL-other".into();
    }
    let a2 = engine.create_and_start(spec, recipients(10)).await.unwrap();
    engine.wait_idle(a2).await.unwrap();
    let b = engine
        .create_and_start(template_spec("wxB"), recipients(25))
        .await
        .unwrap();
    engine.wait_idle(b).await.unwrap();
    (engine, [a1, a2, b])
}

async fn page(
    engine: &SendEngine,
    f: HistoryFilter,
    before: Option<i64>,
    limit: u32,
) -> HistoryPage {
    history(engine).list(f, before, Some(limit)).await.unwrap()
}

fn history(engine: &SendEngine) -> History {
    History::new(engine.store().clone())
}

#[tokio::test]
async fn keyset_pages_walk_every_matching_row_once_newest_first() {
    let (engine, [a1, a2, _]) = populated().await;
    let f = HistoryFilter {
        appid: Some("wxA".into()),
        ..Default::default()
    };
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let p = page(&engine, f.clone(), before, 7).await;
        assert!(p.rows.len() <= 7);
        seen.extend(p.rows.iter().map(|r| (r.id, r.job_id, r.appid.clone())));
        match p.next_before {
            Some(b) => before = Some(b),
            None => break,
        }
    }
    assert_eq!(seen.len(), 40);
    assert!(
        seen.windows(2).all(|w| w[0].0 > w[1].0),
        "strictly newest first"
    );
    assert!(seen.iter().all(|r| r.2 == "wxA"));
    assert_eq!(seen[0].1, a2, "the newer job comes first");
    assert_eq!(seen[39].1, a1);
    // One job's pages (walked by seq under the hood) are the same keyset walk.
    let f = HistoryFilter {
        job_id: Some(a1),
        ..Default::default()
    };
    let mut ids = Vec::new();
    let mut before = None;
    loop {
        let p = page(&engine, f.clone(), before, 7).await;
        ids.extend(p.rows.iter().map(|r| r.id));
        match p.next_before {
            Some(b) => before = Some(b),
            None => break,
        }
    }
    assert_eq!(ids.len(), 30);
    assert!(ids.windows(2).all(|w| w[0] > w[1]));
}

#[tokio::test]
async fn filters_combine_and_openid_search_finds_a_recipient_across_jobs() {
    let (engine, [_, a2, b]) = populated().await;
    let by_template = page(
        &engine,
        HistoryFilter {
            template_id: Some("TPL-other".into()),
            ..Default::default()
        },
        None,
        100,
    )
    .await;
    assert_eq!(by_template.rows.len(), 10);
    assert!(by_template.rows.iter().all(|r| r.job_id == a2));

    let failed = page(
        &engine,
        HistoryFilter {
            status: Some(HistoryStatus::FailedPermanent),
            ..Default::default()
        },
        None,
        100,
    )
    .await;
    let got: Vec<(String, Option<i64>)> = failed
        .rows
        .iter()
        .map(|r| (r.openid.clone(), r.errcode))
        .collect();
    assert_eq!(got, vec![("oUser0000007".to_string(), Some(43004)); 3]);
    let why = failed.rows[0].explanation.clone().unwrap();
    let table = wxdesk_wechat::explain(43004).unwrap();
    assert_eq!(
        (why.errcode, why.zh.as_str(), why.en.as_str()),
        (43004, table.zh, table.en)
    );
    assert!(!why.hint_zh.is_empty() && !why.hint_en.is_empty());

    let one = page(
        &engine,
        HistoryFilter {
            openid: Some(" oUser0000003 ".into()),
            appid: Some("wxB".into()),
            ..Default::default()
        },
        None,
        100,
    )
    .await;
    assert_eq!(one.rows.len(), 1);
    assert_eq!(
        (one.rows[0].job_id, one.rows[0].state),
        (b, RecipientState::Sent)
    );

    let by_job = page(
        &engine,
        HistoryFilter {
            job_id: Some(b),
            ..Default::default()
        },
        None,
        100,
    )
    .await;
    assert_eq!(by_job.rows.len(), 25);
}

#[tokio::test]
async fn a_date_range_selects_rows_by_when_they_were_queued() {
    let (engine, [a1, a2, b]) = populated().await;
    // Spread the three jobs over three days.
    engine
        .store()
        .call(move |c| {
            for (job, at) in [
                (a1, 1_700_000_000i64),
                (a2, 1_700_086_400),
                (b, 1_700_172_800),
            ] {
                c.execute(
                    "UPDATE send_recipients SET created_at = ?2 WHERE job_id = ?1",
                    rusqlite::params![job, at],
                )?;
            }
            Ok(())
        })
        .await
        .unwrap();
    let f = HistoryFilter {
        from: Some(1_700_050_000),
        to: Some(1_700_150_000),
        ..Default::default()
    };
    let p = page(&engine, f, None, 100).await;
    assert_eq!(p.rows.len(), 10);
    assert!(p.rows.iter().all(|r| r.job_id == a2));
    let none = page(
        &engine,
        HistoryFilter {
            from: Some(1_800_000_000),
            ..Default::default()
        },
        None,
        100,
    )
    .await;
    assert!(none.rows.is_empty());
}

#[tokio::test]
async fn detail_rebuilds_the_request_with_client_msg_id_and_no_token() {
    let (engine, [a1, ..]) = populated().await;
    let first = page(
        &engine,
        HistoryFilter {
            job_id: Some(a1),
            ..Default::default()
        },
        None,
        1,
    )
    .await
    .rows[0]
        .clone();
    let d = history(&engine).detail(first.id).await.unwrap().unwrap();
    assert_eq!(
        d.request_line.as_deref(),
        Some("POST /cgi-bin/message/template/send?access_token=***")
    );
    let body: serde_json::Value = serde_json::from_str(d.request_body.as_deref().unwrap()).unwrap();
    assert_eq!(body["touser"], first.openid.as_str());
    assert_eq!(body["data"]["thing1"]["value"], "订单A29已发货");
    assert_eq!(body["client_msg_id"].as_str(), d.client_msg_id.as_deref());
    assert!(
        d.client_msg_id
            .as_deref()
            .unwrap()
            .starts_with(&format!("wxd-{a1}-"))
    );
    let response: serde_json::Value = serde_json::from_str(d.response.as_deref().unwrap()).unwrap();
    assert_eq!(response["errcode"], 0);
    let text = d.request_body.unwrap();
    assert!(!text.contains("access_token"), "{text}");
    assert!(history(&engine).detail(999_999).await.unwrap().is_none());
    // The msgid crosses to the window as text (it can exceed 2^53).
    let row = serde_json::to_value(&first).unwrap();
    assert_eq!(row["msgid"], first.msgid.unwrap().to_string());
}

#[tokio::test]
async fn today_totals_and_daily_counts_follow_outcomes_and_delivery_reports() {
    let (engine, [a1, ..]) = populated().await;
    let today = history(&engine).today(None).await.unwrap();
    assert_eq!((today.sent, today.failed, today.uncertain), (62, 3, 0));
    let wx_a = history(&engine).today(Some("wxA".into())).await.unwrap();
    assert_eq!((wx_a.sent, wx_a.failed), (38, 2));

    // Two delivery reports for job a1's first two rows.
    let msgids: Vec<i64> = engine
        .store()
        .call(move |c| {
            let mut s = c.prepare(
                "SELECT msgid FROM send_recipients WHERE job_id = ? ORDER BY seq LIMIT 2",
            )?;
            let v = s
                .query_map([a1], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(v)
        })
        .await
        .unwrap();
    let now = 1_900_000_000;
    let (m0, m1) = (msgids[0], msgids[1]);
    let applied = engine
        .store()
        .call(move |c| {
            Ok([
                delivery::apply_report(c, "wxA", m0, "success", now)?,
                delivery::apply_report(c, "wxA", m1, "failed:user block", now)?,
                delivery::apply_report(c, "wxA", m1, "failed:user block", now)?,
            ])
        })
        .await
        .unwrap();
    assert_eq!(
        applied,
        [
            DeliveryApplied::Matched(Delivery::Delivered),
            DeliveryApplied::Matched(Delivery::UserBlock),
            DeliveryApplied::Duplicate
        ]
    );
    let today = history(&engine).today(Some("wxA".into())).await.unwrap();
    assert_eq!(
        (today.delivered, today.user_block, today.system_failed),
        (1, 1, 0)
    );
    // 概览: every day of the range, the days without sends as zeros, ending today.
    let stats = history(&engine).overview(14, None).await.unwrap();
    assert_eq!(stats.days.len(), 14);
    let last = stats.days.last().unwrap();
    assert_eq!(last.day, today.day);
    assert_eq!((last.sent, last.failed, last.delivered), (62, 3, 1));
    assert_eq!(stats.today, *last);
    assert!(
        stats.days[..13]
            .iter()
            .all(|d| (d.sent, d.failed, d.uncertain, d.delivered) == (0, 0, 0, 0)),
        "{:?}",
        stats.days
    );
    let mut sorted = stats.days.iter().map(|d| d.day.clone()).collect::<Vec<_>>();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 14, "14 distinct days, oldest first");
    assert_eq!(
        sorted,
        stats.days.iter().map(|d| d.day.clone()).collect::<Vec<_>>()
    );
    let wx_b = history(&engine)
        .overview(1, Some("wxB".into()))
        .await
        .unwrap();
    assert_eq!(
        (wx_b.days.len(), wx_b.today.sent, wx_b.today.failed),
        (1, 24, 1)
    );
    let job = engine.job(a1).await.unwrap();
    assert_eq!((job.counts.delivered, job.counts.user_block), (1, 1));
}

#[tokio::test]
async fn a_report_that_overtakes_its_send_is_parked_then_applied_when_the_send_is_recorded() {
    // One worker, so the first request gets the fake's first msgid (1000).
    let api = FakeApi::ok();
    let mut cfg = fast_config();
    cfg.concurrency = 1;
    let engine = SendEngine::new(Store::open_in_memory().unwrap(), Arc::clone(&api) as _, cfg);
    let parked = engine
        .store()
        .call(|c| delivery::apply_report(c, "wxA", 1000, "failed: system failed", 1_900_000_000))
        .await
        .unwrap();
    assert_eq!(parked, DeliveryApplied::Parked);
    let mut spec = template_spec("wxA");
    spec.concurrency = Some(1);
    let job = engine.create_and_start(spec, recipients(3)).await.unwrap();
    let job = engine.wait_idle(job).await.unwrap();
    assert_eq!(job.counts.system_failed, 1);
    let (delivery, raw): (String, String) = engine
        .store()
        .call(|c| {
            Ok(c.query_row(
                "SELECT delivery, delivery_raw FROM send_recipients WHERE msgid = 1000",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?)
        })
        .await
        .unwrap();
    assert_eq!(
        (delivery.as_str(), raw.as_str()),
        ("system_failed", "failed: system failed")
    );
    let left: i64 = engine
        .store()
        .call(|c| {
            Ok(
                c.query_row("SELECT count(*) FROM send_delivery_orphans", [], |r| {
                    r.get(0)
                })?,
            )
        })
        .await
        .unwrap();
    assert_eq!(left, 0);
}

#[tokio::test]
async fn csv_export_writes_a_bom_a_chinese_header_and_every_matching_row() {
    let (engine, [_, _, b]) = populated().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("记录.csv");
    let n = history(&engine)
        .export_csv(
            HistoryFilter {
                job_id: Some(b),
                ..Default::default()
            },
            path.clone(),
        )
        .await
        .unwrap();
    assert_eq!(n, 25);
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(
        &bytes[..3],
        b"\xEF\xBB\xBF",
        "Excel needs the BOM to read UTF-8"
    );
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 26);
    assert!(lines[0].starts_with("记录ID,任务ID,序号,账号AppID,类型,模板ID,OpenID,状态"));
    assert!(lines[1].contains(",oUser0000024,已发送,1,"), "{}", lines[1]);
    assert!(lines[1].contains(",模板消息,TPL-ship,"), "{}", lines[1]);
}

#[tokio::test]
async fn csv_export_names_the_zone_of_every_time_and_adds_the_titles_and_variables_at_the_end() {
    let (engine, [_, _, b]) = populated().await;
    engine
        .store()
        .call(|c| {
            c.execute(
                "INSERT INTO templates (appid, template_id, title, synced_at) \
                 VALUES ('wxB', 'TPL-ship', '订单发货提醒', 0)",
                [],
            )?;
            Ok(())
        })
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("记录.csv");
    let f = HistoryFilter {
        job_id: Some(b),
        ..Default::default()
    };
    history(&engine)
        .export_csv(f.clone(), path.clone())
        .await
        .unwrap();
    let newest = page(&engine, f, None, 1).await.rows.remove(0);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut csv = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let headers: Vec<String> = csv.headers().unwrap().iter().map(String::from).collect();
    let times: Vec<&str> = headers
        .iter()
        .map(String::as_str)
        .filter(|h| h.contains("时间"))
        .collect();
    assert_eq!(
        times,
        [
            "创建时间（北京时间 UTC+8）",
            "发送时间（北京时间 UTC+8）",
            "完成时间（北京时间 UTC+8）",
            "送达时间（北京时间 UTC+8）",
        ],
        "a reader must not have to guess the zone"
    );
    assert_eq!(
        &headers[headers.len() - 3..],
        ["任务名称", "模板标题", "变量（JSON）"],
        "new columns after the ones scripts already read"
    );
    let col = |name: &str| headers.iter().position(|h| h.starts_with(name)).unwrap();
    let first = csv.records().next().unwrap().unwrap();
    assert_eq!(&first[col("OpenID")], newest.openid);
    let created = &first[col("创建时间")];
    assert_eq!(
        created,
        wxdesk_core::send::history::beijing_iso(newest.created_at)
    );
    assert!(
        created.len() == 25 && created.as_bytes()[10] == b'T' && created.ends_with("+08:00"),
        "ISO 8601 with its offset: {created}"
    );
    assert!(first[col("完成时间")].ends_with("+08:00"));
    assert_eq!(&first[col("任务名称")], "发货通知");
    assert_eq!(
        &first[col("模板标题")],
        "订单发货提醒",
        "from the synced templates"
    );
    assert_eq!(
        &first[col("变量")],
        r#"{"订单号":"A24"}"#,
        "the values this recipient's message was rendered with"
    );
}

#[tokio::test]
async fn the_feed_handler_joins_a_relay_delivery_event_in_the_feed_transaction() {
    use wxdesk_core::feed::EventHandler;
    use wxdesk_core::feed::events::{EventKind, FeedEvent};
    use wxdesk_core::send::platform::DeliveryJoin;

    let (engine, [a1, ..]) = populated().await;
    let (msgid, openid): (i64, String) = engine
        .store()
        .call(move |c| {
            Ok(c.query_row(
                "SELECT msgid, openid FROM send_recipients WHERE job_id = ? AND seq = 0",
                [a1],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?)
        })
        .await
        .unwrap();
    let event = |appid: Option<&str>, status: &str| FeedEvent {
        seq: 1,
        appid: appid.map(String::from),
        received_at: 1_900_000_000,
        kind: EventKind::TemplateSendJobFinish {
            openid: openid.clone(),
            msg_id: msgid,
            status: status.into(),
            create_time: 1_900_000_000,
            to_user_name: "gh_x".into(),
        },
    };
    // Once with the account, once (a later, different report) known only by msgid + openid.
    let (e1, e2) = (
        event(Some("wxA"), "success"),
        event(None, "failed:user block"),
    );
    let got = engine
        .store()
        .call(move |c| {
            let tx = c.transaction()?;
            DeliveryJoin.apply(&tx, &e1)?;
            let first: String = tx.query_row(
                "SELECT delivery FROM send_recipients WHERE msgid = ?",
                [msgid],
                |r| r.get(0),
            )?;
            DeliveryJoin.apply(&tx, &e2)?;
            let second: String = tx.query_row(
                "SELECT delivery FROM send_recipients WHERE msgid = ?",
                [msgid],
                |r| r.get(0),
            )?;
            tx.commit()?;
            Ok((first, second))
        })
        .await
        .unwrap();
    assert_eq!(got, ("delivered".to_string(), "user_block".to_string()));
    let job = engine.job(a1).await.unwrap();
    assert_eq!(
        (job.counts.delivered, job.counts.user_block),
        (0, 1),
        "the later report replaces the earlier"
    );
}

/// 12,000 rows, ten minutes apart (83 days), over three jobs: wxA 6,000 (`a`), wxB 2,000, wxA
/// 4,000; every seventh row failed, the rest sent. `analyze`: with the planner's statistics (the
/// app never gathers them, but a file can have them), which changes the index SQLite picks.
async fn spread_over_days(analyze: bool) -> (SendEngine, i64) {
    let engine = SendEngine::new(
        Store::open_in_memory().unwrap(),
        FakeApi::ok(),
        fast_config(),
    );
    let a = engine
        .create_job(template_spec("wxA"), recipients(6_000))
        .await
        .unwrap();
    for (appid, n) in [("wxB", 2_000), ("wxA", 4_000)] {
        engine
            .create_job(template_spec(appid), recipients(n))
            .await
            .unwrap();
    }
    engine
        .store()
        .call(move |c| {
            c.execute(
                "UPDATE send_recipients SET created_at = 1700000000 + id * 600, \
                 state = CASE WHEN id % 7 = 0 THEN 'failed_permanent' ELSE 'sent' END",
                [],
            )?;
            if analyze {
                c.execute_batch("ANALYZE")?;
            }
            Ok(())
        })
        .await
        .unwrap();
    (engine, a)
}

/// The window holding rows `first..last` (by id: ids rise with time here).
fn window(f: HistoryFilter, first: i64, last: i64) -> HistoryFilter {
    HistoryFilter {
        from: Some(1_700_000_000 + first * 600),
        to: Some(1_700_000_000 + (last + 1) * 600),
        ..f
    }
}

/// Runs a page's statement to its end: the VM steps SQLite took and the ids it returned.
fn counted(c: &rusqlite::Connection, q: &wxdesk_core::send::history::PageQuery) -> (i32, Vec<i64>) {
    let mut s = c.prepare(&q.sql).unwrap();
    let ids = s
        .query_map(rusqlite::params_from_iter(q.args.iter()), |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<Vec<i64>>>()
        .unwrap();
    (s.get_status(rusqlite::StatementStatus::VmStep), ids)
}

#[tokio::test]
async fn the_first_page_of_a_window_seeks_it_instead_of_walking_back_to_it() {
    for analyze in [false, true] {
        first_page_of_a_window_costs_a_page(analyze).await;
    }
}

async fn first_page_of_a_window_costs_a_page(analyze: bool) {
    use wxdesk_core::send::history::page_query;
    let (engine, a) = spread_over_days(analyze).await;
    let sent_on_wx_a = HistoryFilter {
        appid: Some("wxA".into()),
        status: Some(HistoryStatus::Sent),
        ..Default::default()
    };
    let job_a = HistoryFilter {
        job_id: Some(a),
        ..Default::default()
    };
    // (filter, far window, near window, the statement's reference without any rowid trick). The
    // far windows lie under 3,000–9,000 newer rows of the same filter.
    let cases = [
        (
            sent_on_wx_a.clone(),
            window(sent_on_wx_a.clone(), 2_000, 2_999),
            window(sent_on_wx_a, 11_000, 11_999),
            "appid = 'wxA' AND state = 'sent'",
        ),
        (
            HistoryFilter::default(),
            window(HistoryFilter::default(), 2_000, 2_999),
            window(HistoryFilter::default(), 11_000, 11_999),
            "1",
        ),
        (
            job_a.clone(),
            window(job_a.clone(), 2_000, 2_999),
            window(job_a, 5_000, 5_999),
            "job_id = ?1",
        ),
    ];
    let (steps, pages) = engine
        .store()
        .call(move |c| {
            let mut steps = Vec::new();
            let mut pages = Vec::new();
            for (_, far, near, reference) in &cases {
                let (far_steps, far_ids) = counted(c, &page_query(c, far, None, Some(51))?);
                let (near_steps, _) = counted(c, &page_query(c, near, None, Some(51))?);
                let want = c
                    .prepare(&format!(
                        "SELECT id FROM send_recipients WHERE {reference} AND created_at >= ?2 \
                         AND created_at < ?3 ORDER BY id DESC LIMIT 51"
                    ))?
                    .query_map(rusqlite::params![a, far.from, far.to], |r| r.get(0))?
                    .collect::<rusqlite::Result<Vec<i64>>>()?;
                // What SQLite does with the far window's page: a search of one index (the
                // plan names it), never a scan.
                let q = page_query(c, far, None, Some(51))?;
                let plan = c
                    .prepare(&format!("EXPLAIN QUERY PLAN {}", q.sql))?
                    .query_map(rusqlite::params_from_iter(q.args.iter()), |r| {
                        r.get::<_, String>(3)
                    })?
                    .collect::<rusqlite::Result<Vec<String>>>()?
                    .join("; ");
                steps.push((far_steps, near_steps, plan));
                pages.push((far_ids, want));
            }
            Ok((steps, pages))
        })
        .await
        .unwrap();
    for (i, ((far, near, plan), (got, want))) in steps.iter().zip(&pages).enumerate() {
        let i = format!("{i}{}", if analyze { " (analyzed)" } else { "" });
        assert_eq!(got.len(), 51, "case {i}");
        assert_eq!(got, want, "case {i}: the rows of the window, newest first");
        // The page's cost does not depend on how many newer rows lie above the window (walking
        // down to it took 3,000–9,000 rows' worth of steps, 20–100 times a page).
        assert!(
            *far <= 2 * near + 100,
            "case {i}: the far window's page took {far} VM steps, the near one's {near} ({plan})"
        );
        assert!(
            plan.starts_with("SEARCH send_recipients USING") && !plan.contains("SCAN"),
            "case {i}: {plan}"
        );
    }
    assert!(steps[1].2.contains("INTEGER PRIMARY KEY"), "{}", steps[1].2);
    assert!(
        steps[2].2.contains("(job_id=? AND seq>? AND seq<?)"),
        "{}",
        steps[2].2
    );
}

#[tokio::test]
async fn keyset_pages_of_a_window_hold_exactly_its_rows_also_within_one_job() {
    let (engine, a) = spread_over_days(false).await;
    let cases = [
        window(
            HistoryFilter {
                appid: Some("wxA".into()),
                status: Some(HistoryStatus::FailedPermanent),
                ..Default::default()
            },
            1_234,
            9_876,
        ),
        window(HistoryFilter::default(), 5_990, 6_010),
        // The window cuts job a at both ends, then only at its top, then misses it.
        window(
            HistoryFilter {
                job_id: Some(a),
                ..Default::default()
            },
            1_001,
            4_321,
        ),
        window(
            HistoryFilter {
                job_id: Some(a),
                ..Default::default()
            },
            1,
            7_000,
        ),
        window(
            HistoryFilter {
                job_id: Some(a),
                ..Default::default()
            },
            6_001,
            12_000,
        ),
    ];
    for (i, f) in cases.into_iter().enumerate() {
        let (from, to, appid) = (f.from.unwrap(), f.to.unwrap(), f.appid.clone());
        let (status, job) = (f.status.map(|s| s.as_str()), f.job_id);
        let want: Vec<i64> = engine
            .store()
            .call(move |c| {
                let v = c
                    .prepare(
                        "SELECT id FROM send_recipients WHERE created_at >= ?1 AND created_at < ?2 \
                         AND (?3 IS NULL OR appid = ?3) AND (?4 IS NULL OR state = ?4) \
                         AND (?5 IS NULL OR job_id = ?5) ORDER BY id DESC",
                    )?
                    .query_map(rusqlite::params![from, to, appid, status, job], |r| {
                        r.get(0)
                    })?
                    .collect::<rusqlite::Result<_>>()?;
                Ok(v)
            })
            .await
            .unwrap();
        let mut got = Vec::new();
        let mut before = None;
        loop {
            let p = page(&engine, f.clone(), before, 97).await;
            got.extend(p.rows.iter().map(|r| r.id));
            match p.next_before {
                Some(b) => before = Some(b),
                None => break,
            }
        }
        assert_eq!(got, want, "case {i}");
        // The export streams the same statement: the same rows in the same order.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("window.csv");
        let n = history(&engine)
            .export_csv(f.clone(), path.clone())
            .await
            .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let exported: Vec<i64> = text
            .lines()
            .skip(1)
            .map(|l| l.split(',').next().unwrap().parse().unwrap())
            .collect();
        assert_eq!((n as usize, &exported), (want.len(), &want), "case {i}");
    }
}
