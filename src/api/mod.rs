//! The HTTP side: one module per API, each declaring everything about it in one [`Api`]; the
//! request [`pipeline`] they all run behind, stacked here; the admin API; the service routes;
//! and the answer for unknown paths.

pub mod admin;
pub mod answer;
pub mod drift;
pub mod error;
pub mod extract;
pub mod inquiry_payment;
pub mod notify_payment;
pub mod notify_push_payment;
pub mod openapi;
pub mod pipeline;
pub mod send_payment_result;
pub mod state;

use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use serde_json::Value;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};

use crate::protocol::schema::Field;
use crate::protocol::{Direction, Endpoint, Spec};
pub use answer::{reply, reply_result};
use error::ApiError;
use pipeline::{
    Route, admission, faults, forward, in_flight, journal, quota, rate_limit, scenario, seal,
};
use state::AppState;

/// Everything about one API, declared in its module: its wire description, its request's and
/// answer's field rules, its OpenAPI schema names and example, and its handler. Routing, the
/// namespace limits, real mode's forwarding and the OpenAPI document derive from it.
pub struct Api {
    /// Name, paths, result codes, key field, direction, what it writes, summary.
    pub spec: &'static Spec,
    /// The request body's field rules.
    pub request: &'static [Field],
    /// The answer's field rules (the OpenAPI document's response schema is drawn from them).
    pub response: &'static [Field],
    /// The OpenAPI schema names of its request and response bodies.
    pub schemas: (&'static str, &'static str),
    /// A request body the OpenAPI document shows.
    pub example: fn() -> Value,
    /// The handler, as a route.
    pub handler: fn() -> MethodRouter<AppState>,
}

impl Api {
    /// The paths it answers on: its fixed paths, or for notifyPayment the configured one.
    pub fn paths<'a>(&'a self, notify_payment_path: &'a str) -> Vec<&'a str> {
        match self.spec.endpoint {
            Endpoint::NotifyPayment => vec![notify_payment_path],
            _ => self.spec.paths.to_vec(),
        }
    }
}

/// The API that serves `endpoint`: the compiler asks for a module of each new one.
pub const fn api(endpoint: Endpoint) -> &'static Api {
    match endpoint {
        Endpoint::SendPaymentResult => &send_payment_result::API,
        Endpoint::NotifyPushPayment => &notify_push_payment::API,
        Endpoint::InquiryPayment => &inquiry_payment::API,
        Endpoint::NotifyPayment => &notify_payment::API,
    }
}

/// Every API, in page order.
pub fn all() -> impl Iterator<Item = &'static Api> {
    Endpoint::ALL.into_iter().map(api)
}

/// Every route, the fallback and the cross-cutting layers.
pub fn router(state: AppState) -> Router {
    let notify_path = state.config.settings.server.notify_payment_path.clone();
    let mut router = Router::new();
    for api in all() {
        router = router.merge(pipeline(&state, api, &api.paths(&notify_path)));
    }
    router
        // Admission enforces server.body_limit_bytes itself, before any extractor reads.
        .layer(DefaultBodyLimit::disable())
        .nest("/admin", admin::router(state.clone()))
        .route("/healthz", axum::routing::get(healthz))
        .route("/readyz", axum::routing::get(readyz))
        .route("/metrics", axum::routing::get(metrics))
        .fallback(no_interface)
        .with_state(state)
        .layer(
            tower::ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(crate::telemetry::trace_layer())
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(from_fn(refuse_connect)),
        )
}

/// Routes `paths` to `api`'s handler behind the request pipeline, whose order is this: the
/// first layer named is the outermost (see [`pipeline`] for what each does).
fn pipeline(state: &AppState, api: &Api, paths: &[&str]) -> Router<AppState> {
    let route = Route {
        app: state.clone(),
        endpoint: api.spec.endpoint,
    };
    let mut router = Router::new();
    for path in paths {
        router = router.route(path, (api.handler)());
    }
    let served = api.spec.direction == Direction::Served;
    // Real mode takes the handler's place; without it the stack is the mock's alone.
    if state.real.is_some() && served {
        router = router.route_layer(from_fn_with_state(route.clone(), forward::layer));
    }
    // A namespace's limits, checked only where a namespace has them.
    if served
        && state
            .namespace
            .as_ref()
            .is_some_and(|n| n.max_payments.is_some() || n.max_journal_entries.is_some())
    {
        router = router.route_layer(from_fn_with_state(route.clone(), quota::layer));
    }
    let layers = tower::ServiceBuilder::new()
        .layer(from_fn_with_state(route.clone(), journal::layer))
        .layer(from_fn_with_state(route.clone(), in_flight::layer))
        .layer(from_fn(faults::on_sealed))
        .layer(from_fn_with_state(route.clone(), seal::layer))
        .layer(from_fn_with_state(route.clone(), faults::on_answer))
        .layer(from_fn_with_state(route.clone(), admission::layer))
        .layer(from_fn(rate_limit::layer))
        .layer(from_fn_with_state(route, scenario::layer));
    router.route_layer(layers)
}

/// NO_INTERFACE_DEF for any path no API is served at; signed when the caller sent a Client-Id.
async fn no_interface(State(state): State<AppState>, request: Request) -> Response {
    let started = Instant::now();
    let at_ms = chrono::Utc::now().timestamp_millis();
    // Unknown paths share one metrics label: the caller chooses them, without bound.
    let exchange = pipeline::Exchange {
        client_id: pipeline::header_str(request.headers(), "client-id").map(str::to_owned),
        scenario_header_ignored: false,
        ..journal::begin(&state, &request)
    };
    let response = ApiError::NoInterface(request.uri().path().to_owned()).into_response();
    let response = seal::seal(&state, Some(&exchange), response).await;
    journal::record(&state, "unknown", &exchange, started, at_ms, &response);
    response
}

/// CONNECT answered 2xx turns a connection into a tunnel, so it is refused with 405 (and the
/// envelope) before any route sees it.
async fn refuse_connect(request: Request, next: axum::middleware::Next) -> Response {
    if request.method() != axum::http::Method::CONNECT {
        return next.run(request).await;
    }
    let mut response = ApiError::MethodNotSupported("CONNECT".into()).into_response();
    *response.status_mut() = axum::http::StatusCode::METHOD_NOT_ALLOWED;
    response
}

/// `/metrics`: Prometheus text: requests by API and result code, latency histograms, signature
/// failures by reason, notification attempts by outcome, the notification queue's depth.
async fn metrics(State(state): State<AppState>) -> Response {
    if let Ok(pending) = state.store.pending_count().await {
        crate::telemetry::set_queue_depth(pending);
    }
    let mut response = crate::telemetry::prometheus().render().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}

/// `/healthz`: the process answers.
async fn healthz() -> Response {
    axum::Json(serde_json::json!({ "status": "ok" })).into_response()
}

/// `/readyz`: the store answers (its migrations ran at start-up), so requests can be served.
async fn readyz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => {
            axum::Json(serde_json::json!({ "status": "ready", "store": state.store.backend() }))
                .into_response()
        }
        // The store's error text can name hosts, users and paths: it goes to the log only.
        Err(e) => {
            tracing::warn!(error = %e, "readiness check: the store does not answer");
            (
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(
                    serde_json::json!({ "status": "unavailable", "store": state.store.backend() }),
                ),
            )
                .into_response()
        }
    }
}
