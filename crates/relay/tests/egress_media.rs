//! A card cover uploaded through the relay's egress: the real relay binary forwards the
//! multipart body byte for byte with its Content-Type (boundary included) to wxdesk-sim, which
//! finds the `media` part and stores exactly the bytes the desk sent. The upload route takes an
//! image up to WeChat's 10 MB limit while every other egress path keeps its 2 MB limit.

mod common;

use common::*;
use serde_json::Value;
use wxdesk_sim::SimConfig;
use wxdesk_wechat::api::{Client, ClientConfig};
use wxdesk_wechat::secret::Secret;

/// A PNG signature followed by bytes a text or UTF-8 round trip would change, `len` long.
fn image(len: usize) -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut x: u32 = 7;
    while v.len() < len {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        v.push((x >> 16) as u8);
    }
    v
}

#[tokio::test]
async fn a_multipart_upload_reaches_wechat_unchanged_through_the_relay() {
    let sim = wxdesk_sim::start(SimConfig::default())
        .await
        .expect("sim starts");
    let dir = tempfile::tempdir().expect("tempdir");
    let relay = Relay::spawn(dir.path(), &[("WXDESK_RELAY_UPSTREAM", &sim.base_url)]);
    let state = sim.state();
    let appid = state["accounts"][0]["appid"]
        .as_str()
        .expect("an account")
        .to_owned();
    let acct: Value = client()
        .get(format!("{}/__sim/accounts/{appid}", sim.base_url))
        .send()
        .await
        .expect("account")
        .json()
        .await
        .expect("json");
    let secret = Secret::new(acct["appsecret"].as_str().expect("appsecret"));
    let wx =
        Client::new(ClientConfig::via_relay(&relay.base, &Secret::new(API_KEY))).expect("client");
    let at = wx
        .client_credential_token(&appid, &secret)
        .await
        .expect("token through the relay")
        .access_token;

    // 3 MB: above the relay's general egress limit, far below WeChat's.
    let img = image(3 * 1024 * 1024 + 17);
    let m = wx
        .upload_image(&at, &img)
        .await
        .expect("uploaded through the relay");
    let st = sim.state();
    let stored = st["media"]
        .as_array()
        .and_then(|l| l.iter().find(|x| x["media_id"] == m.media_id.as_str()))
        .expect("the sim stored the upload");
    assert_eq!(stored["size"], img.len());
    assert_eq!(
        stored["fnv64"],
        format!("{:016x}", wxdesk_sim::api::media::fnv64(&img))
    );
    assert_eq!(stored["filename"], "cover.png");
    assert_eq!(stored["appid"], appid.as_str());
    // The sim saw the relay as the caller.
    assert!(st["callers"]["127.0.0.1"].as_u64().unwrap_or(0) >= 2);

    // The largest image WeChat takes passes too.
    let max = image(10 * 1024 * 1024);
    wx.upload_image(&at, &max)
        .await
        .expect("a 10 MB image through the relay");

    // Other paths keep the 2 MB limit.
    let big = client()
        .post(relay.url(&format!(
            "/api/v1/wechat/cgi-bin/message/custom/send?access_token={}",
            at.expose()
        )))
        .bearer_auth(API_KEY)
        .header("content-type", "application/json")
        .body(vec![b' '; 3 * 1024 * 1024])
        .send()
        .await
        .expect("request");
    assert_eq!(big.status().as_u16(), 413);
    sim.shutdown().await;
}
