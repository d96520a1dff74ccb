//! 订阅通知 templates of an official account (protocol G.3, the `wxaapi/newtmpl` family):
//! categories, the public library (titles and their keywords), choosing one into the account's
//! private list, listing and deleting. The notice itself goes out through `subscribe_bizsend`
//! (message.rs).

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::json;

use super::{Ack, Client};
use crate::error::Result;
use crate::secret::Secret;

const AT: &str = "access_token";

/// Template type as the template APIs report it (G.1).
pub const TYPE_ONE_TIME: i64 = 2;
pub const TYPE_LONG_TERM: i64 = 3;

/// One 类目 of the account (getcategory).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct SubscribeCategory {
    pub id: i64,
    #[serde(default)]
    pub name: String,
}

/// A public template of the library (getpubtemplatetitles).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct PubTemplateTitle {
    #[serde(deserialize_with = "string_or_number")]
    pub tid: String,
    #[serde(default)]
    pub title: String,
    /// 2 one-time, 3 long-term.
    #[serde(rename = "type", default)]
    pub kind: i64,
    /// Documented as a number, shown as `"616"` in the example: either is accepted.
    #[serde(rename = "categoryId", default, deserialize_with = "string_or_number")]
    pub category_id: String,
}

/// One page of library titles.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PubTemplateTitles {
    #[serde(default)]
    pub count: i64,
    #[serde(default)]
    pub data: Vec<PubTemplateTitle>,
}

/// One keyword a library template offers (getpubtemplatekeywords).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct PubTemplateKeyword {
    pub kid: i64,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub example: String,
    /// The keyword type's prefix (`thing`, `time`, …): the data key is `{rule}{kid}`.
    #[serde(default)]
    pub rule: String,
}

/// One of the account's chosen templates (gettemplate).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct SubscribeTemplate {
    #[serde(rename = "priTmplId")]
    pub pri_tmpl_id: String,
    #[serde(default)]
    pub title: String,
    /// `{{thing1.DATA}}` lines.
    #[serde(default)]
    pub content: String,
    #[serde(default)]
    pub example: String,
    /// 2 one-time, 3 long-term.
    #[serde(rename = "type", default)]
    pub kind: i64,
}

#[derive(Debug, Deserialize)]
struct DataList<T> {
    #[serde(default = "Vec::new")]
    data: Vec<T>,
}

#[derive(Debug, Deserialize)]
struct Added {
    #[serde(rename = "priTmplId")]
    pri_tmpl_id: String,
}

fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        S(String),
        N(i64),
    }
    Ok(match Either::deserialize(d)? {
        Either::S(s) => s,
        Either::N(n) => n.to_string(),
    })
}

impl Client {
    /// The account's categories (类目), the `ids` of the library query.
    pub async fn newtmpl_categories(&self, at: &Secret) -> Result<Vec<SubscribeCategory>> {
        let r: DataList<SubscribeCategory> = self
            .get("/wxaapi/newtmpl/getcategory", &[(AT, at.expose())])
            .await?;
        Ok(r.data)
    }

    /// One page of the library under `category_ids` (`limit` ≤ 30, `start` from 0).
    pub async fn newtmpl_pub_titles(
        &self,
        at: &Secret,
        category_ids: &[i64],
        start: u32,
        limit: u32,
    ) -> Result<PubTemplateTitles> {
        // Plain comma-joined decimals: quoting them as in the doc's example gives 200019.
        let ids = category_ids
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let (start, limit) = (start.to_string(), limit.to_string());
        self.get(
            "/wxaapi/newtmpl/getpubtemplatetitles",
            &[
                (AT, at.expose()),
                ("ids", &ids),
                ("start", &start),
                ("limit", &limit),
            ],
        )
        .await
    }

    /// The keywords a library template offers.
    pub async fn newtmpl_pub_keywords(
        &self,
        at: &Secret,
        tid: &str,
    ) -> Result<Vec<PubTemplateKeyword>> {
        let r: DataList<PubTemplateKeyword> = self
            .get(
                "/wxaapi/newtmpl/getpubtemplatekeywords",
                &[(AT, at.expose()), ("tid", tid)],
            )
            .await?;
        Ok(r.data)
    }

    /// Choose library template `tid` with keywords `kids` (2–5, in display order); returns the
    /// new private template id. JSON body (protocol G.3's recommendation).
    pub async fn newtmpl_add(
        &self,
        at: &Secret,
        tid: &str,
        kids: &[i64],
        scene_desc: &str,
    ) -> Result<String> {
        let r: Added = self
            .post(
                "/wxaapi/newtmpl/addtemplate",
                &[(AT, at.expose())],
                &json!({"tid": tid, "kidList": kids, "sceneDesc": scene_desc}),
            )
            .await?;
        Ok(r.pri_tmpl_id)
    }

    /// The account's chosen 订阅通知 templates.
    pub async fn newtmpl_list(&self, at: &Secret) -> Result<Vec<SubscribeTemplate>> {
        let r: DataList<SubscribeTemplate> = self
            .get("/wxaapi/newtmpl/gettemplate", &[(AT, at.expose())])
            .await?;
        Ok(r.data)
    }

