//! `/admin/namespaces`: `POST` creates a namespace and answers its admin token (shown once),
//! `GET` lists them, `GET /admin/namespaces/{name}` shows one with what it holds, `DELETE
//! /admin/namespaces/{name}` deletes it with everything it owns. Creating and listing take the
//! admin token; showing and deleting one take it or that namespace's own token.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};

use super::Hub;
use crate::api::admin::openapi::Shared;
use crate::api::admin::{
    AdminBody, AdminError, AdminPath, Deleted, ErrorBody, bearer_token, same_secret, token_digest,
};
use crate::domain::namespace::NamespaceRecord;

/// The longest time to live a namespace may ask for: thirty days.
const MAX_TTL_SECONDS: u64 = 30 * 24 * 3600;

/// The largest journal a namespace may ask for (its entries keep bodies up to
/// `journal.max_body_bytes` each, in memory).
const MAX_JOURNAL_ENTRIES: u64 = 1_000_000;

/// These routes' part of the OpenAPI document, derived from the handlers.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(create, list, show, delete),
    modifiers(&Shared)
)]
struct NamespaceApi;

/// These routes' part of the OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    <NamespaceApi as utoipa::OpenApi>::openapi()
}

/// The routes, each behind its token check.
pub fn router(hub: Arc<Hub>) -> Router {
    Router::new()
        .route("/admin/namespaces", get(list).post(create))
        .route("/admin/namespaces/{name}", get(show).delete(delete))
        .method_not_allowed_fallback(|| async {
            AdminError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "this admin route does not take that method",
            )
        })
        .route_layer(from_fn_with_state(hub.clone(), require_token))
        .with_state(hub.default.clone())
        .layer(axum::Extension(hub))
}

/// Who called: the admin token reaches every namespace, a namespace token its own only.
#[derive(Debug, Clone)]
enum Bearer {
    Admin,
    Namespace(String),
}

async fn require_token(State(hub): State<Arc<Hub>>, mut request: Request, next: Next) -> Response {
    let Some(expected) = hub.default.config.admin_token.as_ref().map(|t| t.expose()) else {
        return AdminError::new(
            StatusCode::UNAUTHORIZED,
            "the admin API is off: set admin.token",
        )
        .into_response();
    };
    let bearer = match bearer_token(&request) {
        None => {
            return AdminError::new(
                StatusCode::UNAUTHORIZED,
                "missing Authorization: Bearer <admin token>",
            )
            .into_response();
        }
        Some(token) if same_secret(token, expected) => Bearer::Admin,
        Some(token) => Bearer::Namespace(token_digest(token)),
    };
    request.extensions_mut().insert(bearer);
    next.run(request).await
}

/// `POST /admin/namespaces`
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Creation {
    /// Lowercase letters, digits and dashes; not `default`.
    #[schema(pattern = "^[a-z0-9][a-z0-9-]{0,31}$")]
    name: String,
    /// Seconds until it is deleted with everything it owns (at most thirty days).
    #[schema(minimum = 1, maximum = 2592000)]
    ttl_seconds: Option<u64>,
    /// The most payments and risk reports it may hold.
    #[schema(minimum = 1)]
    max_payments: Option<u64>,
    /// The most journal entries it may hold.
    #[schema(minimum = 1, maximum = 1000000)]
    max_journal_entries: Option<u64>,
}

/// A namespace as shown.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct NamespaceView {
    /// Its name.
    name: String,
    /// When it was created.
    #[schema(format = DateTime)]
    created_at: String,
    /// When it is deleted with everything it owns, if ever.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    expires_at: Option<String>,
    /// The most payments and risk reports it may hold.
    #[serde(skip_serializing_if = "Option::is_none")]
    max_payments: Option<u64>,
    /// The most journal entries it may hold.
    #[serde(skip_serializing_if = "Option::is_none")]
    max_journal_entries: Option<u64>,
}

/// A namespace just created, with its admin token.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct Created {
    #[serde(flatten)]
    namespace: NamespaceView,
    /// The namespace's admin token: shown this once, kept only as a digest.
    token: String,
}

/// A namespace with what it holds.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct Shown {
    #[serde(flatten)]
    namespace: NamespaceView,
    held: Held,
}

/// What a namespace holds.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct Held {
    /// Payments and risk reports, against `maxPayments`.
    payments_and_risk_reports: u64,
    /// Notifications still to deliver.
    pending_notifications: u64,
    /// Journal entries, against `maxJournalEntries`.
    journal_entries: usize,
    /// Its run-time clients.
    clients: Vec<String>,
}

