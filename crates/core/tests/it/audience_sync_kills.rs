//! kill -9 of the follower sync: a child process (this test binary re-executed) syncs from the
//! sim into a data dir and is SIGKILLed once it has reached a point in the listing or in the
//! details phase — with the store's writer still busy in the background. Each next child resumes
//! from what the last one committed; the last run completes in this process and must end with
//! exactly the sim's followers, every one with its details and tags, without starting over.
//! The runs defer the random-order indexes (as a large sync does): a kill in the details phase
//! leaves them dropped and saved, and the run that completes builds them exactly as they were.
#![allow(clippy::unwrap_used)]

use crate::audience_support;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use audience_support::{
    Sim, SimApi, assert_tags_match_wechat, audience, follower_counts, stored_openids, sync_with,
    wechat_followers,
};
use tokio_util::sync::CancellationToken;
use wxdesk_core::audience::{SyncOptions, SyncOutcome, SyncPhase, SyncProgress, sync_followers};
use wxdesk_core::store::Store;

const CHILD_ENV: &str = "WXDESK_SYNC_KILLS_CHILD";
const FOLLOWERS: u32 = 30_000;
/// The file a child creates in the data dir when it has reached its kill point.
const KILL_ME: &str = "kill-me";
/// A child that neither reaches its point nor ends by then has hung (debug build, shared CPU).
const CHILD_DEADLINE: Duration = Duration::from_secs(300);

/// Every run here defers the indexes (30,000 followers is below the default threshold), and
/// asks for details only in the details phase, so each kill lands at a known count of staged
/// answers (the early details of a first sync are checked after a cancel in `audience_sync`).
fn opts() -> SyncOptions {
    SyncOptions {
        defer_indexes_from: 10_000,
        early_details: false,
        ..SyncOptions::default()
    }
}

/// The indexes on the follower tables, and the statements saved for the deferred ones.
fn index_state(db: &rusqlite::Connection) -> (Vec<String>, Vec<String>) {
    let names = |sql: &str| -> Vec<String> {
        let mut stmt = db.prepare(sql).unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    };
    (
        names(
            "SELECT name FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL \
             AND tbl_name IN ('followers', 'follower_tags') ORDER BY name",
        ),
        names("SELECT name FROM follower_sync_deferred_indexes ORDER BY name"),
    )
}

const ALL_INDEXES: [&str; 5] = [
    "follower_tags_openid",
    "followers_info_run",
    "followers_remark",
    "followers_subscribe_time",
    "followers_unionid",
];

