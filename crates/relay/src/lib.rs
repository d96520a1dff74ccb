//! wxdesk-relay owns the public callback URLs WeChat pushes to (tickets, authorization events,
//! account messages, the authorization launch page) and serves them to the desktop app as a
//! durable, authenticated event log. A library with a thin binary, so the sandbox and tests can
//! run it in-process on a loopback port (`start`), or mount its routes (`app`).

pub mod auth_state;
pub mod config;
pub mod error;
mod events;
mod http;
pub mod release;
mod routes;
pub mod store;
pub mod team;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::error_handling::HandleErrorLayer;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{BoxError, Json, Router};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use sha1::{Digest, Sha1};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tower::ServiceBuilder;
use tower_http::timeout::TimeoutLayer;
use wxdesk_wechat::crypto::MsgCrypt;

pub use config::{RelayConfig, Secret};
pub use error::{Error, Result};
use store::Store;

/// Largest push body WeChat sends is a few KiB; anything near this is hostile.
pub const PUSH_BODY_LIMIT: usize = 64 * 1024;
/// Largest egress body of JSON API calls; anything larger is refused with 413.
pub const EGRESS_BODY_LIMIT: usize = 2 * 1024 * 1024;
/// Largest body of the egress media upload (`/cgi-bin/media/upload`): WeChat's 10 MB image
/// limit plus the multipart framing, so an image WeChat would take is never refused here.
pub const MEDIA_UPLOAD_BODY_LIMIT: usize = 10 * 1024 * 1024 + 64 * 1024;
/// WeChat waits 5 s for an answer; a push that is not done by then is retried anyway.
const PUSH_TIMEOUT: Duration = Duration::from_secs(5);
/// Long-polls hold up to 30 s; leave room above that.
const API_TIMEOUT: Duration = Duration::from_secs(45);
/// Egress calls to WeChat.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(30);
/// How often old events are pruned.
const RETENTION_INTERVAL: Duration = Duration::from_secs(3600);

/// Shared state of the routes: a small cloneable handle.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<StateInner>,
}

struct StateInner {
    cfg: RelayConfig,
    /// The current key first, then the previous one during a rotation.
    crypts: Vec<MsgCrypt>,
    store: Store,
    http: reqwest::Client,
    api_key_digest: Vec<u8>,
    shutdown: watch::Receiver<bool>,
    /// Team mode's database and token authority; `None` on a single-desk relay.
    team: Option<team::TeamState>,
}

