//! The follower sync asks batchget for each listed page while the next pages are listed: a
//! batchget failure (the daily quota, 45009) therefore stops the sync in the listing phase, with
//! the listing held at most a couple of pages ahead of the calls. The resume ends with exactly
//! the sim's followers, each stored once with its details and tags.

#![allow(clippy::unwrap_used)]

use crate::audience_support;

use audience_support::{
    Sim, assert_tags_match_wechat, audience, follower_counts, stored_openids, sync,
    wechat_followers,
};
use tokio_util::sync::CancellationToken;
use wxdesk_core::audience::{SyncOptions, SyncOutcome, SyncPhase, sync_followers};
use wxdesk_sim::SimConfig;

/// Six user/get pages.
const FOLLOWERS: u32 = 60_000;
/// batchget calls the sim answers before its daily quota runs out.
const BATCHGET_QUOTA: u64 = 30;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batchget_runs_during_the_listing_and_a_failure_there_resumes_to_exactly_the_sims_followers()
 {
    let sim = Sim::start_with(SimConfig {
        followers: FOLLOWERS,
        quotas: [("/cgi-bin/user/info/batchget".to_string(), BATCHGET_QUOTA)].into(),
        ..SimConfig::default()
    })
    .await;
    let api = sim.api().await;
    let store = audience_support::store();
    let appid = sim.appid(0);
    let expected = wechat_followers(&api, &appid).await;
    assert_eq!(expected.len(), FOLLOWERS as usize);

    let cancel = CancellationToken::new();
    let err = sync_followers(
        &api,
        &store,
        &appid,
        SyncOptions::default(),
        &|_| {},
        &cancel,
    )
    .await
    .unwrap_err();
    assert_eq!(err.wechat_errcode(), Some(45009), "{err}");
    let st = audience(&store).sync_state(&appid).await.unwrap().unwrap();
    // Had batchget waited for the whole listing, the listing would be complete (phase details,
    // 60,000 listed). Overlapped, the calls fail on the first page while the listing is held
    // back: page 1 with the calls, two pages waiting (LISTED_PAGES_AHEAD), a fourth committed and
    // waiting to be handed on.
    assert_eq!(st.phase, SyncPhase::Listing);
    assert!(
        st.listed >= 10_000 && st.listed <= 40_000,
        "listed {}",
        st.listed
    );
    // What was listed is in the table; what batchget answered before the quota ran out is
    // stored with its details (answers in flight at the failure are dropped and asked again).
    let counts = follower_counts(&store, &appid).await;
    assert_eq!(counts.total, st.listed as u64);
    let with_details = counts.total - counts.without_details;
    assert!(
        with_details <= BATCHGET_QUOTA * 100,
        "{with_details} with details"
    );

    // With the quota lifted (the same seed: the same world without the limit) the resume
    // continues the listing at its cursor and ends with every follower once, with details and
    // tags, nothing left staged.
    sim.shutdown().await;
    let sim = Sim::start(FOLLOWERS).await;
    assert_eq!(sim.appid(0), appid, "same seed, same world");
    let api = sim.api().await;
    let r = sync(&api, &store, &appid).await;
    assert_eq!(r.outcome, SyncOutcome::Completed);
    assert!(r.resumed);
    assert_eq!(
        (r.run_id, r.total, r.added, r.resubscribed, r.unsubscribed),
        (1, 60_000, 60_000, 0, 0)
    );
    assert_eq!(r.details_fetched, 60_000 - with_details);
    assert_eq!(stored_openids(&store, &appid, Some(true)).await, expected);
    let counts = follower_counts(&store, &appid).await;
    assert_eq!(
        (counts.total, counts.subscribed, counts.without_details),
        (60_000, 60_000, 0)
    );
    assert_tags_match_wechat(&store, &appid).await;
    let id = appid.clone();
    let staged: i64 = store
        .call(move |c| {
            Ok(c.query_row(
                "SELECT (SELECT count(*) FROM follower_sync_listed WHERE appid = ?1) + \
                 (SELECT count(*) FROM follower_sync_fetched WHERE appid = ?1)",
                [&id],
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap();
    assert_eq!(staged, 0);
    sim.shutdown().await;
}
