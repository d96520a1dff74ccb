//! History at scale: writes a job of N recipients (default 1,000,000) through `create_job`
//! (streamed in chunks: memory stays flat), marks them sent with msgids, then times the history
//! queries the 发送记录 page makes. Not a test: run it in release and read the figures.
//!
//! `cargo run -p wxdesk-core --example history_scale --release -- [recipients]`

use std::time::Instant;

use wxdesk_core::history::{self, HistoryFilter};
use wxdesk_core::send::{EngineConfig, JobSpec, Payload, Recipient, RecipientState, SendEngine};
use wxdesk_core::store::Store;

struct Never;

impl wxdesk_core::send::SendApi for Never {
    fn send<'a>(
        &'a self,
        _: &'a str,
        _: &'a wxdesk_core::send::ApiRequest,
    ) -> wxdesk_core::send::BoxFuture<
        'a,
        Result<wxdesk_core::send::SendOk, wxdesk_core::send::SendFailure>,
    > {
        Box::pin(async {
            Err(wxdesk_core::send::SendFailure::Token {
                detail: "not used".into(),
            })
        })
    }
    fn refresh_token<'a>(
        &'a self,
        _: &'a str,
    ) -> wxdesk_core::send::BoxFuture<'a, Result<(), wxdesk_core::send::SendFailure>> {
        Box::pin(async { Ok(()) })
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
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
    let mut jobs = Vec::new();
    for (k, appid) in ["wxA", "wxB", "wxC", "wxD"].iter().enumerate() {
        let rows = (0..n / 4).map(move |i| Recipient {
            openid: format!("o{k}{i:09}"),
            vars: [("no".to_string(), i.to_string())].into(),
        });
        jobs.push(engine.create_job(spec(appid), rows).await?);
    }
    println!(
        "create_job x4: {n} rows in {:.1}s",
        t.elapsed().as_secs_f64()
    );
    store
        .call(|c| {
            // Outcomes as a run would leave them: most sent with msgids, some failed.
            c.execute_batch(
                "UPDATE send_recipients SET state = CASE WHEN id % 50 = 0 THEN 'failed_permanent' ELSE 'sent' END, \
                 msgid = CASE WHEN id % 50 = 0 THEN NULL ELSE 1000000 + id END, \
                 errcode = CASE WHEN id % 50 = 0 THEN 43004 ELSE 0 END, \
                 delivery = CASE WHEN id % 50 = 0 THEN NULL ELSE 'delivered' END, done_at = created_at;",
            )?;
            Ok(())
        })
        .await?;
    let cases: Vec<(&str, HistoryFilter)> = vec![
        ("no filter", HistoryFilter::default()),
        (
            "account",
            HistoryFilter {
                appid: Some("wxC".into()),
                ..Default::default()
            },
        ),
        (
            "account + failed",
            HistoryFilter {
                appid: Some("wxB".into()),
                state: Some(RecipientState::FailedPermanent),
                ..Default::default()
            },
        ),
        (
            "job",
            HistoryFilter {
                job_id: Some(jobs[1]),
                ..Default::default()
            },
        ),
        (
            "openid",
            HistoryFilter {
                openid: Some(format!("o2{:09}", n / 8)),
                ..Default::default()
            },
        ),
        (
            "template + delivery",
            HistoryFilter {
                template_id: Some("TPL".into()),
                delivery: Some(wxdesk_core::send::Delivery::Delivered),
                ..Default::default()
            },
        ),
    ];
    for (name, f) in cases {
        let f2 = f.clone();
        let (first, page_ms) = store
            .call(move |c| {
                let t = Instant::now();
                let p = history::list(c, &f2, None, 50)?;
                Ok((p, t.elapsed().as_secs_f64() * 1000.0))
            })
            .await?;
        let before = first.next_before;
        let deep_ms = store
            .call(move |c| {
                // Ten pages further: keyset costs the same as the first page.
                let mut b = before;
                let t = Instant::now();
                for _ in 0..10 {
                    b = history::list(c, &f, b, 50)?.next_before;
                }
                Ok(t.elapsed().as_secs_f64() * 100.0)
            })
            .await?;
        println!(
            "{name:<20} first page {page_ms:6.2} ms, later pages {deep_ms:6.2} ms/page, rows {}",
            first.rows.len()
        );
    }
    let t = Instant::now();
    let today = store.call(|c| history::today_totals(c, None)).await?;
    println!(
        "today_totals {:.2} ms: {today:?}",
        t.elapsed().as_secs_f64() * 1000.0
    );
    Ok(())
}
