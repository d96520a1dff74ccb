//! The team-mode test harness itself: a throwaway PostgreSQL cluster starts (as the unprivileged
//! test user when the tests run as root), takes a password connection on loopback, keeps what is
//! written, runs beside a second cluster, and is gone when dropped.

#![allow(clippy::unwrap_used)]

use wxdesk_relay::team::testing::PgCluster;

async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("connecting to the test cluster: {e}"));
    tokio::spawn(async move {
        let _ = conn.await;
    });
    client
}

fn start() -> PgCluster {
    PgCluster::start().unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn a_cluster_starts_takes_a_password_connection_and_keeps_what_is_written() {
    let pg = start();
    let admin = connect(&pg.url("postgres")).await;
    admin.batch_execute("CREATE DATABASE wxdesk").await.unwrap();
    let db = connect(&pg.url("wxdesk")).await;
    db.batch_execute("CREATE TABLE t (id bigint PRIMARY KEY, v text NOT NULL)")
        .await
        .unwrap();
    db.execute("INSERT INTO t VALUES ($1, $2)", &[&1_i64, &"一"])
        .await
        .unwrap();
    let again = connect(&pg.url("wxdesk")).await;
    let row = again
        .query_one("SELECT v FROM t WHERE id = $1", &[&1_i64])
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "一");
    // fsync stays on: team mode's durability is the cluster's.
    let fsync = again.query_one("SHOW fsync", &[]).await.unwrap();
    assert_eq!(fsync.get::<_, String>(0), "on");

    // A wrong password is refused (the harness does not lean on trust auth).
    let wrong = pg.url("wxdesk").replace("@127.0.0.1", "x@127.0.0.1");
    assert!(
        tokio_postgres::connect(&wrong, tokio_postgres::NoTls)
            .await
            .is_err(),
        "a wrong password was accepted"
    );
}

#[tokio::test]
async fn two_clusters_run_side_by_side_and_a_dropped_one_is_gone() {
    let a = start();
    let b = start();
    assert_ne!(a.port(), b.port());
    let ca = connect(&a.url("postgres")).await;
    let cb = connect(&b.url("postgres")).await;
    ca.batch_execute("CREATE TABLE only_in_a (x int)")
        .await
        .unwrap();
    assert!(
        cb.batch_execute("SELECT * FROM only_in_a").await.is_err(),
        "b sees a's table"
    );
    let url = a.url("postgres");
    drop(ca);
    drop(a);
    assert!(
        tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .is_err(),
        "the dropped cluster still answers"
    );
}
