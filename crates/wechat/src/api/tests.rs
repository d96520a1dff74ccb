//! Every endpoint against a real HTTP server on loopback: exact method, path, query and body.

use std::collections::BTreeMap;

use serde_json::json;

use super::*;
use crate::errcode::ErrKind;
use crate::test_server::{Reply, TestServer};

async fn setup() -> (TestServer, Client) {
    let server = TestServer::start().await;
    let client = Client::new(ClientConfig::with_base_url(&server.base_url)).unwrap();
    (server, client)
}

fn secret(s: &str) -> Secret {
    Secret::new(s)
}

fn ok() -> Reply {
    Reply::json(json!({"errcode": 0, "errmsg": "ok"}))
}

#[tokio::test]
async fn start_push_ticket_posts_appid_and_secret() {
    let (srv, c) = setup().await;
    srv.route("/cgi-bin/component/api_start_push_ticket", ok());
    c.api_start_push_ticket("wxc", &secret("sec"))
        .await
        .unwrap();
    let r = srv.single();
    assert_eq!(r.method, "POST");
    assert_eq!(
        r.body,
        json!({"component_appid": "wxc", "component_secret": "sec"})
    );
    assert!(r.query.is_empty());
}

#[tokio::test]
async fn component_token_posts_the_three_fields_and_parses_the_token() {
    let (srv, c) = setup().await;
    srv.route(
        "/cgi-bin/component/api_component_token",
        Reply::json(json!({"component_access_token": "CAT1", "expires_in": 7200})),
    );
    let t = c
        .api_component_token("wxc", &secret("sec"), &secret("ticket@@@x"))
        .await
        .unwrap();
    assert_eq!(t.component_access_token.expose(), "CAT1");
    assert_eq!(t.expires_in, 7200);
    let r = srv.single();
    assert_eq!(r.method, "POST");
    assert_eq!(
        r.body,
        json!({"component_appid": "wxc", "component_appsecret": "sec", "component_verify_ticket": "ticket@@@x"})
    );
}

#[tokio::test]
async fn wechat_errors_become_typed_errors_with_kind_and_raw_errmsg() {
    let (srv, c) = setup().await;
    srv.route(
        "/cgi-bin/component/api_create_preauthcode",
        Reply::json(json!({"errcode": 61004, "errmsg": "access clientip is not registered requestIP: 1.2.3.4 rid: 6351110b-3677a1ed-080b10ce"})),
    );
    let err = c
        .api_create_preauthcode(&secret("CAT"), "wxc")
        .await
        .unwrap_err();
    let we = err.wechat().unwrap();
    assert_eq!(we.errcode, 61004);
    assert_eq!(we.kind, ErrKind::IpNotWhitelisted);
    assert!(we.errmsg.starts_with("access clientip is not registered"));
    assert!(we.info().unwrap().hint_en.contains("whitelist"));
}

#[tokio::test]
async fn preauthcode_sends_token_in_query_and_appid_in_body() {
    let (srv, c) = setup().await;
    srv.route(
        "/cgi-bin/component/api_create_preauthcode",
        Reply::json(json!({"pre_auth_code": "preauthcode@@@p", "expires_in": 600})),
    );
    let p = c
        .api_create_preauthcode(&secret("CAT"), "wxc")
        .await
        .unwrap();
    assert_eq!(
        (p.pre_auth_code.as_str(), p.expires_in),
        ("preauthcode@@@p", 600)
    );
    let r = srv.single();
    assert_eq!(
        r.query.get("component_access_token").map(String::as_str),
        Some("CAT")
    );
    assert_eq!(r.body, json!({"component_appid": "wxc"}));
}

