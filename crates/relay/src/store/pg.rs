//! Team-mode storage: the event log, the dedup keys and the ticket in PostgreSQL, served by every
//! relay process on the database (migration 0002_event_log.sql).
//!
//! Writes: one writer task per process takes everything queued and applies it in one
//! transaction (group commit), answering callers only after COMMIT returned. Durable is
//! PostgreSQL's COMMIT: the WAL is flushed (fsync) before it returns with `fsync` and
//! `synchronous_commit` on, their defaults. Every batch first locks the one row of
//! `relay_log_head` FOR UPDATE, which writers of all processes then wait on until its COMMIT:
//! - seqs are handed out gaplessly from that row;
//! - a batch becomes visible before the next one can even number its events, so seqs appear in
//!   commit order and a reader with a cursor never meets a lower seq committed after a higher one;
//! - the dedup read runs after the lock, so it sees every key any process committed before: a
//!   retry at another process is a duplicate.
//!
//! Wakes: a batch that stored events NOTIFYs [`CHANNEL`] with its new head inside its
//! transaction (delivered only once committed). Each process keeps one session LISTENing that
//! raises its local watch head, so a long-poll at any process wakes for a commit at any other.
//!
//! Reads: pooled connections, one statement per read (one snapshot).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::future::BoxFuture;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio_postgres::types::ToSql;
use tokio_postgres::{AsyncMessage, Client, Row, Statement};

use super::{Appended, EventRow, NewEvent, SealedTicket, TicketUpdate};
use crate::config::Secret;
use crate::error::{Error, Result};
use crate::team::db::Db;

/// The NOTIFY channel; the payload is the new head seq.
pub(crate) const CHANNEL: &str = "wxdesk_relay_events";
/// Most requests applied in one transaction.
const MAX_BATCH: usize = 1024;
/// Queue depth before callers wait (back-pressure instead of unbounded memory).
const QUEUE_DEPTH: usize = 8192;
/// Between attempts to bring the LISTEN session back.
const RECONNECT_DELAY: Duration = Duration::from_secs(1);
/// How often the LISTEN session proves the database answers (an idle session would not notice
/// a database that vanished without closing the connection) and re-reads the head.
const PING_EVERY: Duration = Duration::from_secs(5);
const PING_TIMEOUT: Duration = Duration::from_secs(5);
/// How often the writer logs its batch profile (debug level) while it writes.
const STATS_EVERY: Duration = Duration::from_secs(5);

