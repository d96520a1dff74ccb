//! A kill -9 between bursts, and one in the middle of a burst, loses nothing that was answered
//! `success`, and sequence numbers stay gapless across restarts.

mod common;

use common::*;
use futures::StreamExt;

const BURST: usize = 150;

/// Send `BURST` distinct pushes, 16 at a time (so the writer batches), each must be `success`.
async fn burst(relay: &Relay, round: usize) {
    let results: Vec<(u16, String)> = futures::stream::iter(0..BURST)
        .map(|i| async move {
            // Alternate the two URLs so both paths are covered.
            let resp = if i % 2 == 0 {
                // A fixed CreateTime, so replaying the burst later is the same push.
                post_component(
                    relay,
                    &authorized_xml(
                        &format!("wx{round:02}{i:014}"),
                        "c",
                        1_700_000_000 + i as i64,
                    ),
                )
                .await
            } else {
                let msg_id = (round * 1_000_000 + i) as i64;
                post_message(
                    relay,
                    "wx1111111111111111",
                    "gh_aaaaaaaaaaaa",
                    &text_xml("gh_aaaaaaaaaaaa", "oU", "hi", msg_id),
                )
                .await
            };
            (
                resp.status().as_u16(),
                resp.text().await.unwrap_or_default(),
            )
        })
        .buffer_unordered(16)
        .collect()
        .await;
    assert!(
        results.iter().all(|(s, b)| *s == 200 && b == "success"),
        "every push acknowledged"
    );
}

#[tokio::test]
async fn kill_9_between_bursts_loses_no_acknowledged_event() {
    let dir = tempfile::tempdir().expect("tempdir");

    let relay = Relay::spawn(dir.path(), &[]);
    burst(&relay, 1).await;
    relay.kill9();

    let relay = Relay::spawn(dir.path(), &[]);
    assert_eq!(
        all_events(&relay).await.len(),
        BURST,
        "first burst intact after kill -9"
    );
    burst(&relay, 2).await;
    relay.kill9();

    let relay = Relay::spawn(dir.path(), &[]);
    let events = all_events(&relay).await;
    let seqs: Vec<i64> = events.iter().filter_map(|e| e["seq"].as_i64()).collect();
    let want: Vec<i64> = (1..=(2 * BURST) as i64).collect();
    assert_eq!(seqs, want, "all acknowledged events present, seqs gapless");

    let authorized = events.iter().filter(|e| e["kind"] == "authorized").count();
    assert_eq!(authorized, BURST, "{} authorized pushes were sent", BURST);
    assert_eq!(events.iter().filter(|e| e["kind"] == "text").count(), BURST);

    // A replay of the first burst after the restart is still recognised as already stored.
    burst(&relay, 1).await;
    assert_eq!(all_events(&relay).await.len(), 2 * BURST);
}

/// Pushes that were answered `success` when the relay was killed in the middle of a burst.
async fn burst_until_killed(relay: &Relay, kill_after: usize) -> (Vec<i64>, usize) {
    let acknowledged = std::sync::Mutex::new(Vec::new());
    let killed = std::sync::atomic::AtomicBool::new(false);
    let attempts = 5_000;
    futures::stream::iter(0..attempts)
        .map(|i| {
            let acknowledged = &acknowledged;
            let killed = &killed;
            async move {
                if killed.load(std::sync::atomic::Ordering::SeqCst) {
                    return;
                }
                let msg_id = 9_000_000_000 + i as i64;
                let (query, body) = seal(
                    &crypt(),
                    &text_xml("gh_aaaaaaaaaaaa", "oMid", "mid-burst", msg_id),
                    wxdesk_wechat::crypto::Envelope::ToUserName("gh_aaaaaaaaaaaa".into()),
                    now(),
                );
                let resp = client()
                    .post(relay.url(&format!(
                        "/wechat/wx1111111111111111/callback?{query}&openid=o1"
                    )))
                    .body(body)
                    .send()
                    .await;
                let ok = match resp {
                    Ok(r) => r.status() == 200 && r.text().await.is_ok_and(|t| t == "success"),
                    Err(_) => false,
                };
                if ok {
                    let mut acked = acknowledged.lock().expect("lock");
                    acked.push(msg_id);
                    if acked.len() == kill_after
                        && !killed.swap(true, std::sync::atomic::Ordering::SeqCst)
                    {
                        relay.kill9_now();
                    }
                }
            }
        })
        .buffer_unordered(32)
        .collect::<Vec<()>>()
        .await;
    let acked = acknowledged.into_inner().expect("lock");
    (acked, attempts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_in_the_middle_of_a_burst_loses_no_acknowledged_event() {
    let dir = tempfile::tempdir().expect("tempdir");
    let relay = Relay::spawn(dir.path(), &[]);
    let (acked, attempts) = burst_until_killed(&relay, 400).await;
    drop(relay);
    assert!(acked.len() >= 400, "the kill came mid-burst");
    assert!(
        acked.len() < attempts,
        "the burst was cut short by the kill"
    );

    let relay = Relay::spawn(dir.path(), &[]);
    let mut stored: Vec<i64> = Vec::new();
    let mut seqs: Vec<i64> = Vec::new();
    let mut after = 0;
    loop {
        let (status, body) =
            api_get(&relay, &format!("/api/v1/events?after={after}&limit=1000")).await;
        assert_eq!(status, 200, "{body}");
        let events = body["events"].as_array().cloned().unwrap_or_default();
        if events.is_empty() {
            break;
        }
        for e in &events {
            stored.push(e["data"]["msg_id"].as_i64().expect("msg_id"));
            seqs.push(e["seq"].as_i64().expect("seq"));
        }
        after = body["last_seq"].as_i64().expect("last_seq");
    }
    let want: Vec<i64> = (1..=seqs.len() as i64).collect();
    assert_eq!(seqs, want, "seqs gapless after the kill");
    let unique: std::collections::BTreeSet<i64> = stored.iter().copied().collect();
    assert_eq!(unique.len(), stored.len(), "no event stored twice");
    let lost: Vec<&i64> = acked.iter().filter(|m| !unique.contains(m)).collect();
    assert!(
        lost.is_empty(),
        "{} pushes answered success were lost by the kill -9: {lost:?}",
        lost.len()
    );
}
