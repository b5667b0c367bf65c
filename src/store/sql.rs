//! `sqlite://PATH` and `postgres://...`: one SQL store over sqlx's `Any` driver, with the few
//! statements that differ per database in a [`Dialect`]. Migrations are checked in per backend
//! and applied at start-up. Races are decided by unique constraints inside transactions: a
//! SQLite write transaction takes the database lock up front (`BEGIN IMMEDIATE`), PostgreSQL
//! locks the rows it read (`FOR UPDATE`), and an insert that loses a race to a concurrent one
//! (a unique violation) runs the whole decision again.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::migrate::Migrator;
use sqlx::{AnyConnection, AnyPool, Connection, Executor, Row};
use tokio::sync::Notify;

use crate::domain::message::{self, NotifyPlan};

use super::group_commit::GroupCommit;
use super::rules::{PushDecision, Which, apply_push, decide_push, new_from_push};
use super::sqlite_writes::SqliteWrite;
use super::{
    NewNotification, Payment, PaymentStore, PushReport, ReportOutcome, RiskReport, SeedOutcome,
    StoreError,
};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// How many times a write is decided again after losing an insert race.
const RACE_RETRIES: usize = 5;

/// A payment by paymentId.
const BY_PAYMENT_ID: &str = "SELECT id, doc FROM payments WHERE payment_id = $1";
/// A payment by paymentRequestId.
const BY_REQUEST_ID: &str = "SELECT id, doc FROM payments WHERE payment_request_id = $1";

/// What differs between the SQL backends.
#[derive(Debug)]
pub(super) struct Dialect {
    name: &'static str,
    /// Opens a write transaction.
    pub(super) begin: &'static str,
    /// The read a push decides on, by paymentId or paymentRequestId, locking what it finds.
    locked_read: &'static str,
    /// Leases due notifications: $1 owner, $2 lease until, $3 now, $4 limit.
    pub(super) claim: &'static str,
    migrations: &'static Migrator,
}

pub(super) const SQLITE: Dialect = Dialect {
    name: "sqlite",
    begin: "BEGIN IMMEDIATE",
    locked_read: "SELECT id, doc FROM payments WHERE payment_id = $1 OR payment_request_id = $2",
    claim: concat!(
        "UPDATE notifications SET lease_owner = $1, lease_until_ms = $2 WHERE id IN (",
        "SELECT id FROM notifications WHERE status = 'PENDING' AND next_due_ms <= $3 ",
        "AND (lease_until_ms IS NULL OR lease_until_ms < $3) ORDER BY next_due_ms LIMIT $4) ",
        "RETURNING id, payment_request_id, client_id, url, body, status, attempts_made, next_due_ms, created_at_ms"
    ),
    migrations: &SQLITE_MIGRATIONS,
};

const POSTGRES: Dialect = Dialect {
    name: "postgres",
    begin: "BEGIN",
    locked_read: "SELECT id, doc FROM payments WHERE payment_id = $1 OR payment_request_id = $2 FOR UPDATE",
    // SKIP LOCKED: a replica claiming at the same moment takes other rows, never the same.
    claim: concat!(
        "UPDATE notifications SET lease_owner = $1, lease_until_ms = $2 WHERE id IN (",
        "SELECT id FROM notifications WHERE status = 'PENDING' AND next_due_ms <= $3 ",
        "AND (lease_until_ms IS NULL OR lease_until_ms < $3) ORDER BY next_due_ms LIMIT $4 ",
        "FOR UPDATE SKIP LOCKED) ",
        "RETURNING id, payment_request_id, client_id, url, body, status, attempts_made, next_due_ms, created_at_ms"
    ),
    migrations: &POSTGRES_MIGRATIONS,
};

/// Settings of the SQL backends.
#[derive(Debug, Clone)]
pub struct SqlOptions {
    /// Connections in the pool.
    pub max_connections: u32,
    /// How long a request waits for a connection before it fails (UNKNOWN_EXCEPTION).
    pub acquire_timeout: Duration,
    /// SQLite `synchronous`: `normal` survives a process crash, `full` also a power loss.
    pub sqlite_synchronous: String,
    /// The longest one statement may run or wait for a lock (PostgreSQL).
    pub statement_timeout: Duration,
}

