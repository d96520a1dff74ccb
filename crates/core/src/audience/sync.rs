//! 同步粉丝: user/get page by page (10,000 openids, `next_openid`), then user/info/batchget in
//! chunks of 100 with several calls in flight, then tags/get. Progress is reported as it goes;
//! the run can be cancelled at any point and continues from its checkpoint on the next call, and
//! a later run is incremental (new followers added, missing ones marked unsubscribed, details
//! fetched only for those that lack them unless a full refresh is asked for).

use std::sync::atomic::{AtomicU64, Ordering};

use futures::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use wxdesk_wechat::api::{BATCHGET_MAX, UserInfo};

use super::db::deferred;
use super::db::stage as sync_stage;
use super::db::sync::{self as sync_db, SyncPhase, SyncState};
use super::db::tags::{self, TagRow};
use crate::error::{Error, Result};
use crate::gateway::{AccountApi, call};
use crate::store::{Store, now};

/// How a sync runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SyncOptions {
    /// Fetch details (unionid, tags, remark) again for every follower, not only new ones.
    pub refresh_details: bool,
    /// batchget calls in flight at once. The daily quota counts calls, not concurrency: a sync
    /// of N followers makes N/100 calls whatever this is.
    pub concurrency: usize,
    /// From this many followers needing details (and at least half the stored followers), the
    /// details phase drops the indexes it would write in random order and builds them once when
    /// the sync call ends (`db::deferred`). Below it, keeping them costs less than the rebuild.
    pub defer_indexes_from: u64,
    /// Where every listed follower needs its details (an account's first sync, a refresh), ask
    /// for them while the listing still runs ([`fetch_early`]). Off: the phases run one after
    /// the other (as before 2026-12-05; some tests pin a phase's own behaviour with it).
    pub early_details: bool,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            refresh_details: false,
            concurrency: 16,
            defer_indexes_from: DEFER_INDEXES_FROM,
            early_details: true,
        }
    }
}

/// One progress report: `fetched` of `total` in `phase`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SyncProgress {
    pub phase: SyncPhase,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub fetched: u64,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub total: u64,
    /// In the listing phase of a first sync or a refresh: followers whose details were already
    /// fetched while it lists ([`SyncOptions::early_details`]); the details phase starts at this
    /// many done. 0 otherwise.
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    #[serde(default)]
    pub early_details: u64,
}

impl SyncProgress {
    /// `fetched` of `total` in `phase`, no early details.
    pub fn at(phase: SyncPhase, fetched: u64, total: u64) -> Self {
        Self {
            phase,
            fetched,
            total,
            early_details: 0,
        }
    }
}

/// How a sync run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum SyncOutcome {
    Completed,
    /// Stopped by the cancel token; the next call continues where this one stopped.
    Cancelled,
}

/// What a sync run did (counted over the whole run, across resumes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SyncReport {
    /// `cancelled`: stopped by 取消 (or the window); the next run continues from the checkpoint.
    pub outcome: SyncOutcome,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub run_id: i64,
    /// This call continued a run an earlier call left unfinished.
    pub resumed: bool,
    /// Followers WeChat reports.
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub total: u64,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub added: u64,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub resubscribed: u64,
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub unsubscribed: u64,
    /// Followers whose details this call fetched.
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub details_fetched: u64,
}

