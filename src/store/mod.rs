//! The payment-state store all four APIs share: what notifyPushPayment reports is what
//! inquiryPayment answers. One trait, backends chosen once by [`connect`].

mod memory;
mod queue;
mod recordings;
pub mod registry;
mod settings;
mod sql;

use std::path::{Path, PathBuf};
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
pub use registry::{Registered, Registry};
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

    /// How many payments and risk reports it holds (a namespace's limit counts them).
    async fn held(&self) -> Result<u64, StoreError>;

    /// Closes its connections (a namespace's store, when the namespace is deleted); the store
    /// answers nothing afterwards.
    async fn close(&self) {}

    /// The backend's name for logs (`memory`, `sqlite`, `postgres`).
    fn backend(&self) -> &'static str;
}

/// The whole store: payments, the notification queue, the recordings, and the namespaces and
/// run-time clients, in one backend.
pub trait Store: PaymentStore + NotificationQueue + Recordings + Registry {}

impl<T: PaymentStore + NotificationQueue + Recordings + Registry> Store for T {}

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
    let store = SqlStore::connect(url, &sql_options(settings, settings.max_connections)).await?;
    let version = store.migrate().await?;
    tracing::info!(backend = store.backend(), url = %sql::redact(url), schema_version = version, "store ready");
    Ok(Arc::new(store))
}

fn sql_options(settings: &StoreSettings, max_connections: u32) -> sql::SqlOptions {
    sql::SqlOptions {
        max_connections,
        acquire_timeout: std::time::Duration::from_millis(settings.acquire_timeout_ms),
        sqlite_synchronous: settings.sqlite_synchronous.clone(),
        statement_timeout: std::time::Duration::from_millis(settings.statement_timeout_ms),
        namespace: None,
        idle_timeout: None,
    }
}

/// Where a namespace's own store lives, beside the default one, named after the namespace's
/// name and id: a SQLite file next to the default file (`gateway.db` →
/// `gateway.ns-NAME.ID.db`), a PostgreSQL schema in the same database (`gateway_ns_NAME_ID`, or
/// `SCHEMA_ns_NAME_ID` beside a default store in a schema other than `public`), or, with
/// `memory://`, a memory store of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NamespacePlace {
    /// A memory store of its own.
    Memory,
    /// A SQLite database: the store URL, and the files to remove with it.
    Sqlite { url: String, files: Vec<PathBuf> },
    /// A schema of the default PostgreSQL database, for the namespace store `namespace`
    /// (`NAME_ID`).
    Postgres { url: String, namespace: String },
}

/// The default SQLite file's directory, name before its extension, extension (with its dot)
/// and URL query, when the store is SQLite.
fn sqlite_parts(settings: &StoreSettings) -> Option<(PathBuf, String, String, String)> {
    let rest = settings.url.trim().strip_prefix("sqlite://")?;
    let (file, query) = match rest.split_once('?') {
        Some((file, query)) => (file, format!("?{query}")),
        None => (rest, String::new()),
    };
    let path = Path::new(file);
    let stem = path.file_stem().map_or_else(
        || "gateway".to_owned(),
        |s| s.to_string_lossy().into_owned(),
    );
    let ext = path
        .extension()
        .map_or_else(String::new, |e| format!(".{}", e.to_string_lossy()));
    let dir = path.parent().map_or_else(PathBuf::new, Path::to_path_buf);
    Some((dir, stem, ext, query))
}

/// The prefix of every namespace's SQLite file name beside the default file.
fn sqlite_prefix(stem: &str) -> String {
    format!("{stem}.ns-")
}

/// Where the namespace `name` with id `id` (both checked: lowercase letters, digits, dashes)
/// lives.
pub fn namespace_place(settings: &StoreSettings, name: &str, id: &str) -> NamespacePlace {
    if let Some((dir, stem, ext, query)) = sqlite_parts(settings) {
        let own = dir.join(format!("{}{name}.{id}{ext}", sqlite_prefix(&stem)));
        let files = ["", "-wal", "-shm"]
            .iter()
            .map(|suffix| PathBuf::from(format!("{}{suffix}", own.display())))
            .collect();
        return NamespacePlace::Sqlite {
            url: format!("sqlite://{}{query}", own.display()),
            files,
        };
    }
    let url = settings.url.trim();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return NamespacePlace::Postgres {
            url: url.to_owned(),
            namespace: format!("{name}_{id}"),
        };
    }
    NamespacePlace::Memory
}

