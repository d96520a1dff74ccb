//! 发送 from a saved list, the way the desktop app's composer does it — through the same handles
//! `wxdesk-cli send template --list` uses (`ctx.compose`, `ctx.sends`), on the real sandbox
//! (wxdesk-sim + wxdesk-relay on loopback): the list resolves to its members and their
//! variables, the composer's check and estimate see them, and the job the 发送 button starts
//! sends each member once with their own values. (crates/cli/tests/send_faces.rs runs the CLI's
//! face against the same use case.)
#![allow(clippy::unwrap_used)]

use crate::support;

use std::collections::{BTreeMap, BTreeSet};

use wxdesk_core::audience::{ImportOptions, ImportSource};
use wxdesk_core::compose::{Jump, RecipientSource, TemplateDraft};
use wxdesk_core::context::Context;
use wxdesk_core::secrets::Secrets;
use wxdesk_core::send::{HistoryFilter, JobStatus, RecipientState};

use support::{World, sim_openid};

const MEMBERS: u32 = 5;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_composer_sends_a_saved_list_through_ctx_compose_and_ctx_sends() {
    let w = World::start().await;
    let oa = w.authorize_first_oa().await;
    // The app's Context on the sandbox's data dir and keychain.
    let ctx = Context::open_with_secrets(w.dir.path(), Secrets::new(w.mem.clone()))
        .await
        .unwrap();
    ctx.sends.share_lock_when_idle();
    ctx.templates.sync(&oa).await.unwrap();
    // A template whose keywords take any short text (legacy keywordN).
    let template = ctx
        .templates
        .list(&oa)
        .await
        .unwrap()
        .into_iter()
        .find(|t| {
            t.fields
                .iter()
                .all(|f| f.key.starts_with("keyword") || f.key == "first" || f.key == "remark")
        })
        .expect("a legacy template in the sandbox");

    // 名单: members with an order number each, one of them listed twice in the file.
    let mut csv = String::from("openid,订单号\n");
    let mut want = BTreeMap::new();
    for i in 0..MEMBERS {
        let openid = sim_openid(&w.http, &w.sandbox.sim_url, &oa, i).await;
        csv.push_str(&format!("{openid},A{i}\n"));
        want.insert(openid, format!("订单A{}已发货", i));
    }
    let first = want.keys().next().unwrap().clone();
    csv.push_str(&format!("{first},A0\n"));
    let saved = ctx
        .audience
        .import_save(
            &oa,
            "今日发货",
            ImportSource::Pasted(csv),
            ImportOptions::default(),
        )
        .await
        .unwrap();
    let source = RecipientSource::List {
        list_id: saved.list.id,
    };

    let resolved = ctx.compose.resolve(&oa, &source, None).await.unwrap();
    assert_eq!(resolved.recipients.len(), MEMBERS as usize);
    assert_eq!(resolved.variables, vec!["订单号".to_string()]);

    let key = template
        .fields
        .iter()
        .find(|f| f.kind.is_shown())
        .unwrap()
        .key
        .clone();
    let mut data: BTreeMap<String, String> = template
        .fields
        .iter()
        .filter(|f| f.kind.is_shown())
        .map(|f| (f.key.clone(), "已安排".to_string()))
        .collect();
    data.insert(key.clone(), "订单{{订单号}}已发货".into());
    let draft = TemplateDraft {
        appid: oa.clone(),
        template_id: template.template_id.clone(),
        title: "今日发货".into(),
        data,
        jump: Jump::None,
    };

    // What the composer shows before 发送: the values pass, the variables are there, the
    // cards are the first members' own.
    let check = ctx.compose.check(&draft, Some(&source)).await.unwrap();
    assert!(check.ok, "{check:?}");
    assert!(check.missing_variables.is_empty());
    assert_eq!(check.cards.len(), 3);
    assert!(check.cards.iter().all(|c| c.problem.is_none()));
    let estimate = ctx.compose.estimate(&oa, &source).await.unwrap();
    assert_eq!(estimate.recipients, u64::from(MEMBERS));

    // A file's rows the send leaves out are counted for the confirmation; a file with nobody to
    // send to is refused before the confirmation, not accepted as a job of 0.
    let file = w.dir.path().join("estimate.csv");
    std::fs::write(
        &file,
        format!("openid,订单号\n{first},A0\n{first},A0\nnot-an-openid,A1\n"),
    )
    .unwrap();
    let from_file = RecipientSource::File {
        path: file.display().to_string(),
    };
    let estimate = ctx.compose.estimate(&oa, &from_file).await.unwrap();
    assert_eq!((estimate.recipients, estimate.left_out), (1, 2));
    std::fs::write(&file, "openid,订单号\nnot-an-openid,A1\n").unwrap();
    let refused = ctx.compose.estimate(&oa, &from_file).await.unwrap_err();
    assert!(
        refused.to_string().contains("没有可发送的接收者"),
        "{refused}"
    );

    // 发送 (compose_send): the job is created and started by the engine host.
    let job_id = ctx.sends.start_draft(&draft, &source).await.unwrap();
    let job = ctx.sends.wait_idle(job_id).await.unwrap();
    assert_eq!(job.status, JobStatus::Completed, "{:?}", job.pause_reason);
    assert_eq!(
        (job.counts.total, job.counts.sent, job.counts.skipped),
        (u64::from(MEMBERS), u64::from(MEMBERS), 0)
    );

    // Each member once, with their own order number.
    let rows = ctx
        .history
        .list(
            HistoryFilter {
                job_id: Some(job_id),
                ..Default::default()
            },
            None,
            Some(100),
        )
        .await
        .unwrap()
        .rows;
    assert!(rows.iter().all(|r| r.state == RecipientState::Sent));
    assert_eq!(
        rows.iter()
            .map(|r| r.openid.clone())
            .collect::<BTreeSet<_>>(),
        want.keys().cloned().collect::<BTreeSet<_>>()
    );
    for r in &rows {
        let d = ctx.history.detail(r.id).await.unwrap().unwrap();
        let body: serde_json::Value = serde_json::from_str(&d.request_body.unwrap()).unwrap();
        assert_eq!(body["data"][&key]["value"], want[&r.openid].as_str());
    }
    let sends = &w.sandbox.sim_state()["sends"];
    assert_eq!(sends["max_per_recipient"], 1, "{sends}");

    // A placeholder no column provides is refused before anything is written, as in the CLI.
    let mut bad = draft.clone();
    bad.data.insert(key, "{{快递单号}}".into());
    let before = ctx.sends.list(None, None, 100).await.unwrap().len();
    let refused = ctx.sends.start_draft(&bad, &source).await.unwrap_err();
    assert!(refused.to_string().contains("快递单号"), "{refused}");
    assert_eq!(ctx.sends.list(None, None, 100).await.unwrap().len(), before);
}

