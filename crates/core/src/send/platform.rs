//! Wiring the engine to the platform: tokens from the authorizer token cache, requests direct or
//! through the relay's egress route as the settings say, and delivery reports from the feed.

use std::sync::Arc;

use wxdesk_wechat::Secret;

use super::api::{BoxFuture, SendFailure};
use super::delivery::{self, DeliveryApplied};
use super::http::{Endpoint, HttpSendApi, TokenSource};
use crate::error::Result;
use crate::feed::EventHandler;
use crate::feed::events::{EventKind, FeedEvent};
use crate::platform::Platform;

/// Authorizer access tokens from the platform's single-flight token cache.
pub struct PlatformTokens {
    platform: Platform,
}

impl PlatformTokens {
    pub fn new(platform: Platform) -> PlatformTokens {
        PlatformTokens { platform }
    }
}

/// An errcode or a network failure while getting the token stays what it is, so the engine
/// retries or pauses by its class (e.g. 61003 revoked, 61004 IP); any other reason (no refresh
/// token, not configured, keychain) is a token failure.
fn token_failure(e: crate::Error) -> SendFailure {
    use wxdesk_wechat::Error as W;
    match &e {
        crate::Error::WeChat(w @ (W::WeChat(_) | W::Http { .. } | W::HttpStatus { .. })) => {
            SendFailure::from_wechat(w)
        }
        _ => match e.wechat_errcode() {
            Some(errcode) => SendFailure::Api {
                errcode,
                errmsg: e.to_string(),
            },
            None => SendFailure::Token {
                detail: e.to_string(),
            },
        },
    }
}

impl TokenSource for PlatformTokens {
    fn token<'a>(&'a self, appid: &'a str) -> BoxFuture<'a, Result<Secret, SendFailure>> {
        Box::pin(async move {
            let api = self.platform.api().await.map_err(token_failure)?;
            api.authorizer_token(appid).await.map_err(token_failure)
        })
    }

    fn refresh<'a>(&'a self, appid: &'a str) -> BoxFuture<'a, Result<(), SendFailure>> {
        Box::pin(async move {
            let api = self.platform.api().await.map_err(token_failure)?;
            api.forget_authorizer(appid).await;
            api.authorizer_token(appid)
                .await
                .map(|_| ())
                .map_err(token_failure)
        })
    }
}

/// The production send API for the platform's current settings.
pub async fn platform_send_api(platform: &Platform) -> Result<Arc<HttpSendApi>> {
    let s = platform.settings().await?;
    let (base_url, bearer) = platform.wechat_endpoint(&s).await?;
    let endpoint = Endpoint { base_url, bearer };
    Ok(Arc::new(
        HttpSendApi::new(endpoint, Arc::new(PlatformTokens::new(platform.clone())))?
            .telling(platform.wechat_health().clone()),
    ))
}

/// Joins TEMPLATESENDJOBFINISH events from the relay feed to sent rows, in the transaction that
/// advances the feed's cursor. Register with `FeedFollower::with_handler`.
#[derive(Debug, Default, Clone, Copy)]
pub struct DeliveryJoin;

impl EventHandler for DeliveryJoin {
    fn apply(&self, tx: &rusqlite::Transaction<'_>, event: &FeedEvent) -> Result<()> {
        let EventKind::TemplateSendJobFinish {
            openid,
            msg_id,
            status,
            ..
        } = &event.kind
        else {
            return Ok(());
        };
        let appid = match &event.appid {
            Some(a) => a.clone(),
            // Without the account, the (msgid, openid) pair still names one row.
            None => {
                use rusqlite::OptionalExtension;
                let found: Option<String> = tx
                    .query_row(
                        "SELECT appid FROM send_recipients WHERE msgid = ?1 AND openid = ?2 LIMIT 1",
                        rusqlite::params![msg_id, openid],
                        |r| r.get(0),
                    )
                    .optional()?;
                match found {
                    Some(a) => a,
                    None => return Ok(()),
                }
            }
        };
        if let DeliveryApplied::Parked =
            delivery::apply_report(tx, &appid, *msg_id, status, event.received_at)?
        {
            tracing::debug!(
                msg_id,
                "delivery report before its send was recorded; parked"
            );
        }
        Ok(())
    }
}
