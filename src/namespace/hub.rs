//! The namespaces this process has open, and keeping them in step with the store.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use axum::Router;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::api;
use crate::api::admin::clients::Registration;
use crate::api::state::AppState;
use crate::domain::namespace::{DEFAULT_NAMESPACE, NamespaceRecord};
use crate::store::{self, StoreError};

/// An open namespace: its state, the router that serves it, and its notification sender.
pub struct Open {
    /// Its record, limits included.
    pub record: Arc<NamespaceRecord>,
    /// Its state: its own store, journal, rules and receiver.
    pub state: AppState,
    /// The APIs and the admin API, over `state`.
    pub router: Router,
    stop: watch::Sender<bool>,
    sender: Mutex<Option<JoinHandle<()>>>,
}

/// The namespaces this process has open.
pub struct Hub {
    /// The default namespace's state: config, clients, the registry.
    pub default: AppState,
    open: RwLock<HashMap<String, Arc<Open>>>,
    /// One namespace is opened at a time (a store connects and migrates), so two requests for a
    /// namespace not yet open open it once.
    opening: tokio::sync::Mutex<()>,
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl Hub {
    /// A hub with nothing open, beside the default namespace's `state`.
    pub fn new(default: AppState) -> Arc<Self> {
        Arc::new(Self {
            default,
            open: RwLock::new(HashMap::new()),
            opening: tokio::sync::Mutex::new(()),
        })
    }

    fn cached(&self, name: &str) -> Option<Arc<Open>> {
        self.open
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .cloned()
    }

    /// The namespace `name`, opening it when another replica created it; `None` when it does
    /// not exist, or its time ran out.
    pub async fn find(&self, name: &str) -> Result<Option<Arc<Open>>, StoreError> {
        if let Some(open) = self.cached(name) {
            return Ok((!open.record.expired(now_ms())).then_some(open));
        }
        let record = self
            .default
            .registry
            .namespaces()
            .await?
            .into_iter()
            .find(|n| n.name == name && !n.expired(now_ms()));
        match record {
            Some(record) => self.open(record).await.map(Some),
            None => Ok(None),
        }
    }

    /// Opens the namespace `record` describes: its store (created when missing), its state,
    /// its router, its notification sender.
    pub async fn open(&self, record: NamespaceRecord) -> Result<Arc<Open>, StoreError> {
        let _opening = self.opening.lock().await;
        if let Some(open) = self.cached(&record.name) {
            return Ok(open);
        }
        let config = &self.default.config.settings;
        let store = store::open_namespace(
            &config.store,
            &record.name,
            config.namespaces.max_connections,
        )
        .await?;
        let record = Arc::new(record);
        let state = self.default.for_namespace(Arc::clone(&record), store);
        let (stop, stopped) = watch::channel(false);
        let sender = if config.notify.enabled {
            let worker = state
                .notification_worker()
                .map_err(|e| StoreError::Internal(format!("notification sender: {e}")))?;
            Some(tokio::spawn(worker.run(stopped)))
        } else {
            None
        };
        let open = Arc::new(Open {
            router: api::router(state.clone()),
            record,
            state,
            stop,
            sender: Mutex::new(sender),
        });
        self.open
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(open.record.name.clone(), Arc::clone(&open));
        tracing::info!(namespace = %open.record.name, "namespace open");
        Ok(open)
    }

    /// Closes the namespace `name` here: its sender finishes its attempts in flight and gives
    /// back its leases, then its store closes. What it stored stays.
    pub async fn close(&self, name: &str) {
        let Some(open) = self
            .open
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(name)
        else {
            return;
        };
        open.stop.send_replace(true);
        let sender = open.sender.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(sender) = sender {
            let _ = sender.await;
        }
        open.state.store.close().await;
        self.default.clients.forget(
            self.default
                .clients
                .run_time_in(name)
                .iter()
                .map(|c| &*c.client.id),
        );
        tracing::info!(namespace = %name, "namespace closed");
    }

    /// Deletes the namespace `name` with everything it owns; `false` when there was none (or
    /// another replica deleted it first, and removed what it kept).
    pub async fn delete(&self, name: &str) -> Result<bool, StoreError> {
        let deleted = self.default.registry.delete_namespace(name).await?;
        self.close(name).await;
        if deleted {
            store::remove_namespace(&self.default.config.settings.store, name).await?;
            tracing::info!(namespace = %name, "namespace deleted");
        }
        Ok(deleted)
    }

    /// The namespaces open here, by name.
    pub fn open_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .open
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .cloned()
            .collect();
        names.sort();
        names
    }

    /// Brings this process in step with the store: deletes the namespaces whose time ran out,
    /// opens those another replica created (so their notifications go out from every replica),
    /// closes those deleted elsewhere, and holds every run-time client as registered now.
    pub async fn sync(&self) -> Result<(), StoreError> {
        let now = now_ms();
        let mut live = HashSet::new();
        for record in self.default.registry.namespaces().await? {
            if record.expired(now) {
                tracing::info!(namespace = %record.name, "namespace ran out of time");
                self.delete(&record.name).await?;
            } else {
                live.insert(record.name.clone());
                if self.cached(&record.name).is_none()
                    && let Err(e) = self.open(record).await
                {
                    tracing::warn!(error = %e, "a namespace could not be opened");
                }
            }
        }
        for name in self.open_names() {
            if !live.contains(&name) {
                self.close(&name).await;
            }
        }
        self.sync_clients(&live).await
    }

    /// Holds every run-time client of a live namespace as the store has it now; a client whose
    /// registration did not change keeps its rate limiter.
    async fn sync_clients(&self, live: &HashSet<String>) -> Result<(), StoreError> {
        let directory = &self.default.clients;
        let mut held = directory.run_time_versions();
        for record in self.default.registry.clients().await? {
            if record.namespace != DEFAULT_NAMESPACE && !live.contains(&record.namespace) {
                continue;
            }
            if held.remove(&record.client_id) == Some(record.updated_at_ms) {
                continue;
            }
            match Registration::held(&record, &self.default.config) {
                Ok(client) => directory.put(client),
                Err(e) => {
                    tracing::warn!(client_id = %record.client_id, error = %e, "a stored client is not valid here")
                }
            }
        }
        directory.forget(held.keys().map(String::as_str));
        Ok(())
    }

    /// The run-time client `id`, learnt from the store when another replica registered it
    /// since the last sync: its namespace, or `None` when there is no such client.
    pub async fn learn(&self, id: &str) -> Option<Arc<str>> {
        let record = match self.default.registry.client(id).await {
            Ok(record) => record?,
            Err(e) => {
                tracing::warn!(error = %e, "a client could not be looked up");
                return None;
            }
        };
        match Registration::held(&record, &self.default.config) {
            Ok(client) => {
                let namespace = Arc::clone(&client.namespace);
                self.default.clients.put(client);
                Some(namespace)
            }
            Err(e) => {
                tracing::warn!(client_id = %id, error = %e, "a stored client is not valid here");
                None
            }
        }
    }

    /// Syncs every `namespaces.sync_interval_ms` until `stopped`, then closes every namespace.
    pub async fn run(self: Arc<Self>, mut stopped: watch::Receiver<bool>) {
        let every = Duration::from_millis(self.default.config.settings.namespaces.sync_interval_ms);
        loop {
            if let Err(e) = self.sync().await {
                tracing::warn!(error = %e, "namespaces could not be brought in step with the store");
            }
            tokio::select! {
                () = tokio::time::sleep(every) => {}
                _ = stopped.wait_for(|stop| *stop) => break,
            }
        }
        for name in self.open_names() {
            self.close(&name).await;
        }
    }
}
