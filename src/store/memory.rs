//! `memory://`: the fastest store; nothing survives a restart. Each operation holds one lock
//! for its whole read-decide-write, which is what makes it atomic. It is capped, so a flood of
//! unique writes cannot take the process's memory: it keeps the newest `store.memory_max_entries`
//! payments (each with its notification) and as many risk reports, and the newest
//! [`RECEIVED_KEPT`] received notifications within [`RECEIVED_BYTES`]; the oldest go first.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;

use super::registry::{Registered, Registry};
use super::{
    Attempt, CancelOutcome, NewNotification, NextStep, Notification, NotificationQueue,
    NotificationStatus, ReceivedNotification,
};
use super::{
    Payment, PaymentQuery, PaymentStore, PushReport, ReportOutcome, RiskReport, SeedOutcome,
    StoreError,
};
use super::{Recording, RecordingFilter, Recordings, limit_of};
use crate::domain::Written;
use crate::domain::message::{self, NotifyPlan, Queuing};
use crate::domain::namespace::{ClientRecord, DEFAULT_NAMESPACE, NamespaceRecord};
use crate::domain::push::{PushDecision, Which, apply_push, decide_push, new_from_push};

/// How many received notifications the memory store keeps.
pub const RECEIVED_KEPT: usize = 10_000;
/// How many bytes of received notification bodies it keeps.
pub const RECEIVED_BYTES: usize = 64 << 20;
/// Payments (and risk reports) kept when no cap is configured.
pub const DEFAULT_MAX_ENTRIES: usize = 100_000;

/// The in-memory store.
#[derive(Debug)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
    max_entries: usize,
    /// Recordings, newest last; apart from `inner`, as a reset keeps them.
    recordings: Mutex<RecordingLog>,
    /// Namespaces and run-time clients; a reset keeps them too.
    registry: Mutex<RegistryState>,
}

/// Namespaces by name, run-time clients by id.
#[derive(Debug, Default)]
struct RegistryState {
    namespaces: BTreeMap<String, NamespaceRecord>,
    clients: BTreeMap<String, ClientRecord>,
}

/// The recordings and the id the next one gets.
#[derive(Debug, Default)]
struct RecordingLog {
    kept: VecDeque<Recording>,
    last_id: i64,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::with_max_entries(DEFAULT_MAX_ENTRIES)
    }
}

/// A payment's place in insertion order; indexes point at it, so an evicted payment's ids can be
/// told from a newer payment's.
type Seq = u64;

#[derive(Debug, Default)]
struct Inner {
    /// Boxed, so that growing the map moves pointers: moving the payments themselves took a
    /// resize past 57,344 payments 200 ms, with every request waiting on the lock.
    payments: HashMap<Seq, Box<Payment>>,
    order: VecDeque<Seq>,
    next_seq: Seq,
    by_request_id: HashMap<String, Seq>,
    by_payment_id: HashMap<String, Seq>,
    /// Keyed by (client, referenceTransactionId); the report is kept as a digest.
    risk_reports: HashMap<(String, String), Box<RiskReport>>,
    risk_order: VecDeque<(String, String)>,
    /// By notification id.
    notifications: HashMap<String, Queued>,
    /// paymentRequestId -> its one notification's id.
    notification_of: HashMap<String, String>,
    received: VecDeque<ReceivedNotification>,
    received_bytes: usize,
}

#[derive(Debug)]
struct Queued {
    notification: Notification,
    lease: Option<(String, i64)>,
    attempts: Vec<Attempt>,
}

impl Inner {
    fn insert(&mut self, payment: Payment, max_entries: usize) -> Payment {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.payments.insert(seq, Box::new(payment.clone()));
        self.order.push_back(seq);
        self.index(seq);
        while self.order.len() > max_entries {
            self.evict_oldest_payment();
        }
        payment
    }

    fn index(&mut self, seq: Seq) {
        let p = &self.payments[&seq];
        if let Some(id) = p.payment_request_id.clone() {
            self.by_request_id.insert(id, seq);
        }
        if let Some(id) = p.payment_id.clone() {
            self.by_payment_id.insert(id, seq);
        }
    }