#[tokio::test]
async fn query_auth_parses_tokens_and_granted_permission_sets() {
    let (srv, c) = setup().await;
    srv.route(
        "/cgi-bin/component/api_query_auth",
        Reply::json(json!({"authorization_info": {
            "authorizer_appid": "wxf8b4f85f3a794e77", "authorizer_access_token": "AAT", "expires_in": 7200,
            "authorizer_refresh_token": "refreshtoken@@@r",
            "func_info": [{"funcscope_category": {"id": 1}}, {"funcscope_category": {"id": 7}, "confirm_info": {"need_confirm": 0}}]}})),
    );
    let a = c
        .api_query_auth(&secret("CAT"), "wxc", "queryauthcode@@@q")
        .await
        .unwrap();
    assert_eq!(a.authorizer_appid, "wxf8b4f85f3a794e77");
    assert_eq!(a.authorizer_access_token.as_ref().unwrap().expose(), "AAT");
    assert_eq!(
        a.authorizer_refresh_token.as_ref().unwrap().expose(),
        "refreshtoken@@@r"
    );
    assert_eq!(a.granted_ids(), vec![1, 7]);
    let r = srv.single();
    assert_eq!(
        r.body,
        json!({"component_appid": "wxc", "authorization_code": "queryauthcode@@@q"})
    );
    assert_eq!(r.query["component_access_token"], "CAT");
}

#[tokio::test]
async fn authorizer_token_posts_refresh_token_and_reads_a_rotated_one() {
    let (srv, c) = setup().await;
    srv.route(
        "/cgi-bin/component/api_authorizer_token",
        Reply::json(json!({"authorizer_access_token": "AAT2", "expires_in": 7200, "authorizer_refresh_token": "R2"})),
    );
    let t = c
        .api_authorizer_token(&secret("CAT"), "wxc", "wxa", &secret("R1"))
        .await
        .unwrap();
    assert_eq!(t.authorizer_access_token.expose(), "AAT2");
    assert_eq!(t.authorizer_refresh_token.unwrap().expose(), "R2");
    assert_eq!(
        srv.single().body,
        json!({"component_appid": "wxc", "authorizer_appid": "wxa", "authorizer_refresh_token": "R1"})
    );
}

#[tokio::test]
async fn authorizer_info_reads_the_current_layout_and_tells_mini_programs_apart() {
    let (srv, c) = setup().await;
    srv.route(
        "/cgi-bin/component/api_get_authorizer_info",
        Reply::json(json!({
            "authorizer_info": {"nick_name": "小店", "head_img": "http://h", "service_type_info": {"id": 2},
                "verify_type_info": {"id": 0}, "user_name": "gh_eb5e3a772040", "alias": "shop",
                "qrcode_url": "http://q", "principal_name": "某公司", "account_status": 1, "signature": "sig",
                "business_info": {"open_store": 0, "open_pay": 1},
                "MiniProgramInfo": {"network": {"RequestDomain": []}, "categories": [], "visit_status": 0}},
            "authorization_info": {"authorizer_appid": "wxa", "authorizer_refresh_token": "R", "func_info": [{"funcscope_category": {"id": 17}}]}})),
    );
    let d = c
        .api_get_authorizer_info(&secret("CAT"), "wxc", "wxa")
        .await
        .unwrap();
    assert_eq!(d.authorizer_info.nick_name, "小店");
    assert_eq!(d.authorizer_info.service_type_info, Some(IdInfo { id: 2 }));
    assert_eq!(d.authorizer_info.user_name, "gh_eb5e3a772040");
    assert_eq!(d.authorizer_info.qrcode_url, "http://q");
    assert_eq!(d.authorizer_info.business_info.get("open_pay"), Some(&1));
    assert!(d.authorizer_info.is_mini_program());
    assert_eq!(d.authorization_info.granted_ids(), vec![17]);
    assert_eq!(
        srv.single().body,
        json!({"component_appid": "wxc", "authorizer_appid": "wxa"})
    );
}

