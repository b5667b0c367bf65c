//! Layer 4: the signature on the answer. Only a registered client gets one; refusals of
//! authentication, and requests turned away before their signature was checked, go out
//! unsigned, as the real service sends them.

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::{Extensions, HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::Utc;

use super::forward::Sealing;
use super::in_flight::NotAdmitted;
use super::{Exchange, Route};
use crate::api::answer::Answered;
use crate::api::error::ApiError;
use crate::api::state::AppState;
use crate::protocol::datetime;
use crate::signature::{Message, header as sig_header, sign};

/// A response extension: the body exactly as sent.
#[derive(Debug, Clone)]
pub struct Sent(pub Bytes);

/// Seals the answer of the layers below.
pub async fn layer(State(route): State<Route>, request: Request, next: Next) -> Response {
    let exchange = request.extensions().get::<Exchange>().cloned();
    let response = next.run(request).await;
    seal(&route.app, exchange.as_ref(), response).await
}

/// The one rule for an unsigned answer: INVALID_SIGNATURE, INVALID_CLIENT and KEY_NOT_FOUND
/// (the caller could not be authenticated), or a request turned away unread.
fn goes_unsigned(extensions: &Extensions) -> bool {
    extensions.get::<NotAdmitted>().is_some()
        || extensions.get::<Sealing>() == Some(&Sealing::Unsigned)
        || extensions.get::<Answered>().is_some_and(|a| {
            matches!(
                a.0.result_code.as_str(),
                "INVALID_SIGNATURE" | "INVALID_CLIENT" | "KEY_NOT_FOUND"
            )
        })
}

/// Signs an outgoing response over `POST <path>\n<client-id>.<response-time>.<body>`, or leaves
/// it deliberately unsigned, and attaches the bytes sent as [`Sent`], for the journal.
pub async fn seal(app: &AppState, exchange: Option<&Exchange>, response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let body = match to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(_) => {
            let mut response =
                ApiError::Internal("response body could not be read".into()).into_response();
            response.extensions_mut().insert(Sent(Bytes::new()));
            return response;
        }
    };
    // Real mode, pass-through: the upstream's answer goes back exactly as it came.
    if parts.extensions.get::<Sealing>() == Some(&Sealing::Untouched) {
        parts.extensions.insert(Sent(body.clone()));
        return Response::from_parts(parts, Body::from(body));
    }
    let path = exchange.map_or("", |e| e.path.as_str());
    let client_id = exchange
        .and_then(|e| e.client_id.as_deref())
        .filter(|id| HeaderValue::from_str(id).is_ok());
    let signing = &app.config.settings.signing;
    let headers = &mut parts.headers;
    let wants_signature = !goes_unsigned(&parts.extensions);
    match client_id {
        // Without a Client-Id there is nothing to echo and nothing the caller could verify.
        None if wants_signature => {}
        // Only a registered client gets a signature: for anyone else it costs a private-key
        // operation per request and hands out gateway signatures nobody asked for.
        Some(id)
            if wants_signature
                && signing.sign_responses
                && app.clients.get_in(id, app.namespace_name()).is_some() =>
        {
            let time = datetime::format_millis(Utc::now());
            match sign(
                &app.config.signing_key,
                &Message::post(path, id, &time, &body),
            ) {
                Ok(signed) => {
                    insert(headers, "client-id", id);
                    insert(headers, "response-time", &time);
                    insert(
                        headers,
                        "signature",
                        &sig_header::format(&signing.key_version, &signed),
                    );
                }
                Err(e) => {
                    tracing::error!(error = %e, "response signing failed");
                    let mut response =
                        ApiError::Internal("response signing failed".into()).into_response();
                    response.extensions_mut().insert(Sent(body));
                    return response;
                }
            }
        }
        id => unsigned(headers, id, &signing.key_version),
    }
    parts.extensions.insert(Sent(body.clone()));
    Response::from_parts(parts, Body::from(body))
}

/// The unsigned form the SDKs accept for F/U answers: the three headers present, the
/// signature and response-time empty (the Python SDK rejects a reply without them).
fn unsigned(headers: &mut HeaderMap, client_id: Option<&str>, key_version: &str) {
    if let Some(client_id) = client_id {
        insert(headers, "client-id", client_id);
    }
    insert(headers, "response-time", "");
    insert(
        headers,
        "signature",
        &format!("algorithm=RSA256,keyVersion={key_version},signature="),
    );
}

fn insert(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        headers.insert(name, v);
    }
}
