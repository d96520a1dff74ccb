//! Two caches sharing one [`SharedTokens`] hook stand for two processes on one data dir,
//! against a loopback server that counts refreshes and, like WeChat, accepts only the newest
//! refresh token.

use std::sync::Arc;
use std::sync::Mutex as StdMutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::json;

use super::*;
use crate::api::ClientConfig;
use crate::test_server::{Reply, TestServer};

use super::tests::{AUTHORIZER_TOKEN, COMPONENT_TOKEN, TAGS, cache_on, serve_component_tokens};

struct Pair {
    srv: TestServer,
    a: Arc<TokenCache>,
    b: Arc<TokenCache>,
    clock: Arc<ManualClock>,
    store: Arc<MemoryRefreshTokenStore>,
    shared: Arc<MemorySharedTokens>,
}

/// Component refreshes answer CAT1, CAT2, …; authorizer refreshes answer AAT1, AAT2, … and
/// rotate the refresh token R0 → R1 → R2, refusing any but the newest (61023), as WeChat may.
async fn pair(with_hook: bool) -> Pair {
    let srv = TestServer::start().await;
    serve_component_tokens(&srv);
    let newest = Arc::new(StdMutex::new(0usize));
    srv.route_fn(AUTHORIZER_TOKEN, move |r| {
        let mut i = newest.lock().unwrap();
        if r.body["authorizer_refresh_token"] != format!("R{i}") {
            return Reply::json(json!({"errcode": 61023, "errmsg": "refresh_token is invalid"}));
        }
        *i += 1;
        Reply::json(json!({"authorizer_access_token": format!("AAT{i}"), "expires_in": 7200, "authorizer_refresh_token": format!("R{i}")}))
    });
    let clock = Arc::new(ManualClock::default());
    let store = Arc::new(MemoryRefreshTokenStore::new());
    store.put("wxa", &Secret::new("R0")).await.unwrap();
    let shared = Arc::new(MemorySharedTokens::new());
    let cache = || {
        let c = cache_on(
            &srv,
            store.clone(),
            TokenCacheConfig::default(),
            clock.clone(),
        );
        Arc::new(if with_hook {
            c.with_shared_tokens(shared.clone())
        } else {
            c
        })
    };
    let (a, b) = (cache(), cache());
    Pair {
        srv,
        a,
        b,
        clock,
        store,
        shared,
    }
}

