//! wxdesk-sim: a faithful local stand-in for the WeChat servers, for tests, benchmarks and the
//! sandbox mode. Built from `wechat-protocol.md`, never from crates/wechat's request/response
//! types (only its crypto is shared), so a wrong field name cannot hide in both. It owns:
//!
//! * **the API** under `/cgi-bin/…` and `/sns/…` ([`api`]): component tokens that need the
//!   latest ticket (< 12 h) and the right secret (61005/61006/40125), tokens expiring on a sim
//!   clock, the 5-minute overlap after a new token, single-use pre-auth codes (10 min) and
//!   authorization codes (61009/61010), refresh tokens that die on revoke (61003) or
//!   re-authorization (61023), templates with typed keyword rules (47003), follower checks
//!   (40003/43004), client_msg_id idempotency, the 48-hour customer-service window
//!   (45015/45047), the mini-program jump of a template message (40013 unlinked, 40165 not a
//!   released page; every jump recorded), 订阅通知 templates (`wxaapi/newtmpl`) and bizsend
//!   (one accept → one send, long-term many; 43101; 61007 without set 89; 48001 for mini
//!   programs) with their pushes, uniform_send's 45109, user/get pages of
//!   10,000, daily quotas (45009), clear_quota (48006), an optional IP whitelist (61004);
//!   errors are HTTP 200 JSON with a ` rid:` suffix;
//! * **the world** ([`world`], [`templates`]): accounts, principals, followers computed from an
//!   index (a million per account cost nothing), unionids shared within a principal, tags,
//!   recent messagers, the template library — all a function of `seed`;
//! * **mini-program code management** ([`code`], `api::code`): the template library, each mini
//!   program's 体验版, audits that end after `audit_secs` on the sim clock (an ext.json with
//!   `"sim_audit": "fail"` / `"delay"` is rejected / delayed) with their `weapp_audit_*` pushes,
//!   release, rollback, the monthly audit quota and the rules of protocol L.6;
//! * **the authorization pages** ([`login`]): `/cgi-bin/componentloginpage`,
//!   `/safe/bindcomponent`, `/wxaopen/safe/bindcomponent`, with WeChat's Referer and
//!   redirect_uri host checks; buttons `id="authorize-<appid>"` post to `/__sim/login/confirm`;
//! * **pushes** ([`push`]), encrypted and signed with `wxdesk_wechat::crypto`: tickets on a timer
//!   and auth events in order to `{relay_url}/wechat/component`; TEMPLATESENDJOBFINISH, user
//!   messages and (un)subscribe events in parallel to `{relay_url}/wechat/{appid}/callback`;
//!   retried twice unless answered `success`;
//! * **faults** ([`server`]): latency, jitter, `-1`, HTTP 5xx, dropped connections, slow answers,
//!   drawn from the seed and the call number;
//! * **test-only routes**, all under `/__sim/` ([`simroutes`]): `GET state`, `POST authorize`,
//!   `POST revoke`, `POST push-ticket` (DESIGN.md), and `POST message` (a user texts an account),
//!   `POST follow`, `POST event` (a menu click, scan…), `POST subscribe` (a user accepts,
//!   rejects or switches off 订阅通知 templates; pushes `subscribe_msg_popup_event` /
//!   `subscribe_msg_change_event`), `POST advance-clock {secs,
//!   tickets?}`, `POST release-test` (全网发布, [`release`]), `GET accounts/{appid}` (its own
//!   AppSecret and sample openids), `GET openid?appid=&index=`, `GET avatar/{appid}.svg`.
//!
//! Use it in-process with [`start`] (see [`SimHandle`]), or as the `wxdesk-sim` binary with a
//! TOML file (`sim.example.toml`), flags or `WXDESK_SIM_<KEY>` variables.

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio::sync::watch;

pub mod api;
pub mod clock;
pub mod code;
pub mod config;
pub mod error;
pub mod ids;
pub mod login;
pub mod push;
pub mod release;
pub mod server;
pub mod sim;
pub mod simroutes;
pub mod state;
pub mod subscribe;
pub mod templates;
pub mod world;

pub use config::{
    PreAuthorized, SANDBOX_AUTH_DOMAIN, SANDBOX_COMPONENT_AES_KEY, SANDBOX_COMPONENT_APPID,
    SANDBOX_COMPONENT_APPSECRET, SANDBOX_COMPONENT_TOKEN, SimArgs, SimConfig,
};
pub use error::{Error, Result};

use api::{
    code as wxa, component, media, messages, quota, route, subscribe as sub, templates as tpl,
    users,
};
use sim::Sim;

