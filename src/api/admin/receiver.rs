//! The notification receiver's side: `GET /admin/received-notifications` lists what the
//! webhook endpoint got (newest first, `?paymentRequestId=` to filter) with each verdict, and
//! `POST /admin/receiver/fail-next` makes it answer a failure to the next N notifications,
//! to exercise another sender's retries.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use super::{AdminBody, AdminError, AdminQuery};
use crate::api::state::AppState;
use crate::protocol::{ResultStatus, WireResult};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/received-notifications", get(list))
        .route("/receiver/fail-next", post(fail_next))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Filter {
    payment_request_id: Option<String>,
    limit: Option<u32>,
}

async fn list(
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
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FailNext {
    count: u32,
    result_status: Option<String>,
    result_code: Option<String>,
    result_message: Option<String>,
}

async fn fail_next(
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
    Ok(axum::Json(json!({ "failNext": state.receiver.pending() })).into_response())
}
