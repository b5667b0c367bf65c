//! Real mode, in the handler's place: for an API and caller whose mode is not `mock`, the
//! request is answered from a recording (replay), or forwarded to the upstream (proxy), its
//! pair recorded in the store and its upstream leg added to the journal. Only stacked when real
//! mode is configured, so the mock path is untouched without it. Admission, sealing and the
//! journal stay as they are: a re-signed answer is sealed with the gateway key like any other;
//! a pass-through answer is handed back untouched ([`Sealing`]).

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::admission::{Caller, ParsedBody};
use super::{Exchange, Route};
use crate::api::answer::Answered;
use crate::api::error::ApiError;
use crate::config::Mode;
use crate::domain::recording::{self, RecordedMessage, Recording};
use crate::journal::{Direction, Entry, Note};
use crate::protocol::{ResultStatus, WireResult};
use crate::real::upstream::recorded_headers;
use crate::real::{Leg, Real, Signing};
use crate::store::RecordingFilter;

/// A response extension: how [`super::seal`] treats an answer of real mode for a pass-through
/// caller, who verifies with the upstream's key, not the gateway's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sealing {
    /// The upstream's answer, headers and bytes as received: not signed again.
    Untouched,
    /// The gateway's own failure answer: it cannot sign as the upstream, so it goes unsigned.
    Unsigned,
}

/// How many recordings with the same key a replay looks through for the same body.
const CANDIDATES: u32 = 50;

/// Answers from the mode in force for this API and caller.
pub async fn layer(State(route): State<Route>, request: Request, next: Next) -> Response {
    let Some(real) = route.app.real.clone() else {
        return next.run(request).await;
    };
    let Some(caller) = request.extensions().get::<Caller>().cloned() else {
        return next.run(request).await;
    };
    let mode = real.modes.mode_for(route.endpoint, &caller.client.id);
    if mode == Mode::Mock && caller.client.pass_through {
        // Its signature is for the upstream and was never checked: the mock must not act on it.
        return failed(
            Signing::PassThrough,
            ApiError::AccessDenied(format!(
                "Client-Id {} is pass-through (its signature is for the upstream), and {} is in \
                 mock mode, which answers only requests the gateway verified",
                caller.client.id,
                route.endpoint.name()
            )),
            None,
        );
    }
    if mode == Mode::Mock {
        return next.run(request).await;
    }
    let signing = if caller.client.pass_through {
        Signing::PassThrough
    } else {
        Signing::ReSign
    };
    let (parts, body) = request.into_parts();
    // Admission put back the bytes it read: this is a copy in memory, never a socket read.
    let body = to_bytes(body, usize::MAX).await.unwrap_or_default();
    let parsed = parts
        .extensions
        .get::<ParsedBody>()
        .and_then(|p| p.0.as_ref().ok())
        .cloned()
        .unwrap_or(Value::Null);
    if matches!(mode, Mode::Replay | Mode::ReplayOrProxy) {
        match replay(&route, &parsed).await {
            Ok(Some(response)) => return response,
            Ok(None) if mode == Mode::Replay => {
                let key = recording::match_key(&parsed);
                let key = if key.is_empty() {
                    "this body (it has no key field)".to_owned()
                } else {
                    key
                };
                return failed(
                    signing,
                    ApiError::Upstream(format!(
                        "replay: no recording of {} matches {key}; record it in proxy or \
                         replay-or-proxy mode, or import one",
                        route.endpoint
                    )),
                    None,
                );
            }
            Ok(None) => {}
            Err(e) => return failed(signing, e, None),
        }
    }
    forward(&route, &real, &caller, parts, body, &parsed, signing, next).await
}

/// The answer of the recording that matches, with its `result`; `None` when none does.
async fn replay(route: &Route, parsed: &Value) -> Result<Option<Response>, ApiError> {
    let filter = RecordingFilter {
        api: route.endpoint.name().to_owned(),
        match_key: recording::match_key(parsed),
        verdict: recording::VALID.to_owned(),
        limit: Some(CANDIDATES),
        ..RecordingFilter::default()
    };
    let candidates = route.app.store.recordings(&filter).await?;
    let Some(found) = recording::choose(parsed, &candidates) else {
        return Ok(None);
    };
    let Some(result) = found
        .answer()
        .and_then(|v| serde_json::from_value::<WireResult>(v.get("result")?.clone()).ok())
    else {
        return Ok(None);
    };
    let mut response = json_answer(Bytes::from(found.response.body.clone()), result);
    response.extensions_mut().insert(Note(format!(
        "replayed recording {} ({} at {})",
        found.id, found.match_key, found.recorded_at_ms
    )));
    Ok(Some(response))
}

