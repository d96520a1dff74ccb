//! The 全网发布 (full-network release) automated test of protocol F, run on demand by
//! `POST /__sim/release-test`: WeChat pushes a ticket, auto-authorizes its test account, sends
//! it text messages and an event and judges the platform's answers — a passive encrypted reply
//! within 5 s, an API reply through api_query_auth + message/custom/send, and the legacy event
//! case (`LOCATION` answered with `LOCATIONfrom_callback`).

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::ids;
use crate::push::{self, AuthEvent, Push, Target};
use crate::sim::Sim;
use crate::state::{self, Authz, CODE_TTL, recipient_key};
use crate::world::{Account, RELEASE_TEST_MINI, RELEASE_TEST_MP};

/// How long the platform has to answer a message (WeChat drops the request after 5 s).
const ANSWER_LIMIT: Duration = Duration::from_secs(5);

struct Case {
    name: &'static str,
    passed: bool,
    detail: String,
    elapsed_ms: u128,
}

impl Case {
    fn json(&self) -> Value {
        json!({"name": self.name, "passed": self.passed, "detail": self.detail, "elapsed_ms": self.elapsed_ms})
    }
}

/// Text of `<Tag>` in a small trusted XML (our own or a reply to be checked), CDATA unwrapped.
fn field(xml: &str, tag: &str) -> Option<String> {
    let start = xml.find(&format!("<{tag}>"))? + tag.len() + 2;
    let end = xml[start..].find(&format!("</{tag}>"))? + start;
    let v = xml[start..end].trim();
    Some(
        v.strip_prefix("<![CDATA[")
            .and_then(|x| x.strip_suffix("]]>"))
            .unwrap_or(v)
            .to_string(),
    )
}

/// Authorize a test account the way WeChat does before the message cases; returns the
/// authorization code (the `query_auth_code`).
async fn auto_authorize(sim: &Sim, a: &Account) -> (String, Result<String, String>) {
    let now = sim.now();
    let code = ids::random_token("queryauthcode@@@", 48);
    let info_type = {
        let mut s = sim.lock();
        let info = if s.authz.contains_key(&a.index) {
            "updateauthorized"
        } else {
            "authorized"
        };
        s.authz.insert(
            a.index,
            Authz {
                refresh_token: ids::random_token("refreshtoken@@@", 64),
                auth_time: now,
            },
        );
        s.auth_codes.insert(
            code.clone(),
            state::AuthCode {
                account: a.index,
                expires_at: now + CODE_TTL,
                used: false,
            },
        );
        info
    };
    let answer = sim
        .pusher
        .push_now(&Push {
            target: Target::Component,
            xml: push::auth_xml(&AuthEvent {
                component_appid: &sim.cfg.component_appid,
                create_time: now,
                info_type,
                authorizer_appid: &a.appid,
                code: Some((&code, now + CODE_TTL, "")),
            }),
        })
        .await;
    (code, answer)
}

/// Push a text from the test user (opening the 48 h window) and time the answer.
async fn text(sim: &Sim, a: &Account, content: &str) -> (String, Result<String, String>, Duration) {
    let openid = sim.world.openid(a, 0);
    let now = sim.now();
    let msg_id = {
        let mut s = sim.lock();
        s.windows
            .insert(recipient_key(a.index, 0), sim.message_window(now));
        s.next_msgid()
    };
    let started = Instant::now();
    let answer = sim
        .pusher
        .push_now(&Push {
            target: Target::Account {
                appid: a.appid.clone(),
                user_name: a.user_name.clone(),
                openid: Some(openid.clone()),
            },
            xml: push::text_xml(&a.user_name, &openid, now, content, msg_id),
        })
        .await;
    (openid, answer, started.elapsed())
}

/// Push an event from the test user (the legacy case 5: a `LOCATION` report) and time the answer.
async fn event(sim: &Sim, a: &Account, name: &str) -> (String, Result<String, String>, Duration) {
    let openid = sim.world.openid(a, 0);
    let started = Instant::now();
    let answer = sim
        .pusher
        .push_now(&Push {
            target: Target::Account {
                appid: a.appid.clone(),
                user_name: a.user_name.clone(),
                openid: Some(openid.clone()),
            },
            xml: push::event_xml(&a.user_name, &openid, sim.now(), name, ""),
        })
        .await;
    (openid, answer, started.elapsed())
}

/// Check an encrypted passive reply: signature, decryption, To/From swapped, Content.
fn check_passive(
    sim: &Sim,
    a: &Account,
    openid: &str,
    body: &str,
    want: &str,
) -> Result<(), String> {
    let encrypt =
        field(body, "Encrypt").ok_or("应答不是加密回复 / the answer is not an encrypted reply")?;
    let sig = field(body, "MsgSignature").unwrap_or_default();
    let ts = field(body, "TimeStamp").unwrap_or_default();
    let nonce = field(body, "Nonce").unwrap_or_default();
    let crypt = sim.pusher.crypt();
    if crypt.msg_signature(&ts, &nonce, &encrypt) != sig {
        return Err("MsgSignature 不正确 / wrong MsgSignature".into());
    }
    let xml = crypt
        .decrypt(&encrypt)
        .map_err(|_| "无法解密应答 / cannot decrypt the reply".to_string())?;
    let got = field(&xml, "Content").unwrap_or_default();
    if got != want {
        return Err(format!("回复内容为 {got:?}，应为 {want:?} / wrong Content"));
    }
    if field(&xml, "ToUserName").as_deref() != Some(openid)
        || field(&xml, "FromUserName").as_deref() != Some(a.user_name.as_str())
    {
        return Err("ToUserName/FromUserName 未互换 / To and From must be swapped".into());
    }
    Ok(())
}

