//! The one place the sender is woken: a store that passes every call through and, after a write
//! that made a notification due now (one queued, one redelivered, the schedule's clock moved),
//! wakes the sender. A wake costs the sender a claim on the store, so only then.

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::Notify;

use crate::domain::message::{NotifyPlan, Queuing};
use crate::domain::namespace::{ClientRecord, NamespaceRecord};
use crate::store::{
    Attempt, CancelOutcome, NextStep, Notification, NotificationQueue, Payment, PaymentQuery,
    PaymentStore, PushReport, ReceivedNotification, Recording, RecordingFilter, Recordings,
    Registered, Registry, ReportOutcome, RiskReport, SeedOutcome, Store, StoreError, Written,
};

/// `store`, waking `wake` whenever something became due.
pub struct WakingStore {
    store: Arc<dyn Store>,
    wake: Arc<Notify>,
}

impl WakingStore {
    /// Wraps `store`.
    pub fn new(store: Arc<dyn Store>, wake: Arc<Notify>) -> Self {
        Self { store, wake }
    }

    fn woken_by<O>(&self, written: Written<O>) -> Written<O> {
        if written.queuing == Queuing::Queued {
            self.wake.notify_one();
        }
        written
    }
}

#[async_trait]
impl PaymentStore for WakingStore {
    async fn record_push_result(
        &self,
        report: PushReport,
        plan: &NotifyPlan<'_>,
    ) -> Result<Written<ReportOutcome<Payment>>, StoreError> {
        let written = self.store.record_push_result(report, plan).await?;
        Ok(self.woken_by(written))
    }

    async fn payment(&self, payment_request_id: &str) -> Result<Option<Payment>, StoreError> {
        self.store.payment(payment_request_id).await
    }

    async fn seed_payment(
        &self,
        payment: Payment,
        plan: &NotifyPlan<'_>,
    ) -> Result<Written<SeedOutcome>, StoreError> {
        let written = self.store.seed_payment(payment, plan).await?;
        Ok(self.woken_by(written))
    }

    async fn record_risk_report(
        &self,
        report: RiskReport,
    ) -> Result<ReportOutcome<RiskReport>, StoreError> {
        self.store.record_risk_report(report).await
    }

    async fn list_payments(&self, query: &PaymentQuery) -> Result<Vec<Payment>, StoreError> {
        self.store.list_payments(query).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.store.ping().await
    }

    async fn reset(&self) -> Result<(), StoreError> {
        self.store.reset().await
    }

    async fn close(&self) {
        self.store.close().await;
    }

    async fn held(&self) -> Result<u64, StoreError> {
        self.store.held().await
    }

    fn backend(&self) -> &'static str {
        self.store.backend()
    }
}

#[async_trait]
impl NotificationQueue for WakingStore {
    async fn claim_due(
        &self,
        now_ms: i64,
        owner: &str,
        lease_until_ms: i64,
        limit: u32,
    ) -> Result<Vec<Notification>, StoreError> {
        self.store
            .claim_due(now_ms, owner, lease_until_ms, limit)
            .await
    }

    async fn finish_attempt(
        &self,
        owner: &str,
        attempt: Attempt,
        next: NextStep,
    ) -> Result<(), StoreError> {
        self.store.finish_attempt(owner, attempt, next).await
    }

    async fn next_due_ms(&self) -> Result<Option<i64>, StoreError> {
        self.store.next_due_ms().await
    }

    async fn pending_count(&self) -> Result<u64, StoreError> {
        self.store.pending_count().await
    }

    async fn notifications_for(
        &self,
        payment_request_id: &str,
    ) -> Result<Vec<(Notification, Vec<Attempt>)>, StoreError> {
        self.store.notifications_for(payment_request_id).await
    }

    async fn redeliver(&self, id: &str, now_ms: i64) -> Result<Option<Notification>, StoreError> {
        let redelivered = self.store.redeliver(id, now_ms).await?;
        if redelivered.is_some() {
            self.wake.notify_one();
        }
        Ok(redelivered)
    }

    async fn cancel(&self, id: &str) -> Result<CancelOutcome, StoreError> {
        self.store.cancel(id).await
    }

    async fn advance_schedule(&self, by_ms: i64) -> Result<u64, StoreError> {
        let moved = self.store.advance_schedule(by_ms).await?;
        // Also when none moved: a notification held under a lease may be due sooner now.
        self.wake.notify_one();
        Ok(moved)
    }

    async fn release_leases(&self, owner: &str) -> Result<(), StoreError> {
        self.store.release_leases(owner).await
    }

    async fn record_received(&self, received: ReceivedNotification) -> Result<(), StoreError> {
        self.store.record_received(received).await
    }

    async fn received(
        &self,
        payment_request_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<ReceivedNotification>, StoreError> {
        self.store.received(payment_request_id, limit).await
    }
}

#[async_trait]
impl Recordings for WakingStore {
    async fn record_exchange(&self, recording: Recording) -> Result<i64, StoreError> {
        self.store.record_exchange(recording).await
    }

    async fn recordings(&self, filter: &RecordingFilter) -> Result<Vec<Recording>, StoreError> {
        self.store.recordings(filter).await
    }
}

#[async_trait]
impl Registry for WakingStore {
    async fn create_namespace(&self, namespace: &NamespaceRecord) -> Result<bool, StoreError> {
        self.store.create_namespace(namespace).await
    }

    async fn namespaces(&self) -> Result<Vec<NamespaceRecord>, StoreError> {
        self.store.namespaces().await
    }

    async fn delete_namespace(&self, name: &str, id: &str) -> Result<bool, StoreError> {
        self.store.delete_namespace(name, id).await
    }

    async fn register_client(&self, client: &ClientRecord) -> Result<Registered, StoreError> {
        self.store.register_client(client).await
    }

    async fn update_client(
        &self,
        client: &ClientRecord,
        previous_ms: i64,
    ) -> Result<bool, StoreError> {
        self.store.update_client(client, previous_ms).await
    }

    async fn client(&self, client_id: &str) -> Result<Option<ClientRecord>, StoreError> {
        self.store.client(client_id).await
    }

    async fn clients(&self) -> Result<Vec<ClientRecord>, StoreError> {
        self.store.clients().await
    }

    async fn delete_client(&self, namespace: &str, client_id: &str) -> Result<bool, StoreError> {
        self.store.delete_client(namespace, client_id).await
    }
}
