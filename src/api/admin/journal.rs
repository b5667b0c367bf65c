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
use serde_json::json;

use super::AdminQuery;
use crate::api::state::AppState;
use crate::journal::Filter;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/journal", get(list).delete(clear))
        .route("/journal/count", get(count))
}

async fn list(State(state): State<AppState>, AdminQuery(filter): AdminQuery<Filter>) -> Response {
    axum::Json(state.journal.list(&filter)).into_response()
}

async fn count(State(state): State<AppState>, AdminQuery(filter): AdminQuery<Filter>) -> Response {
    axum::Json(json!({ "count": state.journal.count(&filter) })).into_response()
}

async fn clear(State(state): State<AppState>) -> Response {
    state.journal.clear();
    StatusCode::NO_CONTENT.into_response()
}
