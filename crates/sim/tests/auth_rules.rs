//! Tokens, codes, authorization and the login pages, over real HTTP on loopback.

mod common;

use common::{Env, errcode, field};
use serde_json::json;
use wxdesk_sim::{
    SANDBOX_COMPONENT_APPID as CAPPID, SANDBOX_COMPONENT_APPSECRET as CSECRET, SimConfig,
};

fn cfg() -> SimConfig {
    SimConfig {
        seed: 7,
        ..SimConfig::default()
    }
}

#[tokio::test]
async fn component_token_needs_the_latest_ticket_and_the_right_secret() {
    let env = Env::new(cfg()).await;
    let ticket = env.latest_ticket().await;
    let ask = |secret: &str, ticket: &str| json!({"component_appid": CAPPID, "component_appsecret": secret, "component_verify_ticket": ticket});
    let v = env
        .post(
            "/cgi-bin/component/api_component_token",
            ask("wrong", &ticket),
        )
        .await;
    assert_eq!(errcode(&v), 40125);
    let v = env
        .post(
            "/cgi-bin/component/api_component_token",
            ask(CSECRET, "ticket@@@forged"),
        )
        .await;
    assert_eq!(errcode(&v), 61006);
    assert!(
        v["errmsg"].as_str().is_some_and(|m| m.contains(" rid: ")),
        "{v}"
    );
    let v = env
        .post(
            "/cgi-bin/component/api_component_token",
            ask(CSECRET, &ticket),
        )
        .await;
    assert_eq!(v["expires_in"], 7200);
    assert!(v["component_access_token"].is_string());

    // A newer ticket makes the old one invalid.
    env.post("/__sim/push-ticket", json!({})).await;
    env.wait_pushes(2, |p, _| p.path == "/wechat/component")
        .await;
    let v = env
        .post(
            "/cgi-bin/component/api_component_token",
            ask(CSECRET, &ticket),
        )
        .await;
    assert_eq!(errcode(&v), 61006);
    // The latest ticket expires after 12 hours without a new push.
    let latest = env.latest_ticket().await;
    env.advance(12.0 * 3600.0 + 1.0).await;
    let v = env
        .post(
            "/cgi-bin/component/api_component_token",
            ask(CSECRET, &latest),
        )
        .await;
    assert_eq!(errcode(&v), 61005);
}

#[tokio::test]
async fn an_expired_token_is_refused_and_both_token_spellings_work() {
    let env = Env::new(cfg()).await;
    let cat = env.component_token().await;
    let body = json!({"component_appid": CAPPID});
    let v = env
        .post(
            &format!("/cgi-bin/component/api_create_preauthcode?component_access_token={cat}"),
            body.clone(),
        )
        .await;
    assert_eq!(v["expires_in"], 600);
    let v = env
        .post(
            &format!("/cgi-bin/component/api_create_preauthcode?access_token={cat}"),
            body.clone(),
        )
        .await;
    assert!(
        v["pre_auth_code"]
            .as_str()
            .is_some_and(|c| c.starts_with("preauthcode@@@"))
    );
    let v = env
        .post("/cgi-bin/component/api_create_preauthcode", body.clone())
        .await;
    assert_eq!(errcode(&v), 41001);
    let v = env
        .post(
            "/cgi-bin/component/api_create_preauthcode?access_token=nope",
            body.clone(),
        )
        .await;
    assert_eq!(errcode(&v), 40001);
    env.advance(7200.0).await;
    let v = env
        .post(
            &format!("/cgi-bin/component/api_create_preauthcode?access_token={cat}"),
            body,
        )
        .await;
    assert_eq!(errcode(&v), 42001);
}

#[tokio::test]
async fn a_pre_auth_code_works_once_and_expires_after_ten_minutes() {
    let env = Env::new(cfg()).await;
    let appid = env.appid("service", true).await;
    let cat = env.component_token().await;
    let code = env.pre_auth_code(&cat).await;
    let req = || {
        env.http
            .post(env.url("/__sim/authorize"))
            .json(&json!({"pre_auth_code": code, "authorizer_appid": appid}))
    };
    assert_eq!(req().send().await.expect("send").status(), 200);
    let second = req().send().await.expect("send");
    assert_eq!(second.status(), 400);
    let v: serde_json::Value = second.json().await.expect("json");
    assert_eq!(v["error"], "pre_auth_code_used");

    let late = env.pre_auth_code(&cat).await;
    env.advance(600.0).await;
    let v: serde_json::Value = env
        .http
        .post(env.url("/__sim/authorize"))
        .json(&json!({"pre_auth_code": late, "authorizer_appid": appid}))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(v["error"], "pre_auth_code_expired");
    assert_eq!(env.state().await["tokens_issued"]["pre_auth_code"], 2);
}

