//! The unionid bridge against the real wxdesk-sim: mini-program users (account 1) mapped to the
//! followers of the official account of the same principal (account 0) through unionid.

#![allow(clippy::unwrap_used)]

use crate::audience_support;

use audience_support::{Sim, apply_follow, audience, store};
use tokio_util::sync::CancellationToken;
use wxdesk_core::audience::{
    ImportSource, ListSource, MINI_OPENID_VAR, SyncOptions, Unmatched, sync_followers,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mini_program_users_map_to_followers_by_unionid_with_each_miss_explained() {
    let sim = Sim::start(300).await;
    let api = sim.api().await;
    let store = store();
    let (oa, mini) = (sim.appid(0), sim.appid(1));
    let cancel = CancellationToken::new();
    sync_followers(&api, &store, &oa, SyncOptions::default(), &|_| {}, &cancel)
        .await
        .unwrap();

    let mut csv = String::from("openid,unionid,积分\n");
    // Users 0..5 of the mini program follow the account (same person, same unionid).
    for i in 0..5 {
        let (openid, unionid) = sim.user(&mini, i).await;
        csv.push_str(&format!("{openid},{},{}\n", unionid.unwrap(), i * 10));
    }
    // User 2 again: a duplicate row.
    let (o2, u2) = sim.user(&mini, 2).await;
    csv.push_str(&format!("{o2},{},20\n", u2.unwrap()));
    // Users 400 and 401 use the mini program but do not follow the account.
    for i in [400, 401] {
        let (openid, unionid) = sim.user(&mini, i).await;
        csv.push_str(&format!("{openid},{},0\n", unionid.unwrap()));
    }
    // Two users without unionid (the mini program's unbound past).
    csv.push_str("oMINIwithoutunionid000000001,,0\noMINIwithoutunionid000000002,,0\n");
    // User 4 unfollowed since the sync (feed event).
    let (follower4, _) = sim.user(&oa, 4).await;
    let id = oa.clone();
    store
        .call(move |c| {
            let tx = c.transaction()?;
            apply_follow(&tx, &id, &follower4, 4_000_000_000, false)?;
            tx.commit()?;
            Ok(())
        })
        .await
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("users.csv");
    std::fs::write(&file, csv).unwrap();
    let audience = audience(&store);
    let r = audience
        .bridge_preview(&oa, ImportSource::File(file.clone()))
        .await
        .unwrap();
    assert_eq!(r.rows_read, 10);
    assert_eq!(
        (
            r.matched,
            r.duplicates_removed,
            r.not_following,
            r.no_unionid,
            r.unsubscribed
        ),
        (4, 1, 2, 2, 1)
    );
    assert_eq!(r.followers_without_details, 0);
    let whys: Vec<(u64, Unmatched)> = r.unmatched.iter().map(|u| (u.line, u.why)).collect();
    assert_eq!(
        whys,
        vec![
            (6, Unmatched::Unsubscribed),
            (8, Unmatched::NotFollowing),
            (9, Unmatched::NotFollowing),
            (10, Unmatched::NoUnionid),
            (11, Unmatched::NoUnionid),
        ]
    );
    let json = serde_json::to_value(&r.unmatched[4]).unwrap();
    assert_eq!(json["why"], "no_unionid", "the UI words the reason: {json}");
    assert_eq!(
        r.variables,
        vec![MINI_OPENID_VAR.to_string(), "积分".to_string()]
    );
    // Matched rows carry the official account's openid, not the mini program's.
    let (follower0, _) = sim.user(&oa, 0).await;
    let (mini0, _) = sim.user(&mini, 0).await;
    assert_ne!(follower0, mini0);
    assert_eq!(r.sample[0].openid, follower0);
    assert_eq!(r.sample[0].values, vec![mini0.clone(), "0".to_string()]);

    // Saving reads the file again: the same four followers become the list.
    let list = audience
        .bridge_save(&oa, "小程序老用户", ImportSource::File(file))
        .await
        .unwrap();
    let members = audience.members(list.id, None, 10).await.unwrap();
    assert_eq!(list.member_count, 4);
    assert_eq!(
        list.source,
        ListSource::UnionidBridge {
            file_name: "users.csv".into()
        }
    );
    let m0 = members
        .items
        .iter()
        .find(|m| m.openid == follower0)
        .unwrap();
    assert_eq!(m0.vars[MINI_OPENID_VAR], mini0);
    assert_eq!(m0.vars["积分"], "0");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_file_without_a_unionid_column_is_refused_with_the_reason() {
    let store = store();
    let csv = "openid,积分\noMINIwithoutunionid000000001,1\n";
    let err = audience(&store)
        .bridge_preview("wxa", ImportSource::Bytes(csv.into()))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "找不到 unionid 列：请在第一行把该列命名为 unionid"
    );
    assert_eq!(
        err.message(wxdesk_core::Lang::En),
        "No unionid column found: name that column unionid in the first row."
    );
}
