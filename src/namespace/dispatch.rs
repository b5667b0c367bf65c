//! Which namespace a request belongs to. A signed request (every API, the notification receiver)
//! belongs to the namespace of its `Client-Id`, so an unmodified SDK works; an admin call names
//! its namespace with the `Gateway-Namespace` header. Everything else, and every request of a
//! config-file client, is the default namespace's, served exactly as without namespaces.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower::ServiceExt;

use super::Hub;
use crate::api::admin::AdminError;
use crate::client::Located;
use crate::domain::namespace::DEFAULT_NAMESPACE;

/// The header an admin call names its namespace with.
pub const HEADER: &str = "gateway-namespace";

/// Sends the request to its namespace's router, or on to the default one.
pub async fn dispatch(State(hub): State<Arc<Hub>>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if path == "/admin" || path.starts_with("/admin/") {
        let Some(name) = request.headers().get(HEADER) else {
            return next.run(request).await;
        };
        // `/admin/namespaces` is the gateway's, whichever namespace a call names.
        if path == "/admin/namespaces" || path.starts_with("/admin/namespaces/") {
            return next.run(request).await;
        }
        let Ok(name) = name.to_str().map(str::trim) else {
            return AdminError::new(
                StatusCode::BAD_REQUEST,
                "the Gateway-Namespace header is not visible ASCII",
            )
            .into_response();
        };
        if name == DEFAULT_NAMESPACE {
            return next.run(request).await;
        }
        if let Err(e) = super::check_name(name) {
            return AdminError::new(StatusCode::BAD_REQUEST, e).into_response();
        }
        return match hub.find(name).await {
            Ok(Some(open)) => serve(&open.router, request).await,
            Ok(None) => AdminError::new(
                StatusCode::NOT_FOUND,
                format!(
                    "no namespace {name} (it was never created, was deleted, or ran out of time)"
                ),
            )
            .into_response(),
            Err(e) => AdminError::from(e).into_response(),
        };
    }
    let Some(client_id) = request
        .headers()
        .get("client-id")
        .and_then(|v| v.to_str().ok())
    else {
        return next.run(request).await;
    };
    let namespace = match hub.default.clients.locate(client_id) {
        Located::Config => return next.run(request).await,
        Located::RunTime(namespace) => namespace,
        Located::Unknown => match hub.learn(client_id).await {
            Some(namespace) => namespace,
            // The default namespace answers INVALID_CLIENT, as it always has.
            None => return next.run(request).await,
        },
    };
    if &*namespace == DEFAULT_NAMESPACE {
        return next.run(request).await;
    }
    match hub.find(&namespace).await {
        Ok(Some(open)) => serve(&open.router, request).await,
        // Its namespace is gone: the default namespace does not know the client either.
        Ok(None) => next.run(request).await,
        // UNKNOWN_EXCEPTION (U): the caller retries, as with any store failure.
        Err(e) => {
            tracing::warn!(namespace = %namespace, error = %e, "a namespace could not be opened");
            crate::api::error::ApiError::from(e).into_response()
        }
    }
}

async fn serve(router: &axum::Router, request: Request) -> Response {
    match router.clone().oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}
