//! Shared by the send_* tests: a scripted fake of the send API that, like WeChat, accepts a
//! template message once per (openid, client_msg_id).
#![allow(dead_code, clippy::unwrap_used)]

pub mod relay;
pub mod sim;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::json;
use wxdesk_core::Lang;
use wxdesk_core::send::{
    ApiRequest, BoxFuture, EngineConfig, Job, JobSpec, Payload, Recipient, SendApi, SendFailure,
    SendOk,
};

/// Decides the fate of call number `n` (0-based) to `openid`: `None` accepts it.
pub type Script = dyn Fn(u64, &str) -> Option<SendFailure> + Send + Sync;

pub struct FakeApi {
    script: Box<Script>,
    calls: AtomicU64,
    pub refreshes: AtomicU64,
    accepted: Mutex<HashMap<String, u64>>,
    seen: Mutex<HashSet<(String, String)>>,
    next_msgid: AtomicU64,
}

impl FakeApi {
    pub fn new(
        script: impl Fn(u64, &str) -> Option<SendFailure> + Send + Sync + 'static,
    ) -> Arc<FakeApi> {
        Arc::new(FakeApi {
            script: Box::new(script),
            calls: AtomicU64::new(0),
            refreshes: AtomicU64::new(0),
            accepted: Mutex::new(HashMap::new()),
            seen: Mutex::new(HashSet::new()),
            next_msgid: AtomicU64::new(1000),
        })
    }

    pub fn ok() -> Arc<FakeApi> {
        FakeApi::new(|_, _| None)
    }

    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::SeqCst)
    }

    /// Messages accepted per openid (a dedup'd resend is not counted twice).
    pub fn accepted(&self) -> HashMap<String, u64> {
        self.accepted.lock().unwrap().clone()
    }

    pub fn accepted_total(&self) -> u64 {
        self.accepted.lock().unwrap().values().sum()
    }
}

pub fn api_err(errcode: i64) -> SendFailure {
    SendFailure::Api {
        errcode,
        errmsg: format!("fake error {errcode} rid: 00000000-00000000-00000000"),
    }
}

impl SendApi for FakeApi {
    fn send<'a>(
        &'a self,
        _appid: &'a str,
        req: &'a ApiRequest,
    ) -> BoxFuture<'a, Result<SendOk, SendFailure>> {
        Box::pin(async move {
            let n = self.calls.fetch_add(1, Ordering::SeqCst);
            let openid = req.body["touser"].as_str().unwrap_or_default().to_string();
            if let Some(f) = (self.script)(n, &openid) {
                // A transport failure that "maybe sent" really did get accepted here: the worst case.
                let accepted_anyway = matches!(
                    f,
                    SendFailure::Transport {
                        maybe_sent: true,
                        ..
                    }
                );
                if !accepted_anyway {
                    return Err(f);
                }
                self.accept(&openid, req);
                return Err(f);
            }
            let msgid = self.accept(&openid, req);
            Ok(SendOk {
                msgid: Some(msgid),
                response: json!({"errcode":0,"errmsg":"ok","msgid":msgid}),
            })
        })
    }

    fn refresh_token<'a>(&'a self, _appid: &'a str) -> BoxFuture<'a, Result<(), SendFailure>> {
        Box::pin(async move {
            self.refreshes.fetch_add(1, Ordering::SeqCst);
            Ok(())
        })
    }
}

impl FakeApi {
    fn accept(&self, openid: &str, req: &ApiRequest) -> i64 {
        let cmid = req.body["client_msg_id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let fresh = cmid.is_empty() || self.seen.lock().unwrap().insert((openid.to_string(), cmid));
        if fresh {
            *self
                .accepted
                .lock()
                .unwrap()
                .entry(openid.to_string())
                .or_default() += 1;
        }
        self.next_msgid.fetch_add(1, Ordering::SeqCst) as i64
    }
}

pub fn fast_config() -> EngineConfig {
    EngineConfig {
        concurrency: 8,
        rate_per_sec: 100_000,
        account_rate_per_sec: 100_000,
        max_attempts: 4,
        backoff_base: std::time::Duration::from_millis(1),
        backoff_max: std::time::Duration::from_millis(5),
        ..EngineConfig::default()
    }
}

pub fn template_spec(appid: &str) -> JobSpec {
    JobSpec {
        appid: appid.into(),
        title: "发货通知".into(),
        payload: Payload::Template {
            template_id: "TPL-ship".into(),
            data: [("thing1".to_string(), "订单{{订单号}}已发货".to_string())].into(),
            url: None,
            miniprogram: None,
        },
        field_rules: Vec::new(),
        concurrency: None,
        rate_per_sec: None,
        max_attempts: None,
    }
}

pub fn recipients(n: usize) -> impl Iterator<Item = Recipient> {
    (0..n).map(|i| Recipient {
        openid: format!("oUser{i:07}"),
        vars: [("订单号".to_string(), format!("A{i}"))].into(),
    })
}

/// Why the job paused, as the operator reads it in both languages (empty: no reason).
pub fn reason(job: &Job) -> String {
    job.pause_reason
        .as_ref()
        .map(|r| format!("{} / {}", r.message(Lang::Zh), r.message(Lang::En)))
        .unwrap_or_default()
}
