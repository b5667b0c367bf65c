//! An API's answer: the JSON body with HTTP 200, and its `result` handed up beside it, so the
//! layers above (sealing, the journal, the metrics) never parse the body again.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::protocol::{ResultStatus, WireResult};

/// A response extension: the `result` the answer carries.
#[derive(Debug, Clone)]
pub struct Answered(pub WireResult);

impl Answered {
    /// The `resultStatus`.
    pub fn status(&self) -> ResultStatus {
        self.0.result_status
    }
}

/// A body that carries a `result` envelope.
pub trait Enveloped: Serialize {
    /// Its `result`.
    fn result(&self) -> &WireResult;
}

/// The body most APIs answer: the `result` alone.
#[derive(Debug, Serialize)]
pub struct ResultOnly {
    /// The outcome.
    pub result: WireResult,
}

impl Enveloped for ResultOnly {
    fn result(&self) -> &WireResult {
        &self.result
    }
}

/// A JSON answer with HTTP 200 and the content type the SDKs expect, its `result` attached.
pub fn reply<T: Enveloped>(body: &T) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|e| {
        tracing::error!(error = %e, "response serialisation failed");
        br#"{"result":{"resultCode":"UNKNOWN_EXCEPTION","resultMessage":"API failed due to unknown reason.","resultStatus":"U"}}"#.to_vec()
    });
    let mut response = bytes.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=UTF-8"),
    );
    response
        .extensions_mut()
        .insert(Answered(body.result().clone()));
    response
}

/// An answer that is the `result` alone.
pub fn reply_result(result: WireResult) -> Response {
    reply(&ResultOnly { result })
}
