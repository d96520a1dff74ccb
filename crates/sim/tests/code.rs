//! Mini-program code management (protocol L) over real HTTP on loopback: the template library,
//! commit → audit → release → rollback of one mini program with the `weapp_audit_*` pushes
//! verified and decrypted at the message URL, failed and delayed audits, the audit quota, and
//! the errcodes of L.6.

mod common;

use common::{Env, errcode, field};
use serde_json::{Value, json};
use wxdesk_sim::SimConfig;

struct Mini {
    appid: String,
    aat: String,
}

impl Mini {
    fn url(&self, path: &str) -> String {
        format!("{path}?access_token={}", self.aat)
    }
}

async fn mini(env: &Env, verified: bool) -> Mini {
    let appid = env.appid("miniprogram", verified).await;
    let (_, aat, _) = env.authorize(&appid).await;
    Mini { appid, aat }
}

async fn commit(env: &Env, m: &Mini, version: &str, ext: Value) -> Value {
    env.post(
        &m.url("/wxa/commit"),
        json!({"template_id": 1, "ext_json": ext.to_string(), "user_version": version,
               "user_desc": format!("版本 {version}")}),
    )
    .await
}

async fn submit(env: &Env, m: &Mini) -> Value {
    env.post(&m.url("/wxa/submit_audit"), json!({})).await
}

/// Audit pushes to this mini program's message URL, decrypted.
async fn audit_pushes(env: &Env, m: &Mini, n: usize) -> Vec<String> {
    let path = format!("/wechat/{}/callback", m.appid);
    env.wait_pushes(n, |p, x| p.path == path && x.contains("weapp_audit_"))
        .await
        .into_iter()
        .map(|(_, x)| x)
        .collect()
}

fn code_of(state: &Value, appid: &str) -> Value {
    state["accounts"]
        .as_array()
        .and_then(|l| l.iter().find(|a| a["appid"] == appid))
        .map(|a| a["code"].clone())
        .unwrap_or_else(|| panic!("{appid} not in state"))
}

#[tokio::test]
async fn the_template_library_lists_adds_and_deletes() {
    let env = Env::new(SimConfig::default()).await;
    let cat = env.component_token().await;
    let drafts = env
        .get(&format!("/wxa/gettemplatedraftlist?access_token={cat}"))
        .await;
    assert_eq!(drafts["draft_list"].as_array().map(Vec::len), Some(3));
    let list = |v: &Value| -> Vec<i64> {
        v["template_list"]
            .as_array()
            .map(|l| l.iter().filter_map(|t| t["template_id"].as_i64()).collect())
            .unwrap_or_default()
    };
    let url = format!("/wxa/gettemplatelist?access_token={cat}");
    assert_eq!(list(&env.get(&url).await), vec![1, 2]);
    let add = format!("/wxa/addtotemplate?access_token={cat}");
    assert_eq!(
        errcode(
            &env.post(&add, json!({"draft_id": "3", "template_type": 0}))
                .await
        ),
        0
    );
    let after = env.get(&url).await;
    assert_eq!(list(&after), vec![1, 2, 3]);
    assert_eq!(after["template_list"][2]["draft_id"], 3);
    assert_eq!(after["template_list"][2]["user_version"], "2.0.0");
    assert_eq!(
        errcode(&env.post(&add, json!({"draft_id": 99})).await),
        85064
    );
    let del = format!("/wxa/deletetemplate?access_token={cat}");
    assert_eq!(errcode(&env.post(&del, json!({"template_id": 3})).await), 0);
    assert_eq!(
        errcode(&env.post(&del, json!({"template_id": 3})).await),
        85064
    );
    assert_eq!(list(&env.get(&url).await), vec![1, 2]);
    // An authorizer token is not the platform's.
    let m = mini(&env, true).await;
    assert_eq!(
        errcode(&env.get(&m.url("/wxa/gettemplatelist")).await),
        40001
    );
}