const LOCK_HEAD: &str = "SELECT seq FROM relay_log_head WHERE id = 1 FOR UPDATE";
const READ_HEAD: &str = "SELECT seq FROM relay_log_head WHERE id = 1";
// The whole append of a batch in one statement, sent right behind LOCK_HEAD: it runs after the
// lock was granted, so its snapshot holds every batch committed before. Per input row (in
// order): the seq it has and whether this statement stored it — a key the log knows, or one
// seen earlier in the same batch, is a duplicate of that seq. New keys are numbered from the
// head in batch order; the head moves to the last of them and is NOTIFYed inside the
// transaction (delivered only if, and once, it commits; a data-modifying WITH runs whether or
// not the query reads it). The key lookup is by `= ANY($1)`: an
// index probe per key whatever the planner thinks of the batch's size.
const APPEND: &str = "\
WITH input AS ( \
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[]) \
        WITH ORDINALITY AS i (dedup_key, kind, appid, received_at, data, ord) \
), known AS ( \
    SELECT dedup_key, seq FROM relay_events WHERE dedup_key = ANY($1) \
), firsts AS ( \
    SELECT DISTINCT ON (i.dedup_key) i.* FROM input i \
    WHERE NOT EXISTS (SELECT 1 FROM known k WHERE k.dedup_key = i.dedup_key) \
    ORDER BY i.dedup_key, i.ord \
), numbered AS ( \
    SELECT f.*, h.seq + row_number() OVER (ORDER BY f.ord) AS seq \
    FROM firsts f CROSS JOIN relay_log_head h WHERE h.id = 1 \
), inserted AS ( \
    INSERT INTO relay_events (seq, dedup_key, kind, appid, received_at, data) \
    SELECT seq, dedup_key, kind, appid, received_at, data FROM numbered \
), head AS ( \
    UPDATE relay_log_head h SET seq = n.top FROM (SELECT max(seq) AS top FROM numbered) n \
    WHERE h.id = 1 AND n.top IS NOT NULL \
    RETURNING pg_notify('wxdesk_relay_events', h.seq::text) \
) \
SELECT coalesce(k.seq, n.seq) AS seq, coalesce(n.ord = i.ord, false) AS stored \
FROM input i \
LEFT JOIN known k ON k.dedup_key = i.dedup_key \
LEFT JOIN numbered n ON n.dedup_key = i.dedup_key \
ORDER BY i.ord";
// Returns a row when this ticket is now the kept one; none when a later CreateTime is kept.
// Strictly older loses (as in single-desk mode): a replayed push never brings an old one back.
const PUT_TICKET: &str = "INSERT INTO relay_ticket AS t (id, sealed, create_time, received_at) \
     VALUES (1, $1, $2, $3) \
     ON CONFLICT (id) DO UPDATE SET sealed = EXCLUDED.sealed, \
        create_time = EXCLUDED.create_time, received_at = EXCLUDED.received_at \
     WHERE t.create_time <= EXCLUDED.create_time \
     RETURNING 1";
// One statement, so the page and the first seq come from one snapshot. The outer row always
// exists (first seq), the joined columns are NULL for an empty page.
const PAGE: &str = "SELECT f.first, e.seq, e.kind, e.appid, e.received_at, e.data \
     FROM (SELECT coalesce((SELECT min(seq) FROM relay_events), \
                           (SELECT seq FROM relay_log_head WHERE id = 1) + 1) AS first) f \
     LEFT JOIN LATERAL (SELECT seq, kind, appid, received_at, data FROM relay_events \
                        WHERE seq > $1 ORDER BY seq LIMIT $2) e ON true \
     ORDER BY e.seq";
const FIRST_SEQ: &str = "SELECT coalesce((SELECT min(seq) FROM relay_events), \
                                (SELECT seq FROM relay_log_head WHERE id = 1) + 1)";
const READ_TICKET: &str = "SELECT sealed, create_time, received_at FROM relay_ticket WHERE id = 1";

/// A write waiting in the queue, with when it was queued.
enum Command {
    Write(Item, Reply, Instant),
    Shutdown,
}

enum Item {
    Append(NewEvent),
    Ticket {
        sealed: String,
        create_time: i64,
        received_at: i64,
    },
}

enum Reply {
    Append(oneshot::Sender<Result<Appended>>),
    Ticket(oneshot::Sender<Result<TicketUpdate>>),
}

/// What one item came to, once its batch committed.
enum Outcome {
    Append(Appended),
    Ticket(TicketUpdate),
}

/// A cloneable handle to the PostgreSQL store.
#[derive(Clone)]
pub(crate) struct PgStore {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    tx: mpsc::Sender<Command>,
    head: watch::Receiver<i64>,
    /// The LISTEN session is up: the database answers.
    listening: Arc<AtomicBool>,
    writer: Mutex<Option<JoinHandle<()>>>,
    listener: Mutex<Option<JoinHandle<()>>>,
}

impl PgStore {
    /// Start listening, read the head, connect the writer. The schema is [`Db::open`]'s.
    pub(crate) async fn open(db: Db, url: &Secret) -> Result<Self> {
        let (head_tx, head_rx) = watch::channel(0);
        let head_tx = Arc::new(head_tx);
        let session = Session::listen(url, &head_tx).await?;
        let listening = Arc::new(AtomicBool::new(true));
        let writer_conn = WriterConn::connect(&db).await?;
        let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
        let writer = tokio::spawn(writer_loop(
            db.clone(),
            Some(writer_conn),
            rx,
            head_tx.clone(),
        ));
        let listener = tokio::spawn(listen_loop(
            url.clone(),
            session,
            head_tx,
            listening.clone(),
        ));
        Ok(Self {
            inner: Arc::new(Inner {
                db,
                tx,
                head: head_rx,
                listening,
                writer: Mutex::new(Some(writer)),
                listener: Mutex::new(Some(listener)),
            }),
        })
    }

