//! Sandbox and production never mix (#16): every account carries the platform it was authorized
//! under; after switching from 体验沙箱 to a real platform the sandbox's accounts are an archive —
//! listed apart, refused before any request, removed only when asked — and a database from
//! before the platform was recorded gets it back (the sandbox's simulated accounts by their
//! appids).
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rusqlite::params;
use wxdesk_core::accounts::Accounts;
use wxdesk_core::platform::{Egress, Mode, Platform, SettingsInput};
use wxdesk_core::quota::Quotas;
use wxdesk_core::secrets::{MemoryStore, Secret, SecretKey, SecretStore, Secrets};
use wxdesk_core::store::Store;
use wxdesk_core::templates::Templates;

use crate::support::World;

const REAL_PLATFORM: &str = "wx0000111122223333";
const REAL_ACCOUNT: &str = "wx9999888877776666";

/// A stand-in for the real platform's WeChat and relay that answers nothing useful and counts
/// every request: a refusal "before any network call" leaves it at zero.
async fn counting_server() -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&hits);
    let app = axum::Router::new().fallback(move || {
        seen.fetch_add(1, Ordering::SeqCst);
        async { (axum::http::StatusCode::SERVICE_UNAVAILABLE, "counting") }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, hits)
}

fn production(url: &str) -> SettingsInput {
    SettingsInput {
        mode: Mode::Production,
        component_appid: REAL_PLATFORM.into(),
        relay_url: url.into(),
        egress: Egress::Direct,
        api_base: Some(url.into()),
        component_appsecret: Some(Secret::new("real-appsecret")),
        component_token: Some(Secret::new("real-token")),
        component_aes_key: Some(Secret::new("a".repeat(43))),
        relay_key: Some(Secret::new("real-relay-key")),
    }
}

#[tokio::test]
async fn a_sandbox_account_is_refused_in_production_before_any_request_and_left_out_of_the_pickers()
{
    let w = World::start().await;
    let oa = w.authorize_first_oa().await;
    let accounts = Accounts::new(w.platform.clone());
    let card = accounts.show(&oa).await.unwrap();
    assert_eq!(card.component_appid, wxdesk_sim::SANDBOX_COMPONENT_APPID);
    assert!(
        card.sandbox && card.current_platform,
        "in the sandbox it is usable"
    );

    // The user saves a real platform's settings (what 设置 does once the sandbox is stopped).
    let (url, hits) = counting_server().await;
    w.platform.save_settings(production(&url)).await.unwrap();

    let card = accounts.show(&oa).await.unwrap();
    assert!(card.sandbox, "still the sandbox's: {card:?}");
    assert!(!card.current_platform, "not the real platform's: {card:?}");
    assert!(
        accounts.list_current().await.unwrap().is_empty(),
        "the current platform has no account yet"
    );
    let templates = Templates::new(w.platform.clone(), accounts.clone());
    assert!(
        templates.accounts().await.unwrap().is_empty(),
        "the pickers of 发送/模板/用户与名单 offer no sandbox account"
    );
    let archived = accounts.archived_platforms().await.unwrap();
    assert_eq!(archived.len(), 1);
    assert!(archived[0].sandbox);
    assert_eq!(archived[0].appids, std::slice::from_ref(&oa));

    // Every way to an account's token: the connection, the gateway (额度), the send engine's
    // token source, 刷新信息, and the token check.
    let api = w.platform.api().await.unwrap();
    let e = api.authorizer_token(&oa).await.unwrap_err();
    assert_eq!(e.code(), "invalid");
    assert!(e.to_string().contains("体验沙箱"), "{e}");
    assert!(
        e.message(wxdesk_core::Lang::En).contains("sandbox"),
        "{}",
        e.message(wxdesk_core::Lang::En)
    );
    let e = Quotas::new(w.platform.clone())
        .clear(&oa)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("体验沙箱"), "{e}");
    use wxdesk_core::send::http::TokenSource;
    let tokens = wxdesk_core::send::platform::PlatformTokens::new(w.platform.clone());
    assert!(tokens.token(&oa).await.is_err());
    let e = accounts.refresh_info(&oa).await.unwrap_err();
    assert!(e.to_string().contains("体验沙箱"), "{e}");
    let health = accounts.token_health(&oa).await.unwrap();
    assert!(!health.access_token_ok);
    assert!(health.problem.unwrap().message.zh.contains("体验沙箱"));

    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "the real platform's WeChat and relay were never asked (WeChat answered 40013 before)"
    );
    // Nothing was deleted by the switch: the account and its refresh token are kept.
    assert!(
        w.mem
            .get(&SecretKey::RefreshToken(oa.clone()))
            .unwrap()
            .is_some()
    );
    w.sandbox.shutdown().await;
}

