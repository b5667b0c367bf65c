//! Opening a SQL store: the pool and its per-connection settings (SQLite's PRAGMAs,
//! PostgreSQL's statement timeout), the single SQLite writer with its group commit, the WAL
//! checkpointer, and the migrations.

use std::sync::Arc;
use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Connection, Executor, Row};
use tokio::sync::Notify;

use super::{Backend, GroupCommit, POSTGRES, SQLITE, SqlOptions, SqlStore, classify, redact};
use crate::store::{StoreError, StoreUrl};

pub(super) static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
pub(super) static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

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
    /// Connects to `url` (SQLite or PostgreSQL), creating a SQLite file and its directory when
    /// missing. Fails with the URL (password redacted) when the database cannot be reached.
    pub async fn connect(url: &StoreUrl, options: &SqlOptions) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let shown = url.to_string();
        let (dialect, connect_url) = match url {
            StoreUrl::Sqlite { path, query } => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        StoreError::Unavailable(format!(
                            "cannot create {} for {shown}: {e}",
                            dir.display()
                        ))
                    })?;
                }
                let url = match query.as_str() {
                    "" => format!("{}?mode=rwc", url.to_url()),
                    q if q.contains("mode=") => url.to_url(),
                    _ => format!("{}&mode=rwc", url.to_url()),
                };
                (&SQLITE, url)
            }
            StoreUrl::Postgres(url) => (&POSTGRES, url.clone()),
            StoreUrl::Memory => {
                return Err(StoreError::Unavailable(format!(
                    "store.url {shown} is not a SQL database"
                )));
            }
        };
        let synchronous = match options.sqlite_synchronous.as_str() {
            "full" => "FULL",
            _ => "NORMAL",
        };
        let is_sqlite = dialect.kind == Backend::Sqlite;
        let timeout_ms = options.statement_timeout.as_millis();
        let unreachable =
            |e: sqlx::Error| StoreError::Unavailable(format!("cannot connect to {shown}: {e}"));
        // One plain connection first: a pool that cannot connect reports only its own timeout;
        // this reports the cause (refused, unknown host, authentication failed).
        let mut probe = sqlx::AnyConnection::connect(&connect_url)
            .await
            .map_err(unreachable)?;
        let schema = match options.namespace.as_deref().filter(|_| !is_sqlite) {
            Some(namespace) => Some(create_schema(&mut probe, namespace).await),
            None => None,
        };
        let _ = probe.close().await;
        let schema = schema.transpose()?;
        let open = |max_connections: u32| {
            let schema = schema.clone();
            let mut pool = AnyPoolOptions::new();
            if let Some(idle) = options.idle_timeout {
                pool = pool.idle_timeout(idle);
            }
            pool.max_connections(max_connections)
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
                    let schema = schema.clone();
                    Box::pin(async move {
                        if let Some(schema) = schema {
                            let set = format!("SET search_path TO {schema}");
                            sqlx::query(sqlx::AssertSqlSafe(set))
                                .execute(&mut *conn)
                                .await?;
                        }
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

    /// Closes both pools; the WAL checkpointer and the group commit end with them.
    pub async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
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
}

/// What every namespace schema's name starts with, beside the schema `conn` works in:
/// `gateway_ns_` beside `public`, else `SCHEMA_ns_`, so two gateways on one database in
/// different schemas keep apart.
async fn schema_prefix(conn: &mut sqlx::AnyConnection) -> Result<String, StoreError> {
    let row = sqlx::query("SELECT COALESCE(current_schema(), 'public')::text AS current")
        .fetch_one(&mut *conn)
        .await
        .map_err(classify)?;
    let current: String = row.try_get("current").map_err(classify)?;
    let base = if current == "public" {
        "gateway"
    } else {
        current.as_str()
    };
    Ok(format!("{base}_ns_"))
}

/// The schema of the namespace store `namespace` (`NAME_ID`: lowercase letters, digits,
/// dashes and an underscore, checked by the caller).
async fn namespace_schema(
    conn: &mut sqlx::AnyConnection,
    namespace: &str,
) -> Result<String, StoreError> {
    let schema = format!(
        "{}{}",
        schema_prefix(conn).await?,
        namespace.replace('-', "_")
    );
    // PostgreSQL cuts longer names silently, and two namespaces could meet in one schema.
    if schema.len() > 63
        || !schema
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return Err(StoreError::Internal(format!(
            "namespace {namespace} would live in schema {schema:?}: a PostgreSQL schema name is \
             at most 63 letters, digits and underscores; use a shorter name"
        )));
    }
    Ok(schema)
}

/// Creates a namespace's schema and answers its name. Two replicas opening the same namespace at
/// once can both miss it and race on the catalogue: the loser finds it made.
async fn create_schema(
    conn: &mut sqlx::AnyConnection,
    namespace: &str,
) -> Result<String, StoreError> {
    let schema = namespace_schema(conn, namespace).await?;
    let create = format!("CREATE SCHEMA IF NOT EXISTS {schema}");
    match sqlx::query(sqlx::AssertSqlSafe(create.clone()))
        .execute(&mut *conn)
        .await
    {
        Ok(_) => Ok(schema),
        Err(e) if super::is_unique_violation(&e) => sqlx::query(sqlx::AssertSqlSafe(create))
            .execute(&mut *conn)
            .await
            .map(|_| schema)
            .map_err(classify),
        Err(e) => Err(classify(e)),
    }
}

/// Drops the namespace schemas beside the default one that belong to no namespace in `live`
/// (`(name, id)`, read after the schemas were listed), and answers them.
pub async fn sweep_schemas(
    url: &str,
    live: impl Fn() -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Vec<(String, String)>, StoreError>> + Send>,
    >,
) -> Result<Vec<String>, StoreError> {
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(url)
        .await
        .map_err(|e| StoreError::Unavailable(format!("cannot connect to {}: {e}", redact(url))))?;
    let swept = sweep_with(&mut conn, live).await;
    let _ = conn.close().await;
    swept
}

async fn sweep_with(
    conn: &mut sqlx::AnyConnection,
    live: impl Fn() -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Vec<(String, String)>, StoreError>> + Send>,
    >,
) -> Result<Vec<String>, StoreError> {
    let prefix = schema_prefix(conn).await?;
    let rows = sqlx::query("SELECT nspname::text AS name FROM pg_namespace")
        .fetch_all(&mut *conn)
        .await
        .map_err(classify)?;
    let mut found = Vec::new();
    for row in &rows {
        let name: String = row.try_get("name").map_err(classify)?;
        if name.starts_with(&prefix) {
            found.push(name);
        }
    }
    let keep: std::collections::HashSet<String> = live()
        .await?
        .iter()
        .map(|(name, id)| format!("{prefix}{}_{id}", name.replace('-', "_")))
        .collect();
    let mut dropped = Vec::new();
    for schema in found.into_iter().filter(|s| !keep.contains(s)) {
        // Listed by the catalogue and made of our own prefix: no quoting needed, but checked.
        if !schema
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            continue;
        }
        let drop = format!("DROP SCHEMA IF EXISTS {schema} CASCADE");
        sqlx::query(sqlx::AssertSqlSafe(drop))
            .execute(&mut *conn)
            .await
            .map_err(classify)?;
        dropped.push(schema);
    }
    Ok(dropped)
}

