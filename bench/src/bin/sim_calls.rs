//! What one batchget round trip to the in-process sim costs, without the store: the part of the
//! follower sync's time above its latency floor that belongs to the calls themselves (the sim's
//! answer, HTTP on loopback, the client's parse, the timer).
//!
//! `cargo run --release -p wxdesk-bench --bin sim_calls -- [calls] [latency_ms] [in_flight]`
//! (defaults 2000 50 16). Prints the wall time per round of `in_flight` calls and the per-call
//! latency percentiles, and one RESULT line.

use std::time::Instant;

use futures::StreamExt;
use wxdesk_core::secrets::Secret;
use wxdesk_wechat::api::{Client, ClientConfig};

#[tokio::main]
async fn main() -> Result<(), wxdesk_bench::BoxError> {
    let (calls, latency_ms, in_flight) = (
        wxdesk_bench::arg(1, 2000u64),
        wxdesk_bench::arg(2, 50u64),
        wxdesk_bench::arg(3, 16u64).max(1),
    );
    let mut quotas = std::collections::BTreeMap::new();
    quotas.insert("/cgi-bin/user/get".to_string(), 1_000_000);
    quotas.insert("/cgi-bin/user/info/batchget".to_string(), 10_000_000);
    let cfg = wxdesk_sim::SimConfig {
        followers: u32::try_from(calls * 100)?,
        latency_ms,
        quotas,
        ..wxdesk_sim::SimConfig::default()
    };
    let sim = wxdesk_sim::start(cfg).await?;
    let account = wxdesk_bench::SimAccount::find(&sim.base_url).await?;
    let client = Client::new(ClientConfig::with_base_url(&sim.base_url))?;
    let token = Secret::new(account.token.clone());
    let openids = client.user_get_all(&token).await?;
    let chunks: Vec<Vec<String>> = openids.chunks(100).map(<[String]>::to_vec).collect();

    let start = Instant::now();
    let (client, token) = (&client, &token);
    let results: Vec<Result<f64, wxdesk_wechat::Error>> = futures::stream::iter(chunks)
        .map(|chunk| async move {
            let t = Instant::now();
            client.user_info_batchget(token, &chunk, "zh_CN").await?;
            Ok(t.elapsed().as_secs_f64() * 1000.0)
        })
        .buffer_unordered(usize::try_from(in_flight)?)
        .collect()
        .await;
    let wall = start.elapsed().as_secs_f64();
    let mut ms = results.into_iter().collect::<Result<Vec<f64>, _>>()?;
    ms.sort_by(f64::total_cmp);
    let pct = |p: usize| ms.get(ms.len() * p / 100).copied().unwrap_or(f64::NAN);
    let round_ms = wall * 1000.0 / (ms.len() as f64 / in_flight as f64);
    println!(
        "{} calls, {in_flight} in flight, sim latency {latency_ms} ms: {wall:.2} s, {round_ms:.1} ms a round; \
         per call p50 {:.1} p90 {:.1} p99 {:.1} ms",
        ms.len(),
        pct(50),
        pct(90),
        pct(99)
    );
    wxdesk_bench::emit(&serde_json::json!({
        "bench": "sim_calls", "calls": ms.len(), "latency_ms": latency_ms, "in_flight": in_flight,
        "wall_s": wall, "round_ms": round_ms, "p50_ms": pct(50), "p90_ms": pct(90), "p99_ms": pct(99),
    }));
    sim.shutdown().await;
    Ok(())
}