/// Openids read from SQLite at a time in the details phase.
const DETAILS_PAGE: usize = 10_000;
/// Pages of openids read ahead of the batchget calls, so a merge holding the connection does not
/// stop the calls at once.
const PAGES_AHEAD: usize = 4;
/// batchget answers staged per transaction (the details phase's checkpoint granularity).
const WRITE_BATCH: usize = 5_000;
/// Staged batchget answers merged into `followers` at a time (see `sync_stage`). Each merge
/// rewrites the index pages its rows land on, so fewer, larger merges write less; but the calls
/// stall once the queues below are full while a merge holds the connection, and a merge of 50k
/// takes about as long as those queues last. Measured at a million followers and 50 ms: 200k →
/// 77 s, 50k → 70 s (bench/RESULTS.md).
const FETCHED_MERGE_EVERY: i64 = 50_000;
/// Staged user/get pages merged at a time. A merge of sorted openids into `followers` rewrites
/// most of the table's pages whatever its size, so the listing merges rarely: an account of up to
/// a million followers once, when the listing completes (together with the unsubscribed marking).
const LISTED_MERGE_EVERY: i64 = 1_000_000;
/// batchget answers (chunks of up to 100) that may wait for the writer: they keep the calls going
/// while a merge runs. ~40 KB each.
const ANSWERS_QUEUED: usize = 512;
/// See [`SyncOptions::defer_indexes_from`]. Measured at 50 ms against the build that kept the
/// indexes, same minutes (bench/RESULTS.md, 2026-12-04): 100,000 followers 5.87 vs 6.13 s;
/// 1,000,000 54.7 vs 55.8 s at load ~3 and 55.9 vs 89.2 s at load ~4, where the merges' index
/// writes competed with the API calls for the two cores.
const DEFER_INDEXES_FROM: u64 = 100_000;
/// Details progress is reported every this many followers (and at the end of the phase).
const PROGRESS_EVERY: u64 = 1_000;

/// Syncs `appid`'s followers. Continues an unfinished run if there is one (with its own
/// options), else starts a new one with `opts`.
pub async fn sync_followers<A: AccountApi + ?Sized>(
    api: &A,
    store: &Store,
    appid: &str,
    opts: SyncOptions,
    progress: &(dyn Fn(SyncProgress) + Send + Sync),
    cancel: &CancellationToken,
) -> Result<SyncReport> {
    let previous_cache = store
        .call(|c| {
            sync_db::bulk_cache(c)?;
            sync_db::enter_sync_cache(c)
        })
        .await?;
    let report = run(api, store, appid, opts, progress, cancel).await;
    // Indexes the details phase deferred are built again whichever way the call ends (also on
    // cancel or error), so outside a sync the table has all its indexes; only a killed process
    // leaves them deferred, and the next sync call's end builds them. Built with the sync's
    // page cache still in place: each is a sort of every follower.
    let rebuilt = store.call(deferred::restore).await;
    let restored = store
        .call(move |c| sync_db::restore_cache(c, previous_cache))
        .await;
    let report = report?;
    rebuilt?;
    restored?;
    Ok(report)
}

async fn run<A: AccountApi + ?Sized>(
    api: &A,
    store: &Store,
    appid: &str,
    opts: SyncOptions,
    progress: &(dyn Fn(SyncProgress) + Send + Sync),
    cancel: &CancellationToken,
) -> Result<SyncReport> {
    let id = appid.to_string();
    let (mut state, resumed) = store
        .call(move |c| match sync_db::load_state(c, &id)? {
            Some(s) if s.phase != SyncPhase::Done => Ok((s, true)),
            _ => Ok((
                sync_db::begin_run(c, &id, opts.refresh_details, now())?,
                false,
            )),
        })
        .await?;
    let mut details_fetched = 0;
    let mut outcome = SyncOutcome::Completed;
    if state.phase == SyncPhase::Listing {
        let listed = list_all(api, store, &mut state, &opts, progress, cancel)
            .await
            .map(|(listed, early)| {
                details_fetched += early;
                listed
            });
        if !matches!(listed, Ok(true)) {
            // Staged pages are durable already; merging them now shows them in the table. After
            // an error the merge is best effort (the resume merges what is left) and the error
            // that stopped the listing is the one returned.
            let snapshot = state.clone();
            let merged = store
                .call(move |c| sync_db::merge_listed(c, &snapshot, now()))
                .await;
            if listed.is_ok() {
                merged?;
            }
        }
        if listed? {
            state.phase = SyncPhase::Details;
        } else {
            outcome = SyncOutcome::Cancelled;
        }
    }
    if outcome == SyncOutcome::Completed {
        let (fetched, finished) =
            fetch_details(api, store, &state, &opts, progress, cancel).await?;
        details_fetched += fetched;
        if !finished {
            outcome = SyncOutcome::Cancelled;
        }
    }
    if outcome == SyncOutcome::Completed {
        progress(SyncProgress::at(SyncPhase::Tags, 0, 1));
        // The tag list with its local counts (a join over every follower's tags) is not needed
        // here: the sync only stores WeChat's list.
        fetch_tags(api, store, appid).await?;
        let id = appid.to_string();
        store
            .call(move |c| sync_db::finish_run(c, &id, now()))
            .await?;
        progress(SyncProgress::at(SyncPhase::Done, 1, 1));
    }
    let id = appid.to_string();
    let state = store
        .call(move |c| sync_db::load_state(c, &id))
        .await?
        .ok_or_else(|| Error::input("同步状态丢失", "The sync checkpoint is gone."))?;
    Ok(SyncReport {
        outcome,
        run_id: state.run_id,
        resumed,
        total: state.total.max(0) as u64,
        added: state.added.max(0) as u64,
        resubscribed: state.resubscribed.max(0) as u64,
        unsubscribed: state.unsubscribed.max(0) as u64,
        details_fetched,
    })
}

