//! The quota tools (`ctx.quota`) and mini-program login (`ctx.mini`) against the sandbox: an
//! API's quota today, resetting an account's quota until WeChat's monthly limit answers 48006
//! (explained), the platform's reset (by token, or by secret when the token API's own quota
//! is used up), and a js_code turned into openid and unionid — never the session_key.

#![allow(clippy::unwrap_used)]

use crate::messaging_support;

use messaging_support::{World, cfg};
use wxdesk_core::Lang;
use wxdesk_core::secrets::SecretKey;
use wxdesk_sim::SimConfig;

const SEND: &str = "/cgi-bin/message/custom/send";

#[tokio::test]
async fn quota_get_reads_a_path_and_clear_resets_it_ten_times_a_month() {
    let w = World::start_with(SimConfig {
        quotas: [("/cgi-bin/tags/get".to_string(), 5)].into(),
        ..cfg()
    })
    .await;
    let q = &w.ctx.quota;
    let r = q.get(&w.oa, None).await.unwrap();
    assert_eq!(r.cgi_path, "/cgi-bin/message/template/send");
    assert_eq!(r.quota.daily_limit, 100_000);
    let api = w.ctx.platform.api().await.unwrap();
    let aat = api.authorizer_token(&w.oa).await.unwrap();
    for _ in 0..2 {
        w.sim_get(&format!("/cgi-bin/tags/get?access_token={}", aat.expose()))
            .await;
    }
    let r = q.get(&w.oa, Some("/cgi-bin/tags/get")).await.unwrap();
    assert_eq!(
        (r.quota.daily_limit, r.quota.used, r.quota.remaining),
        (5, 2, 3)
    );
    let e = q.get(&w.oa, Some("/cgi-bin/nowhere")).await.unwrap_err();
    assert!(e.to_string().contains("76021"), "{e}");
    let e = q.get(&w.oa, Some("cgi-bin/tags/get")).await.unwrap_err();
    assert_eq!(e.code(), "invalid");

    let cleared = q.clear(&w.oa).await.unwrap();
    assert!(!cleared.component);
    assert_eq!(cleared.monthly_limit, 10);
    let r = q.get(&w.oa, Some("/cgi-bin/tags/get")).await.unwrap();
    assert_eq!(r.quota.used, 0);
    for _ in 1..10 {
        q.clear(&w.oa).await.unwrap();
    }
    let e = q.clear(&w.oa).await.unwrap_err();
    assert_eq!(e.wechat_errcode(), Some(48006));
    assert!(
        e.hint(Lang::Zh).unwrap().contains("每月最多清零 10 次"),
        "{e}"
    );
    assert!(e.hint(Lang::En).unwrap().contains("10 resets"), "{e}");
    // Another account's counters are its own.
    assert_eq!(q.get(&w.mini, Some(SEND)).await.unwrap().quota.used, 0);
    w.sandbox.shutdown().await;
}

#[tokio::test]
async fn the_platform_quota_is_reset_by_token_or_by_secret_when_tokens_run_out() {
    let w = World::start().await;
    let cleared = w.ctx.quota.clear_component().await.unwrap();
    assert!(cleared.component);
    assert_eq!(cleared.appid, wxdesk_sim::SANDBOX_COMPONENT_APPID);
    w.sandbox.shutdown().await;

    // No component token can be had today (its API's quota is 0): the reset goes by secret.
    let w = World::start_with(SimConfig {
        quotas: [("/cgi-bin/component/api_component_token".to_string(), 1)].into(),
        ..cfg()
    })
    .await;
    // The one token of the day is spent by the accounts' recovery; drop it from the cache.
    w.ctx.platform.reconnect().await;
    let api = w.ctx.platform.api().await.unwrap();
    let e = api.fresh_component_token().await.unwrap_err();
    assert_eq!(e.wechat_errcode(), Some(45009));
    // Nor from the cache the processes of this data dir share.
    w.ctx
        .platform
        .secrets()
        .delete(SecretKey::ComponentAccessToken(
            wxdesk_sim::SANDBOX_COMPONENT_APPID.into(),
        ))
        .await
        .unwrap();
    w.ctx.platform.reconnect().await;
    let cleared = w.ctx.quota.clear_component().await.unwrap();
    assert!(cleared.component);
    // …and it did reset: a token can be had again.
    w.ctx.platform.reconnect().await;
    w.ctx
        .platform
        .api()
        .await
        .unwrap()
        .fresh_component_token()
        .await
        .unwrap();
    w.sandbox.shutdown().await;
}

#[tokio::test]
async fn a_js_code_becomes_openid_and_unionid_once_and_never_shows_the_session_key() {
    let w = World::start().await;
    let s = w.ctx.mini.session(&w.mini, "code-0001").await.unwrap();
    assert!(!s.openid.is_empty());
    // The mini program shares its principal with the service account: a unionid, which is
    // the same person there.
    let unionid = s.unionid.clone().unwrap();
    let json = serde_json::to_string(&s).unwrap();
    assert!(!json.contains("session_key"), "{json}");
    let mut found = false;
    for i in 0..30 {
        if w.openid(&w.oa, i).await.1.as_deref() == Some(unionid.as_str()) {
            found = true;
        }
    }
    assert!(found, "the unionid is a follower's of the linked account");
    let e = w.ctx.mini.session(&w.mini, "code-0001").await.unwrap_err();
    assert_eq!(e.wechat_errcode(), Some(40163));
    assert!(e.hint(Lang::Zh).unwrap().contains("wx.login"));
    let e = w.ctx.mini.session(&w.oa, "code-0002").await.unwrap_err();
    assert!(e.to_string().contains("公众号"), "{e}");
    let e = w.ctx.mini.session(&w.mini, "has space").await.unwrap_err();
    assert_eq!(e.code(), "invalid");
    w.sandbox.shutdown().await;
}
