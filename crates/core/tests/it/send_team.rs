//! A bulk send from a desk joined to a team, for real: a throwaway PostgreSQL cluster, wxdesk-sim
//! as WeChat, wxdesk-relay as the team server on it, and a desk's Context in its team workspace.
//! Recipients the desk cannot build are the team job's skipped rows with the same notes a desk
//! job keeps (#16), not recipients that silently vanish.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};
use wxdesk_core::Lang;
use wxdesk_core::context::Context;
use wxdesk_core::secrets::{Secret, Secrets};
use wxdesk_core::send::{
    FieldRule, HistoryFilter, HistoryStatus, JobSpec, Payload, Recipient, RecipientState, RowNote,
    Vars,
};
use wxdesk_core::templates::keywords::parse_content;
use wxdesk_relay::team::members::{self, Role};
use wxdesk_relay::team::testing::PgCluster;
use wxdesk_sim::{SimConfig, SimHandle};

use crate::send_support::relay::{RELAY_KEY, TestRelay};
use crate::send_support::sim::verified_service_account;

const SERVER_KEY_B64: &str = "c2VydmVyLWtleS1mb3ItdGhlLXRlYW0tdGVzdHMtMzI="; // 32 bytes

struct Team {
    _pg: PgCluster,
    sim: SimHandle,
    server: TestRelay,
    key: String,
    http: reqwest::Client,
}

