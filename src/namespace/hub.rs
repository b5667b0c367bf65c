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
    /// Opening, replacing and deleting take turns: a store connects and migrates under it, so
    /// two requests for a namespace not yet open open it once, and a delete never races an open.
    changing: tokio::sync::Mutex<()>,
    /// Client-Ids the store did not know lately, with when that stops counting (epoch ms): a
    /// flood of unknown ids costs one store read per id and sync interval, not one per request.
    unknown: Mutex<HashMap<String, i64>>,
    /// The paths of the APIs (the receiver's included): only these reach a namespace by Client-Id.
    api_paths: HashSet<String>,
}

/// The most unknown Client-Ids remembered; past it the memory starts again.
const UNKNOWN_KEPT: usize = 10_000;

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl Hub {
    /// A hub with nothing open, beside the default namespace's `state`.
    pub fn new(default: AppState) -> Arc<Self> {
        let notify_path = &default.config.settings.server.notify_payment_path;
        let api_paths = crate::api::all()
            .flat_map(|api| api.paths(notify_path))
            .map(str::to_owned)
            .collect();
        Arc::new(Self {
            default,
            open: RwLock::new(HashMap::new()),
            changing: tokio::sync::Mutex::new(()),
            unknown: Mutex::new(HashMap::new()),
            api_paths,
        })
    }

    /// Whether `path` is one an API answers on.
    pub fn is_api_path(&self, path: &str) -> bool {
        self.api_paths.contains(path)
    }

    fn cached(&self, name: &str) -> Option<Arc<Open>> {
        self.open
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .cloned()
    }

    /// The live namespace `name` as stored now, without opening it; `None` when it does not
    /// exist, or its time ran out. Read from the store every time: an admin call must never act
    /// on a namespace another replica deleted (or deleted and created again) a moment ago.
    pub async fn record(&self, name: &str) -> Result<Option<NamespaceRecord>, StoreError> {
        Ok(self
            .default
            .registry
            .namespaces()
            .await?
            .into_iter()
            .find(|n| n.name == name && !n.expired(now_ms())))
    }

    /// The namespace `name` as stored now, opened (again, when the one held here was deleted
    /// and created again elsewhere); `None` when it does not exist, or its time ran out.
    pub async fn find(&self, name: &str) -> Result<Option<Arc<Open>>, StoreError> {
        match self.record(name).await? {
            Some(record) => self.serving(record).await,
            None => Ok(None),
        }
    }

    /// The namespace `record` describes, as held here when it is the same, else opened.
    pub async fn serving(&self, record: NamespaceRecord) -> Result<Option<Arc<Open>>, StoreError> {
        match self.cached(&record.name) {
            Some(open) if *open.record == record => Ok(Some(open)),
            _ => self.open(record).await,
        }
    }

    /// The namespace `name` as held here, when it is, else as [`Hub::find`] finds it: for the
    /// APIs, whose every request would otherwise read the store once more. What is held is at
    /// most one sync interval behind the store.
    pub async fn find_held(&self, name: &str) -> Result<Option<Arc<Open>>, StoreError> {
        match self.cached(name) {
            Some(open) => Ok((!open.record.expired(now_ms())).then_some(open)),
            None => self.find(name).await,
        }
    }

    /// Opens the namespace `record` describes: its store (created when missing), its state,
    /// its router, its notification sender. One held under its name with another record (a
    /// namespace deleted and created again elsewhere) is closed first. `None` when the record
    /// is no longer stored.
    pub async fn open(&self, record: NamespaceRecord) -> Result<Option<Arc<Open>>, StoreError> {
        super::check_name(&record.name).map_err(|e| StoreError::Internal(e.to_string()))?;
        let _changing = self.changing.lock().await;
        if let Some(open) = self.cached(&record.name) {
            if *open.record == record {
                return Ok(Some(open));
            }
            self.close(&record.name).await;
        }
        let settings = &self.default.config.settings;
        let store = store::open_namespace(
            &settings.store,
            &record.name,
            &record.id,
            settings.namespaces.max_connections,
        )
        .await?;
        // Deleted meanwhile (by another replica): what opening made goes again.
        let stored = self.default.registry.namespaces().await;
        if !stored.as_ref().is_ok_and(|all| all.contains(&record)) {
            store.close().await;
            store::remove_namespace(&settings.store, &record.name, &record.id).await?;
            return stored.map(|_| None);
        }
        let record = Arc::new(record);
        let state = self.default.for_namespace(Arc::clone(&record), store);
        let (stop, stopped) = watch::channel(false);
        let sender = if settings.notify.enabled {
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
        Ok(Some(open))
    }

    /// Closes the namespace `name` here: its sender finishes its attempts in flight and gives
    /// back its leases, then its store closes. What it stored stays.
    async fn close(&self, name: &str) {
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
        let clients = self.default.clients.run_time_in(name);
        self.default
            .clients
            .forget(clients.iter().map(|c| &*c.client.id));
        tracing::info!(namespace = %name, "namespace closed");
    }

    /// Deletes the namespace `record` describes with everything it owns; `false` when it was
    /// not stored any more (another replica deleted it first, and removed what it kept).
    pub async fn delete(&self, record: &NamespaceRecord) -> Result<bool, StoreError> {
        let _changing = self.changing.lock().await;
        let deleted = self
            .default
            .registry
            .delete_namespace(&record.name, &record.id)
            .await?;
        if self
            .cached(&record.name)
            .is_some_and(|open| open.record.id == record.id)
        {
            self.close(&record.name).await;
        }
        if deleted {
            let settings = &self.default.config.settings.store;
            store::remove_namespace(settings, &record.name, &record.id).await?;
            tracing::info!(namespace = %record.name, "namespace deleted");
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
    /// reopens those deleted and created again elsewhere, closes those deleted elsewhere, and
    /// holds every run-time client as registered now.
    pub async fn sync(&self) -> Result<(), StoreError> {
        let now = now_ms();
        let mut live = HashSet::new();
        for record in self.default.registry.namespaces().await? {
            if record.expired(now) {
                tracing::info!(namespace = %record.name, "namespace ran out of time");
                self.delete(&record).await?;
                continue;
            }
            live.insert(record.name.clone());
            let held = self.cached(&record.name);
            if held.is_none_or(|open| *open.record != record)
                && let Err(e) = self.open(record).await
            {
                tracing::warn!(error = %e, "a namespace could not be opened");
            }
        }
        for name in self.open_names() {
            if !live.contains(&name) {
                let _changing = self.changing.lock().await;
                self.close(&name).await;
            }
        }
        self.unknown
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|_, until| *until > now);
        self.sync_clients(&live).await
    }

    /// Holds every run-time client of a live namespace as the store has it now; a client whose
    /// registration did not change keeps its rate limiter.
    async fn sync_clients(&self, live: &HashSet<String>) -> Result<(), StoreError> {
        let directory = &self.default.clients;
        let mut held = directory.run_time_versions();
        for record in self.default.registry.clients().await? {
            if record.namespace != DEFAULT_NAMESPACE && !live.contains(&record.namespace) {
                // Its namespace may be newer than this sync's list of namespaces (another
                // replica created it meanwhile, and a request already learnt the client):
                // left as held, for the next sync to decide.
                held.remove(&record.client_id);
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
        let now = now_ms();
        if self
            .unknown
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .is_some_and(|until| *until > now)
        {
            return None;
        }
        let record = match self.default.registry.client(id).await {
            Ok(Some(record)) => record,
            Ok(None) => {
                let mut unknown = self.unknown.lock().unwrap_or_else(|e| e.into_inner());
                if unknown.len() >= UNKNOWN_KEPT {
                    unknown.clear();
                }
                let every = self.default.config.settings.namespaces.sync_interval_ms;
                unknown.insert(id.to_owned(), now + i64::try_from(every).unwrap_or(1000));
                return None;
            }
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

    /// Removes the stores of namespaces that no longer exist (a gateway killed between deleting
    /// a namespace and removing its store left them), then syncs every
    /// `namespaces.sync_interval_ms` until `stopped`, then closes every namespace.
    pub async fn run(self: Arc<Self>, mut stopped: watch::Receiver<bool>) {
        let registry = Arc::clone(&self.default.registry);
        let live = move || {
            let registry = Arc::clone(&registry);
            Box::pin(async move {
                Ok(registry
                    .namespaces()
                    .await?
                    .into_iter()
                    .map(|n| (n.name, n.id))
                    .collect())
            }) as _
        };
        match store::sweep_namespaces(&self.default.config.settings.store, live).await {
            Ok(removed) if !removed.is_empty() => {
                tracing::info!(removed = ?removed, "stores of deleted namespaces removed");
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "stores of deleted namespaces could not be removed")
            }
        }
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
        let _changing = self.changing.lock().await;
        for name in self.open_names() {
            self.close(&name).await;
        }
    }
}
