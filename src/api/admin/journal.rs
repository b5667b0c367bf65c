//! The journal: `GET /admin/journal` lists entries newest first, `GET /admin/journal/count`
//! counts them (so a CI step can assert "exactly one notifyPushPayment with SUCCESS"),
//! `DELETE /admin/journal` clears it. Filters: `endpoint`, `clientId`, `paymentId`,
//! `resultCode`, `direction` (inbound | outbound | upstream), `verdict` (valid | refused: a
//! signature or an acknowledgement refused), `limit`.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;

use super::{AdminQuery, ErrorBody};
use crate::api::state::AppState;
use crate::journal::{Entry, Filter};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/journal", get(list).delete(clear))
        .route("/journal/count", get(count))
}

/// Journal entries, newest first
#[utoipa::path(
    get,
    path = "/admin/journal",
    operation_id = "listJournal",
    params(Filter),
    responses(
        (status = 200, description = "Newest first", body = Vec<Entry>),
        (status = 400, body = ErrorBody,
            description = "A parameter breaks a rule; the message names it"),
    ),
)]
pub(super) async fn list(
    State(state): State<AppState>,
    AdminQuery(filter): AdminQuery<Filter>,
) -> Response {
    axum::Json(state.journal.list(&filter)).into_response()
}

/// How many entries match.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct Count {
    /// The number of matching entries.
    count: usize,
}

/// Count journal entries
#[utoipa::path(
    get,
    path = "/admin/journal/count",
    operation_id = "countJournal",
    params(Filter),
    responses(
        (status = 200, description = "The count", body = Count),
        (status = 400, body = ErrorBody,
            description = "A parameter breaks a rule; the message names it"),
    ),
)]
pub(super) async fn count(
    State(state): State<AppState>,
    AdminQuery(filter): AdminQuery<Filter>,
) -> Response {
    axum::Json(Count {
        count: state.journal.count(&filter),
    })
    .into_response()
}

/// Clear the journal
#[utoipa::path(
    delete,
    path = "/admin/journal",
    operation_id = "clearJournal",
    responses((status = 204, description = "Cleared")),
)]
pub(super) async fn clear(State(state): State<AppState>) -> Response {
    state.journal.clear();
    StatusCode::NO_CONTENT.into_response()
}