/// tags/get → the `tags` table. Returns the stored list.
pub async fn sync_tags<A: AccountApi + ?Sized>(
    api: &A,
    store: &Store,
    appid: &str,
) -> Result<Vec<TagRow>> {
    fetch_tags(api, store, appid).await?;
    let appid = appid.to_string();
    store.call(move |c| tags::list_tags(c, &appid)).await
}

/// tags/get → the `tags` table.
async fn fetch_tags<A: AccountApi + ?Sized>(api: &A, store: &Store, appid: &str) -> Result<()> {
    let list = call(api, appid, |c, t| async move { c.tags_get(&t).await }).await?;
    let appid = appid.to_string();
    store
        .call(move |c| tags::replace_tags(c, &appid, &list, now()))
        .await
}

/// Pages through user/get from the checkpoint, and where every listed follower needs its
/// details, asks for them meanwhile ([`fetch_early`]). Returns (`false`: cancelled, users whose
/// details were staged on the way).
async fn list_all<A: AccountApi + ?Sized>(
    api: &A,
    store: &Store,
    state: &mut SyncState,
    opts: &SyncOptions,
    progress: &(dyn Fn(SyncProgress) + Send + Sync),
    cancel: &CancellationToken,
) -> Result<(bool, u64)> {
    let id = state.appid.clone();
    let early = opts.early_details
        && (state.refresh_all || !store.call(move |c| sync_db::any_follower(c, &id)).await?);
    if !early {
        let listed = list_pages(api, store, state, opts, progress, cancel, None).await?;
        return Ok((listed, 0));
    }
    let (pages_tx, pages_rx) = mpsc::channel::<Vec<String>>(EARLY_PAGES);
    // `stop`: the listing is over; `halt`: the early calls failed, so the listing stops too.
    let (stop, halt) = (CancellationToken::new(), cancel.child_token());
    let snapshot = state.clone();
    // The listing's reports say how many details are in already, so the user sees both move.
    let early_done = AtomicU64::new(0);
    let report = |p: SyncProgress| {
        progress(SyncProgress {
            early_details: early_done.load(Ordering::Relaxed),
            ..p
        });
    };
    let listing = async {
        let listed = list_pages(api, store, state, opts, &report, &halt, Some(pages_tx)).await;
        stop.cancel();
        listed
    };
    let fetching = async {
        let concurrency = opts.concurrency.max(1);
        let on_fetched = |n: u64| early_done.store(n, Ordering::Relaxed);
        let fetched = fetch_early(
            api,
            store,
            &snapshot,
            concurrency,
            pages_rx,
            (&stop, cancel),
            on_fetched,
        )
        .await;
        if fetched.is_err() {
            halt.cancel();
        }
        fetched
    };
    let (listed, fetched) = tokio::join!(listing, fetching);
    // An early call's error is the one that stopped the run (the listing was halted by it).
    let fetched = fetched?;
    Ok((listed?, fetched))
}

