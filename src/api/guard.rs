//! The pipeline every API request runs through: admission (signature and the rest), the
//! client's rate limit, the scenario (header, rule or convention), the handler, the scenario's
//! latency and fault, the signature on the answer, and a journal entry.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body::Frame;

use crate::app::AppState;
use crate::error::ApiError;
use crate::journal::{Direction, Entry, Note};
use crate::protocol::{Endpoint, ResultCode};
use crate::scenario::{self, Applied, Fault, Outcome};
use crate::signature::layer::{
    Admitted, Rejection, Unsigned, admit, echoable_client_id, header_str, seal, signed_path,
};
use crate::telemetry;

/// The guard's state: the app and the API the route serves.
#[derive(Clone)]
pub struct Guard {
    /// Shared application state.
    pub app: AppState,
    /// The API behind this route.
    pub endpoint: Endpoint,
}

/// What a scenario forces an inquiryPayment to answer in `paymentResult`; the handler reads it.
#[derive(Debug, Clone, Copy)]
pub struct ForcedPaymentResult(pub &'static crate::protocol::codes::Code);

/// What the journal needs to know about a request besides its answer.
struct Trace {
    started: Instant,
    at_ms: i64,
    body: Bytes,
    verdict: String,
    string_to_sign: Option<String>,
    rule: Option<String>,
    note: Option<String>,
}

/// Middleware: the whole pipeline of one API request.
pub async fn guard(State(guard): State<Guard>, request: Request, next: Next) -> Response {
    let app = &guard.app;
    let path = signed_path(request.uri());
    // An over-long Client-Id is refused by admission; it is never echoed nor kept.
    let client_id = echoable_client_id(request.headers());
    let scenario_header = header_str(request.headers(), scenario::HEADER).map(str::to_owned);
    // A shared deployment turns the header off: it is not signed, so anyone could send it.
    let header_ignored = scenario_header.is_some() && !app.config.settings.scenario.allow_header;
    let scenario_header = scenario_header.filter(|_| !header_ignored);
    let mut trace = Trace {
        started: Instant::now(),
        at_ms: chrono::Utc::now().timestamp_millis(),
        body: Bytes::new(),
        verdict: "valid".into(),
        string_to_sign: None,
        rule: None,
        note: None,
    };
    let mut outcome = Outcome::default();
    // Held until the answer is sealed; none free means the gateway is at its limit, and a
    // retryable answer now beats a queue without end.
    let permit = app.in_flight.clone().try_acquire_owned();
    let admitted = match &permit {
        Ok(_) => admit(app, guard.endpoint, request).await,
        Err(_) => Err(Rejection::from(ApiError::Business {
            code: ResultCode::RequestTrafficExceedLimit,
            message: format!(
                "the gateway is handling {} requests at once, its limit (server.max_in_flight); retry",
                app.config.settings.server.max_in_flight
            ),
        })),
    };
    let mut replay_key = None;
    let mut response = match admitted {
        Ok(admitted) => {
            trace.body = admitted.body.clone();
            replay_key = admitted.replay_key;
            handle(
                &guard,
                admitted,
                scenario_header.as_deref(),
                &mut outcome,
                &mut trace,
                next,
            )
            .await
        }
        Err(Rejection {
            error,
            body,
            string_to_sign,
        }) => {
            if let Some(reason) = error.auth_failure() {
                telemetry::record_auth_failure(reason);
            }
            trace.verdict = error.to_string();
            trace.string_to_sign = string_to_sign;
            // A refused notification is kept in the bounded journal only: nothing a caller
            // could not sign reaches the store.
            trace.body = body.unwrap_or_default();
            let mut response = error.into_response();
            if permit.is_err() {
                // Turned away before its signature was checked, at the moment CPU is scarcest:
                // no RSA signature is spent on it.
                response.extensions_mut().insert(Unsigned);
            }
            response
        }
    };
    if let Some(latency) = &outcome.latency {
        tokio::time::sleep(app.scenarios.sample(latency)).await;
    }
    trace.note = response.extensions_mut().remove::<Note>().map(|n| n.0);
    if header_ignored {
        let ignored = "the Gateway-Scenario header was ignored (scenario.allow_header = false)";
        trace.note = Some(match trace.note.take() {
            Some(note) => format!("{note}; {ignored}"),
            None => ignored.to_owned(),
        });
    }
    let response = break_before_signing(response, outcome.fault).await;
    let (response, sent) = seal(app, &path, client_id.as_deref(), response).await;
    let response = break_after_signing(response, outcome.fault);
    // A retryable answer invites the same request again.
    if let (Some(seen), Some(key)) = (&app.seen_signatures, replay_key)
        && result_of(&sent).1.as_deref() == Some("U")
    {
        seen.forget(key);
    }
    record(
        app,
        guard.endpoint.name(),
        &path,
        client_id,
        trace,
        &response,
        &sent,
    );
    response
}

/// After admission: the rate limit, then the scenario, then (unless the scenario answers) the
/// handler.
async fn handle(
    guard: &Guard,
    admitted: Admitted,
    header: Option<&str>,
    outcome: &mut Outcome,
    trace: &mut Trace,
    next: Next,
) -> Response {
    let Admitted {
        mut request,
        body,
        client,
        ..
    } = admitted;
    if !client.within_rate_limit() {
        return ApiError::Business {
            code: ResultCode::RequestTrafficExceedLimit,
            message: format!("Client-Id {} exceeded its rate limit", client.id),
        }
        .into_response();
    }
    match scenario_for(guard, &client.id, &body, header) {
        Err(message) => return ApiError::Param(message).into_response(),
        Ok(None) => {}
        Ok(Some(Applied { outcome: o, source })) => {
            trace.rule = Some(source);
            *outcome = o;
            if let Some(result) = outcome
                .result
                .clone()
                .filter(|r| r.result_code != "SUCCESS")
            {
                let mut response = super::reply(&serde_json::json!({ "result": result }));
                if matches!(
                    result.result_code.as_str(),
                    "INVALID_SIGNATURE" | "INVALID_CLIENT" | "KEY_NOT_FOUND"
                ) {
                    response.extensions_mut().insert(Unsigned);
                }
                return response;
            }
            if let Some(code) = outcome.payment_result {
                request.extensions_mut().insert(ForcedPaymentResult(code));
            }
        }
    }
    next.run(request).await
}

/// The scenario for a request; the body is parsed only when something could match it.
fn scenario_for(
    guard: &Guard,
    client_id: &str,
    body: &[u8],
    header: Option<&str>,
) -> Result<Option<Applied>, String> {
    let scenarios = &guard.app.scenarios;
    let may_match = header.is_some()
        || scenarios.has_rules_for(guard.endpoint)
        || body.windows(2).any(|w| w == b"__");
    if !may_match {
        return Ok(None);
    }
    let value = serde_json::from_slice(body).unwrap_or(serde_json::Value::Null);
    scenarios.evaluate(guard.endpoint, client_id, &value, header)
}

/// Faults that change what is signed: a 500, or a body cut off mid-JSON.
async fn break_before_signing(response: Response, fault: Option<Fault>) -> Response {
    match fault {
        Some(Fault::Http500) => {
            let (mut parts, body) = response.into_parts();
            parts.status = StatusCode::INTERNAL_SERVER_ERROR;
            Response::from_parts(parts, body)
        }
        Some(Fault::MalformedJson) => {
            let (mut parts, body) = response.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX)
                .await
                .unwrap_or_default();
            parts.headers.remove(header::CONTENT_LENGTH);
            Response::from_parts(parts, Body::from(bytes.slice(..bytes.len() / 2)))
        }
        _ => response,
    }
}

