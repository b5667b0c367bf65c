//! The sender loop. [`Worker::deliver_due`] is one unit of work, claim what is due, attempt it,
//! record each outcome, so tests and the loop drive the same code. The loop sleeps until the
//! earliest due time (or a wake-up: a new notification, a redelivery, a clock jump), and at
//! most [`POLL`] at a time, so it also sees work that another replica queued.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use chrono::Utc;
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use super::schedule::Schedule;
use super::sender::Sender;
use crate::journal::{Direction, Entry, Journal};
use crate::store::{Attempt, NextStep, Notification, Store, StoreError};

/// The longest the loop sleeps without looking at the queue.
pub const POLL: Duration = Duration::from_millis(250);

/// The shortest it sleeps after finding nothing to claim.
const MIN_WAIT: Duration = Duration::from_millis(5);
/// The first and the longest pause between tries to record an attempt.
const RECORD_RETRY_FIRST: Duration = Duration::from_millis(50);
const RECORD_RETRY_MAX: Duration = Duration::from_secs(2);

/// What one step did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// Attempts made.
    pub attempted: usize,
    /// Of those, acknowledged with S.
    pub delivered: usize,
}

/// The name a replica claims notifications under, and for how long a claim holds.
#[derive(Debug, Clone)]
pub struct Lease {
    /// Unique per replica.
    pub owner: String,
    /// After this, another replica may take the notification over.
    pub duration: Duration,
}

/// Delivers due notifications for one replica.
pub struct Worker {
    store: Arc<dyn Store>,
    sender: Sender,
    schedule: Schedule,
    lease: Lease,
    batch: u32,
    wake: Arc<Notify>,
    journal: Arc<Journal>,
}

impl Worker {
    /// A worker claiming under `lease`, at most `batch` attempts at once.
    pub fn new(
        store: Arc<dyn Store>,
        sender: Sender,
        schedule: Schedule,
        lease: Lease,
        batch: u32,
        wake: Arc<Notify>,
        journal: Arc<Journal>,
    ) -> Self {
        Self {
            store,
            sender,
            schedule,
            lease,
            batch,
            wake,
            journal,
        }
    }

    /// Claims the notifications due now, attempts them concurrently and records every outcome:
    /// one unit of work, for tests and benchmarks that drain the queue step by step.
    pub async fn deliver_due(&self) -> Result<Step, StoreError> {
        let mut in_flight = JoinSet::new();
        self.dispatch(&mut in_flight, self.batch).await?;
        let mut step = Step::default();
        // Nothing stops a single step.
        let (_running, running) = watch::channel(false);
        while let Some(done) = in_flight.join_next().await {
            let Ok((attempt, lease_until_ms)) = done else {
                continue;
            };
            step.attempted += 1;
            step.delivered += usize::from(attempt.delivered);
            self.settle(attempt, lease_until_ms, running.clone())
                .await?;
        }
        Ok(step)
    }

    /// Claims up to `room` due notifications and starts their attempts; returns how many.
    async fn dispatch(
        &self,
        in_flight: &mut JoinSet<(Attempt, i64)>,
        room: u32,
    ) -> Result<usize, StoreError> {
        let now = Utc::now().timestamp_millis();
        let lease_until =
            now + i64::try_from(self.lease.duration.as_millis()).unwrap_or(i64::MAX / 2);
        let claimed = self
            .store
            .claim_due(now, &self.lease.owner, lease_until, room)
            .await?;
        let count = claimed.len();
        for n in claimed {
            let sender = self.sender.clone();
            let journal = self.journal.clone();
            in_flight.spawn(async move {
                let number = n.attempts_made + 1;
                let (attempt, answer) = sender.attempt_with_answer(&n, number).await;
                journal_attempt(&journal, &n, &attempt, &answer);
                (attempt, lease_until)
            });
        }
        Ok(count)
    }

