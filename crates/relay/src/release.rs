//! The full-network release (全网发布) automated test, protocol section F: which pushes on the
//! message URL the relay answers itself, synchronously, and what it answers.

use wxdesk_wechat::callback::Callback;
use wxdesk_wechat::release::{QUERY_AUTH_CODE_PREFIX, TEXT_CASE, is_test_account, is_test_pair};

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

/// Decide. The passive text case is recognised by its content on any account (the string is
/// reserved by WeChat for this test, and answering it costs nothing); the event case only on
/// the test accounts, so a real account's LOCATION events are never answered with test text.
/// `QUERY_AUTH_CODE:` makes the app spend API calls (api_query_auth, a customer-service
/// message), so it is test traffic only when the signed ToUserName and the URL's appid are the
/// same test account; from anyone else it is an ordinary text.
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
            } else if let Some(code) = content
                .strip_prefix(QUERY_AUTH_CODE_PREFIX)
                .filter(|_| is_test_pair(appid, to_user_name))
            {
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
    fn query_auth_code_from_any_other_account_is_an_ordinary_text() {
        let to_real = Callback::Text {
            to_user_name: "gh_realaccount".into(),
            from_user_name: "o1".into(),
            create_time: 1,
            content: "QUERY_AUTH_CODE:queryauthcode@@@x".into(),
            msg_id: 42,
        };
        assert_eq!(classify("wx0000000000000001", &to_real), Action::Ordinary);
        // The test account's appid in the (unsigned) path is not enough…
        assert_eq!(classify("wx570bc396a51b8ff8", &to_real), Action::Ordinary);
        // …nor its original id under another account's path.
        let msg = text("QUERY_AUTH_CODE:queryauthcode@@@x");
        assert_eq!(classify("wx0000000000000001", &msg), Action::Ordinary);
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
