//! The test PostgreSQL that `scripts/test-postgres.sh` started, under the tests' control: a
//! fresh database per test, the server crashed and started again, a table locked by another
//! session. Tests that use it run one at a time, because one of them stops the server.

use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use super::PATIENCE;
use super::skip;

/// Held by every PostgreSQL test: one of them stops the server.
static POSTGRES_IN_USE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The server `scripts/test-postgres.sh` started.
pub struct TestPostgres {
    /// `GATEWAY_TEST_POSTGRES_URL`: the server's database the tests may create others from.
    pub url: String,
    stop: String,
    start: String,
}

impl TestPostgres {
    /// The server named by the environment, or `None` after printing why `test` is skipped.
    pub fn from_env(test: &str) -> Option<TestPostgres> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let Some(url) = var("GATEWAY_TEST_POSTGRES_URL") else {
            skip::skipped(
                test,
                "needs PostgreSQL; set GATEWAY_TEST_POSTGRES_URL (eval \"$(scripts/test-postgres.sh)\")",
            );
            return None;
        };
        let (Some(stop), Some(start)) = (
            var("GATEWAY_TEST_POSTGRES_STOP"),
            var("GATEWAY_TEST_POSTGRES_START"),
        ) else {
            panic!(
                "GATEWAY_TEST_POSTGRES_URL is set without GATEWAY_TEST_POSTGRES_STOP and _START (eval \"$(scripts/test-postgres.sh)\")"
            );
        };
        Some(TestPostgres { url, stop, start })
    }

    /// Waits until no other PostgreSQL test of this binary runs, and holds that until dropped.
    pub async fn exclusive(&self) -> tokio::sync::MutexGuard<'static, ()> {
        POSTGRES_IN_USE.lock().await
    }

    /// A fresh, empty database, dropped when the guard is.
    pub fn create_database(&self) -> TestDatabase {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!(
            "durability_{}_{nanos}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        psql(&self.url, &format!("CREATE DATABASE {name}")).unwrap_or_else(|e| panic!("{e}"));
        let (base, query) = match self.url.split_once('?') {
            Some((base, query)) => (base, format!("?{query}")),
            None => (self.url.as_str(), String::new()),
        };
        let server = base.rsplit_once('/').map_or(base, |(server, _)| server);
        TestDatabase {
            url: format!("{server}/{name}{query}"),
            admin_url: self.url.clone(),
            name,
        }
    }

    /// Crashes the server (`GATEWAY_TEST_POSTGRES_STOP`: an immediate shutdown, or SIGKILL);
    /// the guard starts it again, at the latest when dropped.
    pub fn stop_server(&self) -> StoppedServer {
        shell(&self.stop).unwrap_or_else(|e| panic!("stopping PostgreSQL: {e}"));
        StoppedServer {
            start: self.start.clone(),
            running: false,
        }
    }
}

/// PostgreSQL, stopped; started again by [`StoppedServer::start`] or on drop, even when a test
/// fails, because other tests share the server.
pub struct StoppedServer {
    start: String,
    running: bool,
}

impl StoppedServer {
    /// Starts the server again.
    pub fn start(&mut self) {
        self.running = true;
        shell(&self.start).unwrap_or_else(|e| panic!("starting PostgreSQL again: {e}"));
    }
}

impl Drop for StoppedServer {
    fn drop(&mut self) {
        if !self.running
            && let Err(e) = shell(&self.start)
        {
            eprintln!("starting PostgreSQL again: {e}");
        }
    }
}

/// A database of one test, dropped (`WITH (FORCE)`) when this is.
pub struct TestDatabase {
    /// Its URL.
    pub url: String,
    admin_url: String,
    name: String,
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Err(e) = psql(
            &self.admin_url,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        ) {
            eprintln!("{e}");
        }
    }
}

/// Runs one SQL statement with `psql`: the database to drop cannot be the one connected to.
fn psql(url: &str, sql: &str) -> Result<(), String> {
    let output = Command::new("psql")
        .args([url, "-v", "ON_ERROR_STOP=1", "-qXc", sql])
        .output()
        .map_err(|e| format!("psql {sql}: {e} (is the PostgreSQL client installed?)"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "psql {sql}: {}",
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// Runs a `GATEWAY_TEST_POSTGRES_STOP`/`_START` command line.
fn shell(command: &str) -> Result<(), String> {
    let output = Command::new("sh")
        .args(["-c", command])
        .output()
        .map_err(|e| format!("{command}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{command}: {}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// A session of its own on the test database holding an `ACCESS EXCLUSIVE` lock on tables until
/// released.
pub struct TableLock {
    conn: sqlx::PgConnection,
}

impl TableLock {
    /// Locks `tables` (`payments`, or `a, b`) from a session of its own on `url`.
    pub async fn take(url: &str, tables: &str) -> TableLock {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
        let lock = format!("BEGIN; LOCK TABLE {tables} IN ACCESS EXCLUSIVE MODE");
        sqlx::raw_sql(sqlx::AssertSqlSafe(lock))
            .execute(&mut conn)
            .await
            .unwrap();
        TableLock { conn }
    }

    /// Waits until another session waits for a lock on a table of this database.
    pub async fn wait_for_a_waiter(&mut self) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let waiting: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM pg_locks WHERE NOT granted AND locktype = 'relation' \
                     AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                )
                    .fetch_one(&mut self.conn)
                    .await
                    .unwrap();
            if waiting > 0 {
                return;
            }
            assert!(Instant::now() < deadline, "nobody waited for the lock");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Ends the session's transaction: whoever waited for the tables goes on.
    pub async fn release(mut self) {
        sqlx::raw_sql("ROLLBACK")
            .execute(&mut self.conn)
            .await
            .unwrap();
    }
}
