//! The sender loop. [`Worker::deliver_due`] is one unit of work, claim what is due, attempt it,
//! record each outcome, so tests and the loop drive the same code. The loop sleeps until the
//! earliest due time (or a wake-up: a new notification, a redelivery, a clock jump), and at
//! most [`POLL`] at a time, so it also sees work that another replica queued.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use super::schedule::Schedule;
use super::sender::Sender;
use crate::store::{Attempt, NextStep, Store, StoreError};

/// The longest the loop sleeps without looking at the queue.
pub const POLL: Duration = Duration::from_millis(250);

/// What one step did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// Attempts made.
    pub attempted: usize,
    /// Of those, acknowledged with S.
    pub delivered: usize,
}

/// Delivers due notifications for one replica.
pub struct Worker {
    store: Arc<dyn Store>,
    sender: Sender,
    schedule: Schedule,
    /// This replica's lease name.
    owner: String,
    lease: Duration,
    batch: u32,
    wake: Arc<Notify>,
}

impl Worker {
    /// A worker leasing under `owner` for `lease`, at most `batch` attempts at once.
    pub fn new(
        store: Arc<dyn Store>,
        sender: Sender,
        schedule: Schedule,
        owner: String,
        lease: Duration,
        batch: u32,
        wake: Arc<Notify>,
    ) -> Self {
        Self {
            store,
            sender,
            schedule,
            owner,
            lease,
            batch,
            wake,
        }
    }

    /// Claims the notifications due now, attempts them concurrently and records every outcome.
    pub async fn deliver_due(&self) -> Result<Step, StoreError> {
        let now = Utc::now().timestamp_millis();
        let lease_until = now + i64::try_from(self.lease.as_millis()).unwrap_or(i64::MAX / 2);
        let claimed = self
            .store
            .claim_due(now, &self.owner, lease_until, self.batch)
            .await?;
        let mut attempts = JoinSet::new();
        for n in claimed {
            let sender = self.sender.clone();
            attempts.spawn(async move {
                let number = n.attempts_made + 1;
                sender.attempt(&n, number).await
            });
        }
        let mut step = Step::default();
        while let Some(done) = attempts.join_next().await {
            let Ok(attempt) = done else { continue };
            step.attempted += 1;
            step.delivered += usize::from(attempt.delivered);
            let next = self.next_step(&attempt);
            log_attempt(&attempt, next);
            self.store
                .finish_attempt(&self.owner, attempt, next)
                .await?;
        }
        Ok(step)
    }

    fn next_step(&self, attempt: &Attempt) -> NextStep {
        if attempt.delivered {
            return NextStep::Delivered;
        }
        match self.schedule.next_due(attempt.due_ms, attempt.number) {
            Some(due) => NextStep::RetryAt(due),
            None => NextStep::Exhausted,
        }
    }

    /// Runs until `shutdown` turns true, then finishes the attempts in flight and gives back
    /// its leases.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        tracing::info!(owner = %self.owner, "notification sender started");
        while !*shutdown.borrow() {
            if let Err(e) = self.deliver_due().await {
                tracing::warn!(error = %e, "notification step failed; retrying");
            }
            let wait = match self.store.next_due_ms().await {
                Ok(Some(due)) => {
                    let ms = (due - Utc::now().timestamp_millis()).max(0);
                    Duration::from_millis(u64::try_from(ms).unwrap_or(0)).min(POLL)
                }
                Ok(None) | Err(_) => POLL,
            };
            if wait.is_zero() {
                continue;
            }
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = self.wake.notified() => {}
                _ = shutdown.changed() => {}
            }
        }
        if let Err(e) = self.store.release_leases(&self.owner).await {
            tracing::warn!(error = %e, "could not release notification leases");
        }
        tracing::info!("notification sender stopped");
    }
}

fn log_attempt(a: &Attempt, next: NextStep) {
    match next {
        NextStep::Delivered => {
            tracing::info!(notification = %a.notification_id, attempt = a.number, latency_ms = a.latency_ms, "notification delivered")
        }
        NextStep::RetryAt(_) => {
            tracing::info!(notification = %a.notification_id, attempt = a.number, error = a.error.as_deref().unwrap_or(""), "notification attempt failed; will retry")
        }
        NextStep::Exhausted => {
            tracing::warn!(notification = %a.notification_id, attempt = a.number, error = a.error.as_deref().unwrap_or(""), "notification exhausted its schedule")
        }
    }
}