#[tokio::test]
async fn authorizer_info_accepts_the_old_layout_with_top_level_qrcode_and_appid() {
    let (srv, c) = setup().await;
    srv.route(
        "/cgi-bin/component/api_get_authorizer_info",
        Reply::json(json!({
            "authorizer_info": {"nick_name": "旧号", "user_name": "gh_1"},
            "qrcode_url": "http://old-qr",
            "authorization_info": {"appid": "wxold", "func_info": []}})),
    );
    let d = c
        .api_get_authorizer_info(&secret("CAT"), "wxc", "wxold")
        .await
        .unwrap();
    assert_eq!(d.authorizer_info.qrcode_url, "http://old-qr");
    assert_eq!(d.authorization_info.authorizer_appid, "wxold");
    assert!(!d.authorizer_info.is_mini_program());
}

#[tokio::test]
async fn authorizer_list_caps_count_at_500_and_tolerates_missing_refresh_token() {
    let (srv, c) = setup().await;
    srv.route(
        "/cgi-bin/component/api_get_authorizer_list",
        Reply::json(json!({"total_count": 2, "list": [
            {"authorizer_appid": "wx1", "refresh_token": "R1", "auth_time": 1558000607},
            {"authorizer_appid": "wx2", "auth_time": 1558000608}]})),
    );
    let l = c
        .api_get_authorizer_list(&secret("CAT"), "wxc", 100, 9999)
        .await
        .unwrap();
    assert_eq!(l.total_count, 2);
    assert_eq!(l.list[0].refresh_token.as_ref().unwrap().expose(), "R1");
    assert!(l.list[1].refresh_token.is_none());
    assert_eq!(
        srv.single().body,
        json!({"component_appid": "wxc", "offset": 100, "count": 500})
    );
}

#[tokio::test]
async fn client_credential_token_is_a_get_with_query() {
    let (srv, c) = setup().await;
    srv.route(
        "/cgi-bin/token",
        Reply::json(json!({"access_token": "AT", "expires_in": 7200})),
    );
    let t = c
        .client_credential_token("wxa", &secret("s3"))
        .await
        .unwrap();
    assert_eq!(t.access_token.expose(), "AT");
    let r = srv.single();
    assert_eq!(r.method, "GET");
    assert_eq!(r.query["grant_type"], "client_credential");
    assert_eq!(r.query["appid"], "wxa");
    assert_eq!(r.query["secret"], "s3");
}

#[tokio::test]
async fn template_industry_get_and_set() {
    let (srv, c) = setup().await;
    srv.route("/cgi-bin/template/api_set_industry", ok());
    srv.route(
        "/cgi-bin/template/get_industry",
        Reply::json(json!({"primary_industry": {"first_class": "运输与仓储", "second_class": "快递"},
                           "secondary_industry": {"first_class": "IT科技", "second_class": "互联网"}})),
    );
    c.template_set_industry(&secret("AT"), "1", "4")
        .await
        .unwrap();
    let i = c.template_get_industry(&secret("AT")).await.unwrap();
    assert_eq!(i.primary_industry.second_class, "快递");
    let log = srv.requests();
    assert_eq!(
        log[0].body,
        json!({"industry_id1": "1", "industry_id2": "4"})
    );
    assert_eq!(log[0].query["access_token"], "AT");
    assert_eq!(log[1].method, "GET");
}

#[tokio::test]
async fn template_add_list_delete() {
    let (srv, c) = setup().await;
    srv.route(
        "/cgi-bin/template/api_add_template",
        Reply::json(json!({"errcode": 0, "errmsg": "ok", "template_id": "Doclyl5u"})),
    );
    srv.route(
        "/cgi-bin/template/get_all_private_template",
        Reply::json(json!({"template_list": [{"template_id": "T1", "title": "工单", "primary_industry": "IT", "deputy_industry": "互联网", "content": "工单名称:{{thing1.DATA}}", "example": ""}]})),
    );
    srv.route("/cgi-bin/template/del_private_template", ok());
    assert_eq!(
        c.template_add(&secret("AT"), "47123", &["时间", "地点"])
            .await
            .unwrap(),
        "Doclyl5u"
    );
    let list = c.template_list(&secret("AT")).await.unwrap();
    assert_eq!(list[0].template_id, "T1");
    assert_eq!(list[0].content, "工单名称:{{thing1.DATA}}");
    c.template_delete(&secret("AT"), "T1").await.unwrap();
    let log = srv.requests();
    assert_eq!(
        log[0].body,
        json!({"template_id_short": "47123", "keyword_name_list": ["时间", "地点"]})
    );
    assert_eq!(log[1].method, "GET");
    assert_eq!(log[2].body, json!({"template_id": "T1"}));
}