/// The SQLite / PostgreSQL store.
#[derive(Debug, Clone)]
pub struct SqlStore {
    /// Reads.
    pub(super) pool: AnyPool,
    /// Writes. SQLite allows one writer at a time, so its writes queue for a single connection
    /// here instead of spinning on the database lock; PostgreSQL shares the read pool.
    pub(super) writer: AnyPool,
    pub(super) dialect: &'static Dialect,
    /// SQLite: the writes of the APIs, committed in groups (see [`GroupCommit`]).
    pub(super) group: Option<GroupCommit<SqliteWrite>>,
}

/// Hides the password of a database URL.
pub fn redact(url: &str) -> String {
    super::redact_url(url)
}

pub(super) fn classify(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_) => StoreError::Unavailable(e.to_string()),
        sqlx::Error::Database(db) => StoreError::Internal(db.to_string()),
        other => StoreError::Unavailable(other.to_string()),
    }
}

pub(super) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn doc(p: &Payment) -> Result<String, StoreError> {
    serde_json::to_string(p).map_err(|e| StoreError::Internal(format!("payment encoding: {e}")))
}

fn payment_of(row: &AnyRow) -> Result<(i64, Payment), StoreError> {
    let id: i64 = row.try_get("id").map_err(classify)?;
    let text: String = row.try_get("doc").map_err(classify)?;
    let payment = serde_json::from_str(&text)
        .map_err(|e| StoreError::Internal(format!("payment {id} is unreadable: {e}")))?;
    Ok((id, payment))
}

fn risk_report_of(row: &AnyRow) -> Result<RiskReport, StoreError> {
    let at: i64 = row.try_get("received_at_ms").map_err(classify)?;
    Ok(RiskReport {
        client_id: row.try_get("client_id").map_err(classify)?,
        reference_transaction_id: row.try_get("reference_transaction_id").map_err(classify)?,
        payment_status: row.try_get("payment_status").map_err(classify)?,
        report: row.try_get("report").map_err(classify)?,
        received_at: DateTime::from_timestamp_millis(at).unwrap_or_default(),
    })
}

/// Queues, inside the write that made `payment` final, the notification `plan` yields.
async fn enqueue(
    conn: &mut AnyConnection,
    payment: &Payment,
    plan: &NotifyPlan<'_>,
) -> Result<(), sqlx::Error> {
    match message::build(payment, plan) {
        Some(n) => enqueue_all(conn, vec![n]).await,
        None => Ok(()),
    }
}

/// Queues notifications in one statement; one already queued for a paymentRequestId stays.
pub(super) async fn enqueue_all(
    conn: &mut AnyConnection,
    notifications: Vec<NewNotification>,
) -> Result<(), sqlx::Error> {
    if notifications.is_empty() {
        return Ok(());
    }
    let rows = values(notifications.len(), 7, |p| {
        format!(
            "({}, {}, {}, {}, {}, 'PENDING', 0, {}, {})",
            p[0], p[1], p[2], p[3], p[4], p[5], p[6]
        )
    });
    let sql = format!(
        "INSERT INTO notifications (id, payment_request_id, client_id, url, body, status, attempts_made, next_due_ms, created_at_ms) \
         VALUES {rows} ON CONFLICT (payment_request_id) DO NOTHING"
    );
    let now = Utc::now().timestamp_millis();
    // A statement per batch size: kept prepared, they would fill the statement cache.
    let one = notifications.len() == 1;
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).persistent(one);
    for n in notifications {
        query = query
            .bind(n.id)
            .bind(n.payment_request_id)
            .bind(n.client_id)
            .bind(n.url)
            .bind(n.body)
            .bind(n.first_due_ms)
            .bind(now);
    }
    query.execute(conn).await.map(|_| ())
}