async fn team() -> Team {
    let pg = PgCluster::start().unwrap_or_else(|e| panic!("{e}"));
    let db_url = pg.url("postgres");
    let sim = wxdesk_sim::start(SimConfig {
        listen: "127.0.0.1:0".into(),
        relay_url: "http://127.0.0.1:9".into(),
        auth_domain: "127.0.0.1".into(),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    // The send tests' relay, made a team server by a database and the keys team mode needs.
    let server = TestRelay::start_with(
        &sim.base_url,
        &[
            ("WXDESK_RELAY_DATABASE_URL", db_url.clone()),
            (
                "WXDESK_RELAY_COMPONENT_APPSECRET",
                wxdesk_sim::SANDBOX_COMPONENT_APPSECRET.into(),
            ),
            ("WXDESK_RELAY_SERVER_KEY", SERVER_KEY_B64.into()),
        ],
    )
    .await;
    sim.set_relay_url(&server.relay.base_url);
    sim.push_ticket();
    let db = wxdesk_relay::team::db::Db::open(&wxdesk_relay::Secret::new(&db_url))
        .await
        .unwrap();
    let key = members::add(&db, "alice", Role::Operator).await.unwrap();
    let t = Team {
        _pg: pg,
        sim,
        server,
        key,
        http: reqwest::Client::builder().no_proxy().build().unwrap(),
    };
    for _ in 0..100 {
        let r = t
            .http
            .get(format!("{}/api/v1/ticket", t.server.relay.base_url))
            .bearer_auth(RELAY_KEY)
            .send()
            .await
            .unwrap();
        if r.status() == 200 {
            return t;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the team server never received the sim's ticket");
}

impl Team {
    /// A call through the team server (WeChat's API with the server's token), as the member.
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut r = self
            .http
            .request(method, format!("{}{path}", self.server.relay.base_url))
            .bearer_auth(&self.key);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let resp = r.send().await.unwrap();
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        resp.json().await.unwrap()
    }

    /// Authorizes a verified service account on the team server; its appid.
    async fn authorize(&self) -> String {
        let appid = verified_service_account(&self.sim.state());
        let pre = self
            .call(
                reqwest::Method::POST,
                "/api/v1/team/wechat/cgi-bin/component/api_create_preauthcode?component_access_token=team",
                Some(json!({ "component_appid": wxdesk_sim::SANDBOX_COMPONENT_APPID })),
            )
            .await;
        let done: Value = self
            .http
            .post(format!("{}/__sim/authorize", self.sim.base_url))
            .json(&json!({ "pre_auth_code": pre["pre_auth_code"], "authorizer_appid": appid }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(done["auth_code"].is_string(), "{done}");
        for _ in 0..100 {
            let list = self
                .call(reqwest::Method::GET, "/api/v1/team/accounts", None)
                .await;
            if list["accounts"]
                .as_array()
                .is_some_and(|l| l.iter().any(|a| a["appid"] == appid.as_str()))
            {
                return appid;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the account was never authorized on the team server");
    }
}

/// The rules the composer gives a spec: each keyword's type and its title in the template.
fn rules_of(content: &str) -> Vec<FieldRule> {
    parse_content(content)
        .into_iter()
        .map(|f| FieldRule {
            title: (!f.label.is_empty()).then(|| f.label.clone()),
            key: f.key,
            kind: f.kind,
            allowed: None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_team_job_keeps_recipients_it_cannot_build_as_skipped_rows_with_their_reasons() {
    let t = team().await;
    let appid = t.authorize().await;
    let added = t
        .call(
            reqwest::Method::POST,
            &format!(
                "/api/v1/team/wechat/cgi-bin/template/api_add_template?access_token=team.{appid}"
            ),
            Some(json!({ "template_id_short": "47123", "keyword_name_list": ["订单编号", "订单金额"] })),
        )
        .await;
    let template_id = added["template_id"].as_str().unwrap().to_owned();
    let templates = t
        .call(
            reqwest::Method::GET,
            &format!(
                "/api/v1/team/wechat/cgi-bin/template/get_all_private_template?access_token=team.{appid}"
            ),
            None,
        )
        .await;
    let content = templates["template_list"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["template_id"] == template_id.as_str())
        .and_then(|x| x["content"].as_str())
        .unwrap()
        .to_owned();
    let rules = rules_of(&content);
    let key_of = |title: &str| {
        rules
            .iter()
            .find(|r| r.title.as_deref() == Some(title))
            .unwrap_or_else(|| panic!("{title} in {content}"))
            .key
            .clone()
    };
    let (order_key, amount_key) = (key_of("订单编号"), key_of("订单金额"));
    let users = t
        .call(
            reqwest::Method::GET,
            &format!("/api/v1/team/wechat/cgi-bin/user/get?access_token=team.{appid}"),
            None,
        )
        .await;
    let openids: Vec<String> = users["data"]["openid"]
        .as_array()
        .unwrap()
        .iter()
        .take(8)
        .map(|o| o.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(openids.len(), 8);

    // The desk, joined to the team.
    let desk = tempfile::tempdir().unwrap();
    let secrets = Secrets::memory();
    wxdesk_core::team::join_with_secrets(
        desk.path(),
        &t.server.relay.base_url,
        Secret::new(&t.key),
        secrets.clone(),
    )
    .await
    .unwrap();
    let ctx = Context::open_with_secrets(&wxdesk_core::team::workspace_dir(desk.path()), secrets)
        .await
        .unwrap();
    assert!(ctx.platform.is_team());

    let spec = JobSpec {
        appid: appid.clone(),
        title: "双十一发货".into(),
        payload: Payload::Template {
            template_id: template_id.clone(),
            data: BTreeMap::from([
                (order_key.clone(), "{{单号}}".to_string()),
                (amount_key.clone(), "{{金额}}".to_string()),
            ]),
            url: None,
            miniprogram: None,
        },
        field_rules: rules,
        concurrency: Some(4),
        rate_per_sec: Some(1000),
        max_attempts: Some(5),
    };
    let vars = |pairs: &[(&str, &str)]| -> Vars {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    // Eight on the list: five good, two amounts breaking 订单金额's rule, one without 单号.
    let recipients: Vec<Recipient> = openids
        .iter()
        .enumerate()
        .map(|(i, openid)| Recipient {
            openid: openid.clone(),
            vars: match i {
                5 | 6 => vars(&[("单号", "SO1"), ("金额", "十二块")]),
                7 => vars(&[("金额", "¥12.00")]),
                _ => vars(&[("单号", &format!("SO{i}")), ("金额", "¥12.00")]),
            },
        })
        .collect();
    let id = ctx.sends.create(spec, recipients).await.unwrap();
    let job = ctx.sends.wait_idle(id).await.unwrap();

    // The numbers are the list's: before, the job counted 5 rows of a list of 8.
    let c = job.counts;
    assert_eq!((c.total, c.sent, c.skipped), (8, 5, 3), "{job:?}");
    assert_eq!(
        c.sent + c.failed() + c.uncertain + c.skipped + c.cancelled,
        8,
        "the job's numbers add up to the list's size: {job:?}"
    );
    // WeChat received only the good ones.
    let sends = &t.sim.state()["sends"];
    assert_eq!(
        (
            sends["accepted"].as_u64(),
            sends["distinct_recipients"].as_u64()
        ),
        (Some(5), Some(5)),
        "{sends}"
    );

    // 发送记录 lists the skipped rows with the reasons the desk wrote, in both languages.
    let filter = HistoryFilter {
        job_id: Some(id),
        status: Some(HistoryStatus::Skipped),
        ..HistoryFilter::default()
    };
    let page = ctx
        .history
        .list(filter.clone(), None, Some(100))
        .await
        .unwrap();
    let mut skipped: Vec<_> = page.rows.iter().collect();
    skipped.sort_by_key(|r| r.seq);
    let openids_of: Vec<&str> = skipped.iter().map(|r| r.openid.as_str()).collect();
    assert_eq!(
        openids_of,
        [
            openids[5].as_str(),
            openids[6].as_str(),
            openids[7].as_str()
        ]
    );
    for r in &skipped {
        assert_eq!(r.state, RecipientState::Skipped);
        assert!(r.done_at.is_some(), "{r:?}");
    }
    for r in &skipped[..2] {
        assert!(
            matches!(&r.note, Some(RowNote::InvalidValue { key, title: Some(t), .. })
                if *key == amount_key && t == "订单金额"),
            "{r:?}"
        );
        let zh = r.error_text(Lang::Zh).unwrap();
        let en = r.error_text(Lang::En).unwrap();
        assert!(zh.starts_with("订单金额：须为金额"), "{zh}");
        assert!(en.starts_with("订单金额: must be an amount"), "{en}");
    }
    assert_eq!(
        skipped[2].note,
        Some(RowNote::MissingVar {
            name: "单号".into()
        })
    );
    assert_eq!(
        skipped[2].error_text(Lang::Zh).as_deref(),
        Some("缺少变量「单号」")
    );
    assert_eq!(
        skipped[2].error_text(Lang::En).as_deref(),
        Some("Missing variable 单号")
    );

    // The drawer of a skipped row says why, too.
    let detail = ctx.history.detail(skipped[0].id).await.unwrap().unwrap();
    assert_eq!(detail.row.note, skipped[0].note);

    // The export has a line per recipient of the list, the skipped ones with their reasons.
    let csv = desk.path().join("job.csv");
    let all = HistoryFilter {
        job_id: Some(id),
        ..HistoryFilter::default()
    };
    assert_eq!(ctx.history.export_csv(all, csv.clone()).await.unwrap(), 8);
    let text = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(text.matches("订单金额：须为金额").count(), 2, "{text}");
    assert_eq!(text.matches("缺少变量「单号」").count(), 1, "{text}");
}