#[tokio::test]
async fn template_add_error_40246_is_permanent() {
    let (srv, c) = setup().await;
    srv.route(
        "/cgi-bin/template/api_add_template",
        Reply::json(json!({"errcode": 40246, "errmsg": "invalid keyword"})),
    );
    let e = c
        .template_add(&secret("AT"), "47123", &[])
        .await
        .unwrap_err();
    assert_eq!(e.kind(), Some(ErrKind::Permanent));
    assert_eq!(srv.single().body, json!({"template_id_short": "47123"}));
}

#[tokio::test]
async fn template_send_body_has_client_msg_id_url_miniprogram_and_data() {
    let (srv, c) = setup().await;
    srv.route(
        "/cgi-bin/message/template/send",
        Reply::json(json!({"errcode": 0, "errmsg": "ok", "msgid": 200228332})),
    );
    let mut data = BTreeMap::new();
    data.insert("thing1".to_owned(), TemplateValue::new("订单已发货"));
    data.insert("time2".to_owned(), TemplateValue::new("2024-01-01 12:00"));
    let msg = TemplateMessage {
        touser: "o1".into(),
        template_id: "T1".into(),
        url: Some("https://example.com/a?b=1".into()),
        miniprogram: Some(MiniProgramLink {
            appid: "wxmini".into(),
            pagepath: "index?foo=bar".into(),
        }),
        client_msg_id: Some("MSG_000001".into()),
        data,
    };
    assert_eq!(
        c.template_send(&secret("AT"), &msg).await.unwrap(),
        200228332
    );
    assert_eq!(
        srv.single().body,
        json!({"touser": "o1", "template_id": "T1", "url": "https://example.com/a?b=1",
               "miniprogram": {"appid": "wxmini", "pagepath": "index?foo=bar"},
               "client_msg_id": "MSG_000001",
               "data": {"thing1": {"value": "订单已发货"}, "time2": {"value": "2024-01-01 12:00"}}})
    );
}

#[tokio::test]
async fn template_send_without_optional_fields_omits_them() {
    let (srv, c) = setup().await;
    srv.route(
        "/cgi-bin/message/template/send",
        Reply::json(json!({"errcode": 0, "errmsg": "ok", "msgid": 1})),
    );
    let msg = TemplateMessage {
        touser: "o1".into(),
        template_id: "T1".into(),
        url: None,
        miniprogram: None,
        client_msg_id: None,
        data: BTreeMap::new(),
    };
    c.template_send(&secret("AT"), &msg).await.unwrap();
    assert_eq!(
        srv.single().body,
        json!({"touser": "o1", "template_id": "T1", "data": {}})
    );
}