/// `rows` tuples of `width` numbered placeholders (`$1`, `$2`, ...), each shaped by `shape`,
/// joined for a multi-row `VALUES`.
fn values(rows: usize, width: usize, shape: impl Fn(&[String]) -> String) -> String {
    (0..rows)
        .map(|r| {
            let params: Vec<String> = (1..=width).map(|c| format!("${}", r * width + c)).collect();
            shape(&params)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The longest SQLite's write-ahead log goes without a checkpoint.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);
/// The shortest time between two checkpoints while writes keep coming.
const CHECKPOINT_SPACING: Duration = Duration::from_millis(100);

/// Copies SQLite's write-ahead log back into the database file, on a read connection: soon
/// after the writer commits (`committed`), and at least every [`CHECKPOINT_EVERY`]. A checkpoint
/// syncs the file to disk, which can take milliseconds; done by a commit (SQLite's default) it
/// would stall every write queued behind that commit. A passive checkpoint never blocks the
/// writer, and frequent ones keep the log short. Ends when the pool closes.
async fn checkpoint_in_background(pool: AnyPool, committed: Arc<Notify>) {
    while !pool.is_closed() {
        let _ = tokio::time::timeout(CHECKPOINT_EVERY, committed.notified()).await;
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&pool)
            .await
        {
            tracing::warn!(error = %e, "SQLite checkpoint failed; the write-ahead log grows until one succeeds");
        }
        tokio::time::sleep(CHECKPOINT_SPACING).await;
    }
}

impl SqlStore {
    /// Connects to `url` (`sqlite://PATH` or `postgres://...`), creating a SQLite file and its
    /// directory when missing. Fails with the URL (password redacted) when the database cannot
    /// be reached.
    pub async fn connect(url: &str, options: &SqlOptions) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let shown = redact(url);
        let (dialect, connect_url) = if let Some(path) = url.strip_prefix("sqlite://") {
            let file = path.split('?').next().unwrap_or(path);
            if let Some(dir) = std::path::Path::new(file)
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
            {
                std::fs::create_dir_all(dir).map_err(|e| {
                    StoreError::Unavailable(format!(
                        "cannot create {} for {shown}: {e}",
                        dir.display()
                    ))
                })?;
            }
            let sep = if path.contains('?') { '&' } else { '?' };
            let url = if path.contains("mode=") {
                url.to_owned()
            } else {
                format!("{url}{sep}mode=rwc")
            };
            (&SQLITE, url)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (&POSTGRES, url.to_owned())
        } else {
            return Err(StoreError::Unavailable(format!(
                "store.url {shown} names no known backend (memory://, sqlite://PATH, postgres://...)"
            )));
        };
        let synchronous = match options.sqlite_synchronous.as_str() {
            "full" => "FULL",
            _ => "NORMAL",
        };
        let is_sqlite = std::ptr::eq(dialect, &SQLITE);
        let timeout_ms = options.statement_timeout.as_millis();
        let open = |max_connections: u32| {
            AnyPoolOptions::new()
                .max_connections(max_connections)
                .acquire_timeout(options.acquire_timeout)
                // A ping per checkout doubles the round trips of a read. A connection that died
                // with the server fails its next query instead, answers UNKNOWN_EXCEPTION
                // (retryable), and is replaced.
                .test_before_acquire(false)
                // A COMMIT that failed (a full disk: SQLITE_FULL; a connection cut mid-commit)
                // can leave its transaction open, and the connection would refuse every later
                // BEGIN. It is closed instead of reused, so the gateway takes writes again by
                // itself once the cause is gone.
                .after_release(|conn, _| {
                    Box::pin(async move {
                        // A dropped transaction's ROLLBACK may still be queued: a ping lets it
                        // run first, so only a transaction that stayed open closes the
                        // connection.
                        if conn.is_in_transaction() {
                            conn.ping().await?;
                        }
                        Ok(!conn.is_in_transaction())
                    })
                })
                .after_connect(move |conn, _| {
                    Box::pin(async move {
                        if !is_sqlite {
                            // A lock held by another replica, or a stalled network, must not
                            // hold a request forever: it fails and answers UNKNOWN_EXCEPTION.
                            for setting in ["statement_timeout", "lock_timeout"] {
                                let set = format!("SET {setting} = {timeout_ms}");
                                sqlx::query(sqlx::AssertSqlSafe(set))
                                    .execute(&mut *conn)
                                    .await?;
                            }
                        }
                        if is_sqlite {
                            conn.execute("PRAGMA journal_mode = WAL").await?;
                            // Checkpoints run in the background (see `checkpoint_in_background`),
                            // not inside a commit that a request is waiting for.
                            conn.execute("PRAGMA wal_autocheckpoint = 0").await?;
                            // A log that grew under a burst is cut back when it restarts.
                            conn.execute("PRAGMA journal_size_limit = 67108864").await?;
                            let busy = format!("PRAGMA busy_timeout = {timeout_ms}");
                            sqlx::query(sqlx::AssertSqlSafe(busy))
                                .execute(&mut *conn)
                                .await?;
                            conn.execute(if synchronous == "FULL" {
                                "PRAGMA synchronous = FULL"
                            } else {
                                "PRAGMA synchronous = NORMAL"
                            })
                            .await?;
                        }
                        Ok(())
                    })
                })
                .connect(&connect_url)
        };
        let unreachable =
            |e: sqlx::Error| StoreError::Unavailable(format!("cannot connect to {shown}: {e}"));
        // One plain connection first: a pool that cannot connect reports only its own timeout;
        // this reports the cause (refused, unknown host, authentication failed).
        let probe = sqlx::AnyConnection::connect(&connect_url)
            .await
            .map_err(unreachable)?;
        let _ = probe.close().await;
        let pool = open(options.max_connections).await.map_err(unreachable)?;
        let writer = if is_sqlite {
            open(1).await.map_err(unreachable)?
        } else {
            pool.clone()
        };
        let group = is_sqlite.then(|| {
            let committed = Arc::new(Notify::new());
            tokio::spawn(checkpoint_in_background(
                pool.clone(),
                Arc::clone(&committed),
            ));
            GroupCommit::start(
                writer.clone(),
                dialect.begin,
                committed,
                options.acquire_timeout + options.statement_timeout,
            )
        });
        Ok(Self {
            pool,
            writer,
            dialect,
            group,
        })
    }

    /// Applies the checked-in migrations and answers the schema version.
    pub async fn migrate(&self) -> Result<i64, StoreError> {
        self.dialect
            .migrations
            .run(&self.writer)
            .await
            .map_err(|e| StoreError::Internal(format!("migration failed: {e}")))?;
        self.schema_version().await
    }

    /// The highest applied migration.
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COALESCE(MAX(version), 0) AS version FROM _sqlx_migrations WHERE success = TRUE")
            .fetch_one(&self.pool)
            .await
            .map_err(classify)?;
        row.try_get::<i64, _>("version").map_err(classify)
    }

    async fn find_payment<'c, E>(
        executor: E,
        sql: &'static str,
        value: &str,
    ) -> Result<Option<(i64, Payment)>, StoreError>
    where
        E: Executor<'c, Database = sqlx::Any>,
    {
        let row = sqlx::query(sql)
            .bind(value)
            .fetch_optional(executor)
            .await
            .map_err(classify)?;
        row.as_ref().map(payment_of).transpose()
    }

    /// One attempt at a push report in a transaction of its own; `Ok(None)` means an insert
    /// lost a race and the decision must be made again.
    async fn try_push(
        &self,
        report: &PushReport,
        plan: &NotifyPlan<'_>,
    ) -> Result<Option<ReportOutcome<Payment>>, StoreError> {
        let mut tx = self
            .writer
            .begin_with(self.dialect.begin)
            .await
            .map_err(classify)?;
        let Some(outcome) = push_within(&mut tx, self.dialect, report, plan).await? else {
            return Ok(None);
        };
        match tx.commit().await {
            Ok(()) => Ok(Some(outcome)),
            Err(e) if is_unique_violation(&e) => Ok(None),
            Err(e) => Err(classify(e)),
        }
    }
}

