//! 设置 → 加入团队 in the real app (#17, desks join): a team server for real (a throwaway
//! PostgreSQL cluster, wxdesk-relay with a database, wxdesk-sim as WeChat), a desk in its local
//! sandbox joins with a member key typed into 设置, restarts into the team workspace and shows
//! the member and role in the frame and in 设置, with the team's 操作记录 for an admin; a refused
//! key joins nothing; leaving returns to the local workspace. The data dir is the judge of which workspace the desk is in.

// The team test uses only the sandbox start of the shared setup.
#[allow(dead_code)]
mod common;

use std::collections::HashMap;
use std::net::TcpListener;
use std::time::Duration;

use wxdesk_e2e::{Harness, Options, Result};
use wxdesk_relay::team::members::{self, Role};
use wxdesk_relay::team::testing::PgCluster;
use wxdesk_relay::{RelayConfig, RelayHandle};

use common::{fill, start_in_sandbox, wait_for_contains};

fn free_port() -> u16 {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

struct TeamServer {
    _pg: PgCluster,
    _dir: tempfile::TempDir,
    _sim: wxdesk_sim::SimHandle,
    relay: RelayHandle,
    db_url: String,
}

async fn team_server() -> TeamServer {
    let pg = PgCluster::start().unwrap_or_else(|e| panic!("{e}"));
    let (admin, conn) = tokio_postgres::connect(&pg.url("postgres"), tokio_postgres::NoTls)
        .await
        .expect("connect to the cluster");
    tokio::spawn(conn);
    admin
        .batch_execute("CREATE DATABASE team")
        .await
        .expect("create the database");
    let db_url = pg.url("team");
    let dir = tempfile::tempdir().expect("server dir");
    let sim = wxdesk_sim::start(wxdesk_sim::SimConfig::default())
        .await
        .expect("sim starts");
    let port = free_port();
    let env: HashMap<&str, String> = HashMap::from([
        ("WXDESK_RELAY_LISTEN", format!("127.0.0.1:{port}")),
        ("WXDESK_RELAY_DATA_DIR", dir.path().display().to_string()),
        (
            "WXDESK_RELAY_COMPONENT_APPID",
            wxdesk_sim::SANDBOX_COMPONENT_APPID.into(),
        ),
        (
            "WXDESK_RELAY_COMPONENT_TOKEN",
            wxdesk_sim::SANDBOX_COMPONENT_TOKEN.into(),
        ),
        (
            "WXDESK_RELAY_COMPONENT_AES_KEY",
            wxdesk_sim::SANDBOX_COMPONENT_AES_KEY.into(),
        ),
        (
            "WXDESK_RELAY_COMPONENT_APPSECRET",
            wxdesk_sim::SANDBOX_COMPONENT_APPSECRET.into(),
        ),
        (
            "WXDESK_RELAY_API_KEY",
            "e2e-team-server-api-key-0123456789".into(),
        ),
        (
            "WXDESK_RELAY_SERVER_KEY",
            // 32 bytes, base64.
            "ZTJlLXRlYW0tc2VydmVyLWtleS0zMi1ieXRlcy0hISE=".into(),
        ),
        (
            "WXDESK_RELAY_PUBLIC_BASE_URL",
            format!("http://127.0.0.1:{port}"),
        ),
        ("WXDESK_RELAY_UPSTREAM", sim.base_url.clone()),
        ("WXDESK_RELAY_DATABASE_URL", db_url.clone()),
    ]);
    let cfg = RelayConfig::load_with_env(None, |k| env.get(k).cloned()).expect("relay config");
    let relay = wxdesk_relay::start(cfg).await.expect("team server starts");
    TeamServer {
        _pg: pg,
        _dir: dir,
        _sim: sim,
        relay,
        db_url,
    }
}

fn membership_file(dir: &std::path::Path) -> std::path::PathBuf {
    wxdesk_core::team::workspace_dir(dir).join("membership.json")
}

#[tokio::test]
async fn a_desk_joins_a_team_in_settings_works_as_its_member_and_leaves_again() -> Result<()> {
    let server = team_server().await;
    let db = wxdesk_relay::team::db::Db::open(&wxdesk_relay::Secret::new(&server.db_url))
        .await
        .expect("team database");
    let key = members::add(&db, "alice", Role::Admin)
        .await
        .expect("member added");

    let (dir, h) = start_in_sandbox("team").await?;
    h.click("[data-testid=nav-settings]").await?;
    h.wait_for("[data-testid=team-card]").await?;
    // A key the server does not know joins nothing, and says why.
    fill(&h, "[data-testid=team-server-url]", &server.relay.base_url).await?;
    fill(&h, "[data-testid=team-member-key]", "wxm_not-a-member-key").await?;
    h.click("[data-testid=team-join]").await?;
    wait_for_contains(&h, "[data-testid=team-join-error]", "成员密钥").await?;
    assert!(
        !membership_file(dir.path()).exists(),
        "a refused key must not switch the workspace"
    );
    fill(&h, "[data-testid=team-member-key]", &key).await?;
    h.click("[data-testid=team-join]").await?;
    let text = wait_for_contains(&h, "[data-testid=team-restart-text]", "alice").await?;
    assert!(text.contains("管理员"), "{text}");
    h.screenshot("joined").await?;
    assert!(membership_file(dir.path()).is_file(), "joined on disk");
    h.shutdown().await;

    // The next start opens the team workspace: the frame names the member and role.
    let h = Harness::start(Options::new("team").data_dir(dir.path())).await?;
    let badge = wait_for_contains(&h, "[data-testid=team-badge]", "alice").await?;
    assert!(badge.contains("管理员"), "{badge}");
    h.click("[data-testid=nav-settings]").await?;
    wait_for_contains(&h, "[data-testid=team-member]", "alice").await?;
    wait_for_contains(&h, "[data-testid=team-role]", "管理员").await?;
    wait_for_contains(&h, "[data-testid=team-status]", "正常").await?;
    // An admin reads the team's 操作记录: the server's administrator added alice at its shell.
    wait_for_contains(&h, "[data-testid=team-audit]", "添加了成员 alice（管理员）").await?;
    h.screenshot("team-settings").await?;
    // The member key is in the keychain, never in the data dir.
    for entry in walk(dir.path()) {
        let bytes = std::fs::read(&entry).unwrap_or_default();
        assert!(
            !bytes.windows(key.len()).any(|w| w == key.as_bytes()),
            "{} holds the member key",
            entry.display()
        );
    }

    // Leaving (confirmed) returns to the local workspace at the next start.
    h.click("[data-testid=team-leave]").await?;
    h.click(".ant-modal-confirm .ant-btn-dangerous").await?;
    h.wait_for("[data-testid=team-restart-text]").await?;
    h.shutdown().await;
    assert!(!membership_file(dir.path()).exists(), "left on disk");
    let h = Harness::start(Options::new("team").data_dir(dir.path())).await?;
    h.click("[data-testid=nav-settings]").await?;
    h.wait_for("[data-testid=team-join]").await?;
    h.wait_gone("[data-testid=team-badge]", Duration::from_secs(5))
        .await?;
    h.screenshot("left").await?;
    h.shutdown().await;
    Ok(())
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}
