use std::sync::Mutex;

use serde_json::json;

use super::*;
use crate::store::accounts::{AccountKind, AccountRow};
use crate::testutil::FakeRelay;

/// One of WeChat's 全网发布 test accounts.
pub(super) const RELEASE_TEST_APPID: &str = "wx570bc396a51b8ff8";

/// Records what the feed asked for; codes starting with `expired` fail permanently (61010),
/// codes starting with `busy` fail transiently (-1) until `busy_ok` is set (or permanently,
/// 61010, once `busy_expired` is set: the code ran out while WeChat was busy).
#[derive(Default)]
pub(super) struct FakeActions {
    pub completed: Mutex<Vec<String>>,
    pub forgotten: Mutex<Vec<String>>,
    pub answered: Mutex<Vec<(Option<String>, String, String)>>,
    pub busy_ok: Mutex<bool>,
    pub busy_expired: Mutex<bool>,
    pub adopted: Mutex<Vec<String>>,
    /// Every method called, in order.
    pub calls: Mutex<Vec<&'static str>>,
}

pub(super) fn wechat_err(code: i64) -> Error {
    Error::WeChat(wxdesk_wechat::Error::WeChat(
        wxdesk_wechat::WeChatError::new(code, "x rid: 1"),
    ))
}

impl AuthActions for FakeActions {
    async fn complete_authorization(&self, code: Secret) -> Result<String> {
        self.calls.lock().unwrap().push("complete_authorization");
        let code = code.expose().to_string();
        if code.starts_with("expired") {
            return Err(wechat_err(61010));
        }
        if code.starts_with("busy") && !*self.busy_ok.lock().unwrap() {
            let expired = *self.busy_expired.lock().unwrap();
            return Err(wechat_err(if expired { 61010 } else { -1 }));
        }
        self.completed.lock().unwrap().push(code.clone());
        Ok(format!("wx_{code}"))
    }
    async fn answer_release_test(
        &self,
        appid: Option<&str>,
        openid: &str,
        code: Secret,
    ) -> Result<()> {
        self.calls.lock().unwrap().push("answer_release_test");
        self.answered.lock().unwrap().push((
            appid.map(str::to_string),
            openid.into(),
            code.expose().into(),
        ));
        Ok(())
    }
    async fn adopt_authorizer(&self, appid: &str) -> Result<String> {
        self.calls.lock().unwrap().push("adopt_authorizer");
        if appid.starts_with("wxListed") {
            self.adopted.lock().unwrap().push(appid.into());
            Ok(appid.into())
        } else {
            Err(Error::AccountNotFound(appid.into()))
        }
    }
    async fn forget_authorizer(&self, appid: &str) -> Result<()> {
        self.calls.lock().unwrap().push("forget_authorizer");
        self.forgotten.lock().unwrap().push(appid.into());
        Ok(())
    }
}

/// Writes every event it sees into the audit log, inside the feed's transaction.
pub(super) struct RecordingHandler;
impl EventHandler for RecordingHandler {
    fn apply(&self, tx: &rusqlite::Transaction<'_>, ev: &FeedEvent) -> Result<()> {
        audit::record(
            tx,
            "handler",
            ev.appid.as_deref(),
            &format!("{}:{}", ev.seq, ev.kind.name()),
        )
    }
}

pub(super) fn handler_log(store: &Store) -> Vec<String> {
    let conn = store.clone();
    let rows = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(conn.call(|c| audit::recent(c, 1000)))
    })
    .join()
    .unwrap()
    .unwrap();
    let mut v: Vec<String> = rows
        .into_iter()
        .filter(|e| e.kind == "handler")
        .map(|e| e.detail)
        .collect();
    v.reverse();
    v
}

pub(super) async fn follower(
    relay: &FakeRelay,
    store: &Store,
    actions: &Arc<FakeActions>,
) -> FeedFollower<FakeActions> {
    FeedFollower::new(relay.client(), store.clone(), Arc::clone(actions))
        .with_handler(Arc::new(RecordingHandler))
        .with_wait_secs(0)
}