/// The columns a payment is stored in, in the order [`bind_payment`] binds them.
const PAYMENT_COLUMNS: &str =
    "payment_request_id, payment_id, status, doc, created_at_ms, updated_at_ms";

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

/// Binds a payment's [`PAYMENT_COLUMNS`].
fn bind_payment<'q>(query: AnyQuery<'q>, p: &Payment) -> Result<AnyQuery<'q>, sqlx::Error> {
    let doc = serde_json::to_string(p).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    Ok(query
        .bind(p.payment_request_id.clone())
        .bind(p.payment_id.clone())
        .bind(p.status.as_str())
        .bind(doc)
        .bind(millis(p.created_at))
        .bind(millis(p.updated_at)))
}

/// Stores a payment; one with its paymentRequestId or paymentId already there is a unique
/// violation.
async fn insert_payment<'c, E>(executor: E, p: &Payment) -> Result<(), sqlx::Error>
where
    E: Executor<'c, Database = sqlx::Any>,
{
    let sql = format!("INSERT INTO payments ({PAYMENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)");
    bind_payment(sqlx::query(sqlx::AssertSqlSafe(sql)), p)?
        .execute(executor)
        .await
        .map(|_| ())
}

/// Stores new payments in one statement, each unless a payment with its paymentRequestId or
/// paymentId is on file (or comes earlier in `payments`); answers the paymentIds stored.
pub(super) async fn insert_payments_unless_known<'c, E>(
    executor: E,
    payments: &[&Payment],
) -> Result<HashSet<String>, StoreError>
where
    E: Executor<'c, Database = sqlx::Any>,
{
    if payments.is_empty() {
        return Ok(HashSet::new());
    }
    let rows = values(payments.len(), 6, |p| format!("({})", p.join(", ")));
    let sql = format!(
        "INSERT INTO payments ({PAYMENT_COLUMNS}) VALUES {rows} ON CONFLICT DO NOTHING RETURNING payment_id"
    );
    // A statement text per batch size: kept prepared, they would fill the statement cache.
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).persistent(payments.len() == 1);
    for p in payments {
        query = bind_payment(query, p).map_err(classify)?;
    }
    let rows = query.fetch_all(executor).await.map_err(classify)?;
    rows.iter()
        .filter_map(|row| {
            row.try_get::<Option<String>, _>("payment_id")
                .map_err(classify)
                .transpose()
        })
        .collect()
}

