//! One use case, two faces: `wxdesk-cli send template --list NAME` (the real binary) and the
//! desktop app's 发送 button (`ctx.sends.start_draft` over the same data dir, as the shell's
//! compose_send calls it) send the same saved list through the same core handles, so they end
//! with the same job: the same recipients and counts, each member's own values, one message per
//! member per job at the simulator.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeMap;

use support::{World, require_keychain, send_template_args};
use wxdesk_core::compose::{Jump, RecipientSource, TemplateDraft};
use wxdesk_core::context::Context;
use wxdesk_core::send::{HistoryFilter, Job, JobStatus};
use wxdesk_sim::SimConfig;

const MEMBERS: usize = 5;

/// openid → the value WeChat was asked to show, for every row of `job`.
async fn sent_values(ctx: &Context, job: i64, key: &str) -> BTreeMap<String, String> {
    let filter = HistoryFilter {
        job_id: Some(job),
        ..Default::default()
    };
    let rows = ctx
        .history
        .list(filter, None, Some(100))
        .await
        .unwrap()
        .rows;
    let mut out = BTreeMap::new();
    for r in rows {
        let d = ctx.history.detail(r.id).await.unwrap().unwrap();
        let body: serde_json::Value = serde_json::from_str(&d.request_body.unwrap()).unwrap();
        out.insert(
            r.openid,
            body["data"][key]["value"].as_str().unwrap().to_string(),
        );
    }
    out
}

fn counts(j: &Job) -> (JobStatus, u64, u64, u64, u64) {
    let c = &j.counts;
    (j.status, c.total, c.sent, c.skipped, c.failed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the OS keychain: WXDESK_TEST_KEYCHAIN=1 scripts/with-keyring.sh cargo test -- --include-ignored"]
async fn a_list_sent_by_the_cli_and_by_the_apps_send_button_ends_with_the_same_job() {
    require_keychain();
    let (w, appid) = World::start_authorized(SimConfig {
        followers: 12,
        ..SimConfig::default()
    })
    .await;
    w.cli(&["templates", "sync", &appid]).await.ok();
    w.cli(&["followers", "sync", &appid]).await.ok();
    let (template, keys) = w.legacy_template(&appid).await;
    let followers = w
        .cli(&["--json", "followers", "list", &appid])
        .await
        .ok()
        .json();
    let openids: Vec<String> = followers["followers"]
        .as_array()
        .unwrap()
        .iter()
        .take(MEMBERS)
        .map(|f| f["openid"].as_str().unwrap().to_string())
        .collect();
    // A file with a repeated member and a line that is no openid: the list keeps the five.
    let mut csv = String::from("openid,商品\n");
    for (i, o) in openids.iter().enumerate() {
        csv.push_str(&format!("{o},茶叶{i}\n"));
    }
    csv.push_str(&format!("{},茶叶0\nnot-an-openid,茶叶9\n", openids[0]));
    let file = w.dir.path().join("today.csv");
    std::fs::write(&file, csv).unwrap();
    let created = w
        .cli(&[
            "--json",
            "lists",
            "create",
            "今日发货",
            "--account",
            &appid,
            "--csv",
            file.to_str().unwrap(),
        ])
        .await
        .ok()
        .json();
    let list_id = created["list"]["id"].as_i64().unwrap();
    assert_eq!(created["list"]["member_count"], MEMBERS);

    // The CLI's face.
    let args = send_template_args(
        &appid,
        &template,
        &["--list", "今日发货"],
        &keys,
        "{{商品}}",
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let done = w.cli(&args).await.ok().json();
    let cli_job = done["job"]["id"].as_i64().unwrap();

    // The app's face: what compose_send runs, on the same data dir and keychain.
    let ctx = Context::open(&w.data_dir()).await.unwrap();
    ctx.sends.share_lock_when_idle();
    let draft = TemplateDraft {
        appid: appid.clone(),
        template_id: template.clone(),
        title: String::new(),
        data: keys
            .iter()
            .map(|k| (k.clone(), "{{商品}}".to_string()))
            .collect(),
        jump: Jump::None,
    };
    let source = RecipientSource::List { list_id };
    let resolved = ctx.compose.resolve(&appid, &source, None).await.unwrap();
    assert_eq!(resolved.recipients.len(), MEMBERS);
    let app_job = ctx.sends.start_draft(&draft, &source).await.unwrap();
    let app = ctx.sends.wait_idle(app_job).await.unwrap();
    let cli = ctx.sends.job(cli_job).await.unwrap();

    assert_eq!(
        counts(&cli),
        (JobStatus::Completed, MEMBERS as u64, MEMBERS as u64, 0, 0)
    );
    assert_eq!(counts(&app), counts(&cli), "the same job from both faces");
    assert_eq!(
        (app.payload.clone(), app.title.clone()),
        (cli.payload.clone(), cli.title.clone())
    );
    let key = keys.iter().find(|k| k.starts_with("keyword")).unwrap();
    let from_cli = sent_values(&ctx, cli_job, key).await;
    assert_eq!(from_cli.len(), MEMBERS);
    assert_eq!(from_cli[&openids[1]], "茶叶1", "each member's own value");
    assert_eq!(sent_values(&ctx, app_job, key).await, from_cli);

    let sends = &w.sim_state().await["sends"];
    assert_eq!(sends["accepted"], 2 * MEMBERS, "{sends}");
    assert_eq!(sends["distinct_recipients"], MEMBERS, "{sends}");
}
