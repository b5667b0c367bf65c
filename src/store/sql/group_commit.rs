//! Group commit for SQLite's one writer. A SQLite commit is the expensive part of a write (the
//! database lock, the WAL append, the WAL index), and with one writer connection writes wait
//! for each other anyway; so the writes that queue up while a transaction is open all go into
//! the next one and share its commit, and where they can, share statements too
//! ([`Write::run_batch`]). Each request is answered only once that commit is done. When
//! anything in a batch fails, the batch rolls back and every write in it runs again alone, so
//! one bad write never fails another.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sqlx::{AnyConnection, AnyPool};
use tokio::sync::{Notify, mpsc, oneshot};

use super::StoreError;
use super::{classify, is_unique_violation};
use crate::telemetry;

/// Most writes one transaction carries.
const MAX_BATCH: usize = 128;
/// Writes waiting for the writer before callers wait to queue (back-pressure).
const QUEUE: usize = 1024;
/// How many times a write that lost an insert race is decided again.
const RACE_RETRIES: usize = 5;

/// A boxed future borrowing the connection it runs on.
pub(super) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A write: statements that run inside whatever transaction is open, and again if needed.
pub(super) trait Write: Send + Sync + Sized + 'static {
    /// What the caller gets back once committed.
    type Output: Send + 'static;

    /// Runs the statements on `conn`, inside an open transaction. `Ok(None)` means an insert
    /// lost a race and the write must be decided again.
    fn run<'c>(
        &'c self,
        conn: &'c mut AnyConnection,
    ) -> BoxFuture<'c, Result<Option<Self::Output>, StoreError>>;

    /// Runs writes that were all in flight at once, inside one open transaction, answering
    /// an outcome per write in the same order. Since none of them has been answered yet, any
    /// order among them is one their callers could have seen, so an implementation may put
    /// several into one statement. One after another by default.
    fn run_batch<'c>(
        writes: &'c [&'c Self],
        conn: &'c mut AnyConnection,
    ) -> BoxFuture<'c, Result<Vec<Option<Self::Output>>, StoreError>> {
        Box::pin(async move {
            let mut outcomes = Vec::with_capacity(writes.len());
            for write in writes {
                outcomes.push(write.run(&mut *conn).await?);
            }
            Ok(outcomes)
        })
    }
}

/// A queued write, its outcome so far and the request waiting for it.
struct Job<W: Write> {
    write: W,
    outcome: Option<W::Output>,
    reply: oneshot::Sender<Result<W::Output, StoreError>>,
}

impl<W: Write> Job<W> {
    /// Answers the waiting request: the write's outcome once `committed` is `Ok`.
    fn finish(self, committed: Result<(), StoreError>) {
        let Job { outcome, reply, .. } = self;
        let answer = committed.and_then(|()| {
            outcome.ok_or_else(|| {
                StoreError::Internal("the write kept losing insert races; try again".into())
            })
        });
        // The request may have gone (client disconnected); the write stands either way.
        let _ = reply.send(answer);
    }
}

/// The queue in front of the writer.
pub(super) struct GroupCommit<W: Write> {
    queue: mpsc::Sender<Job<W>>,
    /// The longest a write waits to be queued and committed before it answers unavailable.
    deadline: Duration,
    /// Transactions committed so far: how the tests see that writes were grouped.
    #[cfg_attr(not(test), allow(dead_code))]
    commits: Arc<AtomicU64>,
}

impl<W: Write> Clone for GroupCommit<W> {
    fn clone(&self) -> Self {
        Self {
            queue: self.queue.clone(),
            deadline: self.deadline,
            commits: Arc::clone(&self.commits),
        }
    }
}

impl<W: Write> std::fmt::Debug for GroupCommit<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit")
            .field("queued", &(QUEUE - self.queue.capacity()))
            .finish()
    }
}

impl<W: Write> GroupCommit<W> {
    /// Starts the writer task on `writer` (a pool of one connection); `begin` opens a write
    /// transaction; `committed` is notified after each commit; a write not committed within
    /// `deadline` answers unavailable.
    pub(super) fn start(
        writer: AnyPool,
        begin: &'static str,
        committed: Arc<Notify>,
        deadline: Duration,
    ) -> Self {
        let (queue, jobs) = mpsc::channel(QUEUE);
        let commits = Arc::new(AtomicU64::new(0));
        let counter = Committed {
            count: Arc::clone(&commits),
            notify: committed,
        };
        tokio::spawn(write_batches(writer, begin, jobs, counter));
        Self {
            queue,
            deadline,
            commits,
        }
    }