/// Forwards, records the pair and the upstream leg, and answers with the upstream's answer.
#[expect(
    clippy::too_many_arguments,
    reason = "the forwarding step takes the request apart once and hands each part on"
)]
async fn forward(
    route: &Route,
    real: &Real,
    caller: &Caller,
    parts: Parts,
    body: Bytes,
    parsed: &Value,
    signing: Signing,
    next: Next,
) -> Response {
    let Some(forwarder) = real.forwarder.as_ref() else {
        return failed(
            signing,
            ApiError::Upstream("no upstream is configured (real.upstream.base_url)".into()),
            None,
        );
    };
    let path = parts
        .extensions
        .get::<Exchange>()
        .map_or_else(|| parts.uri.path().to_owned(), |e| e.path.clone());
    let leg = forwarder
        .send(route.endpoint, signing, &path, &parts.headers, body.clone())
        .await;
    let app = &route.app;
    let recorded = Recording {
        id: 0,
        recorded_at_ms: leg.started_ms,
        api: route.endpoint.name().to_owned(),
        client_id: caller.client.id.clone(),
        signing: signing.name().to_owned(),
        match_key: recording::match_key(parsed),
        request: RecordedMessage {
            url: leg.url.clone(),
            status: None,
            headers: recorded_headers(&leg.request_headers),
            body: String::from_utf8_lossy(&leg.request_body).into_owned(),
        },
        response: RecordedMessage {
            url: String::new(),
            status: leg.status,
            headers: recorded_headers(&leg.response_headers),
            body: String::from_utf8_lossy(&leg.response_body).into_owned(),
        },
        latency_ms: leg.latency_ms,
        verdict: leg.verdict(),
    };
    let recording_id = match app.store.record_exchange(recorded).await {
        Ok(id) => Some(id),
        Err(e) => {
            tracing::warn!(error = %e, "real mode: the recording could not be stored");
            None
        }
    };
    journal_upstream_leg(route, caller, signing, &leg);
    let recorded_as = recording_id.map_or_else(
        || "not recorded (the store failed)".to_owned(),
        |id| format!("recording {id}"),
    );
    let result = match &leg.outcome {
        Ok(result) => result.clone(),
        Err(reason) => {
            tracing::warn!(upstream = forwarder.name(), %reason, "real mode: the upstream failed");
            let note = format!(
                "forwarded to {} ({} ms): {reason}; {recorded_as}",
                leg.url, leg.latency_ms
            );
            return failed(
                signing,
                ApiError::Upstream(format!("upstream {} failed: {reason}", forwarder.name())),
                Some(note),
            );
        }
    };
    let mut note = format!(
        "forwarded to {} ({} ms, {} mode); {recorded_as}",
        leg.url,
        leg.latency_ms,
        signing.name()
    );
    let writes = route.endpoint.spec().writes.any();
    if real.update_store && writes && result.result_status == ResultStatus::S {
        // The mock handler makes the same write a mock call would; its answer is not sent.
        let mock = next.run(Request::from_parts(parts, Body::from(body))).await;
        if let Some(Answered(mocked)) = mock.extensions().get::<Answered>() {
            note.push_str(&format!(
                "; store updated (the mock answers {}/{})",
                mocked.result_status.as_str(),
                mocked.result_code
            ));
        }
    }
    let mut response = json_answer(leg.response_body.clone(), result);
    if signing == Signing::PassThrough {
        let headers = response.headers_mut();
        for name in ["client-id", "response-time", "signature", "content-type"] {
            if let Some(value) = leg.response_headers.get(name) {
                headers.insert(name, value.clone());
            }
        }
        response.extensions_mut().insert(Sealing::Untouched);
    }
    response.extensions_mut().insert(Note(note));
    response
}

/// HTTP 200 with `body` as JSON, its `result` attached for the layers above.
fn json_answer(body: Bytes, result: WireResult) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::OK;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=UTF-8"),
    );
    response.extensions_mut().insert(Answered(result));
    response
}

/// The gateway's own failure answer; unsigned for a pass-through caller.
fn failed(signing: Signing, error: ApiError, note: Option<String>) -> Response {
    let mut response = error.into_response();
    if signing == Signing::PassThrough {
        response.extensions_mut().insert(Sealing::Unsigned);
    }
    if let Some(note) = note {
        response.extensions_mut().insert(Note(note));
    }
    response
}

/// The upstream leg in the journal: what was sent, what came back, how long it took, the
/// verdict.
fn journal_upstream_leg(route: &Route, caller: &Caller, signing: Signing, leg: &Leg) {
    let journal = &route.app.journal;
    if !journal.enabled() {
        return;
    }
    let answered = serde_json::from_slice::<Value>(&leg.response_body)
        .ok()
        .and_then(|v| serde_json::from_value::<WireResult>(v.get("result")?.clone()).ok());
    journal.record(Entry {
        seq: 0,
        at_ms: leg.started_ms,
        direction: Direction::Upstream,
        endpoint: route.endpoint.name().to_owned(),
        target: leg.url.clone(),
        client_id: Some(caller.client.id.clone()),
        payment_ids: Vec::new(),
        verdict: leg.verdict(),
        string_to_sign: None,
        request_body: journal.clip(&leg.request_body),
        response_body: journal.clip(&leg.response_body),
        http_status: leg.status,
        result_code: answered.as_ref().map(|r| r.result_code.clone()),
        result_status: answered.map(|r| r.result_status.as_str().to_owned()),
        latency_ms: leg.latency_ms as f64,
        rule: None,
        note: Some(format!("{} mode", signing.name())),
    });
}
