//! A request the relay (or anything before WeChat) refused never reached WeChat: it is never
//! "maybe sent", so no row becomes `uncertain`, and since every row would be refused the same
//! way the job pauses with what to do. Against the real relay on loopback (wrong key) and a
//! stand-in that answers like the relay's allowlist, a proxy and a redirect.
#![allow(clippy::unwrap_used)]

use crate::send_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use send_support::relay::{RELAY_KEY, TestRelay};
use send_support::sim::*;
use send_support::{fast_config, reason, recipients, template_spec};
use wxdesk_core::send::http::{Endpoint, HttpSendApi, TokenSource};
use wxdesk_core::send::{BoxFuture, Job, JobSpec, JobStatus, Payload, SendEngine, SendFailure};
use wxdesk_core::store::Store;
use wxdesk_wechat::Secret;
use wxdesk_wechat::api::{Client, ClientConfig};

fn engine(base_url: &str, bearer: Option<&str>, tokens: Arc<dyn TokenSource>) -> SendEngine {
    let api = HttpSendApi::new(
        Endpoint {
            base_url: base_url.to_string(),
            bearer: bearer.map(Secret::new),
        },
        tokens,
    )
    .unwrap();
    SendEngine::new(
        Store::open_in_memory().unwrap(),
        Arc::new(api),
        fast_config(),
    )
}

/// 客服消息: the API without an idempotency key, where "maybe sent" means `uncertain`.
fn custom_text(appid: &str) -> JobSpec {
    JobSpec {
        payload: Payload::CustomText {
            content: "您的订单 {{订单号}} 已发货".into(),
        },
        concurrency: Some(2),
        ..template_spec(appid)
    }
}

async fn run(engine: &SendEngine, spec: JobSpec, n: usize) -> Job {
    let id = engine.create_and_start(spec, recipients(n)).await.unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(30), engine.wait_idle(id))
        .await
        .expect("the job ends or pauses")
        .unwrap()
}

