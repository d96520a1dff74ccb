//! The connection check's failure paths, against the fake relay and a fake WeChat that answers
//! what the case needs (the simulator has no IP whitelist).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::*;
use crate::platform::SettingsInput;
use crate::secrets::{Secret, Secrets};
use crate::store::Store;
use crate::testutil::{FakeRelay, KEY};

struct FakeWeChat {
    base_url: String,
    push_requests: Arc<AtomicUsize>,
}

async fn fake_wechat(token_answer: Value) -> FakeWeChat {
    let push_requests = Arc::new(AtomicUsize::new(0));
    let pushes = Arc::clone(&push_requests);
    let answer = Arc::new(Mutex::new(token_answer));
    let app = Router::new()
        .route(
            "/cgi-bin/component/api_component_token",
            post(move || {
                let a = answer.lock().unwrap().clone();
                async move { Json(a) }
            }),
        )
        .route(
            "/cgi-bin/component/api_start_push_ticket",
            post(move || {
                pushes.fetch_add(1, Ordering::SeqCst);
                async { Json(json!({"errcode": 0, "errmsg": "ok"})) }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    FakeWeChat {
        base_url: format!("http://{addr}"),
        push_requests,
    }
}

async fn platform(relay: &FakeRelay, wechat: &FakeWeChat, egress: Egress) -> Platform {
    let p = Platform::new(Store::open_in_memory().unwrap(), Secrets::memory());
    p.save_settings(SettingsInput {
        mode: crate::store::settings::Mode::Production,
        component_appid: "wx0123456789abcdef".into(),
        relay_url: relay.base_url.clone(),
        egress,
        api_base: Some(wechat.base_url.clone()),
        component_appsecret: Some(Secret::new("appsecret-for-check")),
        component_token: None,
        component_aes_key: None,
        relay_key: Some(Secret::new(KEY)),
    })
    .await
    .unwrap();
    p
}

fn with_ticket(relay: &FakeRelay, age_secs: i64) {
    relay.state.lock().unwrap().ticket =
        Some(json!({"ticket":"ticket@@@x","create_time":1,"received_at":1,"age_secs":age_secs}));
}

fn summary(steps: &[CheckStep]) -> Vec<(CheckStepId, bool, bool)> {
    steps.iter().map(|s| (s.step, s.ok, s.skipped)).collect()
}

const STEP_RELAY: CheckStepId = CheckStepId::Relay;
const STEP_KEYS: CheckStepId = CheckStepId::Keys;
const STEP_TICKET: CheckStepId = CheckStepId::Ticket;
const STEP_TOKEN: CheckStepId = CheckStepId::Token;
const STEP_WHITELIST: CheckStepId = CheckStepId::Whitelist;

#[tokio::test]
async fn a_non_whitelisted_ip_fails_the_whitelist_step_with_the_fix_and_the_relay_route() {
    let relay = FakeRelay::start().await;
    with_ticket(&relay, 90);
    let wechat = fake_wechat(json!({"errcode": 61004,
        "errmsg": "access clientip is not registered requestIP: 203.0.113.7 rid: 1-2-3"}))
    .await;
    let steps = platform(&relay, &wechat, Egress::Direct)
        .await
        .check_connection()
        .await;
    assert_eq!(
        summary(&steps),
        [
            (STEP_RELAY, true, false),
            (STEP_KEYS, false, true),
            (STEP_TICKET, true, false),
            (STEP_TOKEN, false, false),
            (STEP_WHITELIST, false, false)
        ]
    );
    assert_eq!(
        steps[1].detail,
        CheckDetail::Skipped {
            why: SkipReason::RelayTooOld
        },
        "a relay without the keys route cannot be compared"
    );
    assert_eq!(steps[2].detail, CheckDetail::TicketFresh { age_secs: 90 });
    assert_eq!(steps[2].detail_zh(), "已收到（1 分钟前）");
    assert!(
        steps[3].detail_zh().contains("61004"),
        "{}",
        steps[3].detail_zh()
    );
    assert_eq!(steps[3].hint_zh(), None, "the fix is the whitelist step's");
    let CheckDetail::WhitelistRefused { egress, error } = &steps[4].detail else {
        panic!("{:?}", steps[4].detail);
    };
    assert_eq!(*egress, Egress::Direct);
    assert_eq!(error.errcode, Some(61004));
    assert!(
        error.hint.as_ref().unwrap().en.contains("whitelist"),
        "{error:?}"
    );
    let hint = steps[4].hint_zh().unwrap();
    assert!(hint.contains("白名单"), "{hint}");
    assert!(
        hint.contains("经中继"),
        "direct egress suggests the relay route: {hint}"
    );
}

#[tokio::test]
async fn no_ticket_at_the_relay_asks_wechat_to_push_one_and_says_so() {
    let relay = FakeRelay::start().await;
    let wechat = fake_wechat(json!({"component_access_token": "cat", "expires_in": 7200})).await;
    let p = platform(&relay, &wechat, Egress::Direct).await;
    let steps = p.check_connection().await;
    assert_eq!(
        summary(&steps),
        [
            (STEP_RELAY, true, false),
            (STEP_KEYS, false, true),
            (STEP_TICKET, false, false),
            (STEP_TOKEN, false, true),
            (STEP_WHITELIST, false, true)
        ]
    );
    assert_eq!(
        steps[2].detail,
        CheckDetail::TicketMissing { push_failed: None }
    );
    assert!(
        steps[2].detail_zh().contains("已请求微信立即推送"),
        "{}",
        steps[2].detail_zh()
    );
    assert_eq!(
        steps[3].detail,
        CheckDetail::Skipped {
            why: SkipReason::NoTicket
        }
    );
    assert_eq!(wechat.push_requests.load(Ordering::SeqCst), 1);

    let status = p.ensure_ticket().await.unwrap();
    assert!(!status.present && status.push_requested);
    assert_eq!(wechat.push_requests.load(Ordering::SeqCst), 2);

    with_ticket(&relay, 30);
    let status = p.ensure_ticket().await.unwrap();
    assert!(status.present && !status.push_requested);
    assert_eq!(status.age_secs, Some(30));
    assert_eq!(wechat.push_requests.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_stale_ticket_and_a_wrong_relay_key_are_reported_as_such() {
    let relay = FakeRelay::start().await;
    with_ticket(&relay, 13 * 3600);
    let wechat = fake_wechat(json!({"component_access_token": "cat", "expires_in": 7200})).await;
    let p = platform(&relay, &wechat, Egress::Direct).await;
    let steps = p.check_connection().await;
    assert_eq!((steps[2].ok, steps[3].ok, steps[4].ok), (false, true, true));
    assert_eq!(
        steps[2].detail,
        CheckDetail::TicketExpired {
            age_secs: 13 * 3600
        }
    );
    assert!(
        steps[2].detail_zh().contains("超过 12 小时"),
        "{}",
        steps[2].detail_zh()
    );
    assert!(steps[2].hint_zh().unwrap().contains("/wechat/component"));

    p.secrets()
        .set(
            crate::secrets::SecretKey::RelayKey,
            Secret::new("wrong-key"),
        )
        .await
        .unwrap();
    p.reconnect().await;
    let steps = p.check_connection().await;
    assert_eq!(
        summary(&steps),
        [
            (STEP_RELAY, false, false),
            (STEP_KEYS, false, true),
            (STEP_TICKET, false, true),
            (STEP_TOKEN, false, true),
            (STEP_WHITELIST, false, true)
        ]
    );
    assert!(
        steps[0].detail_zh().contains("401"),
        "{}",
        steps[0].detail_zh()
    );
    assert!(steps[0].hint_zh().unwrap_or_default().contains("中继密钥"));
    let CheckDetail::Failed { error } = &steps[0].detail else {
        panic!("{:?}", steps[0].detail);
    };
    assert_eq!(error.code, "relay_unauthorized");
    assert!(error.message.en.contains("401"), "{error:?}");
}

#[tokio::test]
async fn an_unconfigured_platform_fails_the_first_step_and_skips_the_rest() {
    let p = Platform::new(Store::open_in_memory().unwrap(), Secrets::memory());
    let steps = p.check_connection().await;
    assert_eq!(steps.len(), 5);
    assert!(!steps[0].ok && !steps[0].skipped);
    assert!(steps[1..].iter().all(|s| s.skipped));
    assert!(steps[0].hint_zh().unwrap_or_default().contains("体验沙箱"));
    assert!(steps[1..].iter().all(|s| s.detail
        == CheckDetail::Skipped {
            why: SkipReason::NotConfigured
        }));
}

const APPID: &str = "wx0123456789abcdef";
const TOKEN: &str = "platform-token-for-check";
const AES: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const OLD_AES: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefg";

fn relay_keys(relay: &FakeRelay, appid: &str, previous: Option<&str>) {
    relay.state.lock().unwrap().keys = Some((
        appid.into(),
        TOKEN.into(),
        AES.into(),
        previous.map(str::to_owned),
    ));
}

async fn save_keys(p: &Platform, token: &str, aes: &str) {
    p.secrets()
        .set(
            crate::secrets::SecretKey::ComponentToken,
            Secret::new(token),
        )
        .await
        .unwrap();
    p.secrets()
        .set(crate::secrets::SecretKey::ComponentAesKey, Secret::new(aes))
        .await
        .unwrap();
}

fn keys_of(steps: &[CheckStep]) -> (&CheckStep, CheckDetail) {
    let s = steps.iter().find(|s| s.step == STEP_KEYS).unwrap();
    (s, s.detail.clone())
}

#[tokio::test]
async fn the_keys_step_compares_appid_token_and_aes_key_with_the_relays_by_fingerprint() {
    let relay = FakeRelay::start().await;
    with_ticket(&relay, 30);
    let wechat = fake_wechat(json!({"component_access_token": "cat", "expires_in": 7200})).await;
    let p = platform(&relay, &wechat, Egress::Direct).await;

    // Nothing saved at the desk: only the AppID can be compared, and it matches.
    relay_keys(&relay, APPID, None);
    let steps = p.check_connection().await;
    let (step, detail) = keys_of(&steps);
    assert!(step.ok && !step.skipped, "{step:?}");
    assert_eq!(
        detail,
        CheckDetail::KeysCompared {
            relay_appid: APPID.into(),
            appid_matches: true,
            token: KeyMatch::NotSaved,
            aes_key: KeyMatch::NotSaved,
        }
    );

    // The same secrets: both match, every step passes.
    save_keys(&p, TOKEN, AES).await;
    let steps = p.check_connection().await;
    assert!(steps.iter().all(|s| s.ok), "{steps:?}");
    assert_eq!(
        keys_of(&steps).1,
        CheckDetail::KeysCompared {
            relay_appid: APPID.into(),
            appid_matches: true,
            token: KeyMatch::Matches,
            aes_key: KeyMatch::Matches,
        }
    );

    // A mistyped token fails the step (and says which one), with where to look.
    save_keys(&p, "platform-token-for-chek", AES).await;
    let steps = p.check_connection().await;
    let (step, detail) = keys_of(&steps);
    assert!(!step.ok && !step.skipped);
    assert_eq!(
        detail,
        CheckDetail::KeysCompared {
            relay_appid: APPID.into(),
            appid_matches: true,
            token: KeyMatch::Differs,
            aes_key: KeyMatch::Matches,
        }
    );
    assert!(
        step.detail_zh().contains("Token 不一致"),
        "{}",
        step.detail_zh()
    );
    assert!(step.hint_zh().unwrap().contains("开发资料"));

    // The relay rotating its AES key: the desk's old key is its previous one, still fine.
    save_keys(&p, TOKEN, OLD_AES).await;
    relay_keys(&relay, APPID, Some(OLD_AES));
    let steps = p.check_connection().await;
    let (step, detail) = keys_of(&steps);
    assert!(step.ok, "{step:?}");
    assert!(matches!(
        detail,
        CheckDetail::KeysCompared {
            aes_key: KeyMatch::MatchesPrevious,
            ..
        }
    ));

    // A relay set up for another platform.
    relay_keys(&relay, "wxffffffffffffffff", None);
    save_keys(&p, TOKEN, AES).await;
    let steps = p.check_connection().await;
    let (step, _) = keys_of(&steps);
    assert!(!step.ok);
    assert!(
        step.detail_zh().contains("wxffffffffffffffff"),
        "names the relay's AppID: {}",
        step.detail_zh()
    );
}

#[tokio::test]
async fn a_candidate_form_is_checked_with_its_own_secrets_and_nothing_is_saved() {
    let relay = FakeRelay::start().await;
    with_ticket(&relay, 30);
    relay_keys(&relay, APPID, None);
    let wechat = fake_wechat(json!({"component_access_token": "cat", "expires_in": 7200})).await;
    let p = platform(&relay, &wechat, Egress::Direct).await;
    save_keys(&p, TOKEN, AES).await;
    let before = p.load_settings().await.unwrap();
    let form = |token: Option<&str>, relay_key: Option<&str>| SettingsInput {
        mode: crate::store::settings::Mode::Production,
        component_appid: APPID.into(),
        relay_url: relay.base_url.clone(),
        egress: Egress::Direct,
        api_base: Some(wechat.base_url.clone()),
        component_appsecret: None,
        component_token: token.map(Secret::new),
        component_aes_key: None,
        relay_key: relay_key.map(Secret::new),
    };

    // The form's token differs from the relay's: the candidate check says so…
    let steps = p
        .check_candidate(form(Some("typed-wrong-token"), None))
        .await
        .unwrap();
    let (step, detail) = keys_of(&steps);
    assert!(!step.ok);
    assert!(matches!(
        detail,
        CheckDetail::KeysCompared {
            token: KeyMatch::Differs,
            aes_key: KeyMatch::Matches,
            ..
        }
    ));
    // …while the saved settings, untouched, still pass.
    assert!(p.check_connection().await.iter().all(|s| s.ok));
    assert_eq!(p.load_settings().await.unwrap(), before);

    // A wrong relay key in the form fails the relay step; the saved key still works.
    let steps = p
        .check_candidate(form(None, Some("not-the-relay-key")))
        .await
        .unwrap();
    assert!(!steps[0].ok && steps[0].detail_zh().contains("401"));
    assert!(p.check_connection().await[0].ok);

    // Blank secrets keep the saved ones: the form as saved passes.
    let steps = p.check_candidate(form(None, None)).await.unwrap();
    assert!(steps.iter().all(|s| s.ok), "{steps:?}");

    // An invalid form is refused as saving refuses it.
    let mut bad = form(None, None);
    bad.component_appid = "wx123".into();
    assert!(p.check_candidate(bad).await.is_err());
}
