//! The admin API under `/admin`: plain JSON with real HTTP statuses (it is not an Alipay+ API),
//! guarded by a bearer token from config.

pub mod notifications;
pub mod payments;
pub mod receiver;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::app::AppState;

/// An admin failure: a status and a message that says what to fix.
#[derive(Debug)]
pub struct AdminError {
    /// HTTP status.
    pub status: StatusCode,
    /// What went wrong.
    pub message: String,
}

impl AdminError {
    /// A failure with `status`.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(json!({ "error": self.message }))).into_response()
    }
}

impl From<crate::store::StoreError> for AdminError {
    fn from(e: crate::store::StoreError) -> Self {
        tracing::error!(error = %e, "admin call failed in the store");
        AdminError::new(StatusCode::SERVICE_UNAVAILABLE, format!("store: {e}"))
    }
}

/// The admin routes, behind the token check.
pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .merge(payments::router())
        .merge(notifications::router())
        .merge(receiver::router())
        .route_layer(from_fn_with_state(state, require_token))
}

/// Lets a request through only with `Authorization: Bearer <admin.token>`.
async fn require_token(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(expected) = state.config.admin_token.as_deref() else {
        return AdminError::new(
            StatusCode::UNAUTHORIZED,
            "the admin API is off: set admin.token",
        )
        .into_response();
    };
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match given {
        Some(token) if constant_time_eq(token.as_bytes(), expected.as_bytes()) => {
            next.run(request).await
        }
        Some(_) => AdminError::new(StatusCode::UNAUTHORIZED, "wrong admin token").into_response(),
        None => AdminError::new(
            StatusCode::UNAUTHORIZED,
            "missing Authorization: Bearer <admin token>",
        )
        .into_response(),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a, b).is_ok()
}