/// Every route the sim serves.
pub fn router(sim: Arc<Sim>) -> Router {
    Router::new()
        // Platform (component) APIs.
        .route(
            "/cgi-bin/component/api_start_push_ticket",
            route(component::start_push_ticket),
        )
        .route(
            "/cgi-bin/component/api_component_token",
            route(component::component_token),
        )
        .route(
            "/cgi-bin/component/api_create_preauthcode",
            route(component::create_preauthcode),
        )
        .route(
            "/cgi-bin/component/api_query_auth",
            route(component::query_auth),
        )
        .route(
            "/cgi-bin/component/api_authorizer_token",
            route(component::authorizer_token),
        )
        .route(
            "/cgi-bin/component/api_get_authorizer_info",
            route(component::get_authorizer_info),
        )
        .route(
            "/cgi-bin/component/api_get_authorizer_list",
            route(component::get_authorizer_list),
        )
        .route(
            "/cgi-bin/component/clear_quota",
            route(quota::component_clear_quota),
        )
        .route(
            "/cgi-bin/component/clear_quota/v2",
            route(quota::component_clear_quota_v2),
        )
        .route(
            "/sns/component/jscode2session",
            route(component::component_jscode2session),
        )
        // Accounts' own tokens and login.
        .route("/cgi-bin/token", route(component::client_token))
        .route("/cgi-bin/stable_token", route(component::stable_token))
        .route("/sns/jscode2session", route(component::jscode2session))
        // Templates and messages.
        .route("/cgi-bin/template/get_industry", route(tpl::get_industry))
        .route(
            "/cgi-bin/template/api_set_industry",
            route(tpl::set_industry),
        )
        .route(
            "/cgi-bin/template/api_add_template",
            route(tpl::add_template),
        )
        .route(
            "/cgi-bin/template/get_all_private_template",
            route(tpl::get_all_private_template),
        )
        .route(
            "/cgi-bin/template/del_private_template",
            route(tpl::del_private_template),
        )
        .route(
            "/cgi-bin/message/template/send",
            route(messages::template_send),
        )
        .route("/cgi-bin/message/custom/send", route(messages::custom_send))
        .route("/cgi-bin/qrcode/create", route(api::qrcode::create))
        .route("/cgi-bin/media/upload", media::upload_route())
        .route(
            "/cgi-bin/message/wxopen/template/uniform_send",
            route(messages::uniform_send),
        )
        .route("/cgi-bin/message/subscribe/bizsend", route(sub::bizsend))
        // 订阅通知 templates (protocol G.3).
        .route("/wxaapi/newtmpl/getcategory", route(sub::get_category))
        .route(
            "/wxaapi/newtmpl/getpubtemplatetitles",
            route(sub::get_pub_titles),
        )
        .route(
            "/wxaapi/newtmpl/getpubtemplatekeywords",
            route(sub::get_pub_keywords),
        )
        .route("/wxaapi/newtmpl/addtemplate", route(sub::add_template))
        .route("/wxaapi/newtmpl/gettemplate", route(sub::get_templates))
        .route("/wxaapi/newtmpl/deltemplate", route(sub::del_template))
        // Users.
        .route("/cgi-bin/user/get", route(users::user_get))
        .route(
            "/cgi-bin/user/info/batchget",
            api::route_typed(users::batchget),
        )
        .route("/cgi-bin/tags/get", route(users::tags_get))
        // Quotas.
        .route("/cgi-bin/clear_quota", route(quota::clear_quota))
        .route("/cgi-bin/openapi/quota/get", route(quota::quota_get))
        // Mini-program code management (protocol L).
        .route("/wxa/gettemplatedraftlist", route(wxa::draft_list))
        .route("/wxa/addtotemplate", route(wxa::add_to_template))
        .route("/wxa/gettemplatelist", route(wxa::template_list))
        .route("/wxa/deletetemplate", route(wxa::delete_template))
        .route("/wxa/modify_domain", route(wxa::modify_domain))
        .route("/wxa/setwebviewdomain", route(wxa::set_webview_domain))
        .route("/wxa/commit", route(wxa::commit))
        .route("/wxa/get_qrcode", wxa::qrcode_route())
        .route("/wxa/get_category", route(wxa::categories))
        .route("/wxa/get_page", route(wxa::pages))
        .route("/wxa/submit_audit", route(wxa::submit_audit))
        .route("/wxa/get_auditstatus", route(wxa::audit_status))
        .route(
            "/wxa/get_latest_auditstatus",
            route(wxa::latest_audit_status),
        )
        .route("/wxa/undocodeaudit", route(wxa::undo_code_audit))
        .route("/wxa/speedupaudit", route(wxa::speedup_audit))
        .route("/wxa/release", route(wxa::release))
        .route("/wxa/revertcoderelease", route(wxa::revert_code_release))
        .route("/wxa/getversioninfo", route(wxa::version_info))
        .route("/wxa/getvisitstatus", route(wxa::visit_status))
        .route("/wxa/change_visitstatus", route(wxa::change_visit_status))
        .route("/wxa/queryquota", route(wxa::query_quota))
        // Authorization pages.
        .route("/cgi-bin/componentloginpage", get(login::login_page))
        .route("/safe/bindcomponent", get(login::login_page))
        .route("/wxaopen/safe/bindcomponent", get(login::login_page))
        .route("/__sim/login/confirm", post(login::confirm))
        // Test-only.
        .route("/__sim/state", get(simroutes::state))
        .route("/__sim/authorize", post(simroutes::authorize))
        .route("/__sim/revoke", post(simroutes::revoke))
        .route("/__sim/push-ticket", post(simroutes::push_ticket))
        .route("/__sim/message", post(simroutes::message))
        .route("/__sim/subscribe", post(simroutes::subscribe))
        .route("/__sim/follow", post(simroutes::follow))
        .route("/__sim/event", post(simroutes::event))
        .route("/__sim/scan", post(simroutes::scan))
        .route("/__sim/release-test", post(simroutes::release_test))
        .route("/__sim/advance-clock", post(simroutes::advance_clock))
        .route("/__sim/accounts/{appid}", get(simroutes::account))
        .route("/__sim/openid", get(simroutes::openid))
        .route("/__sim/avatar/{file}", get(simroutes::avatar))
        .fallback(api::not_found)
        .layer(axum::extract::DefaultBodyLimit::max(2 * 1024 * 1024))
        .with_state(sim)
}

