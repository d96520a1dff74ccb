//! History at scale: N send records (default 1,000,000) over four accounts and 90 days, written
//! through the engine's own `create_job`, outcomes set as a run leaves them; then the queries the
//! 发送记录 page makes: a filtered page (account + status + date range, newest first), an openid
//! search, and the CSV export of every row.
//!
//! `history <records>`. Baseline in the same run: the same filtered page with no filter at all
//! (the cheapest query the table has).

use std::time::Instant;

use serde_json::json;
use wxdesk_bench::{BoxError, arg, emit, peak_rss_kib};
use wxdesk_core::send::history::{self, HistoryFilter, HistoryStatus};
use wxdesk_core::send::{
    ApiRequest, BoxFuture, EngineConfig, JobSpec, Payload, Recipient, SendApi, SendEngine,
    SendFailure, SendOk,
};
use wxdesk_core::store::Store;

struct Never;

impl SendApi for Never {
    fn send<'a>(
        &'a self,
        _: &'a str,
        _: &'a ApiRequest,
    ) -> BoxFuture<'a, Result<SendOk, SendFailure>> {
        Box::pin(async {
            Err(SendFailure::Token {
                detail: "not used".into(),
            })
        })
    }
    fn refresh_token<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<(), SendFailure>> {
        Box::pin(async { Ok(()) })
    }
}

const DAY: i64 = 86_400;

/// Median of `runs` timings of `f` in ms (the first run warms the page cache and is dropped).
fn median_ms(
    runs: usize,
    mut f: impl FnMut() -> wxdesk_core::Result<usize>,
) -> wxdesk_core::Result<(f64, usize)> {
    let mut rows = f()?;
    let mut t: Vec<f64> = (0..runs)
        .map(|_| {
            let s = Instant::now();
            let r = f();
            (s.elapsed().as_secs_f64() * 1000.0, r)
        })
        .map(|(ms, r)| {
            if let Ok(n) = r {
                rows = n;
            }
            ms
        })
        .collect();
    t.sort_by(f64::total_cmp);
    Ok((t[t.len() / 2], rows))
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let n: usize = arg(1, 1_000_000);
    let dir = tempfile::tempdir()?;
    let store = Store::open_in_dir(dir.path()).await?;
    let engine = SendEngine::new(
        store.clone(),
        std::sync::Arc::new(Never),
        EngineConfig::default(),
    );
    let spec = |appid: &str| JobSpec {
        appid: appid.into(),
        title: "scale".into(),
        payload: Payload::Template {
            template_id: "TPL".into(),
            data: [("thing1".to_string(), "订单{{no}}".to_string())].into(),
            url: None,
            miniprogram: None,
        },
        field_rules: Vec::new(),
        concurrency: None,
        rate_per_sec: None,
        max_attempts: None,
    };
    let t = Instant::now();
    for (k, appid) in ["wxA", "wxB", "wxC", "wxD"].iter().enumerate() {
        let rows = (0..n / 4).map(move |i| Recipient {
            openid: format!("o{k}{i:09}"),
            vars: [("no".to_string(), i.to_string())].into(),
        });
        engine.create_job(spec(appid), rows).await?;
    }
    let now = store
        .call(|c| {
            Ok(
                c.query_row("SELECT MAX(created_at) FROM send_recipients", [], |r| {
                    r.get::<_, i64>(0)
                })?,
            )
        })
        .await?;
    let n_i = n as i64;
    store
        .call(move |c| {
            // 90 days of history in id order (ids grow with time, as in a real workspace); 2 %
            // failed, the rest sent with msgids and delivered.
            c.execute(
                "UPDATE send_recipients SET created_at = ?1 - (?2 - id) * ?3 / ?2, \
                 state = CASE WHEN id % 50 = 0 THEN 'failed_permanent' ELSE 'sent' END, \
                 msgid = CASE WHEN id % 50 = 0 THEN NULL ELSE 1000000 + id END, \
                 errcode = CASE WHEN id % 50 = 0 THEN 43004 ELSE 0 END, \
                 delivery = CASE WHEN id % 50 = 0 THEN NULL ELSE 'delivered' END",
                rusqlite::params![now, n_i, 90 * DAY],
            )?;
            c.execute(
                "UPDATE send_recipients SET done_at = created_at, attempted_at = created_at",
                [],
            )?;
            c.execute_batch("ANALYZE;")?;
            Ok(())
        })
        .await?;
    let db_mb = std::fs::read_dir(dir.path())?
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum::<u64>() as f64
        / 1e6;
    println!(
        "{n} records written in {:.1} s ({db_mb:.0} MB on disk)",
        t.elapsed().as_secs_f64()
    );

    let filtered = HistoryFilter {
        appid: Some("wxB".into()),
        status: Some(HistoryStatus::Sent),
        // wxB's rows span days 67.5 to 45 before now (accounts were written one after another).
        from: Some(now - 60 * DAY),
        to: Some(now - 50 * DAY),
        ..Default::default()
    };
    let search = HistoryFilter {
        openid: Some(format!("o2{:09}", n / 8)),
        ..Default::default()
    };
    let (filtered_ms, filtered_rows, deep_ms, search_ms, search_rows, base_ms) = store
        .call(move |c| {
            let base = median_ms(9, || {
                Ok(history::list(c, &HistoryFilter::default(), None, 50)?
                    .rows
                    .len())
            })?;
            let f = median_ms(9, || Ok(history::list(c, &filtered, None, 50)?.rows.len()))?;
            // Page 20 of the same filter: keyset paging, no OFFSET.
            let mut before = None;
            for _ in 0..19 {
                before = history::list(c, &filtered, before, 50)?.next_before;
            }
            let deep = median_ms(9, || {
                Ok(history::list(c, &filtered, before, 50)?.rows.len())
            })?;
            let s = median_ms(9, || Ok(history::list(c, &search, None, 50)?.rows.len()))?;
            Ok((f.0, f.1, deep.0, s.0, s.1, base.0))
        })
        .await?;
    println!("unfiltered first page (baseline) {base_ms:.2} ms");
    println!(
        "account + status + 10-day range, newest first: first page {filtered_ms:.2} ms ({filtered_rows} rows), page 20 {deep_ms:.2} ms"
    );
    println!("openid search {search_ms:.2} ms ({search_rows} rows)");

    let csv = dir.path().join("all.csv");
    let csv2 = csv.clone();
    let t = Instant::now();
    let exported = store
        .call(move |c| history::export_csv(c, &HistoryFilter::default(), &csv2))
        .await?;
    let export_s = t.elapsed().as_secs_f64();
    let size = std::fs::metadata(&csv)?.len() as f64 / 1e6;
    println!("CSV export of all {exported} rows: {export_s:.1} s ({size:.0} MB)");
    emit(&json!({
        "bench": "history", "records": n, "unfiltered_page_ms": base_ms,
        "filtered_page_ms": filtered_ms, "filtered_page20_ms": deep_ms, "filtered_rows": filtered_rows,
        "openid_search_ms": search_ms, "search_rows": search_rows,
        "csv_export_s": export_s, "csv_rows": exported, "csv_mb": size, "peak_rss_kib": peak_rss_kib(),
    }));
    Ok(())
}
