//! One mini program through `ctx.code` against the sandbox (real wxdesk-sim and wxdesk-relay on
//! loopback, the app's own feed running): the template library; commit → audit → release →
//! rollback; an audit rejected with its reason pushed through the relay and recorded; and the
//! refusals with their errcodes and hints.
#![allow(clippy::unwrap_used)]

use crate::code_support;

use code_support::{World, eventually};
use serde_json::json;
use tokio_util::sync::CancellationToken;
use wxdesk_core::Error;
use wxdesk_core::code::{AuditPushEvent, AuditState, CommitInput, SubmitAudit};
use wxdesk_sim::SimConfig;

fn commit(version: &str, ext: serde_json::Value) -> CommitInput {
    CommitInput {
        template_id: 1,
        user_version: version.into(),
        user_desc: format!("版本 {version}"),
        ext_json: Some(ext.to_string()),
    }
}

fn errcode(e: &Error) -> Option<i64> {
    e.wechat_errcode()
}

/// The Chinese hint shown with the error.
fn hint(e: &Error) -> Option<String> {
    match e {
        Error::Code(c) => Some(c.hint_zh().to_string()),
        _ => e
            .wechat_errcode()
            .and_then(wxdesk_wechat::explain)
            .map(|i| i.hint_zh.to_string()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_template_library_lists_drafts_and_templates_adds_and_deletes() {
    let w = World::start(SimConfig::default()).await;
    let lib = w.ctx.code.library().await.unwrap();
    assert_eq!(lib.drafts.len(), 3);
    assert_eq!(
        lib.templates
            .iter()
            .map(|t| t.template_id)
            .collect::<Vec<_>>(),
        vec![1, 2]
    );
    assert_eq!(lib.templates[0].user_version, "1.0.0");
    let after = w.ctx.code.add_template(3, 0).await.unwrap();
    let added = after
        .templates
        .iter()
        .find(|t| t.draft_id == Some(3))
        .unwrap();
    assert_eq!(added.user_version, "2.0.0");
    w.ctx.code.delete_template(added.template_id).await.unwrap();
    let e = w
        .ctx
        .code
        .delete_template(added.template_id)
        .await
        .unwrap_err();
    assert_eq!(errcode(&e), Some(85064));
    assert!(hint(&e).unwrap().contains("模板库"), "{:?}", hint(&e));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commit_audit_release_and_rollback_with_the_push_recorded_from_the_relay() {
    let w = World::start(SimConfig::default()).await;
    let cancel = CancellationToken::new();
    let (_feed, _notices) = w.ctx.spawn_feed(cancel.clone()).await.unwrap();
    let mini = w.minis[0].clone();
    let code = &w.ctx.code;

    code.commit(&mini, &commit("1.0.0", json!({"ext": {"shop": "一号店"}})))
        .await
        .unwrap();
    assert_eq!(
        w.sim_code(&mini)["committed"]["ext"]["ext"]["shop"],
        "一号店"
    );
    let qr = code
        .qrcode(&mini, Some("pages/index/index?from=desk"))
        .await
        .unwrap();
    assert_eq!(qr.content_type, "image/jpeg");
    assert_eq!(&qr.bytes[..2], &[0xFF, 0xD8]);
    assert!(
        code.pages(&mini)
            .await
            .unwrap()
            .contains(&"pages/index/index".to_string())
    );
    assert!(!code.categories(&mini).await.unwrap().is_empty());

    let auditid = code
        .submit_audit(&mini, &SubmitAudit::default())
        .await
        .unwrap();
    let st = code.status(&mini).await.unwrap();
    assert_eq!(st.trial.as_ref().unwrap().version, "1.0.0");
    let latest = st.latest_audit.unwrap();
    assert_eq!(
        (latest.auditid, latest.state),
        (auditid, AuditState::Auditing)
    );
    assert_eq!(st.online, None);

    // The sim ends the audit after 2 s and pushes weapp_audit_success through the relay; the
    // app's feed records it.
    let push = eventually(15, "the success push", || async {
        code.status(&mini).await.unwrap().last_push
    })
    .await;
    assert_eq!(push.event, AuditPushEvent::Success);

    code.release(&mini).await.unwrap();
    let e = code.release(&mini).await.unwrap_err();
    assert_eq!(errcode(&e), Some(85052), "released once: {e}");
    assert!(hint(&e).is_some());
    assert_eq!(
        code.status(&mini).await.unwrap().online.unwrap().version,
        "1.0.0"
    );

    code.commit(&mini, &commit("1.1.0", json!({})))
        .await
        .unwrap();
    code.submit_audit(&mini, &SubmitAudit::default())
        .await
        .unwrap();
    eventually(15, "the second audit", || async {
        code.latest_audit(&mini)
            .await
            .unwrap()
            .filter(|a| a.state == AuditState::Approved)
    })
    .await;
    code.release(&mini).await.unwrap();
    let history = code.history(&mini).await.unwrap();
    assert_eq!(history[0].user_version, "1.0.0");
    code.rollback(&mini, None).await.unwrap();
    let st = code.status(&mini).await.unwrap();
    assert_eq!(st.online.unwrap().version, "1.0.0");
    assert_eq!(st.visit_open, Some(true));
    let sim = w.sim_code(&mini);
    assert_eq!(sim["releases"], json!({"1.0.0": 1, "1.1.0": 1}));
    assert_eq!(sim["reverts"], 1);
    let e = code.rollback(&mini, None).await.unwrap_err();
    assert_eq!(errcode(&e), Some(87012), "no second rollback");
    cancel.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_audit_is_pushed_with_its_reason_recorded_and_blocks_the_release() {
    let w = World::start(SimConfig::default()).await;
    let cancel = CancellationToken::new();
    let (_feed, _notices) = w.ctx.spawn_feed(cancel.clone()).await.unwrap();
    let mini = w.minis[0].clone();
    let code = &w.ctx.code;
    code.commit(&mini, &commit("2.0.0", json!({"sim_audit": "fail"})))
        .await
        .unwrap();
    code.submit_audit(&mini, &SubmitAudit::default())
        .await
        .unwrap();
    let push = eventually(15, "the fail push", || async {
        code.status(&mini).await.unwrap().last_push
    })
    .await;
    assert_eq!(push.event, AuditPushEvent::Fail);
    let reason = push.reason.unwrap();
    assert!(reason.contains("账号信息不符合规范"), "{reason}");
    assert!(push.screenshot.unwrap().contains('|'));
    let latest = code.latest_audit(&mini).await.unwrap().unwrap();
    assert_eq!(latest.state, AuditState::Rejected);
    assert_eq!(latest.reason.as_deref(), Some(reason.as_str()));
    let e = code.release(&mini).await.unwrap_err();
    assert_eq!(errcode(&e), Some(85020));
    assert!(hint(&e).unwrap().contains("审核"), "{:?}", hint(&e));
    cancel.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_before_wechat_and_wechat_refusals_carry_their_hint() {
    let w = World::start(SimConfig::default()).await;
    let mini = w.minis[0].clone();
    let code = &w.ctx.code;
    let e = code
        .commit(
            &mini,
            &CommitInput {
                ext_json: Some("{\"ext\": ".into()),
                ..commit("1.0.0", json!({}))
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "code_ext_json");
    assert!(e.to_string().contains("ext.json"), "{e}");
    assert_eq!(w.sim_code(&mini)["commits"], 0, "nothing reached WeChat");
    let e = code
        .commit(&mini, &commit("", json!({})))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "code_version");
    // An official account is not a mini program here.
    let e = code.pages("wx0000000000000000").await.unwrap_err();
    assert_eq!(e.code(), "code_not_mini_program");
    assert!(hint(&e).is_some());
    let e = code
        .commit(
            &mini,
            &CommitInput {
                template_id: 99,
                ..commit("1.0.0", json!({}))
            },
        )
        .await
        .unwrap_err();
    assert_eq!(errcode(&e), Some(85014));
    assert!(hint(&e).unwrap().contains("模板"), "{:?}", hint(&e));
    let e = code
        .submit_audit(&mini, &SubmitAudit::default())
        .await
        .unwrap_err();
    assert_eq!(errcode(&e), Some(85086));
    let q = code.quota(None).await.unwrap();
    assert_eq!((q.rest, q.limit), (100, 100));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn domains_webview_undo_speed_up_and_visit_status_go_through_to_wechat() {
    use wxdesk_core::code::{DomainAction, ServerDomains};
    let w = World::start(SimConfig {
        audit_secs: 3600,
        ..SimConfig::default()
    })
    .await;
    let mini = w.minis[0].clone();
    let code = &w.ctx.code;
    let d = code
        .domains(
            &mini,
            DomainAction::Add,
            &ServerDomains {
                requestdomain: vec![
                    "https://api.wxdesk-demo.com".into(),
                    "https://evil.example.com".into(),
                ],
                ..ServerDomains::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(d.current.requestdomain, vec!["https://api.wxdesk-demo.com"]);
    assert_eq!(d.invalid, vec!["https://evil.example.com"]);
    let web = code.webview_domains(&mini, None, &[]).await.unwrap();
    assert_eq!(web.len(), 2, "every webview domain of the platform");

    code.commit(&mini, &commit("1.0.0", json!({})))
        .await
        .unwrap();
    code.submit_audit(&mini, &SubmitAudit::default())
        .await
        .unwrap();
    code.speed_up(&mini, None).await.unwrap();
    let e = code.speed_up(&mini, None).await.unwrap_err();
    assert_eq!(errcode(&e), Some(89404), "sped up once");
    code.undo_audit(&mini).await.unwrap();
    let latest = code.latest_audit(&mini).await.unwrap().unwrap();
    assert_eq!(latest.state, AuditState::Withdrawn);
    // Nothing online yet: the visit status cannot change.
    let e = code.set_visit(&mini, false).await.unwrap_err();
    assert_eq!(errcode(&e), Some(85021));
    assert_eq!(code.status(&mini).await.unwrap().visit_open, Some(true));
}
