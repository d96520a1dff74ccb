//! The full-network release (全网发布) automated test, protocol section F: which pushes on the
//! message URL the relay answers itself, synchronously, and what it answers.

use wxdesk_wechat::callback::Callback;

/// WeChat's dedicated test accounts (groups 1–5): official account and mini program of each,
/// as (appid, original id).
pub const TEST_ACCOUNTS: [(&str, &str); 10] = [
    ("wx570bc396a51b8ff8", "gh_3c884a361561"),
    ("wxd101a85aa106f53e", "gh_8dad206e9538"),
    ("wx9252c5e0bb1836fc", "gh_c0f28a78b318"),
    ("wxc39235c15087f6f3", "gh_905ae9d01059"),
    ("wx8e1097c5bc82cde9", "gh_3f222ed8d140"),
    ("wx7720d01d4b2a4500", "gh_393666f1fdf4"),
    ("wx14550af28c71a144", "gh_26128078e9ab"),
    ("wx05d483572dcd5d8b", "gh_39abb5d4e1b7"),
    ("wxa35b9c23cfe664eb", "gh_2b3713f184a6"),
    ("wx5910277cae6fd970", "gh_7818dcb60240"),
];

/// The text case's content and the reply it expects.
pub const TEXT_CASE: &str = "TESTCOMPONENT_MSG_TYPE_TEXT";
/// Prefix of the API-reply case.
pub const QUERY_AUTH_CODE_PREFIX: &str = "QUERY_AUTH_CODE:";

/// Whether this push comes from a release-test account (by the `$APPID$` path segment or the
/// original id in ToUserName).
pub fn is_test_account(appid: &str, to_user_name: Option<&str>) -> bool {
    TEST_ACCOUNTS
        .iter()
        .any(|(a, gh)| *a == appid || to_user_name.is_some_and(|t| t == *gh))
}

/// What the relay does with a push on the message URL.
#[derive(Debug, PartialEq, Eq)]
pub enum Action {
    /// Answer at once with an encrypted passive text reply (cases 2 and 5).
    PassiveText {
        to_openid: String,
        from_gh: String,
        content: String,
    },
    /// Answer `success` and hand the code to the app as a `query_auth_code` event (cases 3, 4).
    QueryAuthCode {
        openid: String,
        to_user_name: String,
        code: String,
        msg_id: i64,
    },
    /// Not release-test traffic: store it as an ordinary event.
    Ordinary,
}

/// Decide. The two text cases are recognised by their content on any account (the strings are
/// reserved by WeChat for this test); the event case only on the test accounts, so a real
/// account's LOCATION events are never answered with test text.
pub fn classify(appid: &str, cb: &Callback) -> Action {
    match cb {
        Callback::Text {
            to_user_name,
            from_user_name,
            content,
            msg_id,
            ..
        } => {
            if content == TEXT_CASE {
                Action::PassiveText {
                    to_openid: from_user_name.clone(),
                    from_gh: to_user_name.clone(),
                    content: format!("{TEXT_CASE}_callback"),
                }
            } else if let Some(code) = content.strip_prefix(QUERY_AUTH_CODE_PREFIX) {
                Action::QueryAuthCode {
                    openid: from_user_name.clone(),
                    to_user_name: to_user_name.clone(),
                    code: code.to_owned(),
                    msg_id: *msg_id,
                }
            } else {
                Action::Ordinary
            }
        }
        Callback::Unknown {
            event: Some(event),
            to_user_name: Some(to),
            from_user_name: Some(from),
            ..
        } if is_test_account(appid, Some(to)) => Action::PassiveText {
            to_openid: from.clone(),
            from_gh: to.clone(),
            content: format!("{event}from_callback"),
        },
        Callback::Subscribe {
            to_user_name,
            from_user_name,
            ..
        } if is_test_account(appid, Some(to_user_name)) => Action::PassiveText {
            to_openid: from_user_name.clone(),
            from_gh: to_user_name.clone(),
            content: "subscribefrom_callback".into(),
        },
        _ => Action::Ordinary,
    }
}

/// The plaintext of a passive text reply (protocol B.5): To/From swapped relative to the push.
pub fn passive_text_xml(to_openid: &str, from_gh: &str, content: &str, now: i64) -> String {
    format!(
        "<xml><ToUserName><![CDATA[{}]]></ToUserName><FromUserName><![CDATA[{}]]></FromUserName>\
         <CreateTime>{now}</CreateTime><MsgType><![CDATA[text]]></MsgType>\
         <Content><![CDATA[{}]]></Content></xml>",
        cdata(to_openid),
        cdata(from_gh),
        cdata(content)
    )
}

/// Make a value safe inside CDATA: split any `]]>` so it cannot close the section early.
fn cdata(s: &str) -> String {
    s.replace("]]>", "]]]]><![CDATA[>")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(content: &str) -> Callback {
        Callback::Text {
            to_user_name: "gh_3c884a361561".into(),
            from_user_name: "ozy4qt5QUADNXORxCVipKMV9dss0".into(),
            create_time: 1,
            content: content.into(),
            msg_id: 42,
        }
    }

    #[test]
    fn text_case_gets_the_callback_suffix_with_users_swapped() {
        assert_eq!(
            classify("wx570bc396a51b8ff8", &text("TESTCOMPONENT_MSG_TYPE_TEXT")),
            Action::PassiveText {
                to_openid: "ozy4qt5QUADNXORxCVipKMV9dss0".into(),
                from_gh: "gh_3c884a361561".into(),
                content: "TESTCOMPONENT_MSG_TYPE_TEXT_callback".into(),
            }
        );
    }

    #[test]
    fn query_auth_code_keeps_everything_after_the_first_colon() {
        assert_eq!(
            classify(
                "wx570bc396a51b8ff8",
                &text("QUERY_AUTH_CODE:queryauthcode@@@a:b")
            ),
            Action::QueryAuthCode {
                openid: "ozy4qt5QUADNXORxCVipKMV9dss0".into(),
                to_user_name: "gh_3c884a361561".into(),
                code: "queryauthcode@@@a:b".into(),
                msg_id: 42,
            }
        );
    }

    #[test]
    fn events_of_real_accounts_are_not_answered_with_test_text() {
        let location = |to: &str| Callback::Unknown {
            raw: String::new(),
            msg_type: Some("event".into()),
            event: Some("LOCATION".into()),
            info_type: None,
            to_user_name: Some(to.into()),
            from_user_name: Some("o1".into()),
            create_time: Some(1),
        };
        assert_eq!(
            classify("wx0000000000000001", &location("gh_realaccount")),
            Action::Ordinary
        );
        assert!(matches!(
            classify("wx0000000000000001", &location("gh_2b3713f184a6")),
            Action::PassiveText { content, .. } if content == "LOCATIONfrom_callback"
        ));
    }

    #[test]
    fn cdata_cannot_be_closed_by_content() {
        let xml = passive_text_xml("o", "gh", "a]]>b", 1);
        assert!(xml.contains("<Content><![CDATA[a]]]]><![CDATA[>b]]></Content>"));
    }
}
