//! Bulk template send against the in-process wxdesk-sim.
//!
//! `send throughput <recipients> <latency_ms> <concurrency> <sequential_sample>`: the engine
//! drains a job (every outcome committed to SQLite before it counts), then the seeds' approach
//! — one request after another through the same `HttpSendApi` client, no durability — is timed on
//! `sequential_sample` other recipients, in the same run against the same sim.
//!
//! `send rss <recipients> <sim|fake>`: one job of that size in a fresh process; prints the peak
//! RSS (VmHWM). `fake` answers every send at once without HTTP (for the 1,000,000-row job, so
//! the run takes minutes, not the sim's hours-long daily quota).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Instant;

use serde_json::{Value, json};
use wxdesk_bench::{BoxError, SimAccount, arg, emit, peak_rss_kib};
use wxdesk_core::send::http::{Endpoint, HttpSendApi};
use wxdesk_core::send::render::build_request;
use wxdesk_core::send::{
    ApiRequest, BoxFuture, EngineConfig, JobSpec, JobStatus, Recipient, SendApi, SendEngine,
    SendFailure, SendOk,
};
use wxdesk_core::store::Store;

/// Answers at once with a fresh msgid: the engine and its SQLite without HTTP.
struct NoNetwork(AtomicI64);

impl SendApi for NoNetwork {
    fn send<'a>(
        &'a self,
        _: &'a str,
        _: &'a ApiRequest,
    ) -> BoxFuture<'a, Result<SendOk, SendFailure>> {
        let msgid = self.0.fetch_add(1, Ordering::Relaxed);
        Box::pin(async move {
            Ok(SendOk {
                msgid: Some(msgid),
                response: Value::Null,
            })
        })
    }
    fn refresh_token<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<(), SendFailure>> {
        Box::pin(async { Ok(()) })
    }
}

fn sim_config(followers: usize, latency_ms: u64) -> wxdesk_sim::SimConfig {
    let mut quotas = std::collections::BTreeMap::new();
    quotas.insert("/cgi-bin/message/template/send".to_string(), 10_000_000);
    quotas.insert("/cgi-bin/user/get".to_string(), 1_000_000);
    wxdesk_sim::SimConfig {
        listen: "127.0.0.1:0".into(),
        relay_url: "http://127.0.0.1:9".into(),
        push_retries: 0,
        followers: u32::try_from(followers + 10).unwrap_or(u32::MAX),
        latency_ms,
        quotas,
        ..wxdesk_sim::SimConfig::default()
    }
}

fn engine(store: Store, api: Arc<dyn SendApi>) -> SendEngine {
    SendEngine::new(
        store,
        api,
        EngineConfig {
            account_rate_per_sec: 1_000_000,
            ..EngineConfig::default()
        },
    )
}

fn spec(acct: &SimAccount, concurrency: u32) -> JobSpec {
    JobSpec {
        appid: acct.appid.clone(),
        title: "bench".into(),
        payload: acct.payload.clone(),
        field_rules: Vec::new(),
        concurrency: Some(concurrency),
        rate_per_sec: Some(1_000_000),
        max_attempts: None,
    }
}

/// Runs a job to the end; (msgs/s from start to idle, sent count, status).
async fn drain(
    engine: &SendEngine,
    spec: JobSpec,
    openids: Vec<String>,
) -> Result<(f64, u64, JobStatus, f64), BoxError> {
    let t0 = Instant::now();
    let job = engine
        .create_job(spec, openids.into_iter().map(Recipient::new))
        .await?;
    let created = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    engine.start(job).await?;
    let done = engine.wait_idle(job).await?;
    let secs = t1.elapsed().as_secs_f64();
    Ok((
        done.counts.sent as f64 / secs,
        done.counts.sent,
        done.status,
        created,
    ))
}

