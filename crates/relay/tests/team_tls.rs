//! TLS between the team server and PostgreSQL, for real: a throwaway cluster serving TLS with a
//! certificate from a CA of its own. With `sslmode=require` and that CA trusted
//! (`WXDESK_RELAY_DATABASE_CA_FILE`) every session of the relay is encrypted; without the CA the
//! relay refuses to start rather than trust an unknown certificate.

mod common;

use std::process::Command;

use base64::Engine as _;
use common::*;
use wxdesk_relay::team::testing::PgCluster;

fn team_env(url: &str) -> Vec<(String, String)> {
    vec![
        ("WXDESK_RELAY_DATABASE_URL".into(), url.into()),
        (
            "WXDESK_RELAY_COMPONENT_APPSECRET".into(),
            "0123456789abcdef0123456789abcdef".into(),
        ),
        (
            "WXDESK_RELAY_SERVER_KEY".into(),
            base64::engine::general_purpose::STANDARD.encode([9u8; 32]),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_team_server_reaches_postgres_over_verified_tls_and_refuses_an_unknown_certificate() {
    let (pg, ca) = PgCluster::start_tls().unwrap_or_else(|e| panic!("{e}"));
    let (admin, conn) = tokio_postgres::connect(&pg.url("postgres"), tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(conn);
    admin
        .batch_execute("CREATE DATABASE team")
        .await
        .expect("create database");
    let url = format!("{}?sslmode=require", pg.url("team"));

    // The CA is not trusted: no session is opened, and the failure names the certificate.
    let dir = tempfile::tempdir().expect("dir");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wxdesk-relay"));
    cmd.env_clear()
        .env("WXDESK_RELAY_LISTEN", "127.0.0.1:0")
        .env("WXDESK_RELAY_DATA_DIR", dir.path())
        .env("WXDESK_RELAY_COMPONENT_APPID", COMPONENT_APPID)
        .env("WXDESK_RELAY_COMPONENT_TOKEN", TOKEN)
        .env("WXDESK_RELAY_COMPONENT_AES_KEY", AES_KEY)
        .env("WXDESK_RELAY_API_KEY", API_KEY)
        .env("WXDESK_RELAY_PUBLIC_BASE_URL", "https://relay.example.com");
    for (k, v) in team_env(&url) {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run wxdesk-relay");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "started with an untrusted certificate"
    );
    assert!(
        stderr.contains("PostgreSQL") && stderr.to_lowercase().contains("certificate"),
        "{stderr}"
    );
    assert!(
        !stderr.contains(&pg.url("team")),
        "the URL (and its password) is never printed: {stderr}"
    );

    // Trusted: the relay runs, and every session it holds on the database is encrypted.
    let mut env = team_env(&url);
    env.push((
        "WXDESK_RELAY_DATABASE_CA_FILE".into(),
        ca.display().to_string(),
    ));
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let dir = tempfile::tempdir().expect("dir");
    let relay = Relay::spawn(dir.path(), &pairs);
    let (status, _) = api_get(&relay, "/api/v1/ticket").await;
    assert!(
        status == 200 || status == 404,
        "the relay answers: {status}"
    );
    let rows = admin
        .query(
            "SELECT s.ssl FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)
              WHERE a.datname = 'team' AND a.backend_type = 'client backend'",
            &[],
        )
        .await
        .expect("sessions");
    assert!(!rows.is_empty(), "the relay holds sessions on the database");
    assert!(
        rows.iter().all(|r| r.get::<_, bool>(0)),
        "every session of the relay is TLS"
    );
    // The test's own session is the plain one: the check above can tell the two apart.
    let mine: bool = admin
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .expect("own session")
        .get(0);
    assert!(!mine);
}
