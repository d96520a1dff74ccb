//! The LISTEN session of a process for job changes (`team_jobs`), of its own and reconnecting:
//! pooled sessions (`Db::dedicated` included) drop notifications, so this one drives its
//! connection itself, as the event log's does (store/pg.rs).

use std::time::Duration;

use futures::StreamExt;
use tokio::sync::{broadcast, watch};
use tokio_postgres::AsyncMessage;

use super::CHANNEL;
use crate::config::Secret;

/// Job changes heard on this process's LISTEN session, from any process. A message is a job id;
/// `-1` means "anything may have changed" (sent after the session reconnects, since
/// notifications while it was down are lost).
#[derive(Clone)]
pub struct Hub {
    tx: broadcast::Sender<i64>,
}

const RECONNECT_DELAY: Duration = Duration::from_secs(1);
const PING_EVERY: Duration = Duration::from_secs(5);

impl Hub {
    /// Starts the LISTEN session; it reconnects until `stop` turns true.
    pub fn start(url: Secret, stop: watch::Receiver<bool>) -> Hub {
        let (tx, _) = broadcast::channel(1024);
        tokio::spawn(listen_loop(url, tx.clone(), stop));
        Hub { tx }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<i64> {
        self.tx.subscribe()
    }
}

async fn listen_loop(url: Secret, tx: broadcast::Sender<i64>, mut stop: watch::Receiver<bool>) {
    loop {
        if *stop.borrow() {
            return;
        }
        let tls = match crate::team::tls::connector() {
            Ok(t) => t,
            Err(e) => {
                tracing::error!(error = %e, "jobs LISTEN session: no TLS connector");
                return;
            }
        };
        match tokio_postgres::connect(url.expose(), tls).await {
            Ok((client, mut connection)) => {
                let sink = tx.clone();
                // Driven here: the connection's own future drops notifications.
                let mut driver = tokio::spawn(async move {
                    let mut messages =
                        futures::stream::poll_fn(move |cx| connection.poll_message(cx));
                    while let Some(m) = messages.next().await {
                        match m {
                            Ok(AsyncMessage::Notification(n)) => {
                                if let Ok(id) = n.payload().parse::<i64>() {
                                    let _ = sink.send(id);
                                }
                            }
                            Ok(_) => {}
                            Err(e) => {
                                tracing::warn!(error = %e, "jobs LISTEN session ended");
                                break;
                            }
                        }
                    }
                });
                if client
                    .batch_execute(&format!("LISTEN {CHANNEL}"))
                    .await
                    .is_ok()
                {
                    let _ = tx.send(-1);
                    let mut ping = tokio::time::interval(PING_EVERY);
                    loop {
                        tokio::select! {
                            _ = &mut driver => break,
                            _ = stop.changed() => { driver.abort(); return; }
                            _ = ping.tick() => {
                                let ok = tokio::time::timeout(PING_EVERY, client.simple_query("SELECT 1"))
                                    .await
                                    .is_ok_and(|r| r.is_ok());
                                if !ok { break; }
                            }
                        }
                    }
                }
                driver.abort();
            }
            Err(e) => tracing::warn!(error = %e, "jobs LISTEN session cannot connect"),
        }
        tokio::select! {
            _ = tokio::time::sleep(RECONNECT_DELAY) => {}
            _ = stop.changed() => return,
        }
    }
}

/// How often at most one process announces progress of one job.
const NUDGE_EVERY: Duration = Duration::from_millis(100);

/// Coalesces this process's progress announcements. A NOTIFY per result write wakes every
/// process's job scan and every watcher hundreds of times a second (each re-reading the job)
/// during a fast send; progress needs a few updates a second. The first change of a quiet job is
/// announced at once, further ones at most every [`NUDGE_EVERY`], and the last one always is.
/// Status changes (pause, cancel, completion, quota) are announced directly, not through here.
#[derive(Clone)]
pub(crate) struct Nudger {
    tx: tokio::sync::mpsc::UnboundedSender<i64>,
}

impl Nudger {
    pub(crate) fn start(db: crate::team::db::Db) -> Nudger {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(nudge_loop(db, rx));
        Nudger { tx }
    }

    /// Job `id` changed (after the change committed).
    pub(crate) fn changed(&self, id: i64) {
        let _ = self.tx.send(id);
    }
}

async fn nudge_loop(db: crate::team::db::Db, mut rx: tokio::sync::mpsc::UnboundedReceiver<i64>) {
    while let Some(first) = rx.recv().await {
        let mut ids = std::collections::BTreeSet::from([first]);
        loop {
            while let Ok(id) = rx.try_recv() {
                ids.insert(id);
            }
            if let Err(e) = announce(&db, &ids).await {
                // Watchers still see the change at their next wake or poll timeout.
                tracing::warn!(error = %e, "announcing job progress failed");
            }
            tokio::time::sleep(NUDGE_EVERY).await;
            ids.clear();
            while let Ok(id) = rx.try_recv() {
                ids.insert(id);
            }
            if ids.is_empty() {
                break;
            }
        }
    }
}

async fn announce(
    db: &crate::team::db::Db,
    ids: &std::collections::BTreeSet<i64>,
) -> crate::error::Result<()> {
    let payloads: Vec<String> = ids.iter().map(i64::to_string).collect();
    db.get()
        .await?
        .execute(
            "SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p",
            &[&CHANNEL, &payloads],
        )
        .await?;
    Ok(())
}
