//! `wxdesk-cli code …` through the real binary, against wxdesk-sim and wxdesk-relay on loopback:
//! the template library; one mini program through commit → audit → release → rollback with the
//! audit push seen through the relay; the refusals as one line with errcode and hint; and
//! `code rollout` from a CSV — exit 3 when a client is rejected (its reason in the result),
//! exit 0 when every client is released, each exactly once per the simulator.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::{World, assert_one_line_failure, require_keychain};
use wxdesk_sim::SimConfig;

/// The sim's mini programs (kind `miniprogram`).
async fn minis(w: &World) -> Vec<String> {
    w.sim_state().await["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "miniprogram")
        .map(|a| a["appid"].as_str().unwrap().to_string())
        .collect()
}

/// `auth link --type mini`, approved in the sim for `appid`.
async fn approve_mini(w: &World, appid: &str) {
    let link = w
        .cli(&["--json", "auth", "link", "--type", "mini"])
        .await
        .ok()
        .json();
    w.approve_in_browser(
        link["launch_url"].as_str().unwrap(),
        link["pre_auth_code"].as_str().unwrap(),
        appid,
    )
    .await;
}

/// The platform set up and `n` mini programs authorized (approved in the sim, then applied by
/// `auth wait` and `accounts list` from the relay); returns them.
async fn world_with_minis(cfg: SimConfig, n: usize) -> (World, Vec<String>) {
    let w = World::start(SimConfig {
        followers: 10,
        ..cfg
    })
    .await;
    w.platform_set().await;
    let all = minis(&w).await;
    assert!(all.len() >= n, "{all:?}");
    let wanted = all[..n].to_vec();
    for m in &wanted {
        approve_mini(&w, m).await;
    }
    w.cli(&["auth", "wait", "--timeout", "60"]).await.ok();
    for _ in 0..100 {
        let list = w.cli(&["--json", "accounts", "list"]).await.ok().json();
        let have = |a: &String| {
            list.as_array()
                .unwrap()
                .iter()
                .any(|x| x["appid"] == a.as_str() && x["status"] == "authorized")
        };
        if wanted.iter().all(have) {
            return (w, wanted);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the mini programs were never all authorized");
}

fn sim_code(state: &Value, appid: &str) -> Value {
    state["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["appid"] == appid)
        .unwrap()["code"]
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the OS keychain: WXDESK_TEST_KEYCHAIN=1 scripts/with-keyring.sh cargo test -p wxdesk-cli --test code -- --include-ignored"]
async fn one_mini_program_through_commit_audit_release_and_rollback() {
    require_keychain();
    let (w, m) = world_with_minis(SimConfig::default(), 1).await;
    let mini = m[0].as_str();

    let lib = w.cli(&["--json", "code", "templates"]).await.ok().json();
    assert_eq!(lib["drafts"].as_array().unwrap().len(), 3);
    assert_eq!(lib["templates"][0]["template_id"], 1);
    let text = w.cli(&["code", "templates"]).await.ok();
    assert!(text.stdout.contains("模板库（2 个）"), "{}", text.stdout);

    // Domains before the first release: what the platform registered takes, the rest is
    // listed as not in effect; a change without domains (or a read with some) is a usage error.
    let d = w
        .cli(&[
            "--json",
            "code",
            "domains",
            mini,
            "--action",
            "add",
            "--request",
            "https://api.wxdesk-demo.com",
            "--request",
            "https://evil.example.com",
        ])
        .await
        .ok()
        .json();
    assert_eq!(
        d["domains"]["requestdomain"],
        json!(["https://api.wxdesk-demo.com"]),
        "{d}"
    );
    assert_eq!(d["invalid"], json!(["https://evil.example.com"]), "{d}");
    let shown = w.cli(&["code", "domains", mini]).await.ok();
    assert!(
        shown.stdout.contains("https://api.wxdesk-demo.com")
            && !shown.stdout.contains("evil.example.com"),
        "{}",
        shown.stdout
    );
    let r = w.cli(&["code", "domains", mini, "--action", "set"]).await;
    assert_eq!(r.code, 2, "{r:?}");
    let r = w
        .cli(&[
            "code",
            "domains",
            mini,
            "--request",
            "https://api.wxdesk-demo.com",
        ])
        .await;
    assert_eq!(r.code, 2, "{r:?}");
    let web = w
        .cli(&["--json", "code", "webview-domains", mini, "--from-platform"])
        .await
        .ok()
        .json();
    assert_eq!(
        web["webviewdomain"].as_array().map(Vec::len),
        Some(2),
        "{web}"
    );
    let web = w
        .cli(&["--json", "code", "webview-domains", mini])
        .await
        .ok()
        .json();
    assert_eq!(
        web["webviewdomain"].as_array().map(Vec::len),
        Some(2),
        "{web}"
    );

    let ext = w.dir.path().join("shop.json");
    std::fs::write(&ext, r#"{"ext": {"shop": "一号店"}}"#).unwrap();
    let ext_s = ext.to_str().unwrap();
    let args = |v: &'static str| {
        vec![
            "code",
            "commit",
            mini,
            "--template",
            "1",
            "--version",
            v,
            "--ext-json",
            ext_s,
            "--desc",
            "首版",
        ]
    };
    w.cli(&args("1.0.0")).await.ok();
    let audit = w.cli(&["--json", "code", "audit", mini]).await.ok().json();
    assert!(audit["auditid"].as_i64().unwrap() > 0);

    // `code status` catches up with the relay, so the audit push shows once the sim sent it.
    let mut status = Value::Null;
    for _ in 0..100 {
        status = w.cli(&["--json", "code", "status", mini]).await.ok().json();
        if status["status"]["last_push"]["event"] == "success" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        status["status"]["last_push"]["event"], "success",
        "{status}"
    );
    assert_eq!(status["status"]["latest_audit"]["state"], "approved");

    w.cli(&["code", "release", mini]).await.ok();
    let again = w.cli(&["code", "release", mini]).await;
    assert_one_line_failure(&again);
    assert_eq!(again.code, 1);
    assert!(
        again.stderr.contains("85052") && again.stderr.contains("提示："),
        "{}",
        again.stderr
    );

    w.cli(&args("1.1.0")).await.ok();
    w.cli(&["code", "audit", mini]).await.ok();
    for _ in 0..100 {
        let s = w.cli(&["--json", "code", "status", mini]).await.ok().json();
        if s["status"]["latest_audit"]["state"] == "approved" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    w.cli(&["code", "release", mini]).await.ok();
    let back = w
        .cli(&["--json", "code", "rollback", mini])
        .await
        .ok()
        .json();
    assert_eq!(back["online"], "1.0.0");
    let human = w.cli(&["code", "status", mini]).await.ok();
    assert!(human.stdout.contains("线上版    1.0.0"), "{}", human.stdout);
    let state = w.sim_state().await;
    assert_eq!(
        sim_code(&state, mini)["releases"],
        json!({"1.0.0": 1, "1.1.0": 1})
    );
    assert_eq!(sim_code(&state, mini)["reverts"], 1);

    // Refusals: bad ext.json before WeChat, and WeChat's own with errcode and hint.
    std::fs::write(&ext, "{\"ext\": ").unwrap();
    let bad = w.cli(&args("1.2.0")).await;
    assert_one_line_failure(&bad);
    assert!(bad.stderr.contains("ext.json"), "{}", bad.stderr);
    let none = w.cli(&["--json", "code", "rollback", mini]).await;
    assert_eq!(none.code, 1);
    assert_eq!(none.json()["error"]["errcode"], 87012);
    let q = w.cli(&["--json", "code", "quota"]).await.ok().json();
    assert_eq!(q["limit"], 100);
    let qr = w.dir.path().join("trial.jpg");
    w.cli(&["code", "qrcode", mini, "--out", qr.to_str().unwrap()])
        .await
        .ok();
    assert_eq!(&std::fs::read(&qr).unwrap()[..2], &[0xFF, 0xD8]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the OS keychain: WXDESK_TEST_KEYCHAIN=1 scripts/with-keyring.sh cargo test -p wxdesk-cli --test code -- --include-ignored"]
async fn a_rollout_from_a_csv_exits_3_on_a_rejection_and_0_when_every_client_is_released() {
    require_keychain();
    // 10 accounts: four mini programs.
    let (w, m) = world_with_minis(
        SimConfig {
            accounts: 10,
            ..SimConfig::default()
        },
        4,
    )
    .await;
    let csv = w.dir.path().join("clients.csv");
    std::fs::write(
        &csv,
        format!(
            "appid,shop,/sim_audit\n{},一号店,\n{},二号店,fail\n",
            m[0], m[1]
        ),
    )
    .unwrap();
    let run = w
        .cli(&[
            "--json",
            "code",
            "rollout",
            "--template",
            "1",
            "--version",
            "2.0.0",
            "--csv",
            csv.to_str().unwrap(),
            "--desc",
            "批量",
        ])
        .await;
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stderr.contains("审核被拒"), "{}", run.stderr);
    let created = run.event("created");
    let id = created["rollout_id"].as_i64().unwrap();
    let done = run.event("done");
    assert_eq!(done["rollout"]["status"], "completed");
    let rows = done["rows"].as_array().unwrap();
    let row = |a: &str| rows.iter().find(|r| r["appid"] == a).unwrap().clone();
    assert_eq!(row(&m[0])["state"], "released");
    assert_eq!(row(&m[1])["state"], "audit_failed");
    assert!(
        row(&m[1])["reason"]
            .as_str()
            .unwrap()
            .contains("账号信息不符合规范")
    );

    let shown = w.cli(&["code", "rollouts", &id.to_string()]).await.ok();
    assert!(
        shown.stdout.contains("审核被拒") && shown.stdout.contains("已发布"),
        "{}",
        shown.stdout
    );

    // Every client clean: exit 0, each released once.
    std::fs::write(
        &csv,
        format!("appid,shop\n{},三号店\n{},四号店\n", m[2], m[3]),
    )
    .unwrap();
    let ok = w
        .cli(&[
            "--json",
            "code",
            "rollout",
            "--template",
            "2",
            "--version",
            "2.1.0",
            "--csv",
            csv.to_str().unwrap(),
        ])
        .await
        .ok();
    let done = ok.event("done");
    assert_eq!(done["rollout"]["counts"]["done"], 2);
    assert_eq!(done["versions"]["groups"][0]["version"], "2.1.0");
    let state = w.sim_state().await;
    for a in &m[2..] {
        assert_eq!(sim_code(&state, a)["releases"], json!({"2.1.0": 1}), "{a}");
        assert_eq!(
            sim_code(&state, a)["committed"]["ext"]["extAppid"],
            a.as_str()
        );
    }
    let list = w.cli(&["--json", "code", "rollouts"]).await.ok().json();
    assert_eq!(list.as_array().unwrap().len(), 2);
    // A rollout that is over cannot be resumed.
    let again = w
        .cli(&["code", "rollout", "--resume", &id.to_string()])
        .await;
    assert_one_line_failure(&again);
    assert!(again.stderr.contains("已结束"), "{}", again.stderr);
}