    /// Drops the oldest payment, its ids and its notification.
    fn evict_oldest_payment(&mut self) {
        let Some(seq) = self.order.pop_front() else {
            return;
        };
        let Some(p) = self.payments.remove(&seq) else {
            return;
        };
        if let Some(id) = &p.payment_request_id {
            if self.by_request_id.get(id) == Some(&seq) {
                self.by_request_id.remove(id);
            }
            if let Some(nid) = self.notification_of.remove(id) {
                self.notifications.remove(&nid);
            }
        }
        if let Some(id) = &p.payment_id
            && self.by_payment_id.get(id) == Some(&seq)
        {
            self.by_payment_id.remove(id);
        }
    }

    fn payment(&self, seq: Seq) -> Result<&Payment, StoreError> {
        self.payments
            .get(&seq)
            .map(|p| &**p)
            .ok_or_else(|| StoreError::Internal("an index names a payment that is gone".into()))
    }

    /// Queues the notification a newly final payment yields, once per payment.
    fn enqueue(&mut self, payment: &Payment, plan: &NotifyPlan<'_>) -> Queuing {
        let new = match message::build(payment, plan) {
            Ok(new) => new,
            Err(queuing) => return queuing,
        };
        if self.notification_of.contains_key(&new.payment_request_id) {
            return Queuing::Queued;
        }
        self.notification_of
            .insert(new.payment_request_id.clone(), new.id.clone());
        self.notifications.insert(
            new.id.clone(),
            Queued {
                notification: pending(new),
                lease: None,
                attempts: Vec::new(),
            },
        );
        Queuing::Queued
    }

    fn queued(&mut self, id: &str) -> Option<&mut Queued> {
        self.notifications.get_mut(id)
    }
}

/// What the memory store keeps of a canonical report: its SHA-256, which is all idempotency
/// compares, so a report's size does not count against memory.
fn digest(canonical: &str) -> String {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canonical.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn pending(new: NewNotification) -> Notification {
    Notification {
        id: new.id,
        payment_request_id: new.payment_request_id,
        client_id: new.client_id,
        url: new.url,
        body: new.body,
        status: NotificationStatus::Pending,
        attempts_made: 0,
        next_due_ms: new.first_due_ms,
        created_at_ms: chrono::Utc::now().timestamp_millis(),
    }
}

impl MemoryStore {
    /// A store that keeps the newest `max_entries` payments and as many risk reports.
    pub fn with_max_entries(max_entries: usize) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            max_entries: max_entries.max(1),
            recordings: Mutex::new(RecordingLog::default()),
            registry: Mutex::new(RegistryState::default()),
        }
    }

    fn lock(&self) -> Result<MutexGuard<'_, Inner>, StoreError> {
        self.inner
            .lock()
            .map_err(|_| StoreError::Internal("memory store lock poisoned".into()))
    }
}

#[async_trait]
impl PaymentStore for MemoryStore {
    async fn record_push_result(
        &self,
        report: PushReport,
        plan: &NotifyPlan<'_>,
    ) -> Result<Written<ReportOutcome<Payment>>, StoreError> {
        let mut inner = self.lock()?;
        let by_pid = inner.by_payment_id.get(&report.payment_id).copied();
        let by_rid = report
            .payment_request_id
            .as_ref()
            .and_then(|id| inner.by_request_id.get(id).copied());
        let pick = |w: Which| match w {
            Which::ByPaymentId => by_pid,
            Which::ByRequestId => by_rid,
        };
        let decision = decide_push(
            by_pid.map(|i| inner.payment(i)).transpose()?,
            by_rid.map(|i| inner.payment(i)).transpose()?,
            &report,
            plan.caller,
        );
        // The decision names a payment only when its lookup found one.
        let chosen = |index: Option<Seq>| {
            index.ok_or_else(|| {
                StoreError::Internal("push decision named a payment that was not found".into())
            })
        };
        let now = chrono::Utc::now();
        Ok(match decision {
            PushDecision::Foreign => Written::unchanged(ReportOutcome::Foreign),
            PushDecision::Repeated => Written::unchanged(ReportOutcome::Repeated(
                inner.payment(chosen(by_pid)?)?.clone(),
            )),
            PushDecision::Contradicts(w) => Written::unchanged(ReportOutcome::Contradicts(
                inner.payment(chosen(pick(w))?)?.clone(),
            )),
            PushDecision::Complete(w) => {
                let at = chosen(pick(w))?;
                let updated = apply_push(inner.payment(at)?.clone(), &report, plan.caller, now);
                inner.payments.insert(at, Box::new(updated.clone()));
                inner.index(at);
                let queuing = inner.enqueue(&updated, plan);
                Written {
                    outcome: ReportOutcome::Recorded(updated),
                    queuing,
                }
            }
            PushDecision::Create => {
                let created =
                    inner.insert(new_from_push(&report, plan.caller, now), self.max_entries);
                let queuing = inner.enqueue(&created, plan);
                Written {
                    outcome: ReportOutcome::Recorded(created),
                    queuing,
                }
            }
        })
    }

