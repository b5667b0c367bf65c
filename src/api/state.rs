//! The application state every layer and handler reaches.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, Semaphore, watch};

use crate::api::notify_payment::ReceiverControl;
use crate::client::Directory;
use crate::config::Config;
use crate::domain::message::NotifyPlan;
use crate::domain::namespace::NamespaceRecord;
use crate::journal::Journal;
use crate::notify::sender::{SendError, Sender};
use crate::notify::wake::WakingStore;
use crate::notify::worker::{Lease, Worker};
use crate::real::Real;
use crate::scenario::Scenarios;
use crate::signature::replay::SeenSignatures;
use crate::store::{DefaultStore, Registry, Store};

/// What every handler can reach: one `Arc`, so a clone per request and per layer is one
/// reference count.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The state behind [`AppState`].
pub struct Shared {
    /// The validated configuration, keys parsed.
    pub config: Arc<Config>,
    /// Every client: the config file's and those registered at run time, in every namespace.
    pub clients: Arc<Directory>,
    /// The namespaces and run-time clients: the default store, whichever namespace this is.
    pub registry: Arc<dyn Registry>,
    /// The namespace this state serves; `None` is the default namespace, today's gateway.
    pub namespace: Option<Arc<NamespaceRecord>>,
    /// The payment-state store, notification queue and recordings of this namespace; it wakes
    /// the sender itself when a write makes a notification due ([`WakingStore`]).
    pub store: WakingStore,
    /// Wakes the notification sender: something became due.
    pub wake: Arc<Notify>,
    /// The notification receiver's scripted failures.
    pub receiver: Arc<ReceiverControl>,
    /// Scenario rules and the random source of latencies.
    pub scenarios: Arc<Scenarios>,
    /// The bounded request journal.
    pub journal: Arc<Journal>,
    /// One permit per API request being handled (`server.max_in_flight`).
    pub in_flight: Arc<Semaphore>,
    /// Signed contents received lately, when `server.reject_replayed_signatures` is on.
    pub seen_signatures: Option<Arc<SeenSignatures>>,
    /// Real mode, when `[real]` asks for more than the mock; `None` leaves every API's
    /// pipeline exactly as without it.
    pub real: Option<Arc<Real>>,
    /// Turns true when the server stops accepting: answers that never end on their own (the
    /// dashboard's live journal) end then, so a graceful shutdown does not wait for them.
    pub closing: watch::Sender<bool>,
}

impl AppState {
    /// Bundles configuration and the default store.
    pub fn new(config: Config, store: Arc<dyn DefaultStore>) -> Self {
        // Metrics are recorded from the first request on.
        crate::telemetry::prometheus();
        let journal = &config.settings.journal;
        let capacity = if journal.enabled { journal.capacity } else { 0 };
        let wake = Arc::new(Notify::new());
        let real = config.real.as_ref().map(|r| {
            let key = Arc::clone(&config.signing_key);
            let version = &config.settings.signing.key_version;
            Arc::new(Real::new(r, key, version).unwrap_or_else(|e| {
                // Forwarding then answers UNKNOWN_EXCEPTION saying there is no upstream client.
                tracing::error!(error = %e, "real mode: the upstream client could not be built");
                Real {
                    modes: crate::real::Modes::new(r.mode, r.routes.clone()),
                    forwarder: None,
                    update_store: r.update_store,
                    relay: None,
                }
            }))
        });
        let clients = Arc::new(Directory::new(
            Arc::clone(&config.clients),
            Arc::clone(&config.notify_urls),
        ));
        let registry: Arc<dyn Registry> = store.clone();
        let store: Arc<dyn Store> = store;
        Self(Arc::new(Shared {
            clients,
            registry,
            namespace: None,
            real,
            scenarios: Arc::new(Scenarios::new(
                config.rules.clone(),
                config.settings.scenario.seed,
            )),
            journal: Arc::new(Journal::new(capacity, journal.max_body_bytes)),
            in_flight: Arc::new(Semaphore::new(config.settings.server.max_in_flight)),
            closing: watch::channel(false).0,
            seen_signatures: config.settings.server.reject_replayed_signatures.then(|| {
                let server = &config.settings.server;
                Arc::new(SeenSignatures::new(
                    server.clock_skew_seconds,
                    server.seen_signatures_capacity,
                ))
            }),
            config: Arc::new(config),
            store: WakingStore::new(store, wake.clone()),
            wake,
            receiver: Arc::new(ReceiverControl::default()),
        }))
    }