/// How long a namespace's idle connections stay open: an idle namespace holds none.
const NAMESPACE_IDLE: std::time::Duration = std::time::Duration::from_secs(30);

/// Opens (creating it when missing) the store of the namespace `name` with id `id`, with at
/// most `max_connections` connections, its schema brought up to date.
pub async fn open_namespace(
    settings: &StoreSettings,
    name: &str,
    id: &str,
    max_connections: u32,
) -> Result<Arc<dyn Store>, StoreError> {
    let options = sql::SqlOptions {
        idle_timeout: Some(NAMESPACE_IDLE),
        ..sql_options(settings, max_connections)
    };
    let store = match namespace_place(settings, name, id) {
        NamespacePlace::Memory => {
            return Ok(Arc::new(MemoryStore::with_max_entries(
                settings.memory_max_entries,
            )));
        }
        NamespacePlace::Sqlite { url, .. } => SqlStore::connect(&url, &options).await?,
        NamespacePlace::Postgres { url, namespace } => {
            let options = sql::SqlOptions {
                namespace: Some(namespace),
                ..options
            };
            SqlStore::connect(&url, &options).await?
        }
    };
    if let Err(e) = store.migrate().await {
        store.close().await;
        return Err(e);
    }
    Ok(Arc::new(store))
}

/// Removes what the namespace `name` with id `id` kept: its SQLite files or its PostgreSQL
/// schema. Its store must be closed first.
pub async fn remove_namespace(
    settings: &StoreSettings,
    name: &str,
    id: &str,
) -> Result<(), StoreError> {
    match namespace_place(settings, name, id) {
        NamespacePlace::Memory => Ok(()),
        NamespacePlace::Sqlite { files, .. } => {
            for file in files {
                remove_file(&file)?;
            }
            Ok(())
        }
        NamespacePlace::Postgres { url, namespace } => sql::drop_schema(&url, &namespace).await,
    }
}

fn remove_file(file: &Path) -> Result<(), StoreError> {
    match std::fs::remove_file(file) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(StoreError::Internal(format!(
            "cannot remove {}: {e}",
            file.display()
        ))),
        _ => Ok(()),
    }
}

/// Removes the stores of namespaces that no longer exist: what a gateway killed between deleting
/// a namespace and removing its store left behind. `live` are the (name, id) of those that
/// exist, read *after* the stores were listed, so a namespace being created meanwhile (its
/// record is stored before its store is made) is never taken for one left behind. Answers what
/// it removed.
pub async fn sweep_namespaces(
    settings: &StoreSettings,
    live: impl Fn() -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Vec<(String, String)>, StoreError>> + Send>,
    >,
) -> Result<Vec<String>, StoreError> {
    if let Some((dir, stem, ext, _)) = sqlite_parts(settings) {
        let prefix = sqlite_prefix(&stem);
        let listed_dir = if dir.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            dir.clone()
        };
        let found: Vec<String> = match std::fs::read_dir(&listed_dir) {
            Ok(entries) => entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(&prefix))
                .collect(),
            Err(_) => return Ok(Vec::new()),
        };
        let keep: std::collections::HashSet<String> = live()
            .await?
            .iter()
            .map(|(name, id)| format!("{prefix}{name}.{id}{ext}"))
            .collect();
        let mut removed = Vec::new();
        for file in found {
            let base = file
                .strip_suffix("-wal")
                .or_else(|| file.strip_suffix("-shm"))
                .unwrap_or(&file);
            if !keep.contains(base) && base.ends_with(&ext) {
                remove_file(&dir.join(&file))?;
                removed.push(file);
            }
        }
        return Ok(removed);
    }
    let url = settings.url.trim();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return sql::sweep_schemas(url, live).await;
    }
    Ok(Vec::new())
}
