use super::*;
use crate::error::Error;

#[test]
fn component_verify_ticket_from_the_protocol_example() {
    let xml = "<xml><AppId>some_appid</AppId><CreateTime>1413192605</CreateTime>\n<InfoType>component_verify_ticket</InfoType><ComponentVerifyTicket>some_verify_ticket</ComponentVerifyTicket></xml>";
    assert_eq!(
        parse(xml).unwrap(),
        Callback::ComponentVerifyTicket {
            app_id: "some_appid".into(),
            create_time: 1413192605,
            ticket: "some_verify_ticket".into(),
        }
    );
}

fn auth_xml(info_type: &str) -> String {
    format!(
        "<xml><AppId><![CDATA[wx5a9d0c0e7f3b1a2c]]></AppId><CreateTime>1700000000</CreateTime><InfoType><![CDATA[{info_type}]]></InfoType><AuthorizerAppid><![CDATA[wxf8b4f85f3a794e77]]></AuthorizerAppid><AuthorizationCode><![CDATA[queryauthcode@@@abc]]></AuthorizationCode><AuthorizationCodeExpiredTime>1700000600</AuthorizationCodeExpiredTime><PreAuthCode><![CDATA[preauthcode@@@xyz]]></PreAuthCode></xml>"
    )
}

fn expected_change() -> AuthChange {
    AuthChange {
        app_id: "wx5a9d0c0e7f3b1a2c".into(),
        create_time: 1700000000,
        authorizer_appid: "wxf8b4f85f3a794e77".into(),
        authorization_code: "queryauthcode@@@abc".into(),
        authorization_code_expired_time: 1700000600,
        pre_auth_code: "preauthcode@@@xyz".into(),
    }
}

#[test]
fn authorized_and_updateauthorized_carry_every_field() {
    assert_eq!(
        parse(&auth_xml("authorized")).unwrap(),
        Callback::Authorized(expected_change())
    );
    assert_eq!(
        parse(&auth_xml("updateauthorized")).unwrap(),
        Callback::UpdateAuthorized(expected_change())
    );
}

#[test]
fn unauthorized_has_only_the_authorizer() {
    let xml = "<xml><AppId>wxc</AppId><CreateTime>5</CreateTime><InfoType>unauthorized</InfoType><AuthorizerAppid>wxa</AuthorizerAppid></xml>";
    assert_eq!(
        parse(xml).unwrap(),
        Callback::Unauthorized {
            app_id: "wxc".into(),
            create_time: 5,
            authorizer_appid: "wxa".into()
        }
    );
}

#[test]
fn template_send_job_finish_reads_msgid_with_capital_id_and_keeps_status_raw() {
    let xml = "<xml><ToUserName><![CDATA[gh_7f083739789a]]></ToUserName>\n<FromUserName><![CDATA[oia2TjuEGTNoeX76QEjQNrcURxG8]]></FromUserName>\n<CreateTime>1395658920</CreateTime><MsgType><![CDATA[event]]></MsgType>\n<Event><![CDATA[TEMPLATESENDJOBFINISH]]></Event><MsgID>200163836</MsgID>\n<Status><![CDATA[failed: system failed]]></Status></xml>";
    let cb = parse(xml).unwrap();
    assert_eq!(
        cb,
        Callback::TemplateSendJobFinish {
            to_user_name: "gh_7f083739789a".into(),
            from_user_name: "oia2TjuEGTNoeX76QEjQNrcURxG8".into(),
            create_time: 1395658920,
            msg_id: 200163836,
            status: "failed: system failed".into(),
        }
    );
    assert_eq!(cb.template_send_succeeded(), Some(false));
    let ok = xml.replace("failed: system failed", "success");
    assert_eq!(parse(&ok).unwrap().template_send_succeeded(), Some(true));
}

#[test]
fn subscribe_with_and_without_event_key_and_unsubscribe() {
    let base = "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[o1]]></FromUserName><CreateTime>7</CreateTime><MsgType><![CDATA[event]]></MsgType>";
    let sub = format!(
        "{base}<Event><![CDATA[subscribe]]></Event><EventKey><![CDATA[qrscene_42]]></EventKey><Ticket>t</Ticket></xml>"
    );
    assert_eq!(
        parse(&sub).unwrap(),
        Callback::Subscribe {
            to_user_name: "gh_1".into(),
            from_user_name: "o1".into(),
            create_time: 7,
            event_key: Some("qrscene_42".into())
        }
    );
    let plain = format!(
        "{base}<Event><![CDATA[subscribe]]></Event><EventKey><![CDATA[]]></EventKey></xml>"
    );
    assert!(matches!(
        parse(&plain).unwrap(),
        Callback::Subscribe {
            event_key: None,
            ..
        }
    ));
    let unsub = format!("{base}<Event><![CDATA[unsubscribe]]></Event></xml>");
    assert_eq!(
        parse(&unsub).unwrap(),
        Callback::Unsubscribe {
            to_user_name: "gh_1".into(),
            from_user_name: "o1".into(),
            create_time: 7
        }
    );
}