impl AppState {
    /// Build the state. `shutdown` flips to `true` (or its sender is dropped) to end pending
    /// long-polls at once.
    pub fn new(cfg: RelayConfig, store: Store, shutdown: watch::Receiver<bool>) -> Result<Self> {
        let crypt = |key: &Secret| {
            MsgCrypt::new(
                cfg.component_token.expose(),
                key.expose(),
                &cfg.component_appid,
            )
            .map_err(|e| Error::Crypto(e.to_string()))
        };
        let mut crypts = vec![crypt(&cfg.component_aes_key)?];
        if let Some(prev) = &cfg.component_aes_key_previous {
            crypts.push(crypt(prev)?);
        }
        let http = reqwest::Client::builder()
            .timeout(UPSTREAM_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .local_address(cfg.egress_source_ip)
            .build()
            .map_err(|e| Error::InvalidKey {
                key: "upstream",
                reason: e.without_url().to_string(),
            })?;
        let api_key_digest = Sha1::digest(cfg.api_key.expose().as_bytes()).to_vec();
        Ok(Self {
            inner: Arc::new(StateInner {
                cfg,
                crypts,
                store,
                http,
                api_key_digest,
                shutdown,
                team: None,
            }),
        })
    }

    /// As [`AppState::new`], as a team server: opens the database (migrating it) and builds the
    /// token authority over it.
    /// `db`: the process's pool when the caller has opened it already.
    pub async fn new_team(
        cfg: RelayConfig,
        store: Store,
        shutdown: watch::Receiver<bool>,
        db: Option<team::db::Db>,
    ) -> Result<Self> {
        let state = Self::new(cfg, store, shutdown)?;
        let Some(team_cfg) = state.inner.cfg.team.clone() else {
            return Ok(state);
        };
        let db = match db {
            Some(db) => db,
            None => team::db::Db::open(&team_cfg.database_url).await?,
        };
        let tokens = team::tokens::authority(
            &state.inner.cfg,
            &team_cfg,
            db.clone(),
            state.inner.store.clone(),
            state.inner.crypts.clone(),
        )?;
        let mut inner = Arc::into_inner(state.inner).ok_or_else(|| {
            Error::Team("内部错误：状态被共享 / internal: state shared early".into())
        })?;
        let jobs = team::jobs::Hub::start(team_cfg.database_url.clone(), inner.shutdown.clone());
        inner.team = Some(team::TeamState { db, tokens, jobs });
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    pub(crate) fn team(&self) -> Option<&team::TeamState> {
        self.inner.team.as_ref()
    }

    pub(crate) fn config(&self) -> &RelayConfig {
        &self.inner.cfg
    }

    pub(crate) fn crypts(&self) -> &[MsgCrypt] {
        &self.inner.crypts
    }

    pub(crate) fn store(&self) -> &Store {
        &self.inner.store
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    pub(crate) fn api_key_digest(&self) -> &[u8] {
        &self.inner.api_key_digest
    }

    pub(crate) fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.inner.shutdown.clone()
    }

    /// Open a sealed ticket with whichever configured key sealed it.
    pub(crate) fn unseal(&self, sealed: &str) -> Option<String> {
        self.inner
            .crypts
            .iter()
            .find_map(|c| c.decrypt(sealed).ok())
    }
}

/// Every route of the relay, with body limits and timeouts per caller.
pub fn app(state: AppState) -> Router {
    let timeout = |d| TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, d);
    let wechat = Router::new()
        .route("/wechat/component", post(routes::wechat::component_push))
        .route(
            "/wechat/{appid}/callback",
            get(routes::wechat::message_verify).post(routes::wechat::message_push),
        )
        .route("/auth/start", get(routes::auth::auth_start))
        .route("/auth/callback", get(routes::auth::auth_callback))
        .route("/healthz", get(routes::api::healthz))
        .layer(DefaultBodyLimit::max(PUSH_BODY_LIMIT))
        .layer(timeout(PUSH_TIMEOUT));
    let api = Router::new()
        .route("/api/v1/ticket", get(routes::api::ticket))
        .route("/api/v1/keys", get(routes::api::keys))
        .route("/api/v1/events", get(routes::api::events))
        .layer(DefaultBodyLimit::max(PUSH_BODY_LIMIT))
        .merge(
            Router::new()
                .route("/api/v1/wechat/{*path}", any(routes::egress::egress))
                .layer(DefaultBodyLimit::max(EGRESS_BODY_LIMIT)),
        )
        .merge(
            // The same handler and checks; only the body limit differs.
            Router::new()
                .route(
                    "/api/v1/wechat/cgi-bin/media/upload",
                    any(routes::egress::egress),
                )
                .layer(DefaultBodyLimit::max(MEDIA_UPLOAD_BODY_LIMIT)),
        )
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            routes::api::require_bearer,
        ))
        .layer(axum::middleware::from_fn(|req, next| {
            http::finish_reading_body(req, next, MEDIA_UPLOAD_BODY_LIMIT)
        }))
        .layer(timeout(API_TIMEOUT));
    // Team mode: the desks' API behind member keys (answers 404 on a single-desk relay).
    let team = Router::new()
        .route("/api/v1/team/me", get(routes::team::me))
        .route("/api/v1/team/accounts", get(routes::team::accounts))
        .route("/api/v1/team/audit", get(routes::team::audit))
        .route("/api/v1/team/history", get(routes::team_history::list))
        .route("/api/v1/team/history/days", get(routes::team_history::days))
        .route("/api/v1/team/auth/state", post(routes::team::auth_state))
        .route("/api/v1/team/wechat/{*path}", any(routes::team::wechat))
        .route(
            "/api/v1/team/lists",
            get(routes::team_lists::list).post(routes::team_lists::create),
        )
        .route(
            "/api/v1/team/lists/{id}",
            get(routes::team_lists::get).delete(routes::team_lists::delete),
        )
        .route(
            "/api/v1/team/lists/{id}/members",
            get(routes::team_lists::members).post(routes::team_lists::add_members),
        )
        .route(
            "/api/v1/team/lists/{id}/ready",
            post(routes::team_lists::finish),
        )
        .route("/api/v1/team/windows", get(routes::team_lists::windows))
        .route(
            "/api/v1/team/lists/from-followers",
            post(routes::team_followers::list_from_followers),
        )
        .route("/api/v1/team/followers", get(routes::team_followers::page))
        .route(
            "/api/v1/team/followers/count",
            get(routes::team_followers::count),
        )
        .route(
            "/api/v1/team/followers/totals",
            get(routes::team_followers::totals),
        )
        .route(
            "/api/v1/team/followers/one",
            get(routes::team_followers::one),
        )
        .route(
            "/api/v1/team/followers/by-unionid",
            post(routes::team_followers::by_unionid),
        )
        .route(
            "/api/v1/team/followers/published",
            get(routes::team_followers::published),
        )
        .route(
            "/api/v1/team/followers/publications",
            post(routes::team_followers::begin),
        )
        .route(
            "/api/v1/team/followers/publications/{id}/followers",
            post(routes::team_followers::add),
        )
        .route(
            "/api/v1/team/followers/publications/{id}/done",
            post(routes::team_followers::done),
        )
        .route("/api/v1/team/tags", get(routes::team_followers::tags))
        .route(
            "/api/v1/team/templates",
            get(routes::team_templates::list).put(routes::team_templates::publish),
        )
        .route(
            "/api/v1/team/templates/notes",
            post(routes::team_templates::notes),
        )
        .route(
            "/api/v1/team/templates/const-values",
            post(routes::team_templates::const_values),
        )
        .layer(DefaultBodyLimit::max(MEDIA_UPLOAD_BODY_LIMIT))
        .merge(
            Router::new()
                .route(
                    "/api/v1/team/jobs",
                    get(routes::team_jobs::list).post(routes::team_jobs::create),
                )
                .route("/api/v1/team/jobs/{id}", get(routes::team_jobs::get))
                .route(
                    "/api/v1/team/jobs/{id}/watch",
                    get(routes::team_jobs::watch),
                )
                .route("/api/v1/team/jobs/{id}/rows", get(routes::team_jobs::rows))
                .route(
                    "/api/v1/team/jobs/{id}/{action}",
                    post(routes::team_jobs::act),
                )
                // The create route reads its body itself, up to team::jobs::MAX_BODY, to refuse
                // a larger one with a JSON answer.
                .layer(DefaultBodyLimit::disable()),
        )
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            routes::team::require_member,
        ))
        .layer(axum::middleware::from_fn(|req, next| {
            http::finish_reading_body(req, next, team::jobs::MAX_BODY)
        }))
        .layer(timeout(API_TIMEOUT));
    Router::new()
        .merge(wechat)
        .merge(api)
        .merge(team)
        .fallback(http::not_found)
        .layer(axum::middleware::from_fn(http::access_log))
        .with_state(state)
}

