//! `media upload`: a card's cover uploaded through the real binary to wxdesk-sim (with the relay
//! on loopback); the media id it prints is the one the sim stored, with the bytes as sent; a
//! file WeChat would refuse exits 1 with one line and uploads nothing.
#![allow(clippy::unwrap_used)]

mod support;

use support::{World, assert_one_line_failure, require_keychain};
use wxdesk_sim::SimConfig;

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\r\n\xFFcli-cover";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the OS keychain: WXDESK_TEST_KEYCHAIN=1 scripts/with-keyring.sh cargo test -p wxdesk-cli --test media -- --include-ignored"]
async fn media_upload_prints_the_cover_media_id_the_sim_stored() {
    require_keychain();
    let w = World::start(SimConfig {
        followers: 20,
        ..SimConfig::default()
    })
    .await;
    let oa = w.set_up_and_authorize().await;
    let file = w.data_dir().join("cover.png");
    std::fs::write(&file, PNG).unwrap();
    let path = file.display().to_string();

    let r = w.cli(&["--json", "media", "upload", &oa, &path]).await.ok();
    let cover = r.json();
    let id = cover["media_id"].as_str().unwrap().to_string();
    assert_eq!(cover["file_name"], "cover.png");
    assert_eq!(cover["size"], PNG.len());
    assert_eq!(
        cover["expires_at"].as_i64().unwrap() - cover["created_at"].as_i64().unwrap(),
        3 * 24 * 3600
    );
    let st = w.sim_state().await;
    let stored = &st["media"][0];
    assert_eq!(stored["media_id"], id.as_str());
    assert_eq!(
        stored["fnv64"],
        format!("{:016x}", wxdesk_sim::api::media::fnv64(PNG))
    );

    // Plain output names the id and the 3-day expiry.
    let r = w.cli(&["media", "upload", &oa, &path]).await.ok();
    assert!(r.stdout.contains("media_id") && r.stdout.contains("3 天"));

    // Not an image: exit 2, one line, nothing uploaded.
    let text = w.data_dir().join("notes.png");
    std::fs::write(&text, b"just text").unwrap();
    let r = w
        .cli(&["media", "upload", &oa, &text.display().to_string()])
        .await;
    assert_one_line_failure(&r);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("JPG"), "{r:?}");
    assert_eq!(w.sim_state().await["media"].as_array().unwrap().len(), 2);
}