#[test]
fn text_message_keeps_content_whitespace_and_64_bit_msg_id() {
    let xml = "<xml><ToUserName><![CDATA[gh_a]]></ToUserName><FromUserName><![CDATA[o_b]]></FromUserName>\n<CreateTime>1348831860</CreateTime><MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[ this is a test ]]></Content><MsgId>1234567890123456789</MsgId><MsgDataId>1</MsgDataId></xml>";
    assert_eq!(
        parse(xml).unwrap(),
        Callback::Text {
            to_user_name: "gh_a".into(),
            from_user_name: "o_b".into(),
            create_time: 1348831860,
            content: " this is a test ".into(),
            msg_id: 1234567890123456789,
        }
    );
}

#[test]
fn image_message() {
    let xml = "<xml><ToUserName>gh_a</ToUserName><FromUserName>o_b</FromUserName><CreateTime>1</CreateTime><MsgType>image</MsgType><PicUrl>http://x/p.jpg</PicUrl><MediaId>m1</MediaId><MsgId>9</MsgId></xml>";
    assert_eq!(
        parse(xml).unwrap(),
        Callback::Image {
            to_user_name: "gh_a".into(),
            from_user_name: "o_b".into(),
            create_time: 1,
            pic_url: "http://x/p.jpg".into(),
            media_id: "m1".into(),
            msg_id: 9,
        }
    );
}

#[test]
fn unmodelled_event_is_unknown_with_raw_xml_and_known_fields() {
    let xml = "<xml><ToUserName>gh_a</ToUserName><FromUserName>o_b</FromUserName><CreateTime>3</CreateTime><MsgType>event</MsgType><Event>LOCATION</Event><Latitude>23.1</Latitude></xml>";
    assert_eq!(
        parse(xml).unwrap(),
        Callback::Unknown {
            raw: xml.into(),
            msg_type: Some("event".into()),
            event: Some("LOCATION".into()),
            info_type: None,
            to_user_name: Some("gh_a".into()),
            from_user_name: Some("o_b".into()),
            create_time: Some(3),
        }
    );
}

#[test]
fn known_type_with_a_missing_field_is_unknown_not_an_error() {
    let xml = "<xml><ToUserName>gh_a</ToUserName><FromUserName>o_b</FromUserName><CreateTime>x</CreateTime><MsgType>text</MsgType><Content>c</Content><MsgId>1</MsgId></xml>";
    assert!(matches!(
        parse(xml).unwrap(),
        Callback::Unknown {
            create_time: None,
            ..
        }
    ));
    let xml = "<xml><AppId>a</AppId><CreateTime>1</CreateTime><InfoType>component_verify_ticket</InfoType></xml>";
    assert!(matches!(
        parse(xml).unwrap(),
        Callback::Unknown {
            info_type: Some(_),
            ..
        }
    ));
    let xml = "<xml><AppId>a</AppId><CreateTime>1</CreateTime><InfoType>notify_third_fasteregister</InfoType></xml>";
    assert!(matches!(parse(xml).unwrap(), Callback::Unknown { .. }));
}

#[test]
fn billion_laughs_is_refused_without_expansion() {
    let xml = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<xml><MsgType>text</MsgType><Content>&lol3;</Content></xml>"#;
    assert!(matches!(parse(xml), Err(Error::XmlForbidden)));
}

#[test]
fn external_entity_is_refused() {
    let xml = r#"<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><ToUserName>&xxe;</ToUserName></xml>"#;
    assert!(matches!(parse(xml), Err(Error::XmlForbidden)));
    // Even an entity reference with no DOCTYPE at all.
    assert!(matches!(
        parse("<xml><Content>&xxe;</Content></xml>"),
        Err(Error::XmlForbidden)
    ));
}

#[test]
fn oversized_body_is_refused() {
    let xml = format!(
        "<xml><Content>{}</Content></xml>",
        "x".repeat(crate::xml::MAX_XML_BYTES + 1)
    );
    assert!(matches!(parse(&xml), Err(Error::XmlTooLarge { .. })));
}

