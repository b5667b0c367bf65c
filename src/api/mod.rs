//! The HTTP APIs: one file per endpoint, each owning its types, handler and routes; this module
//! only merges them and answers unknown paths.

pub mod admin;
pub mod extract;
pub mod guard;
pub mod inquiry_payment;
pub mod notify_payment;
pub mod notify_push_payment;
pub mod send_payment_result;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, post};
use serde::Serialize;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};

use crate::app::AppState;
use crate::error::ApiError;
use crate::protocol::Endpoint;
use crate::signature::layer::{header_str, seal, signed_path};
use guard::{Guard, guard};

/// Every route, the fallback and the cross-cutting layers.
pub fn router(state: AppState) -> Router {
    let notify_path = state.config.settings.server.notify_payment_path.clone();
    Router::new()
        .merge(guarded(
            &state,
            Endpoint::SendPaymentResult,
            Endpoint::SendPaymentResult.fixed_paths(),
            post(send_payment_result::handle),
        ))
        .merge(guarded(
            &state,
            Endpoint::NotifyPushPayment,
            Endpoint::NotifyPushPayment.fixed_paths(),
            post(notify_push_payment::handle),
        ))
        .merge(guarded(
            &state,
            Endpoint::InquiryPayment,
            Endpoint::InquiryPayment.fixed_paths(),
            post(inquiry_payment::handle),
        ))
        .merge(guarded(
            &state,
            Endpoint::NotifyPayment,
            &[notify_path.as_str()],
            post(notify_payment::handle),
        ))
        // The guard enforces server.body_limit_bytes itself, before any extractor reads.
        .layer(DefaultBodyLimit::disable())
        .nest("/admin", admin::router(state.clone()))
        .route("/healthz", axum::routing::get(healthz))
        .route("/readyz", axum::routing::get(readyz))
        .route("/metrics", axum::routing::get(metrics))
        .route("/openapi.json", axum::routing::get(crate::openapi::serve))
        .fallback(no_interface)
        .with_state(state)
        .layer(
            tower::ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(crate::telemetry::trace_layer())
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(axum::middleware::from_fn(refuse_connect)),
        )
}

/// Routes `paths` to `handler` behind the signature guard for `endpoint`.
fn guarded(
    state: &AppState,
    endpoint: Endpoint,
    paths: &[&str],
    handler: MethodRouter<AppState>,
) -> Router<AppState> {
    let guard_state = Guard {
        app: state.clone(),
        endpoint,
    };
    let mut router = Router::new();
    for path in paths {
        router = router.route(path, handler.clone());
    }
    router.route_layer(from_fn_with_state(guard_state, guard))
}

/// NO_INTERFACE_DEF for any path no API is served at; signed when the caller sent a Client-Id.
async fn no_interface(State(state): State<AppState>, request: Request) -> Response {
    let client_id = header_str(request.headers(), "client-id").map(str::to_owned);
    let started = std::time::Instant::now();
    let path = signed_path(request.uri());
    let response = ApiError::NoInterface(request.uri().path().to_owned()).into_response();
    let (response, sent) = seal(&state, &path, client_id.as_deref(), response).await;
    guard::record_unrouted(&state, &path, client_id, &response, &sent, started);
    response
}

/// A JSON answer with HTTP 200 and the content type the SDKs expect.
pub fn reply<T: Serialize>(body: &T) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|e| {
        tracing::error!(error = %e, "response serialisation failed");
        br#"{"result":{"resultCode":"UNKNOWN_EXCEPTION","resultMessage":"API failed due to unknown reason.","resultStatus":"U"}}"#.to_vec()
    });
    let mut response = bytes.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=UTF-8"),
    );
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