    async fn payment(&self, payment_request_id: &str) -> Result<Option<Payment>, StoreError> {
        let inner = self.lock()?;
        Ok(inner
            .by_request_id
            .get(payment_request_id)
            .and_then(|i| inner.payments.get(i))
            .map(|p| Payment::clone(p)))
    }

    async fn seed_payment(
        &self,
        payment: Payment,
        plan: &NotifyPlan<'_>,
    ) -> Result<Written<SeedOutcome>, StoreError> {
        let mut inner = self.lock()?;
        let existing = payment
            .payment_request_id
            .as_ref()
            .and_then(|id| inner.by_request_id.get(id))
            .or_else(|| {
                payment
                    .payment_id
                    .as_ref()
                    .and_then(|id| inner.by_payment_id.get(id))
            })
            .copied();
        Ok(match existing {
            Some(i) => Written::unchanged(SeedOutcome::Exists(inner.payment(i)?.clone())),
            None => {
                let created = inner.insert(payment, self.max_entries);
                let queuing = inner.enqueue(&created, plan);
                Written {
                    outcome: SeedOutcome::Created(created),
                    queuing,
                }
            }
        })
    }

    async fn record_risk_report(
        &self,
        report: RiskReport,
    ) -> Result<ReportOutcome<RiskReport>, StoreError> {
        let mut inner = self.lock()?;
        let key = (
            report.client_id.clone(),
            report.reference_transaction_id.clone(),
        );
        let kept = digest(&report.report);
        Ok(match inner.risk_reports.get(&key) {
            Some(first) if first.report == kept => {
                ReportOutcome::Repeated(RiskReport::clone(first))
            }
            Some(first) => ReportOutcome::Contradicts(RiskReport::clone(first)),
            None => {
                inner.risk_reports.insert(
                    key.clone(),
                    Box::new(RiskReport {
                        report: kept,
                        ..report.clone()
                    }),
                );
                inner.risk_order.push_back(key);
                while inner.risk_order.len() > self.max_entries {
                    if let Some(oldest) = inner.risk_order.pop_front() {
                        inner.risk_reports.remove(&oldest);
                    }
                }
                ReportOutcome::Recorded(report)
            }
        })
    }

    async fn list_payments(&self, query: &PaymentQuery) -> Result<Vec<Payment>, StoreError> {
        let inner = self.lock()?;
        let accepts = |p: &&Payment| {
            query.status.is_none_or(|s| s == p.status)
                && query
                    .client_id
                    .as_ref()
                    .is_none_or(|c| p.client_id.as_ref() == Some(c))
        };
        // An id is looked up in its index, as the SQL backends do.
        if let Some(id) = &query.id {
            let mut found: Vec<Seq> = [inner.by_request_id.get(id), inner.by_payment_id.get(id)]
                .into_iter()
                .flatten()
                .copied()
                .collect();
            found.sort_unstable_by(|a, b| b.cmp(a));
            found.dedup();
            return Ok(found
                .iter()
                .filter_map(|seq| inner.payments.get(seq).map(|p| &**p))
                .filter(accepts)
                .skip(query.offset as usize)
                .take(query.limit as usize)
                .cloned()
                .collect());
        }
        Ok(inner
            .order
            .iter()
            .rev()
            .filter_map(|seq| inner.payments.get(seq).map(|p| &**p))
            .filter(accepts)
            .skip(query.offset as usize)
            .take(query.limit as usize)
            .cloned()
            .collect())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.lock().map(|_| ())
    }

    async fn reset(&self) -> Result<(), StoreError> {
        *self.lock()? = Inner::default();
        Ok(())
    }

    async fn held(&self) -> Result<u64, StoreError> {
        let inner = self.lock()?;
        Ok((inner.payments.len() + inner.risk_reports.len()) as u64)
    }

    fn backend(&self) -> &'static str {
        "memory"
    }
}