    /// Transactions committed so far (each carrying one write or more).
    #[cfg(test)]
    pub(super) fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// Queues `write` and waits until the transaction carrying it commits.
    pub(super) async fn submit(&self, write: W) -> Result<W::Output, StoreError> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            write,
            outcome: None,
            reply,
        };
        let stopped = || StoreError::Unavailable("the store's writer has stopped".into());
        let queued_and_committed = async {
            self.queue.send(job).await.map_err(|_| stopped())?;
            answer.await.map_err(|_| stopped())?
        };
        // A writer stuck on a full disk or a lock must not hold the request without end. The
        // write may still commit later; the caller's retry then finds it (a repeat answers S).
        tokio::time::timeout(self.deadline, queued_and_committed)
            .await
            .unwrap_or_else(|_| {
                Err(StoreError::Unavailable(format!(
                    "the write was not committed within {} ms",
                    self.deadline.as_millis()
                )))
            })
    }
}

/// Counts commits and tells whoever waits for one.
struct Committed {
    count: Arc<AtomicU64>,
    notify: Arc<Notify>,
}

impl Committed {
    fn one(&self) {
        self.count.fetch_add(1, Ordering::Relaxed);
        self.notify.notify_one();
    }
}

/// The writer task: takes what is queued, up to [`MAX_BATCH`], and commits it together; ends
/// when every [`GroupCommit`] is gone.
async fn write_batches<W: Write>(
    writer: AnyPool,
    begin: &'static str,
    mut jobs: mpsc::Receiver<Job<W>>,
    commits: Committed,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while jobs.recv_many(&mut batch, MAX_BATCH).await > 0 {
        telemetry::record_write_batch(batch.len());
        let together = if batch.len() > 1 {
            commit_together(&writer, begin, &mut batch).await
        } else {
            Batch::Split
        };
        match together {
            Batch::Committed => {
                commits.one();
                batch.drain(..).for_each(|job| job.finish(Ok(())));
            }
            Batch::Failed(e) => batch.drain(..).for_each(|job| job.finish(Err(e.clone()))),
            Batch::Split => {
                for mut job in batch.drain(..) {
                    let committed = commit_alone(&writer, begin, &mut job).await;
                    if committed.is_ok() {
                        commits.one();
                    }
                    job.finish(committed);
                }
            }
        }
    }
}

/// How a batch went.
enum Batch {
    /// Every write is in.
    Committed,
    /// The database itself failed (no lock, no commit): every write answers the error.
    Failed(StoreError),
    /// A write failed or must be decided again: each runs again alone.
    Split,
}

/// Runs every write of `batch` in one transaction.
async fn commit_together<W: Write>(
    writer: &AnyPool,
    begin: &'static str,
    batch: &mut [Job<W>],
) -> Batch {
    let mut tx = match writer.begin_with(begin).await {
        Ok(tx) => tx,
        Err(e) => return Batch::Failed(classify(e)),
    };
    let writes: Vec<&W> = batch.iter().map(|job| &job.write).collect();
    let outcomes = match W::run_batch(&writes, &mut tx).await {
        Ok(outcomes) if outcomes.len() == batch.len() && outcomes.iter().all(Option::is_some) => {
            outcomes
        }
        // Dropping the transaction rolls it back.
        _ => return Batch::Split,
    };
    match tx.commit().await {
        Ok(()) => {
            for (job, outcome) in batch.iter_mut().zip(outcomes) {
                job.outcome = outcome;
            }
            Batch::Committed
        }
        Err(e) if is_unique_violation(&e) => Batch::Split,
        Err(e) => Batch::Failed(classify(e)),
    }
}