#[tokio::test]
async fn custom_send_bodies_for_text_news_and_miniprogrampage() {
    let (srv, c) = setup().await;
    srv.route("/cgi-bin/message/custom/send", ok());
    let at = secret("AAT");
    c.custom_send(
        &at,
        &CustomMessage::Text {
            touser: "o1".into(),
            content: "Hello".into(),
        },
    )
    .await
    .unwrap();
    c.custom_send(
        &at,
        &CustomMessage::News {
            touser: "o1".into(),
            articles: vec![Article {
                title: "t".into(),
                description: "d".into(),
                url: "https://u".into(),
                picurl: "https://p".into(),
            }],
        },
    )
    .await
    .unwrap();
    c.custom_send(
        &at,
        &CustomMessage::MiniProgramPage {
            touser: "o1".into(),
            title: "t".into(),
            appid: "wxm".into(),
            pagepath: "pages/i".into(),
            thumb_media_id: "m".into(),
        },
    )
    .await
    .unwrap();
    let log = srv.requests();
    assert_eq!(
        log[0].body,
        json!({"touser": "o1", "msgtype": "text", "text": {"content": "Hello"}})
    );
    assert_eq!(
        log[1].body,
        json!({"touser": "o1", "msgtype": "news", "news": {"articles": [
        {"title": "t", "description": "d", "url": "https://u", "picurl": "https://p"}]}})
    );
    assert_eq!(
        log[2].body,
        json!({"touser": "o1", "msgtype": "miniprogrampage", "miniprogrampage":
        {"title": "t", "appid": "wxm", "pagepath": "pages/i", "thumb_media_id": "m"}})
    );
    assert!(log.iter().all(|r| r.query["access_token"] == "AAT"));
}

#[tokio::test]
async fn custom_send_outside_the_window_is_out_of_window() {
    let (srv, c) = setup().await;
    srv.route("/cgi-bin/message/custom/send", Reply::json(json!({"errcode": 45015, "errmsg": "response out of time limit or subscription is canceled rid: 1-2-3"})));
    let e = c
        .custom_send(
            &secret("AAT"),
            &CustomMessage::Text {
                touser: "o".into(),
                content: "x".into(),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), Some(ErrKind::OutOfWindow));
}

#[tokio::test]
async fn uniform_send_posts_mp_template_msg_and_45109_is_unsupported() {
    let (srv, c) = setup().await;
    srv.route(
        "/cgi-bin/message/wxopen/template/uniform_send",
        Reply::json(json!({"errcode": 45109, "errmsg": "This API has been unsupported"})),
    );
    let msg = UniformMessage {
        touser: "o1".into(),
        mp_template_msg: MpTemplateMsg {
            appid: "wxoa".into(),
            template_id: "T".into(),
            url: None,
            miniprogram: Some(MiniProgramLink {
                appid: "wxm".into(),
                pagepath: "p".into(),
            }),
            data: BTreeMap::new(),
        },
    };
    let e = c.uniform_send(&secret("MAT"), &msg).await.unwrap_err();
    assert_eq!(e.kind(), Some(ErrKind::Unsupported));
    assert_eq!(
        srv.single().body,
        json!({"touser": "o1", "mp_template_msg": {"appid": "wxoa", "template_id": "T",
        "miniprogram": {"appid": "wxm", "pagepath": "p"}, "data": {}}})
    );
}

#[tokio::test]
async fn subscribe_bizsend_posts_page_and_data_and_returns_msgid() {
    let (srv, c) = setup().await;
    srv.route(
        "/cgi-bin/message/subscribe/bizsend",
        Reply::json(json!({"errcode": 0, "errmsg": "ok", "msgid": 77})),
    );
    let mut data = BTreeMap::new();
    data.insert("thing1".to_owned(), TemplateValue::new("v"));
    let msg = SubscribeMessage {
        touser: "o1".into(),
        template_id: "S".into(),
        page: Some("https://x".into()),
        miniprogram: None,
        data,
    };
    assert_eq!(
        c.subscribe_bizsend(&secret("AT"), &msg).await.unwrap(),
        Some(77)
    );
    assert_eq!(
        srv.single().body,
        json!({"touser": "o1", "template_id": "S", "page": "https://x", "data": {"thing1": {"value": "v"}}})
    );
}

