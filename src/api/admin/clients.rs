//! Clients registered at run time, in the namespace the call names: `POST /admin/clients`
//! registers one, `GET /admin/clients` lists them (config-file clients too, in the default
//! namespace), `GET /admin/clients/{id}` shows one, `PATCH /admin/clients/{id}` adds key
//! versions (key rotation) or changes its APIs, notify URL or rate limit, and `DELETE
//! /admin/clients/{id}` removes it. They are kept in the store: replicas on one PostgreSQL
//! share them and a restart keeps them. A client id is unique across every namespace.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};

use super::{AdminBody, AdminError, AdminPath, Deleted, ErrorBody};
use crate::api::state::AppState;
use crate::client::{Client, RunTimeClient};
use crate::config::{ClientSettings, Config, ConfigError};
use crate::domain::namespace::ClientRecord;
use crate::protocol::Endpoint;
use crate::store::Registered;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/clients", get(list).post(register))
        .route("/clients/{id}", get(show).patch(change).delete(remove))
}

/// A client as `POST /admin/clients` takes it and the store keeps it: the config file's
/// `[[clients]]` fields, in the admin API's camelCase.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Registration {
    /// The Client-Id.
    #[schema(min_length = 1, max_length = 64)]
    pub client_id: String,
    /// Public keys by keyVersion: PEM or single-line base64 (X.509 SubjectPublicKeyInfo).
    // Left out, it reads as none, and a client without a key is refused.
    #[serde(default)]
    #[schema(required = true)]
    pub public_keys: BTreeMap<String, String>,
    /// API names it may call; absent means all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Endpoint>>)]
    pub endpoints: Option<Vec<String>>,
    /// Where its payments' notifications go, unless a payment names its own URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_url: Option<String>,
    /// Requests per second it may make.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1)]
    pub rate_limit_per_second: Option<u32>,
}

/// Why a stored registration is not a client this process can hold.
#[derive(Debug, thiserror::Error)]
pub enum HeldError {
    /// The stored document is no registration.
    #[error("{0}")]
    Record(#[from] serde_json::Error),
    /// The registration is refused by this process's config.
    #[error(transparent)]
    Client(#[from] ConfigError),
}

impl Registration {
    /// The client it describes, checked as a config-file client is; the error names the field.
    pub fn build(&self, config: &Config) -> Result<(Client, Option<String>), ConfigError> {
        let settings = ClientSettings {
            client_id: self.client_id.clone(),
            public_keys: self.public_keys.clone(),
            endpoints: self.endpoints.clone(),
            notify_url: self.notify_url.clone(),
            rate_limit_per_second: self.rate_limit_per_second,
            pass_through: false,
        };
        config.run_time_client(&settings, "client")
    }

    /// The client a stored record describes, as this process holds it.
    pub fn held(record: &ClientRecord, config: &Config) -> Result<RunTimeClient, HeldError> {
        let registration: Registration = serde_json::from_value(record.doc.clone())?;
        let (client, notify_url) = registration.build(config)?;
        Ok(RunTimeClient {
            client: Arc::new(client),
            namespace: Arc::from(record.namespace.as_str()),
            notify_url,
            updated_at_ms: record.updated_at_ms,
        })
    }
}

/// What `PATCH /admin/clients/{id}` changes; what it leaves out stays.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Change {
    /// Key versions to add (key rotation); a version already registered must name the same key.
    #[serde(default)]
    public_keys: BTreeMap<String, String>,
    /// Key versions to remove.
    #[serde(default)]
    remove_key_versions: Vec<String>,
    /// API names it may call.
    #[schema(value_type = Option<Vec<Endpoint>>)]
    endpoints: Option<Vec<String>>,
    /// Where its payments' notifications go.
    notify_url: Option<String>,
    /// Requests per second it may make.
    #[schema(minimum = 1)]
    rate_limit_per_second: Option<u32>,
}

/// Where a client comes from.
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
enum Source {
    /// The config file's `[[clients]]`; not changeable here.
    Config,
    /// Registered through the admin API.
    Runtime,
}

/// A client as the admin API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct ClientView {
    /// The Client-Id.
    client_id: String,
    /// The namespace it belongs to.
    namespace: String,
    source: Source,
    /// Its registered key versions.
    key_versions: Vec<String>,
    /// API names it may call; absent means all.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Endpoint>>)]
    endpoints: Option<Vec<String>>,
    /// Where its payments' notifications go.
    #[serde(skip_serializing_if = "Option::is_none")]
    notify_url: Option<String>,
    /// Requests per second it may make.
    #[serde(skip_serializing_if = "Option::is_none")]
    rate_limit_per_second: Option<u32>,
}