/// 扫码找到自己 through `ctx.compose` on the real sandbox: the code the desk gets is the
/// account's own, and scanning it pushes `SCAN` with the desk's scene, so the scanner becomes
/// the user who just wrote.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_find_yourself_code_is_the_accounts_and_its_scan_carries_the_desks_scene() {
    let w = World::start().await;
    let oa = w.authorize_first_oa().await;
    let ctx = Context::open_with_secrets(w.dir.path(), Secrets::new(w.mem.clone()))
        .await
        .unwrap();
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let qr = ctx.compose.find_yourself_qr(&oa).await.unwrap();
    assert!(qr.url.starts_with("http://weixin.qq.com/q/"), "{qr:?}");
    let lives = qr.expires_at - before;
    assert!(
        (i64::from(wxdesk_core::compose::FIND_YOURSELF_SECS) - 5
            ..=i64::from(wxdesk_core::compose::FIND_YOURSELF_SECS) + 5)
            .contains(&lives),
        "{lives}"
    );
    let me = sim_openid(&w.http, &w.sandbox.sim_url, &oa, 0).await;
    let scanned: serde_json::Value = w
        .http
        .post(format!("{}/__sim/scan", w.sandbox.sim_url))
        .json(&serde_json::json!({"url": qr.url, "openid": me}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(scanned["event"], "SCAN", "{scanned}");
    assert_eq!(scanned["scene"], wxdesk_core::compose::FIND_YOURSELF_SCENE);
}
