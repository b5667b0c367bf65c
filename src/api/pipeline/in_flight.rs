//! Layer 2: at most `server.max_in_flight` requests handled at once. None free means the
//! gateway is at its limit, and a retryable answer now beats a queue without end.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::admission::Admission;
use super::{Exchange, Route, seal};
use crate::api::error::ApiError;
use crate::protocol::ResultCode;

/// A response extension: the request was turned away before its signature was checked.
#[derive(Debug, Clone, Copy)]
pub struct NotAdmitted;

/// Holds a permit until the answer is sealed, or refuses at once.
pub async fn layer(State(route): State<Route>, request: Request, next: Next) -> Response {
    let app = &route.app;
    let Ok(permit) = app.in_flight.clone().try_acquire_owned() else {
        let error = ApiError::Business {
            code: ResultCode::RequestTrafficExceedLimit,
            message: format!(
                "the gateway is handling {} requests at once, its limit (server.max_in_flight); retry",
                app.config.settings.server.max_in_flight
            ),
        };
        let verdict = error.to_string();
        let mut response = error.into_response();
        response
            .extensions_mut()
            .insert(Admission::refused(verdict));
        // At the moment CPU is scarcest, no RSA signature is spent on it.
        response.extensions_mut().insert(NotAdmitted);
        let exchange = request.extensions().get::<Exchange>();
        return seal::seal(app, exchange, response).await;
    };
    let response = next.run(request).await;
    drop(permit);
    response
}