fn view_of(record: &ClientRecord) -> Result<ClientView, AdminError> {
    let registration: Registration = serde_json::from_value(record.doc.clone())
        .map_err(|e| AdminError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(ClientView {
        client_id: record.client_id.clone(),
        namespace: record.namespace.clone(),
        source: Source::Runtime,
        key_versions: registration.public_keys.keys().cloned().collect(),
        endpoints: registration.endpoints,
        notify_url: registration.notify_url,
        rate_limit_per_second: registration.rate_limit_per_second,
    })
}

fn config_view(state: &AppState, client: &Client) -> ClientView {
    let settings = state
        .config
        .settings
        .clients
        .iter()
        .find(|c| c.client_id == client.id);
    ClientView {
        client_id: client.id.clone(),
        namespace: state.namespace_name().to_owned(),
        source: Source::Config,
        key_versions: client.keys.versions(),
        endpoints: settings.and_then(|s| s.endpoints.clone()),
        notify_url: settings.and_then(|s| s.notify_url.clone()),
        rate_limit_per_second: settings.and_then(|s| s.rate_limit_per_second),
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The stored record of a run-time client of this namespace.
async fn own(state: &AppState, id: &str) -> Result<ClientRecord, AdminError> {
    if state.namespace.is_none() && state.clients.in_config(id) {
        return Err(AdminError::new(
            StatusCode::CONFLICT,
            format!("client {id} comes from the config file; change it there"),
        ));
    }
    state
        .registry
        .client(id)
        .await?
        .filter(|c| c.namespace == state.namespace_name())
        .ok_or_else(|| {
            AdminError::new(
                StatusCode::NOT_FOUND,
                format!("no client {id} in namespace {}", state.namespace_name()),
            )
        })
}

/// Register a client at run time, in the namespace the call names
#[utoipa::path(
    post,
    path = "/admin/clients",
    operation_id = "registerClient",
    request_body(
        content = Registration,
        example = json!({
            "clientId": "CI_SHARD_1",
            "publicKeys": {"1": "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA..."},
            "notifyUrl": "https://merchant.example/alipay/notify"
        }),
    ),
    responses(
        (status = 201, description = "Registered", body = ClientView, links(
            ("readClient" = (operation_id = "readClient",
                parameters(("id" = "$response.body#/clientId")))),
            ("changeClient" = (operation_id = "changeClient",
                parameters(("id" = "$response.body#/clientId")))),
            ("deleteClient" = (operation_id = "deleteClient",
                parameters(("id" = "$response.body#/clientId")))),
        )),
        (status = 400, body = ErrorBody,
            description = "The body breaks a rule; the message names the field"),
        (status = 404, description = "The namespace no longer exists", body = ErrorBody),
        (status = 409, description = "The client id is taken", body = ErrorBody),
    ),
)]
pub(super) async fn register(
    State(state): State<AppState>,
    AdminBody(body): AdminBody,
) -> Result<Response, AdminError> {
    let bad = |m: String| AdminError::new(StatusCode::BAD_REQUEST, m);
    let registration: Registration =
        serde_json::from_slice(&body).map_err(|e| bad(format!("not a client: {e}")))?;
    let (client, notify_url) = registration
        .build(&state.config)
        .map_err(|e| bad(e.to_string()))?;
    let id = registration.client_id.clone();
    if state.clients.in_config(&id) {
        return Err(AdminError::new(
            StatusCode::CONFLICT,
            format!("client id {id} is taken by a config-file client"),
        ));
    }
    let record = ClientRecord {
        client_id: id.clone(),
        namespace: state.namespace_name().to_owned(),
        doc: serde_json::to_value(&registration)
            .map_err(|e| AdminError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?,
        updated_at_ms: now_ms(),
    };
    match state.registry.register_client(&record).await? {
        Registered::Done => {}
        Registered::Taken(owner) => {
            let place = if owner == record.namespace {
                "in this namespace".to_owned()
            } else {
                "in another namespace".to_owned()
            };
            return Err(AdminError::new(
                StatusCode::CONFLICT,
                format!(
                    "client id {id} is already registered {place}; client ids are unique across namespaces"
                ),
            ));
        }
        Registered::NoNamespace => {
            return Err(AdminError::new(
                StatusCode::NOT_FOUND,
                format!("namespace {} no longer exists", record.namespace),
            ));
        }
    }
    state.clients.put(RunTimeClient {
        client: Arc::new(client),
        namespace: Arc::from(record.namespace.as_str()),
        notify_url,
        updated_at_ms: record.updated_at_ms,
    });
    tracing::info!(client_id = %id, namespace = %record.namespace, "client registered");
    Ok((StatusCode::CREATED, axum::Json(view_of(&record)?)).into_response())
}

/// The namespace's clients (the default namespace's include the config file's)
#[utoipa::path(
    get,
    path = "/admin/clients",
    operation_id = "listClients",
    responses((status = 200, description = "Config-file clients first", body = Vec<ClientView>)),
)]
pub(super) async fn list(State(state): State<AppState>) -> Result<Response, AdminError> {
    let mut views = Vec::new();
    if state.namespace.is_none() {
        let mut config: Vec<&Arc<Client>> = state.clients.config_clients().values().collect();
        config.sort_by(|a, b| a.id.cmp(&b.id));
        views.extend(config.into_iter().map(|c| config_view(&state, c)));
    }
    for record in state.registry.clients().await? {
        if record.namespace == state.namespace_name() {
            views.push(view_of(&record)?);
        }
    }
    Ok(axum::Json(views).into_response())
}