#[tokio::test]
async fn user_get_all_follows_next_openid_until_the_empty_last_page() {
    let (srv, c) = setup().await;
    srv.route_fn("/cgi-bin/user/get", |r| match r.query.get("next_openid").map(String::as_str) {
        None => Reply::json(json!({"total": 3, "count": 2, "data": {"openid": ["o1", "o2"]}, "next_openid": "o2"})),
        Some("o2") => Reply::json(json!({"total": 3, "count": 1, "data": {"openid": ["o3"]}, "next_openid": "o3"})),
        Some(_) => Reply::json(json!({"total": 3, "count": 0, "next_openid": ""})),
    });
    let all = c.user_get_all(&secret("AT")).await.unwrap();
    assert_eq!(all, vec!["o1", "o2", "o3"]);
    let log = srv.requests();
    assert_eq!(log.len(), 3);
    assert!(!log[0].query.contains_key("next_openid"));
    assert_eq!(log[1].query["next_openid"], "o2");
    assert_eq!(log[2].query["next_openid"], "o3");
}

#[tokio::test]
async fn user_get_all_stops_on_a_repeated_cursor() {
    let (srv, c) = setup().await;
    srv.route(
        "/cgi-bin/user/get",
        Reply::json(
            json!({"total": 9, "count": 1, "data": {"openid": ["o1"]}, "next_openid": "o1"}),
        ),
    );
    let all = c.user_get_all(&secret("AT")).await.unwrap();
    assert_eq!(all, vec!["o1", "o1"]);
    assert_eq!(srv.count("/cgi-bin/user/get"), 2);
}

#[tokio::test]
async fn batchget_refuses_more_than_100_without_a_request() {
    let (srv, c) = setup().await;
    let ids: Vec<String> = (0..101).map(|i| format!("o{i}")).collect();
    assert!(matches!(
        c.user_info_batchget(&secret("AT"), &ids, "zh_CN").await,
        Err(Error::InvalidArgument(_))
    ));
    assert!(srv.requests().is_empty());
}

