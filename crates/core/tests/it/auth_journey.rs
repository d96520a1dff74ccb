//! The authorization journey without a window, against the real wxdesk-sim and wxdesk-relay
//! running in-process (the sandbox): begin → the admin authorizes in the sim → the feed
//! completes it → the account is stored with its details and its refresh token is kept;
//! revoking in the sim marks it 已取消授权; lost refresh tokens are recovered from WeChat.
#![allow(clippy::unwrap_used)]

use crate::support;

use wxdesk_core::accounts::Accounts;
use wxdesk_core::accounts::{AccountKind, AccountStatus, AccountType};
use wxdesk_core::auth::AuthScope;
use wxdesk_core::feed::FeedNotice;
use wxdesk_core::platform::CheckStepId::{
    Keys as STEP_KEYS, Relay as STEP_RELAY, Ticket as STEP_TICKET, Token as STEP_TOKEN,
    Whitelist as STEP_WHITELIST,
};
use wxdesk_core::platform::Mode;
use wxdesk_core::platform::{CheckDetail, CheckStepId};
use wxdesk_core::secrets::{SecretKey, SecretStore};

use support::{World, follow_until};

#[tokio::test]
async fn sandbox_start_configures_the_platform_and_the_connection_check_passes() {
    let w = World::start().await;
    let view = w.platform.load_settings().await.unwrap();
    let s = view.settings.unwrap();
    assert_eq!(s.mode, Mode::Sandbox);
    assert_eq!(s.component_appid, wxdesk_sim::SANDBOX_COMPONENT_APPID);
    assert_eq!(s.relay_url, w.sandbox.relay_url);
    assert_eq!(s.api_base, w.sandbox.sim_url);
    assert!(view.appsecret_saved && view.token_saved && view.aes_key_saved && view.relay_key_saved);

    let steps = w.platform.check_connection().await;
    let summary: Vec<(CheckStepId, bool)> = steps.iter().map(|s| (s.step, s.ok)).collect();
    assert_eq!(
        summary,
        [
            (STEP_RELAY, true),
            (STEP_KEYS, true),
            (STEP_TICKET, true),
            (STEP_TOKEN, true),
            (STEP_WHITELIST, true)
        ],
        "{steps:#?}"
    );
    // The real relay's fingerprints agree with the desk's secrets (the sandbox saved both).
    assert_eq!(
        steps[1].detail,
        CheckDetail::KeysCompared {
            relay_appid: wxdesk_sim::SANDBOX_COMPONENT_APPID.into(),
            appid_matches: true,
            token: wxdesk_core::platform::KeyMatch::Matches,
            aes_key: wxdesk_core::platform::KeyMatch::Matches,
        }
    );
    let ticket = w.platform.ensure_ticket().await.unwrap();
    assert!(ticket.present && !ticket.push_requested);

    // 发送到手机: the mobile link of the relay's launch page, restricted to one account.
    let start = w
        .authorizer
        .begin_authorization(AuthScope::Mini, true, Some("wx1111222233334444"))
        .await
        .unwrap();
    assert_eq!(start.launch_url, start.mobile_url);
    let url = url::Url::parse(&start.mobile_url).unwrap();
    assert_eq!(url.path(), "/auth/start");
    let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(q["pre_auth_code"], start.pre_auth_code);
    assert_eq!(q["auth_type"], "2");
    assert_eq!(q["biz_appid"], "wx1111222233334444");
    assert_eq!(q["state"], start.state);
    assert_eq!(q["mobile"], "1");
    assert_eq!(start.expires_in, 600);
    let html = w
        .http
        .get(&start.mobile_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(&format!("{}/safe/bindcomponent?", w.sandbox.sim_url)),
        "{html}"
    );
    w.sandbox.shutdown().await;
}