/// Stores risk reports in one statement, each unless one with its ids is on file (or comes
/// earlier in `reports`); answers the ids stored (client, referenceTransactionId).
pub(super) async fn insert_risk_reports<'c, E>(
    executor: E,
    reports: &[&RiskReport],
) -> Result<HashSet<(String, String)>, StoreError>
where
    E: Executor<'c, Database = sqlx::Any>,
{
    if reports.is_empty() {
        return Ok(HashSet::new());
    }
    let rows = values(reports.len(), 5, |p| format!("({})", p.join(", ")));
    let sql = format!(
        "INSERT INTO risk_reports (client_id, reference_transaction_id, payment_status, report, received_at_ms) \
         VALUES {rows} ON CONFLICT (client_id, reference_transaction_id) DO NOTHING \
         RETURNING client_id, reference_transaction_id"
    );
    // A statement text per batch size: kept prepared, they would fill the statement cache.
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).persistent(reports.len() == 1);
    for r in reports {
        query = query
            .bind(r.client_id.as_str())
            .bind(r.reference_transaction_id.as_str())
            .bind(r.payment_status.as_str())
            .bind(r.report.as_str())
            .bind(millis(r.received_at));
    }
    let rows = query.fetch_all(executor).await.map_err(classify)?;
    rows.iter()
        .map(|row| {
            Ok((
                row.try_get("client_id").map_err(classify)?,
                row.try_get("reference_transaction_id").map_err(classify)?,
            ))
        })
        .collect()
}

