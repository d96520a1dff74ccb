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

/// `send subscribe`: the user who accepted gets the notice, the one who did not is refused
/// before sending (exit 5, errcode 43101, nothing sent to them); `send uniform` reaches the sim
/// and comes back as 45109 naming `send template --mini`; a malformed `--mini` is refused
/// before anything is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the OS keychain: WXDESK_TEST_KEYCHAIN=1 scripts/with-keyring.sh cargo test -p wxdesk-cli --test messaging -- --include-ignored"]
async fn send_subscribe_refuses_the_unsubscribed_and_send_uniform_names_the_replacement() {
    require_keychain();
    let w = World::start(cfg()).await;
    let oa = w.set_up_and_authorize().await;
    let list = w
        .cli(&["--json", "templates", "subscribe", "list", &oa])
        .await
        .ok()
        .json();
    let t = list
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["kind"] == "one_time")
        .unwrap()
        .clone();
    let id = t["template_id"].as_str().unwrap().to_string();
    let acct = sim_get(&w, &format!("/__sim/accounts/{oa}")).await;
    let seeded = acct["subscribe_templates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["priTmplId"] == id.as_str())
        .unwrap()
        .clone();
    let data: Vec<String> = seeded["keys"]
        .as_array()
        .unwrap()
        .iter()
        .zip(seeded["examples"].as_array().unwrap())
        .map(|(k, v)| format!("{}={}", k.as_str().unwrap(), v.as_str().unwrap()))
        .collect();
    let openid = |i: u32| {
        let w = &w;
        let oa = oa.clone();
        async move {
            sim_get(w, &format!("/__sim/openid?appid={oa}&index={i}")).await["openid"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    let (a, b) = (openid(6).await, openid(7).await);
    sim_post(
        &w,
        "/__sim/subscribe",
        json!({"authorizer_appid": oa, "openid": a, "template_id": id}),
    )
    .await;
    let csv = w.dir.path().join("notice.csv");
    std::fs::write(&csv, format!("openid\n{a}\n{b}\n")).unwrap();
    let mini = w.sim_state().await["accounts"][1]["appid"]
        .as_str()
        .unwrap()
        .to_string();
    let mut args: Vec<String> = [
        "--json",
        "send",
        "subscribe",
        "--account",
        &oa,
        "--template",
        &id,
        "--csv",
        csv.to_str().unwrap(),
        "--mini",
        &format!("{mini}:pages/order/list"),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for d in &data {
        args.push("--data".into());
        args.push(d.clone());
    }
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = w.cli(&argv).await;
    assert_eq!(r.code, 5, "{r:?}");
    let refused = r.event("refused");
    assert_eq!(refused["errcode"], 43101);
    assert_eq!(refused["openids"], json!([b]));
    let done = r.event("done");
    assert_eq!(done["job"]["counts"]["sent"], 1);
    assert_eq!(done["job"]["kind"], "subscribe");
    assert_eq!(r.json()["error"]["errcode"], 43101);
    assert!(
        r.stderr.contains(&b) && r.stderr.contains("43101"),
        "{}",
        r.stderr
    );
    let state = w.sim_state().await;
    assert_eq!(state["sends"]["bizsend_accepted"], 1);
    assert_eq!(state["jumps"][0]["openid"], a.as_str());

    // Now nobody can receive it: exit 5 and no job.
    let jobs = w.cli(&["--json", "jobs", "list"]).await.ok().json();
    let r = w.cli(&argv).await;
    assert_eq!(r.code, 5, "{r:?}");
    assert_eq!(
        w.cli(&["--json", "jobs", "list"])
            .await
            .ok()
            .json()
            .as_array()
            .unwrap()
            .len(),
        jobs.as_array().unwrap().len()
    );

    // A malformed jump never starts a job (exit 2).
    let r = w
        .cli(&[
            "send",
            "template",
            "--account",
            &oa,
            "--template",
            "T",
            "--to",
            &a,
            "--mini",
            "wxshort:pages/index/index",
        ])
        .await;
    assert_eq!(r.code, 2, "{r:?}");

    // uniform_send: documented as withdrawn, attempted, 45109 with the replacement.
    let help = w.cli(&["send", "uniform", "--help"]).await.ok();
    assert!(
        help.stdout.contains("45109") && help.stdout.contains("--mini"),
        "{}",
        help.stdout
    );
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
    let mut r = w
        .cli(&[
            "--json",
            "send",
            "uniform",
            "--account",
            &mini,
            "--mp-appid",
            &oa,
            "--template",
            &"T".repeat(43),
            "--to",
            &a,
            "--data",
            "keyword1=已发货",
            "--mini",
            &format!("{mini}:pages/order/list"),
        ])
        .await;
    for _ in 0..50 {
        if !r.stderr.contains("不存在") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        r = w
            .cli(&[
                "--json",
                "send",
                "uniform",
                "--account",
                &mini,
                "--mp-appid",
                &oa,
                "--template",
                &"T".repeat(43),
                "--to",
                &a,
                "--data",
                "keyword1=已发货",
                "--mini",
                &format!("{mini}:pages/order/list"),
            ])
            .await;
    }
    assert_one_line_failure(&r);
    assert!(r.stderr.contains("45109"), "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!("send template --account {oa}"))
            && r.stderr
                .contains(&format!("--mini {mini}:pages/order/list")),
        "{}",
        r.stderr
    );
}
