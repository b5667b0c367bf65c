//! `sqlite://PATH` and `postgres://...`: one SQL store over sqlx's `Any` driver, with the few
//! statements that differ per database in a [`Dialect`]. Migrations are checked in per backend
//! and applied at start-up. Races are decided by unique constraints inside transactions: a
//! SQLite write transaction takes the database lock up front (`BEGIN IMMEDIATE`), PostgreSQL
//! locks the rows it read (`FOR UPDATE`), and an insert that loses a race to a concurrent one
//! (a unique violation) runs the whole decision again.

mod connect;
mod group_commit;
mod notifications;
mod payments;
mod recordings;
mod registry;
mod risk;
mod sqlite_writes;
mod write;

use std::time::Duration;

use sqlx::AnyPool;
use sqlx::migrate::Migrator;

use super::StoreError;
use group_commit::GroupCommit;
use sqlite_writes::SqliteWrite;

/// The columns of a notification, in the order [`notifications::notification_of`] reads them:
/// every statement that answers notifications names them through this one list.
macro_rules! notification_columns {
    () => {
        "id, payment_request_id, client_id, url, body, status, attempts_made, next_due_ms, created_at_ms"
    };
}
use notification_columns;

/// Which SQL database a [`Dialect`] speaks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

/// What differs between the SQL backends.
#[derive(Debug)]
struct Dialect {
    kind: Backend,
    name: &'static str,
    /// Opens a write transaction.
    pub(super) begin: &'static str,
    /// The read a push decides on, by paymentId or paymentRequestId, locking what it finds.
    locked_read: &'static str,
    /// Leases due notifications: $1 owner, $2 lease until, $3 now, $4 limit.
    pub(super) claim: &'static str,
    /// A payment's Client-Id, read from its document; the `payments_by_client` index is over
    /// this very expression, so a filter by merchant is an index range.
    client_of: &'static str,
    migrations: &'static Migrator,
}

static SQLITE: Dialect = Dialect {
    kind: Backend::Sqlite,
    name: "sqlite",
    begin: "BEGIN IMMEDIATE",
    locked_read: "SELECT id, doc FROM payments WHERE payment_id = $1 OR payment_request_id = $2",
    claim: concat!(
        "UPDATE notifications SET lease_owner = $1, lease_until_ms = $2 WHERE id IN (",
        "SELECT id FROM notifications WHERE status = 'PENDING' AND next_due_ms <= $3 ",
        "AND (lease_until_ms IS NULL OR lease_until_ms < $3) ORDER BY next_due_ms LIMIT $4) ",
        "RETURNING ",
        notification_columns!()
    ),
    client_of: "json_extract(doc, '$.clientId')",
    migrations: &connect::SQLITE_MIGRATIONS,
};

static POSTGRES: Dialect = Dialect {
    kind: Backend::Postgres,
    name: "postgres",
    begin: "BEGIN",
    locked_read: "SELECT id, doc FROM payments WHERE payment_id = $1 OR payment_request_id = $2 FOR UPDATE",
    // SKIP LOCKED: a replica claiming at the same moment takes other rows, never the same.
    claim: concat!(
        "UPDATE notifications SET lease_owner = $1, lease_until_ms = $2 WHERE id IN (",
        "SELECT id FROM notifications WHERE status = 'PENDING' AND next_due_ms <= $3 ",
        "AND (lease_until_ms IS NULL OR lease_until_ms < $3) ORDER BY next_due_ms LIMIT $4 ",
        "FOR UPDATE SKIP LOCKED) ",
        "RETURNING ",
        notification_columns!()
    ),
    client_of: "((doc::jsonb) ->> 'clientId')",
    migrations: &connect::POSTGRES_MIGRATIONS,
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
    /// PostgreSQL: the namespace whose schema every connection works in, created when missing
    /// ([`connect::namespace_schema`]); `None` is the database's default.
    pub namespace: Option<String>,
    /// How long an idle connection stays open; `None` keeps the pool's default.
    pub idle_timeout: Option<Duration>,
}

/// The SQLite / PostgreSQL store.
#[derive(Debug, Clone)]
pub struct SqlStore {
    /// Reads.
    pool: AnyPool,
    /// Writes. SQLite allows one writer at a time, so its writes queue for a single connection
    /// here instead of spinning on the database lock; PostgreSQL shares the read pool.
    writer: AnyPool,
    dialect: &'static Dialect,
    /// SQLite: the writes of the APIs, committed in groups (see [`GroupCommit`]).
    group: Option<GroupCommit<SqliteWrite>>,
}

pub use connect::{drop_schema, sweep_schemas};

/// Hides the password of a database URL.
pub fn redact(url: &str) -> String {
    super::redact_url(url)
}

fn classify(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_) => StoreError::Unavailable(e.to_string()),
        sqlx::Error::Database(db) => StoreError::Internal(db.to_string()),
        other => StoreError::Unavailable(other.to_string()),
    }
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
