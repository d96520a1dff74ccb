//! Single-desk storage in one SQLite file (WAL): the append-only event log with gapless sequence
//! numbers, the de-duplication keys, and the latest component_verify_ticket (sealed).
//!
//! One dedicated writer thread owns the only writing connection. Requests queue on a channel;
//! the writer takes everything waiting, applies it in one transaction and commits (group commit:
//! one fsync for many pushes) and only then answers each caller — so a push is answered `success`
//! only after its event is on disk, and a kill -9 cannot lose it. Readers use their own
//! connections, which WAL lets run beside the writer.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use rusqlite::{Connection, OptionalExtension, params};
use tokio::sync::{mpsc, oneshot, watch};

use super::{Appended, EventRow, NewEvent, SealedTicket, TicketUpdate};
use crate::error::{Error, Result};

/// The schema version this relay writes. A database with a higher `user_version` is refused.
const SCHEMA_VERSION: i64 = 1;
/// Most commands applied in one transaction.
const MAX_BATCH: usize = 1024;
/// A batch at least this large means the relay is under load: the next commit gathers for
/// `GATHER` first (at 40,000 pushes/s batches are ~45; at 2,000/s one or two).
const BUSY_BATCH: usize = 32;
/// How long a commit under load waits for more pushes: half a millisecond on each answer,
/// against the 5 s WeChat waits.
const GATHER: std::time::Duration = std::time::Duration::from_micros(500);
/// Reader connections kept open between reads.
const MAX_IDLE_READERS: usize = 8;
/// Queue depth before callers wait (back-pressure instead of unbounded memory).
const QUEUE_DEPTH: usize = 8192;

const MIGRATION_1: &str = "
CREATE TABLE events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT    NOT NULL,
    appid       TEXT,
    received_at INTEGER NOT NULL,
    data        TEXT    NOT NULL
);
CREATE INDEX events_received_at ON events(received_at);
CREATE TABLE dedup (
    key         TEXT    PRIMARY KEY,
    seq         INTEGER NOT NULL,
    received_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX dedup_received_at ON dedup(received_at);
-- One row: the newest ticket, sealed with the component EncodingAESKey (never stored in clear).
CREATE TABLE ticket (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    sealed      TEXT    NOT NULL,
    create_time INTEGER NOT NULL,
    received_at INTEGER NOT NULL
);
";

enum Command {
    Append(NewEvent, oneshot::Sender<Result<Appended>>),
    PutTicket {
        sealed: String,
        create_time: i64,
        received_at: i64,
        reply: oneshot::Sender<Result<TicketUpdate>>,
    },
    Prune {
        before: i64,
        reply: oneshot::Sender<Result<usize>>,
    },
    Shutdown,
}

/// A cloneable handle to the SQLite store.
#[derive(Clone)]
pub(crate) struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    tx: mpsc::Sender<Command>,
    head: watch::Receiver<i64>,
    readers: Mutex<Vec<Connection>>,
    writer: Mutex<Option<JoinHandle<()>>>,
}

