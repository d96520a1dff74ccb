//! Team mode from the CLI, for real: a throwaway PostgreSQL cluster, wxdesk-sim as WeChat, two
//! team-server instances (wxdesk-relay with a database) on it, and two desks — separate data
//! dirs, each joined with its own member key — running the real `wxdesk-cli` binary.

#![allow(clippy::unwrap_used)]

mod support;

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::Path;

use serde_json::{Value, json};
use support::*;
use wxdesk_relay::team::members::{self, Role};
use wxdesk_relay::team::testing::PgCluster;
use wxdesk_relay::{RelayConfig, RelayHandle};
use wxdesk_sim::{SimConfig, SimHandle};

const SERVER_API_KEY: &str = "team-server-api-key-0123456789abcdef";
const SERVER_KEY_B64: &str = "c2VydmVyLWtleS1mb3ItdGhlLXRlYW0tdGVzdHMtMzI="; // 32 bytes

fn free_port() -> u16 {
    TcpListener::bind(("127.0.0.1", 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Team {
    _pg: PgCluster,
    db_url: String,
    dir: tempfile::TempDir,
    sim: SimHandle,
    a: RelayHandle,
    b: RelayHandle,
    http: reqwest::Client,
}

async fn server(dir: &Path, db_url: &str, sim_url: &str) -> RelayHandle {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let env: HashMap<&str, String> = HashMap::from([
        ("WXDESK_RELAY_LISTEN", format!("127.0.0.1:{port}")),
        ("WXDESK_RELAY_DATA_DIR", dir.display().to_string()),
        (
            "WXDESK_RELAY_COMPONENT_APPID",
            wxdesk_sim::SANDBOX_COMPONENT_APPID.into(),
        ),
        (
            "WXDESK_RELAY_COMPONENT_TOKEN",
            wxdesk_sim::SANDBOX_COMPONENT_TOKEN.into(),
        ),
        (
            "WXDESK_RELAY_COMPONENT_AES_KEY",
            wxdesk_sim::SANDBOX_COMPONENT_AES_KEY.into(),
        ),
        ("WXDESK_RELAY_API_KEY", SERVER_API_KEY.into()),
        ("WXDESK_RELAY_PUBLIC_BASE_URL", url),
        ("WXDESK_RELAY_UPSTREAM", sim_url.into()),
        ("WXDESK_RELAY_LOGIN_BASE", sim_url.into()),
        ("WXDESK_RELAY_DATABASE_URL", db_url.into()),
        (
            "WXDESK_RELAY_COMPONENT_APPSECRET",
            wxdesk_sim::SANDBOX_COMPONENT_APPSECRET.into(),
        ),
        ("WXDESK_RELAY_SERVER_KEY", SERVER_KEY_B64.into()),
    ]);
    wxdesk_relay::start(RelayConfig::load_with_env(None, |k| env.get(k).cloned()).unwrap())
        .await
        .unwrap()
}

async fn team() -> Team {
    let pg = PgCluster::start().unwrap_or_else(|e| panic!("{e}"));
    let (admin, conn) = tokio_postgres::connect(&pg.url("postgres"), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    admin.batch_execute("CREATE DATABASE team").await.unwrap();
    let db_url = pg.url("team");
    let dir = tempfile::tempdir().unwrap();
    let sim_port = free_port();
    let sim_url = format!("http://127.0.0.1:{sim_port}");
    let a = server(&dir.path().join("server-a"), &db_url, &sim_url).await;
    let b = server(&dir.path().join("server-b"), &db_url, &sim_url).await;
    let sim = wxdesk_sim::start(SimConfig {
        listen: format!("127.0.0.1:{sim_port}"),
        relay_url: a.base_url.clone(),
        auth_domain: "127.0.0.1".into(),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    Team {
        _pg: pg,
        db_url,
        dir,
        sim,
        a,
        b,
        http: reqwest::Client::new(),
    }
}

impl Team {
    fn desk(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }

    async fn member(&self, name: &str, role: Role) -> String {
        let db = wxdesk_relay::team::db::Db::open(&wxdesk_relay::Secret::new(&self.db_url))
            .await
            .unwrap();
        members::add(&db, name, role).await.unwrap()
    }

    async fn cli(&self, desk: &str, args: &[&str]) -> Run {
        run_cli(Some(&self.desk(desk)), args, "").await
    }

    fn issued(&self) -> (u64, u64) {
        let s = self.sim.state();
        (
            s["tokens_issued"]["component"].as_u64().unwrap(),
            s["tokens_issued"]["authorizer"].as_u64().unwrap(),
        )
    }

    /// A CSV of the sim's followers `range` of `appid` (one `openid` column), for `--csv`.
    async fn openids_csv(
        &self,
        appid: &str,
        range: std::ops::Range<usize>,
        name: &str,
    ) -> std::path::PathBuf {
        let mut csv = String::from("openid\n");
        for i in range {
            let o: Value = self
                .http
                .get(format!(
                    "{}/__sim/openid?appid={appid}&index={i}",
                    self.sim.base_url
                ))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            csv.push_str(o["openid"].as_str().unwrap());
            csv.push('\n');
        }
        let path = self.dir.path().join(format!("{name}.csv"));
        std::fs::write(&path, csv).unwrap();
        path
    }

    /// What the admin's browser does with the printed link (see support::World).
    async fn approve(&self, launch_url: &str, pre_auth_code: &str, appid: &str) {
        let html = self.http.get(launch_url).send().await.unwrap();
        assert_eq!(
            html.status(),
            200,
            "the server's launch page accepts its own state"
        );
        let r: Value = self
            .http
            .post(format!("{}/__sim/authorize", self.sim.base_url))
            .json(&json!({"pre_auth_code": pre_auth_code, "authorizer_appid": appid}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(r["auth_code"].is_string(), "{r}");
    }
}

/// Every file below `dir`, as bytes.
fn all_bytes(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(b) = std::fs::read(&p) {
                out.push((p.display().to_string(), b));
            }
        }
    }
    out
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs the OS keychain and PostgreSQL: WXDESK_TEST_KEYCHAIN=1 scripts/with-keyring.sh cargo test -p wxdesk-cli --test team -- --include-ignored"]
async fn two_desks_in_a_team_share_accounts_the_server_holds_every_token_and_keys_can_be_revoked() {
    require_keychain();
    let t = team().await;
    let alice = t.member("alice", Role::Operator).await;
    let bob = t.member("bob", Role::Operator).await;
    let vic = t.member("vic", Role::Viewer).await;

    // Desk A joins with the key in the environment, desk B with it on stdin (never argv).
    let joined = run_cli_env(
        Some(&t.desk("desk-a")),
        &["--json", "team", "join", "--server", &t.a.base_url],
        "",
        &[("WXDESK_MEMBER_KEY", alice.as_str())],
    )
    .await
    .ok()
    .json();
    assert_eq!(
        (joined["member"].as_str(), joined["role"].as_str()),
        (Some("alice"), Some("operator"))
    );
    run_cli(
        Some(&t.desk("desk-b")),
        &["team", "join", "--server", &t.b.base_url],
        &format!("{bob}\n"),
    )
    .await
    .ok();
    // A wrong key joins nothing.
    let refused = run_cli_env(
        Some(&t.desk("desk-x")),
        &["team", "join", "--server", &t.a.base_url],
        "",
        &[("WXDESK_MEMBER_KEY", "wxm_not-a-member-key")],
    )
    .await;
    assert_ne!(refused.code, 0);
    assert!(refused.stderr.contains("成员密钥"), "{}", refused.stderr);
    let status = t.cli("desk-x", &["team", "status"]).await.ok();
    assert!(status.stdout.contains("未加入团队"), "{}", status.stdout);

    let status = t.cli("desk-a", &["team", "status"]).await.ok();
    assert!(
        status.stdout.contains("alice") && status.stdout.contains("operator"),
        "{}",
        status.stdout
    );
    // The connection check of a team desk is the server accepting its key; the ticket, token
    // and whitelist steps are the server's.
    let check = t
        .cli("desk-a", &["--json", "platform", "status"])
        .await
        .ok()
        .json();
    assert_eq!(check["ok"], true, "{check}");
    assert!(check.to_string().contains("team_server"), "{check}");

    // Authorization started at desk A, the push landing on server A: desk B lists the account.
    let link = t
        .cli("desk-a", &["--json", "auth", "link"])
        .await
        .ok()
        .json();
    let pre = link["pre_auth_code"].as_str().unwrap();
    let launch = link["launch_url"].as_str().unwrap();
    assert!(
        launch.starts_with(&format!("{}/auth/start?", t.a.base_url)),
        "{launch}"
    );
    let appid = t.sim.state()["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "service" && a["verified"] == true)
        .unwrap()["appid"]
        .as_str()
        .unwrap()
        .to_string();
    t.approve(launch, pre, &appid).await;
    let card = t
        .cli("desk-a", &["--json", "auth", "wait", "--timeout", "60"])
        .await
        .ok()
        .json();
    assert_eq!(card["appid"], appid.as_str());
    assert_eq!(card["status"], "authorized");
    let listed = t
        .cli("desk-b", &["--json", "accounts", "list"])
        .await
        .ok()
        .json();
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["appid"] == appid.as_str()),
        "desk B lists the account authorized at desk A: {listed}"
    );

    // Both desks send through the servers after every token expired: one of each is issued.
    // Templates are the team's: synced at desk A, listed (and sent with) at desk B.
    t.cli("desk-a", &["templates", "sync", &appid]).await.ok();
    let list = t
        .cli("desk-b", &["--json", "templates", "list", &appid])
        .await
        .ok()
        .json();
    assert!(
        !list.as_array().unwrap().is_empty(),
        "desk B lists the templates desk A synced: {list}"
    );
    let tpl = list
        .as_array()
        .unwrap()
        .iter()
        .find(|t| {
            t["fields"].as_array().unwrap().iter().all(|f| {
                let k = f["key"].as_str().unwrap();
                k.starts_with("keyword") || k == "first" || k == "remark"
            })
        })
        .unwrap_or_else(|| panic!("no legacy template in {list}"));
    let template = tpl["template_id"].as_str().unwrap().to_string();
    let keys: Vec<String> = tpl["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["key"].as_str().unwrap().to_string())
        .collect();
    let _: Value = t
        .http
        .post(format!("{}/__sim/advance-clock", t.sim.base_url))
        .json(&json!({ "secs": 3 * 3600 }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // (a) Both desks send at once through the two server processes after every token expired:
    // 200 recipients in two jobs (one per desk), run by both servers' workers — one token of
    // each kind is issued.
    let before = t.issued();
    let accepted_before = t.sim.state()["sends"]["accepted"].as_u64().unwrap();
    let mut sends = Vec::new();
    for (d, desk) in ["desk-a", "desk-b"].into_iter().enumerate() {
        let csv = t.openids_csv(&appid, d * 100..(d + 1) * 100, desk).await;
        let args = send_template_args(
            &appid,
            &template,
            &["--csv", csv.to_str().unwrap(), "--concurrency", "50"],
            &keys,
            "team",
        );
        let dir = t.desk(desk);
        sends.push(tokio::spawn(async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            run_cli(Some(&dir), &args, "").await
        }));
    }
    let mut job_ids = Vec::new();
    for s in sends {
        let done = s.await.unwrap().ok().json();
        assert_eq!(done["event"], "done", "{done}");
        assert_eq!(done["job"]["status"], "completed", "{done}");
        assert_eq!(done["job"]["counts"]["sent"], 100, "{done}");
        job_ids.push(done["job"]["id"].as_i64().unwrap());
    }
    let after = t.issued();
    assert_eq!(
        (after.0 - before.0, after.1 - before.1),
        (1, 1),
        "200 sends from two desks through two servers after expiry: one token of each kind"
    );
    let sends = &t.sim.state()["sends"];
    assert_eq!(sends["accepted"].as_u64().unwrap() - accepted_before, 200);
    assert_eq!(sends["max_per_recipient"], 1, "{sends}");

    // (c) Desk B lists desk A's job, with the member who started it and its numbers.
    let listed = t
        .cli("desk-b", &["--json", "jobs", "list"])
        .await
        .ok()
        .json();
    let a_job = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["id"] == job_ids[0])
        .unwrap_or_else(|| panic!("desk B lists desk A's job {}: {listed}", job_ids[0]));
    assert_eq!(a_job["created_by"], "alice");
    assert_eq!(a_job["counts"]["sent"], 100);
    // …and its 发送记录: the team server's rows, filtered and exported as a desk's own.
    let a_id = job_ids[0].to_string();
    let rows = t
        .cli(
            "desk-b",
            &[
                "--json", "history", "list", "--job", &a_id, "--limit", "1000",
            ],
        )
        .await
        .ok()
        .json();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 100, "desk B's history of desk A's job");
    assert!(
        rows.iter()
            .all(|r| r["state"] == "sent" && r["job_id"] == job_ids[0])
    );
    let openids: std::collections::HashSet<&str> =
        rows.iter().map(|r| r["openid"].as_str().unwrap()).collect();
    assert_eq!(openids.len(), 100);
    let failed = t
        .cli(
            "desk-b",
            &["--json", "history", "list", "--status", "failed_permanent"],
        )
        .await
        .ok()
        .json();
    assert_eq!(failed.as_array().unwrap().len(), 0, "{failed}");
    let csv = t.dir.path().join("team-history.csv");
    let export = t
        .cli(
            "desk-b",
            &[
                "--json",
                "history",
                "export",
                "--csv",
                csv.to_str().unwrap(),
            ],
        )
        .await
        .ok()
        .json();
    assert_eq!(export["rows"], 200, "both desks' jobs: {export}");
    // The same columns as a desk's own export: times in Beijing time with the zone named.
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let headers = reader.headers().unwrap().clone();
    let created = headers
        .iter()
        .position(|h| h == "创建时间（北京时间 UTC+8）")
        .unwrap_or_else(|| panic!("the zone is named: {headers:?}"));
    assert_eq!(headers.iter().next_back(), Some("变量（JSON）"));
    let first = reader.records().next().unwrap().unwrap();
    assert!(first[created].ends_with("+08:00"), "{first:?}");

    // A 名单 made at desk A is the team's: desk B lists it, reads its members with their
    // variables and sends to it (each member once, with their own value); deleting it at desk B
    // removes it for desk A too.
    let mut lines = String::from("openid,单号\n");
    let mut want = std::collections::BTreeMap::new();
    for i in 800..830usize {
        let o: Value = t
            .http
            .get(format!(
                "{}/__sim/openid?appid={appid}&index={i}",
                t.sim.base_url
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let o = o["openid"].as_str().unwrap().to_string();
        lines.push_str(&format!("{o},NO-{i}\n"));
        want.insert(o, format!("NO-{i}"));
    }
    let file = t.dir.path().join("team-list.csv");
    std::fs::write(&file, lines).unwrap();
    let made = t
        .cli(
            "desk-a",
            &[
                "--json",
                "lists",
                "create",
                "团队名单",
                "--account",
                &appid,
                "--csv",
                file.to_str().unwrap(),
            ],
        )
        .await
        .ok()
        .json();
    assert_eq!(made["list"]["member_count"], 30, "{made}");
    let shown = t
        .cli(
            "desk-b",
            &["--json", "lists", "show", "团队名单", "--limit", "100"],
        )
        .await
        .ok()
        .json();
    assert_eq!(shown["list"]["variables"], json!(["单号"]), "{shown}");
    let got: std::collections::BTreeMap<String, String> = shown["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["openid"].as_str().unwrap().to_string(),
                m["vars"]["单号"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(got, want, "desk B reads desk A's list, variables and all");
    // The same name again is refused for the whole team, at either desk.
    let again = t
        .cli(
            "desk-b",
            &[
                "lists",
                "create",
                "团队名单",
                "--account",
                &appid,
                "--csv",
                file.to_str().unwrap(),
            ],
        )
        .await;
    assert_ne!(again.code, 0, "{again:?}");
    assert!(again.stderr.contains("团队名单"), "{}", again.stderr);
    let accepted_before = t.sim.state()["sends"]["accepted"].as_u64().unwrap();
    let mut args = send_template_args(
        &appid,
        &template,
        &["--list", "团队名单", "--concurrency", "10"],
        &keys[1..],
        "x",
    );
    // The first keyword carries each member's own 单号 (refused if the list had no such column).
    args.push("--data".into());
    args.push(format!("{}={{{{单号}}}}", keys[0]));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let done = t.cli("desk-b", &args).await.ok().json();
    assert_eq!(done["job"]["counts"]["sent"], 30, "{done}");
    let sends = &t.sim.state()["sends"];
    assert_eq!(sends["accepted"].as_u64().unwrap() - accepted_before, 30);
    assert_eq!(sends["max_per_recipient"], 1, "{sends}");
    let deleted = t
        .cli("desk-b", &["--json", "lists", "delete", "团队名单"])
        .await
        .ok()
        .json();
    assert_eq!(deleted["deleted"], true, "{deleted}");
    let listed = t
        .cli("desk-a", &["--json", "lists", "list"])
        .await
        .ok()
        .json();
    assert_eq!(listed, json!([]), "deleted at desk B, gone at desk A");

    // 客服消息窗口 are the team's: the server folds the users' messages from the team's event
    // log, so both desks see the same open window, and an unfollow closes it for both.
    let writer: Value = t
        .http
        .get(format!(
            "{}/__sim/openid?appid={appid}&index=900",
            t.sim.base_url
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let writer = writer["openid"].as_str().unwrap().to_string();
    let sim_post = |path: &'static str, body: Value| {
        let req = t.http.post(format!("{}{path}", t.sim.base_url)).json(&body);
        async move {
            let r = req.send().await.unwrap();
            assert!(r.status().is_success(), "{path}: {}", r.status());
        }
    };
    sim_post(
        "/__sim/message",
        json!({"authorizer_appid": appid, "openid": writer, "content": "发货了吗？\n谢谢"}),
    )
    .await;
    let reachable = |desk: &'static str, want: u64| {
        let t = &t;
        let appid = appid.clone();
        async move {
            let mut seen = Value::Null;
            for _ in 0..100 {
                seen = t
                    .cli(desk, &["--json", "followers", "reachable", &appid])
                    .await
                    .ok()
                    .json();
                if seen["total"] == want {
                    return seen;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            panic!("{desk} never saw {want} open windows: {seen}");
        }
    };
    for desk in ["desk-b", "desk-a"] {
        let open = reachable(desk, 1).await;
        let row = &open["rows"][0];
        assert_eq!(row["openid"], writer.as_str(), "{open}");
        assert_eq!(row["kind"], "text", "{open}");
        assert_eq!(row["preview"], "发货了吗？ 谢谢", "{open}");
        let left = row["remaining_secs"].as_i64().unwrap();
        // 48 hours from the message's CreateTime, on the sim's clock (advanced 3 hours above).
        assert!(left > 50 * 3600 && left <= 51 * 3600, "{open}");
    }
    sim_post(
        "/__sim/follow",
        json!({"authorizer_appid": appid, "openid": writer, "follow": false}),
    )
    .await;
    reachable("desk-a", 0).await;

    // 用户与标签 are the team's: desk A syncs the account (through the server) and publishes it;
    // desk B, which never synced, reads the same followers and makes a list of them on the
    // server; a later unfollow reaches the team's copy from the event log, no desk involved.
    let synced = t
        .cli("desk-a", &["--json", "followers", "sync", &appid])
        .await
        .ok()
        .json();
    let synced = &synced["report"];
    assert_eq!(synced["outcome"], "completed", "{synced}");
    let follower_list = |desk: &'static str| {
        let t = &t;
        let appid = appid.clone();
        async move {
            t.cli(
                desk,
                &["--json", "followers", "list", &appid, "--limit", "5000"],
            )
            .await
            .ok()
            .json()
        }
    };
    let at_a = follower_list("desk-a").await;
    let at_b = follower_list("desk-b").await;
    let following = at_b["counts"]["subscribed"].as_u64().unwrap();
    assert_eq!(following, synced["total"].as_u64().unwrap(), "{at_b}");
    assert_eq!(
        at_b["counts"], at_a["counts"],
        "one set of numbers for the team"
    );
    let flags = |v: &Value| -> Vec<(String, bool)> {
        v["followers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["openid"].as_str().unwrap().to_string(),
                    f["subscribe"].as_bool().unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(flags(&at_b), flags(&at_a), "desk B reads desk A's sync");
    let everyone = t
        .cli(
            "desk-b",
            &[
                "--json",
                "lists",
                "create",
                "全部粉丝",
                "--account",
                &appid,
                "--all-followers",
            ],
        )
        .await
        .ok()
        .json();
    assert_eq!(
        everyone["list"]["member_count"].as_u64(),
        Some(following),
        "{everyone}"
    );
    // 小程序用户映射 at desk B, which never synced: the unionids are looked up in the team's
    // followers on the server.
    let with_union: Vec<(String, String)> = at_b["followers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["subscribe"] == true && f["unionid"].is_string())
        .take(2)
        .map(|f| {
            (
                f["openid"].as_str().unwrap().to_string(),
                f["unionid"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(with_union.len(), 2, "the sim's followers carry unionids");
    let mini = t.dir.path().join("mini-users.csv");
    std::fs::write(
        &mini,
        format!(
            "openid,unionid\noMini0000000000000000000001,{}\noMini0000000000000000000002,{}\noMini0000000000000000000003,oUnionNobodyHas000000000000\n",
            with_union[0].1, with_union[1].1
        ),
    )
    .unwrap();
    let bridged = t
        .cli(
            "desk-b",
            &[
                "--json",
                "lists",
                "create",
                "小程序会员",
                "--account",
                &appid,
                "--bridge",
                mini.to_str().unwrap(),
            ],
        )
        .await
        .ok()
        .json();
    assert_eq!(bridged["list"]["member_count"], 2, "{bridged}");
    let shown = t
        .cli("desk-a", &["--json", "lists", "show", "小程序会员"])
        .await
        .ok()
        .json();
    let mut members: Vec<String> = shown["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["openid"].as_str().unwrap().to_string())
        .collect();
    members.sort();
    let mut want: Vec<String> = with_union.iter().map(|(o, _)| o.clone()).collect();
    want.sort();
    assert_eq!(members, want, "followers matched by unionid: {shown}");
    let leaver = flags(&at_b)
        .into_iter()
        .find(|(_, following)| *following)
        .unwrap()
        .0;
    sim_post(
        "/__sim/follow",
        json!({"authorizer_appid": appid, "openid": leaver, "follow": false}),
    )
    .await;
    // `followers list` reads the page and the totals in two calls: wait until both show it.
    let mut seen = Value::Null;
    for _ in 0..100 {
        seen = follower_list("desk-b").await;
        if seen["counts"]["subscribed"].as_u64() == Some(following - 1)
            && flags(&seen).contains(&(leaver.clone(), false))
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        seen["counts"]["subscribed"].as_u64(),
        Some(following - 1),
        "only the unfollow changed the team's count"
    );
    assert!(
        flags(&seen).contains(&(leaver.clone(), false)),
        "the unfollow reached the team's followers"
    );

    // 操作记录: an admin reads who did what; an operator may not.
    let ada = t.member("ada", Role::Admin).await;
    run_cli_env(
        Some(&t.desk("desk-adm")),
        &["team", "join", "--server", &t.b.base_url],
        "",
        &[("WXDESK_MEMBER_KEY", ada.as_str())],
    )
    .await
    .ok();
    let audit = t
        .cli("desk-adm", &["--json", "team", "audit", "--limit", "500"])
        .await
        .ok()
        .json();
    let did = |member: &str, action: &str| {
        audit["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["member"] == member && e["action"] == action)
    };
    for (member, action) in [
        ("alice", "account.authorized"),
        ("alice", "templates.sync"),
        ("alice", "job.create"),
        ("bob", "job.create"),
        ("alice", "list.create"),
        ("bob", "list.delete"),
        ("alice", "followers.publish"),
    ] {
        assert!(did(member, action), "{member} {action} in {audit}");
    }
    let created = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "list.create" && e["member"] == "alice")
        .unwrap();
    assert!(
        created["what"]["zh"].as_str().unwrap().contains("团队名单"),
        "{created}"
    );
    let plain = t.cli("desk-adm", &["team", "audit"]).await.ok();
    assert!(
        plain.stdout.contains("新建了名单「团队名单」"),
        "{}",
        plain.stdout
    );
    let refused = t.cli("desk-a", &["team", "audit"]).await;
    assert_ne!(refused.code, 0, "{refused:?}");
    assert!(refused.stderr.contains("管理员"), "{}", refused.stderr);

    // A job started at desk A shows its progress at desk B while it runs, and desk B's pause
    // stops it for everyone (desk A's send ends, paused, with the rows it got through).
    let csv = t.openids_csv(&appid, 200..800, "slow").await;
    let mut args = send_template_args(
        &appid,
        &template,
        &["--csv", csv.to_str().unwrap(), "--concurrency", "1"],
        &keys,
        "slow",
    );
    args.extend(["--rate".to_string(), "20".to_string()]);
    let dir = t.desk("desk-a");
    let slow = tokio::spawn(async move {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run_cli(Some(&dir), &args, "").await
    });
    let running = loop {
        let listed = t
            .cli("desk-b", &["--json", "jobs", "list"])
            .await
            .ok()
            .json();
        if let Some(j) = listed
            .as_array()
            .unwrap()
            .iter()
            .find(|j| j["counts"]["total"] == 600 && j["counts"]["sent"].as_u64() > Some(0))
        {
            break j.clone();
        }
        assert!(
            !slow.is_finished(),
            "desk A's job ended before desk B saw it run"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    assert_eq!(running["status"], "running", "{running}");
    let id = running["id"].as_i64().unwrap().to_string();
    let shown = t.cli("desk-b", &["jobs", "show", &id]).await.ok();
    assert!(shown.stdout.contains("发起人    alice"), "{}", shown.stdout);
    let paused = t
        .cli("desk-b", &["--json", "jobs", "pause", &id])
        .await
        .ok()
        .json();
    assert_eq!(paused["status"], "paused", "{paused}");
    let ended = slow.await.unwrap();
    assert_ne!(ended.code, 0, "{ended:?}");
    let last = ended.json();
    assert_eq!(last["error"]["code"], "job_incomplete", "{last}");
    assert!(ended.stderr.contains("已暂停"), "{}", ended.stderr);
    let shown = t
        .cli("desk-a", &["--json", "jobs", "show", &id])
        .await
        .ok()
        .json();
    assert_eq!(shown["job"]["status"], "paused", "{shown}");
    let sent = shown["job"]["counts"]["sent"].as_u64().unwrap();
    assert!(sent > 0 && sent < 600, "{shown}");

    // A viewer's desk reads but cannot send; the refusal says why.
    run_cli_env(
        Some(&t.desk("desk-v")),
        &["team", "join", "--server", &t.b.base_url],
        "",
        &[("WXDESK_MEMBER_KEY", vic.as_str())],
    )
    .await
    .ok();
    let listed = t
        .cli("desk-v", &["--json", "accounts", "list"])
        .await
        .ok()
        .json();
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["appid"] == appid.as_str())
    );
    let args = send_template_args(&appid, &template, &["--to", "o-someone"], &keys, "x");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let refused = t.cli("desk-v", &args).await;
    assert_ne!(refused.code, 0, "{refused:?}");
    let file = t.dir.path().join("viewer-list.csv");
    std::fs::write(&file, "openid\no-someone-0123456789abcdefghijk\n").unwrap();
    let refused = t
        .cli(
            "desk-v",
            &[
                "lists",
                "create",
                "看看",
                "--account",
                &appid,
                "--csv",
                file.to_str().unwrap(),
            ],
        )
        .await;
    assert_ne!(refused.code, 0, "{refused:?}");
    assert!(refused.stderr.contains("viewer"), "{}", refused.stderr);

    // Bob is removed: his desk is refused at once (team status exits 1).
    let db = wxdesk_relay::team::db::Db::open(&wxdesk_relay::Secret::new(&t.db_url))
        .await
        .unwrap();
    assert!(members::remove(&db, "bob").await.unwrap());
    let status = t.cli("desk-b", &["team", "status"]).await;
    assert_eq!(status.code, 1, "{status:?}");
    assert!(status.stderr.contains("成员密钥"), "{}", status.stderr);

    // No desk holds the AppSecret, the AES key, the server key or any access token: not in its
    // files, not in its keychain (both workspaces).
    for desk in ["desk-a", "desk-b", "desk-v"] {
        for (path, bytes) in all_bytes(&t.desk(desk)) {
            for secret in [
                wxdesk_sim::SANDBOX_COMPONENT_APPSECRET,
                wxdesk_sim::SANDBOX_COMPONENT_AES_KEY,
                SERVER_KEY_B64,
                SERVER_API_KEY,
            ] {
                assert!(!contains(&bytes, secret), "{path} holds a server secret");
            }
        }
        for dir in [
            t.desk(desk),
            wxdesk_core::team::workspace_dir(&t.desk(desk)),
        ] {
            let keychain = wxdesk_core::secrets::KeychainStore::for_data_dir(&dir).unwrap();
            let secrets = wxdesk_core::secrets::Secrets::new(std::sync::Arc::new(keychain));
            use wxdesk_core::secrets::SecretKey as K;
            for key in [
                K::ComponentAppsecret,
                K::ComponentAesKey,
                K::ComponentToken,
                K::RefreshToken(appid.clone()),
                K::AuthorizerAccessToken(appid.clone()),
                K::ComponentAccessToken(wxdesk_sim::SANDBOX_COMPONENT_APPID.into()),
            ] {
                assert!(
                    secrets.get(key.clone()).await.unwrap().is_none(),
                    "{desk}'s keychain holds {}",
                    key.name()
                );
            }
        }
    }

    // Leaving returns desk A to its local workspace (which never saw the team's account).
    t.cli("desk-a", &["team", "leave"]).await.ok();
    let listed = t
        .cli("desk-a", &["--json", "accounts", "list"])
        .await
        .ok()
        .json();
    assert!(listed.as_array().unwrap().is_empty(), "{listed}");
    t.sim.shutdown().await;
}