    pub(crate) async fn append(&self, event: NewEvent) -> Result<Appended> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::Write(
            Item::Append(event),
            Reply::Append(reply),
            Instant::now(),
        ))
        .await?;
        rx.await.map_err(|_| Error::WriterGone)?
    }

    pub(crate) async fn put_ticket(
        &self,
        sealed: String,
        create_time: i64,
        received_at: i64,
    ) -> Result<TicketUpdate> {
        let (reply, rx) = oneshot::channel();
        let item = Item::Ticket {
            sealed,
            create_time,
            received_at,
        };
        self.send(Command::Write(item, Reply::Ticket(reply), Instant::now()))
            .await?;
        rx.await.map_err(|_| Error::WriterGone)?
    }

    /// Outside the writer: a delete of old rows takes no lock a new append needs, so a long
    /// prune does not hold pushes up. Processes pruning at once delete each row once. The dedup
    /// keys go with their events (as in single-desk mode, where both share received_at).
    pub(crate) async fn prune(&self, before: i64) -> Result<usize> {
        let conn = self.inner.db.get().await?;
        let n = conn
            .execute(
                "DELETE FROM relay_events WHERE received_at < $1",
                &[&before],
            )
            .await?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    pub(crate) fn subscribe(&self) -> watch::Receiver<i64> {
        self.inner.head.clone()
    }

    pub(crate) async fn events_page(&self, after: i64, limit: u32) -> Result<(Vec<EventRow>, i64)> {
        let conn = self.inner.db.get().await?;
        let rows = conn.query(PAGE, &[&after, &i64::from(limit)]).await?;
        let mut first = None;
        let mut events = Vec::with_capacity(rows.len());
        for r in rows {
            first = Some(r.try_get::<_, i64>(0)?);
            let Some(seq) = r.try_get::<_, Option<i64>>(1)? else {
                continue;
            };
            let data: String = r.try_get(5)?;
            events.push(EventRow {
                seq,
                kind: r.try_get(2)?,
                appid: r.try_get(3)?,
                received_at: r.try_get(4)?,
                // Written by us from a serde_json::Value, so it parses; a hand-edited row
                // degrades to null rather than failing the whole page.
                data: serde_json::from_str(&data).unwrap_or(serde_json::Value::Null),
            });
        }
        let first = first
            .ok_or_else(|| Error::Team("事件日志的头行缺失 / relay_log_head row missing".into()))?;
        Ok((events, first))
    }

    pub(crate) async fn first_seq(&self) -> Result<i64> {
        let conn = self.inner.db.get().await?;
        Ok(conn.query_one(FIRST_SEQ, &[]).await?.try_get(0)?)
    }

    /// The writer task runs and the database answers (the LISTEN session is up; it pings).
    pub(crate) fn writer_alive(&self) -> bool {
        !self.inner.tx.is_closed() && self.inner.listening.load(Ordering::Relaxed)
    }

    pub(crate) async fn ticket(&self) -> Result<Option<SealedTicket>> {
        let conn = self.inner.db.get().await?;
        let Some(r) = conn.query_opt(READ_TICKET, &[]).await? else {
            return Ok(None);
        };
        Ok(Some(SealedTicket {
            sealed: r.try_get(0)?,
            create_time: r.try_get(1)?,
            received_at: r.try_get(2)?,
        }))
    }

    /// Finish queued writes, stop the writer and the listener.
    pub(crate) async fn close(&self) {
        // Ignored error: the writer is already gone, which is what we want.
        let _ = self.inner.tx.send(Command::Shutdown).await;
        let writer = self.inner.writer.lock().ok().and_then(|mut w| w.take());
        if let Some(h) = writer {
            let _ = h.await;
        }
        let listener = self.inner.listener.lock().ok().and_then(|mut l| l.take());
        if let Some(h) = listener {
            h.abort();
        }
        self.inner.listening.store(false, Ordering::Relaxed);
    }

    async fn send(&self, cmd: Command) -> Result<()> {
        self.inner.tx.send(cmd).await.map_err(|_| Error::WriterGone)
    }
}

