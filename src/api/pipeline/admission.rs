//! Layer 6: admission lets a request in only when it is POST and JSON, from a known client,
//! within the header and body limits, with a signature that verifies over the exact received
//! bytes and path, inside the clock window, not a replay, and for an API the client may call.
//! The checks run in the order the real gateway makes them, cheapest first. The body is read
//! here and parsed once, for the scenario and the handler. Every failure is an answer.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde_json::Value;

use super::{Route, header_str, signed_path};
use crate::api::answer::Answered;
use crate::api::error::ApiError;
use crate::api::extract::NotJson;
use crate::api::state::AppState;
use crate::body::{self, BodyError};
use crate::client::Client;
use crate::protocol::{Direction, Endpoint, ResultStatus, datetime};
use crate::signature::replay::SeenSignatures;
use crate::signature::{Message, PublicKeys, SignatureError, SignatureHeader, verify};
use crate::telemetry;

/// The longest Client-Id a client can be registered with; a longer header is refused before
/// it is echoed, logged or journaled.
pub const MAX_CLIENT_ID_CHARS: usize = 64;

/// A request extension: who is calling, once admission let the request through.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The verified client.
    pub client: Arc<Client>,
    /// The API called.
    pub endpoint: Endpoint,
}

/// A refused request: the error it answers, the body when it had been read, and the exact
/// string its signature was checked against when that failed.
pub struct Rejection {
    /// What it answers.
    pub error: ApiError,
    /// The body, when it had been read.
    pub body: Option<Bytes>,
    /// The content verified against, when the signature failed.
    pub string_to_sign: Option<String>,
}

impl<E: Into<ApiError>> From<E> for Rejection {
    fn from(e: E) -> Self {
        Rejection {
            error: e.into(),
            body: None,
            string_to_sign: None,
        }
    }
}

/// A request let in: the request with its body put back and the [`Caller`] attached, and the
/// body for whoever else needs it (scenarios, the journal).
pub struct Admitted {
    /// Ready for the handler.
    pub request: Request,
    /// The exact bytes received.
    pub body: Bytes,
    /// The verified client.
    pub client: Arc<Client>,
    /// Its place in the seen-signature cache, when that is on: forgotten if the answer is U.
    pub replay_key: Option<[u8; 32]>,
}

/// A request extension: the body parsed as JSON, once, or why it is not JSON.
#[derive(Debug, Clone)]
pub struct ParsedBody(pub Result<Value, NotJson>);

/// A response extension: what admission found, for the journal.
#[derive(Debug, Clone)]
pub struct Admission {
    /// `valid`, or why the request was refused.
    pub verdict: String,
    /// The exact bytes received, when they were read.
    pub body: Bytes,
    /// The content verified against, when the signature failed.
    pub string_to_sign: Option<String>,
}

impl Admission {
    /// A request refused before its body was read.
    pub fn refused(verdict: String) -> Self {
        Self {
            verdict,
            body: Bytes::new(),
            string_to_sign: None,
        }
    }
}

/// Admits the request and hands it on, or answers why not.
pub async fn layer(State(route): State<Route>, request: Request, next: Next) -> Response {
    let app = &route.app;
    match admit(app, route.endpoint, request).await {
        Ok(Admitted {
            mut request,
            body,
            replay_key,
            client,
        }) => {
            let parsed = serde_json::from_slice::<Value>(&body).map_err(NotJson::from);
            request.extensions_mut().insert(ParsedBody(parsed));
            let mut response = next.run(request).await;
            // A retryable answer invites the same request again.
            if let (Some(seen), Some(key)) = (&app.seen_signatures, replay_key)
                && response
                    .extensions()
                    .get::<Answered>()
                    .is_some_and(|a| a.status() == ResultStatus::U)
            {
                seen.forget(key);
            }
            let verdict =
                if client.pass_through && route.endpoint.spec().direction == Direction::Served {
                    "not verified: pass-through, the upstream verifies"
                } else {
                    "valid"
                };
            response.extensions_mut().insert(Admission {
                verdict: verdict.into(),
                body,
                string_to_sign: None,
            });
            response
        }
        Err(Rejection {
            error,
            body,
            string_to_sign,
        }) => {
            if let Some(reason) = error.auth_failure() {
                telemetry::record_auth_failure(reason);
            }
            let admission = Admission {
                verdict: error.to_string(),
                // A refused notification is kept in the bounded journal only: nothing a caller
                // could not sign reaches the store.
                body: body.unwrap_or_default(),
                string_to_sign,
            };
            let mut response = error.into_response();
            response.extensions_mut().insert(admission);
            response
        }
    }
}