async fn throughput() -> Result<(), BoxError> {
    let n: usize = arg(2, 10_000);
    let latency: u64 = arg(3, 100);
    let concurrency: u32 = arg(4, 50);
    let seq_n: usize = arg(5, 200);
    let sim = wxdesk_sim::start(sim_config(n + seq_n, latency)).await?;
    let acct = SimAccount::find(&sim.base_url).await?;
    let mut openids = acct.followers(n + seq_n).await?;
    let seq_ids = openids.split_off(n);
    let api = Arc::new(HttpSendApi::new(
        Endpoint {
            base_url: sim.base_url.clone(),
            bearer: None,
        },
        acct.token_source(),
    )?);
    let dir = tempfile::tempdir()?;
    let store = Store::open_in_dir(dir.path()).await?;
    let eng = engine(store, api.clone());
    let (rate, sent, status, created) = drain(&eng, spec(&acct, concurrency), openids).await?;
    let accepted = sim.state()["sends"]["accepted"].as_u64().unwrap_or(0);
    println!(
        "engine: {n} recipients, {latency} ms latency, concurrency {concurrency}: {sent} sent ({status:?}) at {rate:.0} msgs/s (job written in {created:.2} s); sim accepted {accepted}"
    );

    // The seeds' approach: the same client, one request after another.
    let t = Instant::now();
    let mut ok = 0u64;
    for (i, openid) in seq_ids.iter().enumerate() {
        let req = build_request(
            &acct.payload,
            &[],
            openid,
            &Default::default(),
            &format!("seq-{i}"),
        )
        .map_err(|p| format!("render: {p:?}"))?;
        if api.send(&acct.appid, &req).await.is_ok() {
            ok += 1;
        }
    }
    let seq_rate = ok as f64 / t.elapsed().as_secs_f64();
    let bound = if latency == 0 {
        f64::NAN
    } else {
        f64::from(concurrency) * 1000.0 / latency as f64
    };
    println!(
        "sequential loop (same client, {seq_n} recipients): {seq_rate:.1} msgs/s; engine/sequential = {:.1}x; engine/bound = {:.0} %",
        rate / seq_rate,
        rate / bound * 100.0
    );
    emit(&json!({
        "bench": "send_throughput", "recipients": n, "latency_ms": latency,
        "concurrency": concurrency, "msgs_per_s": rate, "sent": sent, "sim_accepted": accepted,
        "sequential_msgs_per_s": seq_rate, "ratio": rate / seq_rate,
        "fraction_of_bound": if latency == 0 { Value::Null } else { json!(rate / bound) },
        "peak_rss_kib": peak_rss_kib(),
    }));
    sim.shutdown().await;
    Ok(())
}

async fn rss() -> Result<(), BoxError> {
    let n: usize = arg(2, 10_000);
    let fake = std::env::args().nth(3).is_some_and(|m| m == "fake");
    let dir = tempfile::tempdir()?;
    let store = Store::open_in_dir(dir.path()).await?;
    let before = peak_rss_kib();
    let (rate, sent, status) = if fake {
        let eng = engine(store, Arc::new(NoNetwork(AtomicI64::new(1))));
        let spec = JobSpec {
            appid: "wxbench0000000001".into(),
            title: "bench".into(),
            payload: wxdesk_core::send::Payload::Template {
                template_id: "TPL".into(),
                data: [("thing1".to_string(), "订单".to_string())].into(),
                url: None,
                miniprogram: None,
            },
            field_rules: Vec::new(),
            concurrency: Some(50),
            rate_per_sec: Some(1_000_000),
            max_attempts: None,
        };
        // Generated lazily: the caller's list is not what is measured.
        let t0 = Instant::now();
        let job = eng
            .create_job(spec, (0..n).map(|i| Recipient::new(format!("o{i:027}"))))
            .await?;
        let t1 = Instant::now();
        eng.start(job).await?;
        let done = eng.wait_idle(job).await?;
        println!(
            "created in {:.1} s, drained in {:.1} s",
            t1.duration_since(t0).as_secs_f64(),
            t1.elapsed().as_secs_f64()
        );
        (
            done.counts.sent as f64 / t1.elapsed().as_secs_f64(),
            done.counts.sent,
            done.status,
        )
    } else {
        let sim = wxdesk_sim::start(sim_config(n, 0)).await?;
        let acct = SimAccount::find(&sim.base_url).await?;
        let openids = acct.followers(n).await?;
        let api = Arc::new(HttpSendApi::new(
            Endpoint {
                base_url: sim.base_url.clone(),
                bearer: None,
            },
            acct.token_source(),
        )?);
        let eng = engine(store, api);
        let (rate, sent, status, _) = drain(&eng, spec(&acct, 50), openids).await?;
        sim.shutdown().await;
        (rate, sent, status)
    };
    let peak = peak_rss_kib();
    println!(
        "job of {n} ({}): {sent} sent ({status:?}) at {rate:.0} msgs/s; peak RSS {:.1} MiB (before the job {:.1} MiB)",
        if fake { "no network" } else { "sim, 0 ms" },
        peak as f64 / 1024.0,
        before as f64 / 1024.0
    );
    emit(&json!({
        "bench": "send_rss", "recipients": n, "api": if fake { "fake" } else { "sim" },
        "sent": sent, "msgs_per_s": rate, "peak_rss_kib": peak,
    }));
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    match std::env::args().nth(1).as_deref() {
        Some("throughput") => throughput().await,
        Some("rss") => rss().await,
        _ => Err(
            "usage: send throughput N LATENCY_MS CONCURRENCY SEQ_N | send rss N sim|fake".into(),
        ),
    }
}
