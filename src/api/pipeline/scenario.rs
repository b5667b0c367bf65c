//! Layer 8: the scenario of a request (its header, a rule, or the `__<CODE>` convention), which
//! may answer a code in the handler's place and sets the latency and fault the outer layers
//! apply.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::admission::{Caller, ParsedBody};
use super::{Exchange, Route};
use crate::api::answer::reply_result;
use crate::api::error::ApiError;
use crate::scenario::{Applied, HeaderError};

/// A request extension: what a scenario forces an inquiryPayment to answer in `paymentResult`.
#[derive(Debug, Clone, Copy)]
pub struct ForcedPaymentResult(pub &'static crate::protocol::codes::Code);

/// Finds the scenario; answers its code, or hands the request on; either way the answer
/// carries the [`Applied`] scenario up.
pub async fn layer(State(route): State<Route>, mut request: Request, next: Next) -> Response {
    let applied = match find(&route, &request) {
        Err(message) => return ApiError::Param(message.to_string()).into_response(),
        Ok(None) => return next.run(request).await,
        Ok(Some(applied)) => applied,
    };
    let forced = applied
        .outcome
        .result
        .clone()
        .filter(|r| r.result_code != "SUCCESS");
    let mut response = match forced {
        Some(result) => reply_result(result),
        None => {
            if let Some(code) = applied.outcome.payment_result {
                request.extensions_mut().insert(ForcedPaymentResult(code));
            }
            next.run(request).await
        }
    };
    response.extensions_mut().insert(applied);
    response
}

/// The scenario for a request; rules and the convention read the body parsed at admission.
fn find(route: &Route, request: &Request) -> Result<Option<Applied>, HeaderError> {
    let extensions = request.extensions();
    let header = extensions
        .get::<Exchange>()
        .and_then(|e| e.scenario_header.as_deref());
    let client_id = extensions
        .get::<Caller>()
        .map_or("", |c| c.client.id.as_str());
    let scenarios = &route.app.scenarios;
    let null = Value::Null;
    let body = extensions
        .get::<ParsedBody>()
        .and_then(|p| p.0.as_ref().ok())
        .unwrap_or(&null);
    scenarios.evaluate(route.endpoint, client_id, body, header)
}