/// The statements of a push report inside an open transaction: store it as a new payment, or
/// read what it names (locking it), decide, write. `Ok(None)` means an insert lost a race and
/// the decision must be made again.
pub(super) async fn push_within(
    conn: &mut AnyConnection,
    dialect: &Dialect,
    report: &PushReport,
    plan: &NotifyPlan<'_>,
) -> Result<Option<ReportOutcome<Payment>>, StoreError> {
    // Most reports are of payments the store has not seen: with neither id on file the decision
    // is always Create, so the insert goes first and the read only when it finds either id.
    let now = Utc::now();
    let created = new_from_push(report, plan.caller, now);
    let inserted = insert_payments_unless_known(&mut *conn, &[&created]).await?;
    if inserted.contains(&report.payment_id) {
        return match enqueue(conn, &created, plan).await {
            Ok(()) => Ok(Some(ReportOutcome::Recorded(created))),
            Err(e) if is_unique_violation(&e) => Ok(None),
            Err(e) => Err(classify(e)),
        };
    }
    let rows = sqlx::query(dialect.locked_read)
        .bind(report.payment_id.as_str())
        .bind(report.payment_request_id.as_deref())
        .fetch_all(&mut *conn)
        .await
        .map_err(classify)?;
    let (mut by_pid, mut by_rid) = (None, None);
    for row in &rows {
        let (id, payment) = payment_of(row)?;
        if payment.payment_id.as_deref() == Some(report.payment_id.as_str()) {
            by_pid = Some((id, payment.clone()));
        }
        if payment.payment_request_id.is_some()
            && payment.payment_request_id == report.payment_request_id
        {
            by_rid = Some((id, payment));
        }
    }
    let pick = |w: Which| match w {
        Which::ByPaymentId => by_pid.clone(),
        Which::ByRequestId => by_rid.clone(),
    };
    let (written, outcome) = match decide_push(
        by_pid.as_ref().map(|p| &p.1),
        by_rid.as_ref().map(|p| &p.1),
        report,
        plan.caller,
    ) {
        PushDecision::Foreign => return Ok(Some(ReportOutcome::Foreign)),
        PushDecision::Repeated => return Ok(by_pid.map(|(_, p)| ReportOutcome::Repeated(p))),
        PushDecision::Contradicts(w) => {
            return Ok(pick(w).map(|(_, p)| ReportOutcome::Contradicts(p)));
        }
        PushDecision::Complete(w) => {
            let Some((id, current)) = pick(w) else {
                return Ok(None);
            };
            let updated = apply_push(current, report, plan.caller, now);
            let written = sqlx::query(
                "UPDATE payments SET payment_request_id = $1, payment_id = $2, status = $3, doc = $4, updated_at_ms = $5 WHERE id = $6",
            )
            .bind(updated.payment_request_id.clone())
            .bind(updated.payment_id.clone())
            .bind(updated.status.as_str())
            .bind(doc(&updated)?)
            .bind(millis(now))
            .bind(id)
            .execute(&mut *conn)
            .await;
            (written.map(|_| ()), updated)
        }
        // Neither id was on file a moment ago: a concurrent writer's row went away again (a
        // PostgreSQL transaction rolled back). Decide again.
        PushDecision::Create => return Ok(None),
    };
    let written = match written {
        Ok(()) => enqueue(conn, &outcome, plan).await,
        Err(e) => Err(e),
    };
    match written {
        Ok(()) => Ok(Some(ReportOutcome::Recorded(outcome))),
        Err(e) if is_unique_violation(&e) => Ok(None),
        Err(e) => Err(classify(e)),
    }
}

#[async_trait]
impl PaymentStore for SqlStore {
    async fn record_push_result(
        &self,
        report: PushReport,
        plan: &NotifyPlan<'_>,
    ) -> Result<ReportOutcome<Payment>, StoreError> {
        if let Some(group) = &self.group {
            return group
                .submit(SqliteWrite::push(report, plan))
                .await?
                .into_push();
        }
        for _ in 0..RACE_RETRIES {
            if let Some(outcome) = self.try_push(&report, plan).await? {
                return Ok(outcome);
            }
        }
        Err(StoreError::Internal(format!(
            "payment {} kept losing write races; try again",
            report.payment_id
        )))
    }

    async fn payment(&self, payment_request_id: &str) -> Result<Option<Payment>, StoreError> {
        Ok(
            Self::find_payment(&self.pool, BY_REQUEST_ID, payment_request_id)
                .await?
                .map(|(_, p)| p),
        )
    }

    async fn seed_payment(
        &self,
        payment: Payment,
        plan: &NotifyPlan<'_>,
    ) -> Result<SeedOutcome, StoreError> {
        let mut tx = self
            .writer
            .begin_with(self.dialect.begin)
            .await
            .map_err(classify)?;
        let written = match insert_payment(&mut *tx, &payment).await {
            Ok(()) => enqueue(&mut tx, &payment, plan).await,
            Err(e) => Err(e),
        };
        let written = match written {
            Ok(()) => tx.commit().await,
            Err(e) => Err(e),
        };
        match written {
            Ok(()) => Ok(SeedOutcome::Created(payment)),
            Err(e) if is_unique_violation(&e) => {
                let by_rid = match &payment.payment_request_id {
                    Some(rid) => Self::find_payment(&self.pool, BY_REQUEST_ID, rid).await?,
                    None => None,
                };
                let existing = match (by_rid, &payment.payment_id) {
                    (Some(found), _) => Some(found),
                    (None, Some(pid)) => Self::find_payment(&self.pool, BY_PAYMENT_ID, pid).await?,
                    (None, None) => None,
                };
                existing
                    .map(|(_, p)| SeedOutcome::Exists(p))
                    .ok_or_else(|| {
                        StoreError::Internal("seed conflicted with a payment that vanished".into())
                    })
            }
            Err(e) => Err(classify(e)),
        }
    }

