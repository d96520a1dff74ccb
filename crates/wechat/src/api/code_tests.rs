//! Code management calls against a recording server on loopback: exact method, path, query and
//! body of each, and how the answers (including WeChat's odd spellings) are read.

use serde_json::json;

use super::*;
use crate::api::{Client, ClientConfig};
use crate::errcode::ErrKind;
use crate::test_server::{Reply, TestServer};

async fn setup() -> (TestServer, Client) {
    let server = TestServer::start().await;
    let client = Client::new(ClientConfig::with_base_url(&server.base_url)).unwrap();
    (server, client)
}

fn tok(s: &str) -> Secret {
    Secret::new(s)
}

fn ok() -> Reply {
    Reply::json(json!({"errcode": 0, "errmsg": "ok"}))
}

#[tokio::test]
async fn drafts_and_templates_read_ids_given_as_numbers_or_strings() {
    let (srv, c) = setup().await;
    srv.route(
        "/wxa/gettemplatedraftlist",
        Reply::json(json!({"errcode": 0, "errmsg": "ok", "draft_list": [
            {"create_time": 1488965944, "user_version": "VVV", "user_desc": "AAS", "draft_id": 0},
            {"create_time": 1504790906, "user_version": "11", "user_desc": "111111", "draft_id": "4"}
        ]})),
    );
    srv.route(
        "/wxa/gettemplatelist",
        Reply::json(json!({"errcode": 0, "errmsg": "ok", "template_list": [
            {"create_time": 1488965944, "user_version": "1.0.0", "user_desc": "first",
             "template_id": "7", "draft_id": 3, "template_type": 0,
             "source_miniprogram_appid": "wxdev", "source_miniprogram": "开发小程序",
             "category_list": [], "developer": "someone"}
        ]})),
    );
    let drafts = c.wxa_template_drafts(&tok("CAT")).await.unwrap();
    assert_eq!(
        drafts.iter().map(|d| d.draft_id).collect::<Vec<_>>(),
        vec![0, 4]
    );
    assert_eq!(drafts[1].user_version, "11");
    let list = c.wxa_templates(&tok("CAT"), Some(0)).await.unwrap();
    assert_eq!(list[0].template_id, 7);
    assert_eq!(list[0].draft_id, Some(3));
    assert_eq!(list[0].source_miniprogram, "开发小程序");
    let log = srv.requests();
    assert_eq!(log[0].method, "GET");
    assert_eq!(log[0].query["access_token"], "CAT");
    assert_eq!(log[1].path, "/wxa/gettemplatelist");
    assert_eq!(log[1].query["template_type"], "0");
}

#[tokio::test]
async fn template_list_without_a_type_sends_no_type() {
    let (srv, c) = setup().await;
    srv.route("/wxa/gettemplatelist", ok());
    assert!(c.wxa_templates(&tok("CAT"), None).await.unwrap().is_empty());
    assert!(!srv.single().query.contains_key("template_type"));
}

#[tokio::test]
async fn add_and_delete_template_post_their_ids() {
    let (srv, c) = setup().await;
    srv.route("/wxa/addtotemplate", ok());
    srv.route(
        "/wxa/deletetemplate",
        Reply::json(json!({"errcode": 85064, "errmsg": "template not found rid: 1-2-3"})),
    );
    c.wxa_add_to_template(&tok("CAT"), 9, 0).await.unwrap();
    let err = c.wxa_delete_template(&tok("CAT"), 12).await.unwrap_err();
    assert_eq!(err.wechat().unwrap().errcode, 85064);
    assert_eq!(err.kind(), Some(ErrKind::Permanent));
    let log = srv.requests();
    assert_eq!(log[0].method, "POST");
    assert_eq!(log[0].body, json!({"draft_id": 9, "template_type": 0}));
    assert_eq!(log[1].body, json!({"template_id": 12}));
    assert_eq!(log[1].query["access_token"], "CAT");
}