/// A hundred concurrent `authorizer_token` calls on each cache; every token they got.
async fn storm(p: &Pair) -> Vec<String> {
    let mut handles = Vec::new();
    for c in [&p.a, &p.b] {
        for _ in 0..100 {
            let c = Arc::clone(c);
            handles.push(tokio::spawn(async move { c.authorizer_token("wxa").await }));
        }
    }
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap().unwrap().expose().to_owned());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_caches_sharing_a_hook_refresh_once_for_two_hundred_callers() {
    let p = pair(true).await;
    p.srv.set_delay(Duration::from_millis(50));
    let got = storm(&p).await;
    assert_eq!(got.len(), 200);
    assert!(got.iter().all(|t| t == "AAT1"), "{got:?}");
    assert_eq!(p.srv.count(AUTHORIZER_TOKEN), 1);
    assert_eq!(p.srv.count(COMPONENT_TOKEN), 1);
    assert_eq!(p.store.get("wxa").await.unwrap().unwrap().expose(), "R1");
    let shared = p
        .shared
        .load(&TokenKey::Authorizer("wxa".into()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(shared.value.expose(), "AAT1");
    assert_eq!(
        (shared.expires_at, shared.expires_in),
        (p.clock.unix_now() + 7200, 7200)
    );
}

/// The "before" of the test above: without the hook each cache refreshes on its own (and, had
/// both read R0 before either rotated it, one of the two would have failed with 61023).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_a_hook_each_cache_refreshes_on_its_own() {
    let p = pair(false).await;
    let (a, b) = (p.a.clone(), p.b.clone());
    let _ = tokio::join!(a.authorizer_token("wxa"), b.authorizer_token("wxa"));
    assert_eq!(p.srv.count(COMPONENT_TOKEN), 2);
    assert_eq!(p.srv.count(AUTHORIZER_TOKEN), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_token_rejected_in_both_caches_is_refreshed_once_not_twice() {
    let p = pair(true).await;
    // Both caches hold AAT1 (one refresh, the other adopted it).
    assert_eq!(p.a.authorizer_token("wxa").await.unwrap().expose(), "AAT1");
    assert_eq!(p.b.authorizer_token("wxa").await.unwrap().expose(), "AAT1");
    assert_eq!(p.srv.count(AUTHORIZER_TOKEN), 1);
    // WeChat now calls AAT1 expired (its clock ran ahead of ours) and accepts anything newer.
    p.srv.route_fn(TAGS, |r| {
        if r.query["access_token"] == "AAT1" {
            Reply::json(json!({"errcode": 42001, "errmsg": "access_token expired"}))
        } else {
            Reply::json(json!({"tags": []}))
        }
    });
    p.srv.set_delay(Duration::from_millis(20));
    let mut handles = Vec::new();
    for c in [&p.a, &p.b] {
        for _ in 0..100 {
            let c = Arc::clone(c);
            handles.push(tokio::spawn(async move {
                let client = c.client().clone();
                c.call_with_authorizer_token("wxa", |at| {
                    let client = client.clone();
                    async move { client.tags_get(&at).await }
                })
                .await
            }));
        }
    }
    for h in handles {
        assert!(h.await.unwrap().unwrap().is_empty());
    }
    assert_eq!(
        p.srv.count(AUTHORIZER_TOKEN),
        2,
        "one refresh for both caches"
    );
    // The one refresh used the refresh token the first one rotated in.
    let second = p
        .srv
        .requests()
        .into_iter()
        .filter(|r| r.path == AUTHORIZER_TOKEN)
        .nth(1)
        .unwrap();
    assert_eq!(second.body["authorizer_refresh_token"], "R1");
    assert_eq!(p.a.authorizer_token("wxa").await.unwrap().expose(), "AAT2");
    assert_eq!(p.b.authorizer_token("wxa").await.unwrap().expose(), "AAT2");
}

#[tokio::test]
async fn a_peer_token_inside_the_margin_is_not_adopted() {
    let p = pair(true).await;
    let key = TokenKey::Authorizer("wxa".into());
    // Stored by a peer, expiring in 599 s: inside the 600 s margin.
    let near = SharedToken {
        value: Secret::new("AAT_PEER"),
        expires_at: p.clock.unix_now() + 599,
        expires_in: 7200,
    };
    p.shared.store(&key, &near).await.unwrap();
    assert_eq!(p.a.authorizer_token("wxa").await.unwrap().expose(), "AAT1");
    assert_eq!(p.srv.count(AUTHORIZER_TOKEN), 1);

    // One still good for 601 s is adopted with no request, and dropped when its margin comes.
    let fresh = SharedToken {
        value: Secret::new("AAT_PEER2"),
        expires_at: p.clock.unix_now() + 601,
        expires_in: 7200,
    };
    p.shared.store(&key, &fresh).await.unwrap();
    assert_eq!(
        p.b.authorizer_token("wxa").await.unwrap().expose(),
        "AAT_PEER2"
    );
    assert_eq!(p.srv.count(AUTHORIZER_TOKEN), 1);
    p.clock.advance(Duration::from_secs(1));
    assert_eq!(p.b.authorizer_token("wxa").await.unwrap().expose(), "AAT2");
    assert_eq!(p.srv.count(AUTHORIZER_TOKEN), 2);
}

#[tokio::test]
async fn expiry_in_one_cache_is_met_by_the_token_the_other_refreshed() {
    let p = pair(true).await;
    assert_eq!(p.a.component_token().await.unwrap().expose(), "CAT1");
    assert_eq!(p.b.component_token().await.unwrap().expose(), "CAT1");
    p.clock.advance(Duration::from_secs(7200 - 600));
    assert_eq!(p.a.component_token().await.unwrap().expose(), "CAT2");
    assert_eq!(p.b.component_token().await.unwrap().expose(), "CAT2");
    assert_eq!(p.srv.count(COMPONENT_TOKEN), 2);
}

#[tokio::test]
async fn fetch_component_token_asks_wechat_even_with_a_fresh_peer_token_and_shares_the_result() {
    let p = pair(true).await;
    assert_eq!(p.a.component_token().await.unwrap().expose(), "CAT1");
    // A peer's newer token is in the shared store; `b` must still fetch.
    assert_eq!(p.b.fetch_component_token().await.unwrap().expose(), "CAT2");
    assert_eq!(p.srv.count(COMPONENT_TOKEN), 2);
    // Its result replaced the shared one: `a`, once its own copy is rejected, adopts CAT2.
    p.a.invalidate_component_token(&Secret::new("CAT1")).await;
    assert_eq!(p.a.component_token().await.unwrap().expose(), "CAT2");
    assert_eq!(p.srv.count(COMPONENT_TOKEN), 2);
}

#[tokio::test]
async fn store_authorization_is_shared_and_forget_removes_it() {
    let p = pair(true).await;
    let info: crate::api::AuthorizationInfo = serde_json::from_value(json!({
        "authorizer_appid": "wxa", "authorizer_access_token": "AAT_Q", "expires_in": 7200,
        "authorizer_refresh_token": "R0", "func_info": []}))
    .unwrap();
    p.a.store_authorization(&info).await.unwrap();
    assert_eq!(p.b.authorizer_token("wxa").await.unwrap().expose(), "AAT_Q");
    assert!(p.srv.requests().is_empty());
    p.a.forget_authorizer("wxa").await.unwrap();
    let key = TokenKey::Authorizer("wxa".into());
    assert!(p.shared.load(&key).await.unwrap().is_none());
}

/// A hook whose lock cannot be taken (a peer hung): the refresh fails with the hook's error and
/// nothing is asked of WeChat.
struct StuckLock;

impl SharedTokens for StuckLock {
    fn load<'a>(&'a self, _: &'a TokenKey) -> BoxFuture<'a, Result<Option<SharedToken>>> {
        Box::pin(async { Ok(None) })
    }
    fn store<'a>(&'a self, _: &'a TokenKey, _: &'a SharedToken) -> BoxFuture<'a, Result<()>> {
        Box::pin(async { Ok(()) })
    }
    fn remove<'a>(&'a self, _: &'a TokenKey) -> BoxFuture<'a, Result<()>> {
        Box::pin(async { Ok(()) })
    }
    fn lock<'a>(&'a self, _: &'a TokenKey) -> BoxFuture<'a, Result<SharedLockGuard>> {
        Box::pin(async { Err(Error::Store("lock timed out".into())) })
    }
}

#[tokio::test]
async fn a_lock_that_cannot_be_taken_fails_the_refresh_without_a_request() {
    let srv = TestServer::start().await;
    let cache = TokenCache::new(
        Client::new(ClientConfig::with_base_url(&srv.base_url)).unwrap(),
        ComponentCredentials {
            component_appid: "wxc".into(),
            component_appsecret: Secret::new("sec"),
        },
        Arc::new(MemoryTicketSource::new(Some(Secret::new("t")))),
        Arc::new(MemoryRefreshTokenStore::new()),
        TokenCacheConfig::default(),
    )
    .with_shared_tokens(Arc::new(StuckLock));
    let err = cache.component_token().await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "令牌存储失败：lock timed out (token store failed)"
    );
    assert!(srv.requests().is_empty());
}

