//! Parked events (an effect that may work later does not hold up the feed) and the
//! release-test guard.

use std::sync::Arc;

use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::tests::{FakeActions, RELEASE_TEST_APPID, follower, handler_log};
use super::*;
use crate::testutil::FakeRelay;

fn notices(rx: &mut broadcast::Receiver<FeedNotice>) -> Vec<FeedNotice> {
    let mut v = Vec::new();
    while let Ok(n) = rx.try_recv() {
        v.push(n);
    }
    v
}

async fn audit_kinds(store: &Store) -> Vec<(String, String)> {
    let mut v: Vec<_> = store
        .call(|c| audit::recent(c, 100))
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.kind, e.detail))
        .collect();
    v.reverse();
    v
}

/// Makes every parked event due now, as time passing would.
async fn make_due(store: &Store) {
    store.call(|c| parked::retry_all_now(c)).await.unwrap();
}

#[tokio::test]
async fn a_failing_event_is_parked_the_next_one_applied_and_the_parked_one_applied_on_a_later_retry()
 {
    let relay = FakeRelay::start().await;
    let dir = tempfile::tempdir().unwrap();
    let actions = Arc::new(FakeActions::default());
    relay.push(
        "auth_callback",
        None,
        json!({"auth_code":"busy@@@1","expires_in":600,"state":"st-1"}),
    );
    relay.push(
        "text",
        Some("wxA"),
        json!({"openid":"o","content":"after","msg_id":2,"create_time":2}),
    );
    {
        let store = Store::open_in_dir(dir.path()).await.unwrap();
        let f = follower(&relay, &store, &actions).await;
        let mut rx = f.subscribe();
        assert_eq!(f.poll_once().await.unwrap(), 2);
        assert_eq!(
            store.call(|c| cursor::get(c)).await.unwrap(),
            2,
            "the cursor is past both events"
        );
        assert_eq!(
            handler_log(&store),
            ["1:auth_callback", "2:text"],
            "the handlers saw both, in order"
        );
        let seen = notices(&mut rx);
        match &seen[0] {
            FeedNotice::EventParked {
                seq,
                kind,
                errcode,
                attempts,
                retry_in_secs,
                ..
            } => {
                assert_eq!((*seq, kind.as_str()), (1, "auth_callback"));
                assert_eq!((*errcode, *attempts), (Some(-1), 1));
                assert!(
                    (1..=10).contains(retry_in_secs),
                    "retried soon: {retry_in_secs}"
                );
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            seen[1..],
            [
                FeedNotice::Event {
                    seq: 2,
                    appid: Some("wxA".into()),
                    kind: "text".into()
                },
                FeedNotice::CaughtUp { cursor: 2 }
            ]
        );
        let parked = store.call(|c| parked::list(c)).await.unwrap();
        assert_eq!(parked.len(), 1);
        assert_eq!((parked[0].seq, parked[0].errcode), (1, Some(-1)));
        assert_eq!(parked[0].error_code, "wechat");
        assert!(
            parked[0].error.contains("-1"),
            "the error is kept: {}",
            parked[0].error
        );
        let raw: String = store
            .call(|c| Ok(c.query_row("SELECT data FROM parked_events", [], |r| r.get(0))?))
            .await
            .unwrap();
        assert!(!raw.contains("busy@@@1"), "no code in SQLite: {raw}");
        assert!(
            f.retry_parked().await.unwrap() == 0 && actions.calls.lock().unwrap().len() == 1,
            "not retried before it is due"
        );
    }

    // The app restarts; the parked event is still there, and WeChat works again.
    *actions.busy_ok.lock().unwrap() = true;
    let store = Store::open_in_dir(dir.path()).await.unwrap();
    make_due(&store).await;
    let f = follower(&relay, &store, &actions).await;
    let mut rx = f.subscribe();
    assert_eq!(f.retry_parked().await.unwrap(), 1);
    assert_eq!(*actions.completed.lock().unwrap(), ["busy@@@1"]);
    assert_eq!(
        notices(&mut rx),
        [
            FeedNotice::AccountAuthorized {
                appid: "wx_busy@@@1".into(),
                pre_auth_code: None,
                state: Some("st-1".into())
            },
            FeedNotice::ParkedApplied {
                seq: 1,
                appid: None,
                kind: "auth_callback".into()
            },
        ]
    );
    assert!(store.call(|c| parked::list(c)).await.unwrap().is_empty());
    assert_eq!(
        handler_log(&store),
        ["1:auth_callback", "2:text"],
        "the handlers do not see a retried event twice"
    );
    let kinds: Vec<String> = audit_kinds(&store)
        .await
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert!(kinds.contains(&"event_parked".into()), "{kinds:?}");
    assert!(kinds.contains(&"parked_applied".into()), "{kinds:?}");
    assert_eq!(store.call(|c| cursor::get(c)).await.unwrap(), 2);
}

#[tokio::test]
async fn a_parked_event_that_fails_again_backs_off_and_one_that_becomes_impossible_is_recorded_and_dropped()
 {
    let relay = FakeRelay::start().await;
    let store = Store::open_in_memory().unwrap();
    let actions = Arc::new(FakeActions::default());
    relay.push(
        "authorized",
        None,
        json!({"authorizer_appid":"wxB","authorization_code":"busy-b",
               "authorization_code_expired_time":2,"pre_auth_code":"pre-b","create_time":1}),
    );
    let f = follower(&relay, &store, &actions).await;
    let mut rx = f.subscribe();
    assert_eq!(f.poll_once().await.unwrap(), 1);
    notices(&mut rx);

    make_due(&store).await;
    assert_eq!(f.retry_parked().await.unwrap(), 0, "still busy");
    match notices(&mut rx).as_slice() {
        [
            FeedNotice::EventParked {
                seq: 1,
                attempts: 2,
                retry_in_secs,
                ..
            },
        ] => assert!(
            (11..=30).contains(retry_in_secs),
            "a longer delay: {retry_in_secs}"
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        store.call(|c| parked::list(c)).await.unwrap()[0].attempts,
        2
    );

    // Meanwhile the code expired and the account is not in WeChat's list either.
    *actions.busy_expired.lock().unwrap() = true;
    make_due(&store).await;
    assert_eq!(f.retry_parked().await.unwrap(), 1);
    let seen = notices(&mut rx);
    assert!(
        matches!(&seen[0], FeedNotice::AuthorizationFailed { appid: Some(a), message } if a == "wxB" && message.contains("61010")),
        "{seen:?}"
    );
    assert!(
        matches!(&seen[1], FeedNotice::ParkedGivenUp { seq: 1, kind, .. } if kind == "authorized"),
        "{seen:?}"
    );
    assert!(store.call(|c| parked::list(c)).await.unwrap().is_empty());
    assert!(
        audit_kinds(&store)
            .await
            .iter()
            .any(|(k, d)| k == "authorization_failed" && d.contains("61010")),
        "the reason is in the audit log"
    );
}

#[tokio::test]
async fn a_parked_event_the_relay_no_longer_holds_is_given_up() {
    let relay = FakeRelay::start().await;
    let store = Store::open_in_memory().unwrap();
    let actions = Arc::new(FakeActions::default());
    relay.push(
        "auth_callback",
        None,
        json!({"auth_code":"busy-x","expires_in":600}),
    );
    let f = follower(&relay, &store, &actions).await;
    let mut rx = f.subscribe();
    f.poll_once().await.unwrap();
    notices(&mut rx);

    // The relay's log restarted: seq 1 is now a different event.
    relay.state.lock().unwrap().events[0]["received_at"] = json!(5);
    *actions.busy_ok.lock().unwrap() = true;
    make_due(&store).await;
    assert_eq!(f.retry_parked().await.unwrap(), 1);
    assert!(
        actions.completed.lock().unwrap().is_empty(),
        "another event's code is never used"
    );
    assert!(
        matches!(notices(&mut rx).as_slice(), [FeedNotice::ParkedGivenUp { seq: 1, message, .. }] if message.contains("中继")),
    );
    assert!(
        audit_kinds(&store)
            .await
            .iter()
            .any(|(k, d)| k == "parked_given_up" && d.contains("#1"))
    );
    assert!(store.call(|c| parked::list(c)).await.unwrap().is_empty());
}

#[tokio::test]
async fn run_retries_a_due_parked_event_between_polls() {
    let relay = FakeRelay::start().await;
    let store = Store::open_in_memory().unwrap();
    let actions = Arc::new(FakeActions::default());
    relay.push(
        "auth_callback",
        None,
        json!({"auth_code":"busy-r","expires_in":600}),
    );
    let f = follower(&relay, &store, &actions).await;
    f.poll_once().await.unwrap();
    *actions.busy_ok.lock().unwrap() = true;
    make_due(&store).await;

    let mut rx = f.subscribe();
    let cancel = CancellationToken::new();
    let task = tokio::spawn(f.run(cancel.clone()));
    loop {
        if let FeedNotice::ParkedApplied { seq, .. } = rx.recv().await.unwrap() {
            assert_eq!(seq, 1);
            break;
        }
    }
    cancel.cancel();
    task.await.unwrap();
    assert_eq!(*actions.completed.lock().unwrap(), ["busy-r"]);
}

#[tokio::test]
async fn a_query_auth_code_for_an_account_that_is_not_a_release_test_account_calls_nothing() {
    let relay = FakeRelay::start().await;
    let store = Store::open_in_memory().unwrap();
    let actions = Arc::new(FakeActions::default());
    relay.push(
        "query_auth_code",
        Some("wxSomeoneElse"),
        json!({"openid":"oX","query_auth_code":"queryauthcode@@@x","to_user_name":"gh_3c884a361561"}),
    );
    relay.push(
        "query_auth_code",
        None,
        json!({"openid":"oY","query_auth_code":"queryauthcode@@@y","to_user_name":"gh_3c884a361561"}),
    );
    relay.push(
        "query_auth_code",
        Some(RELEASE_TEST_APPID),
        json!({"openid":"oT","query_auth_code":"queryauthcode@@@t","to_user_name":"gh_3c884a361561"}),
    );
    let f = follower(&relay, &store, &actions).await;
    assert_eq!(f.poll_once().await.unwrap(), 3);
    assert_eq!(
        *actions.calls.lock().unwrap(),
        ["answer_release_test"],
        "only the test account's code is answered"
    );
    assert_eq!(actions.answered.lock().unwrap()[0].1, "oT");
    assert_eq!(store.call(|c| cursor::get(c)).await.unwrap(), 3);
    assert!(store.call(|c| parked::list(c)).await.unwrap().is_empty());
}
