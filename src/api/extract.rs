//! `Valid<T>`: the body extractor for the four APIs. It takes the body admission verified and
//! parsed, checks every field rule of `T`, and only then builds `T`, so every rejection is a
//! PARAM_ILLEGAL envelope naming the field.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::sync::Arc;

use super::pipeline::admission::ParsedBody;
use crate::api::error::ApiError;
use crate::protocol::schema::{self, Field, FieldError};

/// A request body type with its field rules.
pub trait WireRequest: DeserializeOwned {
    /// The fields of the page, with presence, type, length and allowed values.
    const FIELDS: &'static [Field];

    /// Rules that span fields (conditional presence); runs after the field rules pass.
    fn check(&self) -> Result<(), FieldError> {
        Ok(())
    }
}

/// A body that passed its page's rules.
#[derive(Debug)]
pub struct Valid<T>(pub T);

impl<S: Send + Sync, T: WireRequest> FromRequest<S> for Valid<T> {
    type Rejection = ApiError;

    async fn from_request(mut request: Request, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(ParsedBody(parsed)) = request.extensions_mut().remove::<ParsedBody>() {
            return check(parsed).map(Valid);
        }
        // Outside the pipeline (a handler called on its own): read and parse here.
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|e| ApiError::Param(format!("the request body could not be read: {e}")))?;
        parse(&bytes).map(Valid)
    }
}

/// Why a body is not JSON, as serde_json tells it; shared, as the parsed body is a request
/// extension that is cloned.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct NotJson(Arc<serde_json::Error>);

impl From<serde_json::Error> for NotJson {
    fn from(e: serde_json::Error) -> Self {
        NotJson(Arc::new(e))
    }
}

/// Parses and checks a body against `T`'s rules.
pub fn parse<T: WireRequest>(bytes: &[u8]) -> Result<T, ApiError> {
    check(serde_json::from_slice(bytes).map_err(NotJson::from))
}

/// Checks a parsed body (or why it is not JSON) against `T`'s rules, then builds `T`.
pub fn check<T: WireRequest>(parsed: Result<Value, NotJson>) -> Result<T, ApiError> {
    let value = parsed.map_err(|e| ApiError::Param(format!("the body is not valid JSON: {e}")))?;
    schema::validate(&value, T::FIELDS)?;
    let typed: T = serde_json::from_value(value)
        .map_err(|e| ApiError::Param(format!("the body does not fit the API: {e}")))?;
    typed.check()?;
    Ok(typed)
}