/// The child: syncs until the progress reaches the given phase and count, then says so (a file)
/// and stops its fetch loop (the writer and the store thread go on) until it is killed.
async fn sync_kills_child_process_entry(args: String) {
    let parts: Vec<&str> = args.split('\t').collect();
    let [dir, base_url, appid, appsecret, phase, at, staged, early] = parts[..] else {
        panic!("bad child args")
    };
    let child_opts = SyncOptions {
        early_details: early == "early",
        ..opts()
    };
    let phase = if phase == "listing" {
        SyncPhase::Listing
    } else {
        SyncPhase::Details
    };
    let at: u64 = at.parse().unwrap();
    let staged: i64 = staged.parse().unwrap();
    let store = Store::open_in_dir(std::path::Path::new(dir)).await.unwrap();
    let api = SimApi::from_parts(base_url, appid, appsecret);
    let marker = Path::new(dir).join(KILL_ME);
    let on_progress = |p: SyncProgress| {
        if p.phase == phase && p.fetched >= at {
            // The fetch loop stops here; the kill waits until the writer has committed this
            // many staged answers, so the kill lands with exactly those staged and not merged.
            let db = rusqlite::Connection::open(Path::new(dir).join("wxdesk.sqlite3")).unwrap();
            while staged_fetched(&db, appid) < staged {
                std::thread::sleep(Duration::from_millis(10));
            }
            std::fs::write(&marker, format!("{:?} {}", p.phase, p.fetched)).unwrap();
            loop {
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    };
    let cancel = CancellationToken::new();
    sync_followers(&api, &store, appid, child_opts, &on_progress, &cancel)
        .await
        .unwrap();
}

fn staged_fetched(db: &rusqlite::Connection, appid: &str) -> i64 {
    db.query_row(
        "SELECT count(*) FROM follower_sync_fetched WHERE appid = ?1",
        [appid],
        |r| r.get(0),
    )
    .unwrap()
}

/// How a child is stopped: at `at` followers of `phase`, once `staged` answers are staged.
struct Kill {
    phase: &'static str,
    at: u64,
    staged: i64,
    expect: SyncPhase,
}

/// Runs a child of test `test` (with the early details on or off) until it reports its kill
/// point, then SIGKILLs it.
fn run_child_and_kill(
    test: &str,
    early: bool,
    (dir, base, appid, secret): (&str, &str, &str, &str),
    k: &Kill,
) {
    let Kill {
        phase, at, staged, ..
    } = *k;
    let early = if early { "early" } else { "serial" };
    let marker = Path::new(dir).join(KILL_ME);
    let _ = std::fs::remove_file(&marker);
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(
            CHILD_ENV,
            format!("{dir}\t{base}\t{appid}\t{secret}\t{phase}\t{at}\t{staged}\t{early}"),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let outcome = loop {
        if marker.exists() {
            break Ok(());
        }
        if let Some(status) = child.try_wait().unwrap() {
            break Err(format!("child ended ({status}) before {phase} {at}"));
        }
        if started.elapsed() > CHILD_DEADLINE {
            break Err(format!(
                "child did not reach {phase} {at} in {CHILD_DEADLINE:?}"
            ));
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    // SIGKILL on unix: no destructor, no flush, whatever the store thread was doing.
    let _ = child.kill();
    let _ = child.wait();
    outcome.unwrap();
    std::fs::remove_file(&marker).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_killed_in_listing_and_twice_in_details_resumes_to_exactly_the_sims_followers() {
    if let Ok(args) = std::env::var(CHILD_ENV) {
        return sync_kills_child_process_entry(args).await;
    }
    let sim = Sim::start(FOLLOWERS).await;
    let api = sim.api().await;
    let appid = sim.appid(0);
    let secret = api.appsecret(&appid).unwrap().to_string();
    let expected = wechat_followers(&api, &appid).await;
    let dir = tempfile::tempdir().unwrap();
    let dir_s = dir.path().to_str().unwrap().to_string();

    // Killed after the second of three pages; then at 7,000 details with the first batch of
    // 5,000 answers staged and not merged; then at 16,000 with two more batches staged beside
    // those (a resume counts staged answers as done, passes over them, and merges each with the
    // answers of its openid range, which here comes only at the end).
    let kills = [
        Kill {
            phase: "listing",
            at: 20_000,
            staged: 0,
            expect: SyncPhase::Listing,
        },
        Kill {
            phase: "details",
            at: 7_000,
            staged: 5_000,
            expect: SyncPhase::Details,
        },
        Kill {
            phase: "details",
            at: 16_000,
            staged: 15_000,
            expect: SyncPhase::Details,
        },
    ];
    let mut merged_details = Vec::new();
    let mut indexes = Vec::new();
    let test = this_test!(
        sync_killed_in_listing_and_twice_in_details_resumes_to_exactly_the_sims_followers
    );
    for k in &kills {
        run_child_and_kill(&test, false, (&dir_s, sim.base(), &appid, &secret), k);
        let store = Store::open_in_dir(dir.path()).await.unwrap();
        let st = audience(&store).sync_state(&appid).await.unwrap().unwrap();
        assert_eq!(st.phase, k.expect, "after the kill at {} {}", k.phase, k.at);
        assert_eq!(st.run_id, 1, "a kill never starts a new run");
        let id = appid.clone();
        let staged = store
            .call(move |c| Ok(staged_fetched(c, &id)))
            .await
            .unwrap();
        let counts = follower_counts(&store, &appid).await;
        let with_details = counts.total - counts.without_details;
        assert_eq!(staged, k.staged, "staged and not merged at the kill");
        merged_details.push(with_details);
        indexes.push(store.call(|c| Ok(index_state(c))).await.unwrap());
    }
    // The listing keeps every index; the details phase dropped the three random-order ones and
    // saved them, and the kill left them so (the next run does not drop them twice).
    let all: Vec<String> = ALL_INDEXES.iter().map(|s| (*s).to_string()).collect();
    let kept: Vec<String> = vec![all[0].clone(), all[1].clone()];
    let deferred: Vec<String> = all[2..].to_vec();
    assert_eq!(
        indexes,
        vec![
            (all.clone(), vec![]),
            (kept.clone(), deferred.clone()),
            (kept, deferred)
        ]
    );
    // Staged answers reach the table only at a merge: the details children merged nothing
    // (the first one's 5,000 are merged with the range they fall in, not when a run starts).
    assert_eq!(merged_details, vec![0, 0, 0]);

    let store = Store::open_in_dir(dir.path()).await.unwrap();
    let r = sync_with(&api, &store, &appid, opts()).await;
    assert_eq!(r.outcome, SyncOutcome::Completed);
    assert!(r.resumed);
    assert_eq!((r.run_id, r.total, r.added), (1, 30_000, 30_000));
    assert_eq!(
        r.details_fetched, 15_000,
        "the last run fetches only what the killed ones had not committed"
    );
    assert_synced_exactly(&store, &appid, &expected).await;
    sim.shutdown().await;
}

/// The early details (on here, as a first sync runs by default): a child killed in the listing
/// while batchget calls run beside it, then one killed in the details phase with the early
/// answers still staged (they are merged only with their openid range). The run that completes
/// ends with exactly the sim's followers, each with its details and tags, nothing left staged,
/// and it asks only for what no child staged: every staged answer is used, none is asked twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_sync_killed_while_it_asks_for_details_during_its_listing_resumes_to_exactly_the_sims_followers()
 {
    if let Ok(args) = std::env::var(CHILD_ENV) {
        return sync_kills_child_process_entry(args).await;
    }
    let sim = Sim::start(FOLLOWERS).await;
    let api = sim.api().await;
    let appid = sim.appid(0);
    let secret = api.appsecret(&appid).unwrap().to_string();
    let expected = wechat_followers(&api, &appid).await;
    let dir = tempfile::tempdir().unwrap();
    let dir_s = dir.path().to_str().unwrap().to_string();
    let test = this_test!(
        a_first_sync_killed_while_it_asks_for_details_during_its_listing_resumes_to_exactly_the_sims_followers
    );
    let kills = [
        Kill {
            phase: "listing",
            at: 20_000,
            staged: 0,
            expect: SyncPhase::Listing,
        },
        // The details phase starts with the listing's early answers counted as done.
        Kill {
            phase: "details",
            at: 20_000,
            staged: 1,
            expect: SyncPhase::Details,
        },
    ];
    let mut staged_at_kill = Vec::new();
    for k in &kills {
        run_child_and_kill(&test, true, (&dir_s, sim.base(), &appid, &secret), k);
        let store = Store::open_in_dir(dir.path()).await.unwrap();
        let st = audience(&store).sync_state(&appid).await.unwrap().unwrap();
        assert_eq!(st.phase, k.expect, "after the kill at {} {}", k.phase, k.at);
        assert_eq!(st.run_id, 1, "a kill never starts a new run");
        let id = appid.clone();
        staged_at_kill.push(
            store
                .call(move |c| Ok(staged_fetched(c, &id)))
                .await
                .unwrap(),
        );
    }
    assert!(staged_at_kill[1] > 0, "{staged_at_kill:?}");

    // What the resume still needs: every follower without details and without a staged answer.
    let store = Store::open_in_dir(dir.path()).await.unwrap();
    let id = appid.clone();
    let (merged, staged) = store
        .call(move |c| {
            Ok(c.query_row(
                "SELECT (SELECT count(*) FROM followers WHERE appid = ?1 AND info_run = 1), \
                 (SELECT count(DISTINCT openid) FROM follower_sync_fetched WHERE appid = ?1)",
                [&id],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)),
            )?)
        })
        .await
        .unwrap();
    let r = sync_with(
        &api,
        &store,
        &appid,
        SyncOptions {
            early_details: true,
            ..opts()
        },
    )
    .await;
    assert_eq!(r.outcome, SyncOutcome::Completed);
    assert!(r.resumed);
    assert_eq!((r.run_id, r.total, r.added), (1, 30_000, 30_000));
    assert_eq!(
        r.details_fetched,
        30_000 - (merged + staged) as u64,
        "staged answers are used, not asked for again"
    );
    assert_synced_exactly(&store, &appid, &expected).await;
    sim.shutdown().await;
}

/// The end of a completed sync of the sim's 30,000 followers: exactly them, each with its
/// details and tags, nothing left staged for a later run to merge twice, and every deferred
/// index built again and forgotten.
async fn assert_synced_exactly(store: &Store, appid: &str, expected: &BTreeSet<String>) {
    assert_eq!(&stored_openids(store, appid, Some(true)).await, expected);
    let counts = follower_counts(store, appid).await;
    assert_eq!(
        (
            counts.total,
            counts.subscribed,
            counts.without_details,
            counts.with_unionid
        ),
        (30_000, 30_000, 0, 30_000)
    );
    assert_tags_match_wechat(store, appid).await;
    let id = appid.to_string();
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
    let all: Vec<String> = ALL_INDEXES.iter().map(|s| (*s).to_string()).collect();
    assert_eq!(
        store.call(|c| Ok(index_state(c))).await.unwrap(),
        (all, vec![])
    );
}