#[tokio::test]
async fn the_relay_takes_only_codes_of_attempts_this_desk_started() {
    let w = World::start().await;
    let start = w
        .authorizer
        .begin_authorization(AuthScope::Oa, false, None)
        .await
        .unwrap();
    // The state is signed with the relay key the keychain holds (the relay's API key).
    let key = w_key(&w.mem);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let expires = wxdesk_relay::auth_state::verify(key.expose(), Some(&start.state), now).unwrap();
    assert!(
        expires >= now + start.expires_in,
        "lives as long as the code"
    );

    // Codes that come back without this desk's state: none is recorded, none reaches the app.
    let other_desk = wxdesk_relay::auth_state::issue("another-desks-relay-key-42", now, [1; 16]);
    for (state, status) in [
        (String::new(), 400),
        ("0123456789abcdef".to_string(), 400),
        (other_desk, 403),
    ] {
        let r = w
            .http
            .get(format!(
                "{}/auth/callback?auth_code=queryauthcode%40%40%40forged&expires_in=600&state={state}",
                w.sandbox.relay_url
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), status, "state {state:?}");
    }
    let follower = w.follower().await;
    assert_eq!(follower.poll_once().await.unwrap(), 0);
    let relay = w.platform.relay().await.unwrap();
    let batch = relay.events(0, 0, 100).await.unwrap();
    assert!(
        batch.events.iter().all(|e| e.kind != "auth_callback"),
        "{batch:?}"
    );

    // The desk's own link still leads on to WeChat's page.
    let page = w.http.get(&start.launch_url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("/cgi-bin/componentloginpage?")
    );
    w.sandbox.shutdown().await;
}

#[tokio::test]
async fn an_account_authorized_in_the_sim_is_stored_with_details_and_its_refresh_token() {
    let w = World::start().await;
    let oa = w.account(false);
    let appid = oa["appid"].as_str().unwrap().to_string();
    let follower = w.follower().await;
    let mut rx = follower.subscribe();

    let (_redirect, state) = w.authorize_in_browser(&appid, AuthScope::Oa).await;

    // The push (`authorized`) and the redirect (`auth_callback`) carry the same code: both are
    // applied, the second without a second exchange.
    let seen = follow_until(
        &follower,
        &mut rx,
        |n| matches!(n, FeedNotice::AccountAuthorized { state: Some(s), .. } if *s == state),
    )
    .await;
    let authorized: Vec<_> = seen
        .iter()
        .filter(|n| matches!(n, FeedNotice::AccountAuthorized { .. }))
        .collect();
    assert_eq!(authorized.len(), 2, "{seen:?}");
    for n in authorized {
        assert!(matches!(n, FeedNotice::AccountAuthorized { appid: a, .. } if *a == appid));
    }

    let accounts = Accounts::new(w.platform.clone());
    let list = accounts.list().await.unwrap();
    assert_eq!(list.len(), 1);
    let card = &list[0];
    assert_eq!(card.appid, appid);
    assert_eq!(card.kind, AccountKind::Oa);
    assert_eq!(card.nickname, oa["nickname"].as_str().unwrap());
    assert_eq!(card.user_name, oa["user_name"].as_str().unwrap());
    assert_eq!(card.principal, oa["principal_name"].as_str().unwrap());
    assert_eq!(card.verified, oa["verified"].as_bool().unwrap());
    assert_eq!(card.status, AccountStatus::Authorized);
    assert_eq!(card.account_type, AccountType::Service);
    assert!(card.permissions.contains(&7));
    assert!(
        card.permission_names_zh()
            .iter()
            .any(|p| p.id == 7 && p.name == "群发与通知权限")
    );
    assert!(!card.missing_template_permission);
    assert!(card.has_refresh_token);
    assert!(card.head_img.starts_with(&w.sandbox.sim_url));

    let rt = w
        .mem
        .get(&SecretKey::RefreshToken(appid.clone()))
        .unwrap()
        .unwrap();
    assert!(rt.expose().starts_with("refreshtoken@@@"));

    let health = accounts.token_health(&appid).await.unwrap();
    assert!(health.access_token_ok, "{health:?}");
    assert_eq!(w.sandbox.sim_state()["accounts"][0]["authorized"], true);
    w.sandbox.shutdown().await;
}

