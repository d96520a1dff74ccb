//! 新增临时素材 (`/cgi-bin/media/upload`) and the card cover it is for: a customer-service
//! `miniprogrampage` card needs a live `thumb_media_id` of the same account (40007 when unknown,
//! of another account, or older than 3 days on the sim clock). Real HTTP on loopback.

mod common;

use common::{Env, errcode};
use serde_json::{Value, json};
use wxdesk_sim::SimConfig;

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\r\n--tail\xFF";

fn multipart(boundary: &str, name: &str, filename: Option<&str>, data: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    // A plain field first, as some SDKs send (`filelength`).
    b.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"filelength\"\r\n\r\n{}\r\n",
            data.len()
        )
        .as_bytes(),
    );
    b.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"").as_bytes(),
    );
    if let Some(f) = filename {
        b.extend_from_slice(format!("; filename=\"{f}\"").as_bytes());
    }
    b.extend_from_slice(b"\r\nContent-Type: application/octet-stream\r\n\r\n");
    b.extend_from_slice(data);
    b.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    b
}

async fn upload_raw(env: &Env, at: &str, ty: &str, content_type: &str, body: Vec<u8>) -> Value {
    env.http
        .post(env.url(&format!(
            "/cgi-bin/media/upload?access_token={at}&type={ty}"
        )))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json")
}

async fn upload(env: &Env, at: &str, data: &[u8]) -> Value {
    upload_raw(
        env,
        at,
        "image",
        "multipart/form-data; boundary=b0undary",
        multipart("b0undary", "media", Some("c.png"), data),
    )
    .await
}

fn card(to: &str, thumb: &str) -> Value {
    json!({"touser": to, "msgtype": "miniprogrampage", "miniprogrampage": {
        "title": "新品", "appid": "wxmini", "pagepath": "pages/index/index", "thumb_media_id": thumb}})
}

