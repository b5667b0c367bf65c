//! Real mode's admin routes: `GET /admin/recordings` lists the forwarded pairs (filters `api`,
//! `clientId`, `matchKey`, `verdict`, `limit`; newest first); `GET /admin/real/modes` shows the
//! modes in force and `PUT /admin/real/modes` replaces them at run time, written as in `[real]`
//! (`mode`, `routes`); `GET /admin/drift` runs the drift report over the stored recordings the
//! upstream's answer was accepted for (same filters), against this gateway's own mock.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::json;

use super::{AdminBody, AdminError, AdminQuery};
use crate::api::state::AppState;
use crate::config::{Mode, RouteSettings, parse_routes};
use crate::real::modes::Table;
use crate::store::RecordingFilter;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/recordings", get(recordings))
        .route("/real/modes", get(modes).put(set_modes))
        .route("/drift", get(drift))
}

async fn drift(
    State(state): State<AppState>,
    AdminQuery(filter): AdminQuery<RecordingFilter>,
) -> Result<Response, AdminError> {
    let filter = RecordingFilter {
        verdict: crate::domain::recording::VALID.to_owned(),
        limit: Some(filter.limit.unwrap_or(crate::store::MAX_LISTED)),
        ..filter
    };
    let mut recordings = state.store.recordings(&filter).await?;
    // Oldest first: a push recorded before an inquiry sets up what the inquiry reads.
    recordings.reverse();
    let report = crate::api::drift::run(state.config.as_ref().clone(), &recordings)
        .await
        .map_err(|e| AdminError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(axum::Json(json!({
        "drifting": report.drifting(),
        "compared": report.compared,
        "skipped": report.skipped,
    }))
    .into_response())
}

async fn recordings(
    State(state): State<AppState>,
    AdminQuery(filter): AdminQuery<RecordingFilter>,
) -> Result<Response, AdminError> {
    Ok(axum::Json(state.store.recordings(&filter).await?).into_response())
}

fn shown(state: &AppState) -> Result<Response, AdminError> {
    let real = state.real.as_ref().ok_or_else(not_configured)?;
    let (mode, routes) = real.modes.shown();
    Ok(axum::Json(json!({
        "mode": mode,
        "routes": routes,
        "upstream": real.forwarder.as_ref().map(|f| f.name()),
    }))
    .into_response())
}

async fn modes(State(state): State<AppState>) -> Result<Response, AdminError> {
    shown(&state)
}

/// The body of `PUT /admin/real/modes`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ModesBody {
    mode: String,
    #[serde(default)]
    routes: Vec<RouteSettings>,
}

async fn set_modes(
    State(state): State<AppState>,
    AdminBody(body): AdminBody,
) -> Result<Response, AdminError> {
    let real = state.real.as_ref().ok_or_else(not_configured)?;
    let bad = |m: String| AdminError::new(StatusCode::BAD_REQUEST, m);
    let body: ModesBody = serde_json::from_slice(&body).map_err(|e| bad(e.to_string()))?;
    let default = Mode::parse(&body.mode).map_err(|e| bad(format!("mode: {e}")))?;
    let routes = parse_routes(&body.routes, "routes").map_err(|e| bad(e.to_string()))?;
    let forwards = default.forwards() || routes.iter().any(|r| r.mode.forwards());
    if forwards && real.forwarder.is_none() {
        return Err(AdminError::new(
            StatusCode::CONFLICT,
            "a mode forwards (proxy or replay-or-proxy) but no upstream is configured \
             (real.upstream.base_url)",
        ));
    }
    real.modes.set(Table { default, routes });
    shown(&state)
}

fn not_configured() -> AdminError {
    AdminError::new(
        StatusCode::CONFLICT,
        "real mode is not configured: give [real.upstream] a base_url, a mode other than mock, \
         or a [[real.routes]] entry",
    )
}