    async fn record_risk_report(
        &self,
        report: RiskReport,
    ) -> Result<ReportOutcome<RiskReport>, StoreError> {
        let inserted = match &self.group {
            Some(group) => group
                .submit(SqliteWrite::Risk(report.clone()))
                .await?
                .into_risk()?,
            None => !insert_risk_reports(&self.writer, &[&report])
                .await?
                .is_empty(),
        };
        if inserted {
            return Ok(ReportOutcome::Recorded(report));
        }
        let row = sqlx::query(
            "SELECT client_id, reference_transaction_id, payment_status, report, received_at_ms FROM risk_reports \
             WHERE client_id = $1 AND reference_transaction_id = $2",
        )
        .bind(report.client_id.as_str())
        .bind(report.reference_transaction_id.as_str())
        .fetch_one(&self.pool)
        .await
        .map_err(classify)?;
        let first = risk_report_of(&row)?;
        Ok(if first.report == report.report {
            ReportOutcome::Repeated(first)
        } else {
            ReportOutcome::Contradicts(first)
        })
    }

    async fn ping(&self) -> Result<(), StoreError> {
        // A table read rather than `SELECT 1`: a store that holds a lock on it past the
        // statement timeout cannot serve requests either, and is not ready.
        sqlx::query("SELECT 1 FROM payments LIMIT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(classify)
    }

    async fn reset(&self) -> Result<(), StoreError> {
        let mut tx = self
            .writer
            .begin_with(self.dialect.begin)
            .await
            .map_err(classify)?;
        for table in [
            "DELETE FROM notification_attempts",
            "DELETE FROM notifications",
            "DELETE FROM received_notifications",
            "DELETE FROM risk_reports",
            "DELETE FROM payments",
        ] {
            sqlx::query(table)
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
        }
        tx.commit().await.map_err(classify)
    }

    fn backend(&self) -> &'static str {
        self.dialect.name
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{PaymentStatus, PaymentStore};

    #[test]
    fn passwords_never_reach_logs() {
        assert_eq!(
            redact("postgres://gw:s3cret@db:5432/gw"),
            "postgres://gw:***@db:5432/gw"
        );
        assert_eq!(redact("postgres://gw@db/gw"), "postgres://gw@db/gw");
        assert_eq!(
            redact("sqlite://data/gateway.db"),
            "sqlite://data/gateway.db"
        );
    }

    #[tokio::test]
    async fn sqlite_writes_reach_the_database_file_without_a_commit_waiting_for_them() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("gateway.db");
        let options = SqlOptions {
            max_connections: 2,
            acquire_timeout: Duration::from_secs(5),
            sqlite_synchronous: "normal".into(),
            statement_timeout: Duration::from_secs(5),
        };
        let store = SqlStore::connect(&format!("sqlite://{}", file.display()), &options)
            .await
            .unwrap();
        store.migrate().await.unwrap();
        let migrated = std::fs::metadata(&file).unwrap().len();
        let urls = Arc::default();
        let plan = NotifyPlan {
            caller: "ACQP",
            default_urls: &urls,
            first_due_ms: 0,
        };

        for i in 0..500 {
            let report = PushReport {
                payment_id: format!("pid-{i}"),
                payment_request_id: Some(format!("rid-{i}")),
                status: PaymentStatus::Success,
                result_code: "SUCCESS".into(),
                result_message: None,
                payment_time: Some("2026-11-22T10:00:00+08:00".into()),
            };
            store.record_push_result(report, &plan).await.unwrap();
        }

        // Commits only append to the write-ahead log (automatic checkpoints are off); the
        // background checkpoint copies them into the file, within a few of its intervals.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::fs::metadata(&file).unwrap().len() <= migrated {
            assert!(
                std::time::Instant::now() < deadline,
                "nothing was checkpointed into the database file"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