#[tokio::test]
async fn an_authorization_code_is_single_use_and_expires() {
    let env = Env::new(cfg()).await;
    let appid = env.appid("service", true).await;
    let cat = env.component_token().await;
    let query = |code: String| json!({"component_appid": CAPPID, "authorization_code": code});
    let code = env.pre_auth_code(&cat).await;
    let a = env
        .post(
            "/__sim/authorize",
            json!({"pre_auth_code": code, "authorizer_appid": appid}),
        )
        .await;
    let auth_code = a["auth_code"].as_str().unwrap_or_default().to_string();
    let path = format!("/cgi-bin/component/api_query_auth?component_access_token={cat}");
    let v = env.post(&path, query(auth_code.clone())).await;
    assert_eq!(v["authorization_info"]["authorizer_appid"], appid.as_str());
    assert!(
        v["authorization_info"]["func_info"]
            .as_array()
            .is_some_and(|f| !f.is_empty())
    );
    assert_eq!(errcode(&env.post(&path, query(auth_code)).await), 61009);

    let code = env.pre_auth_code(&cat).await;
    let a = env
        .post(
            "/__sim/authorize",
            json!({"pre_auth_code": code, "authorizer_appid": appid}),
        )
        .await;
    assert_eq!(a["info_type"], "updateauthorized");
    env.advance(601.0).await;
    let v = env
        .post(
            &path,
            query(a["auth_code"].as_str().unwrap_or_default().to_string()),
        )
        .await;
    assert_eq!(errcode(&v), 61010);
}

#[tokio::test]
async fn a_refresh_token_dies_on_revoke_and_reauthorizing_issues_a_new_one() {
    let env = Env::new(cfg()).await;
    let appid = env.appid("service", true).await;
    let (cat, aat, refresh) = env.authorize(&appid).await;
    let path = format!("/cgi-bin/component/api_authorizer_token?component_access_token={cat}");
    let ask = |r: &str| json!({"component_appid": CAPPID, "authorizer_appid": appid, "authorizer_refresh_token": r});
    let v = env.post(&path, ask(&refresh)).await;
    assert!(v["authorizer_access_token"].is_string(), "{v}");
    assert_eq!(v["authorizer_refresh_token"], refresh.as_str());
    assert_eq!(
        errcode(&env.post(&path, ask("refreshtoken@@@bogus")).await),
        61023
    );

    let r = env
        .post("/__sim/revoke", json!({"authorizer_appid": appid}))
        .await;
    assert_eq!(r["ok"], true);
    assert_eq!(errcode(&env.post(&path, ask(&refresh)).await), 61003);
    // The account's access tokens died with the authorization.
    let v = env
        .get(&format!(
            "/cgi-bin/template/get_all_private_template?access_token={aat}"
        ))
        .await;
    assert_eq!(errcode(&v), 40001);
    let pushed = env
        .wait_pushes(1, |_, x| x.contains("<InfoType><![CDATA[unauthorized]]>"))
        .await;
    assert_eq!(
        field(&pushed[0].1, "AuthorizerAppid").as_deref(),
        Some(appid.as_str())
    );

    let (cat2, _, refresh2) = env.authorize(&appid).await;
    assert_ne!(refresh, refresh2);
    let path2 = format!("/cgi-bin/component/api_authorizer_token?component_access_token={cat2}");
    assert_eq!(errcode(&env.post(&path2, ask(&refresh)).await), 61023);
    assert!(env.post(&path2, ask(&refresh2)).await["authorizer_access_token"].is_string());
}

