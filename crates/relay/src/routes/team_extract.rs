//! What every handler of the team API starts with, as extractors: the team state (503 when the
//! database is not there), the member (put there by `require_member`), an operator (403 for a
//! lower role), a JSON body (400 in both languages when it does not parse). A handler that
//! names them in its arguments gets them checked before its body runs.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::response::Response;
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::routes::team::{refusal, unavailable};
use crate::routes::team_jobs::{needs, refused};
use crate::team::TeamState;
use crate::team::jobs::Refused;
use crate::team::members::{Member, Role};

/// The team state of a team server.
pub struct Team(pub TeamState);

impl FromRequestParts<AppState> for Team {
    type Rejection = Response;

    async fn from_request_parts(_: &mut Parts, state: &AppState) -> Result<Self, Response> {
        state.team().cloned().map(Team).ok_or_else(unavailable)
    }
}

/// A member allowed to change the shared workspace (operator or admin).
pub struct Operator(pub Member);

impl FromRequestParts<AppState> for Operator {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Response> {
        // `require_member` runs before every team route; without it there is no one to serve.
        let Some(m) = parts.extensions.get::<Member>().cloned() else {
            return Err(unavailable());
        };
        match needs(&m, Role::Operator) {
            Some(refusal) => Err(refusal),
            None => Ok(Operator(m)),
        }
    }
}

/// A JSON request body, refused with `bad_request` when it does not parse.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        // Too large (413) or cut off: the status says which.
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            refusal(
                e.status(),
                "bad_request",
                format!("请求无法读取：{e}"),
                format!("The request could not be read: {e}"),
                None,
            )
        })?;
        serde_json::from_slice(&bytes).map(JsonBody).map_err(|e| {
            refused(Refused::Invalid(
                "bad_request",
                format!("请求不是有效的 JSON：{e}"),
                format!("The request is not valid JSON: {e}"),
            ))
        })
    }
}