/// Heads only grow: a late notification must not move a watcher back.
fn raise(head: &watch::Sender<i64>, seq: i64) {
    head.send_if_modified(|h| {
        if seq > *h {
            *h = seq;
            true
        } else {
            false
        }
    });
}

async fn read_head(client: &Client) -> Result<i64> {
    Ok(client.query_one(READ_HEAD, &[]).await?.try_get(0)?)
}

/// The LISTEN session: its client, and the task driving its connection (which ends when the
/// connection does).
struct Session {
    client: Client,
    driver: JoinHandle<()>,
}

impl Session {
    /// Connect, LISTEN, then read the head: in that order, a commit in between is both read and
    /// notified rather than neither.
    async fn listen(url: &Secret, head: &Arc<watch::Sender<i64>>) -> Result<Session> {
        let (client, mut connection) =
            tokio_postgres::connect(url.expose(), crate::team::tls::connector()?)
                .await
                .map_err(|e| crate::team::tls::connect_error(&e))?;
        let notified = head.clone();
        // Driven here rather than by the connection's own future, which drops notifications.
        let driver = tokio::spawn(async move {
            let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
            while let Some(message) = messages.next().await {
                match message {
                    Ok(AsyncMessage::Notification(n)) => {
                        if let Ok(seq) = n.payload().parse::<i64>() {
                            raise(&notified, seq);
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "PostgreSQL LISTEN session ended");
                        break;
                    }
                }
            }
        });
        client.batch_execute(&format!("LISTEN {CHANNEL}")).await?;
        raise(head, read_head(&client).await?);
        Ok(Session { client, driver })
    }
}

/// Keeps a LISTEN session up for the life of the store, and `listening` saying whether it is.
async fn listen_loop(
    url: Secret,
    mut session: Session,
    head: Arc<watch::Sender<i64>>,
    listening: Arc<AtomicBool>,
) {
    loop {
        let mut ping = tokio::time::interval(PING_EVERY);
        ping.tick().await;
        loop {
            tokio::select! {
                _ = &mut session.driver => break,
                _ = ping.tick() => {
                    match tokio::time::timeout(PING_TIMEOUT, read_head(&session.client)).await {
                        Ok(Ok(_)) => {}
                        Ok(Err(e)) => {
                            tracing::warn!(error = %e, "PostgreSQL did not answer the LISTEN session's ping");
                            break;
                        }
                        Err(_) => {
                            tracing::warn!("PostgreSQL did not answer the LISTEN session's ping in time");
                            break;
                        }
                    }
                }
            }
        }
        listening.store(false, Ordering::Relaxed);
        session.driver.abort();
        tracing::error!("PostgreSQL unreachable: /healthz answers 503 until it is back");
        session = loop {
            tokio::time::sleep(RECONNECT_DELAY).await;
            match Session::listen(&url, &head).await {
                Ok(s) => break s,
                Err(e) => tracing::warn!(error = %e, "PostgreSQL still unreachable"),
            }
        };
        listening.store(true, Ordering::Relaxed);
        tracing::info!("PostgreSQL reachable again");
    }
}

/// The writer's own session with its statements prepared once.
struct WriterConn {
    client: Client,
    lock_head: Statement,
    append: Statement,
    put_ticket: Statement,
}