#[tokio::test]
async fn commit_audit_release_and_rollback_with_the_pushes_at_the_message_url() {
    let env = Env::new(SimConfig::default()).await;
    let m = mini(&env, true).await;
    let ext = json!({"extAppid": m.appid, "ext": {"shop": "一号店"}, "pages": ["pages/index/index", "pages/order/list"]});
    assert_eq!(errcode(&commit(&env, &m, "1.0.0", ext).await), 0);
    let pages = env.get(&m.url("/wxa/get_page")).await;
    assert_eq!(
        pages["page_list"],
        json!(["pages/index/index", "pages/order/list"])
    );
    let qr = env
        .http
        .get(env.url(&m.url("/wxa/get_qrcode")))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(qr.headers()["content-type"], "image/jpeg");
    assert!(
        qr.headers()["content-disposition"]
            .to_str()
            .unwrap_or_default()
            .contains("QRCode.jpg")
    );
    let bytes = qr.bytes().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(&bytes[..2], &[0xFF, 0xD8]);

    let auditid = submit(&env, &m).await["auditid"].as_i64().unwrap_or(0);
    assert!(auditid > 0);
    assert_eq!(
        errcode(&submit(&env, &m).await),
        85009,
        "one audit at a time"
    );
    let state = env.state().await;
    let code = code_of(&state, &m.appid);
    assert_eq!(code["under_review"]["auditid"], auditid);
    assert_eq!(code["committed"]["ext"]["ext"]["shop"], "一号店");
    assert_eq!(
        errcode(&env.post(&m.url("/wxa/release"), json!({})).await),
        85020,
        "not approved yet"
    );

    env.advance(2.0).await;
    let pushes = audit_pushes(&env, &m, 1).await;
    let user_name = env.account(&m.appid).await["user_name"].clone();
    assert_eq!(
        field(&pushes[0], "Event").as_deref(),
        Some("weapp_audit_success")
    );
    assert_eq!(
        field(&pushes[0], "ToUserName").as_deref(),
        user_name.as_str()
    );
    assert_eq!(field(&pushes[0], "MsgType").as_deref(), Some("event"));
    assert!(field(&pushes[0], "SuccTime").is_some());
    let status = env
        .post(&m.url("/wxa/get_auditstatus"), json!({"auditid": auditid}))
        .await;
    assert_eq!(status["status"], 0);

    assert_eq!(
        errcode(&env.post(&m.url("/wxa/release"), json!({})).await),
        0
    );
    assert_eq!(
        errcode(&env.post(&m.url("/wxa/release"), json!({})).await),
        85052,
        "released once"
    );
    let info = env.post(&m.url("/wxa/getversioninfo"), json!({})).await;
    assert_eq!(info["release_info"]["release_version"], "1.0.0");

    // Version 1.1.0, released, then rolled back to 1.0.0.
    assert_eq!(errcode(&commit(&env, &m, "1.1.0", json!({})).await), 0);
    submit(&env, &m).await;
    env.advance(2.0).await;
    audit_pushes(&env, &m, 2).await;
    assert_eq!(
        errcode(&env.post(&m.url("/wxa/release"), json!({})).await),
        0
    );
    let history = env
        .get(&format!(
            "{}&action=get_history_version",
            m.url("/wxa/revertcoderelease")
        ))
        .await;
    assert_eq!(history["version_list"][0]["user_version"], "1.0.0");
    assert_eq!(errcode(&env.get(&m.url("/wxa/revertcoderelease")).await), 0);
    assert_eq!(
        errcode(&env.get(&m.url("/wxa/revertcoderelease")).await),
        87012,
        "no chained rollback"
    );
    let code = code_of(&env.state().await, &m.appid);
    assert_eq!(code["released"]["user_version"], "1.0.0");
    assert_eq!(code["releases"], json!({"1.0.0": 1, "1.1.0": 1}));
    assert_eq!(code["reverts"], 1);
    assert_eq!(code["under_review"], Value::Null);
}

