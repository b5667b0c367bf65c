//! The notifications the gateway sends, and the clock of their schedule:
//! `GET /admin/payments/{paymentRequestId}/notifications` lists them with every attempt (or,
//! for a final payment that queued none, one `NOT_QUEUED` entry saying why),
//! `POST /admin/notifications/{id}/redeliver` makes the next attempt now,
//! `POST /admin/notifications/{id}/cancel` stops a pending one, and `POST /admin/clock/advance`
//! moves the schedule ahead (`{"seconds": 3600}` or `{"by": "1h"}`).

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::{AdminBody, AdminError, AdminPath, ErrorBody};
use crate::api::state::AppState;
use crate::notify::schedule::parse_interval;
use crate::store::{Attempt, CancelOutcome, Notification, NotificationStatus};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/payments/{payment_request_id}/notifications", get(list))
        .route("/notifications/{id}/redeliver", post(redeliver))
        .route("/notifications/{id}/cancel", post(cancel))
        .route("/clock/advance", post(advance))
}

/// A notification with its attempts, as the admin API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct NotificationView {
    /// Stable across attempts.
    id: String,
    /// The payment it reports.
    payment_request_id: String,
    /// The merchant's Client-Id.
    client_id: String,
    /// Where it goes.
    url: String,
    status: NotificationStatus,
    /// Attempts made so far.
    attempts_made: u32,
    /// When the next attempt is due (epoch ms), while pending.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_due_ms: Option<i64>,
    /// The notification body as sent.
    body: serde_json::Value,
    /// Every attempt, oldest first.
    attempts: Vec<AttemptView>,
}

/// The one entry the listing has for a final payment that queued no notification.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct NotQueued {
    /// The payment.
    payment_request_id: String,
    status: NotQueuedStatus,
    /// Why no notification was queued.
    not_queued: String,
}

/// The status of a [`NotQueued`] entry.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum NotQueuedStatus {
    /// No notification was queued.
    NotQueued,
}

/// An entry of a payment's notification listing.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
enum Listed {
    /// A notification queued.
    Notification(NotificationView),
    /// None was queued, and why.
    NotQueued(NotQueued),
}

/// An attempt, with its place in the schedule.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct AttemptView {
    #[serde(flatten)]
    attempt: Attempt,
    /// The attempt's offset in the page's schedule, in schedule time: 0, 120, 720, ... seconds.
    schedule_offset_seconds: u64,
}

fn view(state: &AppState, n: Notification, attempts: Vec<Attempt>) -> NotificationView {
    NotificationView {
        next_due_ms: (n.status == NotificationStatus::Pending).then_some(n.next_due_ms),
        body: serde_json::from_str(&n.body).unwrap_or(serde_json::Value::String(n.body.clone())),
        attempts: attempts
            .into_iter()
            .map(|a| AttemptView {
                schedule_offset_seconds: state.config.schedule.offset(a.number).as_secs(),
                attempt: a,
            })
            .collect(),
        id: n.id,
        payment_request_id: n.payment_request_id,
        client_id: n.client_id,
        url: n.url,
        status: n.status,
        attempts_made: n.attempts_made,
    }
}

/// The notifications of a payment, with every attempt
///
/// For a final payment that queued none, one NOT_QUEUED entry saying why.
#[utoipa::path(
    get,
    path = "/admin/payments/{paymentRequestId}/notifications",
    operation_id = "listNotifications",
    params(("paymentRequestId" = String, Path)),
    responses(
        (status = 200, body = Vec<Listed>,
            description = "The notifications, or the one NOT_QUEUED entry",
            links(
                ("redeliverNotification" = (operation_id = "redeliverNotification",
                    parameters(("id" = "$response.body#/0/id")))),
                ("cancelNotification" = (operation_id = "cancelNotification",
                    parameters(("id" = "$response.body#/0/id")))),
            )),
    ),
)]
pub(super) async fn list(
    State(state): State<AppState>,
    AdminPath(id): AdminPath,
) -> Result<Response, AdminError> {
    let found = state.store.notifications_for(&id).await?;
    if found.is_empty()
        && let Some(payment) = state.store.payment(&id).await?
        && let Some(reason) = super::payments::not_queued_reason(&state, &payment)
    {
        // A final payment that went nowhere: one entry saying why, where the user looks first.
        return Ok(axum::Json([Listed::NotQueued(NotQueued {
            payment_request_id: id,
            status: NotQueuedStatus::NotQueued,
            not_queued: reason,
        })])
        .into_response());
    }
    let views: Vec<Listed> = found
        .into_iter()
        .map(|(n, a)| Listed::Notification(view(&state, n, a)))
        .collect();
    Ok(axum::Json(views).into_response())
}