impl WriterConn {
    async fn connect(db: &Db) -> Result<Self> {
        let client = db.dedicated().await?;
        // The writer only looks rows up by unique key. Its statements are prepared once, and a
        // plan made while the log was small (a sequential scan is cheapest then) would be kept
        // as the log grows: the dedup read would scan the whole log for every batch (seen: 0.5 s
        // a batch at 100,000 rows). Without sequential scans, the indexes are always used.
        client.batch_execute("SET enable_seqscan = off").await?;
        let (lock_head, append, put_ticket) = futures::try_join!(
            client.prepare(LOCK_HEAD),
            client.prepare(APPEND),
            client.prepare(PUT_TICKET),
        )?;
        Ok(Self {
            client,
            lock_head,
            append,
            put_ticket,
        })
    }

    /// One transaction for `items` in one round trip: BEGIN, the head lock, the append, the
    /// tickets and COMMIT are sent together (pipelined on the one connection, executed in
    /// order) and their answers awaited together. Any error fails the whole batch (after an
    /// error PostgreSQL ends the transaction at the COMMIT without committing); the caller rolls
    /// back in case it never got that far.
    async fn apply(&self, items: &[&Item]) -> Result<(Vec<Outcome>, Option<i64>)> {
        let mut cols = Columns::default();
        let mut tickets: Vec<[&(dyn ToSql + Sync); 3]> = Vec::new();
        for item in items {
            match item {
                Item::Append(ev) => cols.push(ev),
                Item::Ticket {
                    sealed,
                    create_time,
                    received_at,
                } => tickets.push([sealed, create_time, received_at]),
            }
        }
        let appends = !cols.keys.is_empty();
        let params: [&(dyn ToSql + Sync); 5] = [
            &cols.keys,
            &cols.kinds,
            &cols.appids,
            &cols.received,
            &cols.data,
        ];
        type Answer<'a> = BoxFuture<'a, std::result::Result<Vec<Row>, tokio_postgres::Error>>;
        let mut pipeline: Vec<Answer<'_>> = Vec::with_capacity(4 + tickets.len());
        pipeline.push(Box::pin(async {
            self.client
                .batch_execute("BEGIN")
                .await
                .map(|()| Vec::new())
        }));
        if appends {
            pipeline.push(Box::pin(self.client.query(&self.lock_head, &[])));
            pipeline.push(Box::pin(self.client.query(&self.append, &params)));
        }
        let first_ticket = pipeline.len();
        for params in &tickets {
            pipeline.push(Box::pin(self.client.query(&self.put_ticket, params)));
        }
        pipeline.push(Box::pin(async {
            self.client
                .batch_execute("COMMIT")
                .await
                .map(|()| Vec::new())
        }));
        let answers = in_order(pipeline).await?;

        let mut appended = Vec::with_capacity(cols.keys.len());
        if appends {
            for r in answers.get(2).map(Vec::as_slice).unwrap_or_default() {
                let seq: i64 = r.try_get(0)?;
                appended.push(if r.try_get(1)? {
                    Appended::Stored(seq)
                } else {
                    Appended::Duplicate(seq)
                });
            }
        }
        if appended.len() != cols.keys.len() {
            return Err(Error::Team(format!(
                "内部错误：追加结果 {} 行，应为 {} 行 / append answered {} rows for {}",
                appended.len(),
                cols.keys.len(),
                appended.len(),
                cols.keys.len()
            )));
        }
        let new_head = appended
            .iter()
            .filter_map(|a| match a {
                Appended::Stored(seq) => Some(*seq),
                Appended::Duplicate(_) => None,
            })
            .max();
        let mut appended = appended.into_iter();
        let mut ticket_answers = answers[first_ticket..].iter();
        let outcomes = items
            .iter()
            .map(|item| match item {
                Item::Append(_) => {
                    Outcome::Append(appended.next().unwrap_or(Appended::Duplicate(0)))
                }
                Item::Ticket { .. } => Outcome::Ticket(match ticket_answers.next() {
                    Some(rows) if !rows.is_empty() => TicketUpdate::Replaced,
                    _ => TicketUpdate::KeptNewer,
                }),
            })
            .collect();
        Ok((outcomes, new_head))
    }
}

