//! The one place the sender is woken: the application's handle on its store. Every call goes
//! to the store through `Deref`; the few writes that can make a notification due now (one
//! queued, one redelivered, the schedule's clock moved) are wrapped here and wake the sender
//! after they return. A wake costs the sender a claim on the store, so only then. A new store
//! method needs nothing here unless it can make a notification due.

use std::ops::Deref;
use std::sync::Arc;

use tokio::sync::Notify;

use crate::domain::message::{NotifyPlan, Queuing};
use crate::store::{
    Notification, Payment, PushReport, ReportOutcome, SeedOutcome, Store, StoreError, Written,
};

/// `store`, waking `wake` whenever one of its writes made something due.
pub struct WakingStore {
    store: Arc<dyn Store>,
    wake: Arc<Notify>,
}

impl Deref for WakingStore {
    type Target = dyn Store;

    fn deref(&self) -> &(dyn Store + 'static) {
        &*self.store
    }
}

impl WakingStore {
    /// Wraps `store`.
    pub fn new(store: Arc<dyn Store>, wake: Arc<Notify>) -> Self {
        Self { store, wake }
    }

    /// The store itself, for what only reads and leases (the sender).
    pub fn shared(&self) -> Arc<dyn Store> {
        Arc::clone(&self.store)
    }

    fn woken_by<O>(&self, written: Written<O>) -> Written<O> {
        if written.queuing == Queuing::Queued {
            self.wake.notify_one();
        }
        written
    }

    /// [`crate::store::PaymentStore::record_push_result`], waking the sender when it queued a notification.
    pub async fn record_push_result(
        &self,
        report: PushReport,
        plan: &NotifyPlan<'_>,
    ) -> Result<Written<ReportOutcome<Payment>>, StoreError> {
        let written = self.store.record_push_result(report, plan).await?;
        Ok(self.woken_by(written))
    }

    /// [`crate::store::PaymentStore::seed_payment`], waking the sender when it queued a notification.
    pub async fn seed_payment(
        &self,
        payment: Payment,
        plan: &NotifyPlan<'_>,
    ) -> Result<Written<SeedOutcome>, StoreError> {
        let written = self.store.seed_payment(payment, plan).await?;
        Ok(self.woken_by(written))
    }

    /// [`crate::store::NotificationQueue::redeliver`], waking the sender when it made one due.
    pub async fn redeliver(
        &self,
        id: &str,
        now_ms: i64,
    ) -> Result<Option<Notification>, StoreError> {
        let redelivered = self.store.redeliver(id, now_ms).await?;
        if redelivered.is_some() {
            self.wake.notify_one();
        }
        Ok(redelivered)
    }

    /// [`crate::store::NotificationQueue::advance_schedule`], waking the sender.
    pub async fn advance_schedule(&self, by_ms: i64) -> Result<u64, StoreError> {
        let moved = self.store.advance_schedule(by_ms).await?;
        // Also when none moved: a notification held under a lease may be due sooner now.
        self.wake.notify_one();
        Ok(moved)
    }
}