#[tokio::test]
async fn revoking_in_the_sim_marks_the_account_unauthorized_and_drops_its_refresh_token() {
    let w = World::start().await;
    let appid = w.account(false)["appid"].as_str().unwrap().to_string();
    let follower = w.follower().await;
    let mut rx = follower.subscribe();
    w.authorize_in_browser(&appid, AuthScope::Both).await;
    follow_until(&follower, &mut rx, |n| {
        matches!(n, FeedNotice::AccountAuthorized { .. })
    })
    .await;

    w.revoke(&appid).await;
    follow_until(&follower, &mut rx, |n| {
        *n == FeedNotice::AccountStatusChanged {
            appid: appid.clone(),
            status: AccountStatus::Unauthorized,
        }
    })
    .await;

    let card = Accounts::new(w.platform.clone())
        .show(&appid)
        .await
        .unwrap();
    assert_eq!(card.status, AccountStatus::Unauthorized);
    assert_eq!(card.status.label_zh(), "已取消授权");
    assert!(!card.has_refresh_token);
    assert!(
        w.mem
            .get(&SecretKey::RefreshToken(appid))
            .unwrap()
            .is_none()
    );
    w.sandbox.shutdown().await;
}

#[tokio::test]
async fn lost_refresh_tokens_are_recovered_from_the_authorizer_list() {
    let w = World::start().await;
    let oa = w.account(false)["appid"].as_str().unwrap().to_string();
    let mini = w.account(true)["appid"].as_str().unwrap().to_string();
    let follower = w.follower().await;
    let mut rx = follower.subscribe();
    for appid in [&oa, &mini] {
        w.authorize_in_browser(appid, AuthScope::Both).await;
        follow_until(
            &follower,
            &mut rx,
            |n| matches!(n, FeedNotice::AccountAuthorized { appid: a, .. } if a == appid),
        )
        .await;
    }
    let accounts = Accounts::new(w.platform.clone());
    let original = w
        .mem
        .get(&SecretKey::RefreshToken(oa.clone()))
        .unwrap()
        .unwrap();

    // The disaster: the keychain lost one account's refresh token.
    w.mem.delete(&SecretKey::RefreshToken(oa.clone())).unwrap();
    w.platform.reconnect().await;
    assert!(!accounts.show(&oa).await.unwrap().has_refresh_token);
    assert!(!accounts.token_health(&oa).await.unwrap().access_token_ok);

    let report = accounts.recover_refresh_tokens().await.unwrap();
    assert_eq!(report.restored, std::slice::from_ref(&oa));
    assert!(
        report.added.is_empty()
            && report.without_token.is_empty()
            && report.not_authorized.is_empty()
    );
    assert_eq!(report.unchanged, 1);
    let restored = w
        .mem
        .get(&SecretKey::RefreshToken(oa.clone()))
        .unwrap()
        .unwrap();
    assert_eq!(restored, original);
    assert!(accounts.token_health(&oa).await.unwrap().access_token_ok);
    assert_eq!(accounts.show(&mini).await.unwrap().kind, AccountKind::Mini);
    w.sandbox.shutdown().await;
}

#[tokio::test]
async fn removing_an_account_deletes_its_row_and_refresh_token() {
    let w = World::start().await;
    let appid = w.account(false)["appid"].as_str().unwrap().to_string();
    let follower = w.follower().await;
    let mut rx = follower.subscribe();
    w.authorize_in_browser(&appid, AuthScope::Oa).await;
    follow_until(&follower, &mut rx, |n| {
        matches!(n, FeedNotice::AccountAuthorized { .. })
    })
    .await;

    let accounts = Accounts::new(w.platform.clone());
    accounts.remove(&appid).await.unwrap();
    assert!(accounts.list().await.unwrap().is_empty());
    assert!(
        w.mem
            .get(&SecretKey::RefreshToken(appid.clone()))
            .unwrap()
            .is_none()
    );
    assert!(matches!(
        accounts.remove(&appid).await,
        Err(wxdesk_core::Error::AccountNotFound(a)) if a == appid
    ));
    w.sandbox.shutdown().await;
}