    /// Records a finished attempt and moves its notification on. `lease_until_ms` is when the
    /// claim it was made under ends; a shutdown stops the retries.
    async fn settle(
        &self,
        attempt: Attempt,
        lease_until_ms: i64,
        mut shutdown: watch::Receiver<bool>,
    ) -> Result<(), StoreError> {
        let next = self.next_step(&attempt);
        log_attempt(&attempt, next);
        let outcome = match next {
            NextStep::Delivered => "delivered",
            NextStep::RetryAt(_) => "retry",
            NextStep::Exhausted => "exhausted",
        };
        crate::telemetry::record_attempt(outcome, attempt.latency_ms as f64 / 1000.0);
        // The attempt was made; if it is not recorded, it is made again once the lease ends. So
        // recording is retried while the lease still holds: only a store down for longer than
        // the lease makes a second delivery of the same notification-id. Past the lease another
        // replica may have claimed it, and on shutdown the lease is given back instead.
        let mut backoff = RECORD_RETRY_FIRST;
        loop {
            let started = std::time::Instant::now();
            let Err(e) = self
                .store
                .finish_attempt(&self.lease.owner, attempt.clone(), next)
                .await
            else {
                return Ok(());
            };
            // The next try may take as long as this one did (a statement timeout): it must end
            // while the lease still holds.
            let took_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX / 4);
            let backoff_ms = i64::try_from(backoff.as_millis()).unwrap_or(i64::MAX / 4);
            if Utc::now().timestamp_millis() + backoff_ms + took_ms >= lease_until_ms
                || *shutdown.borrow()
            {
                return Err(e);
            }
            tracing::warn!(
                error = %e,
                notification_id = %attempt.notification_id,
                "could not record a notification attempt; retrying while its lease holds"
            );
            tokio::select! {
                () = tokio::time::sleep(backoff) => {}
                _ = shutdown.wait_for(|stop| *stop) => return Err(e),
            }
            backoff = (backoff * 2).min(RECORD_RETRY_MAX);
        }
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
    /// its leases. Attempts run side by side, up to `notify.concurrency`: a merchant that never
    /// answers holds one slot for its timeout, not the whole sender.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        tracing::info!(owner = %self.lease.owner, "notification sender started");
        let mut in_flight: JoinSet<(Attempt, i64)> = JoinSet::new();
        let mut stopping = false;
        loop {
            let room = self
                .batch
                .saturating_sub(u32::try_from(in_flight.len()).unwrap_or(u32::MAX));
            let mut claimed = 0;
            if !stopping && room > 0 {
                match self.dispatch(&mut in_flight, room).await {
                    Ok(n) => claimed = n,
                    Err(e) => {
                        tracing::warn!(error = %e, "could not claim due notifications; retrying")
                    }
                }
            }
            if stopping && in_flight.is_empty() {
                break;
            }
            let wait = if room == 0 || stopping {
                POLL
            } else {
                self.until_next_due().await
            };
            // Something is due but another replica holds it, or it was just claimed: do not spin.
            let wait = if claimed == 0 {
                wait.max(MIN_WAIT)
            } else {
                wait
            };
            tokio::select! {
                Some(done) = in_flight.join_next(), if !in_flight.is_empty() => {
                    if let Ok((attempt, lease_until_ms)) = done
                        && let Err(e) = self.settle(attempt, lease_until_ms, shutdown.clone()).await
                    {
                        tracing::warn!(error = %e, "could not record a notification attempt before its lease ended; it will be made again (at-least-once delivery)");
                    }
                }
                () = tokio::time::sleep(wait) => {}
                () = self.wake.notified(), if !stopping => {}
                _ = shutdown.changed(), if !stopping => stopping = true,
            }
            stopping = stopping || *shutdown.borrow();
        }
        if let Err(e) = self.store.release_leases(&self.lease.owner).await {
            tracing::warn!(error = %e, "could not release notification leases");
        }
        tracing::info!("notification sender stopped");
    }

    /// How long until something may be claimable, at most [`POLL`].
    async fn until_next_due(&self) -> Duration {
        match self.store.next_due_ms().await {
            Ok(Some(due)) => {
                let ms = (due - Utc::now().timestamp_millis()).max(0);
                Duration::from_millis(u64::try_from(ms).unwrap_or(0)).min(POLL)
            }
            Ok(None) | Err(_) => POLL,
        }
    }
}

/// Adds an attempt to the journal, as an outbound entry.
fn journal_attempt(journal: &Journal, n: &Notification, a: &Attempt, answer: &[u8]) {
    if !journal.enabled() {
        return;
    }
    journal.record(Entry {
        seq: 0,
        at_ms: a.started_ms,
        direction: Direction::Outbound,
        endpoint: "notifyPayment".into(),
        target: n.url.clone(),
        client_id: Some(n.client_id.clone()),
        payment_ids: Vec::new(),
        verdict: a.error.clone().unwrap_or_else(|| "delivered".into()),
        string_to_sign: None,
        request_body: journal.clip(&Bytes::copy_from_slice(n.body.as_bytes())),
        response_body: journal.clip(&Bytes::copy_from_slice(answer)),
        http_status: a.http_status,
        result_code: a.ack_code.clone(),
        result_status: a.ack_status.clone(),
        latency_ms: a.latency_ms as f64,
        rule: None,
        note: None,
    });
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
