//! One way to write, for any store method: statements that run inside an open transaction,
//! committed on SQLite in the writer's next group ([`super::group_commit`]) and on PostgreSQL
//! in a transaction of their own, and decided again when an insert lost a race. A new write
//! starts here; only the hottest API writes earn a [`SqliteWrite`] variant of their own whose
//! batch shares statements.

use std::any::Any;
use std::sync::Arc;

use sqlx::AnyConnection;

use super::group_commit::BoxFuture;
use super::sqlite_writes::{Done, SqliteWrite, mismatch};
use super::{SqlStore, classify, is_unique_violation};
use crate::store::StoreError;

/// How many times a write is decided again after losing an insert race.
pub(super) const RACE_RETRIES: usize = 5;

/// A write's statements, with their outcome's type erased, as the SQLite writer queues them.
/// `Ok(None)` means an insert lost a race and the write must be decided again.
pub(super) type Statements = Arc<
    dyn for<'c> Fn(
            &'c mut AnyConnection,
        ) -> BoxFuture<'c, Result<Option<Box<dyn Any + Send>>, StoreError>>
        + Send
        + Sync,
>;

/// Pins a closure to the higher-ranked signature statements have (closures do not infer it).
fn statements<T, F>(f: F) -> F
where
    F: for<'c> Fn(&'c mut AnyConnection) -> BoxFuture<'c, Result<Option<T>, StoreError>>,
{
    f
}

impl SqlStore {
    /// Runs `run` inside a write transaction and answers its outcome once committed. `run`
    /// answers `Ok(None)` when an insert lost a race (a unique violation): it is run again, in
    /// a new transaction, up to [`RACE_RETRIES`] times.
    pub(super) async fn write<T, F>(&self, run: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> Fn(&'c mut AnyConnection) -> BoxFuture<'c, Result<Option<T>, StoreError>>
            + Send
            + Sync
            + 'static,
    {
        let run = Arc::new(run);
        if let Some(group) = &self.group {
            let erased: Statements = Arc::new(statements(move |conn| {
                let run = Arc::clone(&run);
                Box::pin(
                    async move { Ok(run(conn).await?.map(|t| Box::new(t) as Box<dyn Any + Send>)) },
                )
            }));
            return match group.submit(SqliteWrite::Other(erased)).await? {
                Done::Other(outcome) => outcome.downcast::<T>().map(|t| *t).map_err(|_| mismatch()),
                _ => Err(mismatch()),
            };
        }
        for _ in 0..RACE_RETRIES {
            let mut tx = self
                .writer
                .begin_with(self.dialect.begin)
                .await
                .map_err(classify)?;
            let Some(outcome) = run(&mut tx).await? else {
                continue;
            };
            match tx.commit().await {
                Ok(()) => return Ok(outcome),
                Err(e) if is_unique_violation(&e) => continue,
                Err(e) => return Err(classify(e)),
            }
        }
        Err(StoreError::Internal(
            "the write kept losing races with concurrent ones; try again".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use sqlx::Row;

    use super::*;
    use crate::store::StoreUrl;
    use crate::store::sql::SqlOptions;

    async fn sqlite(dir: &tempfile::TempDir) -> SqlStore {
        let url = StoreUrl::parse(&format!("sqlite://{}/gateway.db", dir.path().display()));
        let options = SqlOptions {
            max_connections: 2,
            acquire_timeout: std::time::Duration::from_secs(5),
            sqlite_synchronous: "normal".into(),
            statement_timeout: std::time::Duration::from_secs(5),
            namespace: None,
            idle_timeout: None,
        };
        let store = SqlStore::connect(&url.unwrap(), &options).await.unwrap();
        store.migrate().await.unwrap();
        store
    }

    #[tokio::test]
    async fn a_write_of_any_kind_is_committed_through_the_sqlite_writer_and_answers_its_outcome() {
        let dir = tempfile::tempdir().unwrap();
        let store = sqlite(&dir).await;
        let runs = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&runs);
        let answer: String = store
            .write(move |conn| {
                let counted = Arc::clone(&counted);
                Box::pin(async move {
                    // The first run loses a race, as a unique violation would make it.
                    if counted.fetch_add(1, Ordering::SeqCst) == 0 {
                        return Ok(None);
                    }
                    sqlx::query("CREATE TABLE IF NOT EXISTS kept (v TEXT)")
                        .execute(&mut *conn)
                        .await
                        .map_err(classify)?;
                    sqlx::query("INSERT INTO kept (v) VALUES ('written')")
                        .execute(&mut *conn)
                        .await
                        .map_err(classify)?;
                    Ok(Some("done".to_owned()))
                })
            })
            .await
            .unwrap();
        assert_eq!(answer, "done");
        assert_eq!(
            runs.load(Ordering::SeqCst),
            2,
            "decided again after the lost race"
        );
        let rows = sqlx::query("SELECT v FROM kept")
            .fetch_all(&store.pool)
            .await
            .unwrap();
        let kept: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
        assert_eq!(kept, ["written"], "committed exactly once");
    }
}
