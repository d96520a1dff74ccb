//! Composer drafts: what staff typed in 发送 and have not sent, kept per composer, account and
//! template so that looking at another page, or quitting, loses nothing.
//!
//! Core stores the window's JSON as it is (the values, the jump, where the recipients come
//! from); it only checks that it is JSON of a sane size. The body can hold openids, which is why
//! drafts live in the store (covered by backups, private like the rest of the database) and not
//! in the webview's storage.

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::store::Store;

/// The largest body kept. A customer-service draft to a thousand typed openids is ~30 KB; more
/// than this is not a draft anyone typed.
pub const MAX_DRAFT_BYTES: usize = 256 * 1024;

/// Which composer a draft belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum DraftKind {
    /// 模板消息.
    Template,
    /// 订阅通知.
    Subscribe,
    /// 客服消息 (no template: the draft's template id is empty).
    Custom,
}

impl DraftKind {
    fn as_str(self) -> &'static str {
        match self {
            DraftKind::Template => "template",
            DraftKind::Subscribe => "subscribe",
            DraftKind::Custom => "custom",
        }
    }
}

/// One saved draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ComposeDraft {
    pub kind: DraftKind,
    pub appid: String,
    /// Empty for the customer-service composer.
    pub template_id: String,
    /// The window's JSON.
    pub body: String,
    /// Unix milliseconds of the last save.
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Number))]
    pub updated_at: i64,
}

fn check_key(appid: &str, template_id: &str) -> Result<()> {
    if appid.trim().is_empty() || appid.len() > 64 || template_id.len() > 256 {
        return Err(Error::input(
            "草稿的账号或模板无效",
            "The draft's account or template is not valid.",
        ));
    }
    Ok(())
}