#[test]
fn debug_redacts_the_ticket_and_the_raw_xml() {
    let xml = "<xml><AppId>a</AppId><CreateTime>1</CreateTime><InfoType>component_verify_ticket</InfoType><ComponentVerifyTicket>ticket@@@SECRET</ComponentVerifyTicket></xml>";
    let s = format!("{:?}", parse(xml).unwrap());
    assert!(!s.contains("SECRET"), "{s}");
    assert!(s.contains("<redacted>") && s.contains("ComponentVerifyTicket"));
    let unknown = "<xml><InfoType>x</InfoType><Code>SECRETCODE</Code></xml>";
    let s = format!("{:?}", parse(unknown).unwrap());
    assert!(!s.contains("SECRETCODE"), "{s}");
    assert!(s.contains(&format!("<{} bytes>", unknown.len())));
}

// ---- 订阅通知 events (protocol G.6) ----

const POPUP: &str = "<xml><ToUserName><![CDATA[gh_123456789abc]]></ToUserName>\
<FromUserName><![CDATA[otFpruAK8D-E6EfStSYonYSBZ8_4]]></FromUserName><CreateTime>1610969440</CreateTime>\
<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe_msg_popup_event]]></Event>\
<SubscribeMsgPopupEvent><List><TemplateId><![CDATA[VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc]]></TemplateId>\
<SubscribeStatusString><![CDATA[accept]]></SubscribeStatusString><PopupScene>2</PopupScene></List>\
<List><TemplateId><![CDATA[9nLIlbOQZC5Y89AZteFEux3WCXRRRG5Wfzkpssu4bLI]]></TemplateId>\
<SubscribeStatusString><![CDATA[reject]]></SubscribeStatusString><PopupScene>2</PopupScene></List>\
</SubscribeMsgPopupEvent></xml>";

#[test]
fn the_popup_event_of_protocol_g6_reads_every_item() {
    let Callback::SubscribeMsg(e) = parse(POPUP).unwrap() else {
        panic!("not a subscribe event");
    };
    assert_eq!(e.kind, SubscribeMsgKind::Popup);
    assert_eq!(e.from_user_name, "otFpruAK8D-E6EfStSYonYSBZ8_4");
    assert_eq!(e.create_time, 1610969440);
    assert_eq!(e.items.len(), 2);
    assert!(e.items[0].accepted());
    assert_eq!(e.items[0].popup_scene, Some(2));
    assert_eq!(
        e.items[1].template_id,
        "9nLIlbOQZC5Y89AZteFEux3WCXRRRG5Wfzkpssu4bLI"
    );
    assert!(!e.items[1].accepted());
}

#[test]
fn the_change_event_is_read_under_either_wrapper() {
    for wrapper in ["SubscribeMsgChangeEvent", "SubscribeMsgPopupEvent"] {
        let xml = format!(
            "<xml><ToUserName>gh_1</ToUserName><FromUserName>o1</FromUserName><CreateTime>5</CreateTime>\
<MsgType>event</MsgType><Event>subscribe_msg_change_event</Event><{wrapper}><List>\
<TemplateId>T1</TemplateId><SubscribeStatusString>reject</SubscribeStatusString></List></{wrapper}></xml>"
        );
        let Callback::SubscribeMsg(e) = parse(&xml).unwrap() else {
            panic!("not a subscribe event under {wrapper}");
        };
        assert_eq!(e.kind, SubscribeMsgKind::Change);
        assert_eq!(e.items[0].template_id, "T1");
        assert_eq!(e.items[0].popup_scene, None);
    }
}

#[test]
fn the_sent_event_carries_the_64_bit_msgid_and_the_result() {
    let xml = "<xml><ToUserName>gh_1</ToUserName><FromUserName>o1</FromUserName><CreateTime>1610969468</CreateTime>\
<MsgType>event</MsgType><Event>subscribe_msg_sent_event</Event><SubscribeMsgSentEvent><List>\
<TemplateId>T1</TemplateId><MsgID>1700827132819554304</MsgID><ErrorCode>0</ErrorCode>\
<ErrorStatus><![CDATA[success]]></ErrorStatus></List></SubscribeMsgSentEvent></xml>";
    let Callback::SubscribeMsg(e) = parse(xml).unwrap() else {
        panic!("not a subscribe event");
    };
    assert_eq!(e.kind, SubscribeMsgKind::Sent);
    assert_eq!(e.items[0].msg_id, Some(1_700_827_132_819_554_304));
    assert_eq!(e.items[0].error_code, Some(0));
    assert_eq!(e.items[0].error_status.as_deref(), Some("success"));
}

#[test]
fn a_subscribe_event_without_items_stays_unknown() {
    let xml = "<xml><ToUserName>gh_1</ToUserName><FromUserName>o1</FromUserName><CreateTime>5</CreateTime>\
<MsgType>event</MsgType><Event>subscribe_msg_popup_event</Event></xml>";
    assert!(matches!(parse(xml).unwrap(), Callback::Unknown { .. }));
}
