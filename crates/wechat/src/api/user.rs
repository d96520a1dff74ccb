//! Followers and tags (protocol C.6 "Users").

use serde::{Deserialize, Serialize};

use super::Client;
use crate::error::{Error, Result};
use crate::secret::Secret;

const AT: &str = "access_token";

/// user/info/batchget accepts at most this many openids per call.
pub const BATCHGET_MAX: usize = 100;

#[derive(Debug, Clone, Default, Deserialize)]
struct OpenIds {
    #[serde(default)]
    openid: Vec<String>,
}

/// One page of user/get (at most 10,000 openids).
#[derive(Debug, Clone, Deserialize)]
pub struct FollowerPage {
    #[serde(default)]
    pub total: i64,
    #[serde(default)]
    pub count: i64,
    #[serde(default)]
    data: Option<OpenIds>,
    /// Empty on the last page.
    #[serde(default)]
    pub next_openid: String,
}

impl FollowerPage {
    pub fn openids(&self) -> &[String] {
        self.data.as_ref().map_or(&[], |d| d.openid.as_slice())
    }
}

/// One user of user/info/batchget. Non-followers carry only `subscribe: 0` and `openid`;
/// nickname/headimgurl/sex/city are no longer returned, so they are not modelled.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct UserInfo {
    pub subscribe: i64,
    pub openid: String,
    pub language: String,
    pub subscribe_time: i64,
    pub unionid: Option<String>,
    pub remark: String,
    pub groupid: i64,
    pub tagid_list: Vec<i64>,
    pub subscribe_scene: String,
    pub qr_scene: i64,
    pub qr_scene_str: String,
}

#[derive(Debug, Deserialize)]
struct BatchGetResponse {
    #[serde(default)]
    user_info_list: Vec<UserInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Tag {
    pub id: i64,
    pub name: String,
    #[serde(default)]
    pub count: i64,
}

#[derive(Debug, Deserialize)]
struct TagsResponse {
    #[serde(default)]
    tags: Vec<Tag>,
}

impl Client {
    /// One page of followers, starting after `next_openid` (None for the first page).
    pub async fn user_get(&self, at: &Secret, next_openid: Option<&str>) -> Result<FollowerPage> {
        let mut q = vec![(AT, at.expose())];
        if let Some(n) = next_openid.filter(|n| !n.is_empty()) {
            q.push(("next_openid", n));
        }
        self.get("/cgi-bin/user/get", &q).await
    }

    /// Every follower, page by page. Stops on an empty page or an empty/repeated cursor, so a
    /// misbehaving server cannot loop us forever.
    pub async fn user_get_all(&self, at: &Secret) -> Result<Vec<String>> {
        let mut all = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = self.user_get(at, cursor.as_deref()).await?;
            all.extend_from_slice(page.openids());
            if page.openids().is_empty()
                || page.next_openid.is_empty()
                || cursor.as_deref() == Some(page.next_openid.as_str())
            {
                return Ok(all);
            }
            cursor = Some(page.next_openid);
        }
    }

    /// Up to [`BATCHGET_MAX`] users in one call; more is refused before any request.
    pub async fn user_info_batchget(
        &self,
        at: &Secret,
        openids: &[String],
        lang: &str,
    ) -> Result<Vec<UserInfo>> {
        if openids.len() > BATCHGET_MAX {
            return Err(Error::InvalidArgument(format!(
                "user/info/batchget 每次最多 {BATCHGET_MAX} 个 openid，收到 {} 个 (at most {BATCHGET_MAX} per call)",
                openids.len()
            )));
        }
        if openids.is_empty() {
            return Ok(Vec::new());
        }
        #[derive(Serialize)]
        struct Item<'a> {
            openid: &'a str,
            lang: &'a str,
        }
        #[derive(Serialize)]
        struct Body<'a> {
            user_list: Vec<Item<'a>>,
        }
        let user_list = openids.iter().map(|openid| Item { openid, lang }).collect();
        let r: BatchGetResponse = self
            .post(
                "/cgi-bin/user/info/batchget",
                &[(AT, at.expose())],
                &Body { user_list },
            )
            .await?;
        Ok(r.user_info_list)
    }

    /// Any number of users, in sequential chunks of [`BATCHGET_MAX`].
    pub async fn user_info_batchget_chunked(
        &self,
        at: &Secret,
        openids: &[String],
        lang: &str,
    ) -> Result<Vec<UserInfo>> {
        let mut out = Vec::with_capacity(openids.len());
        for chunk in openids.chunks(BATCHGET_MAX) {
            out.extend(self.user_info_batchget(at, chunk, lang).await?);
        }
        Ok(out)
    }

    pub async fn tags_get(&self, at: &Secret) -> Result<Vec<Tag>> {
        let r: TagsResponse = self.get("/cgi-bin/tags/get", &[(AT, at.expose())]).await?;
        Ok(r.tags)
    }
}
