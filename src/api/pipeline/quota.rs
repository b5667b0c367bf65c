//! A namespace's limits: the most payments and risk reports it holds (`maxPayments`) and the
//! most journal entries (`maxJournalEntries`). Stacked in the handler's place only in a
//! namespace created with a limit, so no other request pays for it. A request past a limit is
//! answered REQUEST_TRAFFIC_EXCEED_LIMIT naming it, and leaves the journal as it was.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::Route;
use crate::api::error::ApiError;
use crate::protocol::{Endpoint, ResultCode};

/// A response extension: the answer to a request past the namespace's journal limit, which the
/// journal leaves out so the entries the limit kept stay.
#[derive(Debug, Clone, Copy)]
pub struct OverLimit;

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
    if let Some(max) = namespace.max_journal_entries
        && app.journal.len() as u64 >= max
    {
        let mut response = refuse(format!(
            "namespace {} holds its limit of {max} journal entries (maxJournalEntries); \
             reset it (POST /admin/reset) or create it with a higher limit",
            namespace.name
        ));
        response.extensions_mut().insert(OverLimit);
        return response;
    }
    let writes = matches!(
        route.endpoint,
        Endpoint::NotifyPushPayment | Endpoint::SendPaymentResult
    );
    if let Some(max) = namespace.max_payments.filter(|_| writes) {
        match app.store.held().await {
            Ok(held) if held >= max => {
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