/// The Client-Id header as the answer may echo it and the journal keep it: visible ASCII and
/// no longer than any registered client id.
pub fn echoable_client_id(headers: &HeaderMap) -> Option<String> {
    header_str(headers, "client-id")
        .filter(|id| id.len() <= MAX_CLIENT_ID_CHARS)
        .map(str::to_owned)
}

/// The size of a request head as received: the request line and every header line.
fn head_bytes(request: &Request) -> usize {
    // "METHOD SP target SP HTTP/1.1 CRLF", and the blank line that ends the head.
    let line = request.method().as_str().len() + signed_path(request.uri()).len() + 12 + 2;
    request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum::<usize>()
        + line
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
async fn admit(
    app: &AppState,
    endpoint: Endpoint,
    request: Request,
) -> Result<Admitted, Rejection> {
    let settings = &app.config.settings.server;
    let head = head_bytes(&request);
    if head > settings.max_header_bytes {
        return Err(ApiError::Param(format!(
            "the request headers are {head} bytes; the limit is {} (server.max_header_bytes)",
            settings.max_header_bytes
        ))
        .into());
    }
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
    if client_id.len() > MAX_CLIENT_ID_CHARS {
        return Err(ApiError::InvalidClient(format!(
            "the Client-Id header is {} characters long; a Client-Id has at most {MAX_CLIENT_ID_CHARS}",
            client_id.len()
        ))
        .into());
    }
    let client_id = client_id.as_str();
    let client = app
        .clients
        .get_in(client_id, app.namespace_name())
        .ok_or_else(|| {
            ApiError::InvalidClient(format!("Client-Id {client_id} is not registered"))
        })?;
    // A pass-through client's calls are signed for the upstream, which verifies them. What the
    // upstream sends (a notification) is signed by the upstream itself: it is verified here with
    // the upstream's keys before the receiver or the relay sees it, never admitted unsigned.
    let keys = match (client.pass_through, endpoint.spec().direction) {
        (false, _) => &client.keys,
        (true, Direction::Served) => {
            return admit_pass_through(app, endpoint, request, client).await;
        }
        (true, Direction::Called) => upstream_keys(app, client_id)?,
    };
    let request_time = required_header(headers, "Request-Time", ApiError::Param)?.to_owned();
    let signature_value = match headers.get("signature") {
        None => return Err(SignatureError::Missing.into()),
        Some(v) => v
            .to_str()
            .map_err(|_| SignatureError::Malformed("the value is not visible ASCII".into()))?,
    };
    let parsed = SignatureHeader::parse(signature_value)?;
    let (key_version, key) = keys
        .resolve(parsed.key_version.as_deref())
        .map_err(|unknown| {
            ApiError::KeyNotFound(format!(
                "no public key with keyVersion {} for Client-Id {client_id} (registered: {})",
                unknown.version,
                unknown.known.join(", ")
            ))
        })?;
    let signature = parsed.signature;

    let (parts, body) = read_body(settings, request).await?;

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
            string_to_sign: Some(String::from_utf8_lossy(&message.content()).into_owned()),
            body: Some(body),
        });
    }
    if settings.clock_skew_seconds > 0
        && let Err(error) = check_skew(&request_time, settings.clock_skew_seconds)
    {
        return Err(Rejection {
            error,
            body: Some(body),
            string_to_sign: None,
        });
    }
    let replay_key = app
        .seen_signatures
        .as_ref()
        .map(|_| SeenSignatures::key(&message));
    if let (Some(seen), Some(key)) = (&app.seen_signatures, replay_key)
        && !seen.first_use(key, Utc::now().timestamp_millis())
    {
        return Err(Rejection {
            error: ApiError::InvalidSignature {
                reason: "replayed",
                message: "this signed request was already received \
                          (server.reject_replayed_signatures): sign each request anew with its \
                          own Request-Time"
                    .into(),
            },
            body: Some(body),
            string_to_sign: None,
        });
    }
    if !client.may_call(endpoint) {
        return Err(ApiError::AccessDenied(format!(
            "Client-Id {client_id} may not call {endpoint}"
        ))
        .into());
    }

    Ok(admitted(parts, body, client, endpoint, replay_key))
}