/// Make a notification's next attempt now
#[utoipa::path(
    post,
    path = "/admin/notifications/{id}/redeliver",
    operation_id = "redeliverNotification",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "Due now", body = NotificationView),
        (status = 404, description = "No such notification", body = ErrorBody),
    ),
)]
pub(super) async fn redeliver(
    State(state): State<AppState>,
    AdminPath(id): AdminPath,
) -> Result<Response, AdminError> {
    match state
        .store
        .redeliver(&id, Utc::now().timestamp_millis())
        .await?
    {
        Some(n) => Ok(axum::Json(view(&state, n, Vec::new())).into_response()),
        None => Err(AdminError::new(
            StatusCode::NOT_FOUND,
            format!("no notification {id}"),
        )),
    }
}

/// Stop a pending notification
#[utoipa::path(
    post,
    path = "/admin/notifications/{id}/cancel",
    operation_id = "cancelNotification",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "Cancelled", body = NotificationView),
        (status = 404, description = "No such notification", body = ErrorBody),
        (status = 409, description = "It is not pending", body = ErrorBody),
    ),
)]
pub(super) async fn cancel(
    State(state): State<AppState>,
    AdminPath(id): AdminPath,
) -> Result<Response, AdminError> {
    match state.store.cancel(&id).await? {
        CancelOutcome::Cancelled(n) => Ok(axum::Json(view(&state, n, Vec::new())).into_response()),
        CancelOutcome::NotPending(n) => Err(AdminError::new(
            StatusCode::CONFLICT,
            format!("notification {id} is {}, not pending", n.status.as_str()),
        )),
        CancelOutcome::Unknown => Err(AdminError::new(
            StatusCode::NOT_FOUND,
            format!("no notification {id}"),
        )),
    }
}

/// How far to move the schedule: `{"seconds": 3600}` or `{"by": "1h"}`, exactly one of them.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct Advance {
    /// Seconds of schedule time.
    seconds: Option<u64>,
    /// A duration such as 90s, 2m, 1h 30m.
    #[schema(pattern = "^0$|^([0-9]+ ?(ms|s|sec|m|min|h|hr|hours?|d|days?|w|weeks?) ?)+$")]
    by: Option<String>,
}

/// What moving the clock did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct Advanced {
    /// How far the schedule moved.
    advanced_seconds: f64,
    /// How many pending notifications came due sooner.
    pending_moved: u64,
}

/// Move the notification schedule ahead
#[utoipa::path(
    post,
    path = "/admin/clock/advance",
    operation_id = "advanceClock",
    request_body(content = Advance, example = json!({"by": "1h"})),
    responses(
        (status = 200, description = "Moved", body = Advanced),
        (status = 400, body = ErrorBody,
            description = "Not exactly one of seconds and by, or more than a year"),
    ),
)]
pub(super) async fn advance(
    State(state): State<AppState>,
    AdminBody(body): AdminBody,
) -> Result<Response, AdminError> {
    let bad = |m: String| AdminError::new(StatusCode::BAD_REQUEST, m);
    let advance: Advance = serde_json::from_slice(&body).map_err(|e| {
        bad(format!(
            "expected {{\"seconds\": N}} or {{\"by\": \"1h\"}}: {e}"
        ))
    })?;
    let by = match (advance.seconds, advance.by) {
        (Some(s), None) => Duration::from_secs(s),
        (None, Some(text)) => parse_interval(&text).map_err(|e| bad(format!("by: {e}")))?,
        _ => return Err(bad("give exactly one of seconds and by".into())),
    };
    // A year is more than any schedule needs; beyond it the arithmetic would only overflow.
    if by > Duration::from_secs(366 * 24 * 3600) {
        return Err(bad("the clock moves at most a year at a time".into()));
    }
    let shift = state.config.schedule.scaled_ms(by);
    let moved = state.store.advance_schedule(shift).await?;
    Ok(axum::Json(Advanced {
        advanced_seconds: by.as_secs_f64(),
        pending_moved: moved,
    })
    .into_response())
}
