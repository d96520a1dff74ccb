//! Against a real loopback server that counts refresh calls.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::json;

use super::*;
use crate::api::ClientConfig;
use crate::test_server::{Reply, TestServer};

pub(super) const COMPONENT_TOKEN: &str = "/cgi-bin/component/api_component_token";
pub(super) const AUTHORIZER_TOKEN: &str = "/cgi-bin/component/api_authorizer_token";
pub(super) const TAGS: &str = "/cgi-bin/tags/get";

/// Component token refreshes answer CAT1, CAT2, … valid 7200 s.
pub(super) fn serve_component_tokens(srv: &TestServer) {
    let n = Arc::new(AtomicUsize::new(0));
    srv.route_fn(COMPONENT_TOKEN, move |_| {
        let i = n.fetch_add(1, Ordering::SeqCst) + 1;
        Reply::json(json!({"component_access_token": format!("CAT{i}"), "expires_in": 7200}))
    });
}

/// A cache for component `wxc` (a ticket ready) calling `srv`, on `store` and `clock`.
pub(super) fn cache_on(
    srv: &TestServer,
    store: Arc<MemoryRefreshTokenStore>,
    cfg: TokenCacheConfig,
    clock: Arc<ManualClock>,
) -> TokenCache {
    TokenCache::with_clock(
        Client::new(ClientConfig::with_base_url(&srv.base_url)).unwrap(),
        ComponentCredentials {
            component_appid: "wxc".into(),
            component_appsecret: Secret::new("sec"),
        },
        Arc::new(MemoryTicketSource::new(Some(Secret::new("ticket@@@1")))),
        store,
        cfg,
        clock,
    )
}

struct Fixture {
    srv: TestServer,
    cache: Arc<TokenCache>,
    clock: Arc<ManualClock>,
    store: Arc<MemoryRefreshTokenStore>,
}

/// Each component token refresh answers CAT1, CAT2, … valid 7200 s; authorizer refreshes answer
/// AAT1, AAT2, … with a rotated refresh token R1, R2, ….
async fn fixture(margin_secs: u64) -> Fixture {
    let srv = TestServer::start().await;
    serve_component_tokens(&srv);
    let m = Arc::new(AtomicUsize::new(0));
    srv.route_fn(AUTHORIZER_TOKEN, move |_| {
        let i = m.fetch_add(1, Ordering::SeqCst) + 1;
        Reply::json(json!({"authorizer_access_token": format!("AAT{i}"), "expires_in": 7200, "authorizer_refresh_token": format!("R{i}")}))
    });
    let clock = Arc::new(ManualClock::default());
    let store = Arc::new(MemoryRefreshTokenStore::new());
    let cache = Arc::new(cache_on(
        &srv,
        store.clone(),
        TokenCacheConfig {
            refresh_margin: Duration::from_secs(margin_secs),
        },
        clock.clone(),
    ));
    Fixture {
        srv,
        cache,
        clock,
        store,
    }
}

