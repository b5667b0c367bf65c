//! `Valid<T>`: the body extractor for the four APIs. It parses the exact bytes the guard
//! verified, checks every field rule of `T`, and only then builds `T`, so every rejection is a
//! PARAM_ILLEGAL envelope naming the field.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::ApiError;
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

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|e| ApiError::Param(format!("the request body could not be read: {e}")))?;
        parse(&bytes).map(Valid)
    }
}

/// Parses and checks a body against `T`'s rules.
pub fn parse<T: WireRequest>(bytes: &[u8]) -> Result<T, ApiError> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::Param(format!("the body is not valid JSON: {e}")))?;
    schema::validate(&value, T::FIELDS)?;
    let typed: T = serde_json::from_value(value)
        .map_err(|e| ApiError::Param(format!("the body does not fit the API: {e}")))?;
    typed.check()?;
    Ok(typed)
}
