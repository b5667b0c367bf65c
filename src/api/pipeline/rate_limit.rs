//! Layer 7: a client's own request rate (`rate_limit_per_second` in `[[clients]]`).

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::admission::Caller;
use crate::api::error::ApiError;
use crate::protocol::ResultCode;

/// REQUEST_TRAFFIC_EXCEED_LIMIT past the client's rate.
pub async fn layer(request: Request, next: Next) -> Response {
    if let Some(caller) = request.extensions().get::<Caller>()
        && !caller.client.within_rate_limit()
    {
        return ApiError::Business {
            code: ResultCode::RequestTrafficExceedLimit,
            message: format!("Client-Id {} exceeded its rate limit", caller.client.id),
        }
        .into_response();
    }
    next.run(request).await
}
