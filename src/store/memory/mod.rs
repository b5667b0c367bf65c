//! `memory://`: the fastest store; nothing survives a restart. Each operation holds one lock
//! for its whole read-decide-write, which is what makes it atomic. It is capped, so a flood of
//! unique writes cannot take the process's memory: it keeps the newest `store.memory_max_entries`
//! payments (each with its notification) and as many risk reports, and the newest
//! [`RECEIVED_KEPT`] received notifications within [`RECEIVED_BYTES`]; the oldest go first.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};

mod notifications;
mod payments;
mod recordings;
mod registry;

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
