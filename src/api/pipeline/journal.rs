//! The outermost layer: what every other layer needs to know of the request, and on the way
//! back the request's metrics and journal entry.

use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

use super::admission::{Admission, echoable_client_id};
use super::seal::Sent;
use super::{Route, header_str, signed_path};
use crate::api::answer::Answered;
use crate::api::state::AppState;
use crate::journal::{Direction, Entry, Note};
use crate::scenario::{self, Applied, Fault};
use crate::telemetry;

/// A request extension: the request as every layer sees it.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// The path as signed.
    pub path: String,
    /// The Client-Id as the answer may echo it (an over-long one is never echoed nor kept).
    pub client_id: Option<String>,
    /// The `Gateway-Scenario` header, when sent and allowed.
    pub scenario_header: Option<String>,
    /// Whether a `Gateway-Scenario` header was sent and ignored (`scenario.allow_header`).
    pub scenario_header_ignored: bool,
}

/// Layer 1: begins the exchange, and records it once answered.
pub async fn layer(State(route): State<Route>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let at_ms = chrono::Utc::now().timestamp_millis();
    let exchange = begin(&route.app, &request);
    request.extensions_mut().insert(exchange.clone());
    let response = next.run(request).await;
    record(
        &route.app,
        route.endpoint.name(),
        &exchange,
        started,
        at_ms,
        &response,
    );
    response
}

/// What the layers below need to know of a request before it is read.
pub fn begin(app: &AppState, request: &Request) -> Exchange {
    let header = header_str(request.headers(), scenario::HEADER).map(str::to_owned);
    // A shared deployment turns the header off: it is not signed, so anyone could send it.
    let ignored = header.is_some() && !app.config.settings.scenario.allow_header;
    Exchange {
        path: signed_path(request.uri()),
        client_id: echoable_client_id(request.headers()),
        scenario_header: header.filter(|_| !ignored),
        scenario_header_ignored: ignored,
    }
}

/// Counts the request in the metrics and adds it, with its answer, to the journal. `label` is
/// the API's name, or `unknown` for a path no API is served at.
pub fn record(
    app: &AppState,
    label: &str,
    exchange: &Exchange,
    started: Instant,
    at_ms: i64,
    response: &Response,
) {
    let extensions = response.extensions();
    // A body cut off mid-JSON carries no result the caller could read.
    let cut_off = extensions
        .get::<Applied>()
        .is_some_and(|a| a.outcome.fault == Some(Fault::MalformedJson));
    let result = extensions
        .get::<Answered>()
        .filter(|_| !cut_off)
        .map(|a| &a.0);
    let code = result.map(|r| r.result_code.clone());
    let status = result.map(|r| r.result_status.as_str().to_owned());
    let seconds = started.elapsed().as_secs_f64();
    telemetry::record_request(
        label,
        code.as_deref().unwrap_or("NONE"),
        status.as_deref().unwrap_or("NONE"),
        seconds,
    );
    let journal = &app.journal;
    if !journal.enabled() {
        return;
    }
    let admission = extensions.get::<Admission>();
    let mut note = extensions.get::<Note>().map(|n| n.0.clone());
    if exchange.scenario_header_ignored {
        let ignored = "the Gateway-Scenario header was ignored (scenario.allow_header = false)";
        note = Some(match note {
            Some(note) => format!("{note}; {ignored}"),
            None => ignored.to_owned(),
        });
    }
    let empty = Bytes::new();
    let sent = extensions.get::<Sent>().map_or(&empty, |s| &s.0);
    journal.record(Entry {
        seq: 0,
        at_ms,
        direction: Direction::Inbound,
        endpoint: label.to_owned(),
        target: exchange.path.clone(),
        client_id: exchange.client_id.clone(),
        payment_ids: Vec::new(),
        verdict: admission.map_or_else(|| "not checked".to_owned(), |a| a.verdict.clone()),
        string_to_sign: admission.and_then(|a| a.string_to_sign.clone()),
        request_body: journal.clip(admission.map_or(&empty, |a| &a.body)),
        response_body: journal.clip(sent),
        http_status: Some(response.status().as_u16()),
        result_code: code,
        result_status: status,
        latency_ms: seconds * 1000.0,
        rule: extensions.get::<Applied>().map(|a| a.source.clone()),
        note,
    });
}