/// The request put back together with its body, the [`Caller`] attached.
fn admitted(
    parts: axum::http::request::Parts,
    body: Bytes,
    client: Arc<Client>,
    endpoint: Endpoint,
    replay_key: Option<[u8; 32]>,
) -> Admitted {
    let mut request = Request::from_parts(parts, Body::from(body.clone()));
    request.extensions_mut().insert(Caller {
        client: client.clone(),
        endpoint,
    });
    Admitted {
        request,
        body,
        client,
        replay_key,
    }
}

/// Reads the body within `server.body_limit_bytes` and `server.read_timeout_ms`.
async fn read_body(
    settings: &crate::config::ServerSettings,
    request: Request,
) -> Result<(axum::http::request::Parts, Bytes), ApiError> {
    let limit = settings.body_limit_bytes;
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large(limit));
    }
    let (parts, body) = request.into_parts();
    let read = tokio::time::timeout(
        Duration::from_millis(settings.read_timeout_ms),
        body::read_within(body, limit),
    );
    let body = read
        .await
        .map_err(|_| {
            ApiError::Param(format!(
                "the request body did not arrive within {} ms",
                settings.read_timeout_ms
            ))
        })?
        .map_err(|e| match e {
            BodyError::TooLarge(_) => too_large(limit),
            BodyError::Failed(_) => ApiError::Param(e.to_string()),
        })?;
    Ok((parts, body))
}

/// The keys a notification from the upstream verifies with: `[real.upstream] public_keys`.
fn upstream_keys<'a>(app: &'a AppState, client_id: &str) -> Result<&'a PublicKeys, ApiError> {
    app.config
        .real
        .as_ref()
        .and_then(|r| r.upstream.as_ref())
        .map(|u| &u.public_keys)
        .ok_or_else(|| ApiError::InvalidSignature {
            reason: "no_upstream_keys",
            message: format!(
                "Client-Id {client_id} is a pass-through client: what it sends here must be \
                 signed by the upstream, and no [real.upstream] public_keys are configured to \
                 verify it"
            ),
        })
}

/// Real mode: a pass-through client signs for the upstream, not for the gateway, so its
/// signature cannot be checked here. It is admitted on its Client-Id (and the API allow-list),
/// its body read within the limits, and handed on untouched; the upstream verifies it.
async fn admit_pass_through(
    app: &AppState,
    endpoint: Endpoint,
    request: Request,
    client: Arc<Client>,
) -> Result<Admitted, Rejection> {
    if !client.may_call(endpoint) {
        return Err(ApiError::AccessDenied(format!(
            "Client-Id {} may not call {endpoint}",
            client.id
        ))
        .into());
    }
    let (parts, body) = read_body(&app.config.settings.server, request).await?;
    Ok(admitted(parts, body, client, endpoint, None))
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
        return Err(ApiError::InvalidSignature {
            reason: "clock_skew",
            message: format!(
                "Request-Time {request_time} is {skew} s from the gateway clock; the allowed window is {window} s"
            ),
        });
    }
    Ok(())
}
