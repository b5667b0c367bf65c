//! A namespace's limits: the most payments and risk reports it holds (`maxPayments`) and the
//! most journal entries (`maxJournalEntries`). Stacked in the handler's place only in a
//! namespace created with a limit, so no other request pays for it. A request past a limit is
//! answered REQUEST_TRAFFIC_EXCEED_LIMIT naming it. A full namespace journal records nothing
//! more ([`crate::journal::Journal::limited`]), so the entries it holds stay as they are.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::Route;
use super::admission::ParsedBody;
use crate::api::error::ApiError;
use crate::protocol::{ResultCode, Writes};

/// Refuses a request past its namespace's limits.
pub async fn layer(State(route): State<Route>, request: Request, next: Next) -> Response {
    let app = &route.app;
    let Some(namespace) = app.namespace.as_ref() else {
        return next.run(request).await;
    };
    let refuse = |message: String| {
        ApiError::Business {
            code: ResultCode::RequestTrafficExceedLimit,
            message,
        }
        .into_response()
    };
    if let Some(max) = namespace
        .max_journal_entries
        .filter(|_| app.journal.is_full())
    {
        return refuse(format!(
            "namespace {} holds its limit of {max} journal entries (maxJournalEntries); \
             reset it (POST /admin/reset) or create it with a higher limit",
            namespace.name
        ));
    }
    let writes = route.endpoint.spec().writes;
    if let Some(max) = namespace.max_payments.filter(|_| writes.any()) {
        match app.store.held().await {
            Ok(held)
                if held >= max
                    && !repeats_a_payment(&route, writes, written_id(&request)).await =>
            {
                return refuse(format!(
                    "namespace {} holds its limit of {max} payments and risk reports \
                     (maxPayments); reset it (POST /admin/reset) or create it with a higher limit",
                    namespace.name
                ));
            }
            Ok(_) => {}
            Err(e) => return ApiError::from(e).into_response(),
        }
    }
    next.run(request).await
}

/// The paymentRequestId a request's body names, if any.
fn written_id(request: &Request) -> Option<String> {
    request
        .extensions()
        .get::<ParsedBody>()
        .and_then(|b| b.0.as_ref().ok())
        .and_then(|body| body.get("paymentRequestId"))
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
}

/// Whether the request writes a payment the namespace holds already: a repeat (an SDK's retry)
/// takes no room, so it goes through at the limit.
async fn repeats_a_payment(
    route: &Route,
    writes: Writes,
    payment_request_id: Option<String>,
) -> bool {
    match payment_request_id {
        Some(id) if writes == Writes::Payment => {
            matches!(route.app.store.payment(&id).await, Ok(Some(_)))
        }
        _ => false,
    }
}
