//! Follower sync against the real wxdesk-sim: several user/get pages, a cancel in each phase and
//! the resume that ends with exactly the sim's followers, then incremental runs after followers
//! leave and come back, and the feed's unsubscribe events.

#![allow(clippy::unwrap_used)]

use crate::audience_support;

use std::collections::BTreeSet;
use std::sync::Mutex;

use audience_support::{
    Sim, assert_tags_match_wechat, audience, follower_counts, store, stored_follower,
    stored_openids, sync, sync_with, wechat_followers,
};
use tokio_util::sync::CancellationToken;
use wxdesk_core::audience::{
    FollowEvents, FollowerFilter, SyncOptions, SyncOutcome, SyncPhase, SyncProgress, sync_followers,
};
use wxdesk_core::feed::{EventHandler, EventKind, FeedEvent};

const FOLLOWERS: u32 = 25_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_cancelled_in_each_phase_resumes_to_exactly_the_sims_followers() {
    let sim = Sim::start(FOLLOWERS).await;
    let api = sim.api().await;
    let store = store();
    let appid = sim.appid(0);
    let expected = wechat_followers(&api, &appid).await;
    assert_eq!(expected.len(), FOLLOWERS as usize);

    // 1. Cancel as soon as the first page (10,000) is stored.
    let cancel = CancellationToken::new();
    let seen: Mutex<Vec<SyncProgress>> = Mutex::new(Vec::new());
    let on_progress = |p: SyncProgress| {
        if p.phase == SyncPhase::Listing && p.fetched >= 10_000 {
            cancel.cancel();
        }
        seen.lock().unwrap().push(p);
    };
    let r = sync_followers(
        &api,
        &store,
        &appid,
        SyncOptions::default(),
        &on_progress,
        &cancel,
    )
    .await
    .unwrap();
    assert_eq!(r.outcome, SyncOutcome::Cancelled);
    assert!(!r.resumed);
    let st = audience(&store).sync_state(&appid).await.unwrap().unwrap();
    assert_eq!(
        (st.phase, st.listed, st.total),
        (SyncPhase::Listing, 10_000, 25_000)
    );
    assert!(
        !st.next_openid.is_empty(),
        "the cursor is kept for the resume"
    );
    assert_eq!(stored_openids(&store, &appid, None).await.len(), 10_000);

    // 2. Resume: listing continues at 10,000 (not 0); cancel once 5,000 details are stored.
    let cancel = CancellationToken::new();
    let first_listing: Mutex<Option<u64>> = Mutex::new(None);
    let on_progress = |p: SyncProgress| {
        if p.phase == SyncPhase::Listing {
            first_listing.lock().unwrap().get_or_insert(p.fetched);
        }
        if p.phase == SyncPhase::Details && p.fetched >= 5_000 {
            cancel.cancel();
        }
    };
    let r = sync_followers(
        &api,
        &store,
        &appid,
        SyncOptions::default(),
        &on_progress,
        &cancel,
    )
    .await
    .unwrap();
    assert_eq!(r.outcome, SyncOutcome::Cancelled);
    assert!(r.resumed);
    assert_eq!(
        *first_listing.lock().unwrap(),
        Some(10_000),
        "listing resumed at its cursor"
    );
    let st = audience(&store).sync_state(&appid).await.unwrap().unwrap();
    assert_eq!(st.phase, SyncPhase::Details);
    let counts = follower_counts(&store, &appid).await;
    assert_eq!(counts.total, 25_000);
    assert!(
        counts.without_details > 0 && counts.without_details <= 20_000,
        "{counts:?}"
    );
    let fetched_before = 25_000 - counts.without_details;

    // 3. Resume to the end: only the missing details are fetched.
    let r = sync(&api, &store, &appid).await;
    assert_eq!(r.outcome, SyncOutcome::Completed);
    assert!(r.resumed);
    assert_eq!(r.details_fetched, 25_000 - fetched_before);
    assert_eq!((r.total, r.added, r.unsubscribed), (25_000, 25_000, 0));
    assert_eq!(stored_openids(&store, &appid, Some(true)).await, expected);
    let counts = follower_counts(&store, &appid).await;
    assert_eq!(
        (counts.total, counts.subscribed, counts.without_details),
        (25_000, 25_000, 0)
    );
    assert_eq!(
        counts.with_unionid, 25_000,
        "account 0 shares its principal with a mini program"
    );

    // Details match the sim's for a sample of followers.
    for index in [0u32, 7, 12_345, 24_999] {
        let (openid, unionid) = sim.user(&appid, index).await;
        let f = stored_follower(&store, &appid, &openid).await;
        assert_eq!(f.unionid, unionid, "follower {index}");
        assert!(f.subscribe && f.has_details && f.subscribe_time.is_some());
    }
    // Tags: every tag's members as WeChat counts them.
    assert_tags_match_wechat(&store, &appid).await;
    // Filter by tag 2 (星标组: index % 50 == 7) through the tag index.
    let starred = FollowerFilter {
        tag_id: Some(2),
        ..Default::default()
    };
    let starred = audience(&store).count(&appid, starred).await.unwrap();
    assert_eq!(starred.count, 500);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn next_run_marks_leavers_unsubscribed_and_returning_followers_resubscribed() {
    let store = store();
    let sim = Sim::start(1_200).await;
    let appid = sim.appid(0);
    let api = sim.api().await;
    let r = sync(&api, &store, &appid).await;
    assert_eq!(
        (r.outcome, r.added, r.run_id),
        (SyncOutcome::Completed, 1_200, 1)
    );
    sim.shutdown().await;

    // The same world with the last 10 followers gone.
    let sim = Sim::start(1_190).await;
    assert_eq!(sim.appid(0), appid, "same seed, same world");
    let api = sim.api().await;
    let r = sync(&api, &store, &appid).await;
    assert_eq!(
        (r.run_id, r.added, r.unsubscribed, r.details_fetched),
        (2, 0, 10, 0)
    );
    let gone = stored_openids(&store, &appid, Some(false)).await;
    let mut expected = BTreeSet::new();
    for i in 1_190..1_200 {
        expected.insert(sim.user(&appid, i).await.0);
    }
    assert_eq!(gone, expected);
    sim.shutdown().await;

    // They come back, with 5 new followers: 10 resubscribed, 5 added, details for those 15.
    let sim = Sim::start(1_205).await;
    let api = sim.api().await;
    let r = sync(&api, &store, &appid).await;
    assert_eq!(
        (
            r.run_id,
            r.added,
            r.resubscribed,
            r.unsubscribed,
            r.details_fetched
        ),
        (3, 5, 10, 0, 15)
    );
    assert!(stored_openids(&store, &appid, Some(false)).await.is_empty());
    sim.shutdown().await;
}

fn event(appid: &str, kind: EventKind) -> FeedEvent {
    FeedEvent {
        seq: 1,
        appid: Some(appid.to_string()),
        received_at: 0,
        kind,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feed_events_mark_follows_and_unfollows_and_the_next_sync_corrects_them_from_wechat() {
    let store = store();
    let sim = Sim::start(300).await;
    let appid = sim.appid(0);
    let api = sim.api().await;
    sync(&api, &store, &appid).await;
    let (leaver, _) = sim.user(&appid, 3).await;
    let now = 4_000_000_000; // after any generated subscribe_time

    let (id, o) = (appid.clone(), leaver.clone());
    store
        .call(move |c| {
            let tx = c.transaction()?;
            let unsub = EventKind::Unsubscribe {
                openid: o.clone(),
                create_time: now,
            };
            FollowEvents.apply(&tx, &event(&id, unsub))?;
            let sub = EventKind::Subscribe {
                openid: "oNEWfollower0000000000000000".into(),
                create_time: now,
                event_key: None,
            };
            FollowEvents.apply(&tx, &event(&id, sub))?;
            tx.commit()?;
            Ok(())
        })
        .await
        .unwrap();
    let counts = follower_counts(&store, &appid).await;
    assert_eq!(
        (counts.total, counts.subscribed, counts.without_details),
        (301, 300, 1)
    );
    let unsubscribed = stored_openids(&store, &appid, Some(false)).await;
    assert_eq!(
        unsubscribed.into_iter().collect::<Vec<_>>(),
        vec![leaver.clone()]
    );

    // An old unsubscribe replayed for a follower who subscribed later is ignored.
    let (id, o) = (appid.clone(), sim.user(&appid, 4).await.0);
    store
        .call(move |c| {
            let tx = c.transaction()?;
            FollowEvents.apply(
                &tx,
                &event(
                    &id,
                    EventKind::Unsubscribe {
                        openid: o,
                        create_time: 1,
                    },
                ),
            )?;
            tx.commit()?;
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(stored_openids(&store, &appid, Some(false)).await.len(), 1);

    // WeChat still lists the leaver (they followed again) and never listed the event-only openid:
    // the next sync puts both right.
    let r = sync(&api, &store, &appid).await;
    assert_eq!((r.resubscribed, r.unsubscribed, r.added), (1, 1, 0));
    let unsubscribed = stored_openids(&store, &appid, Some(false)).await;
    assert_eq!(
        unsubscribed.into_iter().collect::<Vec<_>>(),
        vec!["oNEWfollower0000000000000000".to_string()]
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unfollow_and_a_new_follow_in_wechat_show_in_the_next_incremental_sync() {
    let store = store();
    let sim = Sim::start(500).await;
    let appid = sim.appid(0);
    let api = sim.api().await;
    sync(&api, &store, &appid).await;

    let (leaver, _) = sim.user(&appid, 7).await;
    // Index 500 is a former follower in the sim's world; they follow again.
    let (newcomer, newcomer_unionid) = sim.user(&appid, 500).await;
    sim.set_following(&appid, &leaver, false).await;
    sim.set_following(&appid, &newcomer, true).await;

    let r = sync(&api, &store, &appid).await;
    assert_eq!((r.outcome, r.run_id), (SyncOutcome::Completed, 2));
    assert_eq!(
        (r.total, r.added, r.unsubscribed, r.details_fetched),
        (500, 1, 1, 1)
    );
    let unsubscribed = stored_openids(&store, &appid, Some(false)).await;
    assert_eq!(unsubscribed.into_iter().collect::<Vec<_>>(), vec![leaver]);
    let f = stored_follower(&store, &appid, &newcomer).await;
    assert!(f.subscribe && f.has_details);
    assert_eq!(f.unionid, newcomer_unionid);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_run_fetches_every_followers_details_again_through_the_staging() {
    let store = store();
    let sim = Sim::start(1_500).await;
    let appid = sim.appid(0);
    let api = sim.api().await;
    let first = sync(&api, &store, &appid).await;
    assert_eq!((first.added, first.details_fetched), (1_500, 1_500));
    let refresh = SyncOptions {
        refresh_details: true,
        ..SyncOptions::default()
    };
    let r = sync_with(&api, &store, &appid, refresh).await;
    assert_eq!(
        (
            r.outcome,
            r.run_id,
            r.added,
            r.unsubscribed,
            r.details_fetched
        ),
        (SyncOutcome::Completed, 2, 0, 0, 1_500)
    );
    let id = appid.clone();
    let run2: i64 = store
        .call(move |c| {
            Ok(c.query_row(
                "SELECT count(*) FROM followers WHERE appid = ?1 AND info_run = 2",
                [&id],
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap();
    let counts = follower_counts(&store, &appid).await;
    assert_eq!(
        (counts.total, counts.without_details, run2),
        (1_500, 0, 1_500)
    );
    sim.shutdown().await;
}

/// Names of the indexes on the follower tables, and of those saved as deferred.
async fn index_state(store: &wxdesk_core::store::Store) -> (Vec<String>, Vec<String>) {
    store
        .call(|c| {
            let names = |sql: &str| -> rusqlite::Result<Vec<String>> {
                let mut stmt = c.prepare(sql)?;
                stmt.query_map([], |r| r.get(0))?.collect()
            };
            Ok((
                names(
                    "SELECT name FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL \
                     AND tbl_name IN ('followers', 'follower_tags') ORDER BY name",
                )?,
                names("SELECT name FROM follower_sync_deferred_indexes ORDER BY name")?,
            ))
        })
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_that_deferred_the_indexes_builds_them_again_also_when_cancelled() {
    let store = store();
    let sim = Sim::start(3_000).await;
    let appid = sim.appid(0);
    let api = sim.api().await;
    let before = index_state(&store).await;
    assert_eq!((before.0.len(), before.1.len()), (5, 0));
    // The details phase itself defers the indexes (a listing that asks for details early
    // could leave it nothing to do at this size).
    let opts = SyncOptions {
        defer_indexes_from: 1_000,
        early_details: false,
        ..SyncOptions::default()
    };
    // Cancelled in the details phase, where the indexes are deferred: they are back when the
    // call returns, so the table is whole between syncs.
    let cancel = CancellationToken::new();
    let deferred_seen: Mutex<bool> = Mutex::new(false);
    let on_progress = |p: SyncProgress| {
        if p.phase == SyncPhase::Details && p.fetched >= 1_000 {
            cancel.cancel();
        }
    };
    let r = sync_followers(&api, &store, &appid, opts, &on_progress, &cancel)
        .await
        .unwrap();
    assert_eq!(r.outcome, SyncOutcome::Cancelled);
    assert_eq!(index_state(&store).await, before);
    // The resume defers them again and completes with every index and every detail.
    let seen_store = store.clone();
    let on_progress = |p: SyncProgress| {
        if p.phase == SyncPhase::Details && p.fetched > 0 {
            let s = seen_store.clone();
            let deferred = std::thread::spawn(move || {
                tokio::runtime::Runtime::new()
                    .unwrap()
                    .block_on(index_state(&s))
            })
            .join()
            .unwrap();
            if deferred.1.len() == 3 {
                *deferred_seen.lock().unwrap() = true;
            }
        }
    };
    let r = sync_followers(
        &api,
        &store,
        &appid,
        opts,
        &on_progress,
        &CancellationToken::new(),
    )
    .await
    .unwrap();
    assert_eq!((r.outcome, r.resumed), (SyncOutcome::Completed, true));
    assert!(
        *deferred_seen.lock().unwrap(),
        "the resumed details phase ran with the indexes deferred"
    );
    assert_eq!(index_state(&store).await, before);
    let counts = follower_counts(&store, &appid).await;
    assert_eq!(
        (counts.total, counts.without_details, counts.with_unionid),
        (3_000, 0, 3_000)
    );
    sim.shutdown().await;
}

/// batchget calls the sim counted against `appid`'s daily quota.
async fn batchget_calls(api: &audience_support::SimApi, appid: &str) -> i64 {
    use wxdesk_core::gateway::AccountApi;
    let token = api.access_token(appid).await.unwrap();
    api.client()
        .quota_get(&token, "/cgi-bin/user/info/batchget")
        .await
        .unwrap()
        .quota
        .used
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_sync_asks_for_details_while_it_lists_and_never_twice_for_one_follower() {
    // Five pages at 10 ms a call: the listing lasts long enough for the early details to get
    // answers staged before the details phase starts.
    let sim = Sim::start_with(wxdesk_sim::SimConfig {
        followers: 45_000,
        latency_ms: 10,
        ..wxdesk_sim::SimConfig::default()
    })
    .await;
    let api = sim.api().await;
    let store = store();
    let appid = sim.appid(0);
    let first_details: Mutex<Option<SyncProgress>> = Mutex::new(None);
    let listing: Mutex<Vec<SyncProgress>> = Mutex::new(Vec::new());
    let on_progress = |p: SyncProgress| {
        if p.phase == SyncPhase::Details {
            first_details.lock().unwrap().get_or_insert(p);
        }
        if p.phase == SyncPhase::Listing {
            listing.lock().unwrap().push(p);
        }
    };
    let r = sync_followers(
        &api,
        &store,
        &appid,
        SyncOptions::default(),
        &on_progress,
        &CancellationToken::new(),
    )
    .await
    .unwrap();
    let first = first_details.lock().unwrap().unwrap();
    assert!(
        first.fetched >= 100 && first.total == 45_000,
        "details answered during the listing count as done when the phase starts: {first:?}"
    );
    // The listing's reports say how many details are in meanwhile: they grow, and the details
    // phase starts with at least as many done.
    let listing = listing.into_inner().unwrap();
    let early: Vec<u64> = listing.iter().map(|p| p.early_details).collect();
    assert!(
        early.windows(2).all(|w| w[0] <= w[1]) && early.iter().any(|&n| n > 0),
        "early details never reported during the listing: {listing:?}"
    );
    assert!(
        early.last().copied().unwrap_or(0) <= first.fetched,
        "the details phase starts below what the listing said: {listing:?} then {first:?}"
    );
    assert_eq!(
        first.early_details, 0,
        "only the listing reports early details"
    );
    assert_eq!(
        (r.outcome, r.added, r.details_fetched),
        (SyncOutcome::Completed, 45_000, 45_000),
        "the early answers count in the report"
    );
    // Each follower asked for once: 450 calls of 100.
    assert_eq!(batchget_calls(&api, &appid).await, 450);
    let counts = follower_counts(&store, &appid).await;
    assert_eq!(
        (counts.total, counts.subscribed, counts.without_details),
        (45_000, 45_000, 0)
    );
    assert_eq!(
        stored_openids(&store, &appid, Some(true)).await,
        wechat_followers(&api, &appid).await
    );
    for index in [0u32, 9_999, 10_000, 44_999] {
        let (openid, unionid) = sim.user(&appid, index).await;
        let f = stored_follower(&store, &appid, &openid).await;
        assert_eq!(f.unionid, unionid, "follower {index}");
        assert!(f.has_details && f.subscribe_time.is_some());
    }
    assert_tags_match_wechat(&store, &appid).await;

    // A refresh asks for every follower again while it lists, once each too.
    let refresh = SyncOptions {
        refresh_details: true,
        ..SyncOptions::default()
    };
    let r = sync_with(&api, &store, &appid, refresh).await;
    assert_eq!(
        (r.outcome, r.details_fetched),
        (SyncOutcome::Completed, 45_000)
    );
    assert_eq!(batchget_calls(&api, &appid).await, 900);
    assert_eq!(follower_counts(&store, &appid).await.without_details, 0);
    assert_tags_match_wechat(&store, &appid).await;

    // An incremental run lists only known followers: nothing is asked for.
    let r = sync(&api, &store, &appid).await;
    assert_eq!(r.details_fetched, 0);
    assert_eq!(batchget_calls(&api, &appid).await, 900);
    sim.shutdown().await;
}
