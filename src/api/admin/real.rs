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
use serde::{Deserialize, Serialize};

use super::{AdminBody, AdminError, AdminQuery, ErrorBody};
use crate::api::state::AppState;
use crate::config::{Mode, RouteSettings, parse_routes};
use crate::real::drift::Compared;
use crate::real::modes::{ShownRoute, Table};
use crate::store::{Recording, RecordingFilter};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/recordings", get(recordings))
        .route("/real/modes", get(modes).put(set_modes))
        .route("/drift", get(drift))
}

/// The drift report: each recording compared with the mock's answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct Drift {
    /// How many recordings drift.
    drifting: usize,
    /// One entry per recording compared.
    compared: Vec<Compared>,
    /// Recordings left out, with why.
    skipped: Vec<String>,
}

/// The most recordings `GET /admin/drift` compares in one request, and how many it compares
/// when no limit is given.
const DRIFT_MAX: u32 = 1_000;

/// Real mode: the stored recordings sent to this gateway's mock, compared field by field
///
/// Each answer is compared with the recorded real one; only recordings whose upstream answer
/// was accepted are sent.
#[utoipa::path(
    get,
    path = "/admin/drift",
    operation_id = "driftReport",
    params(
        ("api" = Option<String>, Query, description = "Only this API"),
        ("clientId" = Option<String>, Query, description = "Only this caller"),
        ("matchKey" = Option<String>, Query,
            description = "Only this match key (`paymentRequestId=...`)"),
        ("limit" = Option<u32>, Query,
            description = "At most this many, newest first (default and most: 1000)"),
    ),
    responses(
        (status = 200, description = "The report", body = Drift),
        (status = 400, body = ErrorBody,
            description = "A parameter breaks a rule; the message names it"),
    ),
)]
pub(super) async fn drift(
    State(state): State<AppState>,
    AdminQuery(filter): AdminQuery<RecordingFilter>,
) -> Result<Response, AdminError> {
    // Each recording is run through the mock and signed inside this request: bounded, so one
    // call cannot hold the gateway for minutes. The command line's `drift` has no such bound.
    if let Some(limit) = filter.limit.filter(|l| *l > DRIFT_MAX) {
        return Err(AdminError::new(
            StatusCode::BAD_REQUEST,
            format!(
                "limit: {limit} is more than the {DRIFT_MAX} recordings one request compares; \
                 run `alipay-gateway drift` over an export for more"
            ),
        ));
    }
    let filter = RecordingFilter {
        verdict: crate::domain::recording::VALID.to_owned(),
        limit: Some(filter.limit.unwrap_or(DRIFT_MAX)),
        ..filter
    };
    let mut recordings = state.store.recordings(&filter).await?;
    // Oldest first: a push recorded before an inquiry sets up what the inquiry reads.
    recordings.reverse();
    let report = crate::api::drift::run(state.config.as_ref().clone(), &recordings)
        .await
        .map_err(|e| AdminError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(axum::Json(Drift {
        drifting: report.drifting(),
        compared: report.compared,
        skipped: report.skipped,
    })
    .into_response())
}

/// Real mode: the forwarded requests and the upstream's answers, newest first
///
/// Signature values are left out.
#[utoipa::path(
    get,
    path = "/admin/recordings",
    operation_id = "listRecordings",
    params(RecordingFilter),
    responses(
        (status = 200, description = "Newest first", body = Vec<Recording>),
        (status = 400, body = ErrorBody,
            description = "A parameter breaks a rule; the message names it"),
    ),
)]
pub(super) async fn recordings(
    State(state): State<AppState>,
    AdminQuery(filter): AdminQuery<RecordingFilter>,
) -> Result<Response, AdminError> {
    Ok(axum::Json(state.store.recordings(&filter).await?).into_response())
}

/// The modes in force.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct Modes {
    /// The mode of every API and client no route names.
    mode: Mode,
    /// The routes, as in `[[real.routes]]`.
    routes: Vec<ShownRoute>,
    /// The upstream forwarded to, if any.
    upstream: Option<String>,
}

fn shown(state: &AppState) -> Result<Response, AdminError> {
    let real = state.real.as_ref().ok_or_else(not_configured)?;
    let (mode, routes) = real.modes.shown();
    Ok(axum::Json(Modes {
        mode,
        routes,
        upstream: real.forwarder.as_ref().map(|f| f.name().to_owned()),
    })
    .into_response())
}

/// Real mode: the modes in force, per API and client
#[utoipa::path(
    get,
    path = "/admin/real/modes",
    operation_id = "readModes",
    responses(
        (status = 200, description = "The modes in force", body = Modes),
        (status = 409, description = "Real mode is not configured", body = ErrorBody),
    ),
)]
pub(super) async fn modes(State(state): State<AppState>) -> Result<Response, AdminError> {
    shown(&state)
}

/// The body of `PUT /admin/real/modes`, written as in `[real]`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ModesBody {
    /// The mode of every API and client no route names.
    #[schema(value_type = Mode)]
    mode: String,
    /// Modes per API, and optionally per client.
    #[serde(default)]
    routes: Vec<RouteSettings>,
}

/// Real mode: replace the modes in force, written as in [real]
#[utoipa::path(
    put,
    path = "/admin/real/modes",
    operation_id = "setModes",
    request_body(
        content = ModesBody,
        example = json!({
            "mode": "mock",
            "routes": [{"api": "inquiryPayment", "mode": "replay-or-proxy"}]
        }),
    ),
    responses(
        (status = 200, description = "The modes now in force", body = Modes),
        (status = 400, body = ErrorBody,
            description = "The body breaks a rule; the message names the field"),
        (status = 409, body = ErrorBody,
            description = "Real mode is not configured, or a mode forwards with no upstream"),
    ),
)]
pub(super) async fn set_modes(
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