    /// The state of a namespace: its own store, journal, rules, receiver and sender wake-up,
    /// beside what every namespace shares (config, clients, the in-flight permits, the
    /// seen-signature cache). Real mode stays with the default namespace.
    pub fn for_namespace(&self, namespace: Arc<NamespaceRecord>, store: Arc<dyn Store>) -> Self {
        let journal = &self.config.settings.journal;
        // A namespace's journal limit is its journal's size, in place of `journal.capacity`;
        // full, it keeps what it holds.
        let journal = match (journal.enabled, namespace.max_journal_entries) {
            (false, _) => Journal::new(0, journal.max_body_bytes),
            (true, None) => Journal::new(journal.capacity, journal.max_body_bytes),
            (true, Some(limit)) => Journal::limited(
                usize::try_from(limit).unwrap_or(usize::MAX),
                journal.max_body_bytes,
            ),
        };
        let wake = Arc::new(Notify::new());
        Self(Arc::new(Shared {
            config: Arc::clone(&self.config),
            clients: Arc::clone(&self.clients),
            registry: Arc::clone(&self.registry),
            namespace: Some(namespace),
            store: WakingStore::new(store, wake.clone()),
            wake,
            receiver: Arc::new(ReceiverControl::default()),
            scenarios: Arc::new(Scenarios::new(
                self.config.rules.clone(),
                self.config.settings.scenario.seed,
            )),
            journal: Arc::new(journal),
            in_flight: Arc::clone(&self.in_flight),
            seen_signatures: self.seen_signatures.clone(),
            real: None,
            closing: self.closing.clone(),
        }))
    }

    /// The namespace's name: `default` for the default namespace.
    pub fn namespace_name(&self) -> &str {
        self.namespace
            .as_ref()
            .map_or(crate::domain::namespace::DEFAULT_NAMESPACE, |n| {
                n.name.as_str()
            })
    }

    /// Where this namespace's notifications may go: a namespace's within
    /// [`Config::run_time_outbound`], the default namespace's within `notify.allowed_hosts`.
    pub fn outbound(&self) -> &Arc<crate::notify::outbound::OutboundPolicy> {
        match self.namespace {
            Some(_) => &self.config.run_time_outbound,
            None => &self.config.outbound,
        }
    }

    /// The notification sender of this namespace, under a lease name of its own.
    pub fn notification_worker(&self) -> Result<Worker, SendError> {
        let cfg = &self.config;
        let notify = &cfg.settings.notify;
        let sender = Sender::new(
            cfg.signing_key.clone(),
            cfg.settings.signing.key_version.clone(),
            Duration::from_millis(notify.timeout_ms),
            notify.require_signed_ack,
            Arc::clone(&self.clients),
            Arc::clone(self.outbound()),
        )?;
        let owner = format!(
            "{}-{}",
            std::process::id(),
            &crate::ids::notification_id()[4..12]
        );
        Ok(Worker::new(
            self.store.shared(),
            sender,
            cfg.schedule.clone(),
            Lease {
                owner,
                duration: Duration::from_millis(notify.lease_ms),
            },
            notify.concurrency,
            self.wake.clone(),
            self.journal.clone(),
        ))
    }

    /// How a payment that becomes final now, through `caller`, is notified; `urls` are the
    /// clients' default notify URLs ([`Directory::notify_urls`]).
    pub fn notify_plan<'a>(
        &'a self,
        caller: &'a str,
        urls: &'a Arc<HashMap<String, String>>,
    ) -> NotifyPlan<'a> {
        NotifyPlan {
            caller,
            default_urls: urls,
            first_due_ms: self
                .config
                .schedule
                .first_due(chrono::Utc::now().timestamp_millis()),
        }
    }
}
