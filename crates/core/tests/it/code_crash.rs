//! kill -9 mid-rollout: a child process (this test binary, re-executed) drives a rollout of 20
//! mini programs against the sandbox and is killed with SIGKILL once a few are released; the
//! rollout then shows as interrupted, is resumed here, and the simulator — the judge — shows
//! every mini program on the new version, audited once and released exactly once.
#![allow(clippy::unwrap_used)]

use crate::code_support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use code_support::World;
use serde_json::json;
use wxdesk_core::code::{
    PauseCode, RolloutClients, RolloutConfig, RolloutInput, RolloutStatus, RolloutTarget,
    SubmitAudit,
};
use wxdesk_sim::SimConfig;

/// Set in the child's environment: `data_dir\trollout_id`.
const CHILD_ENV: &str = "WXDESK_CODE_CRASH_CHILD";
const VERSION: &str = "6.1.0";
/// A child that has not released a few mini programs by then has hung (debug build, shared CPU).
const CHILD_DEADLINE: Duration = Duration::from_secs(180);

fn config() -> RolloutConfig {
    RolloutConfig {
        concurrency: 2,
        poll_every: Duration::from_millis(300),
        retry_base: Duration::from_millis(200),
        ..RolloutConfig::default()
    }
}

/// The child's part: resume the rollout and drive it until killed.
async fn code_crash_child_process_entry(args: String) {
    let (dir, id) = args.split_once('\t').unwrap();
    let ctx = code_support::open(std::path::Path::new(dir)).await;
    let code = ctx.code.clone().with_rollout_config(config());
    let id: i64 = id.parse().unwrap();
    code.start_rollout(id).await.unwrap();
    code.wait_rollout(id).await.unwrap();
}

async fn released_rows(w: &World, id: i64) -> i64 {
    w.sql(move |c| {
        c.query_row(
            "SELECT count(*) FROM code_rollout_rows WHERE rollout_id = ?1 AND state = 'released'",
            [id],
            |r| r.get(0),
        )
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollout_killed_mid_way_resumes_to_every_mini_program_released_exactly_once() {
    if let Ok(args) = std::env::var(CHILD_ENV) {
        return code_crash_child_process_entry(args).await;
    }
    // 50 accounts: every fifth is a mini program twice over, so 20 mini programs.
    let w = World::start(SimConfig {
        accounts: 50,
        latency_ms: 20,
        jitter_ms: 10,
        audit_secs: 2,
        seed: 5,
        ..SimConfig::default()
    })
    .await;
    assert_eq!(w.minis.len(), 20);
    let table: String = std::iter::once("appid,shop".to_string())
        .chain(
            w.minis
                .iter()
                .enumerate()
                .map(|(i, a)| format!("{a},门店{i}")),
        )
        .collect::<Vec<_>>()
        .join("\n");
    let csv = w.csv("clients.csv", &table);
    let id = w
        .ctx
        .code
        .create_rollout(&RolloutInput {
            template_id: 2,
            user_version: VERSION.into(),
            user_desc: "二十家门店".into(),
            target: RolloutTarget::Released,
            base_ext_json: None,
            clients: RolloutClients::Table(wxdesk_core::audience::ImportSource::File(csv)),
            audit: SubmitAudit::default(),
        })
        .await
        .unwrap();

    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            this_test!(
                a_rollout_killed_mid_way_resumes_to_every_mini_program_released_exactly_once
            )
            .as_str(),
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, format!("{}\t{id}", w.path().display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let at_kill = loop {
        let n = released_rows(&w, id).await;
        if n >= 3 {
            break n;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the child ended ({status}) before releasing anything");
        }
        assert!(
            started.elapsed() < CHILD_DEADLINE,
            "the child released nothing in {CHILD_DEADLINE:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    child.kill().unwrap(); // SIGKILL on Unix: no destructor, no flush.
    child.wait().unwrap();
    assert!(
        at_kill < 20,
        "the kill came after the end ({at_kill} released)"
    );
    // Requests the child had on the wire finish (or not) at the sim.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let code = w.ctx.code.clone().with_rollout_config(config());
    let shown = code.rollout(id).await.unwrap().rollout;
    assert_eq!(shown.status, RolloutStatus::Paused);
    assert_eq!(shown.pause.unwrap().code, PauseCode::Interrupted);
    assert!(shown.counts.done < 20);

    code.start_rollout(id).await.unwrap();
    let done = code.wait_rollout(id).await.unwrap();
    assert_eq!(done.status, RolloutStatus::Completed, "{done:?}");
    assert_eq!(done.counts.done, 20, "{:?}", done.counts);

    for (i, mini) in w.minis.iter().enumerate() {
        let sim = w.sim_code(mini);
        assert_eq!(sim["releases"], json!({VERSION: 1}), "{mini}: {sim}");
        assert_eq!(sim["released"]["user_version"], VERSION, "{mini}");
        assert_eq!(sim["audits_submitted"], 1, "{mini} audited once: {sim}");
        assert_eq!(sim["committed"]["ext"]["ext"]["shop"], format!("门店{i}"));
    }
    let versions = code.rollout_versions(id).await.unwrap();
    assert_eq!(versions.groups.len(), 1);
    assert_eq!(versions.groups[0].version.as_deref(), Some(VERSION));
}
