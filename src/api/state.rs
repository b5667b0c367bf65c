//! The application state every layer and handler reaches.

use std::sync::Arc;

use tokio::sync::{Notify, Semaphore, watch};

use crate::api::notify_payment::ReceiverControl;
use crate::config::Config;
use crate::domain::message::NotifyPlan;
use crate::journal::Journal;
use crate::notify::wake::WakingStore;
use crate::real::Real;
use crate::scenario::Scenarios;
use crate::signature::replay::SeenSignatures;
use crate::store::Store;

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
    /// The payment-state store and notification queue; it wakes the sender itself when a write
    /// makes a notification due ([`WakingStore`]).
    pub store: Arc<dyn Store>,
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
    /// Bundles configuration and store.
    pub fn new(config: Config, store: Arc<dyn Store>) -> Self {
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
        Self(Arc::new(Shared {
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
            store: Arc::new(WakingStore::new(store, wake.clone())),
            wake,
            receiver: Arc::new(ReceiverControl::default()),
        }))
    }

    /// How a payment that becomes final now, through `caller`, is notified.
    pub fn notify_plan<'a>(&'a self, caller: &'a str) -> NotifyPlan<'a> {
        NotifyPlan {
            caller,
            default_urls: &self.config.notify_urls,
            first_due_ms: self
                .config
                .schedule
                .first_due(chrono::Utc::now().timestamp_millis()),
        }
    }
}