/// One client
#[utoipa::path(
    get,
    path = "/admin/clients/{id}",
    operation_id = "readClient",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "The client", body = ClientView),
        (status = 404, description = "No such client in this namespace", body = ErrorBody),
    ),
)]
pub(super) async fn show(
    State(state): State<AppState>,
    AdminPath(id): AdminPath,
) -> Result<Response, AdminError> {
    if state.namespace.is_none()
        && let Some(client) = state.clients.config_clients().get(&id)
    {
        return Ok(axum::Json(config_view(&state, client)).into_response());
    }
    let record = own(&state, &id).await?;
    Ok(axum::Json(view_of(&record)?).into_response())
}

/// Add or remove key versions (key rotation), change APIs, notify URL or rate
#[utoipa::path(
    patch,
    path = "/admin/clients/{id}",
    operation_id = "changeClient",
    params(("id" = String, Path)),
    request_body(content = Change, example = json!({"publicKeys": {"2": "MIIBIjANBgkqh..."}})),
    responses(
        (status = 200, description = "The client as changed", body = ClientView),
        (status = 400, body = ErrorBody,
            description = "The body breaks a rule; the message names the field"),
        (status = 404, description = "No such client, or no such key version", body = ErrorBody),
        (status = 409, body = ErrorBody,
            description = "A config-file client, a key version taken, or changed meanwhile"),
    ),
)]
pub(super) async fn change(
    State(state): State<AppState>,
    AdminPath(id): AdminPath,
    AdminBody(body): AdminBody,
) -> Result<Response, AdminError> {
    let bad = |m: String| AdminError::new(StatusCode::BAD_REQUEST, m);
    let change: Change =
        serde_json::from_slice(&body).map_err(|e| bad(format!("not a client change: {e}")))?;
    let mut record = own(&state, &id).await?;
    let mut registration: Registration = serde_json::from_value(record.doc.clone())
        .map_err(|e| AdminError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    for (version, key) in change.public_keys {
        match registration.public_keys.get(&version) {
            Some(existing) if existing.trim() != key.trim() => {
                return Err(AdminError::new(
                    StatusCode::CONFLICT,
                    format!(
                        "keyVersion {version} is already registered with another key; \
                         register the new key under a new keyVersion (or remove {version} first)"
                    ),
                ));
            }
            _ => {
                registration.public_keys.insert(version, key);
            }
        }
    }
    for version in &change.remove_key_versions {
        if registration.public_keys.remove(version).is_none() {
            return Err(AdminError::new(
                StatusCode::NOT_FOUND,
                format!("client {id} has no keyVersion {version}"),
            ));
        }
    }
    if change.endpoints.is_some() {
        registration.endpoints = change.endpoints;
    }
    if change.notify_url.is_some() {
        registration.notify_url = change.notify_url;
    }
    if change.rate_limit_per_second.is_some() {
        registration.rate_limit_per_second = change.rate_limit_per_second;
    }
    let (client, notify_url) = registration
        .build(&state.config)
        .map_err(|e| bad(e.to_string()))?;
    record.doc = serde_json::to_value(&registration)
        .map_err(|e| AdminError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let previous = record.updated_at_ms;
    record.updated_at_ms = now_ms().max(previous + 1);
    if !state.registry.update_client(&record, previous).await? {
        return Err(AdminError::new(
            StatusCode::CONFLICT,
            format!("client {id} was changed or deleted meanwhile; read it again and retry"),
        ));
    }
    state.clients.put(RunTimeClient {
        client: Arc::new(client),
        namespace: Arc::from(record.namespace.as_str()),
        notify_url,
        updated_at_ms: record.updated_at_ms,
    });
    tracing::info!(client_id = %id, namespace = %record.namespace, "client changed");
    Ok(axum::Json(view_of(&record)?).into_response())
}

/// Delete a run-time client
#[utoipa::path(
    delete,
    path = "/admin/clients/{id}",
    operation_id = "deleteClient",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "Deleted", body = Deleted),
        (status = 404, description = "No such client in this namespace", body = ErrorBody),
        (status = 409, description = "A config-file client", body = ErrorBody),
    ),
)]
pub(super) async fn remove(
    State(state): State<AppState>,
    AdminPath(id): AdminPath,
) -> Result<Response, AdminError> {
    let record = own(&state, &id).await?;
    state.registry.delete_client(&record.namespace, &id).await?;
    state.clients.forget([id.as_str()]);
    tracing::info!(client_id = %id, namespace = %record.namespace, "client deleted");
    Ok(axum::Json(Deleted { deleted: id }).into_response())
}
