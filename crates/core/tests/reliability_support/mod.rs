//! Helpers shared by the reliability tests that run against the sandbox.
#![allow(dead_code, clippy::unwrap_used)]

use serde_json::Value;
use wxdesk_core::send::Payload;

use crate::support::World;

async fn get(http: &reqwest::Client, url: &str) -> Value {
    http.get(url).send().await.unwrap().json().await.unwrap()
}

/// A template of the account without const/enum keywords, filled from its example, and `n`
/// followers — read with the account's own token from the sim (not through the workspace).
pub async fn template_and_followers(w: &World, appid: &str, n: usize) -> (Payload, Vec<String>) {
    let sim = &w.sandbox.sim_url;
    let acct = get(&w.http, &format!("{sim}/__sim/accounts/{appid}")).await;
    let secret = acct["appsecret"].as_str().unwrap();
    let tok = get(
        &w.http,
        &format!("{sim}/cgi-bin/token?grant_type=client_credential&appid={appid}&secret={secret}"),
    )
    .await;
    let token = tok["access_token"].as_str().unwrap();
    let list = get(
        &w.http,
        &format!("{sim}/cgi-bin/template/get_all_private_template?access_token={token}"),
    )
    .await;
    let t = list["template_list"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| {
            let c = t["content"].as_str().unwrap_or_default();
            !c.contains("const") && !c.contains("enum") && c.contains("{{")
        })
        .unwrap();
    let fields = wxdesk_core::templates::keywords::parse_content(t["content"].as_str().unwrap());
    let data = fields
        .iter()
        .zip(t["example"].as_str().unwrap_or_default().lines())
        .map(|(f, l)| {
            (
                f.key.clone(),
                l.split_once('：').map_or(l, |(_, v)| v).to_string(),
            )
        })
        .collect();
    let users = get(
        &w.http,
        &format!("{sim}/cgi-bin/user/get?access_token={token}&next_openid="),
    )
    .await;
    let openids: Vec<String> = users["data"]["openid"]
        .as_array()
        .unwrap()
        .iter()
        .take(n)
        .map(|o| o.as_str().unwrap().to_string())
        .collect();
    assert_eq!(openids.len(), n);
    (
        Payload::Template {
            template_id: t["template_id"].as_str().unwrap().to_string(),
            data,
            url: None,
            miniprogram: None,
        },
        openids,
    )
}