/// The appends of a batch, column by column (one `unnest`).
#[derive(Default)]
struct Columns {
    keys: Vec<String>,
    kinds: Vec<&'static str>,
    appids: Vec<Option<String>>,
    received: Vec<i64>,
    data: Vec<String>,
}

impl Columns {
    fn push(&mut self, ev: &NewEvent) {
        self.keys.push(ev.dedup_key.clone());
        self.kinds.push(ev.kind);
        self.appids.push(ev.appid.clone());
        self.received.push(ev.received_at);
        self.data.push(ev.data.to_string());
    }
}

/// Awaits `futs`, polling them in their order on every wake, so their requests leave in that
/// order on the one connection; the first error ends it.
async fn in_order<T>(
    mut futs: Vec<BoxFuture<'_, std::result::Result<T, tokio_postgres::Error>>>,
) -> std::result::Result<Vec<T>, tokio_postgres::Error> {
    let mut done: Vec<Option<T>> = futs.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (fut, out) in futs.iter_mut().zip(done.iter_mut()) {
            if out.is_some() {
                continue;
            }
            match fut.as_mut().poll(cx) {
                Poll::Ready(Ok(v)) => *out = Some(v),
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => pending = true,
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(Ok(done.iter_mut().filter_map(Option::take).collect()))
        }
    })
    .await
}

/// Batch sizes and times since the last report: how long the oldest request of a batch waited
/// in the queue before its batch started, and the batch's round trip up to COMMIT's answer.
#[derive(Default)]
struct Profile {
    since: Option<Instant>,
    batches: u64,
    items: u64,
    largest: usize,
    queued: Duration,
    round_trip: Duration,
}

impl Profile {
    fn record(&mut self, items: usize, queued: Duration, round_trip: Duration) {
        let since = *self.since.get_or_insert_with(Instant::now);
        self.batches += 1;
        self.items += items as u64;
        self.largest = self.largest.max(items);
        self.queued += queued;
        self.round_trip += round_trip;
        if since.elapsed() >= STATS_EVERY {
            let per = |d: Duration| d.as_secs_f64() * 1000.0 / self.batches as f64;
            tracing::debug!(
                batches = self.batches,
                items = self.items,
                mean_batch = self.items as f64 / self.batches as f64,
                largest = self.largest,
                queued_ms = per(self.queued),
                round_trip_ms = per(self.round_trip),
                secs = since.elapsed().as_secs_f64(),
                "pg write batches"
            );
            *self = Profile::default();
        }
    }
}

async fn writer_loop(
    db: Db,
    mut conn: Option<WriterConn>,
    mut rx: mpsc::Receiver<Command>,
    head: Arc<watch::Sender<i64>>,
) {
    let mut profile = Profile::default();
    let mut stop = false;
    while !stop {
        let Some(first) = rx.recv().await else {
            break;
        };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(c) => batch.push(c),
                Err(_) => break,
            }
        }
        let mut items = Vec::with_capacity(batch.len());
        let mut replies = Vec::with_capacity(batch.len());
        let now = Instant::now();
        let mut oldest = now;
        for cmd in batch {
            match cmd {
                Command::Write(item, reply, queued) => {
                    items.push(item);
                    replies.push(reply);
                    oldest = oldest.min(queued);
                }
                Command::Shutdown => stop = true,
            }
        }
        if items.is_empty() {
            continue;
        }
        let all: Vec<&Item> = items.iter().collect();
        match apply(&db, &mut conn, &all, oldest, &mut profile).await {
            Ok(outcomes) => publish_and_answer(&head, replies, outcomes),
            Err(e) if all.len() > 1 && refused_by_the_database(&e, &conn) => {
                // One request the database refuses (a value it cannot store) must not take the
                // others down: each is applied alone, so only that one is refused.
                tracing::warn!(error = %describe(&e), "storage batch refused; applying its requests one by one");
                for (item, reply) in all.into_iter().zip(replies) {
                    match apply(&db, &mut conn, &[item], now, &mut profile).await {
                        Ok(outcomes) => publish_and_answer(&head, vec![reply], outcomes),
                        Err(e) => refuse(vec![reply], &e),
                    }
                }
            }
            Err(e) => refuse(replies, &e),
        }
    }
}