#[tokio::test]
async fn a_failed_audit_is_pushed_with_its_reason_and_cannot_be_released() {
    let env = Env::new(SimConfig::default()).await;
    let m = mini(&env, true).await;
    commit(&env, &m, "2.0.0", json!({"sim_audit": "fail"})).await;
    let auditid = submit(&env, &m).await["auditid"].as_i64().unwrap_or(0);
    env.advance(2.0).await;
    let pushes = audit_pushes(&env, &m, 1).await;
    assert_eq!(
        field(&pushes[0], "Event").as_deref(),
        Some("weapp_audit_fail")
    );
    let reason = field(&pushes[0], "Reason").unwrap_or_default();
    assert!(reason.contains("<br>"), "{reason}");
    assert!(field(&pushes[0], "ScreenShot").is_some());
    assert!(field(&pushes[0], "FailTime").is_some());
    let latest = env.get(&m.url("/wxa/get_latest_auditstatus")).await;
    assert_eq!(
        (latest["auditid"].as_i64(), latest["status"].as_i64()),
        (Some(auditid), Some(1))
    );
    assert_eq!(latest["reason"].as_str(), Some(reason.as_str()));
    assert!(
        latest["ScreenShot"]
            .as_str()
            .is_some_and(|s| s.contains('|'))
    );
    assert_eq!(
        errcode(&env.post(&m.url("/wxa/release"), json!({})).await),
        85020
    );
}

#[tokio::test]
async fn a_delayed_audit_pushes_the_delay_then_passes_one_audit_time_later() {
    let env = Env::new(SimConfig {
        audit_secs: 5,
        ..SimConfig::default()
    })
    .await;
    let m = mini(&env, true).await;
    commit(&env, &m, "3.0.0", json!({"sim_audit": "delay"})).await;
    let auditid = submit(&env, &m).await["auditid"].as_i64().unwrap_or(0);
    env.advance(5.0).await;
    let pushes = audit_pushes(&env, &m, 1).await;
    assert_eq!(
        field(&pushes[0], "Event").as_deref(),
        Some("weapp_audit_delay")
    );
    assert!(field(&pushes[0], "DelayTime").is_some());
    let s = env
        .post(&m.url("/wxa/get_auditstatus"), json!({"auditid": auditid}))
        .await;
    assert_eq!(s["status"], 4);
    assert!(s["reason"].as_str().is_some_and(|r| !r.is_empty()));
    env.advance(5.0).await;
    let pushes = audit_pushes(&env, &m, 2).await;
    assert!(pushes.iter().any(|x| x.contains("weapp_audit_success")));
    assert_eq!(
        errcode(&env.post(&m.url("/wxa/release"), json!({})).await),
        0
    );
}

#[tokio::test]
async fn the_monthly_audit_quota_is_shared_by_the_platform_and_queryquota_shows_it() {
    let env = Env::new(SimConfig {
        audit_quota: 1,
        ..SimConfig::default()
    })
    .await;
    let a = mini(&env, true).await;
    let b = mini(&env, false).await;
    commit(&env, &a, "1", json!({})).await;
    commit(&env, &b, "1", json!({})).await;
    assert_eq!(errcode(&submit(&env, &a).await), 0);
    assert_eq!(errcode(&submit(&env, &b).await), 85085);
    let q = env.get(&b.url("/wxa/queryquota")).await;
    assert_eq!(
        (q["rest"].as_i64(), q["limit"].as_i64()),
        (Some(0), Some(1))
    );
    assert!(q["speedup_limit"].as_i64().is_some_and(|n| n > 0));
    assert_eq!(env.state().await["code"]["audit_quota"]["used"], 1);
}