/// Drops a namespace's PostgreSQL schema with everything in it.
pub async fn drop_schema(url: &str, namespace: &str) -> Result<(), StoreError> {
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(url)
        .await
        .map_err(|e| StoreError::Unavailable(format!("cannot connect to {}: {e}", redact(url))))?;
    let dropped = match namespace_schema(&mut conn, namespace).await {
        Ok(schema) => {
            let drop = format!("DROP SCHEMA IF EXISTS {schema} CASCADE");
            sqlx::query(sqlx::AssertSqlSafe(drop))
                .execute(&mut conn)
                .await
                .map(|_| ())
                .map_err(classify)
        }
        Err(e) => Err(e),
    };
    let _ = conn.close().await;
    dropped
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::message::NotifyPlan;
    use crate::store::{PaymentStatus, PaymentStore, PushReport};

    #[tokio::test]
    async fn sqlite_writes_reach_the_database_file_without_a_commit_waiting_for_them() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("gateway.db");
        let options = SqlOptions {
            max_connections: 2,
            acquire_timeout: Duration::from_secs(5),
            sqlite_synchronous: "normal".into(),
            statement_timeout: Duration::from_secs(5),
            namespace: None,
            idle_timeout: None,
        };
        let store = SqlStore::connect(
            &StoreUrl::parse(&format!("sqlite://{}", file.display())).unwrap(),
            &options,
        )
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
