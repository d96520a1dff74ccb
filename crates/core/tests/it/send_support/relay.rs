//! The real wxdesk-relay on loopback in front of the sim, for sends through its egress route.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::HashMap;

use wxdesk_relay::{RelayConfig, RelayHandle};

/// The relay's API key in these tests.
pub const RELAY_KEY: &str = "the-relay-key-of-this-desk-0123";

pub struct TestRelay {
    pub relay: RelayHandle,
    _dir: tempfile::TempDir,
}

impl TestRelay {
    /// A relay whose egress forwards to `upstream` (the sim).
    pub async fn start(upstream: &str) -> TestRelay {
        TestRelay::start_with(upstream, &[]).await
    }

    /// [`TestRelay::start`] with more settings (`WXDESK_RELAY_DATABASE_URL` and the keys team
    /// mode needs make it a team server).
    pub async fn start_with(upstream: &str, more: &[(&'static str, String)]) -> TestRelay {
        let dir = tempfile::tempdir().unwrap();
        let mut env: HashMap<&str, String> = HashMap::from([
            ("WXDESK_RELAY_LISTEN", "127.0.0.1:0".to_string()),
            ("WXDESK_RELAY_DATA_DIR", dir.path().display().to_string()),
            (
                "WXDESK_RELAY_COMPONENT_APPID",
                wxdesk_sim::SANDBOX_COMPONENT_APPID.to_string(),
            ),
            (
                "WXDESK_RELAY_COMPONENT_TOKEN",
                wxdesk_sim::SANDBOX_COMPONENT_TOKEN.to_string(),
            ),
            (
                "WXDESK_RELAY_COMPONENT_AES_KEY",
                wxdesk_sim::SANDBOX_COMPONENT_AES_KEY.to_string(),
            ),
            ("WXDESK_RELAY_API_KEY", RELAY_KEY.to_string()),
            (
                "WXDESK_RELAY_PUBLIC_BASE_URL",
                "http://127.0.0.1:9".to_string(),
            ),
            ("WXDESK_RELAY_UPSTREAM", upstream.to_string()),
            ("WXDESK_RELAY_LOGIN_BASE", upstream.to_string()),
        ]);
        env.extend(more.iter().cloned());
        let cfg = RelayConfig::load_with_env(None, |k| env.get(k).cloned()).unwrap();
        let relay = wxdesk_relay::start(cfg).await.unwrap();
        TestRelay { relay, _dir: dir }
    }

    /// The egress base the send engine posts to.
    pub fn egress(&self) -> String {
        format!("{}/api/v1/wechat", self.relay.base_url)
    }
}