/// Pages through user/get from the checkpoint. `Ok(false)`: cancelled. Each page is written on
/// the store's thread while the next one is fetched, so the listing costs about one API round
/// trip per page. With `early`, each page is offered to [`fetch_early`] once it is committed.
async fn list_pages<A: AccountApi + ?Sized>(
    api: &A,
    store: &Store,
    state: &mut SyncState,
    opts: &SyncOptions,
    progress: &(dyn Fn(SyncProgress) + Send + Sync),
    cancel: &CancellationToken,
    early: Option<mpsc::Sender<Vec<String>>>,
) -> Result<bool> {
    let defer_from = i64::try_from(opts.defer_indexes_from).unwrap_or(i64::MAX);
    progress(listing_progress(state));
    let id = state.appid.clone();
    // Pages a crash left staged count towards the next merge.
    let mut staged = store
        .call(move |c| sync_stage::listed_count(c, &id))
        .await?;
    let mut cursor = state.next_openid.clone();
    let mut writing: Option<Writing> = None;
    // The page being written, and its openids if the early details have room for them.
    struct Writing {
        task: tokio::task::JoinHandle<Result<()>>,
        handover: Option<Vec<String>>,
    }
    // Waits for the page being written, reports it, and hands it to the early details.
    async fn settle(
        writing: &mut Option<Writing>,
        early: Option<&mpsc::Sender<Vec<String>>>,
        state: &SyncState,
        progress: &(dyn Fn(SyncProgress) + Send + Sync),
    ) -> Result<()> {
        if let Some(w) = writing.take() {
            w.task.await??;
            progress(listing_progress(state));
            if let (Some(page), Some(early)) = (w.handover, early) {
                // Full: the early calls are busy with earlier pages; the details phase gets it.
                let _ = early.try_send(page);
            }
        }
        Ok(())
    }
    loop {
        let fetch = call(api, &state.appid, |c, t| {
            let cursor = cursor.clone();
            async move { c.user_get(&t, Some(cursor.as_str())).await }
        });
        let page = tokio::select! {
            biased;
            () = cancel.cancelled() => None,
            page = fetch => Some(page),
        };
        // The previous page is committed before anything else happens, also on cancel or error.
        settle(&mut writing, early.as_ref(), state, progress).await?;
        // A page fetched while the operator cancelled is dropped: the resume fetches it again.
        let Some(page) = page.filter(|_| !cancel.is_cancelled()) else {
            return Ok(false);
        };
        let page = page?;
        let openids = page.openids().to_vec();
        // The last page has an empty cursor; a page without openids or a cursor that does not
        // move would loop forever on a misbehaving server, so both end the listing too.
        let last = openids.is_empty() || page.next_openid.is_empty() || page.next_openid == cursor;
        let snapshot = state.clone();
        let (next, total) = (page.next_openid.clone(), page.total);
        staged += openids.len() as i64;
        // The last page is merged by finish_listing, with the unsubscribed marking.
        let merge = staged >= LISTED_MERGE_EVERY && !last;
        if merge {
            staged = 0;
        }
        let writer = store.clone();
        // Copied only when the early details will take it (the listing never waits for them).
        let handover = early
            .as_ref()
            .filter(|e| e.capacity() > 0)
            .map(|_| openids.clone());
        let task = tokio::spawn(async move {
            writer
                .call(move |c| {
                    sync_db::record_page(c, &snapshot, &openids, &next, total, now())?;
                    if merge {
                        sync_db::merge_listed(c, &snapshot, now())?;
                    }
                    Ok(())
                })
                .await
        });
        writing = Some(Writing { task, handover });
        state.listed += page.openids().len() as i64;
        state.total = total;
        state.next_openid = page.next_openid;
        cursor = state.next_openid.clone();
        if last {
            settle(&mut writing, early.as_ref(), state, progress).await?;
            let snapshot = state.clone();
            store
                .call(move |c| {
                    sync_db::defer_for_first_listing(c, &snapshot.appid, defer_from)?;
                    sync_db::finish_listing(c, &snapshot, now())
                })
                .await?;
            return Ok(true);
        }
    }
}

