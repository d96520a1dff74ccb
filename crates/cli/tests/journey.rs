//! The whole journey of issue #9 through the real binary, against wxdesk-sim and wxdesk-relay:
//! platform set → auth link → approve in the sim → auth wait → templates sync → followers sync →
//! lists create → send template to the list → history export; CSV variables; and a bulk send
//! killed with SIGKILL and resumed with `jobs resume`, delivered exactly once per the simulator.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use support::{World, assert_one_line_failure, require_keychain, send_template_args};
use wxdesk_core::auth::AuthScope;
use wxdesk_core::context::Context;
use wxdesk_sim::SimConfig;

const FOLLOWERS: u32 = 60;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the OS keychain: WXDESK_TEST_KEYCHAIN=1 scripts/with-keyring.sh cargo test -- --include-ignored"]
async fn the_whole_journey_from_platform_set_to_history_export() {
    require_keychain();
    let w = World::start(SimConfig {
        followers: FOLLOWERS,
        ..SimConfig::default()
    })
    .await;
    let appid = w.set_up_and_authorize().await;

    let accounts = w.cli(&["--json", "accounts", "list"]).await.ok().json();
    assert_eq!(accounts.as_array().unwrap().len(), 1);
    assert_eq!(accounts[0]["appid"], appid.as_str());

    let synced = w
        .cli(&["--json", "templates", "sync", &appid])
        .await
        .ok()
        .json();
    assert!(synced["total"].as_u64().unwrap() > 0, "{synced}");
    assert_eq!(synced["added"], synced["total"]);
    let (template, keys) = w.legacy_template(&appid).await;

    let sync = w
        .cli(&["--json", "followers", "sync", &appid])
        .await
        .ok()
        .json();
    assert_eq!(sync["event"], "done");
    assert_eq!(sync["report"]["outcome"], "completed");
    assert_eq!(sync["report"]["total"], FOLLOWERS);
    assert_eq!(sync["report"]["added"], FOLLOWERS);

    let list = w
        .cli(&[
            "--json",
            "lists",
            "create",
            "全部粉丝",
            "--account",
            &appid,
            "--all-followers",
        ])
        .await
        .ok()
        .json();
    assert_eq!(list["list"]["member_count"], FOLLOWERS);
    let shown = w
        .cli(&["--json", "lists", "show", "全部粉丝"])
        .await
        .ok()
        .json();
    assert_eq!(shown["list"]["name"], "全部粉丝");
    let member_openids: Vec<String> = shown["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["openid"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(member_openids.len(), 20);

    let args = send_template_args(
        &appid,
        &template,
        &["--list", "全部粉丝"],
        &keys,
        "发货通知",
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let sent = w.cli(&args).await.ok();
    let summary = sent.json();
    assert_eq!(summary["event"], "done");
    assert_eq!(summary["job"]["status"], "completed");
    assert_eq!(summary["job"]["counts"]["total"], FOLLOWERS);
    assert_eq!(summary["job"]["counts"]["sent"], FOLLOWERS);
    let job_id = summary["job"]["id"].as_i64().unwrap();
    let created: serde_json::Value =
        serde_json::from_str(sent.stdout.lines().next().unwrap()).unwrap();
    assert_eq!(created["event"], "created");
    assert_eq!(created["job_id"], job_id);

    let state = w.sim_state().await;
    assert_eq!(state["sends"]["accepted"], FOLLOWERS);
    assert_eq!(state["sends"]["distinct_recipients"], FOLLOWERS);
    assert_eq!(state["sends"]["max_per_recipient"], 1);

    let csv_path = w.dir.path().join("history.csv");
    let export = w
        .cli(&[
            "--json",
            "history",
            "export",
            "--csv",
            csv_path.to_str().unwrap(),
        ])
        .await
        .ok()
        .json();
    assert_eq!(export["rows"], FOLLOWERS);
    let text = std::fs::read_to_string(&csv_path).unwrap();
    let text = text.strip_prefix('\u{feff}').expect("UTF-8 BOM for Excel");
    let mut rows = csv::Reader::from_reader(text.as_bytes());
    let headers = rows.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (c_job, c_app, c_tid, c_openid, c_state) = (
        col("任务ID"),
        col("账号AppID"),
        col("模板ID"),
        col("OpenID"),
        col("状态"),
    );
    let records: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), FOLLOWERS as usize);
    for r in &records {
        assert_eq!(&r[c_job], job_id.to_string());
        assert_eq!(&r[c_app], appid.as_str());
        assert_eq!(&r[c_tid], template.as_str());
        assert_eq!(&r[c_state], "已发送");
    }
    for openid in &member_openids {
        assert!(
            records.iter().any(|r| &r[c_openid] == openid),
            "{openid} not exported"
        );
    }

    let history = w
        .cli(&[
            "--json", "history", "list", "--status", "sent", "--limit", "5",
        ])
        .await
        .ok()
        .json();
    assert_eq!(history.as_array().unwrap().len(), 5);
    let bad = w
        .cli(&["history", "list", "--status", "delivered-ish"])
        .await;
    assert_one_line_failure(&bad);
    assert_eq!(bad.code, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the OS keychain: WXDESK_TEST_KEYCHAIN=1 scripts/with-keyring.sh cargo test -- --include-ignored"]
async fn auth_wait_finds_an_authorization_another_command_already_applied() {
    require_keychain();
    let w = World::start(SimConfig {
        followers: 5,
        ..SimConfig::default()
    })
    .await;
    w.platform_set().await;
    let (appid, _) = w.link_and_approve().await;
    // `accounts list` follows the relay first and stores the account before `auth wait` runs.
    let mut listed = serde_json::Value::Null;
    for _ in 0..50 {
        listed = w.cli(&["--json", "accounts", "list"]).await.ok().json();
        if !listed.as_array().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(listed[0]["appid"], appid.as_str());
    let card = w
        .cli(&["--json", "auth", "wait", "--timeout", "20"])
        .await
        .ok()
        .json();
    assert_eq!(card["appid"], appid.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the OS keychain: WXDESK_TEST_KEYCHAIN=1 scripts/with-keyring.sh cargo test -- --include-ignored"]
async fn auth_wait_reports_its_own_link_when_another_account_was_authorized_after_it() {
    require_keychain();
    let w = World::start(SimConfig {
        followers: 5,
        ..SimConfig::default()
    })
    .await;
    w.platform_set().await;
    // Ours sorts after the other one: were `auth wait` to go by time, the other account
    // (authorized later, or in the same second and first by appid) would be reported.
    let state = w.sim_state().await;
    let mut appids: Vec<String> = state["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["appid"].as_str().unwrap().to_string())
        .collect();
    appids.sort();
    let (other, ours) = (appids[0].clone(), appids.last().unwrap().clone());

    let link = w
        .cli(&["--json", "auth", "link", "--type", "both"])
        .await
        .ok()
        .json();
    // Meanwhile the app, on the same data dir, authorizes another account.
    let app = Context::open(&w.data_dir()).await.unwrap();
    let theirs = app
        .authorizer
        .begin_authorization(AuthScope::Both, false, None)
        .await
        .unwrap();
    w.approve_in_browser(
        link["launch_url"].as_str().unwrap(),
        link["pre_auth_code"].as_str().unwrap(),
        &ours,
    )
    .await;
    w.approve_in_browser(&theirs.launch_url, &theirs.pre_auth_code, &other)
        .await;
    // Both are applied and stored by another command before `auth wait` runs.
    let mut listed = serde_json::Value::Null;
    for _ in 0..100 {
        listed = w.cli(&["--json", "accounts", "list"]).await.ok().json();
        if listed.as_array().unwrap().len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(listed.as_array().unwrap().len(), 2, "{listed}");
    let card = w
        .cli(&["--json", "auth", "wait", "--timeout", "20"])
        .await
        .ok()
        .json();
    assert_eq!(card["appid"], ours.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the OS keychain: WXDESK_TEST_KEYCHAIN=1 scripts/with-keyring.sh cargo test -- --include-ignored"]
async fn auth_wait_times_out_with_one_line_when_nobody_approves() {
    require_keychain();
    let w = World::start(SimConfig {
        followers: 5,
        ..SimConfig::default()
    })
    .await;
    w.platform_set().await;
    w.cli(&["auth", "link"]).await.ok();
    let r = w.cli(&["auth", "wait", "--timeout", "2"]).await;
    assert_one_line_failure(&r);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("超时"), "{}", r.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the OS keychain: WXDESK_TEST_KEYCHAIN=1 scripts/with-keyring.sh cargo test -- --include-ignored"]
async fn csv_columns_fill_per_row_variables_and_an_unknown_column_is_refused_before_sending() {
    require_keychain();
    let (w, appid) = World::start_authorized(SimConfig {
        followers: 10,
        ..SimConfig::default()
    })
    .await;
    w.cli(&["followers", "sync", &appid]).await.ok();
    let (template, keys) = w.legacy_template(&appid).await;
    let followers = w
        .cli(&["--json", "followers", "list", &appid, "--limit", "3"])
        .await
        .ok()
        .json();
    let openids: Vec<&str> = followers["followers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["openid"].as_str().unwrap())
        .collect();
    let orders = w.dir.path().join("orders.csv");
    let mut csv = String::from("openid,订单号,商品\n");
    for (i, o) in openids.iter().enumerate() {
        csv.push_str(&format!("{o},A100{i},茶叶{i}\n"));
    }
    std::fs::write(&orders, csv).unwrap();
    let orders = orders.to_str().unwrap();

    let unknown = format!("{}={{{{快递单号}}}}", keys[0]);
    let refused = w
        .cli(&[
            "send",
            "template",
            "--account",
            &appid,
            "--template",
            &template,
            "--csv",
            orders,
            "--data",
            &unknown,
        ])
        .await;
    assert_one_line_failure(&refused);
    assert!(refused.stderr.contains("快递单号"), "{}", refused.stderr);
    let jobs = w.cli(&["--json", "jobs", "list"]).await.ok().json();
    assert_eq!(
        jobs.as_array().unwrap().len(),
        0,
        "no job is written for a refused send"
    );

    let value = format!("{}=订单{{{{订单号}}}}：{{{{商品}}}}", keys[0]);
    let done = w
        .cli(&[
            "--json",
            "send",
            "template",
            "--account",
            &appid,
            "--template",
            &template,
            "--csv",
            orders,
            "--data",
            &value,
        ])
        .await
        .ok()
        .json();
    assert_eq!(done["job"]["counts"]["sent"], 3);
    assert_eq!(done["job"]["counts"]["skipped"], 0);
    assert_eq!(w.sim_state().await["sends"]["accepted"], 3);

    // send text: a customer-service message inside the 48-hour window the user's message opens.
    let r = w
        .http
        .post(format!("{}/__sim/message", w.sim.base_url))
        .json(&serde_json::json!({"authorizer_appid": appid, "openid": openids[0], "content": "发货了吗"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    // The push reaches the relay on its own time; `followers reachable` catches up each run.
    let mut reachable = serde_json::Value::Null;
    for _ in 0..50 {
        reachable = w
            .cli(&["--json", "followers", "reachable", &appid])
            .await
            .ok()
            .json();
        if reachable["total"] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(reachable["total"], 1, "{reachable}");
    assert_eq!(reachable["rows"][0]["openid"], openids[0]);
    assert_eq!(reachable["rows"][0]["kind"], "text");
    assert_eq!(reachable["rows"][0]["preview"], "发货了吗");
    let text = w
        .cli(&[
            "--json",
            "send",
            "text",
            "--account",
            &appid,
            "--to",
            openids[0],
            "--text",
            "已发货",
        ])
        .await
        .ok()
        .json();
    assert_eq!(text["job"]["kind"], "custom_text");
    // Named by its purpose, not by a Chinese title: each face words it in its language.
    assert_eq!(
        (&text["job"]["purpose"], &text["job"]["title"]),
        (&serde_json::json!("custom"), &serde_json::json!(""))
    );
    assert_eq!(text["job"]["counts"]["sent"], 1);
    assert_eq!(w.sim_state().await["sends"]["custom_accepted"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the OS keychain: WXDESK_TEST_KEYCHAIN=1 scripts/with-keyring.sh cargo test -- --include-ignored"]
async fn a_bulk_send_killed_mid_job_resumes_with_exactly_once_delivery() {
    require_keychain();
    const N: u32 = 200;
    const CONCURRENCY: u64 = 4;
    let (w, appid) = World::start_authorized(SimConfig {
        followers: N,
        // Slow enough that the kill lands mid-job with requests in flight.
        latency_ms: 40,
        ..SimConfig::default()
    })
    .await;
    w.cli(&["followers", "sync", &appid]).await.ok();
    w.cli(&[
        "lists",
        "create",
        "大促",
        "--account",
        &appid,
        "--all-followers",
    ])
    .await
    .ok();
    let (template, keys) = w.legacy_template(&appid).await;
    let data = format!("{}=双十一发货通知", keys[0]);

    let mut child = std::process::Command::new(support::BIN)
        .arg("--data-dir")
        .arg(w.data_dir())
        .args([
            "--json",
            "send",
            "template",
            "--account",
            &appid,
            "--template",
            &template,
            "--list",
            "大促",
            "--data",
            &data,
            "--concurrency",
            "4",
            "--rate",
            "50",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();

    // Wait until the job is well under way, then kill the sender without warning.
    let mut job_id = None;
    for _ in 0..400 {
        let list = w.cli(&["--json", "jobs", "list"]).await;
        if list.code == 0
            && let Some(j) = list.json().as_array().and_then(|a| a.first().cloned())
        {
            job_id = j["id"].as_i64();
            if j["counts"]["sent"].as_u64().unwrap_or(0) >= 30 {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let job_id = job_id.expect("the job was created");
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    let before = w
        .cli(&["--json", "jobs", "show", &job_id.to_string()])
        .await
        .ok()
        .json();
    assert_eq!(
        before["job"]["status"], "running",
        "killed, not finished: {before}"
    );
    assert!(before["job"]["counts"]["sent"].as_u64().unwrap() < u64::from(N));

    let resumed = w
        .cli(&["--json", "jobs", "resume", &job_id.to_string()])
        .await;
    let summary = resumed.event("done");
    let counts = &summary["job"]["counts"];
    let (sent, uncertain) = (
        counts["sent"].as_u64().unwrap(),
        counts["uncertain"].as_u64().unwrap(),
    );
    assert_eq!(summary["job"]["status"], "completed");
    assert_eq!(sent + uncertain, u64::from(N), "{counts}");
    assert_eq!(counts["failed_permanent"], 0);
    assert_eq!(counts["failed_retryable"], 0);
    assert!(
        uncertain <= CONCURRENCY,
        "at most the in-flight rows are uncertain: {counts}"
    );
    eprintln!("after the kill: {sent} sent, {uncertain} uncertain");
    // Uncertain rows need the operator: exit 3 and one line when there are any.
    if uncertain > 0 {
        assert_eq!(resumed.code, 3, "{resumed:?}");
        assert_one_line_failure(&resumed);
        assert_eq!(resumed.json()["error"]["code"], "job_incomplete");
        assert!(resumed.stderr.contains("结果未知"), "{}", resumed.stderr);
        assert!(resumed.stderr.contains("--uncertain"), "{}", resumed.stderr);

        // The operator decides to resend them: the same client_msg_id lets WeChat drop the
        // copies that did arrive, so every recipient still gets exactly one message.
        let retried = w
            .cli(&[
                "--json",
                "jobs",
                "retry",
                &job_id.to_string(),
                "--uncertain",
            ])
            .await
            .ok()
            .json();
        assert_eq!(retried["job"]["counts"]["sent"], N, "{retried}");
        assert_eq!(retried["job"]["counts"]["uncertain"], 0, "{retried}");
        let sends = &w.sim_state().await["sends"];
        assert_eq!(sends["max_per_recipient"], 1, "{sends}");
        assert_eq!(sends["distinct_recipients"], N, "{sends}");
    } else {
        assert_eq!(resumed.code, 0, "{resumed:?}");
    }

    let state = w.sim_state().await;
    let sends = &state["sends"];
    assert_eq!(
        sends["max_per_recipient"], 1,
        "nobody got the message twice: {sends}"
    );
    let accepted = sends["accepted"].as_u64().unwrap();
    assert_eq!(sends["distinct_recipients"].as_u64().unwrap(), accepted);
    assert!(
        accepted >= sent && accepted <= sent + uncertain,
        "every recipient accepted or uncertain: accepted {accepted}, sent {sent}, uncertain {uncertain}"
    );
}