#[tokio::test]
async fn events_that_arrived_while_the_app_was_closed_are_applied_on_the_next_start() {
    let w = World::start().await;
    let appid = w.account(false)["appid"].as_str().unwrap().to_string();
    // The app ran once and followed the feed to its end…
    w.follower().await.poll_once().await.unwrap();
    // …then was closed while the admin authorized.
    w.authorize_in_browser(&appid, AuthScope::Oa).await;

    let ctx = wxdesk_core::context::Context::open_with_secrets(
        w.dir.path(),
        wxdesk_core::secrets::Secrets::new(w.mem.clone()),
    )
    .await
    .unwrap();
    assert_eq!(ctx.mode().await.unwrap(), Some(Mode::Sandbox));
    assert!(ctx.accounts.list().await.unwrap().is_empty());
    let cancel = tokio_util::sync::CancellationToken::new();
    let (task, mut notices) = ctx.spawn_feed(cancel.clone()).await.unwrap();
    loop {
        if let FeedNotice::AccountAuthorized { appid: a, .. } = notices.recv().await.unwrap() {
            assert_eq!(a, appid);
            break;
        }
    }
    cancel.cancel();
    task.await.unwrap();
    let list = ctx.accounts.list().await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].appid, appid);
    w.sandbox.shutdown().await;
}

#[tokio::test]
async fn the_sandbox_refuses_a_data_dir_that_holds_a_real_platform() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = wxdesk_core::context::Context::open_with_secrets(
        dir.path(),
        wxdesk_core::secrets::Secrets::memory(),
    )
    .await
    .unwrap();
    assert_eq!(ctx.mode().await.unwrap(), None);
    ctx.platform
        .save_settings(wxdesk_core::platform::SettingsInput {
            mode: Mode::Production,
            component_appid: "wx0123456789abcdef".into(),
            relay_url: "https://relay.example.com".into(),
            egress: wxdesk_core::platform::Egress::Direct,
            api_base: None,
            component_appsecret: Some(wxdesk_core::secrets::Secret::new("real-secret-value")),
            component_token: None,
            component_aes_key: None,
            relay_key: None,
        })
        .await
        .unwrap();
    let err = wxdesk_core::sandbox::start_sandbox(&ctx.platform, dir.path())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid");
    assert!(err.to_string().contains("正式平台"), "{err}");
    assert!(
        err.message(wxdesk_core::Lang::En)
            .contains("set up for a real platform"),
        "{}",
        err.message(wxdesk_core::Lang::En)
    );
    let secret = ctx
        .platform
        .secrets()
        .get(SecretKey::ComponentAppsecret)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(secret.expose(), "real-secret-value");
    assert_eq!(ctx.mode().await.unwrap(), Some(Mode::Production));
}