async fn memory_platform(store: Store) -> (Platform, Arc<MemoryStore>) {
    let mem = Arc::new(MemoryStore::default());
    (Platform::new(store, Secrets::new(mem.clone())), mem)
}

/// A production platform row, as `settings::save` writes it.
fn save_production(c: &rusqlite::Connection) {
    c.execute(
        "INSERT INTO platform_settings (id, mode, component_appid, relay_url, egress, api_base, \
         updated_at) VALUES (1, 'production', ?1, 'https://relay.example', 'direct', \
         'https://api.weixin.qq.com', 0)",
        [REAL_PLATFORM],
    )
    .unwrap();
}

fn insert_account(c: &rusqlite::Connection, appid: &str, name: &str) {
    c.execute(
        "INSERT INTO accounts (appid, kind, nickname, status, authorized_at, updated_at) \
         VALUES (?1, 'oa', ?2, 'authorized', 1, 1)",
        params![appid, name],
    )
    .unwrap();
}

#[tokio::test]
async fn an_older_database_gives_the_sandbox_accounts_the_sandboxs_platform_and_the_others_the_current_one()
 {
    let sandbox_oa = wxdesk_sim::world::World::generate(1, 5, 1, 0).accounts[0]
        .appid
        .clone();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(wxdesk_core::store::DB_FILE);
    {
        // A data dir switched from the sandbox to a real platform by a wxdesk from before
        // migration 0012: its accounts table has no platform column (and nothing of the
        // migrations after it).
        let store = Store::open_in_dir(dir.path()).await.unwrap();
        drop(store);
        let c = rusqlite::Connection::open(&file).unwrap();
        c.execute_batch(
            "DROP INDEX follower_sync_fetched_openid;
             DROP TABLE follower_sync_deferred_indexes;
             DROP INDEX accounts_component_appid;
             ALTER TABLE accounts DROP COLUMN component_appid;
             PRAGMA user_version = 11;",
        )
        .unwrap();
        save_production(&c);
        insert_account(&c, &sandbox_oa, "某某服务号");
        insert_account(&c, REAL_ACCOUNT, "某某服务号");
    }
    let store = Store::open_in_dir(dir.path()).await.unwrap();
    let (platform, _) = memory_platform(store).await;
    let accounts = Accounts::new(platform);
    let by_appid = |cards: &[wxdesk_core::accounts::AccountCard], appid: &str| {
        cards.iter().find(|c| c.appid == appid).cloned().unwrap()
    };
    let cards = accounts.list().await.unwrap();
    let sandbox = by_appid(&cards, &sandbox_oa);
    assert_eq!(sandbox.component_appid, wxdesk_sim::SANDBOX_COMPONENT_APPID);
    assert!(sandbox.sandbox && !sandbox.current_platform);
    let real = by_appid(&cards, REAL_ACCOUNT);
    assert_eq!(real.component_appid, REAL_PLATFORM);
    assert!(!real.sandbox && real.current_platform);
    let current: Vec<_> = accounts
        .list_current()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.appid)
        .collect();
    assert_eq!(
        current,
        [REAL_ACCOUNT],
        "same names, but only the real one is offered"
    );
}