async fn hundred_callers<F, Fut>(f: F) -> Vec<String>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<Secret>> + Send + 'static,
{
    let handles: Vec<_> = (0..100).map(|_| tokio::spawn(f())).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap().unwrap().expose().to_owned());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hundred_concurrent_callers_cause_one_component_refresh_and_again_at_expiry() {
    let fx = fixture(600).await;
    // Make the refresh slow enough that all callers are waiting while it is in flight.
    fx.srv.set_delay(Duration::from_millis(100));
    let c = fx.cache.clone();
    let got = hundred_callers(move || {
        let c = c.clone();
        async move { c.component_token().await }
    })
    .await;
    assert!(got.iter().all(|t| t == "CAT1"));
    assert_eq!(fx.srv.count(COMPONENT_TOKEN), 1);
    // The refresh carried the ticket.
    assert_eq!(
        fx.srv.requests()[0].body["component_verify_ticket"],
        "ticket@@@1"
    );

    // Just before the margin: still cached.
    fx.clock.advance(Duration::from_secs(7200 - 600 - 1));
    assert_eq!(fx.cache.component_token().await.unwrap().expose(), "CAT1");
    assert_eq!(fx.srv.count(COMPONENT_TOKEN), 1);

    // At refresh time, a hundred callers again cause exactly one more refresh.
    fx.clock.advance(Duration::from_secs(1));
    let c = fx.cache.clone();
    let got = hundred_callers(move || {
        let c = c.clone();
        async move { c.component_token().await }
    })
    .await;
    assert!(got.iter().all(|t| t == "CAT2"));
    assert_eq!(fx.srv.count(COMPONENT_TOKEN), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hundred_concurrent_callers_cause_one_authorizer_refresh_and_the_new_refresh_token_is_stored()
 {
    let fx = fixture(600).await;
    fx.store.put("wxa", &Secret::new("R0")).await.unwrap();
    fx.srv.set_delay(Duration::from_millis(50));
    let c = fx.cache.clone();
    let got = hundred_callers(move || {
        let c = c.clone();
        async move { c.authorizer_token("wxa").await }
    })
    .await;
    assert!(got.iter().all(|t| t == "AAT1"));
    assert_eq!(fx.srv.count(AUTHORIZER_TOKEN), 1);
    assert_eq!(fx.srv.count(COMPONENT_TOKEN), 1);
    let req = fx
        .srv
        .requests()
        .into_iter()
        .find(|r| r.path == AUTHORIZER_TOKEN)
        .unwrap();
    assert_eq!(
        req.body,
        json!({"component_appid": "wxc", "authorizer_appid": "wxa", "authorizer_refresh_token": "R0"})
    );
    assert_eq!(req.query["component_access_token"], "CAT1");
    assert_eq!(fx.store.get("wxa").await.unwrap().unwrap().expose(), "R1");
}

#[tokio::test]
async fn margin_is_configurable() {
    let fx = fixture(60).await;
    fx.cache.component_token().await.unwrap();
    fx.clock.advance(Duration::from_secs(7200 - 61));
    fx.cache.component_token().await.unwrap();
    assert_eq!(
        fx.srv.count(COMPONENT_TOKEN),
        1,
        "61 s before expiry with a 60 s margin: cached"
    );
    fx.clock.advance(Duration::from_secs(1));
    fx.cache.component_token().await.unwrap();
    assert_eq!(fx.srv.count(COMPONENT_TOKEN), 2);
}

#[tokio::test]
async fn no_ticket_is_a_clear_error_and_makes_no_request() {
    let srv = TestServer::start().await;
    let client = Client::new(ClientConfig::with_base_url(&srv.base_url)).unwrap();
    let cache = TokenCache::new(
        client,
        ComponentCredentials {
            component_appid: "wxc".into(),
            component_appsecret: Secret::new("s"),
        },
        Arc::new(MemoryTicketSource::default()),
        Arc::new(MemoryRefreshTokenStore::new()),
        TokenCacheConfig::default(),
    );
    assert!(matches!(
        cache.component_token().await,
        Err(Error::NoTicket)
    ));
    assert!(matches!(
        cache.authorizer_token("wxa").await,
        Err(Error::NoRefreshToken { .. })
    ));
    assert!(srv.requests().is_empty());
}

async fn token_error_is_retried_once(code: i64) {
    let fx = fixture(600).await;
    fx.store.put("wxa", &Secret::new("R0")).await.unwrap();
    // The tags API rejects AAT1 with `code` and accepts anything else.
    fx.srv.route_fn(TAGS, move |r| {
        if r.query["access_token"] == "AAT1" {
            Reply::json(json!({"errcode": code, "errmsg": "token problem rid: 1-2-3"}))
        } else {
            Reply::json(json!({"tags": [{"id": 1, "name": "x", "count": 0}]}))
        }
    });
    let c = fx.cache.client().clone();
    let tags = fx
        .cache
        .call_with_authorizer_token("wxa", |at| {
            let c = c.clone();
            async move { c.tags_get(&at).await }
        })
        .await
        .unwrap();
    assert_eq!(tags.len(), 1);
    assert_eq!(fx.srv.count(TAGS), 2);
    assert_eq!(fx.srv.count(AUTHORIZER_TOKEN), 2);
    // The retry used the rotated refresh token.
    let second = fx
        .srv
        .requests()
        .into_iter()
        .filter(|r| r.path == AUTHORIZER_TOKEN)
        .nth(1)
        .unwrap();
    assert_eq!(second.body["authorizer_refresh_token"], "R1");
}

#[tokio::test]
async fn errcode_40001_invalidates_and_retries_once() {
    token_error_is_retried_once(40001).await;
}

#[tokio::test]
async fn errcode_42001_invalidates_and_retries_once() {
    token_error_is_retried_once(42001).await;
}

#[tokio::test]
async fn errcode_40014_invalidates_and_retries_once() {
    token_error_is_retried_once(40014).await;
}

#[tokio::test]
async fn a_second_token_error_is_returned_not_retried_again() {
    let fx = fixture(600).await;
    fx.srv.route(
        TAGS,
        Reply::json(json!({"errcode": 42001, "errmsg": "access_token expired"})),
    );
    let c = fx.cache.client().clone();
    let err = fx
        .cache
        .call_with_component_token(|t| {
            let c = c.clone();
            async move { c.tags_get(&t).await }
        })
        .await
        .unwrap_err();
    assert_eq!(err.wechat().unwrap().errcode, 42001);
    assert_eq!(fx.srv.count(TAGS), 2);
    assert_eq!(fx.srv.count(COMPONENT_TOKEN), 2);
}

#[tokio::test]
async fn other_errors_are_not_retried() {
    let fx = fixture(600).await;
    fx.srv.route(
        TAGS,
        Reply::json(json!({"errcode": 45009, "errmsg": "reach max api daily quota limit"})),
    );
    let c = fx.cache.client().clone();
    let err = fx
        .cache
        .call_with_component_token(|t| {
            let c = c.clone();
            async move { c.tags_get(&t).await }
        })
        .await
        .unwrap_err();
    assert_eq!(err.wechat().unwrap().errcode, 45009);
    assert_eq!(fx.srv.count(TAGS), 1);
    assert_eq!(fx.srv.count(COMPONENT_TOKEN), 1);
}

#[tokio::test]
async fn invalidating_an_outdated_token_keeps_the_fresh_one() {
    let fx = fixture(600).await;
    let first = fx.cache.component_token().await.unwrap();
    fx.cache.invalidate_component_token(&first).await;
    let second = fx.cache.component_token().await.unwrap();
    assert_eq!(second.expose(), "CAT2");
    // A late caller reports the old token as bad: the new one must survive.
    fx.cache.invalidate_component_token(&first).await;
    assert_eq!(fx.cache.component_token().await.unwrap().expose(), "CAT2");
    assert_eq!(fx.srv.count(COMPONENT_TOKEN), 2);
}

#[tokio::test]
async fn store_authorization_seeds_the_token_and_forget_drops_everything() {
    let fx = fixture(600).await;
    let info: crate::api::AuthorizationInfo = serde_json::from_value(json!({
        "authorizer_appid": "wxa", "authorizer_access_token": "AAT_Q", "expires_in": 7200,
        "authorizer_refresh_token": "R_Q", "func_info": []}))
    .unwrap();
    fx.cache.store_authorization(&info).await.unwrap();
    assert_eq!(
        fx.cache.authorizer_token("wxa").await.unwrap().expose(),
        "AAT_Q"
    );
    assert_eq!(fx.store.get("wxa").await.unwrap().unwrap().expose(), "R_Q");
    assert!(fx.srv.requests().is_empty());
    fx.cache.forget_authorizer("wxa").await.unwrap();
    assert!(fx.store.get("wxa").await.unwrap().is_none());
    assert!(matches!(
        fx.cache.authorizer_token("wxa").await,
        Err(Error::NoRefreshToken { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn client_credential_tokens_are_single_flight_per_appid() {
    let srv = TestServer::start().await;
    let n = Arc::new(AtomicUsize::new(0));
    srv.route_fn("/cgi-bin/token", move |r| {
        let i = n.fetch_add(1, Ordering::SeqCst) + 1;
        Reply::json(
            json!({"access_token": format!("{}-AT{i}", r.query["appid"]), "expires_in": 7200}),
        )
    });
    srv.set_delay(Duration::from_millis(50));
    let client = Client::new(ClientConfig::with_base_url(&srv.base_url)).unwrap();
    let cache = Arc::new(TokenCache::new(
        client,
        ComponentCredentials {
            component_appid: "wxc".into(),
            component_appsecret: Secret::new("s"),
        },
        Arc::new(MemoryTicketSource::default()),
        Arc::new(MemoryRefreshTokenStore::new()),
        TokenCacheConfig::default(),
    ));
    let c = cache.clone();
    let got = hundred_callers(move || {
        let c = c.clone();
        async move { c.client_credential_token("wx1", &Secret::new("s1")).await }
    })
    .await;
    assert!(got.iter().all(|t| t.starts_with("wx1-AT")));
    assert_eq!(srv.count("/cgi-bin/token"), 1);
    let other = cache
        .client_credential_token("wx2", &Secret::new("s2"))
        .await
        .unwrap();
    assert!(other.expose().starts_with("wx2-AT"));
    assert_eq!(srv.count("/cgi-bin/token"), 2);
}

#[test]
fn debug_of_the_cache_shows_no_secret() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let fx = rt.block_on(fixture(600));
    let s = format!("{:?}", fx.cache);
    assert!(!s.contains("sec"));
    assert!(!s.contains("ticket@@@"));
    assert!(s.contains("wxc"));
}

#[tokio::test]
async fn a_delegated_cache_hands_out_placeholders_and_never_calls_a_token_endpoint() {
    let srv = TestServer::start().await;
    let hits = Arc::new(AtomicUsize::new(0));
    for path in [COMPONENT_TOKEN, AUTHORIZER_TOKEN] {
        let hits = hits.clone();
        srv.route_fn(path, move |_| {
            hits.fetch_add(1, Ordering::SeqCst);
            Reply::json(json!({"errcode": -1, "errmsg": "must not be called"}))
        });
    }
    let cache = TokenCache::delegated(
        Client::new(ClientConfig::with_base_url(&srv.base_url)).unwrap(),
        "wxc".into(),
    );
    assert!(cache.is_delegated());
    assert_eq!(cache.component_token().await.unwrap().expose(), "team");
    assert_eq!(
        cache.authorizer_token("wxA").await.unwrap().expose(),
        "team.wxA"
    );
    // A refused placeholder is asked for again (the server refreshes), never refreshed here.
    cache
        .invalidate_authorizer_token("wxA", &Secret::new("team.wxA"))
        .await;
    assert_eq!(
        cache.authorizer_token("wxA").await.unwrap().expose(),
        "team.wxA"
    );
    assert!(
        cache
            .client_credential_token("wxB", &Secret::new("own-secret"))
            .await
            .is_err()
    );
    assert_eq!(hits.load(Ordering::SeqCst), 0);
}
