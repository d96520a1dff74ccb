//! What the subscription pushes leave behind, applied through the feed handler on a real SQLite
//! store: accepts add up and sends use them, a long-term template needs one accept, a switch-off
//! clears everything, and an event applied twice counts once.

use rusqlite::Connection;
use serde_json::json;

use super::*;
use crate::feed::EventHandler;
use crate::feed::events::{EventKind, FeedEvent};

const APPID: &str = "wxoa";
const T1: &str = "T1";
const LONG: &str = "T-long";

fn popup(openid: &str, items: &[(&str, &str)], at: i64) -> String {
    let list: String = items
        .iter()
        .map(|(t, s)| {
            format!("<List><TemplateId><![CDATA[{t}]]></TemplateId><SubscribeStatusString><![CDATA[{s}]]></SubscribeStatusString><PopupScene>1</PopupScene></List>")
        })
        .collect();
    format!(
        "<xml><ToUserName>gh_1</ToUserName><FromUserName>{openid}</FromUserName><CreateTime>{at}</CreateTime><MsgType>event</MsgType><Event>subscribe_msg_popup_event</Event><SubscribeMsgPopupEvent>{list}</SubscribeMsgPopupEvent></xml>"
    )
}

fn change(openid: &str, t: &str, at: i64) -> String {
    format!(
        "<xml><ToUserName>gh_1</ToUserName><FromUserName>{openid}</FromUserName><CreateTime>{at}</CreateTime><MsgType>event</MsgType><Event>subscribe_msg_change_event</Event><SubscribeMsgChangeEvent><List><TemplateId>{t}</TemplateId><SubscribeStatusString>reject</SubscribeStatusString></List></SubscribeMsgChangeEvent></xml>"
    )
}

fn sent(openid: &str, t: &str, at: i64) -> String {
    format!(
        "<xml><ToUserName>gh_1</ToUserName><FromUserName>{openid}</FromUserName><CreateTime>{at}</CreateTime><MsgType>event</MsgType><Event>subscribe_msg_sent_event</Event><SubscribeMsgSentEvent><List><TemplateId>{t}</TemplateId><MsgID>1700827132819554304</MsgID><ErrorCode>0</ErrorCode><ErrorStatus>success</ErrorStatus></List></SubscribeMsgSentEvent></xml>"
    )
}

fn apply(conn: &mut Connection, seq: i64, xml: &str) {
    let tx = conn.transaction().unwrap();
    SubscriptionEvents
        .apply(
            &tx,
            &FeedEvent {
                seq,
                appid: Some(APPID.into()),
                received_at: 0,
                kind: EventKind::Other {
                    kind: "other".into(),
                    data: json!({ "xml": xml }),
                },
            },
        )
        .unwrap();
    tx.commit().unwrap();
}

fn store() -> Connection {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.sqlite3");
    let _store = Store::open_blocking(&path).unwrap();
    let conn = Connection::open(&path).unwrap();
    // Keep the directory: the connection lives for the test.
    std::mem::forget(dir);
    let tpl = |id: &str, kind| SubscribeTemplate {
        appid: APPID.into(),
        template_id: id.into(),
        title: "t".into(),
        content: "名称:{{thing1.DATA}}\n".into(),
        example: String::new(),
        kind,
        fields: Vec::new(),
        synced_at: 1,
    };
    db::replace_templates(
        &conn,
        APPID,
        &[
            tpl(T1, SubscribeKind::OneTime),
            tpl(LONG, SubscribeKind::LongTerm),
        ],
    )
    .unwrap();
    conn
}

fn who(conn: &Connection, t: &str, long_term: bool) -> Vec<(String, u64)> {
    db::receivers(conn, APPID, t, long_term, 100)
        .unwrap()
        .1
        .into_iter()
        .map(|r| (r.openid, r.remaining))
        .collect()
}

#[test]
fn accepts_add_up_sends_use_them_and_a_popup_reject_keeps_them() {
    let mut c = store();
    apply(
        &mut c,
        1,
        &popup("oA", &[(T1, "accept"), (LONG, "reject")], 10),
    );
    apply(&mut c, 2, &popup("oA", &[(T1, "accept")], 11));
    apply(&mut c, 3, &popup("oB", &[(T1, "reject")], 12));
    assert_eq!(who(&c, T1, false), vec![("oA".to_string(), 2)]);
    apply(&mut c, 4, &popup("oA", &[(T1, "reject")], 13));
    assert_eq!(who(&c, T1, false), vec![("oA".to_string(), 2)]);
    apply(&mut c, 5, &sent("oA", T1, 14));
    apply(&mut c, 6, &sent("oA", T1, 15));
    assert!(who(&c, T1, false).is_empty());
    let g = db::grant(&c, APPID, T1, "oA").unwrap().unwrap();
    assert_eq!(
        (g.sent, g.remaining, g.last_action.as_str()),
        (2, 0, "reject")
    );
    // A sent event with nothing left does not go negative.
    apply(&mut c, 7, &sent("oA", T1, 16));
    assert_eq!(
        db::grant(&c, APPID, T1, "oA").unwrap().unwrap().remaining,
        0
    );
}

#[test]
fn a_long_term_template_needs_one_accept_until_switched_off() {
    let mut c = store();
    apply(&mut c, 1, &popup("oA", &[(LONG, "accept")], 10));
    apply(&mut c, 2, &sent("oA", LONG, 11));
    assert_eq!(who(&c, LONG, true).len(), 1);
    // Read as one-time (the stricter rule), the used accept is gone.
    assert!(who(&c, LONG, false).is_empty());
    apply(&mut c, 3, &change("oA", LONG, 12));
    assert!(who(&c, LONG, true).is_empty());
}

#[test]
fn an_event_applied_twice_counts_once_and_other_pushes_are_ignored() {
    let mut c = store();
    apply(&mut c, 5, &popup("oA", &[(T1, "accept")], 10));
    apply(&mut c, 5, &popup("oA", &[(T1, "accept")], 10));
    assert_eq!(who(&c, T1, false), vec![("oA".to_string(), 1)]);
    apply(
        &mut c,
        6,
        "<xml><MsgType>event</MsgType><Event>VIEW</Event></xml>",
    );
    apply(&mut c, 7, "not xml at all");
    assert_eq!(who(&c, T1, false), vec![("oA".to_string(), 1)]);
}

#[test]
fn deleting_a_template_forgets_its_grants() {
    let mut c = store();
    apply(&mut c, 1, &popup("oA", &[(T1, "accept")], 10));
    db::remove_template(&c, APPID, T1).unwrap();
    assert!(db::grant(&c, APPID, T1, "oA").unwrap().is_none());
    assert!(db::template(&c, APPID, T1).unwrap().is_none());
}

#[test]
fn adding_checks_keywords_and_scene_before_asking_wechat() {
    assert!(check_kids(&[1]).is_err());
    assert!(check_kids(&[1, 1]).is_err());
    assert!(check_kids(&[1, 2, 3, 4, 5, 6]).is_err());
    assert!(check_kids(&[3, 1]).is_ok());
    assert!(check_scene("").is_err());
    assert!(check_scene(&"字".repeat(16)).is_err());
    assert_eq!(check_scene(" 到站取件 ").unwrap(), "到站取件");
    assert!(check_tid("\"401\"").is_err());
    assert_eq!(check_tid(" 401 ").unwrap(), "401");
    let e = check_scene("").unwrap_err();
    assert!(
        !e.message(crate::Lang::En)
            .chars()
            .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
    );
}