fn listing_progress(state: &SyncState) -> SyncProgress {
    SyncProgress::at(
        SyncPhase::Listing,
        state.listed.max(0) as u64,
        state.total.max(state.listed).max(0) as u64,
    )
}

/// A chunk's answer: the users, or openids WeChat called invalid (40003) one by one.
enum Fetched {
    Users(Vec<UserInfo>),
    Invalid(String),
}

/// Fetches details for every follower that needs them. Returns (fetched, finished).
///
/// Three stages run at once so that neither SQLite nor the API waits for the other: a reader
/// pages through the openids that need details (a few pages ahead), `concurrency` batchget calls
/// are kept in flight across page boundaries, and the writer stages the answers and merges them.
async fn fetch_details<A: AccountApi + ?Sized>(
    api: &A,
    store: &Store,
    state: &SyncState,
    opts: &SyncOptions,
    progress: &(dyn Fn(SyncProgress) + Send + Sync),
    cancel: &CancellationToken,
) -> Result<(u64, bool)> {
    let concurrency = opts.concurrency.max(1);
    let defer_from = i64::try_from(opts.defer_indexes_from).unwrap_or(i64::MAX);
    let snapshot = state.clone();
    let (done, todo) = store
        .call(move |c| {
            // Answers already staged (by the listing's early details, or before a crash) count
            // as done and are not asked for again; each is merged with its openid range.
            let (done, todo) = sync_db::details_progress(c, &snapshot)?;
            // Half the table at least: the rebuild sorts every account's followers.
            if todo > 0 && todo >= defer_from && todo * 2 >= sync_db::followers_rows(c)? {
                deferred::defer(c)?;
            }
            Ok((done, todo))
        })
        .await?;
    let done = done.max(0) as u64;
    let total = done + todo.max(0) as u64;
    let mut reported = 0u64;
    progress(SyncProgress::at(SyncPhase::Details, done, total));

    let (pages_tx, mut pages_rx) = mpsc::channel::<Vec<String>>(PAGES_AHEAD);
    let reader = tokio::spawn(read_needing_details(store.clone(), state.clone(), pages_tx));
    let (tx, rx) = mpsc::channel::<Fetched>(ANSWERS_QUEUED.max(concurrency * 4));
    let writer = tokio::spawn(write_details(
        store.clone(),
        state.appid.clone(),
        state.run_id,
        rx,
        true,
    ));

    let chunks = futures::stream::poll_fn(move |cx| pages_rx.poll_recv(cx)).flat_map(chunked);
    let on_fetched = |fetched_now: u64| {
        if fetched_now - reported >= PROGRESS_EVERY {
            reported = fetched_now;
            progress(SyncProgress::at(
                SyncPhase::Details,
                (done + fetched_now).min(total),
                total,
            ));
        }
    };
    let called = call_chunks(
        api,
        &state.appid,
        chunks,
        concurrency,
        &tx,
        cancel,
        on_fetched,
    )
    .await;
    let (fetched_now, finished) = (called.fetched, called.finished);
    let mut failure = called.failure;
    reader.abort();
    drop(tx);
    // Whatever was fetched is staged and merged before returning, also on cancel or error.
    writer.await??;
    // A reader error (SQLite) ends the stream early; it must not pass for a finished phase.
    match reader.await {
        Ok(Err(e)) if failure.is_none() => failure = Some(e),
        _ => {}
    }
    if let Some(e) = failure {
        return Err(e);
    }
    if finished && fetched_now != reported {
        progress(SyncProgress::at(
            SyncPhase::Details,
            (done + fetched_now).min(total),
            total,
        ));
    }
    Ok((fetched_now, finished))
}

/// A page of openids as batchget chunks.
fn chunked(page: Vec<String>) -> futures::stream::Iter<std::vec::IntoIter<Vec<String>>> {
    let chunks: Vec<Vec<String>> = page.chunks(BATCHGET_MAX).map(<[String]>::to_vec).collect();
    futures::stream::iter(chunks)
}