/// Attempts recorded over all rows of the job.
async fn attempts(engine: &SendEngine, job: i64) -> i64 {
    engine
        .store()
        .call(move |c| {
            Ok(c.query_row(
                "SELECT sum(attempts) FROM send_recipients WHERE job_id = ?",
                [job],
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap()
}

fn assert_paused_unsent(job: &Job, n: u64) {
    assert_eq!(job.status, JobStatus::Paused, "{}", reason(job));
    assert_eq!(
        (job.counts.uncertain, job.counts.sent, job.counts.failed()),
        (0, 0, 0),
        "a refused request is neither maybe sent nor failed"
    );
    assert_eq!(job.counts.pending(), n, "every row is still pending");
}

fn assert_says_check_the_relay_key(reason: &str, status: u16) {
    assert!(
        reason.contains(&format!("HTTP {status}"))
            && reason.contains("请求未到达微信")
            && reason.contains("请在「设置」中检查中继密钥")
            && reason.contains("Check the relay key in Settings"),
        "{reason}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_relay_key_pauses_the_job_with_what_to_do_and_marks_nothing_uncertain() {
    let env = SimEnv::start(quiet_config()).await;
    let relay = TestRelay::start(&env.sim.base_url).await;
    let tokens = Arc::new(SimTokens::new(&env));

    let wrong = engine(&relay.egress(), Some("an-old-relay-key"), tokens.clone());
    let job = run(&wrong, custom_text(&env.appid), 20).await;
    assert_paused_unsent(&job, 20);
    assert_says_check_the_relay_key(&reason(&job), 401);
    assert_eq!(
        attempts(&wrong, job.id).await,
        0,
        "the refused attempt is given back: nothing was sent"
    );

    // With the right key the same path reaches the sim and every recipient gets the message.
    let right = engine(&relay.egress(), Some(RELAY_KEY), tokens);
    let mut spec = env.spec();
    spec.concurrency = Some(2);
    let id = right
        .create_and_start(spec, env.recipients(20).await)
        .await
        .unwrap();
    let job = right.wait_idle(id).await.unwrap();
    assert_eq!((job.status, job.counts.sent), (JobStatus::Completed, 20));
    assert_eq!(json_sends(&env.sends()).0, 20);
}

/// Tokens fetched through the relay's egress with a key, the way the platform's client does;
/// errors mapped as the platform's token source maps them.
struct RelayTokens {
    client: Client,
    appid: String,
    appsecret: Secret,
}

impl TokenSource for RelayTokens {
    fn token<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<Secret, SendFailure>> {
        Box::pin(async move {
            self.client
                .client_credential_token(&self.appid, &self.appsecret)
                .await
                .map(|t| t.access_token)
                .map_err(|e| SendFailure::from_wechat(&e))
        })
    }
    fn refresh<'a>(&'a self, appid: &'a str) -> BoxFuture<'a, Result<(), SendFailure>> {
        Box::pin(async move { self.token(appid).await.map(|_| ()) })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_relay_key_while_getting_the_token_pauses_the_same_way() {
    let env = SimEnv::start(quiet_config()).await;
    let relay = TestRelay::start(&env.sim.base_url).await;
    let tokens = Arc::new(RelayTokens {
        client: Client::new(ClientConfig::via_relay(
            &relay.relay.base_url,
            &Secret::new("an-old-relay-key"),
        ))
        .unwrap(),
        appid: env.appid.clone(),
        appsecret: Secret::new(env.appsecret.clone()),
    });
    let e = engine(&relay.egress(), Some("an-old-relay-key"), tokens);
    let job = run(&e, custom_text(&env.appid), 10).await;
    assert_paused_unsent(&job, 10);
    assert_says_check_the_relay_key(&reason(&job), 401);
}

/// A token source whose every fetch fails after its request may have left (e.g. the relay
/// answered 502 while WeChat was unreachable): the send itself never started.
struct FlakyTokens;

impl TokenSource for FlakyTokens {
    fn token<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<Secret, SendFailure>> {
        Box::pin(async {
            Err(SendFailure::Transport {
                maybe_sent: true,
                detail: "HTTP 502".into(),
            })
        })
    }
    fn refresh<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<(), SendFailure>> {
        Box::pin(async { Ok(()) })
    }
}

#[tokio::test]
async fn a_failure_while_getting_the_token_is_never_maybe_sent() {
    // The send URL is never used: the token comes first.
    let e = engine("http://127.0.0.1:9", None, Arc::new(FlakyTokens));
    let job = run(&e, custom_text("wxA"), 30).await;
    assert_eq!(job.counts.uncertain, 0, "{}", reason(&job));
    assert_eq!(
        job.status,
        JobStatus::Paused,
        "a run of network failures pauses"
    );
}

/// Answers every request with `status`, `body` and an optional Location; counts requests to
/// the send path and to anywhere else.
async fn stand_in(
    status: u16,
    body: &'static str,
    location: Option<&'static str>,
) -> (String, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    use axum::http::{StatusCode, Uri, header};
    use axum::response::IntoResponse;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (sends, elsewhere) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (s, o) = (Arc::clone(&sends), Arc::clone(&elsewhere));
    let app = axum::Router::new().fallback(move |uri: Uri| {
        let (s, o) = (Arc::clone(&s), Arc::clone(&o));
        async move {
            if uri.path().ends_with("/cgi-bin/message/custom/send") {
                s.fetch_add(1, Ordering::SeqCst);
            } else {
                o.fetch_add(1, Ordering::SeqCst);
            }
            let mut resp =
                (StatusCode::from_u16(status).unwrap(), body.to_string()).into_response();
            if let Some(l) = location {
                resp.headers_mut()
                    .insert(header::LOCATION, l.parse().unwrap());
            }
            resp
        }
    });
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("{base}/api/v1/wechat"), sends, elsewhere)
}

struct FixedToken;

impl TokenSource for FixedToken {
    fn token<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<Secret, SendFailure>> {
        Box::pin(async { Ok(Secret::new("THE-ACCESS-TOKEN")) })
    }
    fn refresh<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<(), SendFailure>> {
        Box::pin(async { Ok(()) })
    }
}

#[tokio::test]
async fn refusals_of_the_path_a_proxys_4xx_and_a_redirect_pause_without_anything_uncertain() {
    for (status, body, location, says) in [
        (
            403,
            r#"{"error":"path_not_allowed","reason":"中继不转发这个微信接口（不在允许列表中），请升级 wxdesk-relay / not on the relay's allowlist"}"#,
            None,
            "中继不转发这个微信接口",
        ),
        (
            400,
            r#"{"error":"bad_path","reason":"转发路径无效 / invalid path"}"#,
            None,
            "转发路径无效",
        ),
        (
            401,
            "<html>401 Authorization Required</html>",
            None,
            "检查中继密钥",
        ),
        (
            413,
            "<html>413 Request Entity Too Large</html>",
            None,
            "HTTP 413",
        ),
        (
            302,
            "",
            Some("https://login.example.test/steal?x=1"),
            "login.example.test",
        ),
    ] {
        let (base, sends, elsewhere) = stand_in(status, body, location).await;
        let e = engine(&base, Some(RELAY_KEY), Arc::new(FixedToken));
        let job = run(&e, custom_text("wxA"), 12).await;
        assert_paused_unsent(&job, 12);
        assert!(reason(&job).contains(says), "{status}: {}", reason(&job));
        assert!(
            !reason(&job).contains("THE-ACCESS-TOKEN") && !reason(&job).contains("steal"),
            "{}",
            reason(&job)
        );
        let n = sends.load(Ordering::SeqCst);
        assert!(
            (1..=2).contains(&n),
            "{status}: the job paused at the first refusals (concurrency 2), got {n} requests"
        );
        assert_eq!(
            elsewhere.load(Ordering::SeqCst),
            0,
            "{status}: nothing followed"
        );
    }
}

#[tokio::test]
async fn too_many_requests_or_a_saturated_relay_is_retried_not_paused_nor_uncertain() {
    for (status, body) in [
        (429, r#"{"error":"busy"}"#),
        (
            503,
            r#"{"error":"overloaded","reason":"中继繁忙，请稍后重试 / relay busy, retry later"}"#,
        ),
    ] {
        let (base, sends, _) = stand_in(status, body, None).await;
        let e = engine(&base, Some(RELAY_KEY), Arc::new(FixedToken));
        let mut spec = custom_text("wxA");
        spec.max_attempts = Some(2);
        spec.concurrency = Some(1);
        let job = run(&e, spec, 3).await;
        assert_eq!(
            (
                job.status,
                job.counts.failed_retryable,
                job.counts.uncertain
            ),
            (JobStatus::Completed, 3, 0),
            "{status}: {}",
            reason(&job)
        );
        assert_eq!(
            sends.load(Ordering::SeqCst),
            6,
            "{status}: each row tried twice"
        );
    }
}

#[tokio::test]
async fn a_503_that_is_not_the_relays_own_may_have_been_sent() {
    // WeChat's 503 passed through (not the relay's "overloaded"): a 客服消息 may have arrived.
    let (base, _, _) = stand_in(503, "<html>503 Service Unavailable</html>", None).await;
    let e = engine(&base, Some(RELAY_KEY), Arc::new(FixedToken));
    let mut spec = custom_text("wxA");
    spec.concurrency = Some(1);
    let job = run(&e, spec, 2).await;
    assert_eq!(job.counts.uncertain, 2, "{}", reason(&job));
}