#[async_trait]
impl Recordings for MemoryStore {
    async fn record_exchange(&self, mut recording: Recording) -> Result<i64, StoreError> {
        let mut log = self
            .recordings
            .lock()
            .map_err(|_| StoreError::Internal("memory store lock poisoned".into()))?;
        log.last_id += 1;
        recording.id = log.last_id;
        log.kept.push_back(recording);
        // Capped like the payments, so forwarding without end cannot exhaust memory.
        while log.kept.len() > self.max_entries {
            log.kept.pop_front();
        }
        Ok(log.last_id)
    }

    async fn recordings(&self, filter: &RecordingFilter) -> Result<Vec<Recording>, StoreError> {
        let log = self
            .recordings
            .lock()
            .map_err(|_| StoreError::Internal("memory store lock poisoned".into()))?;
        let narrows = |wanted: &str, value: &str| wanted.is_empty() || wanted == value;
        Ok(log
            .kept
            .iter()
            .rev()
            .filter(|r| {
                narrows(&filter.api, &r.api)
                    && narrows(&filter.client_id, &r.client_id)
                    && narrows(&filter.match_key, &r.match_key)
                    && narrows(&filter.verdict, &r.verdict)
            })
            .take(limit_of(filter) as usize)
            .cloned()
            .collect())
    }
}

#[async_trait]
impl NotificationQueue for MemoryStore {
    async fn claim_due(
        &self,
        now_ms: i64,
        owner: &str,
        lease_until_ms: i64,
        limit: u32,
    ) -> Result<Vec<Notification>, StoreError> {
        let mut inner = self.lock()?;
        let mut due: Vec<&mut Queued> = inner
            .notifications
            .values_mut()
            .filter(|q| {
                q.notification.status == NotificationStatus::Pending
                    && q.notification.next_due_ms <= now_ms
                    && q.lease.as_ref().is_none_or(|(_, until)| *until < now_ms)
            })
            .collect();
        due.sort_by_key(|q| q.notification.next_due_ms);
        Ok(due
            .into_iter()
            .take(limit as usize)
            .map(|q| {
                q.lease = Some((owner.to_owned(), lease_until_ms));
                q.notification.clone()
            })
            .collect())
    }

    async fn finish_attempt(
        &self,
        owner: &str,
        attempt: Attempt,
        next: NextStep,
    ) -> Result<(), StoreError> {
        let mut inner = self.lock()?;
        let Some(q) = inner.queued(&attempt.notification_id) else {
            return Ok(());
        };
        let holds_lease = q.lease.as_ref().is_some_and(|(o, _)| o == owner);
        if !q.attempts.iter().any(|a| a.number == attempt.number) {
            q.attempts.push(attempt.clone());
        }
        if holds_lease {
            q.lease = None;
            let n = &mut q.notification;
            n.attempts_made = n.attempts_made.max(attempt.number);
            if n.status == NotificationStatus::Pending {
                match next {
                    NextStep::Delivered => n.status = NotificationStatus::Delivered,
                    NextStep::Exhausted => n.status = NotificationStatus::Exhausted,
                    NextStep::RetryAt(due) => n.next_due_ms += due - attempt.due_ms,
                }
            }
        }
        Ok(())
    }

    async fn next_due_ms(&self) -> Result<Option<i64>, StoreError> {
        let inner = self.lock()?;
        Ok(inner
            .notifications
            .values()
            .filter(|q| q.notification.status == NotificationStatus::Pending)
            .map(|q| match &q.lease {
                Some((_, until)) => q.notification.next_due_ms.max(*until),
                None => q.notification.next_due_ms,
            })
            .min())
    }

    async fn pending_count(&self) -> Result<u64, StoreError> {
        let inner = self.lock()?;
        Ok(inner
            .notifications
            .values()
            .filter(|q| q.notification.status == NotificationStatus::Pending)
            .count() as u64)
    }

    async fn notifications_for(
        &self,
        payment_request_id: &str,
    ) -> Result<Vec<(Notification, Vec<Attempt>)>, StoreError> {
        let inner = self.lock()?;
        Ok(inner
            .notification_of
            .get(payment_request_id)
            .and_then(|id| inner.notifications.get(id))
            .into_iter()
            .map(|q| {
                let mut attempts = q.attempts.clone();
                attempts.sort_by_key(|a| a.number);
                (q.notification.clone(), attempts)
            })
            .collect())
    }

    async fn redeliver(&self, id: &str, now_ms: i64) -> Result<Option<Notification>, StoreError> {
        let mut inner = self.lock()?;
        Ok(inner.queued(id).map(|q| {
            q.notification.status = NotificationStatus::Pending;
            q.notification.next_due_ms = now_ms;
            q.notification.clone()
        }))
    }