/// Runs one write in a transaction of its own, deciding it again after a lost race.
async fn commit_alone<W: Write>(
    writer: &AnyPool,
    begin: &'static str,
    job: &mut Job<W>,
) -> Result<(), StoreError> {
    for _ in 0..RACE_RETRIES {
        let mut tx = writer.begin_with(begin).await.map_err(classify)?;
        let Some(outcome) = job.write.run(&mut tx).await? else {
            continue;
        };
        match tx.commit().await {
            Ok(()) => {
                job.outcome = Some(outcome);
                return Ok(());
            }
            Err(e) if is_unique_violation(&e) => continue,
            Err(e) => return Err(classify(e)),
        }
    }
    // The outcome is still empty: the request answers that it lost every race.
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use sqlx::any::AnyPoolOptions;
    use sqlx::{Connection, Row};

    use super::*;

    /// A test write: one key (a key already there fails the write with a unique violation),
    /// or the key `late` after losing its race the first time it runs.
    enum Insert {
        Key(&'static str),
        LosesOnce(AtomicUsize),
    }

    impl Write for Insert {
        type Output = &'static str;

        fn run<'c>(
            &'c self,
            conn: &'c mut AnyConnection,
        ) -> BoxFuture<'c, Result<Option<&'static str>, StoreError>> {
            Box::pin(async move {
                let key = match self {
                    Insert::Key(key) => key,
                    Insert::LosesOnce(runs) => {
                        if runs.fetch_add(1, Ordering::SeqCst) == 0 {
                            return Ok(None);
                        }
                        "late"
                    }
                };
                sqlx::query("INSERT INTO t (k) VALUES ($1)")
                    .bind(key)
                    .execute(conn)
                    .await
                    .map_err(classify)?;
                Ok(Some(key))
            })
        }
    }

    /// A deadline no test reaches.
    const LONG: Duration = Duration::from_secs(60);

    async fn writer(dir: &tempfile::TempDir) -> AnyPool {
        sqlx::any::install_default_drivers();
        let url = format!("sqlite://{}/t.db?mode=rwc", dir.path().display());
        let pool = AnyPoolOptions::new()
            .max_connections(1)
            .connect(&url)
            .await
            .expect("sqlite");
        sqlx::query("CREATE TABLE t (k TEXT PRIMARY KEY)")
            .execute(&pool)
            .await
            .expect("table");
        pool
    }

    async fn keys(pool: &AnyPool) -> Vec<String> {
        sqlx::query("SELECT k FROM t ORDER BY k")
            .fetch_all(pool)
            .await
            .expect("keys")
            .iter()
            .map(|r| r.get::<String, _>("k"))
            .collect()
    }

    /// Submits every key at once, each from a task of its own; the answers in key order.
    async fn submit_all(
        group: &GroupCommit<Insert>,
        keys: &[&'static str],
    ) -> Vec<Result<&'static str, StoreError>> {
        let tasks: Vec<_> = keys
            .iter()
            .map(|k| {
                let (group, k) = (group.clone(), *k);
                tokio::spawn(async move { group.submit(Insert::Key(k)).await })
            })
            .collect();
        let mut answers = Vec::new();
        for task in tasks {
            answers.push(task.await.expect("task"));
        }
        answers
    }

    #[tokio::test]
    async fn writes_queued_together_are_all_committed_and_answered() {
        let dir = tempfile::tempdir().unwrap();
        let pool = writer(&dir).await;
        let group = GroupCommit::start(pool.clone(), "BEGIN IMMEDIATE", Arc::default(), LONG);
        let names: Vec<&'static str> = (0..200)
            .map(|i| &*Box::leak(format!("k{i:03}").into_boxed_str()))
            .collect();

        let answers = submit_all(&group, &names).await;

        for (name, answer) in names.iter().zip(&answers) {
            assert_eq!(answer.as_ref().ok(), Some(name), "{answer:?}");
        }
        assert_eq!(keys(&pool).await.len(), 200);
        assert!(
            group.commits() < 100,
            "200 writes queued at once took {} commits",
            group.commits()
        );
    }

    #[tokio::test]
    async fn a_failing_write_fails_alone_and_the_rest_of_its_batch_commits() {
        let dir = tempfile::tempdir().unwrap();
        let pool = writer(&dir).await;
        let group = GroupCommit::start(pool.clone(), "BEGIN IMMEDIATE", Arc::default(), LONG);
        let writes = ["a", "b", "a", "c", "d"];

        let answers = submit_all(&group, &writes).await;

        let failed: Vec<usize> = (0..writes.len()).filter(|i| answers[*i].is_err()).collect();
        assert!(failed == [0] || failed == [2], "{answers:?}");
        assert_eq!(keys(&pool).await, ["a", "b", "c", "d"]);
    }

    #[tokio::test]
    async fn a_write_stuck_behind_a_lock_answers_unavailable_at_its_deadline() {
        let dir = tempfile::tempdir().unwrap();
        let pool = writer(&dir).await;
        let url = format!("sqlite://{}/t.db", dir.path().display());
        let mut holder = AnyConnection::connect(&url)
            .await
            .expect("second connection");
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut holder)
            .await
            .expect("the lock");
        let deadline = Duration::from_millis(300);
        let group = GroupCommit::start(pool.clone(), "BEGIN IMMEDIATE", Arc::default(), deadline);

        let answer = group.submit(Insert::Key("stuck")).await;

        match answer {
            Err(StoreError::Unavailable(m)) => assert!(m.contains("300 ms"), "{m}"),
            other => panic!("expected unavailable at the deadline, got {other:?}"),
        }
        sqlx::query("ROLLBACK")
            .execute(&mut holder)
            .await
            .expect("release");
    }

    #[tokio::test]
    async fn a_write_that_lost_a_race_is_decided_again() {
        let dir = tempfile::tempdir().unwrap();
        let pool = writer(&dir).await;
        let group = GroupCommit::start(pool.clone(), "BEGIN IMMEDIATE", Arc::default(), LONG);

        let (late, early) = tokio::join!(
            group.submit(Insert::LosesOnce(AtomicUsize::new(0))),
            group.submit(Insert::Key("early")),
        );

        assert_eq!(late.ok(), Some("late"));
        assert_eq!(early.ok(), Some("early"));
        assert_eq!(keys(&pool).await, ["early", "late"]);
    }
}