    pub async fn newtmpl_delete(&self, at: &Secret, pri_tmpl_id: &str) -> Result<()> {
        let _: Ack = self
            .post(
                "/wxaapi/newtmpl/deltemplate",
                &[(AT, at.expose())],
                &json!({"priTmplId": pri_tmpl_id}),
            )
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::ClientConfig;
    use crate::test_server::{Reply, TestServer};

    async fn setup() -> (TestServer, Client) {
        let server = TestServer::start().await;
        let client = Client::new(ClientConfig::with_base_url(&server.base_url)).unwrap();
        (server, client)
    }

    #[tokio::test]
    async fn titles_send_ids_as_plain_decimals_and_accept_a_string_or_number_category() {
        let (srv, c) = setup().await;
        srv.route(
            "/wxaapi/newtmpl/getpubtemplatetitles",
            Reply::json(json!({"errcode":0,"errmsg":"ok","count":55,"data":[
                {"tid":99,"title":"付款成功通知","type":2,"categoryId":"616"},
                {"tid":"100","title":"报名结果通知","type":3,"categoryId":617}]})),
        );
        let page = c
            .newtmpl_pub_titles(&Secret::new("AAT"), &[616, 617], 0, 30)
            .await
            .unwrap();
        assert_eq!(page.count, 55);
        assert_eq!(page.data[0].tid, "99");
        assert_eq!(page.data[0].category_id, "616");
        assert_eq!(page.data[1].tid, "100");
        assert_eq!(page.data[1].category_id, "617");
        assert_eq!(page.data[1].kind, TYPE_LONG_TERM);
        let r = srv.single();
        assert_eq!(r.method, "GET");
        assert_eq!(r.query.get("ids").map(String::as_str), Some("616,617"));
        assert_eq!(r.query.get("start").map(String::as_str), Some("0"));
        assert_eq!(r.query.get("limit").map(String::as_str), Some("30"));
        assert_eq!(r.query.get("access_token").map(String::as_str), Some("AAT"));
    }

    #[tokio::test]
    async fn add_posts_tid_kid_list_and_scene_as_json_and_returns_the_private_id() {
        let (srv, c) = setup().await;
        srv.route(
            "/wxaapi/newtmpl/addtemplate",
            Reply::json(json!({"errmsg":"ok","errcode":0,"priTmplId":"9Aw5ZV1j9xdWTFEkqCpZ7jWySL7aGN6rQom4gXINfJs"})),
        );
        let id = c
            .newtmpl_add(&Secret::new("AAT"), "401", &[3, 1], "发货提醒")
            .await
            .unwrap();
        assert_eq!(id, "9Aw5ZV1j9xdWTFEkqCpZ7jWySL7aGN6rQom4gXINfJs");
        let r = srv.single();
        assert_eq!(r.method, "POST");
        assert_eq!(
            r.body,
            json!({"tid":"401","kidList":[3,1],"sceneDesc":"发货提醒"})
        );
    }

    #[tokio::test]
    async fn list_keywords_categories_and_delete_read_the_documented_shapes() {
        let (srv, c) = setup().await;
        srv.route(
            "/wxaapi/newtmpl/gettemplate",
            Reply::json(json!({"errcode":0,"errmsg":"ok","data":[{"priTmplId":"P1","title":"报名结果通知",
                "content":"会议时间:{{date2.DATA}}\n会议地点:{{thing1.DATA}}\n","example":"x","type":2,
                "keywordEnumValueList":[]}]})),
        );
        srv.route(
            "/wxaapi/newtmpl/getpubtemplatekeywords",
            Reply::json(json!({"errcode":0,"errmsg":"ok","count":1,
                "data":[{"kid":1,"name":"物品名称","example":"名称","rule":"thing"}]})),
        );
        srv.route(
            "/wxaapi/newtmpl/getcategory",
            Reply::json(json!({"errcode":0,"errmsg":"ok","data":[{"id":616,"name":"公交"}]})),
        );
        srv.route(
            "/wxaapi/newtmpl/deltemplate",
            Reply::json(json!({"errcode":0,"errmsg":"ok"})),
        );
        let at = Secret::new("AAT");
        let list = c.newtmpl_list(&at).await.unwrap();
        assert_eq!(list[0].pri_tmpl_id, "P1");
        assert_eq!(list[0].kind, TYPE_ONE_TIME);
        let kws = c.newtmpl_pub_keywords(&at, "99").await.unwrap();
        assert_eq!(kws[0].rule, "thing");
        assert_eq!(kws[0].kid, 1);
        let cats = c.newtmpl_categories(&at).await.unwrap();
        assert_eq!(cats[0].id, 616);
        c.newtmpl_delete(&at, "P1").await.unwrap();
        let log = srv.requests();
        assert_eq!(log[1].query.get("tid").map(String::as_str), Some("99"));
        assert_eq!(log[3].body, json!({"priTmplId":"P1"}));
    }

    #[tokio::test]
    async fn an_unknown_tid_is_a_wechat_error_even_with_empty_data_alongside() {
        let (srv, c) = setup().await;
        srv.route(
            "/wxaapi/newtmpl/getpubtemplatekeywords",
            Reply::json(
                json!({"errcode":200014,"errmsg":"tid does not exist rid: 1","count":0,"data":[]}),
            ),
        );
        let e = c
            .newtmpl_pub_keywords(&Secret::new("AAT"), "1")
            .await
            .unwrap_err();
        assert_eq!(e.wechat().map(|w| w.errcode), Some(200014));
    }
}