#[tokio::test]
async fn removing_the_sandbox_archive_deletes_only_its_accounts_and_their_data_and_keeps_history() {
    let sandbox_oa = wxdesk_sim::world::World::generate(1, 5, 1, 0).accounts[0]
        .appid
        .clone();
    let store = Store::open_in_memory().unwrap();
    let (platform, mem) = memory_platform(store.clone()).await;
    let ids = [sandbox_oa.clone(), REAL_ACCOUNT.to_string()];
    let seeded = ids.clone();
    store
        .call(move |c| {
            save_production(c);
            for (appid, platform) in [
                (&seeded[0], wxdesk_sim::SANDBOX_COMPONENT_APPID),
                (&seeded[1], REAL_PLATFORM),
            ] {
                insert_account(c, appid, "某某服务号");
                c.execute(
                    "UPDATE accounts SET component_appid = ?2 WHERE appid = ?1",
                    params![appid, platform],
                )?;
                c.execute(
                    "INSERT INTO templates (appid, template_id, synced_at) VALUES (?1, 't1', 0)",
                    [appid],
                )?;
                c.execute(
                    "INSERT INTO followers (appid, openid, updated_at) VALUES (?1, 'o1', 0)",
                    [appid],
                )?;
                c.execute(
                    "INSERT INTO recipient_lists (appid, name, source, created_at, updated_at) \
                     VALUES (?1, '名单', 'manual', 0, 0)",
                    [appid],
                )?;
                c.execute(
                    "INSERT INTO list_members (list_id, openid) VALUES (last_insert_rowid(), 'o1')",
                    [],
                )?;
                c.execute(
                    "INSERT INTO compose_drafts (kind, appid, template_id, body, updated_at) \
                     VALUES ('template', ?1, 't1', '{}', 0)",
                    [appid],
                )?;
                c.execute(
                    "INSERT INTO send_jobs (appid, kind, title, payload, nonce, status, \
                     concurrency, rate_per_sec, max_attempts, created_at, updated_at) \
                     VALUES (?1, 'template', '', '{}', 'n', 'completed', 1, 1, 1, 0, 0)",
                    [appid],
                )?;
            }
            Ok(())
        })
        .await
        .unwrap();
    for appid in &ids {
        mem.set(
            &SecretKey::RefreshToken(appid.clone()),
            &Secret::new("refresh"),
        )
        .unwrap();
    }
    let accounts = Accounts::new(platform);

    let e = accounts.purge_archived(REAL_PLATFORM).await.unwrap_err();
    assert!(
        e.to_string().contains("不是存档"),
        "the current platform's accounts are not an archive: {e}"
    );

    let report = accounts
        .purge_archived(wxdesk_sim::SANDBOX_COMPONENT_APPID)
        .await
        .unwrap();
    assert_eq!(report.appids, std::slice::from_ref(&sandbox_oa));
    assert_eq!(
        report.data_rows, 4,
        "its template, follower, list and draft"
    );

    let count = |table: &'static str, appid: String| {
        let store = store.clone();
        async move {
            store
                .call(move |c| {
                    Ok(c.query_row(
                        &format!("SELECT count(*) FROM {table} WHERE appid = ?1"),
                        [appid],
                        |r| r.get::<_, i64>(0),
                    )?)
                })
                .await
                .unwrap()
        }
    };
    for table in [
        "accounts",
        "templates",
        "followers",
        "recipient_lists",
        "compose_drafts",
    ] {
        assert_eq!(
            count(table, sandbox_oa.clone()).await,
            0,
            "{table}: the sandbox's rows are gone"
        );
        assert_eq!(
            count(table, REAL_ACCOUNT.into()).await,
            1,
            "{table}: the real account's rows stay"
        );
    }
    let members: i64 = store
        .call(|c| Ok(c.query_row("SELECT count(*) FROM list_members", [], |r| r.get(0))?))
        .await
        .unwrap();
    assert_eq!(members, 1, "the sandbox list's members went with it");
    assert_eq!(
        count("send_jobs", sandbox_oa.clone()).await,
        1,
        "jobs and history stay"
    );
    assert!(wxdesk_core::sandbox::is_world_account(&sandbox_oa));
    assert!(!wxdesk_core::sandbox::is_world_account(REAL_ACCOUNT));
    assert!(
        mem.get(&SecretKey::RefreshToken(sandbox_oa.clone()))
            .unwrap()
            .is_none()
    );
    assert!(
        mem.get(&SecretKey::RefreshToken(REAL_ACCOUNT.into()))
            .unwrap()
            .is_some()
    );
    assert!(accounts.archived_platforms().await.unwrap().is_empty());
}