#[tokio::test]
async fn modify_domain_sends_the_action_with_the_lists_and_reads_partial_success() {
    let (srv, c) = setup().await;
    srv.route(
        "/wxa/modify_domain",
        Reply::json(json!({"errcode": 0, "errmsg": "ok",
            "requestdomain": ["https://api.example.com"], "wsrequestdomain": [],
            "uploaddomain": [], "downloaddomain": [], "udpdomain": [], "tcpdomain": [],
            "invalid_requestdomain": ["https://nope.example.com"], "no_icp_domain": []})),
    );
    let lists = ServerDomains {
        requestdomain: vec![
            "https://api.example.com".into(),
            "https://nope.example.com".into(),
        ],
        ..ServerDomains::default()
    };
    let r = c
        .wxa_modify_domain(&tok("AAT"), DomainAction::Add, &lists)
        .await
        .unwrap();
    assert_eq!(r.current.requestdomain, vec!["https://api.example.com"]);
    assert_eq!(r.invalid(), vec!["https://nope.example.com"]);
    let body = srv.single().body;
    assert_eq!(body["action"], "add");
    assert_eq!(body["requestdomain"].as_array().unwrap().len(), 2);
    assert_eq!(body["tcpdomain"], json!([]));
}

#[tokio::test]
async fn modify_domain_get_sends_only_the_action() {
    let (srv, c) = setup().await;
    srv.route("/wxa/modify_domain", ok());
    c.wxa_modify_domain(
        &tok("AAT"),
        DomainAction::Get,
        &ServerDomains {
            requestdomain: vec!["https://x".into()],
            ..ServerDomains::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(srv.single().body, json!({"action": "get"}));
}

#[tokio::test]
async fn webview_domain_without_an_action_sends_an_empty_object() {
    let (srv, c) = setup().await;
    srv.route(
        "/wxa/setwebviewdomain",
        Reply::json(
            json!({"errcode": 0, "errmsg": "ok", "webviewdomain": ["https://m.example.com"]}),
        ),
    );
    let all = c
        .wxa_set_webview_domain(&tok("AAT"), None, &[])
        .await
        .unwrap();
    assert_eq!(all, vec!["https://m.example.com"]);
    c.wxa_set_webview_domain(
        &tok("AAT"),
        Some(DomainAction::Set),
        &["https://m.example.com".into()],
    )
    .await
    .unwrap();
    let log = srv.requests();
    assert_eq!(log[0].body, json!({}));
    assert_eq!(
        log[1].body,
        json!({"action": "set", "webviewdomain": ["https://m.example.com"]})
    );
}

#[tokio::test]
async fn commit_double_encodes_ext_json_as_a_string() {
    let (srv, c) = setup().await;
    srv.route("/wxa/commit", ok());
    let ext = r#"{"extAppid":"wxa","ext":{"shop":"一号店"}}"#;
    c.wxa_commit(
        &tok("AAT"),
        &CommitRequest {
            template_id: 7,
            ext_json: ext.into(),
            user_version: "1.2.0".into(),
            user_desc: "上线".into(),
        },
    )
    .await
    .unwrap();
    let r = srv.single();
    assert_eq!(r.method, "POST");
    assert_eq!(r.query["access_token"], "AAT");
    assert_eq!(r.body["template_id"], 7);
    assert_eq!(
        r.body["ext_json"].as_str(),
        Some(ext),
        "ext_json travels as a string"
    );
    assert_eq!(r.body["user_version"], "1.2.0");
}

#[tokio::test]
async fn qrcode_returns_the_image_and_encodes_the_path_once() {
    let (srv, c) = setup().await;
    srv.route(
        "/wxa/get_qrcode",
        Reply {
            status: 200,
            content_type: "image/jpeg",
            body: "JFIF-bytes".into(),
        },
    );
    let img = c
        .wxa_qrcode(&tok("AAT"), Some("page/index?action=1"))
        .await
        .unwrap();
    assert_eq!(img.content_type, "image/jpeg");
    assert_eq!(img.bytes, b"JFIF-bytes");
    let r = srv.single();
    assert_eq!(r.method, "GET");
    assert_eq!(r.query["path"], "page/index?action=1");
    assert!(!format!("{img:?}").contains("JFIF"), "Debug shows no bytes");
}

#[tokio::test]
async fn qrcode_error_answers_are_json_and_become_wechat_errors() {
    let (srv, c) = setup().await;
    srv.route(
        "/wxa/get_qrcode",
        Reply::json(json!({"errcode": -1, "errmsg": "system error rid: 1"})),
    );
    let err = c.wxa_qrcode(&tok("AAT"), None).await.unwrap_err();
    assert_eq!(err.wechat().unwrap().errcode, -1);
    assert!(!srv.single().query.contains_key("path"));
    srv.route("/wxa/get_qrcode", Reply::json(json!({"something": "else"})));
    let err = c.wxa_qrcode(&tok("AAT"), None).await.unwrap_err();
    assert!(matches!(err, Error::Json(_)), "{err:?}");
}

#[tokio::test]
async fn categories_and_pages_are_read_and_duplicate_pages_dropped() {
    let (srv, c) = setup().await;
    srv.route(
        "/wxa/get_category",
        Reply::json(json!({"errcode": 0, "errmsg": "ok", "category_list": [
            {"first_class": "工具", "second_class": "备忘录", "first_id": 1, "second_id": 2},
            {"first_class": "教育", "second_class": "学历教育", "third_class": "高等",
             "first_id": 3, "second_id": 4, "third_id": 5}
        ]})),
    );
    srv.route(
        "/wxa/get_page",
        Reply::json(
            json!({"errcode": 0, "errmsg": "ok", "page_list": ["index", "page/list", "index"]}),
        ),
    );
    let cats = c.wxa_categories(&tok("AAT")).await.unwrap();
    assert_eq!(cats[1].third_id, Some(5));
    assert_eq!(cats[0].third_class, None);
    assert_eq!(
        c.wxa_pages(&tok("AAT")).await.unwrap(),
        vec!["index", "page/list"]
    );
}

#[tokio::test]
async fn submit_audit_sends_arrays_and_only_the_fields_given() {
    let (srv, c) = setup().await;
    srv.route(
        "/wxa/submit_audit",
        Reply::json(json!({"errcode": 0, "errmsg": "ok", "auditid": 1234567})),
    );
    let req = SubmitAudit {
        item_list: vec![AuditItem {
            address: "index".into(),
            tag: "学习 生活".into(),
            title: "首页".into(),
            category: Some(CodeCategory {
                first_class: "文娱".into(),
                second_class: "资讯".into(),
                first_id: 1,
                second_id: 2,
                ..CodeCategory::default()
            }),
        }],
        version_desc: "测试账号 test/123".into(),
        privacy_api_not_use: Some(true),
        ..SubmitAudit::default()
    };
    assert_eq!(
        c.wxa_submit_audit(&tok("AAT"), &req).await.unwrap(),
        1234567
    );
    let body = srv.single().body;
    assert_eq!(
        body,
        json!({"item_list": [{"address": "index", "tag": "学习 生活", "title": "首页",
                  "first_class": "文娱", "second_class": "资讯", "first_id": 1, "second_id": 2}],
               "version_desc": "测试账号 test/123", "privacy_api_not_use": true})
    );
}

#[tokio::test]
async fn an_empty_submit_audit_is_an_empty_object() {
    let (srv, c) = setup().await;
    srv.route(
        "/wxa/submit_audit",
        Reply::json(json!({"errcode": 85009, "errmsg": "already submit a version under auditing"})),
    );
    let err = c
        .wxa_submit_audit(&tok("AAT"), &SubmitAudit::default())
        .await
        .unwrap_err();
    assert_eq!(err.wechat().unwrap().errcode, 85009);
    assert_eq!(srv.single().body, json!({}));
}

#[tokio::test]
async fn audit_status_reads_both_screenshot_spellings() {
    let (srv, c) = setup().await;
    srv.route(
        "/wxa/get_auditstatus",
        Reply::json(
            json!({"errcode": 0, "errmsg": "ok", "status": 1, "reason": "类目不符", "screenshot": "a|b"}),
        ),
    );
    srv.route(
        "/wxa/get_latest_auditstatus",
        Reply::json(
            json!({"errcode": 0, "errmsg": "ok", "auditid": 42, "status": 1,
            "reason": "不符", "ScreenShot": "x|y", "user_version": "1.0", "user_desc": "d",
            "submit_audit_time": 1539942005}),
        ),
    );
    let s = c.wxa_audit_status(&tok("AAT"), 42).await.unwrap();
    assert_eq!(
        (s.status, s.screenshot.as_deref()),
        (audit_status::REJECTED, Some("a|b"))
    );
    let l = c
        .wxa_latest_audit_status(&tok("AAT"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(l.auditid, 42);
    assert_eq!(l.screenshot.as_deref(), Some("x|y"));
    assert_eq!(l.submit_audit_time, 1539942005);
    let log = srv.requests();
    assert_eq!(log[0].method, "POST");
    assert_eq!(log[0].body, json!({"auditid": 42}));
    assert_eq!(log[1].method, "GET");
}

#[tokio::test]
async fn no_audit_yet_is_none_not_an_error() {
    let (srv, c) = setup().await;
    srv.route(
        "/wxa/get_latest_auditstatus",
        Reply::json(json!({"errcode": 85058, "errmsg": "no valid audit_id exist rid: 1"})),
    );
    assert_eq!(c.wxa_latest_audit_status(&tok("AAT")).await.unwrap(), None);
    srv.route(
        "/wxa/get_latest_auditstatus",
        Reply::json(json!({"errcode": 86000, "errmsg": "should be called only from third party"})),
    );
    let err = c.wxa_latest_audit_status(&tok("AAT")).await.unwrap_err();
    assert_eq!(err.wechat().unwrap().errcode, 86000);
}

#[tokio::test]
async fn release_posts_an_empty_object_and_revert_sends_no_action() {
    let (srv, c) = setup().await;
    srv.route("/wxa/release", ok());
    srv.route("/wxa/revertcoderelease", ok());
    srv.route("/wxa/undocodeaudit", ok());
    srv.route("/wxa/speedupaudit", ok());
    c.wxa_release(&tok("AAT")).await.unwrap();
    c.wxa_revert_code_release(&tok("AAT"), None).await.unwrap();
    c.wxa_revert_code_release(&tok("AAT"), Some(3))
        .await
        .unwrap();
    c.wxa_undo_code_audit(&tok("AAT")).await.unwrap();
    c.wxa_speedup_audit(&tok("AAT"), 77).await.unwrap();
    let log = srv.requests();
    assert_eq!((log[0].method.as_str(), &log[0].body), ("POST", &json!({})));
    assert_eq!(log[1].method, "GET");
    assert!(!log[1].query.contains_key("action"));
    assert!(!log[1].query.contains_key("app_version"));
    assert_eq!(log[2].query["app_version"], "3");
    assert!(!log[2].query.contains_key("action"));
    assert_eq!(log[3].method, "GET");
    assert_eq!(log[4].body, json!({"auditid": 77}));
}

#[tokio::test]
async fn history_versions_list_with_the_action() {
    let (srv, c) = setup().await;
    srv.route(
        "/wxa/revertcoderelease",
        Reply::json(json!({"errcode": 0, "errmsg": "ok", "version_list": [
            {"app_version": 2, "user_version": "1.1", "user_desc": "b", "commit_time": 1600000000}
        ]})),
    );
    let v = c.wxa_history_versions(&tok("AAT")).await.unwrap();
    assert_eq!((v[0].app_version, v[0].user_version.as_str()), (2, "1.1"));
    assert_eq!(srv.single().query["action"], "get_history_version");
}

#[tokio::test]
async fn version_info_visit_status_and_quota() {
    let (srv, c) = setup().await;
    srv.route(
        "/wxa/getversioninfo",
        Reply::json(json!({"errcode": 0, "errmsg": "ok",
            "exp_info": {"exp_time": 1, "exp_version": "1.1", "exp_desc": "e"}})),
    );
    srv.route(
        "/wxa/getvisitstatus",
        Reply::json(json!({"errcode": 0, "errmsg": "ok", "status": 1})),
    );
    srv.route("/wxa/change_visitstatus", ok());
    srv.route(
        "/wxa/queryquota",
        Reply::json(json!({"errcode": 0, "errmsg": "ok", "rest": 9, "limit": 10,
            "speedup_rest": 1, "speedup_limit": 2})),
    );
    let v = c.wxa_version_info(&tok("AAT")).await.unwrap();
    assert_eq!(v.exp_info.unwrap().exp_version, "1.1");
    assert_eq!(v.release_info, None);
    assert_eq!(c.wxa_visit_status(&tok("AAT")).await.unwrap(), 1);
    c.wxa_change_visit_status(&tok("AAT"), false).await.unwrap();
    let q = c.wxa_query_quota(&tok("AAT")).await.unwrap();
    assert_eq!((q.rest, q.limit, q.speedup_rest), (9, 10, 1));
    let log = srv.requests();
    // Both need the `{}` body (an empty one is 44002).
    assert_eq!(log[0].body, json!({}));
    assert_eq!(log[1].body, json!({}));
    assert_eq!(log[2].body, json!({"action": "close"}));
    assert_eq!(log[3].method, "GET");
}

#[test]
fn audit_pushes_are_read_with_their_time_reason_and_screenshots() {
    let fail = "<xml><ToUserName><![CDATA[gh_fb9688c2a4b2]]></ToUserName>\
        <FromUserName><![CDATA[od1P50M-fNQI5Gcq-trm4a7apsU8]]></FromUserName>\
        <CreateTime>1488856591</CreateTime><MsgType><![CDATA[event]]></MsgType>\
        <Event><![CDATA[weapp_audit_fail]]></Event>\
        <Reason><![CDATA[1:账号信息不符合规范:<br>(1):包含色情因素<br>]]></Reason>\
        <FailTime>1488856592</FailTime><ScreenShot>xxx|yyy|zzz</ScreenShot></xml>";
    let p = parse_audit_push(fail).unwrap();
    assert_eq!(p.event, AuditEvent::Fail);
    assert_eq!(p.to_user_name, "gh_fb9688c2a4b2");
    assert_eq!((p.create_time, p.at), (1488856591, 1488856592));
    assert!(p.reason.unwrap().contains("<br>(1):包含色情因素"));
    assert_eq!(p.screenshot.as_deref(), Some("xxx|yyy|zzz"));

    let ok = "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[o]]></FromUserName>\
        <CreateTime>10</CreateTime><MsgType><![CDATA[event]]></MsgType>\
        <Event><![CDATA[weapp_audit_success]]></Event><SuccTime>11</SuccTime></xml>";
    let p = parse_audit_push(ok).unwrap();
    assert_eq!((p.event, p.at, p.reason), (AuditEvent::Success, 11, None));

    let delay = ok
        .replace("weapp_audit_success", "weapp_audit_delay")
        .replace("<SuccTime>11</SuccTime>", "<Reason>排队</Reason>");
    let p = parse_audit_push(&delay).unwrap();
    assert_eq!(
        (p.event, p.at),
        (AuditEvent::Delay, 10),
        "CreateTime stands in"
    );
    assert_eq!(p.reason.as_deref(), Some("排队"));
}

#[test]
fn other_pushes_and_garbage_are_not_audit_pushes() {
    let follow = "<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName>\
        <CreateTime>1</CreateTime><MsgType>event</MsgType><Event>subscribe</Event></xml>";
    assert_eq!(parse_audit_push(follow), None);
    assert_eq!(parse_audit_push("<xml><MsgType>event"), None);
    assert_eq!(parse_audit_push(""), None);
    let no_time = "<xml><MsgType>event</MsgType><Event>weapp_audit_success</Event></xml>";
    assert_eq!(parse_audit_push(no_time), None);
}