/// A running relay.
pub struct RelayHandle {
    /// `http://IP:PORT` it listens on.
    pub base_url: String,
    /// The bound address (useful with port 0).
    pub local_addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    server: JoinHandle<std::io::Result<()>>,
    retention: JoinHandle<()>,
    /// Team mode's job worker (team/jobs/worker.rs).
    worker: Option<JoinHandle<()>>,
    store: Store,
}

impl RelayHandle {
    /// Stop accepting, let in-flight requests finish (long-polls return at once), flush storage.
    pub async fn shutdown(self) {
        self.shutdown.send_replace(true);
        match self.server.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "server ended with an error"),
            Err(e) => tracing::error!(error = %e, "server task failed"),
        }
        self.retention.abort();
        if let Some(w) = self.worker
            && let Err(e) = w.await
        {
            tracing::error!(error = %e, "job worker failed");
        }
        self.store.close().await;
        tracing::info!("wxdesk-relay stopped");
    }
}

/// Validate the config, open the database, bind `listen` and serve in the background.
pub async fn start(cfg: RelayConfig) -> Result<RelayHandle> {
    let cfg = cfg.validated()?;
    // Team mode: one pool per process for the event log, the token authority and the team API
    // (PostgreSQL's max_connections is shared by every process).
    let team_db = match &cfg.team {
        Some(t) => {
            team::tls::configure(t.database_ca_file.as_deref())?;
            Some(team::db::Db::open(&t.database_url).await?)
        }
        None => None,
    };
    let store = match (&cfg.team, &team_db) {
        // The event log lives in the team database, shared by every relay process.
        (Some(t), Some(db)) => Store::open_pg(db.clone(), &t.database_url).await?,
        _ => Store::open(&cfg.database_path())?,
    };
    let listener = http::bind_listener(&cfg.listen).await?;
    let local_addr = listener.local_addr()?;
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let retention_days = cfg.retention_days;
    let limits = Limits {
        header_read_timeout: Duration::from_secs(cfg.header_read_timeout_secs),
        max_concurrent_requests: usize::try_from(cfg.max_concurrent_requests).unwrap_or(usize::MAX),
    };
    let state = AppState::new_team(cfg, store.clone(), shutdown_rx.clone(), team_db).await?;

    let retention = tokio::spawn(retention_loop(store.clone(), retention_days));
    // Every team-mode process sends the team's jobs.
    let worker = state.team().map(|t| {
        tokio::spawn(team::jobs::worker::run(team::jobs::worker::Worker {
            team: t.clone(),
            http: state.http().clone(),
            upstream: state.config().upstream.clone(),
            stop: shutdown_rx.clone(),
        }))
    });
    let server = tokio::spawn(serve(listener, app(state), limits, shutdown_rx));
    let base_url = format!("http://{local_addr}");
    tracing::info!(%base_url, "wxdesk-relay listening");
    Ok(RelayHandle {
        base_url,
        local_addr,
        shutdown: shutdown_tx,
        server,
        retention,
        worker,
        store,
    })
}