#[tokio::test]
async fn batchget_chunked_splits_250_openids_into_100_100_50() {
    let (srv, c) = setup().await;
    srv.route_fn("/cgi-bin/user/info/batchget", |r| {
        let list: Vec<_> = r.body["user_list"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| json!({"subscribe": 1, "openid": u["openid"], "tagid_list": [2]}))
            .collect();
        Reply::json(json!({"user_info_list": list}))
    });
    let ids: Vec<String> = (0..250).map(|i| format!("o{i}")).collect();
    let users = c
        .user_info_batchget_chunked(&secret("AT"), &ids, "zh_CN")
        .await
        .unwrap();
    assert_eq!(users.len(), 250);
    assert_eq!(users[249].openid, "o249");
    assert_eq!(users[0].tagid_list, vec![2]);
    let sizes: Vec<usize> = srv
        .requests()
        .iter()
        .map(|r| r.body["user_list"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, vec![100, 100, 50]);
    assert_eq!(
        srv.requests()[0].body["user_list"][0],
        json!({"openid": "o0", "lang": "zh_CN"})
    );
}

#[tokio::test]
async fn tags_get_parses_tags() {
    let (srv, c) = setup().await;
    srv.route(
        "/cgi-bin/tags/get",
        Reply::json(json!({"tags": [{"id": 2, "name": "星标组", "count": 0}]})),
    );
    assert_eq!(
        c.tags_get(&secret("AT")).await.unwrap(),
        vec![Tag {
            id: 2,
            name: "星标组".into(),
            count: 0
        }]
    );
    assert_eq!(srv.single().method, "GET");
}

#[tokio::test]
async fn component_jscode2session_parses_json_served_as_text_plain() {
    let (srv, c) = setup().await;
    srv.route(
        "/sns/component/jscode2session",
        Reply {
            status: 200,
            content_type: "text/plain",
            body: json!({"openid": "om", "session_key": "SK==", "unionid": "u1"}).to_string(),
        },
    );
    let s = c
        .component_jscode2session("wxm", "code1", "wxc", &secret("CAT"))
        .await
        .unwrap();
    assert_eq!(
        (
            s.openid.as_str(),
            s.session_key.expose(),
            s.unionid.as_deref()
        ),
        ("om", "SK==", Some("u1"))
    );
    let r = srv.single();
    assert_eq!(r.method, "GET");
    for (k, v) in [
        ("appid", "wxm"),
        ("js_code", "code1"),
        ("grant_type", "authorization_code"),
        ("component_appid", "wxc"),
        ("component_access_token", "CAT"),
    ] {
        assert_eq!(r.query[k], v, "{k}");
    }
}

#[tokio::test]
async fn clear_quota_component_and_account_and_quota_get() {
    let (srv, c) = setup().await;
    srv.route("/cgi-bin/component/clear_quota", ok());
    srv.route("/cgi-bin/component/clear_quota/v2", ok());
    srv.route("/cgi-bin/clear_quota", Reply::json(json!({"errcode": 48006, "errmsg": "forbid to clear quota because of reaching the limit"})));
    srv.route(
        "/cgi-bin/openapi/quota/get",
        Reply::json(json!({"errcode": 0, "errmsg": "ok",
        "quota": {"daily_limit": 100000, "used": 3, "remain": 99997},
        "rate_limit": {"call_count": 50, "refresh_second": 60}})),
    );
    c.component_clear_quota(&secret("CAT"), "wxc")
        .await
        .unwrap();
    c.component_clear_quota_v2("wxc", &secret("sec"), Some("wxa"))
        .await
        .unwrap();
    let e = c.clear_quota(&secret("AT"), "wxa").await.unwrap_err();
    assert_eq!(e.kind(), Some(ErrKind::Quota));
    let q = c
        .quota_get(&secret("AT"), "/cgi-bin/message/custom/send")
        .await
        .unwrap();
    assert_eq!(
        q.quota,
        QuotaInfo {
            daily_limit: 100000,
            used: 3,
            remain: 99997
        }
    );
    assert_eq!(
        q.rate_limit,
        Some(RateLimit {
            call_count: 50,
            refresh_second: 60
        })
    );
    assert_eq!(q.component_rate_limit, None);
    let log = srv.requests();
    assert_eq!(log[0].body, json!({"component_appid": "wxc"}));
    assert_eq!(log[0].query["component_access_token"], "CAT");
    assert_eq!(
        log[1].body,
        json!({"component_appid": "wxc", "appsecret": "sec", "appid": "wxa"})
    );
    assert!(log[1].query.is_empty());
    assert_eq!(log[2].body, json!({"appid": "wxa"}));
    assert_eq!(
        log[3].body,
        json!({"cgi_path": "/cgi-bin/message/custom/send"})
    );
}

#[tokio::test]
async fn a_temporary_string_scene_qr_code_is_asked_for_as_wechat_documents_it() {
    let (srv, c) = setup().await;
    srv.route(
        "/cgi-bin/qrcode/create",
        Reply::json(json!({"ticket": "gQH47joAAAAAAAAAASxodHRwOi8v",
            "expire_seconds": 600, "url": "http://weixin.qq.com/q/kZgfwMTm72WWPkovabbI"})),
    );
    let qr = c
        .qrcode_create_temp(&secret("AAT"), "wxdesk_find_me", 600)
        .await
        .unwrap();
    assert_eq!(qr.url, "http://weixin.qq.com/q/kZgfwMTm72WWPkovabbI");
    assert_eq!(qr.expire_seconds, 600);
    // Out of WeChat's range: clamped rather than refused by WeChat.
    c.qrcode_create_temp(&secret("AAT"), "s", 5).await.unwrap();
    let log = srv.requests();
    assert_eq!(log[0].query["access_token"], "AAT");
    assert_eq!(
        log[0].body,
        json!({"expire_seconds": 600, "action_name": "QR_STR_SCENE",
            "action_info": {"scene": {"scene_str": "wxdesk_find_me"}}})
    );
    assert_eq!(log[1].body["expire_seconds"], 60);

    srv.route(
        "/cgi-bin/qrcode/create",
        Reply::json(json!({"errcode": 48001, "errmsg": "api unauthorized"})),
    );
    let e = c
        .qrcode_create_temp(&secret("AAT"), "s", 600)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), Some(ErrKind::Permission));
}
