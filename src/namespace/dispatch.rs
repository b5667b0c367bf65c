//! Which namespace a request belongs to. A request to an API's path (every API, the
//! notification receiver) belongs to the namespace of its `Client-Id`, so an unmodified SDK
//! works; an admin call names its namespace with the `Gateway-Namespace` header. Everything
//! else (unknown paths, the service routes, the dashboard), and every request of a config-file
//! client, is the default namespace's, served exactly as without namespaces.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower::ServiceExt;

use super::Hub;
use crate::api::admin::{AdminError, bearer_token, same_secret, token_digest};
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
            return AdminError::new(StatusCode::BAD_REQUEST, e.to_string()).into_response();
        }
        let name = name.to_owned();
        return admin_call(&hub, &name, request).await;
    }
    // Only an API's path reaches a namespace by Client-Id: an unknown path, `/metrics` or the
    // dashboard with a namespace's Client-Id is the default namespace's, so a stranger who
    // knows the id cannot fill the namespace's journal with them.
    if !hub.is_api_path(path) {
        return next.run(request).await;
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
    match hub.find_held(&namespace).await {
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

/// An admin call naming the namespace `name`. The token is checked before anything else is
/// looked up: with the admin token an unknown namespace is a 404; with any other token, a
/// namespace it does not open and one that does not exist are the same 403, so a namespace
/// token cannot find out which names exist.
async fn admin_call(hub: &Hub, name: &str, request: Request) -> Response {
    let Some(admin) = hub.default.config.admin_token.as_ref() else {
        return AdminError::new(
            StatusCode::UNAUTHORIZED,
            "the admin API is off: set admin.token",
        )
        .into_response();
    };
    let Some(token) = bearer_token(&request) else {
        return AdminError::new(
            StatusCode::UNAUTHORIZED,
            "missing Authorization: Bearer <admin token or namespace token>",
        )
        .into_response();
    };
    let record = match hub.record(name).await {
        Ok(record) => record,
        Err(e) => return AdminError::from(e).into_response(),
    };
    let reached = same_secret(token, admin.expose())
        || record
            .as_ref()
            .is_some_and(|r| r.token_sha256 == token_digest(token));
    if !reached {
        return super::not_reached(name).into_response();
    }
    let Some(record) = record else {
        return AdminError::new(
            StatusCode::NOT_FOUND,
            format!("no namespace {name} (it was never created, was deleted, or ran out of time)"),
        )
        .into_response();
    };
    match hub.serving(record).await {
        Ok(Some(open)) => serve(&open.router, request).await,
        Ok(None) => AdminError::new(
            StatusCode::NOT_FOUND,
            format!("no namespace {name}: it was deleted just now"),
        )
        .into_response(),
        Err(e) => AdminError::from(e).into_response(),
    }
}

async fn serve(router: &axum::Router, request: Request) -> Response {
    match router.clone().oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}