/// What the relay enforces itself, whether or not a reverse proxy does too.
#[derive(Debug, Clone, Copy)]
struct Limits {
    /// A connection that has not sent a request's complete headers by then is closed (slow
    /// clients holding connections; also ends idle keep-alive connections).
    header_read_timeout: Duration,
    /// Requests in flight at once; one more is answered 503 at once rather than queued.
    max_concurrent_requests: usize,
}

/// The 503 of a saturated relay. WeChat retries a push that is not answered `success`; the desk
/// retries its polls and calls.
async fn overloaded(_: BoxError) -> Response {
    tracing::warn!("request refused: too many requests in flight");
    let mut resp = (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(serde_json::json!({
            "error": "overloaded",
            "reason": "中继繁忙，请稍后重试 / relay busy, retry later",
        })),
    )
        .into_response();
    resp.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    resp
}

/// Accept HTTP/1.1 connections until `stop` turns true (or its sender is dropped), then let the
/// requests in flight finish. Served here rather than by `axum::serve`, which has no
/// header-read timeout.
async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<()> {
    // One layer instance, so every connection's clone shares the one semaphore.
    let service = ServiceBuilder::new()
        .layer(HandleErrorLayer::new(overloaded))
        .load_shed()
        .concurrency_limit(limits.max_concurrent_requests)
        .service(router);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let graceful = GracefulShutdown::new();
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors and the like: keep serving the connections we
                    // have and try again shortly instead of spinning or giving up.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            // Err: the sender is gone, which means stop too. The guard is dropped at once.
            () = async { drop(stop.wait_for(|s| *s).await) } => break,
        };
        // Small answers go out at once (Nagle would hold them for the next segment).
        let _ = stream.set_nodelay(true);
        let conn = http.serve_connection(
            TokioIo::new(stream),
            TowerToHyperService::new(service.clone()),
        );
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                // Header timeouts, resets and malformed requests: the client's problem.
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

