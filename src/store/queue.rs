//! The notification queue, kept in the payment store so a notification is durable the moment
//! the payment's final state is: claimed under a lease by one sender at a time, every attempt
//! recorded.

use async_trait::async_trait;

use super::StoreError;
use crate::domain::{Attempt, CancelOutcome, NextStep, Notification, ReceivedNotification};

/// The notification queue and the receiver's record. Every backend implements it beside
/// [`super::PaymentStore`]; a notification is queued inside the write that makes its payment
/// final.
#[async_trait]
pub trait NotificationQueue: Send + Sync + 'static {
    /// Leases up to `limit` pending notifications due at `now_ms` whose lease is free or
    /// expired, to `owner` until `lease_until_ms`. Two replicas never get the same one.
    async fn claim_due(
        &self,
        now_ms: i64,
        owner: &str,
        lease_until_ms: i64,
        limit: u32,
    ) -> Result<Vec<Notification>, StoreError>;

    /// Records an attempt and moves the notification on, releasing `owner`'s lease. A retry is
    /// due `RetryAt(due) - attempt.due_ms` after the notification's due time as stored now, so a
    /// clock advance made during the attempt moves the retry too. A notification cancelled
    /// meanwhile keeps its status; the attempt is recorded all the same.
    async fn finish_attempt(
        &self,
        owner: &str,
        attempt: Attempt,
        next: NextStep,
    ) -> Result<(), StoreError>;

    /// When a pending notification may next be claimed: its due time, or its lease's end when a
    /// sender holds it.
    async fn next_due_ms(&self) -> Result<Option<i64>, StoreError>;

    /// How many notifications wait for an attempt.
    async fn pending_count(&self) -> Result<u64, StoreError>;

    /// A payment's notifications with their attempts, oldest first.
    async fn notifications_for(
        &self,
        payment_request_id: &str,
    ) -> Result<Vec<(Notification, Vec<Attempt>)>, StoreError>;

    /// Makes a notification due at `now_ms` again, whatever its state: the next attempt goes now.
    async fn redeliver(&self, id: &str, now_ms: i64) -> Result<Option<Notification>, StoreError>;

    /// Cancels a pending notification.
    async fn cancel(&self, id: &str) -> Result<CancelOutcome, StoreError>;

    /// Moves every pending notification `by_ms` earlier: the schedule's clock jumps ahead.
    async fn advance_schedule(&self, by_ms: i64) -> Result<u64, StoreError>;

    /// Gives back every lease `owner` holds (graceful shutdown).
    async fn release_leases(&self, owner: &str) -> Result<(), StoreError>;

    /// Records a notification the receiver endpoint got.
    async fn record_received(&self, received: ReceivedNotification) -> Result<(), StoreError>;

    /// Received notifications, newest first, optionally for one payment.
    async fn received(
        &self,
        payment_request_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<ReceivedNotification>, StoreError>;
}