/// How [`call_chunks`] ended.
struct Called {
    /// Users whose answers went to the writer.
    fetched: u64,
    /// The chunks ran out (or the writer stopped, which reports its own error); `false` when
    /// cancelled.
    finished: bool,
    /// The call error that stopped the calls.
    failure: Option<Error>,
}

/// Keeps `concurrency` batchget calls in flight over `chunks` and hands every answer to the
/// writer, calling `on_fetched` with the running count. Stops at cancel (answers in flight are
/// dropped: the next run asks for them again), at the first call error, or when the writer is
/// gone.
async fn call_chunks<A, S>(
    api: &A,
    appid: &str,
    chunks: S,
    concurrency: usize,
    to_writer: &mpsc::Sender<Fetched>,
    cancel: &CancellationToken,
    mut on_fetched: impl FnMut(u64),
) -> Called
where
    A: AccountApi + ?Sized,
    S: futures::Stream<Item = Vec<String>>,
{
    let mut answers = std::pin::pin!(
        chunks
            .map(|chunk| fetch_chunk(api, appid, chunk))
            .buffer_unordered(concurrency)
    );
    let mut called = Called {
        fetched: 0,
        finished: true,
        failure: None,
    };
    'calls: loop {
        let next = tokio::select! {
            biased;
            () = cancel.cancelled() => { called.finished = false; break; }
            next = answers.next() => next,
        };
        match next {
            None => break,
            Some(Ok(results)) => {
                for r in results {
                    let users = match &r {
                        Fetched::Users(u) => u.len() as u64,
                        Fetched::Invalid(_) => 0,
                    };
                    if to_writer.send(r).await.is_err() {
                        // The writer stopped on an error (its caller returns it): no more calls.
                        break 'calls;
                    }
                    called.fetched += users;
                }
                on_fetched(called.fetched);
            }
            Some(Err(e)) => {
                called.failure = Some(e);
                break;
            }
        }
    }
    called
}

/// Pages handed to the early details while the listing runs (see [`fetch_early`]).
const EARLY_PAGES: usize = 1;

/// batchget while the listing still runs, on pages [`list_pages`] hands over once they are
/// committed. The listing is a chain of calls that each wait for the last one's cursor: the API
/// has room for more calls in flight and the store is idle between pages, so the details of
/// what is already listed can be asked for meanwhile (measured at a million followers:
/// bench/RESULTS.md, 2026-12-05). Only for a run where every listed follower needs its
/// details (an account's first sync, a refresh), so nothing is asked for twice; the answers are
/// staged only — `fetch_details` merges them first thing, when every listed follower is in
/// `followers`. The listing never waits for this: a page that finds the hand-over full is left
/// for the details phase. `stop`: the listing ended (answers in flight are still staged);
/// `cancel`: the operator's, which drops them. `on_fetched`: the users answered so far, as
/// answers come (the listing's progress reports them). Returns the users staged.
async fn fetch_early<A: AccountApi + ?Sized>(
    api: &A,
    store: &Store,
    state: &SyncState,
    concurrency: usize,
    mut pages: mpsc::Receiver<Vec<String>>,
    (stop, cancel): (&CancellationToken, &CancellationToken),
    on_fetched: impl FnMut(u64),
) -> Result<u64> {
    let (tx, rx) = mpsc::channel::<Fetched>(ANSWERS_QUEUED.max(concurrency * 4));
    let writer = tokio::spawn(write_details(
        store.clone(),
        state.appid.clone(),
        state.run_id,
        rx,
        false,
    ));
    let chunks = futures::stream::poll_fn(move |cx| pages.poll_recv(cx))
        .flat_map(chunked)
        .take_until(stop.cancelled());
    let called = call_chunks(
        api,
        &state.appid,
        chunks,
        concurrency,
        &tx,
        cancel,
        on_fetched,
    )
    .await;
    drop(tx);
    writer.await??;
    match called.failure {
        Some(e) => Err(e),
        None => Ok(called.fetched),
    }
}