/// A lock that cannot be had: the first attempt waits until the test lets it fail (a peer hung
/// past the timeout), later ones fail at once. Counts the attempts.
#[derive(Default)]
struct HungPeer {
    attempts: AtomicUsize,
    release: tokio::sync::Notify,
}

impl SharedTokens for HungPeer {
    fn load<'a>(&'a self, _: &'a TokenKey) -> BoxFuture<'a, Result<Option<SharedToken>>> {
        Box::pin(async { Ok(None) })
    }
    fn store<'a>(&'a self, _: &'a TokenKey, _: &'a SharedToken) -> BoxFuture<'a, Result<()>> {
        Box::pin(async { Ok(()) })
    }
    fn remove<'a>(&'a self, _: &'a TokenKey) -> BoxFuture<'a, Result<()>> {
        Box::pin(async { Ok(()) })
    }
    fn lock<'a>(&'a self, _: &'a TokenKey) -> BoxFuture<'a, Result<SharedLockGuard>> {
        Box::pin(async move {
            if self.attempts.fetch_add(1, Ordering::SeqCst) == 0 {
                self.release.notified().await;
            }
            Err(Error::Store("peer hung".into()))
        })
    }
}

#[tokio::test(flavor = "current_thread")]
async fn callers_queued_behind_a_failed_lock_share_its_error_instead_of_waiting_again() {
    let srv = TestServer::start().await;
    let hung = Arc::new(HungPeer::default());
    let cache = Arc::new(
        TokenCache::new(
            Client::new(ClientConfig::with_base_url(&srv.base_url)).unwrap(),
            ComponentCredentials {
                component_appid: "wxc".into(),
                component_appsecret: Secret::new("sec"),
            },
            Arc::new(MemoryTicketSource::new(Some(Secret::new("t")))),
            Arc::new(MemoryRefreshTokenStore::new()),
            TokenCacheConfig::default(),
        )
        .with_shared_tokens(hung.clone()),
    );
    let handles: Vec<_> = (0..100)
        .map(|_| {
            let c = cache.clone();
            tokio::spawn(async move { c.component_token().await })
        })
        .collect();
    // On this single-threaded runtime every task runs up to its first wait: one in the lock,
    // ninety-nine queued behind it.
    while hung.attempts.load(Ordering::SeqCst) == 0 {
        tokio::task::yield_now().await;
    }
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    hung.release.notify_one();
    for h in handles {
        let err = h.await.unwrap().unwrap_err();
        assert_eq!(
            err.to_string(),
            "令牌存储失败：peer hung (token store failed)"
        );
    }
    assert_eq!(
        hung.attempts.load(Ordering::SeqCst),
        1,
        "one wait, not a hundred"
    );
    // A caller arriving after the failure tries again.
    assert!(cache.component_token().await.is_err());
    assert_eq!(hung.attempts.load(Ordering::SeqCst), 2);
    assert!(srv.requests().is_empty());
}
