//! Pushes to the relay, signed and encrypted as WeChat does, through a bounded background queue
//! so an API call never waits for a push. Each push is tried once and retried twice more (at
//! `push_retry_interval_ms`) unless the receiver answers `success` (protocol B.5).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::{Semaphore, mpsc};
use wxdesk_wechat::crypto::{Envelope, MsgCrypt};

/// Where a push goes.
#[derive(Debug, Clone)]
pub enum Target {
    /// 授权事件接收URL: `{relay}/wechat/component`, `<AppId>` envelope.
    Component,
    /// 消息与事件接收URL: `{relay}/wechat/{appid}/callback`, `<ToUserName>` envelope; `openid` is
    /// added to the query for user-originated messages.
    Account {
        appid: String,
        user_name: String,
        openid: Option<String>,
    },
}

#[derive(Debug)]
pub struct Push {
    pub target: Target,
    /// The decrypted XML.
    pub xml: String,
}

#[derive(Debug, Default)]
pub struct PushStats {
    pub queued: AtomicU64,
    pub delivered: AtomicU64,
    pub failed: AtomicU64,
    pub dropped: AtomicU64,
    pub attempts: AtomicU64,
    /// Pushes made while no relay_url is configured (nowhere to send).
    pub unsent: AtomicU64,
}

#[derive(Debug, Serialize)]
pub struct PushStatsView {
    pub queued: u64,
    pub delivered: u64,
    pub failed: u64,
    pub dropped: u64,
    pub attempts: u64,
    pub unsent: u64,
}

