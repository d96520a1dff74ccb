//! Rollouts (批量发版) against the sandbox: per-client ext.json from a CSV, audit results taken
//! from the pushes through the relay (polling turned off), a rejected client with its reason, a
//! delayed one that passes later, the audit quota pausing the rollout, and restarts that find a
//! row in `submitting` or `releasing` after WeChat already acted — without submitting or
//! releasing twice.
#![allow(clippy::unwrap_used)]

use crate::code_support;

use std::time::Duration;

use code_support::{World, eventually};
use serde_json::json;
use tokio_util::sync::CancellationToken;
use wxdesk_core::audience::ImportSource;
use wxdesk_core::code::{
    AuditState, CommitInput, PauseCode, RolloutClients, RolloutConfig, RolloutInput, RolloutStatus,
    RolloutTarget, RowState, SubmitAudit,
};
use wxdesk_sim::SimConfig;

/// Audits answered only by pushes: the fallback poll comes after an hour.
fn push_only() -> RolloutConfig {
    RolloutConfig {
        poll_every: Duration::from_secs(3600),
        retry_base: Duration::from_millis(100),
        ..RolloutConfig::default()
    }
}

fn fast_poll() -> RolloutConfig {
    RolloutConfig {
        poll_every: Duration::from_millis(200),
        retry_base: Duration::from_millis(100),
        ..RolloutConfig::default()
    }
}