/// An official account, a token, and a follower who just wrote (the 48-hour window is open).
async fn setup(env: &Env) -> (String, String, String) {
    let appid = env.appid("service", true).await;
    let (_, aat, _) = env.authorize(&appid).await;
    let quiet = env.account(&appid).await["quiet_openid"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let m = env
        .post(
            "/__sim/message",
            json!({"authorizer_appid": appid, "openid": quiet, "content": "在吗"}),
        )
        .await;
    assert_eq!(m["ok"], true);
    (appid, aat, quiet)
}

#[tokio::test]
async fn an_uploaded_cover_sends_a_card_and_the_sim_kept_the_bytes_as_sent() {
    let env = Env::new(SimConfig::default()).await;
    let (appid, aat, quiet) = setup(&env).await;
    let v = upload(&env, &aat, PNG).await;
    assert_eq!(errcode(&v), 0, "{v}");
    assert_eq!(v["type"], "image");
    let id = v["media_id"].as_str().expect("media_id").to_string();
    assert!(v["created_at"].as_i64().is_some());
    let st = env.state().await;
    let m = &st["media"][0];
    assert_eq!(m["media_id"], id);
    assert_eq!(m["appid"], appid);
    assert_eq!(m["size"], PNG.len());
    assert_eq!(
        m["fnv64"],
        format!("{:016x}", wxdesk_sim::api::media::fnv64(PNG))
    );
    let send = format!("/cgi-bin/message/custom/send?access_token={aat}");
    assert_eq!(errcode(&env.post(&send, card(&quiet, &id)).await), 0);
    // A made-up id is refused.
    assert_eq!(
        errcode(&env.post(&send, card(&quiet, "not-a-media-id")).await),
        40007
    );
}

#[tokio::test]
async fn a_cover_expires_after_three_days_and_another_accounts_cover_is_refused() {
    let env = Env::new(SimConfig::default()).await;
    let (appid, aat, quiet) = setup(&env).await;
    let id = upload(&env, &aat, PNG).await["media_id"]
        .as_str()
        .expect("media_id")
        .to_string();
    // Another official account's upload is not this account's media.
    let other = env.state().await["accounts"]
        .as_array()
        .and_then(|l| {
            l.iter().find(|a| {
                a["kind"] != "miniprogram" && a["appid"] != appid.as_str() && a["verified"] == true
            })
        })
        .and_then(|a| a["appid"].as_str())
        .map(str::to_string)
        .expect("a second official account");
    {
        let (_, aat2, _) = env.authorize(&other).await;
        let foreign = upload(&env, &aat2, PNG).await["media_id"]
            .as_str()
            .expect("media_id")
            .to_string();
        let send = format!("/cgi-bin/message/custom/send?access_token={aat}");
        assert_eq!(
            errcode(&env.post(&send, card(&quiet, &foreign)).await),
            40007
        );
    }
    // 71 hours on: still live (the user writes again so the 48-hour window is open).
    env.advance_with_ticket(71.0 * 3600.0).await;
    let (_, aat, _) = env.authorize(&appid).await;
    let write = json!({"authorizer_appid": appid, "openid": quiet, "content": "还在"});
    assert_eq!(env.post("/__sim/message", write.clone()).await["ok"], true);
    let send = format!("/cgi-bin/message/custom/send?access_token={aat}");
    assert_eq!(errcode(&env.post(&send, card(&quiet, &id)).await), 0);
    // Past 72 hours: gone.
    env.advance(3601.0).await;
    assert_eq!(env.post("/__sim/message", write).await["ok"], true);
    let v = env.post(&send, card(&quiet, &id)).await;
    assert_eq!(errcode(&v), 40007, "{v}");
    assert!(
        v["errmsg"]
            .as_str()
            .is_some_and(|m| m.starts_with("invalid media_id"))
    );
}

#[tokio::test]
async fn bad_uploads_get_wechats_errcodes() {
    let env = Env::new(SimConfig::default()).await;
    let (_, aat, _) = setup(&env).await;
    let mp = "multipart/form-data; boundary=b0undary";
    let body = |d: &[u8]| multipart("b0undary", "media", Some("c.png"), d);
    // Token first.
    assert_eq!(errcode(&upload(&env, "bogus", PNG).await), 40001);
    // Only images.
    assert_eq!(
        errcode(&upload_raw(&env, &aat, "voice", mp, body(PNG)).await),
        40004
    );
    assert_eq!(
        errcode(&upload_raw(&env, &aat, "", mp, body(PNG)).await),
        40004
    );
    // No media file part: not multipart, another field name, or no filename.
    assert_eq!(
        errcode(&upload_raw(&env, &aat, "image", "application/json", b"{}".to_vec()).await),
        41005
    );
    assert_eq!(
        errcode(
            &upload_raw(
                &env,
                &aat,
                "image",
                mp,
                multipart("b0undary", "file", Some("c.png"), PNG)
            )
            .await
        ),
        41005
    );
    assert_eq!(
        errcode(
            &upload_raw(
                &env,
                &aat,
                "image",
                mp,
                multipart("b0undary", "media", None, PNG)
            )
            .await
        ),
        41005
    );
    // Not an image by its bytes, whatever it is called.
    assert_eq!(
        errcode(&upload(&env, &aat, b"hello, not a png").await),
        40005
    );
    // Empty, or over 10 MB.
    assert_eq!(errcode(&upload(&env, &aat, b"").await), 40006);
    let mut big = b"\xFF\xD8\xFF".to_vec();
    big.resize(10 * 1024 * 1024 + 1, 0);
    assert_eq!(errcode(&upload(&env, &aat, &big).await), 40006);
    big.truncate(10 * 1024 * 1024);
    assert_eq!(errcode(&upload(&env, &aat, &big).await), 0);
    assert_eq!(env.state().await["media"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn the_thumb_check_can_be_turned_off() {
    let env = Env::new(SimConfig {
        cs_check_thumb_media: false,
        ..SimConfig::default()
    })
    .await;
    let (_, aat, quiet) = setup(&env).await;
    let send = format!("/cgi-bin/message/custom/send?access_token={aat}");
    assert_eq!(errcode(&env.post(&send, card(&quiet, "anything")).await), 0);
}