fn check_body(body: &str) -> Result<()> {
    if body.len() > MAX_DRAFT_BYTES {
        return Err(Error::input(
            format!(
                "草稿过大（超过 {} KB），未保存；请减少手动输入的收件人，改用名单",
                MAX_DRAFT_BYTES / 1024
            ),
            format!(
                "The draft is too large (over {} KB) and was not saved; type fewer recipients and use a list instead.",
                MAX_DRAFT_BYTES / 1024
            ),
        ));
    }
    if serde_json::from_str::<serde_json::Value>(body).is_err() {
        return Err(Error::input(
            "草稿内容不是有效的 JSON，未保存",
            "The draft is not valid JSON and was not saved.",
        ));
    }
    Ok(())
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Saves (replaces) the draft of `(kind, appid, template_id)`; returns when it was saved.
///
/// Durability: the store runs WAL with `synchronous = NORMAL`, so a saved draft survives the
/// app being killed; a power cut may lose the last seconds of typing, which is acceptable for a
/// draft (and not worth an fsync per keystroke pause).
pub(crate) fn save(
    conn: &Connection,
    kind: DraftKind,
    appid: &str,
    template_id: &str,
    body: &str,
) -> Result<i64> {
    check_key(appid, template_id)?;
    check_body(body)?;
    // Strictly after the previous save, so "newest" is well defined even within a millisecond.
    let prev: Option<i64> = conn
        .query_row(
            "SELECT max(updated_at) FROM compose_drafts WHERE kind = ?1 AND appid = ?2",
            params![kind.as_str(), appid],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    let at = now_ms().max(prev.map_or(0, |p| p + 1));
    conn.execute(
        "INSERT INTO compose_drafts (kind, appid, template_id, body, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT (kind, appid, template_id) DO UPDATE SET body = excluded.body, \
         updated_at = excluded.updated_at",
        params![kind.as_str(), appid, template_id, body, at],
    )?;
    Ok(at)
}

/// The drafts of one composer and account, the most recently saved first.
pub(crate) fn list(conn: &Connection, kind: DraftKind, appid: &str) -> Result<Vec<ComposeDraft>> {
    let mut st = conn.prepare(
        "SELECT template_id, body, updated_at FROM compose_drafts \
         WHERE kind = ?1 AND appid = ?2 ORDER BY updated_at DESC, template_id",
    )?;
    let rows = st
        .query_map(params![kind.as_str(), appid], |r| {
            Ok(ComposeDraft {
                kind,
                appid: appid.to_string(),
                template_id: r.get(0)?,
                body: r.get(1)?,
                updated_at: r.get(2)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Removes one draft (清空, or after it was sent); true when there was one.
pub(crate) fn delete(
    conn: &Connection,
    kind: DraftKind,
    appid: &str,
    template_id: &str,
) -> Result<bool> {
    let n = conn.execute(
        "DELETE FROM compose_drafts WHERE kind = ?1 AND appid = ?2 AND template_id = ?3",
        params![kind.as_str(), appid, template_id],
    )?;
    Ok(n > 0)
}

/// The drafts of a store (the composers' handle, `ctx.compose`).
#[derive(Clone, Debug)]
pub struct Drafts {
    store: Store,
}

impl Drafts {
    pub fn new(store: Store) -> Drafts {
        Drafts { store }
    }

    pub async fn save(
        &self,
        kind: DraftKind,
        appid: &str,
        template_id: &str,
        body: &str,
    ) -> Result<i64> {
        let (appid, template_id, body) =
            (appid.to_string(), template_id.to_string(), body.to_string());
        self.store
            .call(move |c| save(c, kind, &appid, &template_id, &body))
            .await
    }

    pub async fn list(&self, kind: DraftKind, appid: &str) -> Result<Vec<ComposeDraft>> {
        let appid = appid.to_string();
        self.store.call(move |c| list(c, kind, &appid)).await
    }

    pub async fn delete(&self, kind: DraftKind, appid: &str, template_id: &str) -> Result<bool> {
        let (appid, template_id) = (appid.to_string(), template_id.to_string());
        self.store
            .call(move |c| delete(c, kind, &appid, &template_id))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = r#"{"title":"双十一","data":{"thing1":"羽绒服"},"openid":"oUser1"}"#;

    /// A draft saved in one session is there after the store is closed and opened again from
    /// the same file (an app restart), and only under its own composer, account and template.
    #[tokio::test]
    async fn a_draft_survives_reopening_the_database_under_its_own_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(crate::store::DB_FILE);
        {
            let drafts = Drafts::new(Store::open_blocking(&path).unwrap());
            drafts
                .save(DraftKind::Template, "wxA", "TPL1", BODY)
                .await
                .unwrap();
            drafts
                .save(DraftKind::Custom, "wxA", "", r#"{"content":"hi"}"#)
                .await
                .unwrap();
        }
        let drafts = Drafts::new(Store::open_blocking(&path).unwrap());
        let got = drafts.list(DraftKind::Template, "wxA").await.unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(
            (got[0].template_id.as_str(), got[0].body.as_str()),
            ("TPL1", BODY)
        );
        assert!(
            drafts
                .list(DraftKind::Template, "wxB")
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            drafts
                .list(DraftKind::Subscribe, "wxA")
                .await
                .unwrap()
                .is_empty()
        );
        let custom = drafts.list(DraftKind::Custom, "wxA").await.unwrap();
        assert_eq!(custom[0].body, r#"{"content":"hi"}"#);
    }

    /// Saving again replaces the draft; the one typed in last comes first (the composer opens
    /// on it); deleting removes only that one.
    #[tokio::test]
    async fn saves_replace_newest_first_and_delete_one() {
        let drafts = Drafts::new(Store::open_in_memory().unwrap());
        let k = DraftKind::Subscribe;
        let a = drafts.save(k, "wxA", "T1", r#"{"v":1}"#).await.unwrap();
        let b = drafts.save(k, "wxA", "T2", r#"{"v":2}"#).await.unwrap();
        let c = drafts.save(k, "wxA", "T1", r#"{"v":3}"#).await.unwrap();
        assert!(a < b && b < c);
        let got = drafts.list(k, "wxA").await.unwrap();
        let seen: Vec<_> = got
            .iter()
            .map(|d| (d.template_id.as_str(), d.body.as_str()))
            .collect();
        assert_eq!(seen, [("T1", r#"{"v":3}"#), ("T2", r#"{"v":2}"#)]);
        assert!(drafts.delete(k, "wxA", "T1").await.unwrap());
        assert!(!drafts.delete(k, "wxA", "T1").await.unwrap());
        let left: Vec<_> = drafts
            .list(k, "wxA")
            .await
            .unwrap()
            .into_iter()
            .map(|d| d.template_id)
            .collect();
        assert_eq!(left, ["T2"]);
    }

    /// What the window sends is checked: not JSON, too large, or without an account is refused
    /// in both languages, and nothing is stored.
    #[tokio::test]
    async fn bad_bodies_and_keys_are_refused_and_not_stored() {
        let drafts = Drafts::new(Store::open_in_memory().unwrap());
        let k = DraftKind::Template;
        let big = format!(r#"{{"x":"{}"}}"#, "a".repeat(MAX_DRAFT_BYTES));
        for (appid, body) in [("wxA", "{not json"), ("wxA", big.as_str()), (" ", "{}")] {
            match drafts.save(k, appid, "T", body).await {
                Err(Error::Input(m)) => {
                    assert!(!m.zh.is_empty() && !m.en.is_empty());
                }
                other => panic!("expected a refusal, got {other:?}"),
            }
        }
        assert!(drafts.list(k, "wxA").await.unwrap().is_empty());
    }
}