    async fn cancel(&self, id: &str) -> Result<CancelOutcome, StoreError> {
        let mut inner = self.lock()?;
        Ok(match inner.queued(id) {
            None => CancelOutcome::Unknown,
            Some(q) if q.notification.status != NotificationStatus::Pending => {
                CancelOutcome::NotPending(q.notification.clone())
            }
            Some(q) => {
                q.notification.status = NotificationStatus::Cancelled;
                CancelOutcome::Cancelled(q.notification.clone())
            }
        })
    }

    async fn advance_schedule(&self, by_ms: i64) -> Result<u64, StoreError> {
        let mut inner = self.lock()?;
        let mut moved = 0;
        for q in inner
            .notifications
            .values_mut()
            .filter(|q| q.notification.status == NotificationStatus::Pending)
        {
            q.notification.next_due_ms = q.notification.next_due_ms.saturating_sub(by_ms);
            moved += 1;
        }
        Ok(moved)
    }

    async fn release_leases(&self, owner: &str) -> Result<(), StoreError> {
        let mut inner = self.lock()?;
        for q in inner.notifications.values_mut() {
            if q.lease.as_ref().is_some_and(|(o, _)| o == owner) {
                q.lease = None;
            }
        }
        Ok(())
    }

    async fn record_received(&self, received: ReceivedNotification) -> Result<(), StoreError> {
        let mut inner = self.lock()?;
        inner.received_bytes += received.body.len();
        inner.received.push_back(received);
        while inner.received.len() > RECEIVED_KEPT || inner.received_bytes > RECEIVED_BYTES {
            match inner.received.pop_front() {
                Some(oldest) => inner.received_bytes -= oldest.body.len(),
                None => break,
            }
        }
        Ok(())
    }

    async fn received(
        &self,
        payment_request_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<ReceivedNotification>, StoreError> {
        let inner = self.lock()?;
        Ok(inner
            .received
            .iter()
            .rev()
            .filter(|r| {
                payment_request_id.is_none_or(|id| r.payment_request_id.as_deref() == Some(id))
            })
            .take(limit as usize)
            .cloned()
            .collect())
    }
}

impl MemoryStore {
    fn registry(&self) -> Result<MutexGuard<'_, RegistryState>, StoreError> {
        self.registry
            .lock()
            .map_err(|_| StoreError::Internal("memory store lock poisoned".into()))
    }
}

#[async_trait]
impl Registry for MemoryStore {
    async fn create_namespace(&self, namespace: &NamespaceRecord) -> Result<bool, StoreError> {
        let mut registry = self.registry()?;
        if registry.namespaces.contains_key(&namespace.name) {
            return Ok(false);
        }
        registry
            .namespaces
            .insert(namespace.name.clone(), namespace.clone());
        Ok(true)
    }

    async fn namespaces(&self) -> Result<Vec<NamespaceRecord>, StoreError> {
        Ok(self.registry()?.namespaces.values().cloned().collect())
    }

    async fn delete_namespace(&self, name: &str, id: &str) -> Result<bool, StoreError> {
        let mut registry = self.registry()?;
        if registry.namespaces.get(name).is_none_or(|n| n.id != id) {
            return Ok(false);
        }
        registry.namespaces.remove(name);
        registry.clients.retain(|_, c| c.namespace != name);
        Ok(true)
    }

    async fn register_client(&self, client: &ClientRecord) -> Result<Registered, StoreError> {
        let mut registry = self.registry()?;
        if let Some(owner) = registry.clients.get(&client.client_id) {
            return Ok(Registered::Taken(owner.namespace.clone()));
        }
        if client.namespace != DEFAULT_NAMESPACE
            && !registry.namespaces.contains_key(&client.namespace)
        {
            return Ok(Registered::NoNamespace);
        }
        registry
            .clients
            .insert(client.client_id.clone(), client.clone());
        Ok(Registered::Done)
    }

