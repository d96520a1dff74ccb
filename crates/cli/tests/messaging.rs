//! `templates subscribe …`, `quota …`, `mini session` and `lists create --bridge` through the
//! real binary against wxdesk-sim and wxdesk-relay on loopback.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::{World, assert_one_line_failure, require_keychain};
use wxdesk_sim::SimConfig;

fn cfg() -> SimConfig {
    SimConfig {
        followers: 40,
        ..SimConfig::default()
    }
}

async fn sim_post(w: &World, path: &str, body: Value) -> Value {
    w.http
        .post(format!("{}{path}", w.sim.base_url))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn sim_get(w: &World, path: &str) -> Value {
    w.http
        .get(format!("{}{path}", w.sim.base_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the OS keychain: WXDESK_TEST_KEYCHAIN=1 scripts/with-keyring.sh cargo test -p wxdesk-cli --test messaging -- --include-ignored"]
async fn subscription_templates_are_managed_and_their_receivers_come_through_the_relay() {
    require_keychain();
    let w = World::start(cfg()).await;
    let oa = w.set_up_and_authorize().await;

    let list = w
        .cli(&["--json", "templates", "subscribe", "list", &oa])
        .await
        .ok()
        .json();
    assert_eq!(list.as_array().unwrap().len(), 3, "{list}");
    let first = &list[0];
    assert!(first["template_id"].as_str().unwrap().len() == 43);
    assert!(first["content"].as_str().unwrap().contains("{{"), "{first}");
    let text = w.cli(&["templates", "subscribe", "list", &oa]).await.ok();
    assert!(
        text.stdout.contains("{{character_string1.DATA}}"),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("长期订阅"), "{}", text.stdout);

    let lib = w
        .cli(&[
            "--json",
            "templates",
            "subscribe",
            "library",
            &oa,
            "--category",
            "307",
        ])
        .await
        .ok()
        .json();
    assert_eq!(lib["count"], 2);
    let kws = w
        .cli(&["--json", "templates", "subscribe", "keywords", &oa, "502"])
        .await
        .ok()
        .json();
    assert_eq!(kws[3]["key"], "time4");
    let added = w
        .cli(&[
            "--json",
            "templates",
            "subscribe",
            "add",
            &oa,
            "--tid",
            "502",
            "--kids",
            "4,1",
            "--scene",
            "到站取件",
        ])
        .await
        .ok()
        .json();
    let id = added["template_id"].as_str().unwrap().to_string();
    assert_eq!(
        added["content"],
        "到站时间:{{time4.DATA}}\n取件码:{{character_string1.DATA}}\n"
    );
    // Refused before WeChat is asked: one keyword only.
    let r = w
        .cli(&[
            "templates",
            "subscribe",
            "add",
            &oa,
            "--tid",
            "502",
            "--kids",
            "4",
            "--scene",
            "x",
        ])
        .await;
    assert_one_line_failure(&r);
    assert!(r.stderr.contains("2–5"), "{}", r.stderr);

    // A user accepts in the popup: the sim pushes it through the relay, the CLI catches up.
    let fan = sim_get(&w, &format!("/__sim/openid?appid={oa}&index=3")).await["openid"]
        .as_str()
        .unwrap()
        .to_string();
    let ok = sim_post(
        &w,
        "/__sim/subscribe",
        json!({"authorizer_appid": oa, "openid": fan, "template_id": id}),
    )
    .await;
    assert_eq!(ok["ok"], true);
    let mut seen = Value::Null;
    for _ in 0..100 {
        seen = w
            .cli(&["--json", "templates", "subscribe", "receivers", &oa, &id])
            .await
            .ok()
            .json();
        if seen["total"] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(seen["receivers"][0]["openid"], fan.as_str(), "{seen}");
    assert_eq!(seen["receivers"][0]["remaining"], 1);

    let del = w
        .cli(&["--json", "templates", "subscribe", "delete", &oa, &id])
        .await
        .ok()
        .json();
    assert_eq!(del["deleted"], id.as_str());
    let r = w.cli(&["templates", "subscribe", "delete", &oa, &id]).await;
    assert_one_line_failure(&r);
    assert!(r.stderr.contains("20002"), "{}", r.stderr);

    // Quota tools on the same account.
    let q = w.cli(&["--json", "quota", "get", &oa]).await.ok().json();
    assert_eq!(q["cgi_path"], "/cgi-bin/message/template/send");
    assert_eq!(q["quota"]["daily_limit"], 100_000);
    let q = w
        .cli(&[
            "--json",
            "quota",
            "get",
            &oa,
            "--api",
            "/cgi-bin/message/custom/send",
        ])
        .await
        .ok()
        .json();
    assert_eq!(q["quota"]["daily_limit"], 500_000);
    // Not on a terminal and no --yes: refused without clearing (exit 2).
    let r = w.cli(&["quota", "clear", &oa]).await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("--yes") && r.stderr.contains("10"),
        "{}",
        r.stderr
    );
    let c = w
        .cli(&["--json", "quota", "clear", &oa, "--yes"])
        .await
        .ok()
        .json();
    assert_eq!(c["monthly_limit"], 10);
    assert_eq!(c["component"], false);
    for _ in 1..10 {
        w.cli(&["quota", "clear", &oa, "--yes"]).await.ok();
    }
    let r = w.cli(&["--json", "quota", "clear", &oa, "--yes"]).await;
    assert_one_line_failure(&r);
    assert!(
        r.stderr.contains("48006") && r.stderr.contains("每月最多清零 10 次"),
        "{}",
        r.stderr
    );
    assert_eq!(r.json()["error"]["errcode"], 48006);
    let c = w
        .cli(&["--json", "quota", "clear", "--component", "--yes"])
        .await
        .ok()
        .json();
    assert_eq!(c["component"], true);
    let r = w
        .cli(&["quota", "clear", &oa, "--component", "--yes"])
        .await;
    assert_eq!(r.code, 2, "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the OS keychain: WXDESK_TEST_KEYCHAIN=1 scripts/with-keyring.sh cargo test -p wxdesk-cli --test messaging -- --include-ignored"]
async fn mini_session_prints_openid_and_unionid_and_the_bridge_makes_a_list_of_followers() {
    require_keychain();
    let w = World::start(cfg()).await;
    let oa = w.set_up_and_authorize().await;
    // The mini program of the same principal (sim account 1).
    let mini = w.sim_state().await["accounts"][1]["appid"]
        .as_str()
        .unwrap()
        .to_string();
    let link = w
        .cli(&["--json", "auth", "link", "--type", "mini"])
        .await
        .ok()
        .json();
    w.approve_in_browser(
        link["launch_url"].as_str().unwrap(),
        link["pre_auth_code"].as_str().unwrap(),
        &mini,
    )
    .await;
    w.cli(&["auth", "wait", "--timeout", "60"]).await.ok();
    for _ in 0..100 {
        let list = w.cli(&["--json", "accounts", "list"]).await.ok().json();
        if list
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["appid"] == mini.as_str() && a["status"] == "authorized")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let r = w
        .cli(&["--json", "mini", "session", &mini, "--code", "js-code-1"])
        .await
        .ok();
    let s = r.json();
    assert!(s["openid"].as_str().unwrap().starts_with('o'));
    assert!(s["unionid"].is_string(), "{s}");
    assert!(!r.stdout.contains("session_key"), "{}", r.stdout);
    let text = w
        .cli(&["mini", "session", &mini, "--code", "js-code-2"])
        .await
        .ok();
    assert!(text.stdout.contains("unionid"), "{}", text.stdout);
    assert!(
        !text.stdout.to_lowercase().contains("session"),
        "{}",
        text.stdout
    );
    let r = w
        .cli(&["mini", "session", &mini, "--code", "js-code-1"])
        .await;
    assert_one_line_failure(&r);
    assert!(r.stderr.contains("40163"), "{}", r.stderr);

    // The bridge: mini-program users (openid + unionid) → the account's followers.
    w.cli(&["followers", "sync", &oa]).await.ok();
    let mut rows = String::from("openid,unionid,会员等级\n");
    for i in [2u32, 5, 7] {
        let u = sim_get(&w, &format!("/__sim/openid?appid={mini}&index={i}")).await;
        rows.push_str(&format!(
            "{},{},金卡\n",
            u["openid"].as_str().unwrap(),
            u["unionid"].as_str().unwrap()
        ));
    }
    rows.push_str("oNoUnionid0000000000000000000,,银卡\n");
    let file = w.dir.path().join("mini-users.csv");
    std::fs::write(&file, rows).unwrap();
    let made = w
        .cli(&[
            "--json",
            "lists",
            "create",
            "小程序会员",
            "--account",
            &oa,
            "--bridge",
            file.to_str().unwrap(),
        ])
        .await
        .ok()
        .json();
    assert_eq!(made["list"]["member_count"], 3, "{made}");
    assert_eq!(made["bridge"]["matched"], 3);
    assert_eq!(made["bridge"]["no_unionid"], 1);
    let shown = w
        .cli(&["--json", "lists", "show", "小程序会员"])
        .await
        .ok()
        .json();
    let expected =
        sim_get(&w, &format!("/__sim/openid?appid={oa}&index=2")).await["openid"].clone();
    assert!(
        shown["members"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["openid"] == expected),
        "{shown}"
    );
}