#[tokio::test]
async fn client_credential_keeps_the_previous_token_for_five_minutes() {
    let env = Env::new(cfg()).await;
    let appid = env.appid("service", true).await;
    let secret = env.account(&appid).await["appsecret"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let token = |s: String| {
        let env = &env;
        let appid = appid.clone();
        async move {
            env.get(&format!(
                "/cgi-bin/token?grant_type=client_credential&appid={appid}&secret={s}"
            ))
            .await
        }
    };
    assert_eq!(errcode(&token("nope".into()).await), 40125);
    let v = env
        .get(&format!(
            "/cgi-bin/token?grant_type=client_credential&appid={CAPPID}&secret={CSECRET}"
        ))
        .await;
    assert_eq!(errcode(&v), 61024);
    let old = token(secret.clone()).await["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let new = token(secret).await["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_ne!(old, new);
    let tags = |t: &str| format!("/cgi-bin/tags/get?access_token={t}");
    assert!(env.get(&tags(&old)).await["tags"].is_array());
    env.advance(299.0).await;
    assert!(env.get(&tags(&old)).await["tags"].is_array());
    env.advance(2.0).await;
    assert_eq!(errcode(&env.get(&tags(&old)).await), 40001);
    assert!(env.get(&tags(&new)).await["tags"].is_array());
    assert_eq!(env.state().await["tokens_issued"]["client"], 2);
}

#[tokio::test]
async fn the_login_page_checks_referer_and_redirect_domains() {
    let env = Env::new(cfg()).await;
    let cat = env.component_token().await;
    let code = env.pre_auth_code(&cat).await;
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let page = |referer: Option<&str>, redirect: &str, extra: &str| {
        let mut r = env.http.get(env.url(&format!(
            "/cgi-bin/componentloginpage?component_appid={CAPPID}&pre_auth_code={}&redirect_uri={}{extra}",
            enc(&code),
            enc(redirect)
        )));
        if let Some(x) = referer {
            r = r.header("Referer", x);
        }
        async move { r.send().await.expect("send").text().await.expect("text") }
    };
    let good_redirect = "http://127.0.0.1:9/auth/callback?state=s1";
    let html = page(None, good_redirect, "").await;
    assert!(html.contains("授权入口页所在域名：空"), "{html}");
    let html = page(Some("http://evil.example.com/start"), good_redirect, "").await;
    assert!(
        html.contains("授权入口页所在域名：evil.example.com"),
        "{html}"
    );
    assert!(!html.contains("authorize-"));
    let html = page(
        Some("http://127.0.0.1:9/auth/start"),
        "http://other.example/cb",
        "",
    )
    .await;
    assert!(html.contains("授权回调页所在域名：other.example"), "{html}");

    let appid = env.appid("service", true).await;
    let mini = env.appid("miniprogram", true).await;
    let html = page(
        Some("http://127.0.0.1:9/auth/start"),
        good_redirect,
        "&auth_type=1",
    )
    .await;
    assert!(
        html.contains(&format!("id=\"authorize-{appid}\"")),
        "{html}"
    );
    assert!(!html.contains(&format!("id=\"authorize-{mini}\"")));
    let html = page(
        Some("http://127.0.0.1:9/auth/start"),
        good_redirect,
        &format!("&biz_appid={mini}"),
    )
    .await;
    assert!(
        html.contains(&format!("id=\"authorize-{mini}\""))
            && !html.contains(&format!("id=\"authorize-{appid}\""))
    );
    let mobile = env
        .http
        .get(env.url(&format!(
            "/wxaopen/safe/bindcomponent?action=bindcomponent&no_scan=1&component_appid={CAPPID}&pre_auth_code={}&redirect_uri={}",
            enc(&code),
            enc(good_redirect)
        )))
        .header("Referer", "http://127.0.0.1/auth/start")
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("text");
    assert!(mobile.contains("授权</button>"));

    // Pressing 授权: a redirect with auth_code and expires_in, appended with `&`.
    let r = env
        .http
        .post(env.url("/__sim/login/confirm"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!(
            "pre_auth_code={}&authorizer_appid={appid}",
            enc(&code)
        ))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 303);
    let to = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(
        to.starts_with(
            "http://127.0.0.1:9/auth/callback?state=s1&auth_code=queryauthcode%40%40%40"
        ),
        "{to}"
    );
    assert!(to.ends_with("&expires_in=600"), "{to}");
    let pushed = env
        .wait_pushes(1, |_, x| x.contains("<InfoType><![CDATA[authorized]]>"))
        .await;
    let code_in_push = field(&pushed[0].1, "AuthorizationCode").unwrap_or_default();
    assert!(to.contains(&enc(&code_in_push)));
    assert_eq!(field(&pushed[0].1, "PreAuthCode"), Some(code.clone()));
    // The code is spent: the page now refuses it.
    let html = page(Some("http://127.0.0.1:9/auth/start"), good_redirect, "").await;
    assert!(html.contains("预授权码已被使用"), "{html}");
}

#[tokio::test]
async fn mini_program_login_shares_unionids_with_the_same_principal() {
    let env = Env::new(cfg()).await;
    let mini = env.appid("miniprogram", true).await;
    let (cat, _, _) = env.authorize(&mini).await;
    let path = |code: &str| {
        format!(
            "/sns/component/jscode2session?appid={mini}&js_code={code}&grant_type=authorization_code&component_appid={CAPPID}&component_access_token={cat}"
        )
    };
    let v = env.get(&path("code-1")).await;
    assert!(
        v["openid"].is_string() && v["session_key"].is_string(),
        "{v}"
    );
    let union = v["unionid"].as_str().unwrap_or_default().to_string();
    assert_eq!(errcode(&env.get(&path("code-1")).await), 40163);
    // The same person on the service account of the same principal has the same unionid.
    let s = env.state().await;
    let accts = s["accounts"].as_array().cloned().unwrap_or_default();
    let pos = accts
        .iter()
        .position(|a| a["appid"] == mini.as_str())
        .unwrap_or(0);
    let svc = accts[pos - 1]["appid"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(
        accts[pos - 1]["principal_name"],
        accts[pos]["principal_name"]
    );
    let mut found = false;
    for i in 0..1000 {
        let u = env
            .get(&format!("/__sim/openid?appid={svc}&index={i}"))
            .await;
        if u["unionid"] == union.as_str() {
            found = true;
            break;
        }
    }
    assert!(
        found,
        "unionid {union} not among the service account's followers"
    );
}

#[tokio::test]
async fn state_reports_accounts_and_authorizer_info_matches_the_world() {
    let env = Env::new(cfg()).await;
    let s = env.state().await;
    let accts = s["accounts"].as_array().cloned().unwrap_or_default();
    assert_eq!(accts.len(), 5);
    for a in &accts {
        assert!(
            a["appid"]
                .as_str()
                .is_some_and(|x| x.starts_with("wx") && x.len() == 18)
        );
        assert!(
            a["user_name"]
                .as_str()
                .is_some_and(|x| x.starts_with("gh_"))
        );
        assert_eq!(a["followers"], 1000);
    }
    let appid = env.appid("service", true).await;
    let (cat, _, _) = env.authorize(&appid).await;
    let v = env
        .post(
            &format!("/cgi-bin/component/api_get_authorizer_info?component_access_token={cat}"),
            json!({"component_appid": CAPPID, "authorizer_appid": appid}),
        )
        .await;
    let info = &v["authorizer_info"];
    assert_eq!(info["service_type_info"]["id"], 2);
    assert_eq!(info["verify_type_info"]["id"], 0);
    assert!(info.get("MiniProgramInfo").is_none());
    let list = env
        .post(
            &format!("/cgi-bin/component/api_get_authorizer_list?component_access_token={cat}"),
            json!({"component_appid": CAPPID, "offset": 0, "count": 100}),
        )
        .await;
    assert_eq!(list["total_count"], 1);
    assert_eq!(list["list"][0]["authorizer_appid"], appid.as_str());
    let s = env.state().await;
    assert_eq!(s["tokens_issued"]["component"], 1);
    assert_eq!(s["tokens_issued"]["authorizer"], 1);
}

#[tokio::test]
async fn callers_outside_the_ip_whitelist_get_61004_and_40164() {
    let env = Env::new(SimConfig {
        ip_whitelist: vec!["10.1.2.3".into()],
        ..cfg()
    })
    .await;
    let v = env
        .post(
            "/cgi-bin/component/api_component_token",
            json!({"component_appid": CAPPID, "component_appsecret": CSECRET, "component_verify_ticket": "x"}),
        )
        .await;
    assert_eq!(errcode(&v), 61004);
    assert!(
        v["errmsg"].as_str().is_some_and(
            |m| m.starts_with("access clientip is not registered requestIP: 127.0.0.1 rid: ")
        ),
        "{v}"
    );
    let v = env
        .get("/cgi-bin/token?grant_type=client_credential&appid=a&secret=b")
        .await;
    assert_eq!(errcode(&v), 40164);
    // Listed callers pass.
    let ok = Env::new(SimConfig {
        ip_whitelist: vec!["127.0.0.1".into()],
        ..cfg()
    })
    .await;
    assert!(ok.component_token().await.starts_with("cat_"));
}