/// A running simulator.
pub struct SimHandle {
    /// `http://127.0.0.1:PORT`
    pub base_url: String,
    sim: Arc<Sim>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl SimHandle {
    /// What `GET /__sim/state` answers, without HTTP.
    pub fn state(&self) -> serde_json::Value {
        simroutes::state_json(&self.sim)
    }

    /// Point pushes at another relay (an in-process sandbox may start the relay after the sim,
    /// since each needs the other's URL). Follow with [`SimHandle::push_ticket`].
    pub fn set_relay_url(&self, url: &str) {
        self.sim.pusher.set_relay_url(url);
    }

    /// Push a fresh component_verify_ticket now (as `POST /__sim/push-ticket`).
    pub fn push_ticket(&self) {
        self.sim.push_ticket();
    }

    /// Stop serving, pushing and ticking.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let mut tasks = self.tasks.into_iter();
        if let Some(server) = tasks.next() {
            let _ = server.await;
        }
        for t in tasks {
            t.abort();
            let _ = t.await;
        }
    }
}

/// Bind `cfg.listen`, generate the world, push the first ticket, and serve.
pub async fn start(cfg: SimConfig) -> Result<SimHandle> {
    cfg.validate()?;
    let listener = TcpListener::bind(&cfg.listen)
        .await
        .map_err(|source| Error::Bind {
            addr: cfg.listen.clone(),
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| Error::Bind {
        addr: cfg.listen.clone(),
        source,
    })?;
    let base_url = format!("http://{addr}");
    let crypt = wxdesk_wechat::crypto::MsgCrypt::new(
        &cfg.component_token,
        &cfg.component_aes_key,
        &cfg.component_appid,
    )
    .map_err(|_| Error::Crypto("component_token / component_aes_key".into()))?;
    let client = reqwest::Client::builder().no_proxy().build()?;
    let (pusher, push_tasks) = push::Pusher::start(
        push::PushSettings {
            relay_url: cfg.relay_url.clone(),
            component_appid: cfg.component_appid.clone(),
            retries: cfg.push_retries,
            retry_interval: std::time::Duration::from_millis(cfg.push_retry_interval_ms),
            queue: cfg.push_queue,
        },
        Arc::new(crypt),
        client,
    );
    let clock = clock::SimClock::new(cfg.clock_speed);
    let w = world::World::generate(cfg.seed, cfg.accounts, cfg.followers, clock.start());
    let sim = Arc::new(Sim::new(cfg, w, clock, base_url.clone(), pusher));
    sim.push_ticket();
    let ticker = {
        let sim = sim.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(sim.clock.real_duration(sim.cfg.ticket_interval_secs as f64))
                    .await;
                sim.push_ticket();
            }
        })
    };
    // Audits end on the sim clock even when nobody asks (their pushes are the news).
    let audits = {
        let sim = sim.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                code::settle(&sim);
            }
        })
    };
    let (tx, rx) = watch::channel(false);
    let server = tokio::spawn(server::serve(
        listener,
        router(sim.clone()),
        sim.clone(),
        rx,
    ));
    tracing::info!(base_url = %base_url, "wxdesk-sim 已启动 / started");
    let mut tasks = vec![server, ticker, audits];
    tasks.extend(push_tasks);
    Ok(SimHandle {
        base_url,
        sim,
        shutdown: tx,
        tasks,
    })
}