impl SqliteStore {
    /// Open (creating if needed) the database at `path`, migrate it and start the writer thread.
    pub(crate) fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::DataDir {
                path: dir.to_path_buf(),
                reason: e.to_string(),
            })?;
        }
        let mut conn = Connection::open(path)?;
        configure(&conn)?;
        migrate(&mut conn)?;
        let head: i64 = conn
            .query_row(
                "SELECT seq FROM sqlite_sequence WHERE name = 'events'",
                [],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or(0);
        let (head_tx, head_rx) = watch::channel(head);
        let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
        let writer = std::thread::Builder::new()
            .name("relay-store-writer".into())
            .spawn(move || writer_loop(conn, rx, head_tx))?;
        Ok(Self {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                tx,
                head: head_rx,
                readers: Mutex::new(Vec::new()),
                writer: Mutex::new(Some(writer)),
            }),
        })
    }

    /// Append an event unless its dedup key was seen; resolves after the commit.
    pub(crate) async fn append(&self, event: NewEvent) -> Result<Appended> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::Append(event, reply)).await?;
        rx.await.map_err(|_| Error::WriterGone)?
    }

    /// Keep `sealed` as the latest ticket unless a later one is already kept.
    pub(crate) async fn put_ticket(
        &self,
        sealed: String,
        create_time: i64,
        received_at: i64,
    ) -> Result<TicketUpdate> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::PutTicket {
            sealed,
            create_time,
            received_at,
            reply,
        })
        .await?;
        rx.await.map_err(|_| Error::WriterGone)?
    }

    /// Delete events and dedup keys received before `before` (unix seconds). Sequence numbers
    /// are never reused afterwards.
    pub(crate) async fn prune(&self, before: i64) -> Result<usize> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::Prune { before, reply }).await?;
        rx.await.map_err(|_| Error::WriterGone)?
    }

    /// A receiver that changes whenever new events are committed.
    pub(crate) fn subscribe(&self) -> watch::Receiver<i64> {
        self.inner.head.clone()
    }

    /// Up to `limit` events with `seq > after`, oldest first, and the log's first seq (see
    /// [`first_seq_in`]), read in one transaction so the two agree.
    pub(crate) async fn events_page(&self, after: i64, limit: u32) -> Result<(Vec<EventRow>, i64)> {
        self.read(move |conn| {
            let tx = conn.unchecked_transaction()?;
            let rows = {
                let mut stmt = tx.prepare_cached(
                    "SELECT seq, kind, appid, received_at, data FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
                )?;
                stmt.query_map(params![after, limit], |r| {
                    let data: String = r.get(4)?;
                    Ok(EventRow {
                        seq: r.get(0)?,
                        kind: r.get(1)?,
                        appid: r.get(2)?,
                        received_at: r.get(3)?,
                        // Written by us from a serde_json::Value, so it parses; a hand-edited
                        // row degrades to null rather than failing the whole page.
                        data: serde_json::from_str(&data).unwrap_or(serde_json::Value::Null),
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?
            };
            let first = first_seq_in(&tx)?;
            Ok((rows, first))
        })
        .await
    }

    /// The smallest seq still in the log, or the highest ever assigned + 1 when it is empty.
    pub(crate) async fn first_seq(&self) -> Result<i64> {
        self.read(first_seq_in).await
    }

    /// Whether the writer thread still takes writes. False after [`SqliteStore::close`] and when the
    /// thread died: its end of the queue is dropped when its loop ends or unwinds.
    pub(crate) fn writer_alive(&self) -> bool {
        !self.inner.tx.is_closed()
    }

    /// The latest ticket, still sealed.
    pub(crate) async fn ticket(&self) -> Result<Option<SealedTicket>> {
        self.read(|conn| {
            conn.query_row(
                "SELECT sealed, create_time, received_at FROM ticket WHERE id = 1",
                [],
                |r| {
                    Ok(SealedTicket {
                        sealed: r.get(0)?,
                        create_time: r.get(1)?,
                        received_at: r.get(2)?,
                    })
                },
            )
            .optional()
            .map_err(Error::from)
        })
        .await
    }

    /// Finish queued writes and stop the writer thread.
    pub(crate) async fn close(&self) {
        // Ignored error: the writer is already gone, which is what we want.
        let _ = self.inner.tx.send(Command::Shutdown).await;
        let handle = self.inner.writer.lock().ok().and_then(|mut w| w.take());
        if let Some(h) = handle {
            let _ = tokio::task::spawn_blocking(move || h.join()).await;
        }
    }

    async fn send(&self, cmd: Command) -> Result<()> {
        self.inner.tx.send(cmd).await.map_err(|_| Error::WriterGone)
    }

    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let pooled = inner.readers.lock().ok().and_then(|mut v| v.pop());
            let conn = match pooled {
                Some(c) => c,
                None => {
                    let c = Connection::open(&inner.path)?;
                    configure(&c)?;
                    c.pragma_update(None, "query_only", true)?;
                    c
                }
            };
            let out = f(&conn);
            // Keep a few warm connections; a burst beyond that closes its extras.
            if let Ok(mut v) = inner.readers.lock()
                && v.len() < MAX_IDLE_READERS
            {
                v.push(conn);
            }
            out
        })
        .await
        .map_err(|_| Error::WriterGone)?
    }
}