#[tokio::test]
async fn restarting_the_sandbox_keeps_its_relay_key_and_log_so_the_cursor_stays_valid() {
    let w = World::start().await;
    let appid = w.account(false)["appid"].as_str().unwrap().to_string();
    let follower = w.follower().await;
    let mut rx = follower.subscribe();
    w.authorize_in_browser(&appid, AuthScope::Oa).await;
    follow_until(&follower, &mut rx, |n| {
        matches!(n, FeedNotice::AccountAuthorized { .. })
    })
    .await;
    let key_before = w.mem.get(&SecretKey::RelayKey).unwrap().unwrap();
    let cursor_before = w
        .store
        .call(|c| {
            Ok(c.query_row(
                "SELECT coalesce(max(last_seq), 0) FROM relay_cursor",
                [],
                |r| r.get::<_, i64>(0),
            )?)
        })
        .await
        .unwrap();
    assert!(cursor_before > 0);
    let relay_url_before = w.sandbox.relay_url.clone();
    let World {
        dir,
        store,
        mem,
        platform,
        sandbox,
        ..
    } = w;
    sandbox.shutdown().await;

    let again = wxdesk_core::sandbox::start_sandbox(&platform, dir.path())
        .await
        .unwrap();
    assert_eq!(w_key(&mem), key_before, "the relay key is reused");
    let relay = platform.relay().await.unwrap();
    assert_eq!(relay.base_url(), again.relay_url);
    // The relay's log survived in the data dir, and the cursor was not reset (it would be if
    // the relay URL had changed).
    let batch = relay.events(cursor_before, 0, 10).await.unwrap();
    assert!(batch.last_seq >= cursor_before, "{batch:?}");
    let cursor_now = store
        .call(|c| {
            Ok(c.query_row(
                "SELECT coalesce(max(last_seq), 0) FROM relay_cursor",
                [],
                |r| r.get::<_, i64>(0),
            )?)
        })
        .await
        .unwrap();
    assert_eq!(
        again.relay_url, relay_url_before,
        "the relay's port is reused"
    );
    assert_eq!(cursor_now, cursor_before);

    // The new simulator knows the earlier authorization (WeChat would): the account's refresh
    // token from the keychain still gets a token, with no second authorization.
    let token = platform
        .api()
        .await
        .unwrap()
        .authorizer_token(&appid)
        .await
        .expect("the authorization survives a sandbox restart");
    assert!(!token.expose().is_empty());
    let state: serde_json::Value = reqwest::get(format!("{}/__sim/state", again.sim_url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sim_account = state["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["appid"] == appid.as_str())
        .unwrap();
    assert_eq!(sim_account["authorized"], true, "{sim_account}");
    again.shutdown().await;
    drop(dir);
}

fn w_key(mem: &wxdesk_core::secrets::MemoryStore) -> wxdesk_core::secrets::Secret {
    mem.get(&SecretKey::RelayKey).unwrap().unwrap()
}

#[tokio::test]
async fn an_authorization_whose_code_expired_while_the_app_was_closed_still_lands() {
    let w = World::start().await;
    let appid = w.account(false)["appid"].as_str().unwrap().to_string();
    w.follower().await.poll_once().await.unwrap();
    w.authorize_in_browser(&appid, AuthScope::Oa).await;
    // The app stays closed longer than the code lives (600 s on the sim's clock).
    w.advance_sim_clock(700).await;

    let follower = w.follower().await;
    let mut rx = follower.subscribe();
    let seen = follow_until(
        &follower,
        &mut rx,
        |n| matches!(n, FeedNotice::AccountAuthorized { appid: a, .. } if *a == appid),
    )
    .await;
    assert_eq!(
        seen.len(),
        1,
        "the push's code expired, so the account was adopted: {seen:?}"
    );
    // The redirect's copy of the code has no appid to fall back on: it is recorded as failed,
    // which also proves the code had expired.
    let seen = follow_until(&follower, &mut rx, |n| {
        matches!(n, FeedNotice::AuthorizationFailed { appid: None, message } if message.contains("61010"))
    })
    .await;
    assert_eq!(seen.len(), 1, "{seen:?}");
    let card = Accounts::new(w.platform.clone())
        .show(&appid)
        .await
        .unwrap();
    assert_eq!(card.status, AccountStatus::Authorized);
    assert!(card.has_refresh_token);
    assert!(
        Accounts::new(w.platform.clone())
            .token_health(&appid)
            .await
            .unwrap()
            .access_token_ok
    );
    w.sandbox.shutdown().await;
}

#[tokio::test]
async fn a_sandbox_whose_whitelist_excludes_this_machine_fails_the_check_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = wxdesk_core::context::Context::open_with_secrets(
        dir.path(),
        wxdesk_core::secrets::Secrets::memory(),
    )
    .await
    .unwrap();
    let sandbox = wxdesk_core::sandbox::start_sandbox_with(&ctx.platform, dir.path(), |c| {
        c.ip_whitelist = vec!["203.0.113.9".into()];
    })
    .await
    .unwrap();
    let relay = ctx.platform.relay().await.unwrap();
    for _ in 0..200 {
        if relay.fetch_ticket().await.unwrap().is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let steps = ctx.platform.check_connection().await;
    let summary: Vec<(CheckStepId, bool)> = steps.iter().map(|s| (s.step, s.ok)).collect();
    assert_eq!(
        summary,
        [
            (STEP_RELAY, true),
            (STEP_KEYS, true),
            (STEP_TICKET, true),
            (STEP_TOKEN, false),
            (STEP_WHITELIST, false)
        ],
        "{steps:#?}"
    );
    assert!(
        steps[3].detail_zh().contains("61004"),
        "{}",
        steps[3].detail_zh()
    );
    assert!(
        matches!(&steps[4].detail, CheckDetail::WhitelistRefused { error, .. } if error.errcode == Some(61004)),
        "{:?}",
        steps[4].detail
    );
    let hint = steps[4].hint_zh().unwrap();
    assert!(hint.contains("白名单") && hint.contains("经中继"), "{hint}");
    sandbox.shutdown().await;
}

/// What the app does with `ctx.services`: 体验沙箱 (its steps told as they happen), saving a real
/// platform's settings, which stops the sandbox and follows the new relay, and the follower's
/// notices on one channel across that restart — all without a window.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_services_run_the_sandbox_and_the_follower_and_switch_to_a_real_platform() {
    use std::sync::Mutex;
    use wxdesk_core::platform::SettingsForm;
    use wxdesk_core::services::SandboxStep;

    let dir = tempfile::tempdir().unwrap();
    let ctx = wxdesk_core::context::Context::open_with_secrets(
        dir.path(),
        wxdesk_core::secrets::Secrets::memory(),
    )
    .await
    .unwrap();
    let mut notices = ctx.services.subscribe();
    assert!(ctx.services.sandbox().await.is_none());

    let steps = Mutex::new(Vec::new());
    let info = ctx
        .services
        .use_sandbox(&|s| steps.lock().unwrap().push(s))
        .await
        .unwrap();
    assert_eq!(
        *steps.lock().unwrap(),
        [
            SandboxStep::Starting,
            SandboxStep::WaitingTicket,
            SandboxStep::Ready
        ]
    );
    assert_eq!(ctx.services.sandbox().await, Some(info.clone()));
    assert!(ctx.services.sim_state().await.is_some());
    let info_app = ctx.app_info("9.9.9").await.unwrap();
    assert_eq!(info_app.mode, wxdesk_core::app_info::AppMode::Sandbox);
    // A second 体验沙箱 keeps the running one.
    let again = ctx.services.use_sandbox(&|_| {}).await.unwrap();
    assert_eq!(again, info);

    // A real platform (its relay on loopback, where nothing answers): saved, the sandbox stops,
    // the follower follows the new relay and reports that it cannot reach it — on the channel
    // subscribed before the restart.
    let view = ctx
        .services
        .save_settings(SettingsForm {
            component_appid: "wx0123456789abcdef".into(),
            relay_url: "http://127.0.0.1:9".into(),
            egress: wxdesk_core::platform::Egress::Relay,
            api_base: None,
            component_appsecret: Some("real-secret".into()),
            component_token: Some(" ".into()),
            component_aes_key: None,
            relay_key: Some("relay-key".into()),
        })
        .await
        .unwrap();
    let s = view.settings.unwrap();
    assert_eq!(
        (s.mode, s.relay_url.as_str()),
        (Mode::Production, "http://127.0.0.1:9")
    );
    assert!(
        ctx.services.sandbox().await.is_none(),
        "the sandbox stopped"
    );
    assert!(
        view.appsecret_saved && view.token_saved,
        "a blank secret keeps the saved one (the sandbox's token)"
    );
    let retrying = tokio::time::timeout(std::time::Duration::from_secs(20), async {
        loop {
            if let FeedNotice::Retrying { code, .. } = notices.recv().await.unwrap() {
                return code;
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(retrying, "relay");
    ctx.services.stop().await;
}
