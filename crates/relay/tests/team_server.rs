//! The team server for real: a throwaway PostgreSQL cluster, wxdesk-sim as WeChat, and two
//! `wxdesk-relay` processes on one database. Members, the token authority and the desks' WeChat
//! calls through the server.

mod common;

use std::time::Duration;

use base64::Engine as _;
use common::*;
use serde_json::{Value, json};
use wxdesk_relay::team::testing::PgCluster;
use wxdesk_sim::{
    SANDBOX_COMPONENT_AES_KEY, SANDBOX_COMPONENT_APPSECRET, SANDBOX_COMPONENT_TOKEN, SimConfig,
    SimHandle,
};

struct Team {
    _pg: PgCluster,
    env: Vec<(String, String)>,
    sim: SimHandle,
    a: Relay,
    b: Relay,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
}

const SERVER_KEY_BYTE: u8 = 0x5c;

fn server_key() -> String {
    base64::engine::general_purpose::STANDARD.encode([SERVER_KEY_BYTE; 32])
}

async fn team() -> Team {
    let pg = PgCluster::start().unwrap_or_else(|e| panic!("{e}"));
    let (admin, conn) = tokio_postgres::connect(&pg.url("postgres"), tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(conn);
    admin
        .batch_execute("CREATE DATABASE team")
        .await
        .expect("create database");
    let sim = wxdesk_sim::start(SimConfig::default())
        .await
        .expect("sim starts");
    let env: Vec<(String, String)> = vec![
        ("WXDESK_RELAY_DATABASE_URL".into(), pg.url("team")),
        (
            "WXDESK_RELAY_COMPONENT_APPSECRET".into(),
            SANDBOX_COMPONENT_APPSECRET.into(),
        ),
        ("WXDESK_RELAY_SERVER_KEY".into(), server_key()),
        ("WXDESK_RELAY_UPSTREAM".into(), sim.base_url.clone()),
        (
            "WXDESK_RELAY_COMPONENT_TOKEN".into(),
            SANDBOX_COMPONENT_TOKEN.into(),
        ),
        (
            "WXDESK_RELAY_COMPONENT_AES_KEY".into(),
            SANDBOX_COMPONENT_AES_KEY.into(),
        ),
    ];
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (da, db) = (
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    );
    // Two processes starting at once migrate the database once.
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| Relay::spawn(da.path(), &pairs));
        let b = s.spawn(|| Relay::spawn(db.path(), &pairs));
        (a.join().expect("a"), b.join().expect("b"))
    });
    // WeChat pushes to one of them (a load balancer would pick either).
    sim.set_relay_url(&a.base);
    sim.push_ticket();
    // The ticket reached the shared store: the other process serves it.
    let mut seen = false;
    for _ in 0..100 {
        if api_get(&b, "/api/v1/ticket").await.0 == 200 {
            seen = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(seen, "the ticket pushed to A is served by B");
    Team {
        _pg: pg,
        env,
        sim,
        a,
        b,
        _dirs: (da, db),
    }
}

/// `wxdesk-relay members …` with the server's configuration; (status, stdout, stderr).
fn members(t: &Team, args: &[&str]) -> (bool, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_wxdesk-relay"))
        .env_clear()
        .envs(t.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("WXDESK_RELAY_DATA_DIR", t._dirs.0.path())
        .env("WXDESK_RELAY_COMPONENT_APPID", COMPONENT_APPID)
        .env("WXDESK_RELAY_API_KEY", API_KEY)
        .env("WXDESK_RELAY_PUBLIC_BASE_URL", "https://relay.example.com")
        .arg("members")
        .args(args)
        .output()
        .expect("run wxdesk-relay members");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn add_member(t: &Team, name: &str, role: &str) -> String {
    let (ok, out, err) = members(t, &["add", name, "--role", role]);
    assert!(ok, "members add failed: {err}");
    let key = out.lines().last().expect("a last line").trim().to_owned();
    assert!(
        key.starts_with("wxm_") && !key.contains(' '),
        "the key alone on the last line: {out:?}"
    );
    key
}

async fn call(relay: &Relay, key: &str, path_and_query: &str, body: Value) -> (u16, Value) {
    let resp = client()
        .post(relay.url(&format!("/api/v1/team/wechat{path_and_query}")))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .expect("team call");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn get_json(relay: &Relay, key: &str, path: &str) -> (u16, Value) {
    let resp = client()
        .get(relay.url(path))
        .bearer_auth(key)
        .send()
        .await
        .expect("get");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

fn issued(sim: &SimHandle) -> (u64, u64) {
    let s = sim.state();
    (
        s["tokens_issued"]["component"].as_u64().unwrap_or(0),
        s["tokens_issued"]["authorizer"].as_u64().unwrap_or(0),
    )
}

/// Authorizes a service account that can send templates, from desk B (through the server), with
/// WeChat pushing the result to process A. Returns its appid once B lists it.
async fn authorize(t: &Team, key: &str) -> String {
    let appid = t.sim.state()["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .find(|a| a["kind"] == "service" && a["verified"] == true)
        .and_then(|a| a["appid"].as_str())
        .expect("a verified service account in the sim")
        .to_owned();
    let (status, pre) = call(
        &t.b,
        key,
        "/cgi-bin/component/api_create_preauthcode?component_access_token=team",
        json!({ "component_appid": COMPONENT_APPID }),
    )
    .await;
    assert_eq!(status, 200, "{pre}");
    let pre_auth_code = pre["pre_auth_code"].as_str().expect("pre_auth_code");
    let done: Value = client()
        .post(format!("{}/__sim/authorize", t.sim.base_url))
        .json(&json!({ "pre_auth_code": pre_auth_code, "authorizer_appid": appid }))
        .send()
        .await
        .expect("authorize")
        .json()
        .await
        .expect("json");
    assert!(done["auth_code"].is_string(), "{done}");
    for _ in 0..100 {
        let (_, list) = get_json(&t.b, key, "/api/v1/team/accounts").await;
        if list["accounts"].as_array().is_some_and(|l| {
            l.iter()
                .any(|a| a["appid"] == appid.as_str() && a["authorized"] == true)
        }) {
            return appid;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "the account authorized through A is not listed at B; A's log:\n{}",
        t.a.logs()
    );
}

async fn template(t: &Team, key: &str, appid: &str) -> String {
    let (status, added) = call(
        &t.a,
        key,
        &format!("/cgi-bin/template/api_add_template?access_token=team.{appid}"),
        json!({ "template_id_short": "47123", "keyword_name_list": ["订单编号"] }),
    )
    .await;
    assert_eq!(status, 200, "{added}");
    added["template_id"]
        .as_str()
        .expect("template_id")
        .to_owned()
}

async fn openid(t: &Team, appid: &str, index: u32) -> String {
    let v: Value = client()
        .get(format!(
            "{}/__sim/openid?appid={appid}&index={index}",
            t.sim.base_url
        ))
        .send()
        .await
        .expect("openid")
        .json()
        .await
        .expect("json");
    v["openid"].as_str().expect("openid").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_sends_from_two_desks_on_two_processes_after_expiry_cost_one_token_of_each_kind()
 {
    let t = team().await;
    let alice = add_member(&t, "alice", "operator");
    let bob = add_member(&t, "bob", "operator");
    let appid = authorize(&t, &alice).await;
    let template_id = template(&t, &alice, &appid).await;
    let to = openid(&t, &appid, 0).await;

    // Every token the sim issued so far dies: the next calls meet 42001 on both processes.
    let _: Value = client()
        .post(format!("{}/__sim/advance-clock", t.sim.base_url))
        .json(&json!({ "secs": 3 * 3600 }))
        .send()
        .await
        .expect("advance")
        .json()
        .await
        .expect("json");
    let before = issued(&t.sim);
    let accepted_before = t.sim.state()["sends"]["accepted"].as_u64().unwrap_or(0);

    let mut calls = Vec::new();
    for i in 0..200 {
        // Desk "alice" talks to A, desk "bob" to B, interleaved.
        let (relay, key) = if i % 2 == 0 {
            (&t.a, &alice)
        } else {
            (&t.b, &bob)
        };
        let url = relay.url(&format!(
            "/api/v1/team/wechat/cgi-bin/message/template/send?access_token=team.{appid}"
        ));
        let body = json!({
            "touser": to,
            "template_id": template_id,
            "client_msg_id": format!("storm-{i}"),
            "data": { "character_string1": { "value": format!("SO{i:05}") } },
        });
        let key = key.clone();
        calls.push(tokio::spawn(async move {
            let resp = client()
                .post(url)
                .bearer_auth(key)
                .json(&body)
                .send()
                .await
                .expect("send");
            (
                resp.status().as_u16(),
                resp.json::<Value>().await.unwrap_or(Value::Null),
            )
        }));
    }
    for c in calls {
        let (status, body) = c.await.expect("join");
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["errcode"], 0, "every send is accepted: {body}");
    }
    let after = issued(&t.sim);
    assert_eq!(
        (after.0 - before.0, after.1 - before.1),
        (1, 1),
        "exactly one component token and one authorizer token were issued for 200 sends from two \
         desks through two processes; A:\n{}\nB:\n{}",
        t.a.logs(),
        t.b.logs()
    );
    assert_eq!(
        t.sim.state()["sends"]["accepted"].as_u64().unwrap_or(0) - accepted_before,
        200
    );
    t.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_removed_key_is_refused_at_once_a_viewer_reads_but_cannot_send_and_tokens_never_leave() {
    let t = team().await;
    let alice = add_member(&t, "alice", "operator");
    let vic = add_member(&t, "vic", "viewer");
    let (ok, list, _) = members(&t, &["list"]);
    assert!(
        ok && list.contains("alice\toperator") && list.contains("vic\tviewer"),
        "{list}"
    );

    let (status, me) = get_json(&t.b, &vic, "/api/v1/team/me").await;
    assert_eq!(
        (status, me["name"].as_str(), me["role"].as_str()),
        (200, Some("vic"), Some("viewer"))
    );

    let appid = authorize(&t, &alice).await;
    // The account change is recorded as alice's: she asked for the pre_auth_code.
    let (_, list) = get_json(&t.a, &vic, "/api/v1/team/accounts").await;
    let row = list["accounts"]
        .as_array()
        .and_then(|l| l.iter().find(|a| a["appid"] == appid.as_str()))
        .cloned()
        .expect("listed");
    assert_eq!(row["updated_by"], "alice", "{row}");
    let boss = add_member(&t, "boss", "admin");
    let (status, v) = get_json(&t.a, &alice, "/api/v1/team/audit").await;
    assert_eq!(
        (status, v["code"].as_str()),
        (403, Some("role_too_low")),
        "{v}"
    );
    let (status, v) = get_json(&t.b, &boss, "/api/v1/team/audit").await;
    assert_eq!(status, 200, "{v}");
    let entries = v["entries"].as_array().cloned().unwrap_or_default();
    assert!(
        entries.iter().any(|e| e["action"] == "account.authorized"
            && e["member"] == "alice"
            && e["detail"]["appid"] == appid.as_str()),
        "{v}"
    );
    assert!(
        entries
            .iter()
            .any(|e| e["action"] == "member.add" && e["detail"]["name"] == "vic")
    );
    let template_id = template(&t, &alice, &appid).await;
    let to = openid(&t, &appid, 1).await;
    let send = format!("/cgi-bin/message/template/send?access_token=team.{appid}");
    let body = json!({
        "touser": to, "template_id": template_id,
        "data": { "character_string1": { "value": "SO1" } },
    });

    // A viewer reads (the account's tags) but cannot send.
    let (status, tags) = call(
        &t.a,
        &vic,
        &format!("/cgi-bin/tags/get?access_token=team.{appid}"),
        json!({}),
    )
    .await;
    assert_eq!(status, 200, "{tags}");
    let accepted = t.sim.state()["sends"]["accepted"].as_u64().unwrap_or(0);
    let (status, refused) = call(&t.a, &vic, &send, body.clone()).await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (403, Some("role_too_low")),
        "{refused}"
    );
    assert!(refused["message"]["en"].is_string() && refused["hint"]["zh"].is_string());
    assert_eq!(
        t.sim.state()["sends"]["accepted"].as_u64().unwrap_or(0),
        accepted
    );

    // Desks never get a token: token endpoints are not forwarded, real tokens are not accepted.
    let (status, v) = call(
        &t.b,
        &alice,
        "/cgi-bin/component/api_get_authorizer_list?component_access_token=team",
        json!({ "component_appid": COMPONENT_APPID, "offset": 0, "count": 100 }),
    )
    .await;
    assert_eq!(
        (status, v["code"].as_str()),
        (403, Some("server_only")),
        "{v}"
    );
    let (status, v) = call(
        &t.b,
        &alice,
        "/cgi-bin/message/template/send?access_token=SOME_REAL_TOKEN",
        body.clone(),
    )
    .await;
    assert_eq!(
        (status, v["code"].as_str()),
        (400, Some("bad_token_placeholder")),
        "{v}"
    );

    // Alice sends, is removed, and her very next request is refused by both processes.
    let (status, sent) = call(&t.a, &alice, &send, body.clone()).await;
    assert_eq!((status, sent["errcode"].as_i64()), (200, Some(0)), "{sent}");
    let (ok, out, err) = members(&t, &["remove", "alice"]);
    assert!(ok, "{out}{err}");
    for relay in [&t.a, &t.b] {
        let (status, v) = call(relay, &alice, &send, body.clone()).await;
        assert_eq!(
            (status, v["code"].as_str()),
            (401, Some("member_key_refused")),
            "{v}"
        );
    }
    let (ok, _, err) = members(&t, &["remove", "alice"]);
    assert!(
        !ok && err.contains("alice"),
        "removing an unknown member fails saying who: {err}"
    );

    // No secret in either process's log or data dir: the AppSecret, the server key.
    for relay in [&t.a, &t.b] {
        let logs = relay.logs();
        assert!(!logs.contains(SANDBOX_COMPONENT_APPSECRET) && !logs.contains(&server_key()));
        assert!(
            !logs.contains(&alice) && !logs.contains(&vic),
            "member keys stay out of logs"
        );
    }
    t.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_team_server_passes_the_full_network_release_test_with_no_desk_running() {
    let t = team().await;
    let result: Value = client()
        .post(format!("{}/__sim/release-test", t.sim.base_url))
        .json(&json!({ "wait_secs": 20 }))
        .send()
        .await
        .expect("release test")
        .json()
        .await
        .expect("json");
    assert_eq!(
        result["passed"],
        true,
        "every 全网发布 case passes, the API reply answered by the server itself: {result}\nA:\n{}",
        t.a.logs()
    );
    t.sim.shutdown().await;
}

async fn send_json(
    relay: &Relay,
    key: &str,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let resp = client()
        .request(method, relay.url(path))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .expect("list call");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_list_is_invisible_until_its_maker_finishes_it_and_hostile_uploads_change_nothing() {
    use reqwest::Method;
    let t = team().await;
    let alice = add_member(&t, "alice", "operator");
    let bob = add_member(&t, "bob", "operator");
    let vic = add_member(&t, "vic", "viewer");
    let appid = authorize(&t, &alice).await;
    let post = |key: &str, path: &str, body: Value| {
        let key = key.to_owned();
        let path = path.to_owned();
        let relay = &t.a;
        async move { send_json(relay, &key, Method::POST, &path, body).await }
    };
    let new = json!({"appid": appid, "name": "十一月订单", "source": {"kind": "pasted"}, "variables": ["单号"]});
    // Viewers read lists but make none; an unknown account has none.
    let (status, body) = post(&vic, "/api/v1/team/lists", new.clone()).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("role_too_low")));
    let mut elsewhere = new.clone();
    elsewhere["appid"] = json!("wx00000000000000ff");
    let (status, body) = post(&alice, "/api/v1/team/lists", elsewhere).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("unknown_account"))
    );

    let (status, created) = post(&alice, "/api/v1/team/lists", new.clone()).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().expect("id");
    let members = format!("/api/v1/team/lists/{id}/members");
    let chunk = json!({"members": [
        {"openid": "oAlice0000000000000000000001", "vars": {"单号": "A-1"}},
        {"openid": "oAlice0000000000000000000002", "vars": {"单号": "A-2"}},
        {"openid": "oAlice0000000000000000000001", "vars": {"单号": "again"}},
    ]});
    let (status, added) = post(&alice, &members, chunk).await;
    assert_eq!((status, added["added"].as_u64()), (200, Some(2)), "{added}");
    // Half a list is nobody's to see or send to, at either process.
    let (_, listed) = get_json(&t.b, &vic, "/api/v1/team/lists").await;
    assert_eq!(listed["lists"], json!([]), "{listed}");
    let (status, _) = get_json(&t.b, &vic, &members).await;
    assert_eq!(status, 404);
    // Only its maker adds to an upload; hostile members are refused whole.
    let (status, _) = post(
        &bob,
        &members,
        json!({"members": [{"openid": "oBob", "vars": {}}]}),
    )
    .await;
    assert_eq!(status, 404);
    for bad in [
        json!({"members": [{"openid": "o'; DROP TABLE team_lists; --", "vars": {}}]}),
        json!({"members": [{"openid": "", "vars": {}}]}),
        json!({"members": [{"openid": "oLong", "vars": {"x": "y".repeat(20_000)}}]}),
        json!({"members": "not a list"}),
    ] {
        let (status, body) = post(&alice, &members, bad).await;
        assert_eq!(status, 400, "{body}");
        assert!(body["message"]["en"].is_string(), "{body}");
    }
    let (status, finished) =
        post(&alice, &format!("/api/v1/team/lists/{id}/ready"), json!({})).await;
    assert_eq!(status, 200, "{finished}");
    assert_eq!(finished["member_count"], 2);
    assert_eq!(finished["created_by"], "alice");
    // Finished: every desk on every process sees it, members in openid order with their values.
    let (_, listed) = get_json(&t.b, &vic, &format!("/api/v1/team/lists?appid={appid}")).await;
    assert_eq!(listed["lists"][0]["name"], "十一月订单", "{listed}");
    let (status, page) = get_json(&t.b, &vic, &format!("{members}?limit=1")).await;
    assert_eq!(status, 200);
    assert_eq!(page["items"][0]["vars"]["单号"], "A-1", "{page}");
    let next = page["next_after"].as_str().expect("a second page");
    let (_, page) = get_json(&t.b, &vic, &format!("{members}?limit=1&after={next}")).await;
    assert_eq!(page["items"][0]["vars"]["单号"], "A-2", "{page}");
    assert_eq!(page["next_after"], Value::Null);
    // A finished list takes no more members, and its name is taken for the account.
    let (status, _) = post(
        &alice,
        &members,
        json!({"members": [{"openid": "oLate", "vars": {}}]}),
    )
    .await;
    assert_eq!(status, 404);
    let (status, body) = post(&bob, "/api/v1/team/lists", new.clone()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("list_name_taken"))
    );
    // Deleting is an operator's, recorded as theirs; the list is gone for everyone.
    let (status, _) = send_json(
        &t.b,
        &vic,
        Method::DELETE,
        &format!("/api/v1/team/lists/{id}"),
        json!({}),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = send_json(
        &t.b,
        &bob,
        Method::DELETE,
        &format!("/api/v1/team/lists/{id}"),
        json!({}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = get_json(&t.a, &alice, &format!("/api/v1/team/lists/{id}")).await;
    assert_eq!(status, 404);
    let ada = add_member(&t, "ada", "admin");
    let (_, audit) = get_json(&t.a, &ada, "/api/v1/team/audit").await;
    let text = audit.to_string();
    assert!(
        text.contains("list.create") && text.contains("list.delete"),
        "{audit}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn followers_windows_and_tags_are_the_teams_kept_from_the_event_log_and_publications() {
    use reqwest::Method;
    let t = team().await;
    let alice = add_member(&t, "alice", "operator");
    let bob = add_member(&t, "bob", "operator");
    let vic = add_member(&t, "vic", "viewer");
    let appid = authorize(&t, &alice).await;
    let sim_post = |path: &'static str, body: Value| {
        let url = format!("{}{path}", t.sim.base_url);
        async move {
            let r = client().post(url).json(&body).send().await.expect("sim");
            assert!(r.status().is_success(), "{path}: {}", r.status());
        }
    };
    let poll = |path: String, done: fn(&Value) -> bool| {
        let t = &t;
        let vic = vic.clone();
        async move {
            let mut seen = Value::Null;
            for _ in 0..100 {
                seen = get_json(&t.b, &vic, &path).await.1;
                if done(&seen) {
                    return seen;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            panic!("{path} never got there: {seen}\nlogs A:\n{}", t.a.logs());
        }
    };

    // A user writes and a user follows while no desk runs: the server records both.
    let writer = openid(&t, &appid, 3).await;
    sim_post(
        "/__sim/message",
        json!({"authorizer_appid": appid, "openid": writer, "content": "在吗"}),
    )
    .await;
    let open = poll(format!("/api/v1/team/windows?appid={appid}"), |v| {
        v["total"] == 1
    })
    .await;
    assert_eq!(open["rows"][0]["openid"], writer.as_str(), "{open}");
    assert_eq!(open["rows"][0]["kind"], "text");
    let newcomer = openid(&t, &appid, 4).await;
    sim_post(
        "/__sim/follow",
        json!({"authorizer_appid": appid, "openid": newcomer, "follow": true}),
    )
    .await;
    let one = format!("/api/v1/team/followers/one?appid={appid}&openid={newcomer}");
    poll(one.clone(), |v| v["subscribe"] == true).await;

    // A desk publishes what it synced: followers in chunks (only its own publication), tags last.
    let post = |key: &str, path: String, body: Value| {
        let key = key.to_owned();
        let relay = &t.a;
        async move { send_json(relay, &key, Method::POST, &path, body).await }
    };
    let follower = |o: &str, tags: &[i64]| {
        json!({"appid": appid, "openid": o, "subscribe": true, "subscribe_time": 1_700_000_000,
               "remark": format!("备注{o}"), "tagid_list": tags, "has_details": true,
               "updated_at": 1})
    };
    let publish = |who: &'static str, followers: Vec<Value>| {
        let key = if who == "alice" {
            alice.clone()
        } else {
            bob.clone()
        };
        let appid = appid.clone();
        async move {
            let (status, created) = post(
                &key,
                "/api/v1/team/followers/publications".into(),
                json!({ "appid": appid }),
            )
            .await;
            assert_eq!(status, 201, "{created}");
            let id = created["id"].as_i64().expect("id");
            let (status, body) = post(
                &key,
                format!("/api/v1/team/followers/publications/{id}/followers"),
                json!({ "followers": followers }),
            )
            .await;
            assert_eq!(status, 200, "{body}");
            id
        }
    };
    let id = publish(
        "alice",
        vec![
            follower("oF1", &[2]),
            follower("oF2", &[]),
            follower("oF3", &[2, 5]),
            follower(&newcomer, &[]),
        ],
    )
    .await;
    // Hostile or foreign chunks change nothing.
    for (key, body, want) in [
        (
            &alice,
            json!({"followers": [follower("o' OR 1=1 --", &[])]}),
            400,
        ),
        (&bob, json!({"followers": [follower("oBob", &[])]}), 404),
        (&vic, json!({"followers": [follower("oVic", &[])]}), 403),
    ] {
        let (status, b) = post(
            key,
            format!("/api/v1/team/followers/publications/{id}/followers"),
            body,
        )
        .await;
        assert_eq!(status, want, "{b}");
    }
    let (status, done) = post(
        &alice,
        format!("/api/v1/team/followers/publications/{id}/done"),
        json!({"tags": [{"tag_id": 2, "name": "VIP", "count": 2}, {"tag_id": 5, "name": "北京", "count": 1}]}),
    )
    .await;
    assert_eq!(
        (status, done["followers"].as_i64()),
        (200, Some(4)),
        "{done}"
    );
    // Every follower it carried is following; the newcomer keeps what the event said.
    let (_, totals) = get_json(
        &t.b,
        &vic,
        &format!("/api/v1/team/followers/totals?appid={appid}"),
    )
    .await;
    assert_eq!(
        (totals["total"].as_i64(), totals["subscribed"].as_i64()),
        (Some(4), Some(4)),
        "{totals} {}",
        get_json(&t.b, &vic, &format!("/api/v1/team/followers?appid={appid}"))
            .await
            .1
    );
    let (_, tags) = get_json(&t.b, &vic, &format!("/api/v1/team/tags?appid={appid}")).await;
    assert_eq!(tags["tags"][0]["name"], "VIP", "{tags}");
    assert_eq!(tags["tags"][0]["local_count"], 2, "{tags}");
    let (_, vip) = get_json(
        &t.b,
        &vic,
        &format!("/api/v1/team/followers?appid={appid}&tag_id=2"),
    )
    .await;
    let names: Vec<&str> = vip["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|f| f["openid"].as_str().expect("openid"))
        .collect();
    assert_eq!(names, ["oF1", "oF3"]);
    let (_, found) = get_json(
        &t.b,
        &vic,
        &format!("/api/v1/team/followers?appid={appid}&search=%E5%A4%87%E6%B3%A8oF2"),
    )
    .await;
    assert_eq!(
        found["items"][0]["openid"], "oF2",
        "search in the remark: {found}"
    );
    let (_, page) = get_json(
        &t.b,
        &vic,
        &format!("/api/v1/team/followers?appid={appid}&limit=2"),
    )
    .await;
    let next = page["next_after"].as_str().expect("a second page");
    let (_, rest) = get_json(
        &t.b,
        &vic,
        &format!("/api/v1/team/followers?appid={appid}&limit=2&after={next}"),
    )
    .await;
    assert_eq!(
        page["items"].as_array().expect("an array").len()
            + rest["items"].as_array().expect("an array").len(),
        4
    );
    let (status, bad) = get_json(
        &t.b,
        &vic,
        &format!("/api/v1/team/followers?appid={appid}&subscribed=maybe"),
    )
    .await;
    assert_eq!(status, 400, "{bad}");

    // A list of the tag's followers, made on the server in one step.
    let (status, list) = post(
        &bob,
        "/api/v1/team/lists/from-followers".into(),
        json!({"appid": appid, "name": "VIP", "filter": {"tag_id": 2}}),
    )
    .await;
    assert_eq!(
        (status, list["member_count"].as_i64()),
        (201, Some(2)),
        "{list}"
    );

    // The next sync no longer finds oF3: it is no longer following, and the tag count follows.
    let id = publish(
        "bob",
        vec![
            follower("oF1", &[2]),
            follower("oF2", &[]),
            follower(&newcomer, &[]),
        ],
    )
    .await;
    post(
        &bob,
        format!("/api/v1/team/followers/publications/{id}/done"),
        json!({"tags": [{"tag_id": 2, "name": "VIP", "count": 1}]}),
    )
    .await;
    let (_, gone) = get_json(
        &t.b,
        &vic,
        &format!("/api/v1/team/followers/one?appid={appid}&openid=oF3"),
    )
    .await;
    assert_eq!(gone["subscribe"], false, "{gone}");
    let (_, tags) = get_json(&t.b, &vic, &format!("/api/v1/team/tags?appid={appid}")).await;
    assert_eq!(
        tags["tags"].as_array().expect("an array").len(),
        1,
        "{tags}"
    );
    assert_eq!(tags["tags"][0]["local_count"], 1, "{tags}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn templates_are_the_teams_and_a_sync_keeps_the_notes_written_at_any_desk() {
    use reqwest::Method;
    let t = team().await;
    let alice = add_member(&t, "alice", "operator");
    let bob = add_member(&t, "bob", "operator");
    let vic = add_member(&t, "vic", "viewer");
    let appid = authorize(&t, &alice).await;
    let path = format!("/api/v1/team/templates?appid={appid}");
    let tpl = |id: &str, title: &str| json!({"template_id": id, "title": title, "content": "{{thing1.DATA}}", "example": ""});
    let (status, _) = send_json(
        &t.a,
        &vic,
        Method::PUT,
        &path,
        json!({"templates": [tpl("T1", "发货通知")]}),
    )
    .await;
    assert_eq!(status, 403, "a viewer publishes nothing");
    let (status, body) = send_json(
        &t.a,
        &alice,
        Method::PUT,
        &path,
        json!({"templates": [tpl("T1", "发货通知"), tpl("T2", "退款通知")]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // Bob writes a note and approved values at his desk; Alice's next sync keeps them.
    let (status, _) = send_json(
        &t.b,
        &bob,
        Method::POST,
        "/api/v1/team/templates/notes",
        json!({"appid": appid, "template_id": "T1", "alias": "发货", "note": "仓库用"}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = send_json(
        &t.b,
        &bob,
        Method::POST,
        "/api/v1/team/templates/const-values",
        json!({"appid": appid, "template_id": "T1", "key": "thing1", "values": ["顺丰", " "]}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = send_json(
        &t.b,
        &bob,
        Method::POST,
        "/api/v1/team/templates/notes",
        json!({"appid": appid, "template_id": "T9", "alias": "x"}),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("no_such_template"))
    );
    let (status, body) = send_json(
        &t.a,
        &alice,
        Method::PUT,
        &path,
        json!({"templates": [tpl("T1", "发货通知（新）")]}),
    )
    .await;
    assert_eq!((status, body["removed"].as_u64()), (200, Some(1)), "{body}");
    let (_, listed) = get_json(&t.b, &vic, &path).await;
    let all = listed["templates"].as_array().expect("templates");
    assert_eq!(all.len(), 1, "T2 is gone: {listed}");
    assert_eq!(all[0]["title"], "发货通知（新）");
    assert_eq!(all[0]["alias"], "发货");
    assert_eq!(all[0]["note"], "仓库用");
    assert_eq!(all[0]["const_values"], json!({"thing1": ["顺丰"]}));
    // Hostile template ids change nothing.
    let (status, _) = send_json(
        &t.a,
        &alice,
        Method::PUT,
        &path,
        json!({"templates": [tpl("T1'; --", "x")]}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(get_json(&t.b, &vic, &path).await.1, listed);
}
