//! Sending the rest of the messaging mission through `ctx.compose` and the durable engine, on
//! the sandbox (real sim and relay): a 订阅通知 goes only to users whose accept reached the app
//! through the relay (the others refused before sending), its delivery comes back as WeChat's
//! sent event; uniform_send reaches WeChat and comes back as 45109 with the replacement named;
//! a template message's mini-program jump that WeChat refuses (40165) stops the job at the
//! first row; and seed 002 whole — mini-program users file → bridge list → template message
//! that opens the mini program → the sim records the jump for each recipient.
#![allow(clippy::unwrap_used)]

use crate::messaging_support;

use std::collections::{BTreeMap, BTreeSet};

use messaging_support::World;
use serde_json::Value;
use wxdesk_core::audience::{ImportSource, SyncOptions};
use wxdesk_core::compose::{Jump, RecipientSource, SubscribeDraft, TemplateDraft, UniformDraft};
use wxdesk_core::send::{
    Delivery, HistoryFilter, JobStatus, MiniProgram, PauseReason, RecipientState,
};
use wxdesk_core::subscriptions::SubscribeKind;

/// The sim's example values of a template's keywords (each keeps its rule).
async fn example_data(w: &World, template_id: &str) -> BTreeMap<String, String> {
    let acct = w.sim_account(&w.oa).await;
    let t = acct["subscribe_templates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["priTmplId"] == template_id)
        .unwrap()
        .clone();
    t["keys"]
        .as_array()
        .unwrap()
        .iter()
        .zip(t["examples"].as_array().unwrap())
        .map(|(k, v)| (k.as_str().unwrap().into(), v.as_str().unwrap().into()))
        .collect()
}

fn pasted(openids: &[&String]) -> String {
    let mut csv = String::from("openid\n");
    for o in openids {
        csv.push_str(o);
        csv.push('\n');
    }
    csv
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notice_goes_only_to_subscribers_and_its_delivery_comes_back_through_the_relay() {
    let w = World::start().await;
    w.ctx.sends.share_lock_when_idle();
    let templates = w.ctx.subscriptions.sync(&w.oa).await.unwrap();
    let t = templates
        .iter()
        .find(|t| t.kind == SubscribeKind::OneTime)
        .unwrap()
        .clone();
    let (a, _) = w.openid(&w.oa, 4).await;
    let (b, _) = w.openid(&w.oa, 5).await;
    w.user_subscribes(&a, &t.template_id, "accept").await;
    w.feed_until("a's accept", || async {
        w.ctx
            .subscriptions
            .receivers(&w.oa, &t.template_id, 10)
            .await
            .unwrap()
            .total
            == 1
    })
    .await;
    let mini = Jump::Mini {
        appid: w.mini.clone(),
        pagepath: "pages/order/list?from=notice".into(),
    };
    let draft = SubscribeDraft {
        appid: w.oa.clone(),
        template_id: t.template_id.clone(),
        title: String::new(),
        data: example_data(&w, &t.template_id).await,
        jump: mini,
    };
    let list = w
        .ctx
        .audience
        .import_save(
            &w.oa,
            "订阅用户",
            ImportSource::Pasted(pasted(&[&a, &b])),
            Default::default(),
        )
        .await
        .unwrap();
    let source = RecipientSource::List {
        list_id: list.list.id,
    };
    let reach = w
        .ctx
        .compose
        .subscribe_reach(&draft, &source)
        .await
        .unwrap();
    assert_eq!((reach.allowed, reach.refused.clone()), (1, vec![b.clone()]));

    let started = w
        .ctx
        .compose
        .start_subscribe(&draft, &source)
        .await
        .unwrap();
    assert_eq!(started.sent_to, 1);
    assert_eq!(started.refused, vec![b.clone()]);
    let job = w.ctx.sends.wait_idle(started.job_id).await.unwrap();
    assert_eq!(job.status, JobStatus::Completed);
    assert_eq!((job.counts.total, job.counts.sent), (1, 1));
    let state = w.sim_state();
    assert_eq!(state["sends"]["bizsend_accepted"], 1);
    let jumps: Vec<&Value> = state["jumps"].as_array().unwrap().iter().collect();
    assert_eq!(jumps.len(), 1);
    assert_eq!(jumps[0]["openid"], a.as_str());
    assert_eq!(jumps[0]["kind"], "subscribe");

    // WeChat's sent event: the accept is used, and the row is delivered.
    let filter = HistoryFilter {
        job_id: Some(started.job_id),
        ..Default::default()
    };
    w.feed_until("the sent event", || async {
        let page = w
            .ctx
            .history
            .list(filter.clone(), None, None)
            .await
            .unwrap();
        page.rows[0].delivery == Some(Delivery::Delivered)
    })
    .await;
    let row = &w
        .ctx
        .history
        .list(filter.clone(), None, None)
        .await
        .unwrap()
        .rows[0];
    assert_eq!(row.openid, a);
    assert_eq!(
        row.jump.as_ref().and_then(|j| j.miniprogram.clone()),
        Some(MiniProgram {
            appid: w.mini.clone(),
            pagepath: "pages/order/list?from=notice".into()
        })
    );
    assert_eq!(
        w.ctx
            .subscriptions
            .receivers(&w.oa, &t.template_id, 10)
            .await
            .unwrap()
            .total,
        0
    );

    // Nobody can receive it now: refused, and nothing is written.
    let jobs_before = w.ctx.sends.list(None, None, 500).await.unwrap().len();
    let e = w
        .ctx
        .compose
        .start_subscribe(&draft, &source)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("43101"), "{e}");
    assert_eq!(
        w.ctx.sends.list(None, None, 500).await.unwrap().len(),
        jobs_before
    );
    // A value that breaks its rule is refused in the draft already (every keyword is needed).
    let mut incomplete = draft.clone();
    incomplete.data.pop_first();
    assert_eq!(
        w.ctx
            .compose
            .subscribe_spec(&incomplete)
            .await
            .unwrap_err()
            .code(),
        "invalid"
    );
    w.sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uniform_send_reaches_wechat_and_comes_back_as_45109_with_the_replacement() {
    let w = World::start().await;
    w.ctx.sends.share_lock_when_idle();
    let (to, _) = w.openid(&w.mini, 1).await;
    let draft = UniformDraft {
        appid: w.mini.clone(),
        mp_appid: w.oa.clone(),
        template_id: "T".repeat(43),
        data: BTreeMap::from([("keyword1".to_string(), "已发货".to_string())]),
        jump: Jump::Mini {
            appid: w.mini.clone(),
            pagepath: "pages/order/list".into(),
        },
    };
    let e = w.ctx.compose.uniform_send(&draft, &to).await.unwrap_err();
    let zh = e.message(wxdesk_core::Lang::Zh);
    assert!(zh.contains("45109"), "{zh}");
    assert!(
        zh.contains(&format!("--mini {}:pages/order/list", w.mini)),
        "{zh}"
    );
    assert!(e.message(wxdesk_core::Lang::En).contains("withdrew"));
    // It did reach WeChat: the attempt is in 发送记录 with WeChat's answer.
    let page = w
        .ctx
        .history
        .list(HistoryFilter::default(), None, None)
        .await
        .unwrap();
    assert_eq!(page.rows[0].errcode, Some(45109));
    let e = w
        .ctx
        .compose
        .uniform_send(
            &UniformDraft {
                appid: w.oa.clone(),
                ..draft
            },
            &to,
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "invalid");
    w.sandbox.shutdown().await;
}

/// A legacy template (keywordN take any short text) of the service account.
async fn legacy_template(w: &World) -> (String, Vec<String>) {
    w.ctx.templates.sync(&w.oa).await.unwrap();
    let t = w
        .ctx
        .templates
        .list(&w.oa)
        .await
        .unwrap()
        .into_iter()
        .find(|t| {
            t.fields
                .iter()
                .all(|f| f.key.starts_with("keyword") || f.key == "first" || f.key == "remark")
        })
        .unwrap();
    let keys = t
        .fields
        .iter()
        .filter(|f| f.key.starts_with("keyword"))
        .map(|f| f.key.clone())
        .collect();
    (t.template_id, keys)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jump_wechat_refuses_stops_the_job_at_the_first_row_and_a_bad_one_never_starts() {
    let w = World::start().await;
    w.ctx.sends.share_lock_when_idle();
    let (template_id, keys) = legacy_template(&w).await;
    let mut openids = Vec::new();
    for i in 0..4 {
        openids.push(w.openid(&w.oa, i).await.0);
    }
    let refs: Vec<&String> = openids.iter().collect();
    let list = w
        .ctx
        .audience
        .import_save(
            &w.oa,
            "四人",
            ImportSource::Pasted(pasted(&refs)),
            Default::default(),
        )
        .await
        .unwrap();
    let source = RecipientSource::List {
        list_id: list.list.id,
    };
    let draft = |jump| TemplateDraft {
        appid: w.oa.clone(),
        template_id: template_id.clone(),
        title: String::new(),
        data: keys
            .iter()
            .map(|k| (k.clone(), "测试".to_string()))
            .collect(),
        jump,
    };
    // Not a page path: refused before anything is written.
    let bad = draft(Jump::Mini {
        appid: w.mini.clone(),
        pagepath: "https://m.example.com".into(),
    });
    assert_eq!(
        w.ctx
            .sends
            .start_draft(&bad, &source)
            .await
            .unwrap_err()
            .code(),
        "invalid"
    );
    // A page the released version does not have: WeChat's 40165 pauses the job.
    let job_id = w
        .ctx
        .sends
        .start_draft(
            &draft(Jump::Mini {
                appid: w.mini.clone(),
                pagepath: "pages/nowhere".into(),
            }),
            &source,
        )
        .await
        .unwrap();
    let job = w.ctx.sends.wait_idle(job_id).await.unwrap();
    assert_eq!(job.status, JobStatus::Paused, "{job:?}");
    assert!(
        matches!(
            &job.pause_reason,
            Some(PauseReason::Account {
                errcode: Some(40165),
                ..
            })
        ),
        "{:?}",
        job.pause_reason
    );
    assert_eq!(job.counts.sent, 0);
    assert!(job.counts.pending() >= 3, "{:?}", job.counts);
    assert_eq!(w.sim_state()["sends"]["accepted"], 0);
    w.sandbox.shutdown().await;
}

/// Seed 002: the mini program's users (openid + unionid, as `mini session` gives them) become
/// the official account's followers through unionid, and a template message that opens the
/// mini program reaches each — the sim records the jump per recipient.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_002_mini_program_users_to_a_bridge_list_to_a_template_message_that_opens_the_mini_program()
 {
    let w = World::start().await;
    w.ctx.sends.share_lock_when_idle();
    w.ctx
        .audience
        .sync(&w.oa, SyncOptions::default(), &|_| {})
        .await
        .unwrap();
    // The mini program's users as its backend knows them: logged in with wx.login codes.
    let mut csv = String::from("openid,unionid,会员等级\n");
    let mut unionids = BTreeSet::new();
    for n in 0..6 {
        let s = w
            .ctx
            .mini
            .session(&w.mini, &format!("seed002-code-{n}"))
            .await
            .unwrap();
        let u = s.unionid.unwrap();
        csv.push_str(&format!("{},{},金卡{n}\n", s.openid, u));
        unionids.insert(u);
    }
    let list = w
        .ctx
        .audience
        .bridge_save(&w.oa, "小程序会员", ImportSource::Pasted(csv))
        .await
        .unwrap();
    assert_eq!(list.member_count as usize, unionids.len());
    let (template_id, keys) = legacy_template(&w).await;
    let mut data: BTreeMap<String, String> = keys
        .iter()
        .map(|k| (k.clone(), "会员权益".to_string()))
        .collect();
    data.insert(keys[0].clone(), "{{会员等级}}".into());
    let draft = TemplateDraft {
        appid: w.oa.clone(),
        template_id,
        title: "会员权益上线".into(),
        data,
        jump: Jump::Mini {
            appid: w.mini.clone(),
            pagepath: "pages/member/card?from=tm".into(),
        },
    };
    let source = RecipientSource::List { list_id: list.id };
    let job_id = w.ctx.sends.start_draft(&draft, &source).await.unwrap();
    let job = w.ctx.sends.wait_idle(job_id).await.unwrap();
    assert_eq!(job.status, JobStatus::Completed, "{job:?}");
    assert_eq!(job.counts.sent as usize, unionids.len());

    // Each recipient's message opens the mini program, as the sim recorded it.
    let members = w.ctx.audience.members(list.id, None, 100).await.unwrap();
    let jumps = w.sim_state()["jumps"].clone();
    for m in &members.items {
        let j = jumps
            .as_array()
            .unwrap()
            .iter()
            .find(|j| j["openid"] == m.openid.as_str())
            .unwrap_or_else(|| panic!("no jump for {}: {jumps}", m.openid));
        assert_eq!(j["miniprogram"]["appid"], w.mini.as_str());
        assert_eq!(j["miniprogram"]["pagepath"], "pages/member/card?from=tm");
        assert_eq!(j["kind"], "template");
    }
    // …and 发送记录 shows it on every row.
    let rows = w
        .ctx
        .history
        .list(
            HistoryFilter {
                job_id: Some(job_id),
                ..Default::default()
            },
            None,
            None,
        )
        .await
        .unwrap()
        .rows;
    assert!(rows.iter().all(|r| {
        r.state == RecipientState::Sent
            && r.jump
                .as_ref()
                .and_then(|j| j.miniprogram.as_ref())
                .map(|m| m.appid.as_str())
                == Some(w.mini.as_str())
    }));
    w.sandbox.shutdown().await;
}