async fn retention_loop(store: Store, days: u64) {
    if days == 0 {
        return;
    }
    let mut tick = tokio::time::interval(RETENTION_INTERVAL);
    loop {
        tick.tick().await;
        let before = http::now_unix() - (days as i64).saturating_mul(86_400);
        match store.prune(before).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, days, "old events pruned"),
            Err(e) => tracing::warn!(error = %e, "pruning old events failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    fn state(dir: &std::path::Path) -> (AppState, watch::Sender<bool>) {
        let cfg = RelayConfig {
            listen: "127.0.0.1:0".into(),
            data_dir: dir.to_path_buf(),
            component_appid: "wx5a9d0c0e7f3b1a2c".into(),
            component_token: Secret::new("wxdesksandbox"),
            component_aes_key: Secret::new("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"),
            component_aes_key_previous: None,
            api_key: Secret::new("unit-test-key-0123456789"),
            public_base_url: "https://relay.example.com".into(),
            upstream: config::DEFAULT_UPSTREAM.into(),
            egress_source_ip: None,
            login_base: config::DEFAULT_LOGIN_BASE.into(),
            replay_window_secs: 300,
            retention_days: 30,
            header_read_timeout_secs: 15,
            max_concurrent_requests: 1024,
            team: None,
        }
        .validated()
        .expect("valid config");
        let store = Store::open(&cfg.database_path()).expect("store");
        let (tx, rx) = watch::channel(false);
        (AppState::new(cfg, store, rx).expect("state"), tx)
    }

    async fn call(app: Router, req: Request<Body>) -> (StatusCode, String) {
        let resp = app.oneshot(req).await.expect("infallible");
        let status = resp.status();
        let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .expect("body");
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn the_router_refuses_the_api_without_the_key_and_answers_unknown_routes_with_json_404() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (st, _keep) = state(dir.path());
        let req = |uri: &str| {
            Request::builder()
                .uri(uri)
                .body(Body::empty())
                .expect("request")
        };
        assert_eq!(
            call(app(st.clone()), req("/api/v1/ticket")).await,
            (
                StatusCode::UNAUTHORIZED,
                r#"{"error":"unauthorized"}"#.to_owned()
            )
        );
        let (status, body) = call(app(st.clone()), req("/nope")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(body.contains(r#""error":"not_found""#), "{body}");
        let authed = Request::builder()
            .uri("/api/v1/events?after=0")
            .header("authorization", "Bearer unit-test-key-0123456789")
            .body(Body::empty())
            .expect("request");
        assert_eq!(
            call(app(st), authed).await,
            (
                StatusCode::OK,
                r#"{"events":[],"first_seq":1,"last_seq":0}"#.to_owned()
            )
        );
    }

    #[tokio::test]
    async fn events_report_the_first_seq_still_held_so_a_cursor_behind_a_prune_sees_the_gap() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (st, _keep) = state(dir.path());
        let now = http::now_unix();
        for (i, at) in [10, 10, 10, now, now].into_iter().enumerate() {
            let ev = store::NewEvent {
                kind: "text",
                appid: Some("wxa".into()),
                received_at: at,
                data: serde_json::json!({ "i": i }),
                dedup_key: format!("k{i}"),
            };
            st.store().append(ev).await.expect("append");
        }
        let events = |after: i64| {
            let req = Request::builder()
                .uri(format!("/api/v1/events?after={after}&wait=0"))
                .header("authorization", "Bearer unit-test-key-0123456789")
                .body(Body::empty())
                .expect("request");
            let app = app(st.clone());
            async move {
                let (status, body) = call(app, req).await;
                assert_eq!(status, StatusCode::OK, "{body}");
                let v: serde_json::Value = serde_json::from_str(&body).expect("json");
                let seqs: Vec<i64> = v["events"]
                    .as_array()
                    .expect("array")
                    .iter()
                    .filter_map(|e| e["seq"].as_i64())
                    .collect();
                (seqs, v["last_seq"].clone(), v["first_seq"].clone())
            }
        };
        assert_eq!(events(0).await, (vec![1, 2, 3, 4, 5], 5.into(), 1.into()));

        // Retention deletes the three old events: a cursor at 1 has missed 2 and 3 for good.
        assert_eq!(st.store().prune(11).await.expect("prune"), 3);
        assert_eq!(events(1).await, (vec![4, 5], 5.into(), 4.into()));
        assert_eq!(events(5).await, (vec![], 5.into(), 4.into()));

        // Everything pruned: the log is empty, the next event will be 6.
        assert_eq!(st.store().prune(now + 1).await.expect("prune"), 2);
        assert_eq!(events(2).await, (vec![], 5.into(), 6.into()));
        assert_eq!(events(5).await, (vec![], 5.into(), 6.into()));
    }

    #[tokio::test]
    async fn healthz_is_503_once_the_storage_writer_has_stopped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (st, _keep) = state(dir.path());
        let healthz = || {
            Request::builder()
                .uri("/healthz")
                .body(Body::empty())
                .expect("request")
        };
        assert_eq!(call(app(st.clone()), healthz()).await.0, StatusCode::OK);
        // Reads still work after this (the ticket is readable); only the writer is gone.
        st.store().close().await;
        let (status, body) = call(app(st), healthz()).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body, r#"{"status":"storage_writer_stopped"}"#);
    }

    #[tokio::test]
    async fn a_pending_long_poll_returns_when_shutdown_is_signalled() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (st, stop) = state(dir.path());
        let poll = Request::builder()
            .uri("/api/v1/events?after=0&wait=30")
            .header("authorization", "Bearer unit-test-key-0123456789")
            .body(Body::empty())
            .expect("request");
        let pending = tokio::spawn(call(app(st), poll));
        tokio::task::yield_now().await;
        stop.send_replace(true);
        // Far below the 30 s the poll would otherwise hold.
        let (status, body) = tokio::time::timeout(Duration::from_secs(10), pending)
            .await
            .expect("the poll ended on shutdown, not at its deadline")
            .expect("join");
        assert_eq!(
            (status, body.as_str()),
            (
                StatusCode::OK,
                r#"{"events":[],"first_seq":1,"last_seq":0}"#
            )
        );
    }
}