/// Faults on the sealed answer: no signature at all, a signature that does not verify, or a
/// connection that closes mid-answer.
fn break_after_signing(mut response: Response, fault: Option<Fault>) -> Response {
    match fault {
        Some(Fault::Unsigned) => {
            for name in ["signature", "response-time", "client-id"] {
                response.headers_mut().remove(name);
            }
        }
        Some(Fault::BadSignature) => {
            if let Some(value) = response
                .headers()
                .get("signature")
                .and_then(|v| v.to_str().ok())
            {
                // Flip the first character of the signature itself: still base64, never valid.
                let broken = match value.split_once("signature=") {
                    Some((head, sig)) if !sig.is_empty() => {
                        let first = if sig.starts_with('A') { 'B' } else { 'A' };
                        format!("{head}signature={first}{}", &sig[1..])
                    }
                    _ => value.to_owned(),
                };
                if let Ok(v) = HeaderValue::from_str(&broken) {
                    response.headers_mut().insert("signature", v);
                }
            }
        }
        Some(Fault::DropConnection) => {
            let (mut parts, _) = response.into_parts();
            parts.headers.remove(header::CONTENT_LENGTH);
            return Response::from_parts(parts, Body::new(Dropped));
        }
        _ => {}
    }
    response
}

/// A body that fails at once, so the server abandons the connection mid-answer.
struct Dropped;

impl http_body::Body for Dropped {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Poll::Ready(Some(Err(std::io::Error::other(
            "connection dropped on purpose (scenario fault)",
        ))))
    }
}

/// Counts the request in the metrics and adds it, with its answer, to the journal.
fn record(
    app: &AppState,
    endpoint: &str,
    path: &str,
    client_id: Option<String>,
    trace: Trace,
    response: &Response,
    sent: &Bytes,
) {
    let journal = &app.journal;
    let (code, status) = result_of(sent);
    let seconds = trace.started.elapsed().as_secs_f64();
    telemetry::record_request(
        endpoint,
        code.as_deref().unwrap_or("NONE"),
        status.as_deref().unwrap_or("NONE"),
        seconds,
    );
    if !journal.enabled() {
        return;
    }
    journal.record(Entry {
        seq: 0,
        at_ms: trace.at_ms,
        direction: Direction::Inbound,
        endpoint: endpoint.to_owned(),
        target: path.to_owned(),
        client_id,
        payment_ids: Vec::new(),
        verdict: trace.verdict,
        string_to_sign: trace.string_to_sign,
        request_body: journal.clip(&trace.body),
        response_body: journal.clip(sent),
        http_status: Some(response.status().as_u16()),
        result_code: code,
        result_status: status,
        latency_ms: seconds * 1000.0,
        rule: trace.rule,
        note: trace.note,
    });
}

/// `result.resultCode` and `result.resultStatus` of an answer body.
pub fn result_of(body: &[u8]) -> (Option<String>, Option<String>) {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Envelope {
        result: Option<Inner>,
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Inner {
        result_code: Option<String>,
        result_status: Option<String>,
    }
    match serde_json::from_slice::<Envelope>(body) {
        Ok(Envelope { result: Some(r) }) => (r.result_code, r.result_status),
        _ => (None, None),
    }
}

/// Journals an answer made outside the guard (an unknown path).
pub fn record_unrouted(
    app: &AppState,
    path: &str,
    client_id: Option<String>,
    response: &Response,
    sent: &Bytes,
    started: Instant,
) {
    let trace = Trace {
        started,
        at_ms: chrono::Utc::now().timestamp_millis(),
        body: Bytes::new(),
        verdict: "not checked".into(),
        string_to_sign: None,
        rule: None,
        note: None,
    };
    // Unknown paths share one metrics label: the caller chooses them, without bound.
    record(app, "unknown", path, client_id, trace, response, sent);
}