fn account(appid: &str) -> AccountRow {
    AccountRow {
        appid: appid.into(),
        kind: AccountKind::Oa,
        nickname: "n".into(),
        head_img: String::new(),
        user_name: "gh_1".into(),
        principal: String::new(),
        service_type: Some(2),
        verify_type: Some(0),
        func_info: vec![1],
        status: AccountStatus::Authorized,
        authorized_at: Some(1),
        updated_at: 0,
        component_appid: String::new(),
    }
}

#[tokio::test]
async fn every_kind_is_applied_in_order_and_the_cursor_ends_at_the_last_seq() {
    let relay = FakeRelay::start().await;
    let store = Store::open_in_memory().unwrap();
    store
        .call(|c| accounts::upsert(c, &account("wxGone")))
        .await
        .unwrap();
    relay.push(
        "auth_callback",
        None,
        json!({"auth_code":"c1","expires_in":600,"state":"st-1"}),
    );
    relay.push("authorized", None, json!({"authorizer_appid":"wx_c2","authorization_code":"c2","authorization_code_expired_time":2,"pre_auth_code":"pre-2","create_time":1}));
    relay.push(
        "unauthorized",
        None,
        json!({"authorizer_appid":"wxGone","create_time":3}),
    );
    relay.push(
        "query_auth_code",
        Some(RELEASE_TEST_APPID),
        json!({"openid":"oT","query_auth_code":"qac@@@9","to_user_name":"gh_3c884a361561"}),
    );
    relay.push(
        "template_send_job_finish",
        Some("wxA"),
        json!({"openid":"o1","msg_id":42,"status":"success","create_time":5,"to_user_name":"gh_a"}),
    );
    let actions = Arc::new(FakeActions::default());
    let f = follower(&relay, &store, &actions).await;
    let mut rx = f.subscribe();

    assert_eq!(f.poll_once().await.unwrap(), 5);

    assert_eq!(store.call(|c| cursor::get(c)).await.unwrap(), 5);
    assert_eq!(*actions.completed.lock().unwrap(), ["c1", "c2"]);
    assert_eq!(*actions.forgotten.lock().unwrap(), ["wxGone"]);
    assert_eq!(
        *actions.answered.lock().unwrap(),
        [(
            Some(RELEASE_TEST_APPID.to_string()),
            "oT".to_string(),
            "qac@@@9".to_string()
        )]
    );
    let gone = store
        .call(|c| accounts::get(c, "wxGone"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(gone.status, AccountStatus::Unauthorized);
    assert_eq!(
        handler_log(&store),
        [
            "1:auth_callback",
            "2:authorized",
            "3:unauthorized",
            "4:query_auth_code",
            "5:template_send_job_finish"
        ]
    );

    let mut notices = Vec::new();
    while let Ok(n) = rx.try_recv() {
        notices.push(n);
    }
    assert_eq!(
        notices,
        [
            FeedNotice::AccountAuthorized {
                appid: "wx_c1".into(),
                pre_auth_code: None,
                state: Some("st-1".into())
            },
            FeedNotice::AccountAuthorized {
                appid: "wx_c2".into(),
                pre_auth_code: Some("pre-2".into()),
                state: None
            },
            FeedNotice::AccountStatusChanged {
                appid: "wxGone".into(),
                status: AccountStatus::Unauthorized
            },
            FeedNotice::ReleaseTestAnswered {
                appid: Some(RELEASE_TEST_APPID.into()),
                openid: "oT".into()
            },
            FeedNotice::Event {
                seq: 5,
                appid: Some("wxA".into()),
                kind: "template_send_job_finish".into()
            },
            FeedNotice::CaughtUp { cursor: 5 },
        ]
    );
}

#[tokio::test]
async fn the_cursor_survives_a_restart_and_only_new_events_are_applied_after_it() {
    let relay = FakeRelay::start().await;
    let dir = tempfile::tempdir().unwrap();
    let actions = Arc::new(FakeActions::default());
    for i in 1..=3 {
        relay.push(
            "text",
            Some("wxA"),
            json!({"openid":"o","content":format!("m{i}"),"msg_id":i,"create_time":i}),
        );
    }
    {
        let store = Store::open_in_dir(dir.path()).await.unwrap();
        assert_eq!(
            follower(&relay, &store, &actions)
                .await
                .poll_once()
                .await
                .unwrap(),
            3
        );
    }
    // The app is closed while two more arrive.
    relay.push(
        "subscribe",
        Some("wxA"),
        json!({"openid":"o9","create_time":9,"event_key":""}),
    );
    relay.push(
        "unsubscribe",
        Some("wxA"),
        json!({"openid":"o9","create_time":10}),
    );

    let store = Store::open_in_dir(dir.path()).await.unwrap();
    assert_eq!(store.call(|c| cursor::get(c)).await.unwrap(), 3);
    let f = follower(&relay, &store, &actions).await;
    assert_eq!(f.poll_once().await.unwrap(), 2);
    assert_eq!(f.poll_once().await.unwrap(), 0);
    assert_eq!(store.call(|c| cursor::get(c)).await.unwrap(), 5);
    assert_eq!(
        handler_log(&store),
        ["1:text", "2:text", "3:text", "4:subscribe", "5:unsubscribe"]
    );
    assert_eq!(relay.state.lock().unwrap().polls, [0, 3, 5]);
}

#[tokio::test]
async fn an_expired_code_is_recorded_and_skipped_without_its_code_in_the_log() {
    let relay = FakeRelay::start().await;
    let store = Store::open_in_memory().unwrap();
    let actions = Arc::new(FakeActions::default());
    relay.push(
        "auth_callback",
        None,
        json!({"auth_code":"expired-1","expires_in":600}),
    );
    relay.push(
        "text",
        Some("wxA"),
        json!({"openid":"o","content":"after","msg_id":2,"create_time":2}),
    );
    let f = follower(&relay, &store, &actions).await;

    assert_eq!(f.poll_once().await.unwrap(), 2);
    assert_eq!(store.call(|c| cursor::get(c)).await.unwrap(), 2);
    let failures: Vec<_> = store
        .call(|c| audit::recent(c, 10))
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "authorization_failed")
        .collect();
    assert_eq!(failures.len(), 1);
    assert!(
        failures[0].detail.contains("61010"),
        "{}",
        failures[0].detail
    );
    assert!(
        !failures[0].detail.contains("expired-1"),
        "the code itself is not logged"
    );
    assert!(
        store.call(|c| parked::list(c)).await.unwrap().is_empty(),
        "a permanent failure is not parked"
    );
}

#[tokio::test]
async fn a_wrong_relay_key_is_reported_as_such_and_moves_nothing() {
    let relay = FakeRelay::start().await;
    relay.push(
        "text",
        Some("wxA"),
        json!({"openid":"o","content":"x","msg_id":1,"create_time":1}),
    );
    let store = Store::open_in_memory().unwrap();
    let client = RelayClient::new(&relay.base_url, Secret::new("wrong")).unwrap();
    let f = FeedFollower::new(client, store.clone(), Arc::new(FakeActions::default()))
        .with_wait_secs(0);
    assert!(matches!(f.poll_once().await, Err(Error::RelayUnauthorized)));
    assert_eq!(store.call(|c| cursor::get(c)).await.unwrap(), 0);
}

#[tokio::test]
async fn a_relay_whose_log_restarted_below_the_cursor_is_followed_from_its_start() {
    let relay = FakeRelay::start().await;
    let store = Store::open_in_memory().unwrap();
    store.call(|c| cursor::advance(c, 40)).await.unwrap();
    relay.push(
        "text",
        Some("wxA"),
        json!({"openid":"o","content":"x","msg_id":1,"create_time":1}),
    );
    let f = follower(&relay, &store, &Arc::new(FakeActions::default())).await;
    assert_eq!(f.poll_once().await.unwrap(), 0);
    assert_eq!(store.call(|c| cursor::get(c)).await.unwrap(), 0);
    assert_eq!(f.poll_once().await.unwrap(), 1);
    assert_eq!(store.call(|c| cursor::get(c)).await.unwrap(), 1);
}

#[tokio::test]
async fn run_applies_events_and_returns_when_cancelled() {
    let relay = FakeRelay::start().await;
    relay.push(
        "text",
        Some("wxA"),
        json!({"openid":"o","content":"x","msg_id":1,"create_time":1}),
    );
    let store = Store::open_in_memory().unwrap();
    let f = follower(&relay, &store, &Arc::new(FakeActions::default())).await;
    let mut rx = f.subscribe();
    let cancel = CancellationToken::new();
    let task = tokio::spawn(f.run(cancel.clone()));
    loop {
        if let FeedNotice::CaughtUp { cursor } = rx.recv().await.unwrap() {
            assert_eq!(cursor, 1);
            break;
        }
    }
    cancel.cancel();
    task.await.unwrap();
}

/// The next ticket notice `run` sends (other notices skipped), within 5 s.
async fn next_ticket_notice(rx: &mut tokio::sync::broadcast::Receiver<FeedNotice>) -> FeedNotice {
    tokio::time::timeout(std::time::Duration::from_secs(5), async {
        loop {
            let n = rx.recv().await.unwrap();
            if matches!(
                n,
                FeedNotice::TicketStale { .. } | FeedNotice::TicketFresh { .. }
            ) {
                return n;
            }
        }
    })
    .await
    .expect("a ticket notice")
}

#[tokio::test]
async fn run_says_when_tickets_stop_arriving_and_again_when_they_arrive() {
    let relay = FakeRelay::start().await;
    let set_ticket = |age: Option<i64>| {
        relay.state.lock().unwrap().ticket = age
            .map(|a| json!({"ticket":"ticket@@@t","create_time":1,"received_at":1,"age_secs":a}));
    };
    set_ticket(Some(60));
    let store = Store::open_in_memory().unwrap();
    let f = follower(&relay, &store, &Arc::new(FakeActions::default()))
        .await
        .watching_tickets(Some(std::time::Duration::from_millis(50)));
    let mut rx = f.subscribe();
    let cancel = CancellationToken::new();
    let task = tokio::spawn(f.run(cancel.clone()));

    // Fresh tickets: several checks, nothing said.
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    while let Ok(n) = rx.try_recv() {
        assert!(
            !matches!(
                n,
                FeedNotice::TicketStale { .. } | FeedNotice::TicketFresh { .. }
            ),
            "{n:?}"
        );
    }
    // Three pushes missed: said once, with the age.
    let stale = crate::feed::TICKET_STALE_SECS + 60;
    set_ticket(Some(stale));
    assert_eq!(
        next_ticket_notice(&mut rx).await,
        FeedNotice::TicketStale {
            age_secs: Some(stale)
        }
    );
    // A ticket again: cleared.
    set_ticket(Some(5));
    assert_eq!(
        next_ticket_notice(&mut rx).await,
        FeedNotice::TicketFresh { age_secs: 5 }
    );
    // A relay with no ticket at all is as bad.
    set_ticket(None);
    assert_eq!(
        next_ticket_notice(&mut rx).await,
        FeedNotice::TicketStale { age_secs: None }
    );
    cancel.cancel();
    task.await.unwrap();
}

#[tokio::test]
async fn a_team_desk_does_not_ask_for_tickets() {
    let relay = FakeRelay::start().await;
    let store = Store::open_in_memory().unwrap();
    let f = follower(&relay, &store, &Arc::new(FakeActions::default()))
        .await
        .watching_tickets(None);
    let mut rx = f.subscribe();
    let cancel = CancellationToken::new();
    let task = tokio::spawn(f.run(cancel.clone()));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    while let Ok(n) = rx.try_recv() {
        assert!(!matches!(n, FeedNotice::TicketStale { .. }), "{n:?}");
    }
    cancel.cancel();
    task.await.unwrap();
}

#[tokio::test]
async fn fetch_ticket_reads_the_ticket_and_maps_no_ticket_to_none() {
    let relay = FakeRelay::start().await;
    let client = relay.client();
    assert!(client.fetch_ticket().await.unwrap().is_none());
    relay.state.lock().unwrap().ticket =
        Some(json!({"ticket":"ticket@@@abc","create_time":100,"received_at":101,"age_secs":30}));
    let t = client.fetch_ticket().await.unwrap().unwrap();
    assert_eq!(t.ticket.expose(), "ticket@@@abc");
    assert_eq!((t.create_time, t.received_at, t.age_secs), (100, 101, 30));
    assert!(!format!("{t:?}").contains("ticket@@@abc"));
}

#[tokio::test]
async fn the_release_test_accounts_authorization_is_not_exchanged_so_its_code_stays_usable() {
    let relay = FakeRelay::start().await;
    let store = Store::open_in_memory().unwrap();
    let actions = Arc::new(FakeActions::default());
    relay.push(
        "authorized",
        None,
        json!({"authorizer_appid":RELEASE_TEST_APPID,"authorization_code":"queryauthcode@@@t",
               "authorization_code_expired_time":2,"pre_auth_code":"","create_time":1}),
    );
    relay.push(
        "query_auth_code",
        Some(RELEASE_TEST_APPID),
        json!({"openid":"oT","query_auth_code":"queryauthcode@@@t","to_user_name":"gh_3c884a361561"}),
    );
    assert_eq!(
        follower(&relay, &store, &actions)
            .await
            .poll_once()
            .await
            .unwrap(),
        2
    );
    assert!(actions.completed.lock().unwrap().is_empty());
    assert_eq!(actions.answered.lock().unwrap().len(), 1);
    assert!(store.call(|c| accounts::list(c)).await.unwrap().is_empty());
}

#[tokio::test]
async fn an_authorized_event_whose_code_expired_adopts_the_account_from_the_list_or_records_why_not()
 {
    let relay = FakeRelay::start().await;
    let store = Store::open_in_memory().unwrap();
    let actions = Arc::new(FakeActions::default());
    relay.push(
        "authorized",
        None,
        json!({"authorizer_appid":"wxListed1","authorization_code":"expired-a",
               "authorization_code_expired_time":2,"pre_auth_code":"pre-a","create_time":1}),
    );
    relay.push(
        "authorized",
        None,
        json!({"authorizer_appid":"wxGoneNow","authorization_code":"expired-b",
               "authorization_code_expired_time":2,"pre_auth_code":"","create_time":1}),
    );
    let f = follower(&relay, &store, &actions).await;
    let mut rx = f.subscribe();
    assert_eq!(f.poll_once().await.unwrap(), 2);
    assert_eq!(*actions.adopted.lock().unwrap(), ["wxListed1"]);
    assert_eq!(
        rx.try_recv().unwrap(),
        FeedNotice::AccountAuthorized {
            appid: "wxListed1".into(),
            pre_auth_code: Some("pre-a".into()),
            state: None
        }
    );
    match rx.try_recv().unwrap() {
        FeedNotice::AuthorizationFailed { appid, message } => {
            assert_eq!(appid.as_deref(), Some("wxGoneNow"));
            assert!(
                message.contains("61010"),
                "the original reason is kept: {message}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(store.call(|c| cursor::get(c)).await.unwrap(), 2);
}
