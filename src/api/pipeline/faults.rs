//! Layers 3 and 5: what a scenario does to an answer on purpose. Before sealing, its latency
//! and the faults that change what is signed (a 500, a body cut off mid-JSON); after sealing,
//! the faults on the signed answer (no signature, a wrong one, a connection dropped mid-answer).

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use http_body::Frame;

use super::Route;
use crate::scenario::{Applied, Fault};

/// Layer 5: the scenario's latency, then the faults that change what is signed.
pub async fn on_answer(State(route): State<Route>, request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let Some(outcome) = response
        .extensions()
        .get::<Applied>()
        .map(|a| a.outcome.clone())
    else {
        return response;
    };
    if let Some(latency) = &outcome.latency {
        tokio::time::sleep(route.app.scenarios.sample(latency)).await;
    }
    break_before_signing(response, outcome.fault).await
}

/// Layer 3: the faults on the sealed answer.
pub async fn on_sealed(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let fault = response
        .extensions()
        .get::<Applied>()
        .and_then(|a| a.outcome.fault);
    break_after_signing(response, fault)
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