impl PushStats {
    pub fn view(&self) -> PushStatsView {
        PushStatsView {
            queued: self.queued.load(Ordering::Relaxed),
            delivered: self.delivered.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            attempts: self.attempts.load(Ordering::Relaxed),
            unsent: self.unsent.load(Ordering::Relaxed),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Pusher {
    /// Authorization-event URL pushes (tickets, auth events): one at a time, in order, so a
    /// relay never sees an older ticket after a newer one.
    component_tx: mpsc::Sender<Push>,
    /// Message URL pushes (delivery reports, user messages): in parallel, like WeChat.
    account_tx: mpsc::Sender<Push>,
    pub stats: Arc<PushStats>,
    crypt: Arc<MsgCrypt>,
    client: reqwest::Client,
    /// Changeable at run time, for an in-process sandbox that starts the relay after the sim.
    relay_url: Arc<RwLock<String>>,
    component_appid: String,
}

pub struct PushSettings {
    pub relay_url: String,
    pub component_appid: String,
    pub retries: u32,
    pub retry_interval: Duration,
    pub queue: usize,
}

/// Concurrent deliveries in flight on the message lane.
const PARALLEL: usize = 32;

struct Lane {
    crypt: Arc<MsgCrypt>,
    client: reqwest::Client,
    stats: Arc<PushStats>,
    relay_url: Arc<RwLock<String>>,
    component_appid: String,
    retries: u32,
    retry_interval: Duration,
}

impl Pusher {
    /// Start the delivery tasks; returns the pusher and the tasks to abort on shutdown.
    pub fn start(
        settings: PushSettings,
        crypt: Arc<MsgCrypt>,
        client: reqwest::Client,
    ) -> (Pusher, Vec<tokio::task::JoinHandle<()>>) {
        let (component_tx, mut component_rx) = mpsc::channel::<Push>(settings.queue.max(1));
        let (account_tx, mut account_rx) = mpsc::channel::<Push>(settings.queue.max(1));
        let stats = Arc::new(PushStats::default());
        let relay_url = Arc::new(RwLock::new(settings.relay_url.clone()));
        let lane = Arc::new(Lane {
            crypt: crypt.clone(),
            client: client.clone(),
            stats: stats.clone(),
            relay_url: relay_url.clone(),
            component_appid: settings.component_appid.clone(),
            retries: settings.retries,
            retry_interval: settings.retry_interval,
        });
        let me = Pusher {
            component_tx,
            account_tx,
            stats,
            crypt,
            client,
            relay_url,
            component_appid: settings.component_appid,
        };
        let sequential = {
            let lane = lane.clone();
            tokio::spawn(async move {
                while let Some(push) = component_rx.recv().await {
                    deliver(&lane, push).await;
                }
            })
        };
        let parallel = tokio::spawn(async move {
            let permits = Arc::new(Semaphore::new(PARALLEL));
            let mut tasks = tokio::task::JoinSet::new();
            while let Some(push) = account_rx.recv().await {
                let Ok(permit) = permits.clone().acquire_owned().await else {
                    break;
                };
                let lane = lane.clone();
                tasks.spawn(async move {
                    deliver(&lane, push).await;
                    drop(permit);
                });
                while tasks.try_join_next().is_some() {}
            }
            while tasks.join_next().await.is_some() {}
        });
        (me, vec![sequential, parallel])
    }

    /// Queue a push; when the queue is full the push is dropped and counted (never blocks).
    pub fn push(&self, push: Push) {
        let tx = match push.target {
            Target::Component => &self.component_tx,
            Target::Account { .. } => &self.account_tx,
        };
        match tx.try_send(push) {
            Ok(()) => {
                self.stats.queued.fetch_add(1, Ordering::Relaxed);
            }
            Err(_) => {
                self.stats.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    pub fn relay_url(&self) -> String {
        self.relay_url
            .read()
            .map(|u| u.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    pub fn set_relay_url(&self, url: &str) {
        let mut g = self.relay_url.write().unwrap_or_else(|p| p.into_inner());
        *g = url.to_string();
    }

    pub fn crypt(&self) -> &MsgCrypt {
        &self.crypt
    }

    /// Deliver one push now, once, bypassing the queue, and return the receiver's answer (for
    /// scenarios that judge the answer itself, like the full-network release test).
    pub async fn push_now(&self, push: &Push) -> std::result::Result<String, String> {
        let relay_url = self.relay_url();
        if relay_url.is_empty() {
            return Err("未配置 relay_url / no relay_url configured".into());
        }
        let (url, query, body) = seal(&self.crypt, &relay_url, &self.component_appid, push);
        let qs: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&query)
            .finish();
        self.stats.attempts.fetch_add(1, Ordering::Relaxed);
        let res = self
            .client
            .post(format!("{url}?{qs}"))
            .header("Content-Type", "text/xml")
            .body(body)
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .map_err(|e| format!("推送失败 / push failed: {e}"))?;
        let status = res.status();
        let text = res
            .text()
            .await
            .map_err(|e| format!("读取应答失败 / reading the answer: {e}"))?;
        if status.is_success() {
            Ok(text)
        } else {
            Err(format!("HTTP {status}"))
        }
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The URL, query and body of one push, as WeChat builds them.
pub fn seal(
    crypt: &MsgCrypt,
    relay_url: &str,
    component_appid: &str,
    push: &Push,
) -> (String, Vec<(String, String)>, String) {
    use rand::Rng;
    let timestamp = unix_now().to_string();
    let nonce = rand::rng()
        .random_range(100_000_000u64..10_000_000_000)
        .to_string();
    let base = relay_url.trim_end_matches('/');
    let (url, envelope, openid) = match &push.target {
        Target::Component => (
            format!("{base}/wechat/component"),
            Envelope::AppId(component_appid.to_string()),
            None,
        ),
        Target::Account {
            appid,
            user_name,
            openid,
        } => (
            format!("{base}/wechat/{appid}/callback"),
            Envelope::ToUserName(user_name.clone()),
            openid.clone(),
        ),
    };
    let (body, msg_signature) = crypt.encrypt_push(&push.xml, &envelope, &timestamp, &nonce);
    let mut query = vec![
        (
            "signature".to_string(),
            crypt.url_signature(&timestamp, &nonce),
        ),
        ("timestamp".to_string(), timestamp),
        ("nonce".to_string(), nonce),
    ];
    if let Some(o) = openid {
        query.push(("openid".to_string(), o));
    }
    query.push(("encrypt_type".to_string(), "aes".to_string()));
    query.push(("msg_signature".to_string(), msg_signature));
    (url, query, body)
}

async fn deliver(lane: &Lane, push: Push) {
    let st = &lane.stats;
    let relay_url = lane
        .relay_url
        .read()
        .map(|u| u.clone())
        .unwrap_or_else(|p| p.into_inner().clone());
    if relay_url.is_empty() {
        st.unsent.fetch_add(1, Ordering::Relaxed);
        return;
    }
    let component = matches!(push.target, Target::Component);
    let (url, query, body) = seal(&lane.crypt, &relay_url, &lane.component_appid, &push);
    let qs: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&query)
        .finish();
    let full = format!("{url}?{qs}");
    for attempt in 0..=lane.retries {
        if attempt > 0 {
            tokio::time::sleep(lane.retry_interval).await;
        }
        st.attempts.fetch_add(1, Ordering::Relaxed);
        let res = lane
            .client
            .post(&full)
            .header("Content-Type", "text/xml")
            .body(body.clone())
            .timeout(Duration::from_secs(5))
            .send()
            .await;
        let ok = match res {
            Ok(r) if r.status().is_success() => match r.text().await {
                Ok(text) => {
                    let t = text.trim();
                    // The component URL must answer exactly `success`; the message URL may also
                    // answer empty or with a passive reply.
                    t == "success" || (!component && (t.is_empty() || t.starts_with("<xml")))
                }
                Err(_) => false,
            },
            _ => false,
        };
        if ok {
            st.delivered.fetch_add(1, Ordering::Relaxed);
            return;
        }
    }
    tracing::warn!(url = %url, "推送失败（已重试）/ push failed after retries");
    st.failed.fetch_add(1, Ordering::Relaxed);
}

/// CDATA-wrap text, splitting any `]]>` inside it.
pub fn cdata(s: &str) -> String {
    format!("<![CDATA[{}]]>", s.replace("]]>", "]]]]><![CDATA[>"))
}

pub fn ticket_xml(component_appid: &str, create_time: i64, ticket: &str) -> String {
    format!(
        "<xml><AppId>{}</AppId><CreateTime>{create_time}</CreateTime><InfoType>{}</InfoType><ComponentVerifyTicket>{}</ComponentVerifyTicket></xml>",
        cdata(component_appid),
        cdata("component_verify_ticket"),
        cdata(ticket)
    )
}

pub struct AuthEvent<'a> {
    pub component_appid: &'a str,
    pub create_time: i64,
    /// `authorized`, `updateauthorized` or `unauthorized`.
    pub info_type: &'a str,
    pub authorizer_appid: &'a str,
    /// (code, expired_time, pre_auth_code), absent for `unauthorized`.
    pub code: Option<(&'a str, i64, &'a str)>,
}

pub fn auth_xml(e: &AuthEvent<'_>) -> String {
    let mut x = format!(
        "<xml><AppId>{}</AppId><CreateTime>{}</CreateTime><InfoType>{}</InfoType><AuthorizerAppid>{}</AuthorizerAppid>",
        cdata(e.component_appid),
        e.create_time,
        cdata(e.info_type),
        cdata(e.authorizer_appid)
    );
    if let Some((code, expired, pre)) = e.code {
        x.push_str(&format!(
            "<AuthorizationCode>{}</AuthorizationCode><AuthorizationCodeExpiredTime>{expired}</AuthorizationCodeExpiredTime><PreAuthCode>{}</PreAuthCode>",
            cdata(code),
            cdata(pre)
        ));
    }
    x.push_str("</xml>");
    x
}

pub fn job_finish_xml(
    user_name: &str,
    openid: &str,
    create_time: i64,
    msgid: i64,
    status: &str,
) -> String {
    format!(
        "<xml><ToUserName>{}</ToUserName><FromUserName>{}</FromUserName><CreateTime>{create_time}</CreateTime><MsgType>{}</MsgType><Event>{}</Event><MsgID>{msgid}</MsgID><Status>{}</Status></xml>",
        cdata(user_name),
        cdata(openid),
        cdata("event"),
        cdata("TEMPLATESENDJOBFINISH"),
        cdata(status)
    )
}

///
/// A follow that came from scanning a parametric QR code carries `EventKey` = `qrscene_<scene>`
/// and the code's `Ticket` (protocol, events); `via` is that (scene, ticket).
pub fn follow_xml(
    user_name: &str,
    openid: &str,
    create_time: i64,
    follow: bool,
    via: Option<(&str, &str)>,
) -> String {
    let event = if follow { "subscribe" } else { "unsubscribe" };
    let key = match (follow, via) {
        (true, Some((scene, ticket))) => format!(
            "<EventKey>{}</EventKey><Ticket>{}</Ticket>",
            cdata(&format!("qrscene_{scene}")),
            cdata(ticket)
        ),
        (true, None) => format!("<EventKey>{}</EventKey>", cdata("")),
        (false, _) => String::new(),
    };
    format!(
        "<xml><ToUserName>{}</ToUserName><FromUserName>{}</FromUserName><CreateTime>{create_time}</CreateTime><MsgType>{}</MsgType><Event>{}</Event>{key}</xml>",
        cdata(user_name),
        cdata(openid),
        cdata("event"),
        cdata(event)
    )
}

/// A user event with an EventKey (menu click, scan, view…).
pub fn event_xml(
    user_name: &str,
    openid: &str,
    create_time: i64,
    event: &str,
    key: &str,
) -> String {
    format!(
        "<xml><ToUserName>{}</ToUserName><FromUserName>{}</FromUserName><CreateTime>{create_time}</CreateTime><MsgType>{}</MsgType><Event>{}</Event><EventKey>{}</EventKey></xml>",
        cdata(user_name),
        cdata(openid),
        cdata("event"),
        cdata(event),
        cdata(key)
    )
}

pub fn text_xml(
    user_name: &str,
    openid: &str,
    create_time: i64,
    content: &str,
    msg_id: i64,
) -> String {
    format!(
        "<xml><ToUserName>{}</ToUserName><FromUserName>{}</FromUserName><CreateTime>{create_time}</CreateTime><MsgType>{}</MsgType><Content>{}</Content><MsgId>{msg_id}</MsgId></xml>",
        cdata(user_name),
        cdata(openid),
        cdata("text"),
        cdata(content)
    )
}

fn event_head(user_name: &str, openid: &str, create_time: i64, event: &str) -> String {
    format!(
        "<xml><ToUserName>{}</ToUserName><FromUserName>{}</FromUserName><CreateTime>{create_time}</CreateTime><MsgType>{}</MsgType><Event>{}</Event>",
        cdata(user_name),
        cdata(openid),
        cdata("event"),
        cdata(event)
    )
}

/// `subscribe_msg_popup_event` (protocol G.6): one `<List>` per template of the popup, with
/// `accept`/`reject` and the scene (1 H5 page, 2 article).
pub fn subscribe_popup_xml(
    user_name: &str,
    openid: &str,
    create_time: i64,
    items: &[(String, &str)],
    scene: u8,
) -> String {
    let mut x = event_head(user_name, openid, create_time, "subscribe_msg_popup_event");
    x.push_str("<SubscribeMsgPopupEvent>");
    for (template_id, status) in items {
        x.push_str(&format!(
            "<List><TemplateId>{}</TemplateId><SubscribeStatusString>{}</SubscribeStatusString><PopupScene>{scene}</PopupScene></List>",
            cdata(template_id),
            cdata(status)
        ));
    }
    x.push_str("</SubscribeMsgPopupEvent></xml>");
    x
}

/// `subscribe_msg_change_event`: the user switched notices off on the management page (only
/// rejections are pushed). The wrapper is `SubscribeMsgChangeEvent`, as the SDKs read it.
pub fn subscribe_change_xml(
    user_name: &str,
    openid: &str,
    create_time: i64,
    template_ids: &[String],
) -> String {
    let mut x = event_head(user_name, openid, create_time, "subscribe_msg_change_event");
    x.push_str("<SubscribeMsgChangeEvent>");
    for template_id in template_ids {
        x.push_str(&format!(
            "<List><TemplateId>{}</TemplateId><SubscribeStatusString>{}</SubscribeStatusString></List>",
            cdata(template_id),
            cdata("reject")
        ));
    }
    x.push_str("</SubscribeMsgChangeEvent></xml>");
    x
}

/// `subscribe_msg_sent_event`: the result of one bizsend; `MsgID` equals its `msgid`.
pub fn subscribe_sent_xml(
    user_name: &str,
    openid: &str,
    create_time: i64,
    template_id: &str,
    msgid: i64,
    (error_code, error_status): (i64, &str),
) -> String {
    let mut x = event_head(user_name, openid, create_time, "subscribe_msg_sent_event");
    x.push_str(&format!(
        "<SubscribeMsgSentEvent><List><TemplateId>{}</TemplateId><MsgID>{msgid}</MsgID><ErrorCode>{error_code}</ErrorCode><ErrorStatus>{}</ErrorStatus></List></SubscribeMsgSentEvent></xml>",
        cdata(template_id),
        cdata(error_status)
    ));
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cdata_survives_a_closing_sequence_in_the_text() {
        assert_eq!(cdata("a]]>b"), "<![CDATA[a]]]]><![CDATA[>b]]>");
    }

    #[test]
    fn subscribe_events_parse_as_the_protocol_shows_them() {
        use wxdesk_wechat::callback::{Callback, SubscribeMsgKind, parse};
        let x = subscribe_popup_xml(
            "gh_1",
            "o1",
            5,
            &[("T1".into(), "accept"), ("T2".into(), "reject")],
            1,
        );
        let Ok(Callback::SubscribeMsg(e)) = parse(&x) else {
            panic!("{x}")
        };
        assert_eq!(e.kind, SubscribeMsgKind::Popup);
        assert_eq!(e.items.len(), 2);
        assert_eq!(e.items[0].popup_scene, Some(1));
        let x = subscribe_sent_xml(
            "gh_1",
            "o1",
            5,
            "T1",
            1_700_827_132_819_554_304,
            (0, "success"),
        );
        let Ok(Callback::SubscribeMsg(e)) = parse(&x) else {
            panic!("{x}")
        };
        assert_eq!(e.items[0].msg_id, Some(1_700_827_132_819_554_304));
        let x = subscribe_change_xml("gh_1", "o1", 5, &["T1".into()]);
        assert!(
            matches!(parse(&x), Ok(Callback::SubscribeMsg(e)) if e.kind == SubscribeMsgKind::Change)
        );
    }

    #[test]
    fn job_finish_spells_msgid_with_a_capital_id() {
        let x = job_finish_xml("gh_1", "o1", 5, 42, "success");
        assert!(x.contains("<MsgID>42</MsgID>"));
        assert!(x.contains("<Event><![CDATA[TEMPLATESENDJOBFINISH]]></Event>"));
    }
}