#[tokio::test]
async fn code_apis_refuse_what_wechat_refuses() {
    let env = Env::new(SimConfig {
        privacy_check_secs: 60,
        ..SimConfig::default()
    })
    .await;
    let m = mini(&env, true).await;
    assert_eq!(errcode(&submit(&env, &m).await), 85086, "nothing committed");
    assert_eq!(errcode(&env.get(&m.url("/wxa/get_page")).await), 86001);
    assert_eq!(
        errcode(&env.get(&m.url("/wxa/get_latest_auditstatus")).await),
        85058
    );
    assert_eq!(
        errcode(&env.post(&m.url("/wxa/release"), json!({})).await),
        85019
    );
    let release_empty = env
        .http
        .post(env.url(&m.url("/wxa/release")))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .json::<Value>()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(errcode(&release_empty), 44002);
    let bad_template = env
        .post(
            &m.url("/wxa/commit"),
            json!({"template_id": "\"1\"", "ext_json": "{}", "user_version": "1", "user_desc": ""}),
        )
        .await;
    assert_eq!(errcode(&bad_template), 85014);
    let bad_ext = env
        .post(
            &m.url("/wxa/commit"),
            json!({"template_id": 1, "ext_json": "{not json", "user_version": "1", "user_desc": ""}),
        )
        .await;
    assert_eq!(errcode(&bad_ext), 85048);
    assert_eq!(
        errcode(&commit(&env, &m, "1", json!({"pages": ["pages/secret"]})).await),
        85045
    );
    assert_eq!(errcode(&commit(&env, &m, "1", json!({})).await), 0);
    assert_eq!(
        errcode(&submit(&env, &m).await),
        61039,
        "privacy check running"
    );
    let stringified = env
        .post(&m.url("/wxa/submit_audit"), json!({"item_list": "[]"}))
        .await;
    assert_eq!(errcode(&stringified), 47001);
    env.advance(60.0).await;
    let items = json!({"item_list": [{"address": "pages/index/index", "first_class": "工具",
        "second_class": "效率", "first_id": 287, "second_id": 616, "title": "首页"}]});
    assert_eq!(
        errcode(&env.post(&m.url("/wxa/submit_audit"), items).await),
        0
    );
    assert_eq!(
        errcode(
            &env.post(&m.url("/wxa/get_auditstatus"), json!({"auditid": 1}))
                .await
        ),
        85012
    );
    assert_eq!(errcode(&env.get(&m.url("/wxa/undocodeaudit")).await), 0);
    assert_eq!(errcode(&env.get(&m.url("/wxa/undocodeaudit")).await), 87012);

    // Not a mini program: no code permission set.
    let oa = env.appid("service", true).await;
    let (_, oa_aat, _) = env.authorize(&oa).await;
    let v = env
        .get(&format!("/wxa/get_category?access_token={oa_aat}"))
        .await;
    assert_eq!(errcode(&v), 61007);
    // The mini program's own token is not the platform's.
    let secret = env.account(&m.appid).await["appsecret"].clone();
    let own = env
        .get(&format!(
            "/cgi-bin/token?grant_type=client_credential&appid={}&secret={}",
            m.appid,
            secret.as_str().unwrap_or_default()
        ))
        .await;
    let own = own["access_token"].as_str().unwrap_or_default();
    assert_eq!(
        errcode(
            &env.get(&format!("/wxa/get_category?access_token={own}"))
                .await
        ),
        86000
    );
}

#[tokio::test]
async fn domains_take_only_what_the_platform_registered() {
    let env = Env::new(SimConfig::default()).await;
    let m = mini(&env, true).await;
    let url = m.url("/wxa/modify_domain");
    let r = env
        .post(
            &url,
            json!({"action": "add", "requestdomain": ["https://api.wxdesk-demo.com", "https://evil.example.com"]}),
        )
        .await;
    assert_eq!(errcode(&r), 0);
    assert_eq!(r["requestdomain"], json!(["https://api.wxdesk-demo.com"]));
    assert_eq!(
        r["invalid_requestdomain"],
        json!(["https://evil.example.com"])
    );
    let only_bad = env
        .post(
            &url,
            json!({"action": "add", "requestdomain": ["https://evil.example.com"]}),
        )
        .await;
    assert_eq!(errcode(&only_bad), 85017);
    let got = env.post(&url, json!({"action": "get"})).await;
    assert_eq!(got["requestdomain"], json!(["https://api.wxdesk-demo.com"]));

    let web = m.url("/wxa/setwebviewdomain");
    let all = env.post(&web, json!({})).await;
    assert_eq!(all["webviewdomain"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        errcode(&env.post(&web, json!({})).await),
        89019,
        "no change"
    );
    let evil = env
        .post(
            &web,
            json!({"action": "add", "webviewdomain": ["https://evil.example.com"]}),
        )
        .await;
    assert_eq!(errcode(&evil), 89021);
    let gone = env
        .post(
            &web,
            json!({"action": "delete", "webviewdomain": ["https://nope.wxdesk-demo.com"]}),
        )
        .await;
    assert_eq!(errcode(&gone), 89022);
}