    async fn update_client(
        &self,
        client: &ClientRecord,
        previous_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut registry = self.registry()?;
        match registry.clients.get_mut(&client.client_id) {
            Some(stored)
                if stored.namespace == client.namespace && stored.updated_at_ms == previous_ms =>
            {
                *stored = client.clone();
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn client(&self, client_id: &str) -> Result<Option<ClientRecord>, StoreError> {
        Ok(self.registry()?.clients.get(client_id).cloned())
    }

    async fn clients(&self) -> Result<Vec<ClientRecord>, StoreError> {
        Ok(self.registry()?.clients.values().cloned().collect())
    }

    async fn delete_client(&self, namespace: &str, client_id: &str) -> Result<bool, StoreError> {
        let mut registry = self.registry()?;
        if registry
            .clients
            .get(client_id)
            .is_some_and(|c| c.namespace == namespace)
        {
            registry.clients.remove(client_id);
            return Ok(true);
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Arc;

    use serde_json::json;

    use super::*;

    fn final_payment(id: &str) -> Payment {
        serde_json::from_value(json!({
            "paymentRequestId": id, "paymentId": format!("P-{id}"), "status": "SUCCESS",
            "resultCode": "SUCCESS", "paymentTime": "2026-11-22T10:00:00+08:00",
            "paymentAmount": {"currency": "USD", "value": "100"},
            "clientId": "M", "notifyUrl": "http://127.0.0.1:1/notify",
            "createdAt": "2026-11-22T02:00:00Z", "updatedAt": "2026-11-22T02:00:00Z"
        }))
        .unwrap()
    }

    fn risk(reference: &str, report: &str) -> RiskReport {
        RiskReport {
            client_id: "M".into(),
            reference_transaction_id: reference.into(),
            payment_status: "SUCCESS".into(),
            report: report.into(),
            received_at: chrono::Utc::now(),
        }
    }

    #[tokio::test]
    async fn past_its_cap_the_oldest_payment_goes_with_its_notification() {
        let store = MemoryStore::with_max_entries(2);
        let urls = Arc::new(HashMap::new());
        let plan = NotifyPlan {
            caller: "M",
            default_urls: &urls,
            first_due_ms: 0,
        };
        for id in ["A", "B", "C"] {
            store.seed_payment(final_payment(id), &plan).await.unwrap();
        }

        assert_eq!(store.payment("A").await.unwrap(), None);
        assert!(store.notifications_for("A").await.unwrap().is_empty());
        assert!(store.payment("B").await.unwrap().is_some());
        assert_eq!(store.notifications_for("C").await.unwrap().len(), 1);
        assert_eq!(store.pending_count().await.unwrap(), 2);
        // The evicted id is free again: seeding it creates a new payment.
        let again = store
            .seed_payment(final_payment("A"), &plan)
            .await
            .unwrap()
            .outcome;
        assert!(matches!(again, SeedOutcome::Created(_)), "{again:?}");
    }

    #[tokio::test]
    async fn past_its_cap_the_oldest_risk_report_goes_and_the_rest_stay_idempotent() {
        let store = MemoryStore::with_max_entries(2);
        for reference in ["T1", "T2", "T3"] {
            store
                .record_risk_report(risk(reference, "{}"))
                .await
                .unwrap();
        }

        let repeated = store.record_risk_report(risk("T3", "{}")).await.unwrap();
        let contradicted = store
            .record_risk_report(risk("T2", "{\"x\":1}"))
            .await
            .unwrap();
        let forgotten = store
            .record_risk_report(risk("T1", "{\"x\":1}"))
            .await
            .unwrap();

        assert!(
            matches!(repeated, ReportOutcome::Repeated(_)),
            "{repeated:?}"
        );
        assert!(
            matches!(contradicted, ReportOutcome::Contradicts(_)),
            "{contradicted:?}"
        );
        assert!(
            matches!(forgotten, ReportOutcome::Recorded(_)),
            "{forgotten:?}"
        );
    }

    #[tokio::test]
    async fn the_receivers_record_keeps_the_newest_within_its_byte_budget() {
        let store = MemoryStore::default();
        let big = "x".repeat(RECEIVED_BYTES / 4 + 1);
        for i in 0..5 {
            store
                .record_received(ReceivedNotification {
                    received_at_ms: i,
                    client_id: "M".into(),
                    payment_request_id: Some(format!("R{i}")),
                    verdict: "valid".into(),
                    answered: "SUCCESS".into(),
                    body: big.clone(),
                })
                .await
                .unwrap();
        }

        let kept = store.received(None, 100).await.unwrap();
        let ids: Vec<_> = kept.iter().map(|r| r.received_at_ms).collect();
        assert_eq!(ids, [4, 3, 2], "the newest three fit in the budget");
    }
}
