//! 操作记录: the team server's audit log (`GET /api/v1/team/audit`, admins only) — who
//! authorized an account, created, paused or cancelled a job, made or deleted a list, synced
//! templates or followers, added or removed a member — each line described in both languages.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Msg, Result};
use crate::platform::Platform;

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AuditEntry {
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub id: i64,
    /// RFC 3339, UTC.
    pub at: String,
    /// `None`: the server's administrator at its shell, or the server itself.
    pub member: Option<String>,
    /// The server's name for it (`job.create`, `list.delete`, …).
    pub action: String,
    /// What happened, in both languages.
    pub what: Msg,
}

/// One page, newest first: pass `next_before` back as `before`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    #[cfg_attr(feature = "specta", specta(type = Option<specta_typescript::Number>))]
    pub next_before: Option<i64>,
}

#[derive(Deserialize)]
struct ServerEntry {
    id: i64,
    at: String,
    member: Option<String>,
    action: String,
    #[serde(default)]
    detail: Value,
}

#[derive(Deserialize)]
struct ServerPage {
    entries: Vec<ServerEntry>,
}

/// The newest `limit` (1–500) entries before `before`.
pub async fn audit(platform: &Platform, before: Option<i64>, limit: u32) -> Result<AuditPage> {
    let Some(relay) = platform.team_server().await? else {
        return Err(Error::input(
            "本机没有加入团队：操作记录在团队服务器上",
            "This desk is not in a team: the audit log is on the team server.",
        ));
    };
    let limit = limit.clamp(1, 500);
    let mut path = format!("api/v1/team/audit?limit={limit}");
    if let Some(b) = before {
        path.push_str(&format!("&before={b}"));
    }
    let page: ServerPage = relay
        .team_call::<(), _>(reqwest::Method::GET, &path, None, Duration::from_secs(30))
        .await?;
    let next_before = (page.entries.len() == limit as usize)
        .then(|| page.entries.last().map(|e| e.id))
        .flatten();
    Ok(AuditPage {
        entries: page
            .entries
            .into_iter()
            .map(|e| AuditEntry {
                what: describe(&e.action, &e.detail),
                id: e.id,
                at: e.at,
                member: e.member,
                action: e.action,
            })
            .collect(),
        next_before,
    })
}

fn text<'a>(d: &'a Value, k: &str) -> &'a str {
    d[k].as_str().unwrap_or("?")
}

fn number(d: &Value, k: &str) -> String {
    d[k].as_i64().map_or_else(|| "?".into(), |n| n.to_string())
}

/// An entry in words. Unknown actions (from a newer server) are shown by their name.
pub fn describe(action: &str, d: &Value) -> Msg {
    match action {
        "account.authorized" => Msg::new(
            format!("授权了账号 {}", text(d, "appid")),
            format!("Authorized account {}", text(d, "appid")),
        ),
        "account.unauthorized" => Msg::new(
            format!("账号 {} 取消了授权", text(d, "appid")),
            format!("Account {} was unauthorized", text(d, "appid")),
        ),
        "job.create" => Msg::new(
            format!(
                "创建了发送任务 #{}「{}」（账号 {}，{} 人）",
                number(d, "id"),
                text(d, "title"),
                text(d, "appid"),
                number(d, "rows")
            ),
            format!(
                "Created send job #{} \"{}\" (account {}, {} recipients)",
                number(d, "id"),
                text(d, "title"),
                text(d, "appid"),
                number(d, "rows")
            ),
        ),
        "job.pause" | "job.resume" | "job.cancel" | "job.retry_failed" | "job.resend_uncertain" => {
            let (zh, en) = match action {
                "job.pause" => ("暂停了", "Paused"),
                "job.resume" => ("继续了", "Resumed"),
                "job.cancel" => ("取消了", "Cancelled"),
                "job.retry_failed" => ("重试了失败的收件人：", "Retried the failed recipients of"),
                _ => (
                    "重发了结果不明的收件人：",
                    "Resent the uncertain recipients of",
                ),
            };
            Msg::new(
                format!("{zh}发送任务 #{}", number(d, "id")),
                format!("{en} send job #{}", number(d, "id")),
            )
        }
        "list.create" => Msg::new(
            format!(
                "新建了名单「{}」（账号 {}，{} 人）",
                text(d, "name"),
                text(d, "appid"),
                number(d, "members")
            ),
            format!(
                "Made the list \"{}\" (account {}, {} members)",
                text(d, "name"),
                text(d, "appid"),
                number(d, "members")
            ),
        ),
        "list.delete" => Msg::new(
            format!(
                "删除了名单「{}」（账号 {}）",
                text(d, "name"),
                text(d, "appid")
            ),
            format!(
                "Deleted the list \"{}\" (account {})",
                text(d, "name"),
                text(d, "appid")
            ),
        ),
        "followers.publish" => Msg::new(
            format!(
                "同步了账号 {} 的粉丝（{} 人）",
                text(d, "appid"),
                number(d, "followers")
            ),
            format!(
                "Synced the followers of account {} ({})",
                text(d, "appid"),
                number(d, "followers")
            ),
        ),
        "templates.sync" => Msg::new(
            format!(
                "同步了账号 {} 的模板（{} 个）",
                text(d, "appid"),
                number(d, "templates")
            ),
            format!(
                "Synced the templates of account {} ({})",
                text(d, "appid"),
                number(d, "templates")
            ),
        ),
        "member.add" => {
            let (zh, en) = match text(d, "role") {
                "viewer" => ("只读", "viewer"),
                "operator" => ("操作员", "operator"),
                "admin" => ("管理员", "admin"),
                other => (other, other),
            };
            Msg::new(
                format!("添加了成员 {}（{zh}）", text(d, "name")),
                format!("Added member {} ({en})", text(d, "name")),
            )
        }
        "member.remove" => Msg::new(
            format!("移除了成员 {}", text(d, "name")),
            format!("Removed member {}", text(d, "name")),
        ),
        other => Msg::new(other, other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn entries_read_as_sentences_in_both_languages() {
        let m = describe(
            "job.create",
            &json!({"id": 12, "appid": "wx1", "rows": 100, "title": "发货通知"}),
        );
        assert_eq!(m.zh, "创建了发送任务 #12「发货通知」（账号 wx1，100 人）");
        assert_eq!(
            m.en,
            "Created send job #12 \"发货通知\" (account wx1, 100 recipients)"
        );
        let m = describe("job.cancel", &json!({"id": 3}));
        assert_eq!(
            (m.zh.as_str(), m.en.as_str()),
            ("取消了发送任务 #3", "Cancelled send job #3")
        );
        // Missing fields and unknown actions never fail the page.
        assert_eq!(
            describe("list.delete", &json!({})).en,
            "Deleted the list \"?\" (account ?)"
        );
        assert_eq!(describe("code.release", &json!({})).zh, "code.release");
        let m = describe("member.add", &json!({"name": "bob", "role": "admin"}));
        assert_eq!(
            (m.zh.as_str(), m.en.as_str()),
            ("添加了成员 bob（管理员）", "Added member bob (admin)")
        );
    }
}
