//! End-to-end durability of the real binary: what the gateway acknowledged survives `kill -9`;
//! two replicas on one PostgreSQL decide every race the same way; a database that goes away
//! makes requests fail fast with UNKNOWN_EXCEPTION and the gateway recovers on its own when it
//! returns; a database that is down at start-up is a clear error that keeps its password secret;
//! payment notifications resume, are never sent from two replicas at once, and survive kills.
//!
//! PostgreSQL tests run when GATEWAY_TEST_POSTGRES_URL is set (`eval "$(scripts/test-postgres.sh)"`);
//! each makes its own database and drops it, and they run one at a time because some of them
//! stop the shared server. A behaviour that holds on every store is written once and run on
//! each by [`on_sqlite_and_postgres!`].

use std::path::Path;

use tempfile::TempDir;

#[path = "../support/mod.rs"]
mod support;

use support::postgres_server::{StoppedServer, TestDatabase, TestPostgres};

/// Writes a behaviour once and runs it on each store: `$on_sqlite` on a SQLite file,
/// `$on_postgres` on a fresh database of the test PostgreSQL (skipped, saying why, when there
/// is none). `$behaviour` is an `async fn(&TestStore)`.
macro_rules! on_sqlite_and_postgres {
    ($behaviour:ident: $on_sqlite:ident, $on_postgres:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $on_sqlite() {
            $behaviour(&crate::TestStore::sqlite()).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $on_postgres() {
            if let Some(store) = crate::TestStore::postgres(stringify!($on_postgres)).await {
                $behaviour(&store).await;
            }
        }
    };
}

mod disk;
mod kill9;
mod logs;
mod notification_replicas;
mod notifications;
mod postgres_outage;
mod replicas;
mod start_up;

/// The store one test runs on, and a directory of its own for its configs; what it made goes
/// when it is dropped.
pub struct TestStore {
    /// The store URL for the gateway's config.
    pub url: String,
    dir: TempDir,
    // Fields drop in this order: the database goes while the test still holds the server.
    _database: Option<TestDatabase>,
    _alone: Option<tokio::sync::MutexGuard<'static, ()>>,
    postgres: Option<TestPostgres>,
}

impl TestStore {
    /// A SQLite file in a fresh directory.
    pub fn sqlite() -> TestStore {
        let dir = tempfile::tempdir().unwrap();
        TestStore {
            url: format!("sqlite://{}/gw.db", dir.path().display()),
            dir,
            _database: None,
            _alone: None,
            postgres: None,
        }
    }

    /// A fresh database on the test PostgreSQL, with this test alone on the server until it is
    /// dropped; `None`, after saying that `test` is skipped, when there is no test PostgreSQL.
    pub async fn postgres(test: &str) -> Option<TestStore> {
        let postgres = TestPostgres::from_env(test)?;
        let alone = postgres.exclusive().await;
        let database = postgres.create_database();
        Some(TestStore {
            url: database.url.clone(),
            dir: tempfile::tempdir().unwrap(),
            _database: Some(database),
            _alone: Some(alone),
            postgres: Some(postgres),
        })
    }

    /// The test's directory, for its configs.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Crashes the PostgreSQL server under the store; the guard starts it again.
    pub fn stop_server(&self) -> StoppedServer {
        self.postgres
            .as_ref()
            .expect("only a PostgreSQL store has a server to stop")
            .stop_server()
    }
}
