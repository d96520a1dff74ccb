//! 同步粉丝: user/get page by page (10,000 openids, `next_openid`), then user/info/batchget in
//! chunks of 100 with several calls in flight, then tags/get. Progress is reported as it goes;
//! the run can be cancelled at any point and continues from its checkpoint on the next call, and
//! a later run is incremental (new followers added, missing ones marked unsubscribed, details
//! fetched only for those that lack them unless a full refresh is asked for).

use futures::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use wxdesk_wechat::api::{BATCHGET_MAX, UserInfo};

use super::access::{AccountApi, call};
use super::sync_db::{self, SyncPhase, SyncState};
use super::tags;
use crate::error::{Error, Result};
use crate::store::{Store, now};

pub use sync_db::SyncState as FollowerSyncState;

/// How a sync runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SyncOptions {
    /// Fetch details (unionid, tags, remark) again for every follower, not only new ones.
    pub refresh_details: bool,
    /// batchget calls in flight at once.
    pub concurrency: usize,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            refresh_details: false,
            concurrency: 8,
        }
    }
}

/// One progress report: `fetched` of `total` in `phase`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncProgress {
    pub phase: SyncPhase,
    pub fetched: u64,
    pub total: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncOutcome {
    Completed,
    /// Stopped by the cancel token; the next call continues where this one stopped.
    Cancelled,
}

/// What a sync run did (counted over the whole run, across resumes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncReport {
    pub outcome: SyncOutcome,
    pub run_id: i64,
    /// This call continued a run an earlier call left unfinished.
    pub resumed: bool,
    /// Followers WeChat reports.
    pub total: u64,
    pub added: u64,
    pub resubscribed: u64,
    pub unsubscribed: u64,
    /// Followers whose details this call fetched.
    pub details_fetched: u64,
}

/// Openids read from SQLite at a time in the details phase.
const DETAILS_PAGE: usize = 10_000;
/// Details written per transaction.
const WRITE_BATCH: usize = 5_000;

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
    let id = appid.to_string();
    let (mut state, resumed) = store
        .call(move |c| {
            sync_db::bulk_cache(c)?;
            match sync_db::load_state(c, &id)? {
                Some(s) if s.phase != SyncPhase::Done => Ok((s, true)),
                _ => Ok((
                    sync_db::begin_run(c, &id, opts.refresh_details, now())?,
                    false,
                )),
            }
        })
        .await?;
    let mut details_fetched = 0;
    let mut outcome = SyncOutcome::Completed;
    if state.phase == SyncPhase::Listing {
        if list_all(api, store, &mut state, progress, cancel).await? {
            state.phase = SyncPhase::Details;
        } else {
            outcome = SyncOutcome::Cancelled;
        }
    }
    if outcome == SyncOutcome::Completed {
        let (fetched, finished) = fetch_details(
            api,
            store,
            &state,
            opts.concurrency.max(1),
            progress,
            cancel,
        )
        .await?;
        details_fetched = fetched;
        if !finished {
            outcome = SyncOutcome::Cancelled;
        }
    }
    if outcome == SyncOutcome::Completed {
        progress(SyncProgress {
            phase: SyncPhase::Tags,
            fetched: 0,
            total: 1,
        });
        tags::sync_tags(api, store, appid).await?;
        let id = appid.to_string();
        store
            .call(move |c| sync_db::finish_run(c, &id, now()))
            .await?;
        progress(SyncProgress {
            phase: SyncPhase::Done,
            fetched: 1,
            total: 1,
        });
    }
    let id = appid.to_string();
    let state = store
        .call(move |c| sync_db::load_state(c, &id))
        .await?
        .ok_or_else(|| Error::Invalid("同步状态丢失".into()))?;
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

/// The account's sync checkpoint (for "上次同步" and "继续同步" in the UI).
pub async fn sync_state(store: &Store, appid: &str) -> Result<Option<SyncState>> {
    let id = appid.to_string();
    store.call(move |c| sync_db::load_state(c, &id)).await
}

