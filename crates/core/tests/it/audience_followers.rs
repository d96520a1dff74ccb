//! The follower table's queries: search by openid/unionid prefix and remark, filters by tag,
//! subscription state and time, keyset pages that visit every row once, and counts.

#![allow(clippy::unwrap_used)]

use crate::audience_support;

use audience_support::{apply_follow, audience, store};
use rusqlite::params;
use wxdesk_core::audience::{Audience, FollowerFilter};

const APPID: &str = "wxfollowers00001";

fn oid(n: u32) -> String {
    format!("oF{n:026}")
}

/// 100 followers: unionid for even n, remark "VIP客户n" for n % 10 == 0, tag 7 for n % 3 == 0,
/// subscribed at 1_700_000_000 + n; follower 99 has unsubscribed. Another account has one.
async fn seeded() -> Audience {
    let store = store();
    store
        .call(|c| {
            let tx = c.transaction()?;
            for n in 0..100u32 {
                apply_follow(&tx, APPID, &oid(n), 1_700_000_000 + i64::from(n), true)?;
                let unionid = (n % 2 == 0).then(|| format!("oU{n:026}"));
                let remark = if n % 10 == 0 {
                    format!("VIP客户{n}")
                } else {
                    String::new()
                };
                tx.execute(
                    "UPDATE followers SET unionid = ?3, remark = ?4, info_run = 1 \
                     WHERE appid = ?1 AND openid = ?2",
                    params![APPID, oid(n), unionid, remark],
                )?;
                if n % 3 == 0 {
                    tx.execute(
                        "INSERT INTO follower_tags (appid, tag_id, openid) VALUES (?1, 7, ?2)",
                        params![APPID, oid(n)],
                    )?;
                }
            }
            apply_follow(&tx, APPID, &oid(99), 1_800_000_000, false)?;
            apply_follow(&tx, "wxother", &oid(1), 1_700_000_000, true)?;
            tx.commit()?;
            Ok(())
        })
        .await
        .unwrap();
    audience(&store)
}

async fn openids(audience: &Audience, filter: FollowerFilter) -> Vec<String> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        // Small pages, so the keyset cursor is exercised.
        let page = audience
            .followers(APPID, filter.clone(), after, 7)
            .await
            .unwrap();
        assert!(page.items.len() <= 7);
        out.extend(page.items.into_iter().map(|f| f.openid));
        match page.next_after {
            Some(n) => after = Some(n),
            None => return out,
        }
    }
}

async fn count(audience: &Audience, filter: FollowerFilter) -> u64 {
    audience.count(APPID, filter).await.unwrap().count
}

fn ids(ns: impl IntoIterator<Item = u32>) -> Vec<String> {
    ns.into_iter().map(oid).collect()
}

#[tokio::test]
async fn keyset_pages_visit_every_follower_once_in_openid_order() {
    let store = seeded().await;
    let all = openids(&store, FollowerFilter::default()).await;
    assert_eq!(all, ids(0..100));
    assert_eq!(count(&store, FollowerFilter::default()).await, 100);
    let c = store.totals(APPID).await.unwrap();
    assert_eq!(
        (c.total, c.subscribed, c.unsubscribed, c.with_unionid),
        (100, 99, 1, 50)
    );
}

#[tokio::test]
async fn search_matches_openid_and_unionid_prefixes_and_remark_text() {
    let store = seeded().await;
    let search = |q: &str| FollowerFilter {
        search: Some(q.to_string()),
        ..Default::default()
    };
    // openid prefix: oF000…0004x → 40..49.
    let prefix = format!("oF{}", &oid(40)[2..27]);
    assert_eq!(openids(&store, search(&prefix)).await, ids(40..50));
    // unionid prefix (only even followers have one).
    let uprefix = format!("oU{}", &oid(40)[2..27]);
    assert_eq!(
        openids(&store, search(&uprefix)).await,
        ids([40, 42, 44, 46, 48])
    );
    // Remark anywhere in the text.
    assert_eq!(openids(&store, search("客户3")).await, ids([30]));
    assert_eq!(count(&store, search("VIP")).await, 10);
    // Whitespace-only search is no search.
    assert_eq!(count(&store, search("  ")).await, 100);
}

#[tokio::test]
async fn filters_by_tag_subscription_and_time_combine() {
    let store = seeded().await;
    let tag = FollowerFilter {
        tag_id: Some(7),
        ..Default::default()
    };
    assert_eq!(
        openids(&store, tag.clone()).await,
        ids((0..100).filter(|n| n % 3 == 0))
    );
    let tag_following = FollowerFilter {
        subscribed: Some(true),
        ..tag.clone()
    };
    assert_eq!(
        count(&store, tag_following).await,
        33,
        "99 (tagged) has unsubscribed"
    );
    let gone = FollowerFilter {
        subscribed: Some(false),
        ..Default::default()
    };
    assert_eq!(openids(&store, gone).await, ids([99]));
    let window = FollowerFilter {
        subscribed_from: Some(1_700_000_010),
        subscribed_until: Some(1_700_000_020),
        ..Default::default()
    };
    assert_eq!(openids(&store, window.clone()).await, ids(10..20));
    let tagged_window = FollowerFilter {
        tag_id: Some(7),
        ..window
    };
    assert_eq!(openids(&store, tagged_window).await, ids([12, 15, 18]));
}
