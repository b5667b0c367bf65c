//! The request guard every API route sits behind: POST and JSON only, a known client, a body
//! within the limit, a signature that verifies over the exact received bytes and path, and the
//! client's right to call the API. On the way out it signs the response. Every failure is a
//! response, never an error: the layer cannot drop a request.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::Utc;

use super::{Message, SignatureError, SignatureHeader, header as sig_header, sign, verify};
use crate::api::notify_payment;
use crate::app::AppState;
use crate::config::Client;
use crate::error::ApiError;
use crate::protocol::{Endpoint, datetime};

/// Marks a response that must go out unsigned (INVALID_SIGNATURE, INVALID_CLIENT,
/// KEY_NOT_FOUND), as the real service sends them.
#[derive(Debug, Clone, Copy)]
pub struct Unsigned;

/// Who is calling, once the guard let the request through; handlers read it as an extension.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The verified client.
    pub client: Arc<Client>,
    /// The API called.
    pub endpoint: Endpoint,
}

/// The guard's state: the app and the API the route serves.
#[derive(Clone)]
pub struct Guard {
    /// Shared application state.
    pub app: AppState,
    /// The API behind this route.
    pub endpoint: Endpoint,
}

/// Middleware: checks the request, runs the handler, signs the answer.
pub async fn guard(State(guard): State<Guard>, request: Request, next: Next) -> Response {
    let path = signed_path(request.uri());
    let client_id = header_str(request.headers(), "client-id").map(str::to_owned);
    let response = match admit(&guard, request).await {
        Ok(request) => next.run(request).await,
        Err(Rejection { error, body }) => {
            // The webhook receiver keeps what it rejected too, with the reason: that is what a
            // merchant debugging a sender wants to see.
            if let (Endpoint::NotifyPayment, Some(body), Some(id)) =
                (guard.endpoint, &body, &client_id)
            {
                notify_payment::record(
                    &guard.app,
                    id,
                    body,
                    error.to_string(),
                    error.code().as_str(),
                )
                .await;
            }
            error.into_response()
        }
    };
    sign_response(&guard.app, &path, client_id.as_deref(), response).await
}

/// A refused request: the error it answers, and the body when it had been read.
struct Rejection {
    error: ApiError,
    body: Option<Bytes>,
}

impl<E: Into<ApiError>> From<E> for Rejection {
    fn from(e: E) -> Self {
        Rejection {
            error: e.into(),
            body: None,
        }
    }
}

/// Signs an outgoing response over `POST <path>\n<client-id>.<response-time>.<body>`, or
/// marks it as deliberately unsigned. Used by the guard and the unknown-path fallback.
pub async fn sign_response(
    app: &AppState,
    path: &str,
    client_id: Option<&str>,
    response: Response,
) -> Response {
    let client_id = client_id.filter(|id| HeaderValue::from_str(id).is_ok());
    if response.extensions().get::<Unsigned>().is_some() {
        return unsigned(
            response,
            client_id,
            &app.config.settings.signing.key_version,
        );
    }
    // Without a Client-Id there is nothing to echo and nothing the caller could verify.
    let Some(client_id) = client_id else {
        return response;
    };
    if !app.config.settings.signing.sign_responses {
        return unsigned(response, Some(client_id), &app.config.settings.signing.key_version);
    }
    let (mut parts, body) = response.into_parts();
    let Ok(body) = to_bytes(body, usize::MAX).await else {
        return ApiError::Internal("response body could not be read".into()).into_response();
    };
    let time = datetime::format_millis(Utc::now());
    let message = Message::post(path, client_id, &time, &body);
    let signed = match sign(&app.config.signing_key, &message) {
        Ok(signature) => signature,
        Err(e) => {
            tracing::error!(error = %e, "response signing failed");
            return ApiError::Internal("response signing failed".into()).into_response();
        }
    };
    let value = sig_header::format(&app.config.settings.signing.key_version, &signed);
    let headers = &mut parts.headers;
    insert(headers, "client-id", client_id);
    insert(headers, "response-time", &time);
    insert(headers, "signature", &value);
    Response::from_parts(parts, Body::from(body))
}

/// The unsigned form the SDKs accept for F/U answers: the three headers present, the
/// signature and response-time empty (the Python SDK rejects a reply without them).
fn unsigned(mut response: Response, client_id: Option<&str>, key_version: &str) -> Response {
    let headers = response.headers_mut();
    if let Some(client_id) = client_id {
        insert(headers, "client-id", client_id);
    }
    insert(headers, "response-time", "");
    insert(
        headers,
        "signature",
        &format!("algorithm=RSA256,keyVersion={key_version},signature="),
    );
    response
}

fn insert(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        headers.insert(name, v);
    }
}

/// The request URI as signed: the path, and the query string when one was sent (none of the
/// APIs uses one; a caller that sends one signs it as received).
pub fn signed_path(uri: &axum::http::Uri) -> String {
    uri.path_and_query()
        .map_or_else(|| uri.path().to_owned(), |pq| pq.as_str().to_owned())
}

fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// A required header's text, or `fail` with why: missing, or present but not visible ASCII
/// (which is not the same mistake).
fn required_header<'h>(
    headers: &'h HeaderMap,
    name: &str,
    fail: impl FnOnce(String) -> ApiError,
) -> Result<&'h str, ApiError> {
    match headers.get(name).map(|v| v.to_str()) {
        None | Some(Ok("")) => Err(fail(format!("the {name} header is missing"))),
        Some(Ok(text)) => Ok(text),
        Some(Err(_)) => Err(fail(format!("the {name} header is not visible ASCII"))),
    }
}

/// Runs every check in the order the real gateway does, cheapest first, and hands the request
/// on with its body put back and the [`Caller`] attached.
async fn admit(guard: &Guard, request: Request) -> Result<Request, Rejection> {
    let app = &guard.app;
    let settings = &app.config.settings.server;
    if request.method() != Method::POST {
        return Err(ApiError::MethodNotSupported(request.method().to_string()).into());
    }
    if let Some(ct) = request.headers().get(header::CONTENT_TYPE) {
        let text = ct.to_str().unwrap_or("<not text>");
        let essence = text.split(';').next().unwrap_or("").trim();
        if !essence.eq_ignore_ascii_case("application/json") {
            return Err(ApiError::MediaType(text.to_owned()).into());
        }
    }

    let headers = request.headers();
    let client_id = required_header(headers, "Client-Id", ApiError::InvalidClient)?.to_owned();
    let client_id = client_id.as_str();
    let client = app.config.clients.get(client_id).cloned().ok_or_else(|| {
        ApiError::InvalidClient(format!("Client-Id {client_id} is not registered"))
    })?;
    let request_time = required_header(headers, "Request-Time", ApiError::Param)?.to_owned();
    let signature_value = match headers.get("signature") {
        None => return Err(SignatureError::Missing.into()),
        Some(v) => v
            .to_str()
            .map_err(|_| SignatureError::Malformed("the value is not visible ASCII".into()))?,
    };
    let parsed = SignatureHeader::parse(signature_value)?;
    let key_version = parsed
        .key_version
        .as_deref()
        .unwrap_or(&client.latest_key_version)
        .to_owned();
    let signature = parsed.signature;
    let key = client.keys.get(&key_version).cloned().ok_or_else(|| {
        let mut known: Vec<_> = client.keys.keys().map(String::as_str).collect();
        known.sort_unstable();
        ApiError::KeyNotFound(format!(
            "no public key with keyVersion {key_version} for Client-Id {client_id} (registered: {})",
            known.join(", ")
        ))
    })?;

    let limit = settings.body_limit_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large(limit).into());
    }
    let (parts, body) = request.into_parts();
    let read = tokio::time::timeout(
        Duration::from_millis(settings.read_timeout_ms),
        to_bytes(body, limit),
    );
    let body = read
        .await
        .map_err(|_| {
            ApiError::Param(format!(
                "the request body did not arrive within {} ms",
                settings.read_timeout_ms
            ))
        })?
        .map_err(|e| {
            if std::error::Error::source(&e)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>())
            {
                too_large(limit)
            } else {
                ApiError::Param(format!("the request body could not be read: {e}"))
            }
        })?;

    let path = signed_path(&parts.uri);
    let message = Message::post(&path, client_id, &request_time, &body);
    if let Err(e) = verify(&key, &key_version, &message, &signature) {
        tracing::debug!(
            client_id,
            key_version,
            reason = %e,
            content_verified = %String::from_utf8_lossy(&message.content()),
            "signature rejected"
        );
        return Err(Rejection {
            error: e.into(),
            body: Some(body),
        });
    }
    if settings.clock_skew_seconds > 0
        && let Err(error) = check_skew(&request_time, settings.clock_skew_seconds)
    {
        return Err(Rejection {
            error,
            body: Some(body),
        });
    }
    if !client.may_call(guard.endpoint) {
        return Err(ApiError::AccessDenied(format!(
            "Client-Id {client_id} may not call {}",
            guard.endpoint
        ))
        .into());
    }

    let mut request = Request::from_parts(parts, Body::from(body));
    request.extensions_mut().insert(Caller {
        client,
        endpoint: guard.endpoint,
    });
    Ok(request)
}

fn too_large(limit: usize) -> ApiError {
    ApiError::Param(format!(
        "the request body is larger than the {limit}-byte limit"
    ))
}

fn check_skew(request_time: &str, window: u64) -> Result<(), ApiError> {
    let sent = datetime::parse_request_time(request_time).ok_or_else(|| {
        ApiError::Param(format!(
            "Request-Time {request_time:?} is neither epoch milliseconds nor ISO 8601 with offset"
        ))
    })?;
    let skew = (Utc::now() - sent).num_seconds().unsigned_abs();
    if skew > window {
        return Err(ApiError::InvalidSignature(format!(
            "Request-Time {request_time} is {skew} s from the gateway clock; the allowed window is {window} s"
        )));
    }
    Ok(())
}
