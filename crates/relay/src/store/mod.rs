//! Durable storage of the relay: the append-only event log with gapless sequence numbers, the
//! de-duplication keys, and the latest component_verify_ticket (sealed).
//!
//! Two backends behind one handle, so the routes do not know which one runs:
//! - [`sqlite`]: single-desk mode, one SQLite file owned by this process;
//! - [`pg`]: team mode, PostgreSQL shared by any number of relay processes.
//!
//! Both answer a write only after its transaction committed (group commit: many writes, one
//! flush), number events gaplessly in commit order, and publish the highest committed seq on a
//! `watch` channel that long-polls wait on.

mod pg;
mod sqlite;

use std::path::Path;

use tokio::sync::watch;

use crate::config::Secret;
use crate::error::Result;
use crate::team::db::Db;

/// An event to append.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// `authorized`, `text`, … (contracts.md).
    pub kind: &'static str,
    /// The authorizer appid it concerns, if any.
    pub appid: Option<String>,
    /// Unix seconds when the relay received it.
    pub received_at: i64,
    /// The JSON `data` object.
    pub data: serde_json::Value,
    /// Identity of the underlying push: a second push with the same key is a retry.
    pub dedup_key: String,
}

/// What happened to an append.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Appended {
    /// Stored under this sequence number.
    Stored(i64),
    /// Already stored earlier under this sequence number (a retry); nothing written.
    Duplicate(i64),
}

/// What happened to a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketUpdate {
    /// It is now the latest ticket.
    Replaced,
    /// A ticket with a later CreateTime is already kept; this one was ignored.
    KeptNewer,
}

/// One row of the event log.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    pub seq: i64,
    pub kind: String,
    pub appid: Option<String>,
    pub received_at: i64,
    pub data: serde_json::Value,
}

/// The stored ticket, still sealed.
#[derive(Debug, Clone)]
pub struct SealedTicket {
    pub sealed: String,
    pub create_time: i64,
    pub received_at: i64,
}

/// A cloneable handle to the store, whichever backend holds it.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
}

#[derive(Clone)]
enum Backend {
    Sqlite(sqlite::SqliteStore),
    Pg(pg::PgStore),
}

impl Store {
    /// Single-desk mode: open (creating if needed) the SQLite database at `path`, migrate it and
    /// start the writer thread.
    pub fn open(path: &Path) -> Result<Self> {
        Ok(Self {
            backend: Backend::Sqlite(sqlite::SqliteStore::open(path)?),
        })
    }

    /// Team mode: the log in the team database (migrated by [`Db::open`]). `url` is the same
    /// database's URL: the store keeps two sessions of its own beside the pool, one writing and
    /// one listening for other processes' commits.
    pub async fn open_pg(db: Db, url: &Secret) -> Result<Self> {
        Ok(Self {
            backend: Backend::Pg(pg::PgStore::open(db, url).await?),
        })
    }

    /// Append an event unless its dedup key was seen; resolves after the commit.
    pub async fn append(&self, event: NewEvent) -> Result<Appended> {
        match &self.backend {
            Backend::Sqlite(s) => s.append(event).await,
            Backend::Pg(s) => s.append(event).await,
        }
    }

    /// Keep `sealed` as the latest ticket unless a later one is already kept.
    pub async fn put_ticket(
        &self,
        sealed: String,
        create_time: i64,
        received_at: i64,
    ) -> Result<TicketUpdate> {
        match &self.backend {
            Backend::Sqlite(s) => s.put_ticket(sealed, create_time, received_at).await,
            Backend::Pg(s) => s.put_ticket(sealed, create_time, received_at).await,
        }
    }

    /// Delete events and dedup keys received before `before` (unix seconds). Sequence numbers
    /// are never reused afterwards.
    pub async fn prune(&self, before: i64) -> Result<usize> {
        match &self.backend {
            Backend::Sqlite(s) => s.prune(before).await,
            Backend::Pg(s) => s.prune(before).await,
        }
    }

    /// The highest sequence number known committed (0 for an empty log). In team mode, commits
    /// of other processes arrive here a moment after they happen (LISTEN/NOTIFY).
    pub fn head(&self) -> i64 {
        *self.subscribe().borrow()
    }

    /// A receiver that changes whenever new events are committed.
    pub fn subscribe(&self) -> watch::Receiver<i64> {
        match &self.backend {
            Backend::Sqlite(s) => s.subscribe(),
            Backend::Pg(s) => s.subscribe(),
        }
    }

    /// Up to `limit` events with `seq > after`, oldest first.
    pub async fn events_after(&self, after: i64, limit: u32) -> Result<Vec<EventRow>> {
        Ok(self.events_page(after, limit).await?.0)
    }

    /// Up to `limit` events with `seq > after`, oldest first, and the log's first seq (see
    /// [`Store::first_seq`]), read from one snapshot so the two agree.
    pub async fn events_page(&self, after: i64, limit: u32) -> Result<(Vec<EventRow>, i64)> {
        match &self.backend {
            Backend::Sqlite(s) => s.events_page(after, limit).await,
            Backend::Pg(s) => s.events_page(after, limit).await,
        }
    }

    /// The smallest seq still in the log, or the highest ever assigned + 1 when it is empty.
    pub async fn first_seq(&self) -> Result<i64> {
        match &self.backend {
            Backend::Sqlite(s) => s.first_seq().await,
            Backend::Pg(s) => s.first_seq().await,
        }
    }

    /// Whether writes can be taken: false after [`Store::close`], when the writer died, and in
    /// team mode while the database is unreachable (/healthz then answers 503).
    pub fn writer_alive(&self) -> bool {
        match &self.backend {
            Backend::Sqlite(s) => s.writer_alive(),
            Backend::Pg(s) => s.writer_alive(),
        }
    }

    /// The latest ticket, still sealed.
    pub async fn ticket(&self) -> Result<Option<SealedTicket>> {
        match &self.backend {
            Backend::Sqlite(s) => s.ticket().await,
            Backend::Pg(s) => s.ticket().await,
        }
    }

    /// Finish queued writes and stop the writer.
    pub async fn close(&self) {
        match &self.backend {
            Backend::Sqlite(s) => s.close().await,
            Backend::Pg(s) => s.close().await,
        }
    }
}
