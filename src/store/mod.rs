//! The payment-state store all four APIs share: what notifyPushPayment reports is what
//! inquiryPayment answers. One trait, backends chosen once by [`connect`].

mod memory;
mod namespace;
mod queue;
mod recordings;
pub mod registry;
mod settings;
mod sql;
mod url;

use std::sync::Arc;

use async_trait::async_trait;

pub use crate::domain::message::{NotifyPlan, Queuing};
pub use crate::domain::{
    Payment, PaymentStatus, PushReport, Quote, ReportOutcome, RiskReport, SeedOutcome, Written,
};

pub use crate::domain::recording::{Recording, RecordingFilter};
pub use crate::domain::{
    Attempt, CancelOutcome, NewNotification, NextStep, Notification, NotificationStatus,
    ReceivedNotification,
};
pub use memory::MemoryStore;
pub use namespace::{open_namespace, remove_namespace, sweep_namespaces};
pub use queue::NotificationQueue;
pub use recordings::{MAX_LISTED, Recordings, limit_of};
pub use registry::{Registered, Registry};
pub use settings::{StoreSettings, redact_url};
pub use sql::SqlStore;
pub use url::{StoreUrl, UnknownBackend};

/// A store failure. Every one answers UNKNOWN_EXCEPTION, so callers retry.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The backend cannot be reached.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// The backend answered something unexpected.
    #[error("{0}")]
    Internal(String),
}

impl From<UnknownBackend> for StoreError {
    fn from(e: UnknownBackend) -> Self {
        StoreError::Unavailable(format!("store.url {e}"))
    }
}

/// Which payments to list, and which page of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PaymentQuery {
    /// Only payments in this state.
    pub status: Option<PaymentStatus>,
    /// Only payments of this merchant (Client-Id).
    pub client_id: Option<String>,
    /// Only the payment with this paymentRequestId or paymentId.
    pub id: Option<String>,
    /// How many to skip, newest first.
    pub offset: u32,
    /// How many to answer at most.
    pub limit: u32,
}

/// The payment-state store. Each method is atomic on its own: two reports for the same payment
/// racing in are decided by the store, never by a read-then-write in the caller.
#[async_trait]
pub trait PaymentStore: Send + Sync + 'static {
    /// Records a notifyPushPayment result: a first report completes (or creates) the payment
    /// and queues its notification in the same write; an identical repeat is `Repeated`;
    /// anything else `Contradicts`, and the first stands.
    async fn record_push_result(
        &self,
        report: PushReport,
        plan: &NotifyPlan<'_>,
    ) -> Result<Written<ReportOutcome<Payment>>, StoreError>;

    /// The payment with this paymentRequestId.
    async fn payment(&self, payment_request_id: &str) -> Result<Option<Payment>, StoreError>;

    /// Stores a payment in any state (admin seeding); a final one queues its notification.
    async fn seed_payment(
        &self,
        payment: Payment,
        plan: &NotifyPlan<'_>,
    ) -> Result<Written<SeedOutcome>, StoreError>;

    /// Records a sendPaymentResult report, idempotently per client and referenceTransactionId.
    async fn record_risk_report(
        &self,
        report: RiskReport,
    ) -> Result<ReportOutcome<RiskReport>, StoreError>;

    /// A page of payments, newest first (by when the store first got them), that `query`
    /// accepts: the dashboard's list. Each filter is served by an index, so a page costs the
    /// same with a hundred payments or a hundred thousand.
    async fn list_payments(&self, query: &PaymentQuery) -> Result<Vec<Payment>, StoreError>;

    /// Whether the backend answers a read of its payments within the statement timeout.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Forgets everything: payments, reports, notifications and their attempts, received
    /// notifications (admin reset, to isolate test cases).
    async fn reset(&self) -> Result<(), StoreError>;

    /// How many payments and risk reports it holds (a namespace's limit counts them).
    async fn held(&self) -> Result<u64, StoreError>;

    /// Closes its connections (a namespace's store, when the namespace is deleted); the store
    /// answers nothing afterwards.
    async fn close(&self) {}

    /// The backend's name for logs (`memory`, `sqlite`, `postgres`).
    fn backend(&self) -> &'static str;
}

/// A namespace's store: payments, the notification queue and the recordings, in one backend.
pub trait Store: PaymentStore + NotificationQueue + Recordings {}

impl<T: PaymentStore + NotificationQueue + Recordings> Store for T {}

/// The default namespace's store, which also keeps the [`Registry`] of namespaces and
/// run-time clients. A namespace's own store is a [`Store`] alone, so nothing that holds one
/// can write the registry into the wrong database.
pub trait DefaultStore: Store + Registry {}

impl<T: Store + Registry> DefaultStore for T {}

/// Opens the store named by `store.url` and brings its schema up to date. The only place that
/// names a backend.
pub async fn connect(settings: &StoreSettings) -> Result<Arc<dyn DefaultStore>, StoreError> {
    let url = settings.store_url()?;
    if url == StoreUrl::Memory {
        tracing::info!(
            backend = "memory",
            "store ready (nothing is kept across restarts)"
        );
        return Ok(Arc::new(MemoryStore::with_max_entries(
            settings.memory_max_entries,
        )));
    }
    let store = SqlStore::connect(&url, &sql_options(settings, settings.max_connections)).await?;
    let version = store.migrate().await?;
    tracing::info!(backend = store.backend(), url = %url, schema_version = version, "store ready");
    Ok(Arc::new(store))
}

pub(crate) fn sql_options(settings: &StoreSettings, max_connections: u32) -> sql::SqlOptions {
    sql::SqlOptions {
        max_connections,
        acquire_timeout: std::time::Duration::from_millis(settings.acquire_timeout_ms),
        sqlite_synchronous: settings.sqlite_synchronous.clone(),
        statement_timeout: std::time::Duration::from_millis(settings.statement_timeout_ms),
        namespace: None,
        idle_timeout: None,
    }
}
