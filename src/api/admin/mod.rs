//! The admin API under `/admin`: plain JSON with real HTTP statuses (it is not an Alipay+ API),
//! guarded by a bearer token from config.

pub mod clients;
pub mod journal;
pub mod notifications;
pub mod openapi;
pub mod payments;
pub mod real;
pub mod receiver;
pub mod scenarios;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::api::state::AppState;
use crate::body::BodyError;

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
        let body = ErrorBody {
            error: self.message,
        };
        (self.status, axum::Json(body)).into_response()
    }
}

/// An admin failure: what to fix.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = AdminError)]
pub struct ErrorBody {
    /// What went wrong, naming the field or the id involved.
    pub error: String,
}

/// What deleting a client or a namespace answers.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Deleted {
    /// The client id or namespace name deleted.
    pub deleted: String,
}

/// What `POST /admin/reset` answers.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Reset {
    /// Always true.
    pub reset: bool,
}

impl From<crate::store::StoreError> for AdminError {
    fn from(e: crate::store::StoreError) -> Self {
        tracing::error!(error = %e, "admin call failed in the store");
        AdminError::new(StatusCode::SERVICE_UNAVAILABLE, format!("store: {e}"))
    }
}

/// The admin routes, behind the token check; every answer, errors included, is JSON.
pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .merge(payments::router())
        .merge(clients::router())
        .merge(notifications::router())
        .merge(receiver::router())
        .merge(scenarios::router())
        .merge(journal::router())
        .merge(real::router())
        .route("/reset", axum::routing::post(reset))
        .method_not_allowed_fallback(|| async {
            AdminError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "this admin route does not take that method",
            )
        })
        .route_layer(from_fn_with_state(state, require_token))
        .fallback(|| async { AdminError::new(StatusCode::NOT_FOUND, "no such admin route") })
}

/// Everything back to empty: store, journal, rules, receiver
///
/// For isolation between test cases: the store, the journal, the rules (back to those from
/// config, with no hits), the receiver's scripted failures.
#[utoipa::path(
    post,
    path = "/admin/reset",
    operation_id = "reset",
    responses((status = 200, description = "Everything is empty", body = Reset)),
)]
pub(super) async fn reset(State(state): State<AppState>) -> Result<Response, AdminError> {
    state.store.reset().await?;
    state.journal.clear();
    state.scenarios.reset();
    state
        .receiver
        .fail_next(0, crate::protocol::WireResult::success());
    Ok(axum::Json(Reset { reset: true }).into_response())
}

/// A path parameter; a malformed one answers JSON like every admin error.
pub struct AdminPath(pub String);

impl FromRequestParts<AppState> for AdminPath {
    type Rejection = AdminError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Path::<String>::from_request_parts(parts, state)
            .await
            .map(|Path(p)| AdminPath(p))
            .map_err(|e| AdminError::new(StatusCode::BAD_REQUEST, e.body_text()))
    }
}

/// A body within `server.body_limit_bytes`; a larger one answers JSON 413.
pub struct AdminBody(pub Bytes);

impl FromRequest<AppState> for AdminBody {
    type Rejection = AdminError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let limit = state.config.settings.server.body_limit_bytes;
        crate::body::read_within(request.into_body(), limit)
            .await
            .map(AdminBody)
            .map_err(|e| match e {
                BodyError::TooLarge(_) => {
                    AdminError::new(StatusCode::PAYLOAD_TOO_LARGE, e.to_string())
                }
                BodyError::Failed(_) => AdminError::new(StatusCode::BAD_REQUEST, e.to_string()),
            })
    }
}

/// Query parameters; malformed ones answer JSON 400.
pub struct AdminQuery<T>(pub T);

impl<T: serde::de::DeserializeOwned> FromRequestParts<AppState> for AdminQuery<T> {
    type Rejection = AdminError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(q)| AdminQuery(q))
            .map_err(|e| AdminError::new(StatusCode::BAD_REQUEST, e.body_text()))
    }
}

/// Lets a request through only with `Authorization: Bearer <admin.token>`, or, in a namespace,
/// that namespace's own token.
async fn require_token(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(expected) = state.config.admin_token.as_ref().map(|t| t.expose()) else {
        return AdminError::new(
            StatusCode::UNAUTHORIZED,
            "the admin API is off: set admin.token",
        )
        .into_response();
    };
    let given = bearer_token(&request);
    match (given, &state.namespace) {
        (Some(token), _) if same_secret(token, expected) => next.run(request).await,
        (Some(token), Some(namespace)) if token_digest(token) == namespace.token_sha256 => {
            next.run(request).await
        }
        (Some(_), Some(namespace)) => AdminError::new(
            StatusCode::FORBIDDEN,
            format!(
                "this token does not reach namespace {}: use its own token or the admin token",
                namespace.name
            ),
        )
        .into_response(),
        (Some(_), None) => {
            AdminError::new(StatusCode::UNAUTHORIZED, "wrong admin token").into_response()
        }
        (None, _) => AdminError::new(
            StatusCode::UNAUTHORIZED,
            "missing Authorization: Bearer <admin token>",
        )
        .into_response(),
    }
}

/// The token of `Authorization: Bearer <token>`.
pub fn bearer_token<B>(request: &axum::http::Request<B>) -> Option<&str> {
    request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
}

/// A namespace token as the store keeps it: SHA-256, hex. The token is 256 random bits, so its
/// digest is compared as it is: no timing reveals a preimage.
pub fn token_digest(token: &str) -> String {
    use aws_lc_rs::digest::{SHA256, digest};
    digest(&SHA256, token.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Compares digests in constant time, so neither the token's content nor its length shows in
/// the timing.
pub(crate) fn same_secret(given: &str, expected: &str) -> bool {
    use aws_lc_rs::digest::{SHA256, digest};
    let (a, b) = (
        digest(&SHA256, given.as_bytes()),
        digest(&SHA256, expected.as_bytes()),
    );
    aws_lc_rs::constant_time::verify_slices_are_equal(a.as_ref(), b.as_ref()).is_ok()
}