/// Case 3/4: after QUERY_AUTH_CODE, the platform must exchange the code and reply by API.
async fn api_reply(sim: &Sim, a: &Account, name: &'static str, wait: Duration) -> Case {
    let (code, auth) = auto_authorize(sim, a).await;
    if let Err(e) = auth {
        return Case {
            name,
            passed: false,
            detail: format!("authorized 推送失败 / push failed: {e}"),
            elapsed_ms: 0,
        };
    }
    let (openid, answer, took) = text(sim, a, &format!("QUERY_AUTH_CODE:{code}")).await;
    let elapsed_ms = took.as_millis();
    match answer {
        Ok(b) if b.trim().is_empty() || b.trim() == "success" => {}
        Ok(_) => {
            return Case {
                name,
                passed: false,
                detail: "应答应为空或 success / answer must be empty or success".into(),
                elapsed_ms,
            };
        }
        Err(e) => {
            return Case {
                name,
                passed: false,
                detail: e,
                elapsed_ms,
            };
        }
    }
    if took > ANSWER_LIMIT {
        return Case {
            name,
            passed: false,
            detail: "应答超过 5 秒 / answered after 5 s".into(),
            elapsed_ms,
        };
    }
    let want = format!("{code}_from_api");
    let deadline = Instant::now() + wait;
    loop {
        {
            let s = sim.lock();
            let exchanged = s.auth_codes.get(&code).is_some_and(|c| c.used);
            let replied = s
                .release_custom
                .iter()
                .any(|(i, to, c)| *i == a.index && *to == openid && *c == want);
            if exchanged && replied {
                return Case {
                    name,
                    passed: true,
                    detail: "api_query_auth + custom/send 正确 / correct".into(),
                    elapsed_ms,
                };
            }
            if Instant::now() >= deadline {
                let detail = if exchanged {
                    format!("未收到客服消息 {want:?} / no custom message with that content")
                } else {
                    "未用 query_auth_code 调用 api_query_auth / api_query_auth not called"
                        .to_string()
                };
                return Case {
                    name,
                    passed: false,
                    detail,
                    elapsed_ms,
                };
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Run the cases; `mini` adds the mini-program case; `wait` bounds the API-reply wait.
pub async fn run(sim: &Sim, mini: bool, wait: Duration) -> Value {
    let mut cases = Vec::new();
    // 1. Ticket push answered exactly `success`.
    let now = sim.now();
    let ticket = ids::random_token("ticket@@@", 64);
    {
        let mut s = sim.lock();
        s.ticket = Some((ticket.clone(), now));
        s.tickets_pushed += 1;
    }
    let xml = push::ticket_xml(&sim.cfg.component_appid, now, &ticket);
    let answer = sim
        .pusher
        .push_now(&Push {
            target: Target::Component,
            xml,
        })
        .await;
    cases.push(Case {
        name: "ticket",
        passed: matches!(&answer, Ok(b) if b == "success"),
        detail: match answer {
            Ok(b) if b == "success" => "success".into(),
            Ok(b) => format!(
                "应答应为 success，实为 {:?} / must answer exactly success",
                b.chars().take(40).collect::<String>()
            ),
            Err(e) => e,
        },
        elapsed_ms: 0,
    });
    let mp = sim.world.account(RELEASE_TEST_MP.0);
    if let Some(a) = mp {
        // 2. Passive reply within 5 s.
        let (openid, answer, took) = text(sim, a, "TESTCOMPONENT_MSG_TYPE_TEXT").await;
        let result = answer.and_then(|b| {
            check_passive(sim, a, &openid, &b, "TESTCOMPONENT_MSG_TYPE_TEXT_callback")
        });
        let (passed, detail) = match result {
            Ok(()) if took <= ANSWER_LIMIT => {
                (true, "被动回复正确 / passive reply correct".to_string())
            }
            Ok(()) => (false, "应答超过 5 秒 / answered after 5 s".to_string()),
            Err(e) => (false, e),
        };
        cases.push(Case {
            name: "passive_reply",
            passed,
            detail,
            elapsed_ms: took.as_millis(),
        });
        // 3. API reply.
        cases.push(api_reply(sim, a, "api_reply", wait).await);
        // 5. The legacy event case: an event answered with `<Event>from_callback`.
        let (openid, answer, took) = event(sim, a, "LOCATION").await;
        let result =
            answer.and_then(|b| check_passive(sim, a, &openid, &b, "LOCATIONfrom_callback"));
        let (passed, detail) = match result {
            Ok(()) if took <= ANSWER_LIMIT => {
                (true, "事件被动回复正确 / event reply correct".to_string())
            }
            Ok(()) => (false, "应答超过 5 秒 / answered after 5 s".to_string()),
            Err(e) => (false, e),
        };
        cases.push(Case {
            name: "event_reply",
            passed,
            detail,
            elapsed_ms: took.as_millis(),
        });
    }
    if mini && let Some(a) = sim.world.account(RELEASE_TEST_MINI.0) {
        cases.push(api_reply(sim, a, "mini_program_api_reply", wait).await);
    }
    let passed = cases.iter().all(|c| c.passed);
    json!({
        "passed": passed,
        "test_official_account": {"appid": RELEASE_TEST_MP.0, "user_name": RELEASE_TEST_MP.1},
        "test_mini_program": {"appid": RELEASE_TEST_MINI.0, "user_name": RELEASE_TEST_MINI.1},
        "cases": cases.iter().map(Case::json).collect::<Vec<_>>(),
    })
}