fn time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn view(record: &NamespaceRecord) -> NamespaceView {
    NamespaceView {
        name: record.name.clone(),
        created_at: time(record.created_at_ms),
        expires_at: record.expires_at_ms.map(time),
        max_payments: record.max_payments,
        max_journal_entries: record.max_journal_entries,
    }
}

fn admin_only(bearer: &Bearer) -> Result<(), AdminError> {
    match bearer {
        Bearer::Admin => Ok(()),
        Bearer::Namespace(_) => Err(AdminError::new(
            StatusCode::UNAUTHORIZED,
            "wrong admin token (a namespace token reaches only its own namespace)",
        )),
    }
}

/// Create a namespace; answers its admin token, shown once
#[utoipa::path(
    post,
    path = "/admin/namespaces",
    operation_id = "createNamespace",
    request_body(content = Creation, example = json!({"name": "shard-1", "ttlSeconds": 3600})),
    responses(
        (status = 201, description = "Created", body = Created),
        (status = 400, body = ErrorBody,
            description = "The body breaks a rule; the message names the field"),
        (status = 409, body = ErrorBody,
            description = "It exists already, or the gateway holds its limit of namespaces"),
    ),
)]
async fn create(
    State(state): State<crate::api::state::AppState>,
    axum::Extension(hub): axum::Extension<Arc<Hub>>,
    axum::Extension(bearer): axum::Extension<Bearer>,
    AdminBody(body): AdminBody,
) -> Result<Response, AdminError> {
    admin_only(&bearer)?;
    let bad = |m: String| AdminError::new(StatusCode::BAD_REQUEST, m);
    let creation: Creation =
        serde_json::from_slice(&body).map_err(|e| bad(format!("not a namespace: {e}")))?;
    super::check_name(&creation.name).map_err(|e| bad(e.to_string()))?;
    if let Some(ttl) = creation.ttl_seconds
        && !(1..=MAX_TTL_SECONDS).contains(&ttl)
    {
        return Err(bad(format!(
            "ttlSeconds must be 1 to {MAX_TTL_SECONDS} (thirty days); omit it to keep the namespace until it is deleted"
        )));
    }
    for (field, value) in [
        ("maxPayments", creation.max_payments),
        ("maxJournalEntries", creation.max_journal_entries),
    ] {
        if value == Some(0) {
            return Err(bad(format!(
                "{field} must be at least 1 (omit it for no limit)"
            )));
        }
    }
    if creation
        .max_journal_entries
        .is_some_and(|n| n > MAX_JOURNAL_ENTRIES)
    {
        return Err(bad(format!(
            "maxJournalEntries must be at most {MAX_JOURNAL_ENTRIES}"
        )));
    }
    let max = state.config.settings.namespaces.max_namespaces;
    if hub.default.registry.namespaces().await?.len() >= max {
        return Err(AdminError::new(
            StatusCode::CONFLICT,
            format!(
                "the gateway holds its limit of {max} namespaces (namespaces.max_namespaces); \
                 delete one first"
            ),
        ));
    }
    let token = format!("gwns_{}", hex(&rand::random::<[u8; 32]>()));
    let now = chrono::Utc::now().timestamp_millis();
    let record = NamespaceRecord {
        name: creation.name.clone(),
        id: hex(&rand::random::<[u8; 5]>()),
        token_sha256: token_digest(&token),
        created_at_ms: now,
        expires_at_ms: creation
            .ttl_seconds
            .map(|ttl| now.saturating_add(i64::try_from(ttl * 1000).unwrap_or(i64::MAX))),
        max_payments: creation.max_payments,
        max_journal_entries: creation.max_journal_entries,
    };
    if !hub.default.registry.create_namespace(&record).await? {
        return Err(AdminError::new(
            StatusCode::CONFLICT,
            format!("namespace {} exists already", record.name),
        ));
    }
    match hub.open(record.clone()).await {
        Ok(Some(_)) => {}
        // Deleted by another caller before it could open: nothing is left of it.
        Ok(None) => {
            return Err(AdminError::new(
                StatusCode::CONFLICT,
                format!("namespace {} was deleted while it was created", record.name),
            ));
        }
        Err(e) => {
            // Nothing half-made stays behind: the record goes, and what the store made with it.
            let _ = hub.delete(&record).await;
            return Err(e.into());
        }
    }
    tracing::info!(namespace = %record.name, ttl_seconds = ?creation.ttl_seconds, "namespace created");
    let created = Created {
        namespace: view(&record),
        token,
    };
    Ok((StatusCode::CREATED, axum::Json(created)).into_response())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Every live namespace
#[utoipa::path(
    get,
    path = "/admin/namespaces",
    operation_id = "listNamespaces",
    responses((status = 200, description = "Every live namespace", body = Vec<NamespaceView>)),
)]
async fn list(
    axum::Extension(hub): axum::Extension<Arc<Hub>>,
    axum::Extension(bearer): axum::Extension<Bearer>,
) -> Result<Response, AdminError> {
    admin_only(&bearer)?;
    let now = chrono::Utc::now().timestamp_millis();
    let views: Vec<NamespaceView> = hub
        .default
        .registry
        .namespaces()
        .await?
        .iter()
        .filter(|n| !n.expired(now))
        .map(view)
        .collect();
    Ok(axum::Json(views).into_response())
}

