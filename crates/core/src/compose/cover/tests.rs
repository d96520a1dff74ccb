//! The cover upload against the sandbox (real wxdesk-sim and wxdesk-relay on loopback), with
//! egress through the relay: upload, then the card it is for goes out; a card with a made-up or
//! expired cover comes back as 40007 with "upload again"; files WeChat would refuse are refused
//! here in both languages before any request.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use serde_json::{Value, json};
use wxdesk_sim::SimConfig;

use crate::Lang;
use crate::compose::CustomMessage;
use crate::context::Context;
use crate::platform::{Egress, SettingsInput};
use crate::sandbox::{Sandbox, start_sandbox_with};
use crate::secrets::Secrets;
use crate::send::RecipientState;

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\r\n\0\xFFcover";

struct World {
    dir: tempfile::TempDir,
    ctx: Context,
    sandbox: Sandbox,
    oa: String,
    http: reqwest::Client,
}

impl World {
    async fn start() -> World {
        let dir = tempfile::tempdir().unwrap();
        let ctx = Context::open_with_secrets(dir.path(), Secrets::memory())
            .await
            .unwrap();
        let cfg = SimConfig {
            seed: 18,
            accounts: 3,
            followers: 20,
            ..SimConfig::default()
        };
        let world = wxdesk_sim::world::World::generate(cfg.seed, cfg.accounts, 1, 0);
        let oa = world.accounts[0].appid.clone();
        let authorized = vec![wxdesk_sim::PreAuthorized {
            appid: oa.clone(),
            refresh_token: "refreshtoken@@@cover-0".into(),
        }];
        let sandbox = start_sandbox_with(&ctx.platform, dir.path(), move |c| {
            *c = SimConfig { authorized, ..cfg };
        })
        .await
        .unwrap();
        // Egress through the relay, with an API address nothing answers on: a call that does
        // not go through the relay fails.
        let key = ctx
            .platform
            .secrets()
            .get(crate::secrets::SecretKey::RelayKey)
            .await
            .unwrap();
        ctx.platform
            .save_settings(SettingsInput {
                mode: crate::platform::Mode::Sandbox,
                component_appid: wxdesk_sim::SANDBOX_COMPONENT_APPID.into(),
                relay_url: sandbox.relay_url.clone(),
                egress: Egress::Relay,
                api_base: Some("http://127.0.0.1:9".into()),
                component_appsecret: None,
                component_token: None,
                component_aes_key: None,
                relay_key: key,
            })
            .await
            .unwrap();
        let relay = ctx.platform.relay().await.unwrap();
        for _ in 0..200 {
            if relay.fetch_ticket().await.unwrap().is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let report = ctx.accounts.recover_refresh_tokens().await.unwrap();
        assert_eq!(report.added, vec![oa.clone()]);
        World {
            dir,
            ctx,
            sandbox,
            oa,
            http: reqwest::Client::new(),
        }
    }

    async fn sim(&self, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.sandbox.sim_url);
        let req = match body {
            Some(b) => self.http.post(url).json(&b),
            None => self.http.get(url),
        };
        req.send().await.unwrap().json().await.unwrap()
    }

    /// A follower who just wrote to the account (the 48-hour window is open).
    async fn writer(&self) -> String {
        let v = self
            .sim(&format!("/__sim/openid?appid={}&index=3", self.oa), None)
            .await;
        let openid = v["openid"].as_str().unwrap().to_string();
        self.writes(&openid).await;
        openid
    }

    async fn writes(&self, openid: &str) {
        let m = self
            .sim(
                "/__sim/message",
                Some(json!({"authorizer_appid": self.oa, "openid": openid, "content": "在吗"})),
            )
            .await;
        assert_eq!(m["ok"], true, "{m}");
    }

    fn file(&self, name: &str, bytes: &[u8]) -> String {
        let p = self.dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p.display().to_string()
    }