/// Sends the openids that need details, a page at a time in openid order, until none are left
/// or the receiver is gone.
async fn read_needing_details(
    store: Store,
    state: SyncState,
    pages: mpsc::Sender<Vec<String>>,
) -> Result<()> {
    let mut after = String::new();
    loop {
        let snapshot = state.clone();
        let from = std::mem::take(&mut after);
        let openids = store
            .call(move |c| sync_db::next_needing_details(c, &snapshot, &from, DETAILS_PAGE))
            .await?;
        let Some(last) = openids.last() else {
            return Ok(());
        };
        after = last.clone();
        if pages.send(openids).await.is_err() {
            return Ok(());
        }
    }
}

/// One batchget call; when WeChat refuses the chunk because one openid is invalid (40003), the
/// chunk is asked one openid at a time so the others are not lost.
async fn fetch_chunk<A: AccountApi + ?Sized>(
    api: &A,
    appid: &str,
    chunk: Vec<String>,
) -> Result<Vec<Fetched>> {
    match batchget(api, appid, &chunk).await {
        Ok(users) => Ok(vec![Fetched::Users(users)]),
        Err(e) if e.wechat_errcode() == Some(40003) && chunk.len() > 1 => {
            let mut out = Vec::with_capacity(chunk.len());
            for openid in chunk {
                match batchget(api, appid, std::slice::from_ref(&openid)).await {
                    Ok(users) => out.push(Fetched::Users(users)),
                    Err(e) if e.wechat_errcode() == Some(40003) => {
                        out.push(Fetched::Invalid(openid));
                    }
                    Err(e) => return Err(e),
                }
            }
            Ok(out)
        }
        Err(e) if e.wechat_errcode() == Some(40003) => {
            Ok(chunk.into_iter().map(Fetched::Invalid).collect())
        }
        Err(e) => Err(e),
    }
}

async fn batchget<A: AccountApi + ?Sized>(
    api: &A,
    appid: &str,
    openids: &[String],
) -> Result<Vec<UserInfo>> {
    call(api, appid, |c, t| {
        let openids = openids.to_vec();
        async move { c.user_info_batchget(&t, &openids, "zh_CN").await }
    })
    .await
}

/// Stages answers in batches of [`WRITE_BATCH`] users, one transaction each, and with `merge`
/// merges them into `followers` every [`FETCHED_MERGE_EVERY`] and when the channel closes (also
/// on cancel or error).
async fn write_details(
    store: Store,
    appid: String,
    run_id: i64,
    mut rx: mpsc::Receiver<Fetched>,
    merge: bool,
) -> Result<()> {
    let mut users: Vec<UserInfo> = Vec::with_capacity(WRITE_BATCH);
    let mut invalid: Vec<String> = Vec::new();
    let mut staged = 0i64;
    // The last openid answered: a merge takes the staged answers up to it (the calls go in
    // openid order), and every one when the channel closes.
    let mut last = String::new();
    loop {
        let msg = rx.recv().await;
        let closed = msg.is_none();
        match msg {
            Some(Fetched::Users(u)) => {
                if let Some(max) = u.iter().map(|u| &u.openid).max().filter(|m| **m > last) {
                    last.clone_from(max);
                }
                users.extend(u);
            }
            Some(Fetched::Invalid(o)) => {
                if o > last {
                    last.clone_from(&o);
                }
                invalid.push(o);
            }
            None => {}
        }
        if users.len() >= WRITE_BATCH || !invalid.is_empty() || closed {
            let batch = std::mem::take(&mut users);
            let bad = std::mem::take(&mut invalid);
            staged += (batch.len() + bad.len()) as i64;
            let merge = merge && (closed || staged >= FETCHED_MERGE_EVERY);
            if merge {
                staged = 0;
            }
            let id = appid.clone();
            let up_to = (!closed).then(|| last.clone());
            store
                .call(move |c| {
                    if !batch.is_empty() || !bad.is_empty() {
                        sync_db::record_details(c, &id, run_id, &batch, &bad, now())?;
                    }
                    if merge {
                        sync_db::merge_fetched(c, &id, run_id, up_to.as_deref())?;
                    }
                    Ok(())
                })
                .await?;
        }
        if closed {
            return Ok(());
        }
    }
}
