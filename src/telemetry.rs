//! One tracing set-up for the process and one span per request, and the Prometheus metrics.
//! Keys, signatures and bodies are never logged at info; the verified string appears only at
//! debug, on a failure.

use std::sync::OnceLock;

use axum::http::Request;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tower_http::classify::{ServerErrorsAsFailures, SharedClassifier};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber: `RUST_LOG`-style filter from `GATEWAY_LOG` (default
/// `info`), human-readable or JSON lines.
pub fn init(json: bool) {
    let filter = EnvFilter::try_from_env("GATEWAY_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    let _ = if json {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.try_init()
    };
}

/// The request span: method, path, request id and Client-Id; a line per response at debug.
pub fn trace_layer() -> TraceLayer<
    SharedClassifier<ServerErrorsAsFailures>,
    impl Fn(&Request<axum::body::Body>) -> tracing::Span + Clone,
> {
    TraceLayer::new_for_http()
        .make_span_with(|request: &Request<axum::body::Body>| {
            let header = |name: &str| {
                request
                    .headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned()
            };
            tracing::info_span!(
                "request",
                method = %request.method(),
                path = %request.uri().path(),
                request_id = %header("x-request-id"),
                client_id = %header("client-id"),
            )
        })
        .on_response(DefaultOnResponse::new().level(Level::DEBUG))
}

/// The Prometheus recorder, installed once per process (tests run many gateways in one).
pub fn prometheus() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Suffix("duration_seconds".into()),
                &[
                    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                    10.0,
                ],
            )
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        // Another recorder may already be installed (an embedding application's); then this
        // handle only renders what it saw, which is nothing. The gateway's own binary installs it.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// An API answer: counted by API, result code and status; timed by API.
pub fn record_request(endpoint: &str, result_code: &str, result_status: &str, seconds: f64) {
    metrics::counter!(
        "gateway_requests_total",
        "endpoint" => endpoint.to_owned(),
        "result_code" => result_code.to_owned(),
        "result_status" => result_status.to_owned()
    )
    .increment(1);
    metrics::histogram!("gateway_request_duration_seconds", "endpoint" => endpoint.to_owned())
        .record(seconds);
}

/// A request refused at authentication, by reason (wrong_key, content_changed, ...).
pub fn record_auth_failure(reason: &'static str) {
    metrics::counter!("gateway_signature_failures_total", "reason" => reason).increment(1);
}

/// A notification attempt, by outcome: delivered, retry, exhausted.
pub fn record_attempt(outcome: &'static str, seconds: f64) {
    metrics::counter!("gateway_notification_attempts_total", "outcome" => outcome).increment(1);
    metrics::histogram!("gateway_notification_attempt_duration_seconds").record(seconds);
}

/// A SQLite group commit: how many writes one transaction carried.
pub fn record_write_batch(writes: usize) {
    metrics::histogram!("gateway_store_writes_per_commit").record(writes as f64);
}

/// Notifications waiting for an attempt.
pub fn set_queue_depth(pending: u64) {
    metrics::gauge!("gateway_notification_queue_depth").set(pending as f64);
}