fn input(version: &str, clients: RolloutClients) -> RolloutInput {
    RolloutInput {
        template_id: 1,
        user_version: version.into(),
        user_desc: "批量发版".into(),
        target: RolloutTarget::Released,
        base_ext_json: Some(r#"{"ext": {"brand": "wxdesk"}}"#.into()),
        clients,
        audit: SubmitAudit::default(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_csv_rollout_releases_the_passing_clients_records_the_rejected_one_and_waits_out_a_delay()
{
    // accounts 10: the mini programs are 1, 4, 6, 9.
    let w = World::start(SimConfig {
        accounts: 10,
        ..SimConfig::default()
    })
    .await;
    assert_eq!(w.minis.len(), 4);
    let cancel = CancellationToken::new();
    let (_feed, _notices) = w.ctx.spawn_feed(cancel.clone()).await.unwrap();
    let [a, b, c, d] = [0, 1, 2, 3].map(|i| w.minis[i].clone());
    let csv = w.csv(
        "clients.csv",
        &format!(
            "appid,shop,/sim_audit\n{a},一号店,\n{b},二号店,fail\n{c},三号店,delay\n{d},四号店,\n"
        ),
    );
    let code = w.ctx.code.clone().with_rollout_config(push_only());
    let id = code
        .create_rollout(&input(
            "1.2.0",
            RolloutClients::Table(ImportSource::File(csv)),
        ))
        .await
        .unwrap();
    let written = code.rollout(id).await.unwrap();
    assert_eq!(written.rollout.status, RolloutStatus::Draft);
    assert_eq!(written.rollout.source, "clients.csv");
    assert!(written.rows.iter().all(|r| r.state == RowState::Pending));
    assert_eq!(written.rows.len(), 4);

    let mut progress = code.subscribe(id).await.unwrap();
    code.start_rollout(id).await.unwrap();
    assert!(
        progress.borrow_and_update().quota.is_some(),
        "the quota is shown"
    );
    let done = code.wait_rollout(id).await.unwrap();
    assert_eq!(done.status, RolloutStatus::Completed, "{done:?}");
    assert_eq!((done.counts.done, done.counts.audit_failed), (3, 1));
    let last = progress.borrow_and_update().clone();
    assert_eq!(
        (last.status, last.counts.done),
        (RolloutStatus::Completed, 3)
    );

    let detail = code.rollout(id).await.unwrap();
    let row = |appid: &str| {
        detail
            .rows
            .iter()
            .find(|r| r.appid == appid)
            .unwrap()
            .clone()
    };
    assert_eq!(row(&a).state, RowState::Released);
    assert!(row(&a).auditid.is_some());
    let rejected = row(&b);
    assert_eq!(rejected.state, RowState::AuditFailed);
    assert!(rejected.reason.unwrap().contains("账号信息不符合规范"));
    assert!(rejected.screenshot.unwrap().contains('|'));
    let delayed = row(&c);
    assert_eq!(delayed.state, RowState::Released);
    assert!(
        delayed.reason.unwrap().contains("耐心等待"),
        "the delay was seen"
    );

    for (appid, shop) in [(&a, "一号店"), (&c, "三号店"), (&d, "四号店")] {
        let sim = w.sim_code(appid);
        assert_eq!(sim["releases"], json!({"1.2.0": 1}), "{appid}");
        let ext = &sim["committed"]["ext"];
        assert_eq!(ext["extAppid"], appid.as_str());
        assert_eq!(ext["ext"]["shop"], shop);
        assert_eq!(ext["ext"]["brand"], "wxdesk");
    }
    assert_eq!(w.sim_code(&b)["releases"], json!({}));

    let versions = code.rollout_versions(id).await.unwrap();
    let group = |v: Option<&str>| {
        versions
            .groups
            .iter()
            .find(|g| g.version.as_deref() == v)
            .map(|g| g.appids.len())
    };
    assert_eq!(group(Some("1.2.0")), Some(3));
    assert_eq!(group(None), Some(1));
    cancel.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exhausted_audit_quota_pauses_the_rollout_and_resuming_spends_nothing_more() {
    let w = World::start(SimConfig {
        accounts: 10,
        audit_quota: 2,
        ..SimConfig::default()
    })
    .await;
    let code = w.ctx.code.clone().with_rollout_config(fast_poll());
    let id = code
        .create_rollout(&input(
            "3.0.0",
            RolloutClients::Appids(w.minis[..3].to_vec()),
        ))
        .await
        .unwrap();
    code.start_rollout(id).await.unwrap();
    let r = code.wait_rollout(id).await.unwrap();
    assert_eq!(r.status, RolloutStatus::Paused, "{r:?}");
    assert_eq!(r.pause.as_ref().unwrap().code, PauseCode::AuditQuota);
    let submitted = |w: &World| -> u64 {
        w.minis[..3]
            .iter()
            .map(|m| w.sim_code(m)["audits_submitted"].as_u64().unwrap())
            .sum()
    };
    assert_eq!(submitted(&w), 2);
    let progress = code.subscribe(id).await.unwrap().borrow().clone();
    assert_eq!(progress.quota.map(|q| q.rest), Some(0));
    // Resuming with the quota still used up pauses again before submitting anything.
    code.start_rollout(id).await.unwrap();
    let r = code.wait_rollout(id).await.unwrap();
    assert_eq!(r.pause.unwrap().code, PauseCode::AuditQuota);
    assert_eq!(submitted(&w), 2);
    assert_eq!(r.counts.by_state.get(&RowState::Committed), Some(&1));
}

/// Rolls one mini program to `version` by hand and returns its rollout's id with the row set to
/// `state` (as a process killed right after WeChat acted would have left it).
async fn rollout_left_in(w: &World, mini: &str, version: &str, state: &str, auditid: i64) -> i64 {
    let code = w.ctx.code.clone().with_rollout_config(fast_poll());
    let id = code
        .create_rollout(&input(
            version,
            RolloutClients::Appids(vec![mini.to_string()]),
        ))
        .await
        .unwrap();
    let (mini, state) = (mini.to_string(), state.to_string());
    w.sql(move |c| {
        c.execute(
            "UPDATE code_rollout_rows SET state = ?1, submitted_at = strftime('%s','now') - 5,
                     auditid = NULLIF(?3, 0)
                 WHERE rollout_id = ?2 AND appid = ?4",
            rusqlite::params![state, id, auditid, mini],
        )?;
        c.execute(
            "UPDATE code_rollouts SET status = 'running' WHERE id = ?1",
            [id],
        )?;
        Ok(())
    })
    .await;
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_in_submitting_adopts_the_audit_wechat_already_has_instead_of_submitting_again() {
    let w = World::start(SimConfig::default()).await;
    let mini = w.minis[0].clone();
    let code = w.ctx.code.clone().with_rollout_config(fast_poll());
    // What the killed process did before its record of it was lost: commit and submit, and
    // the audit has even passed since.
    let version = "4.0.0";
    code.commit(
        &mini,
        &CommitInput {
            template_id: 1,
            user_version: version.into(),
            user_desc: String::new(),
            ext_json: None,
        },
    )
    .await
    .unwrap();
    code.submit_audit(&mini, &SubmitAudit::default())
        .await
        .unwrap();
    w.advance(3.0).await;
    eventually(10, "the audit to pass", || async {
        code.latest_audit(&mini)
            .await
            .unwrap()
            .filter(|a| a.state == AuditState::Approved)
    })
    .await;
    let id = rollout_left_in(&w, &mini, version, "submitting", 0).await;
    // The runner that wrote `running` is gone: the rollout shows as interrupted.
    let shown = code.rollouts(10).await.unwrap();
    assert_eq!(
        shown[0].pause.as_ref().unwrap().code,
        PauseCode::Interrupted
    );
    code.start_rollout(id).await.unwrap();
    let r = code.wait_rollout(id).await.unwrap();
    assert_eq!(
        (r.status, r.counts.done),
        (RolloutStatus::Completed, 1),
        "{r:?}"
    );
    let sim = w.sim_code(&mini);
    assert_eq!(sim["audits_submitted"], 1, "no second audit: {sim}");
    assert_eq!(sim["releases"], json!({"4.0.0": 1}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_in_releasing_after_the_release_went_through_does_not_release_again() {
    let w = World::start(SimConfig::default()).await;
    let mini = w.minis[0].clone();
    let code = w.ctx.code.clone().with_rollout_config(fast_poll());
    let version = "5.0.0";
    code.commit(
        &mini,
        &CommitInput {
            template_id: 1,
            user_version: version.into(),
            user_desc: String::new(),
            ext_json: None,
        },
    )
    .await
    .unwrap();
    let auditid = code
        .submit_audit(&mini, &SubmitAudit::default())
        .await
        .unwrap();
    w.advance(3.0).await;
    eventually(10, "the audit to pass", || async {
        code.latest_audit(&mini)
            .await
            .unwrap()
            .filter(|a| a.state == AuditState::Approved)
    })
    .await;
    code.release(&mini).await.unwrap();
    let id = rollout_left_in(&w, &mini, version, "releasing", auditid).await;
    code.start_rollout(id).await.unwrap();
    let r = code.wait_rollout(id).await.unwrap();
    assert_eq!(
        (r.status, r.counts.done),
        (RolloutStatus::Completed, 1),
        "{r:?}"
    );
    let detail = code.rollout(id).await.unwrap();
    assert_eq!(detail.rows[0].state, RowState::Released);
    assert_eq!(
        w.sim_code(&mini)["releases"],
        json!({"5.0.0": 1}),
        "released once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_with_unknown_or_repeated_clients_is_refused_before_anything_is_written() {
    let w = World::start(SimConfig::default()).await;
    let a = w.minis[0].clone();
    let csv = w.csv(
        "bad.csv",
        &format!("appid,shop\n{a},一\n{a},二\nwx0000000000000000,三\nnot-an-appid,四\n"),
    );
    let code = &w.ctx.code;
    let e = code
        .create_rollout(&input(
            "1.0.0",
            RolloutClients::Table(ImportSource::File(csv)),
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "code_plan");
    let text = e.to_string();
    assert!(text.contains("3 处问题"), "{text}");
    assert!(
        text.contains("第 3 行") && text.contains("第 4 行") && text.contains("第 5 行"),
        "{text}"
    );
    assert!(code.rollouts(10).await.unwrap().is_empty());
    let e = code
        .create_rollout(&RolloutInput {
            template_id: 77,
            ..input("1.0.0", RolloutClients::Appids(vec![a]))
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), "code_template_not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollout_pauses_resumes_and_cancels_and_a_held_lock_keeps_it_from_a_second_runner() {
    // Audits that take an hour: the rows wait in `auditing` while the test acts.
    let w = World::start(SimConfig {
        accounts: 10,
        audit_secs: 3600,
        ..SimConfig::default()
    })
    .await;
    let code = w.ctx.code.clone().with_rollout_config(fast_poll());
    let id = code
        .create_rollout(&input(
            "7.0.0",
            RolloutClients::Appids(w.minis[..2].to_vec()),
        ))
        .await
        .unwrap();
    code.start_rollout(id).await.unwrap();
    let auditing = |code: &wxdesk_core::code::Code| {
        let code = code.clone();
        async move {
            let d = code.rollout(id).await.unwrap();
            d.rows
                .iter()
                .all(|r| r.state == RowState::Auditing)
                .then_some(())
        }
    };
    eventually(20, "both rows auditing", || auditing(&code)).await;

    code.pause_rollout(id).await.unwrap();
    let r = code.wait_rollout(id).await.unwrap();
    assert_eq!(r.status, RolloutStatus::Paused);
    assert_eq!(r.pause.unwrap().code, PauseCode::Operator);
    assert!(!code.is_active(id));

    // Another holder of the lock (another process) keeps a resume from starting a second
    // runner, and the rollout it drives is not taken for interrupted.
    let lock_path = w
        .path()
        .join("locks")
        .join(format!("code-rollout-{id}.lock"));
    let held = std::fs::OpenOptions::new()
        .write(true)
        .open(&lock_path)
        .unwrap();
    held.try_lock().unwrap();
    let e = code.start_rollout(id).await.unwrap_err();
    assert_eq!(e.code(), "code_rollout_busy");
    drop(held);

    code.start_rollout(id).await.unwrap();
    assert!(code.is_active(id));
    code.cancel_rollout(id).await.unwrap();
    let r = code.wait_rollout(id).await.unwrap();
    assert_eq!(r.status, RolloutStatus::Cancelled, "{r:?}");
    assert_eq!(r.counts.cancelled, 2);
    let e = code.start_rollout(id).await.unwrap_err();
    assert_eq!(e.code(), "code_rollout_finished");
    // The audits stay at WeChat (cancel does not withdraw them).
    assert!(w.sim_code(&w.minis[0])["under_review"].is_object());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_xlsx_client_table_gives_each_client_its_own_ext_json() {
    use rust_xlsxwriter::Workbook;
    let w = World::start(SimConfig {
        accounts: 10,
        ..SimConfig::default()
    })
    .await;
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ["AppID", "门店", "/window/navigationBarTitleText"]
        .iter()
        .enumerate()
    {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    for (r, m) in w.minis[..2].iter().enumerate() {
        let row = r as u32 + 1;
        sheet.write_string(row, 0, m).unwrap();
        sheet.write_number(row, 1, f64::from(row) * 100.0).unwrap();
        sheet.write_string(row, 2, format!("店铺{row}")).unwrap();
    }
    let bytes = book.save_to_buffer().unwrap();
    let plan = w
        .ctx
        .code
        .plan_rollout(&input(
            "8.0.0",
            RolloutClients::Table(ImportSource::Bytes(bytes)),
        ))
        .await
        .unwrap();
    assert_eq!(plan.len(), 2);
    let ext: serde_json::Value = serde_json::from_str(&plan[1].ext_json).unwrap();
    assert_eq!(ext["extAppid"], w.minis[1].as_str());
    assert_eq!(
        ext["ext"]["门店"], "200",
        "a whole number reads as the operator sees it"
    );
    assert_eq!(ext["window"]["navigationBarTitleText"], "店铺2");
    assert_eq!(ext["ext"]["brand"], "wxdesk", "the base ext.json stays");
    assert_eq!(plan[1].line, 3);
}