    fn card(&self, thumb: &str) -> CustomMessage {
        CustomMessage::Mini {
            title: "新品上架".into(),
            appid: "wxmini".into(),
            pagepath: "pages/index/index".into(),
            thumb_media_id: thumb.into(),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_uploaded_cover_sends_the_card_and_an_expired_one_is_explained() {
    let w = World::start().await;
    let to = w.writer().await;
    let path = w.file("封面.png", PNG);
    let cover = w.ctx.compose.upload_card_cover(&w.oa, &path).await.unwrap();
    assert_eq!(cover.file_name, "封面.png");
    assert_eq!(cover.size, PNG.len() as u64);
    assert_eq!(cover.expires_at - cover.created_at, 3 * 24 * 3600);
    let st = w.sandbox.sim_state();
    let stored = &st["media"][0];
    assert_eq!(stored["media_id"], cover.media_id.as_str());
    assert_eq!(stored["appid"], w.oa.as_str());
    assert_eq!(
        stored["fnv64"],
        format!("{:016x}", wxdesk_sim::api::media::fnv64(PNG))
    );

    let row = w
        .ctx
        .compose
        .custom_send(&w.oa, &to, w.card(&cover.media_id))
        .await
        .unwrap();
    assert_eq!(row.state, RecipientState::Sent, "{row:?}");

    // A media id nobody uploaded: 40007, explained with what to do.
    let row = w
        .ctx
        .compose
        .custom_send(&w.oa, &to, w.card("made-up-media-id"))
        .await
        .unwrap();
    assert_eq!(row.state, RecipientState::FailedPermanent, "{row:?}");
    assert_eq!(row.errcode, Some(40007));
    let e = row.explanation.unwrap();
    assert!(e.hint_zh.contains("重新上传封面") && e.hint_en.contains("upload the cover"));

    // Three days on, the uploaded cover is gone too.
    // (The sim pushes a fresh ticket as its timer would; the old one has expired by then.)
    let relay = w.ctx.platform.relay().await.unwrap();
    let ticket = |t: Option<crate::relay::TicketInfo>| t.map(|t| t.create_time);
    let before = ticket(relay.fetch_ticket().await.unwrap());
    w.sim(
        "/__sim/advance-clock",
        Some(json!({"secs": 3.0 * 24.0 * 3600.0 + 60.0})),
    )
    .await;
    for _ in 0..200 {
        if ticket(relay.fetch_ticket().await.unwrap()) != before {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    w.writes(&to).await;
    let row = w
        .ctx
        .compose
        .custom_send(&w.oa, &to, w.card(&cover.media_id))
        .await
        .unwrap();
    assert_eq!(row.state, RecipientState::FailedPermanent, "{row:?}");
    assert_eq!(row.errcode, Some(40007));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_wechat_would_refuse_are_refused_before_any_request() {
    let w = World::start().await;
    let cases = [
        (w.file("empty.png", b""), "空的", "empty"),
        (w.file("notes.png", b"just text"), "JPG", "JPG"),
        (
            w.dir.path().join("missing.png").display().to_string(),
            "无法读取",
            "Cannot read",
        ),
        (w.dir.path().display().to_string(), "不是文件", "not a file"),
    ];
    for (path, zh, en) in cases {
        let e = w
            .ctx
            .compose
            .upload_card_cover(&w.oa, &path)
            .await
            .unwrap_err();
        assert_eq!(e.code(), "invalid", "{e}");
        assert!(e.message(Lang::Zh).contains(zh), "{}", e.message(Lang::Zh));
        assert!(e.message(Lang::En).contains(en), "{}", e.message(Lang::En));
    }
    // Over 10 MB: refused from its size, with what to do.
    let big = w.dir.path().join("big.jpg");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(10 * 1024 * 1024 + 1).unwrap();
    let e = w
        .ctx
        .compose
        .upload_card_cover(&w.oa, &big.display().to_string())
        .await
        .unwrap_err();
    assert!(e.message(Lang::Zh).contains("10 MB") && e.message(Lang::Zh).contains("压缩"));
    assert!(e.message(Lang::En).contains("Compress"));
    assert_eq!(
        w.sandbox.sim_state()["media"].as_array().map(Vec::len),
        Some(0)
    );
}