/// The smallest seq still in the log; for an empty log, one past the highest seq ever assigned
/// (sqlite_sequence keeps it across prunes). One statement, so both come from one snapshot.
fn first_seq_in(conn: &Connection) -> Result<i64> {
    let (min, max_ever): (Option<i64>, Option<i64>) = conn
        .prepare_cached(
            "SELECT (SELECT min(seq) FROM events), \
                    (SELECT seq FROM sqlite_sequence WHERE name = 'events')",
        )?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(min.unwrap_or_else(|| max_ever.unwrap_or(0) + 1))
}

/// Connection pragmas in one place. synchronous=FULL: every commit is fsynced to the WAL, so an
/// acknowledged push survives a power cut, not only a process kill; group commit keeps it cheap.
fn configure(conn: &Connection) -> Result<()> {
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "busy_timeout", 5000)?;
    Ok(())
}

fn migrate(conn: &mut Connection) -> Result<()> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(Error::SchemaTooNew {
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    if version < 1 {
        let tx = conn.transaction()?;
        tx.execute_batch(MIGRATION_1)?;
        tx.pragma_update(None, "user_version", 1)?;
        tx.commit()?;
    }
    Ok(())
}

/// A reply waiting for its batch to commit.
enum Pending {
    Append(oneshot::Sender<Result<Appended>>, Result<Appended>),
    Ticket(oneshot::Sender<Result<TicketUpdate>>, Result<TicketUpdate>),
    Prune(oneshot::Sender<Result<usize>>, Result<usize>),
}

fn writer_loop(mut conn: Connection, mut rx: mpsc::Receiver<Command>, head: watch::Sender<i64>) {
    let mut stop = false;
    let mut last_batch = 0usize;
    while !stop {
        let Some(first) = rx.blocking_recv() else {
            break;
        };
        let mut batch = vec![first];
        drain(&mut rx, &mut batch);
        // Under a sustained load (the last batch was large too) wait a moment for more before
        // committing: each commit costs a WAL write and an fsync however few pushes it holds,
        // so fewer, larger commits leave more CPU for answering. A quiet relay never waits.
        if last_batch >= BUSY_BATCH && batch.len() < MAX_BATCH {
            std::thread::sleep(GATHER);
            drain(&mut rx, &mut batch);
        }
        last_batch = batch.len();
        let mut pending = Vec::with_capacity(batch.len());
        let outcome = apply_batch(&mut conn, batch, &mut pending, &mut stop);
        if let Err(e) = outcome {
            // The batch did not commit: nothing in it is durable, so nobody may hear success.
            tracing::error!(error = %e, "storage batch failed; every request in it is refused");
            let msg = e.to_string();
            for p in pending {
                let err = || Error::WriteFailed(msg.clone());
                match p {
                    Pending::Append(tx, _) => drop(tx.send(Err(err()))),
                    Pending::Ticket(tx, _) => drop(tx.send(Err(err()))),
                    Pending::Prune(tx, _) => drop(tx.send(Err(err()))),
                }
            }
            continue;
        }
        // Publish the new head before answering, so a caller that saw `Stored(n)` also sees
        // head() >= n, and long-polls wake for everything that was acknowledged.
        let new_head = pending
            .iter()
            .filter_map(|p| match p {
                Pending::Append(_, Ok(Appended::Stored(seq))) => Some(*seq),
                _ => None,
            })
            .max();
        if let Some(seq) = new_head {
            head.send_replace(seq);
        }
        for p in pending {
            match p {
                Pending::Append(tx, r) => drop(tx.send(r)),
                Pending::Ticket(tx, r) => drop(tx.send(r)),
                Pending::Prune(tx, r) => drop(tx.send(r)),
            }
        }
    }
}

/// Moves what is already waiting into `batch`, up to `MAX_BATCH`.
fn drain(rx: &mut mpsc::Receiver<Command>, batch: &mut Vec<Command>) {
    while batch.len() < MAX_BATCH {
        match rx.try_recv() {
            Ok(c) => batch.push(c),
            Err(_) => break,
        }
    }
}

fn apply_batch(
    conn: &mut Connection,
    batch: Vec<Command>,
    pending: &mut Vec<Pending>,
    stop: &mut bool,
) -> Result<()> {
    let tx = conn.transaction()?;
    for cmd in batch {
        match cmd {
            Command::Append(ev, reply) => {
                // A savepoint per request: one bad request is refused alone, the rest commit.
                let r = in_savepoint(&tx, |sp| append_one(sp, &ev))?;
                pending.push(Pending::Append(reply, r));
            }
            Command::PutTicket {
                sealed,
                create_time,
                received_at,
                reply,
            } => {
                let r = in_savepoint(&tx, |sp| {
                    put_ticket_one(sp, &sealed, create_time, received_at)
                })?;
                pending.push(Pending::Ticket(reply, r));
            }
            Command::Prune { before, reply } => {
                let r = in_savepoint(&tx, |sp| prune(sp, before))?;
                pending.push(Pending::Prune(reply, r));
            }
            Command::Shutdown => *stop = true,
        }
    }
    tx.commit()?;
    Ok(())
}

/// Runs `f` inside a savepoint: kept when it succeeds, rolled back when it fails. The inner
/// result is the request's; the outer one fails the whole batch (a savepoint that could not be
/// opened or rolled back leaves the transaction in a state nobody may be told is stored).
///
/// The three statements are prepared once and cached (rusqlite's `Savepoint` parses its SQL
/// again for every request: at 40,000 pushes/s that parsing was a visible share of the store
/// thread's time).
fn in_savepoint<T>(
    conn: &Connection,
    f: impl FnOnce(&Connection) -> Result<T>,
) -> Result<Result<T>> {
    conn.prepare_cached("SAVEPOINT request")?.execute([])?;
    let r = f(conn);
    if r.is_err() {
        conn.prepare_cached("ROLLBACK TO request")?.execute([])?;
    }
    conn.prepare_cached("RELEASE request")?.execute([])?;
    Ok(r)
}

fn append_one(conn: &Connection, ev: &NewEvent) -> Result<Appended> {
    let existing: Option<i64> = conn
        .prepare_cached("SELECT seq FROM dedup WHERE key = ?1")?
        .query_row([&ev.dedup_key], |r| r.get(0))
        .optional()?;
    if let Some(seq) = existing {
        return Ok(Appended::Duplicate(seq));
    }
    // Only this thread writes, and a dedup hit returns before the insert, so AUTOINCREMENT never
    // burns a number on a failed insert: the log stays gapless.
    conn.prepare_cached(
        "INSERT INTO events (kind, appid, received_at, data) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![
        ev.kind,
        ev.appid,
        ev.received_at,
        ev.data.to_string()
    ])?;
    let seq = conn.last_insert_rowid();
    conn.prepare_cached("INSERT INTO dedup (key, seq, received_at) VALUES (?1, ?2, ?3)")?
        .execute(params![ev.dedup_key, seq, ev.received_at])?;
    Ok(Appended::Stored(seq))
}

