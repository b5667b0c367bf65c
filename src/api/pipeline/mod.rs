//! The layers every API request runs through. Each is one tower middleware with one concern;
//! [`super::router`] stacks them, outermost first, in the one place their order is written:
//!
//! 1. [`journal`]: the request's [`Exchange`] (API, signed path, Client-Id, scenario header) for
//!    the layers below; on the way back, the metrics and the journal entry.
//! 2. [`in_flight`]: one permit per request being handled, held until the answer is sealed.
//! 3. [`faults::on_sealed`]: faults on the signed answer (unsigned, bad signature, dropped).
//! 4. [`seal`]: the signature on the answer, or deliberately none.
//! 5. [`faults::on_answer`]: the scenario's latency, and faults that change what is signed.
//! 6. [`admission`]: method, media type, client, key, body, signature, clock, replay, access;
//!    the body is read and parsed here, once.
//! 7. [`rate_limit`]: the client's own rate limit.
//! 8. [`scenario`]: the header, a rule or the convention; may answer in the handler's place.
//!
//! Below them the API's handler, or in real mode [`forward`] in its place (stacked only when
//! real mode is configured); in a namespace with limits, [`quota`] before it. Layers talk through extensions: what a request carries down
//! ([`Exchange`], [`admission::Caller`], [`admission::ParsedBody`]) and what an answer carries up
//! ([`crate::api::answer::Answered`], [`admission::Admission`], [`scenario::Applied`]).

pub mod admission;
pub mod faults;
pub mod forward;
pub mod in_flight;
pub mod journal;
pub mod quota;
pub mod rate_limit;
pub mod scenario;
pub mod seal;

use axum::http::HeaderMap;

use crate::protocol::Endpoint;

pub use journal::Exchange;

/// The layers' state: the app and the API the route serves.
#[derive(Clone)]
pub struct Route {
    /// Shared application state.
    pub app: crate::api::state::AppState,
    /// The API behind this route.
    pub endpoint: Endpoint,
}

/// A header's text, when it is visible ASCII.
pub fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The request URI as signed: the path, and the query string when one was sent (none of the
/// APIs uses one; a caller that sends one signs it as received).
pub fn signed_path(uri: &axum::http::Uri) -> String {
    uri.path_and_query()
        .map_or_else(|| uri.path().to_owned(), |pq| pq.as_str().to_owned())
}