/// The namespace `name`, when the bearer reaches it, without opening it. With the admin
/// token an unknown namespace is a 404; with any other token it is the 403 a namespace of
/// another token gets, so a namespace token cannot find out which names exist.
async fn reach(hub: &Hub, bearer: &Bearer, name: &str) -> Result<NamespaceRecord, AdminError> {
    super::check_name(name).map_err(|e| AdminError::new(StatusCode::BAD_REQUEST, e.to_string()))?;
    let record = hub.record(name).await?;
    match (bearer, record) {
        (Bearer::Admin, Some(record)) => Ok(record),
        (Bearer::Admin, None) => Err(AdminError::new(
            StatusCode::NOT_FOUND,
            format!("no namespace {name}"),
        )),
        (Bearer::Namespace(digest), Some(record)) if *digest == record.token_sha256 => Ok(record),
        (Bearer::Namespace(_), _) => Err(super::not_reached(name)),
    }
}

/// A namespace and what it holds
#[utoipa::path(
    get,
    path = "/admin/namespaces/{name}",
    operation_id = "readNamespace",
    params(("name" = String, Path)),
    responses(
        (status = 200, description = "The namespace", body = Shown),
        (status = 400, description = "Not a namespace name", body = ErrorBody),
        (status = 403, description = "A namespace token, for another namespace", body = ErrorBody),
        (status = 404, description = "No such namespace", body = ErrorBody),
    ),
)]
async fn show(
    axum::Extension(hub): axum::Extension<Arc<Hub>>,
    axum::Extension(bearer): axum::Extension<Bearer>,
    AdminPath(name): AdminPath,
) -> Result<Response, AdminError> {
    reach(&hub, &bearer, &name).await?;
    let open = hub
        .find(&name)
        .await?
        .ok_or_else(|| AdminError::new(StatusCode::NOT_FOUND, format!("no namespace {name}")))?;
    let store = &open.state.store;
    let shown = Shown {
        namespace: view(&open.record),
        held: Held {
            payments_and_risk_reports: store.held().await?,
            pending_notifications: store.pending_count().await?,
            journal_entries: open.state.journal.len(),
            clients: hub
                .default
                .clients
                .run_time_in(&name)
                .iter()
                .map(|c| c.client.id.clone())
                .collect(),
        },
    };
    Ok(axum::Json(shown).into_response())
}

/// Delete a namespace with everything it owns
#[utoipa::path(
    delete,
    path = "/admin/namespaces/{name}",
    operation_id = "deleteNamespace",
    params(("name" = String, Path)),
    responses(
        (status = 200, description = "Deleted", body = Deleted),
        (status = 400, description = "Not a namespace name", body = ErrorBody),
        (status = 403, description = "A namespace token, for another namespace", body = ErrorBody),
        (status = 404, description = "No such namespace", body = ErrorBody),
    ),
)]
async fn delete(
    axum::Extension(hub): axum::Extension<Arc<Hub>>,
    axum::Extension(bearer): axum::Extension<Bearer>,
    AdminPath(name): AdminPath,
) -> Result<Response, AdminError> {
    let record = reach(&hub, &bearer, &name).await?;
    if !hub.delete(&record).await? {
        return Err(AdminError::new(
            StatusCode::NOT_FOUND,
            format!("no namespace {name}"),
        ));
    }
    Ok(axum::Json(Deleted { deleted: name }).into_response())
}