fn put_ticket_one(
    conn: &Connection,
    sealed: &str,
    create_time: i64,
    received_at: i64,
) -> Result<TicketUpdate> {
    let current: Option<i64> = conn
        .query_row("SELECT create_time FROM ticket WHERE id = 1", [], |r| {
            r.get(0)
        })
        .optional()?;
    match current {
        // Strictly older: a replayed or delayed push must never bring an old ticket back.
        Some(ct) if create_time < ct => Ok(TicketUpdate::KeptNewer),
        _ => {
            conn.execute(
                "INSERT INTO ticket (id, sealed, create_time, received_at) VALUES (1, ?1, ?2, ?3)
                 ON CONFLICT(id) DO UPDATE SET sealed = ?1, create_time = ?2, received_at = ?3",
                params![sealed, create_time, received_at],
            )?;
            Ok(TicketUpdate::Replaced)
        }
    }
}

fn prune(conn: &Connection, before: i64) -> Result<usize> {
    let n = conn.execute("DELETE FROM events WHERE received_at < ?1", [before])?;
    conn.execute("DELETE FROM dedup WHERE received_at < ?1", [before])?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_request_is_rolled_back_alone_and_the_batch_goes_on() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut conn = Connection::open(dir.path().join("t.db")).expect("open");
        conn.execute_batch("CREATE TABLE t (v INTEGER NOT NULL)")
            .expect("table");
        let tx = conn.transaction().expect("transaction");
        let insert = |c: &Connection, v: i64| -> Result<()> {
            c.execute("INSERT INTO t (v) VALUES (?1)", [v])?;
            Ok(())
        };
        let first = in_savepoint(&tx, |c| insert(c, 1)).expect("savepoint 1");
        assert!(first.is_ok());
        // Writes, then fails: its write must not survive.
        let failed = in_savepoint(&tx, |c| {
            insert(c, 2)?;
            Err::<(), _>(Error::WriteFailed("refused".into()))
        })
        .expect("savepoint 2");
        assert!(failed.is_err());
        // The same cached savepoint statements serve the next request.
        let third = in_savepoint(&tx, |c| insert(c, 3)).expect("savepoint 3");
        assert!(third.is_ok());
        tx.commit().expect("commit");
        let mut read = conn.prepare("SELECT v FROM t ORDER BY v").expect("read");
        let kept: Vec<i64> = read
            .query_map([], |r| r.get(0))
            .expect("rows")
            .collect::<rusqlite::Result<_>>()
            .expect("values");
        assert_eq!(kept, vec![1, 3]);
    }

    fn ev(key: &str, at: i64) -> NewEvent {
        NewEvent {
            kind: "text",
            appid: Some("wxa".into()),
            received_at: at,
            data: serde_json::json!({ "k": key }),
            dedup_key: key.into(),
        }
    }

    #[tokio::test]
    async fn duplicates_keep_the_log_gapless_and_survive_reopen() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("r.sqlite3");
        let store = SqliteStore::open(&path).expect("open");
        assert_eq!(
            store.append(ev("a", 10)).await.expect("a"),
            Appended::Stored(1)
        );
        assert_eq!(
            store.append(ev("a", 11)).await.expect("a again"),
            Appended::Duplicate(1)
        );
        assert_eq!(
            store.append(ev("b", 12)).await.expect("b"),
            Appended::Stored(2)
        );
        assert_eq!(*store.subscribe().borrow(), 2);
        store.close().await;

        let store = SqliteStore::open(&path).expect("reopen");
        assert_eq!(*store.subscribe().borrow(), 2);
        let rows = store.events_page(0, 10).await.expect("read").0;
        assert_eq!(rows.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(rows[1].data, serde_json::json!({ "k": "b" }));
        assert_eq!(
            store.append(ev("c", 13)).await.expect("c"),
            Appended::Stored(3)
        );
        store.close().await;
    }

    #[tokio::test]
    async fn an_older_ticket_never_replaces_a_newer_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(&dir.path().join("r.sqlite3")).expect("open");
        assert_eq!(
            store.put_ticket("new".into(), 200, 1).await.expect("put"),
            TicketUpdate::Replaced
        );
        assert_eq!(
            store.put_ticket("old".into(), 100, 2).await.expect("put"),
            TicketUpdate::KeptNewer
        );
        let t = store.ticket().await.expect("read").expect("some");
        assert_eq!((t.sealed.as_str(), t.create_time), ("new", 200));
        store.close().await;
    }

    #[tokio::test]
    async fn pruning_never_lets_a_sequence_number_be_reused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("r.sqlite3");
        let store = SqliteStore::open(&path).expect("open");
        store.append(ev("a", 10)).await.expect("a");
        store.append(ev("b", 10)).await.expect("b");
        assert_eq!(store.first_seq().await.expect("first"), 1);
        assert_eq!(store.prune(11).await.expect("prune"), 2);
        // Empty, but the numbers 1 and 2 are spent: the next event will be 3.
        assert_eq!(store.first_seq().await.expect("first"), 3);
        store.close().await;
        let store = SqliteStore::open(&path).expect("reopen");
        assert_eq!(
            store.append(ev("c", 20)).await.expect("c"),
            Appended::Stored(3)
        );
        assert_eq!(store.events_page(0, 10).await.expect("read").0.len(), 1);
        assert_eq!(store.first_seq().await.expect("first"), 3);
        store.close().await;
    }

    #[tokio::test]
    async fn the_writer_is_reported_dead_once_it_stopped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(&dir.path().join("r.sqlite3")).expect("open");
        assert!(store.writer_alive());
        store.close().await;
        assert!(!store.writer_alive());
        assert!(matches!(
            store.append(ev("a", 1)).await,
            Err(Error::WriterGone)
        ));
    }
}