/// The error came from the database about the statement, and the session survived it: the
/// batch's contents, not the connection, were the problem.
fn refused_by_the_database(e: &Error, conn: &Option<WriterConn>) -> bool {
    matches!(e, Error::Postgres(pe) if pe.as_db_error().is_some())
        && conn.as_ref().is_some_and(|c| !c.client.is_closed())
}

/// One transaction on the writer's session, reconnecting first when it was lost. On failure the
/// transaction is rolled back (nothing of it is durable) and a broken session dropped.
async fn apply(
    db: &Db,
    conn: &mut Option<WriterConn>,
    items: &[&Item],
    queued: Instant,
    profile: &mut Profile,
) -> Result<(Vec<Outcome>, Option<i64>)> {
    if conn.as_ref().is_none_or(|c| c.client.is_closed()) {
        *conn = None;
        *conn = Some(WriterConn::connect(db).await?);
    }
    let Some(c) = conn.as_ref() else {
        return Err(Error::WriterGone);
    };
    let started = Instant::now();
    let result = c.apply(items).await;
    match &result {
        Ok(_) => profile.record(
            items.len(),
            started.duration_since(queued),
            started.elapsed(),
        ),
        Err(e) => {
            tracing::error!(error = %describe(e), "storage batch failed; every request in it is refused");
            // Ends the transaction if one is still open (a warning, not an error, if not).
            if c.client.batch_execute("ROLLBACK").await.is_err() || c.client.is_closed() {
                *conn = None;
            }
        }
    }
    result
}

/// Publish the new head before answering, so a caller that saw `Stored(n)` also sees head >= n,
/// and local long-polls wake for everything acknowledged.
fn publish_and_answer(
    head: &watch::Sender<i64>,
    replies: Vec<Reply>,
    outcomes: (Vec<Outcome>, Option<i64>),
) {
    let (outcomes, new_head) = outcomes;
    if let Some(seq) = new_head {
        raise(head, seq);
    }
    for (reply, outcome) in replies.into_iter().zip(outcomes) {
        match (reply, outcome) {
            (Reply::Append(tx), Outcome::Append(a)) => drop(tx.send(Ok(a))),
            (Reply::Ticket(tx), Outcome::Ticket(t)) => drop(tx.send(Ok(t))),
            // Outcomes are built item by item from the same list as the replies.
            (Reply::Append(tx), Outcome::Ticket(_)) => drop(tx.send(Err(Error::WriterGone))),
            (Reply::Ticket(tx), Outcome::Append(_)) => drop(tx.send(Err(Error::WriterGone))),
        }
    }
}

/// The error with what the database said (its SQLSTATE and message, which carry no bound
/// values); tokio-postgres' own text is only "db error".
fn describe(e: &Error) -> String {
    match e {
        Error::Postgres(pe) => match pe.as_db_error() {
            Some(db) => format!("{e} ({}: {})", db.code().code(), db.message()),
            None => format!("{e} ({pe:?})"),
        },
        _ => e.to_string(),
    }
}

/// The batch did not commit: nothing in it is durable, so nobody may hear success.
fn refuse(replies: Vec<Reply>, e: &Error) {
    let msg = describe(e);
    for reply in replies {
        let err = Error::WriteFailed(msg.clone());
        match reply {
            Reply::Append(tx) => drop(tx.send(Err(err))),
            Reply::Ticket(tx) => drop(tx.send(Err(err))),
        }
    }
}
