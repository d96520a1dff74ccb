//! A kill -9 between bursts loses nothing that was answered `success`, and sequence numbers stay
//! gapless across restarts.

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
