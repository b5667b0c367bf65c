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

use super::{AdminBody, AdminError, AdminPath};
use crate::api::state::AppState;
use crate::client::{Client, RunTimeClient};
use crate::config::{ClientSettings, Config, ConfigError};
use crate::domain::namespace::ClientRecord;
use crate::store::Registered;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/clients", get(list).post(register))
        .route("/clients/{id}", get(show).patch(change).delete(remove))
}

/// A client as `POST /admin/clients` takes it and the store keeps it: the config file's
/// `[[clients]]` fields, in the admin API's camelCase.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Registration {
    /// The Client-Id.
    pub client_id: String,
    /// Public keys by keyVersion: PEM or base64 (X.509 SubjectPublicKeyInfo).
    #[serde(default)]
    pub public_keys: BTreeMap<String, String>,
    /// API names it may call; absent means all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoints: Option<Vec<String>>,
    /// Where its payments' notifications go, unless a payment names its own URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_url: Option<String>,
    /// Requests per second it may make.
    #[serde(default, skip_serializing_if = "Option::is_none")]
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
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Change {
    /// Key versions to add (key rotation); a version already registered must name the same key.
    #[serde(default)]
    public_keys: BTreeMap<String, String>,
    /// Key versions to remove.
    #[serde(default)]
    remove_key_versions: Vec<String>,
    endpoints: Option<Vec<String>>,
    notify_url: Option<String>,
    rate_limit_per_second: Option<u32>,
}

/// A client as listed.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct View {
    client_id: String,
    namespace: String,
    /// `config` (the config file; not changeable here) or `runtime`.
    source: &'static str,
    key_versions: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    endpoints: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    notify_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rate_limit_per_second: Option<u32>,
}

fn view_of(record: &ClientRecord) -> Result<View, AdminError> {
    let registration: Registration = serde_json::from_value(record.doc.clone())
        .map_err(|e| AdminError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(View {
        client_id: record.client_id.clone(),
        namespace: record.namespace.clone(),
        source: "runtime",
        key_versions: registration.public_keys.keys().cloned().collect(),
        endpoints: registration.endpoints,
        notify_url: registration.notify_url,
        rate_limit_per_second: registration.rate_limit_per_second,
    })
}

fn config_view(state: &AppState, client: &Client) -> View {
    let settings = state
        .config
        .settings
        .clients
        .iter()
        .find(|c| c.client_id == client.id);
    View {
        client_id: client.id.clone(),
        namespace: state.namespace_name().to_owned(),
        source: "config",
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

async fn register(
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

async fn list(State(state): State<AppState>) -> Result<Response, AdminError> {
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

async fn show(
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

async fn change(
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

async fn remove(
    State(state): State<AppState>,
    AdminPath(id): AdminPath,
) -> Result<Response, AdminError> {
    let record = own(&state, &id).await?;
    state.registry.delete_client(&record.namespace, &id).await?;
    state.clients.forget([id.as_str()]);
    tracing::info!(client_id = %id, namespace = %record.namespace, "client deleted");
    Ok(axum::Json(serde_json::json!({ "deleted": id })).into_response())
}
