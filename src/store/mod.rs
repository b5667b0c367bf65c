//! The payment-state store all four APIs share: what notifyPushPayment reports is what
//! inquiryPayment answers. One trait, backends chosen once by [`connect`].

mod memory;
mod queue;
mod recordings;
mod settings;
mod sql;

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
pub use queue::NotificationQueue;
pub use recordings::{MAX_LISTED, Recordings, limit_of};
pub use settings::{StoreSettings, redact_url};
pub use sql::SqlStore;

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

    /// The backend's name for logs (`memory`, `sqlite`, `postgres`).
    fn backend(&self) -> &'static str;
}

/// The whole store: payments, the notification queue and the recordings, in one backend.
pub trait Store: PaymentStore + NotificationQueue + Recordings {}

impl<T: PaymentStore + NotificationQueue + Recordings> Store for T {}

/// Opens the store named by `store.url` and brings its schema up to date. The only place that
/// names a backend.
pub async fn connect(settings: &StoreSettings) -> Result<Arc<dyn Store>, StoreError> {
    let url = settings.url.trim();
    if url == "memory://" {
        tracing::info!(
            backend = "memory",
            "store ready (nothing is kept across restarts)"
        );
        return Ok(Arc::new(MemoryStore::with_max_entries(
            settings.memory_max_entries,
        )));
    }
    let options = sql::SqlOptions {
        max_connections: settings.max_connections,
        acquire_timeout: std::time::Duration::from_millis(settings.acquire_timeout_ms),
        sqlite_synchronous: settings.sqlite_synchronous.clone(),
        statement_timeout: std::time::Duration::from_millis(settings.statement_timeout_ms),
    };
    let store = SqlStore::connect(url, &options).await?;
    let version = store.migrate().await?;
    tracing::info!(backend = store.backend(), url = %sql::redact(url), schema_version = version, "store ready");
    Ok(Arc::new(store))
}