/// Pages through user/get from the checkpoint. `Ok(false)`: cancelled. Each page is written on
/// the store's thread while the next one is fetched, so the listing costs about one API round
/// trip per page.
async fn list_all<A: AccountApi + ?Sized>(
    api: &A,
    store: &Store,
    state: &mut SyncState,
    progress: &(dyn Fn(SyncProgress) + Send + Sync),
    cancel: &CancellationToken,
) -> Result<bool> {
    progress(listing_progress(state));
    let mut cursor = state.next_openid.clone();
    let mut writing: Option<tokio::task::JoinHandle<Result<()>>> = None;
    // Waits for the page being written and reports it.
    async fn settle(
        writing: &mut Option<tokio::task::JoinHandle<Result<()>>>,
        state: &SyncState,
        progress: &(dyn Fn(SyncProgress) + Send + Sync),
    ) -> Result<()> {
        if let Some(w) = writing.take() {
            w.await??;
            progress(listing_progress(state));
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
        settle(&mut writing, state, progress).await?;
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
        let writer = store.clone();
        writing = Some(tokio::spawn(async move {
            writer
                .call(move |c| sync_db::record_page(c, &snapshot, &openids, &next, total, now()))
                .await
                .map(|_| ())
        }));
        state.listed += page.openids().len() as i64;
        state.total = total;
        state.next_openid = page.next_openid;
        cursor = state.next_openid.clone();
        if last {
            settle(&mut writing, state, progress).await?;
            let snapshot = state.clone();
            store
                .call(move |c| sync_db::finish_listing(c, &snapshot, now()))
                .await?;
            return Ok(true);
        }
    }
}

fn listing_progress(state: &SyncState) -> SyncProgress {
    SyncProgress {
        phase: SyncPhase::Listing,
        fetched: state.listed.max(0) as u64,
        total: state.total.max(state.listed).max(0) as u64,
    }
}

/// A chunk's answer: the users, or openids WeChat called invalid (40003) one by one.
enum Fetched {
    Users(Vec<UserInfo>),
    Invalid(String),
}

/// Fetches details for every follower that needs them. Returns (fetched, finished).
async fn fetch_details<A: AccountApi + ?Sized>(
    api: &A,
    store: &Store,
    state: &SyncState,
    concurrency: usize,
    progress: &(dyn Fn(SyncProgress) + Send + Sync),
    cancel: &CancellationToken,
) -> Result<(u64, bool)> {
    let snapshot = state.clone();
    let (done, todo) = store
        .call(move |c| sync_db::details_progress(c, &snapshot))
        .await?;
    let total = (done + todo).max(0) as u64;
    let mut fetched_now = 0u64;
    progress(SyncProgress {
        phase: SyncPhase::Details,
        fetched: done.max(0) as u64,
        total,
    });

    // The writer commits answers while the next calls are in flight.
    let (tx, rx) = mpsc::channel::<Fetched>(concurrency * 4);
    let writer = tokio::spawn(write_details(
        store.clone(),
        state.appid.clone(),
        state.run_id,
        rx,
    ));

    let mut after = String::new();
    let mut finished = true;
    let mut failure: Option<Error> = None;
    'pages: loop {
        let snapshot = state.clone();
        let from = after.clone();
        let openids = store
            .call(move |c| sync_db::next_needing_details(c, &snapshot, &from, DETAILS_PAGE))
            .await?;
        let Some(last) = openids.last() else { break };
        after = last.clone();
        let chunks: Vec<Vec<String>> = openids
            .chunks(BATCHGET_MAX)
            .map(<[String]>::to_vec)
            .collect();
        let mut answers = futures::stream::iter(chunks)
            .map(|chunk| fetch_chunk(api, &state.appid, chunk))
            .buffer_unordered(concurrency);
        loop {
            let next = tokio::select! {
                biased;
                () = cancel.cancelled() => { finished = false; break 'pages; }
                next = answers.next() => next,
            };
            match next {
                None => break,
                Some(Ok(results)) => {
                    for r in results {
                        if let Fetched::Users(u) = &r {
                            fetched_now += u.len() as u64;
                        }
                        if tx.send(r).await.is_err() {
                            break 'pages;
                        }
                    }
                    progress(SyncProgress {
                        phase: SyncPhase::Details,
                        fetched: (done.max(0) as u64 + fetched_now).min(total),
                        total,
                    });
                }
                Some(Err(e)) => {
                    failure = Some(e);
                    break 'pages;
                }
            }
        }
    }
    drop(tx);
    // Whatever was fetched is committed before returning, also on cancel or error.
    writer.await??;
    match failure {
        Some(e) => Err(e),
        None => Ok((fetched_now, finished)),
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

/// Commits answers in batches of [`WRITE_BATCH`] users, one transaction each.
async fn write_details(
    store: Store,
    appid: String,
    run_id: i64,
    mut rx: mpsc::Receiver<Fetched>,
) -> Result<()> {
    let mut users: Vec<UserInfo> = Vec::with_capacity(WRITE_BATCH);
    let mut invalid: Vec<String> = Vec::new();
    loop {
        let msg = rx.recv().await;
        let closed = msg.is_none();
        match msg {
            Some(Fetched::Users(u)) => users.extend(u),
            Some(Fetched::Invalid(o)) => invalid.push(o),
            None => {}
        }
        if users.len() >= WRITE_BATCH || !invalid.is_empty() || (closed && !users.is_empty()) {
            let batch = std::mem::take(&mut users);
            let bad = std::mem::take(&mut invalid);
            let id = appid.clone();
            store
                .call(move |c| {
                    let now = now();
                    sync_db::record_details(c, &id, run_id, &batch, now)?;
                    for o in &bad {
                        sync_db::record_invalid(c, &id, run_id, o, now)?;
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
