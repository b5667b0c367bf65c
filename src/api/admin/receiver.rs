//! The notification receiver's side: `GET /admin/received-notifications` lists what the
//! webhook endpoint got (newest first, `?paymentRequestId=` to filter) with each verdict, and
//! `POST /admin/receiver/fail-next` makes it answer a failure to the next N notifications,
//! to exercise another sender's retries.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use utoipa::openapi::{Object, ObjectBuilder, Type};

use super::{AdminBody, AdminError, AdminQuery, ErrorBody};
use crate::api::state::AppState;
use crate::protocol::{ResultStatus, WireResult};
use crate::store::ReceivedNotification;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/received-notifications", get(list))
        .route("/receiver/fail-next", post(fail_next))
}

/// What to list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub(super) struct Filter {
    /// Only notifications for this payment.
    payment_request_id: Option<String>,
    /// At most this many (default 100, at most 10,000).
    limit: Option<u32>,
}

/// What the notifyPayment receiver got, newest first, with each verdict
#[utoipa::path(
    get,
    path = "/admin/received-notifications",
    operation_id = "listReceivedNotifications",
    params(Filter),
    responses(
        (status = 200, description = "Newest first", body = Vec<ReceivedNotification>),
        (status = 400, body = ErrorBody,
            description = "A parameter breaks a rule; the message names it"),
    ),
)]
pub(super) async fn list(
    State(state): State<AppState>,
    AdminQuery(filter): AdminQuery<Filter>,
) -> Result<Response, AdminError> {
    let limit = filter.limit.unwrap_or(100).min(10_000);
    let received = state
        .store
        .received(filter.payment_request_id.as_deref(), limit)
        .await?;
    Ok(axum::Json(received).into_response())
}

/// `{"count": 2, "resultStatus": "U", "resultCode": "UNKNOWN_EXCEPTION"}`; status and code
/// default to U / UNKNOWN_EXCEPTION, what a handler that wants a retry answers.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FailNext {
    /// How many of the next notifications to fail.
    count: u32,
    /// F or U (default U).
    #[schema(schema_with = f_or_u)]
    result_status: Option<String>,
    /// The code to answer (default UNKNOWN_EXCEPTION).
    #[schema(min_length = 1, max_length = 64)]
    result_code: Option<String>,
    /// The message to answer.
    result_message: Option<String>,
}

/// `resultStatus` of a scripted failure: S is what the receiver answers anyway.
fn f_or_u() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(["F", "U"]))
        .build()
}

/// What the receiver will fail.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct Failing {
    /// How many of the next notifications it answers with the failure.
    fail_next: u32,
}

/// Make the receiver answer a failure to the next N notifications
#[utoipa::path(
    post,
    path = "/admin/receiver/fail-next",
    operation_id = "failNextNotifications",
    request_body(
        content = FailNext,
        example = json!({"count": 2, "resultStatus": "U", "resultCode": "UNKNOWN_EXCEPTION"}),
    ),
    responses(
        (status = 200, description = "Scripted", body = Failing),
        (status = 400, body = ErrorBody,
            description = "The body breaks a rule; the message names the field"),
    ),
)]
pub(super) async fn fail_next(
    State(state): State<AppState>,
    AdminBody(body): AdminBody,
) -> Result<Response, AdminError> {
    let bad = |m: String| AdminError::new(StatusCode::BAD_REQUEST, m);
    let ask: FailNext = serde_json::from_slice(&body).map_err(|e| {
        bad(format!(
            "expected {{\"count\": N, \"resultStatus\": \"F\"|\"U\", \"resultCode\": \"...\"}}: {e}"
        ))
    })?;
    let status = match ask.result_status.as_deref().unwrap_or("U") {
        "F" => ResultStatus::F,
        "U" => ResultStatus::U,
        other => {
            return Err(bad(format!(
                "resultStatus: {other:?} must be F or U (S is what the receiver answers anyway)"
            )));
        }
    };
    let code = ask
        .result_code
        .unwrap_or_else(|| "UNKNOWN_EXCEPTION".into());
    if code.is_empty() || code.chars().count() > 64 {
        return Err(bad("resultCode: 1 to 64 characters".into()));
    }
    let message = ask
        .result_message
        .unwrap_or_else(|| "failure requested through the admin API".into());
    state
        .receiver
        .fail_next(ask.count, WireResult::new(code, status, message));
    Ok(axum::Json(Failing {
        fail_next: state.receiver.pending(),
    })
    .into_response())
}
