//! `memory://`: the fastest store; nothing survives a restart. Each operation holds one lock
//! for its whole read-decide-write, which is what makes it atomic.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;

use super::queue::{
    Attempt, CancelOutcome, NewNotification, NextStep, Notification, NotificationQueue,
    NotificationStatus, ReceivedNotification,
};
use super::rules::{PushDecision, Which, apply_push, decide_push, new_from_push};
use super::{
    Payment, PaymentStore, PushReport, ReportOutcome, RiskReport, SeedOutcome, StoreError,
};
use crate::notify::message::{self, NotifyPlan};

/// How many received notifications the memory store keeps.
const RECEIVED_KEPT: usize = 10_000;

/// The in-memory store.
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    payments: Vec<Payment>,
    by_request_id: HashMap<String, usize>,
    by_payment_id: HashMap<String, usize>,
    risk_reports: HashMap<(String, String), RiskReport>,
    notifications: Vec<Queued>,
    received: Vec<ReceivedNotification>,
}

#[derive(Debug)]
struct Queued {
    notification: Notification,
    lease: Option<(String, i64)>,
    attempts: Vec<Attempt>,
}

impl Inner {
    fn insert(&mut self, payment: Payment) -> Payment {
        let at = self.payments.len();
        self.payments.push(payment.clone());
        self.index(at);
        payment
    }

    fn index(&mut self, at: usize) {
        let p = &self.payments[at];
        if let Some(id) = p.payment_request_id.clone() {
            self.by_request_id.insert(id, at);
        }
        if let Some(id) = p.payment_id.clone() {
            self.by_payment_id.insert(id, at);
        }
    }

    /// Queues the notification a newly final payment yields, once per payment.
    fn enqueue(&mut self, payment: &Payment, plan: &NotifyPlan<'_>) {
        let Some(new) = message::build(payment, plan) else {
            return;
        };
        if self
            .notifications
            .iter()
            .any(|q| q.notification.payment_request_id == new.payment_request_id)
        {
            return;
        }
        self.notifications.push(Queued {
            notification: pending(new),
            lease: None,
            attempts: Vec::new(),
        });
    }

    fn queued(&mut self, id: &str) -> Option<&mut Queued> {
        self.notifications
            .iter_mut()
            .find(|q| q.notification.id == id)
    }
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
    ) -> Result<ReportOutcome<Payment>, StoreError> {
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
            by_pid.map(|i| &inner.payments[i]),
            by_rid.map(|i| &inner.payments[i]),
            &report,
            plan.caller,
        );
        // The decision names a payment only when its lookup found one.
        let chosen = |index: Option<usize>| {
            index.ok_or_else(|| {
                StoreError::Internal("push decision named a payment that was not found".into())
            })
        };
        let now = chrono::Utc::now();
        Ok(match decision {
            PushDecision::Foreign => ReportOutcome::Foreign,
            PushDecision::Repeated => {
                ReportOutcome::Repeated(inner.payments[chosen(by_pid)?].clone())
            }
            PushDecision::Contradicts(w) => {
                ReportOutcome::Contradicts(inner.payments[chosen(pick(w))?].clone())
            }
            PushDecision::Complete(w) => {
                let at = chosen(pick(w))?;
                let updated = apply_push(inner.payments[at].clone(), &report, plan.caller, now);
                inner.payments[at] = updated.clone();
                inner.index(at);
                inner.enqueue(&updated, plan);
                ReportOutcome::Recorded(updated)
            }
            PushDecision::Create => {
                let created = inner.insert(new_from_push(&report, plan.caller, now));
                inner.enqueue(&created, plan);
                ReportOutcome::Recorded(created)
            }
        })
    }

    async fn payment(&self, payment_request_id: &str) -> Result<Option<Payment>, StoreError> {
        let inner = self.lock()?;
        Ok(inner
            .by_request_id
            .get(payment_request_id)
            .map(|&i| inner.payments[i].clone()))
    }

    async fn seed_payment(
        &self,
        payment: Payment,
        plan: &NotifyPlan<'_>,
    ) -> Result<SeedOutcome, StoreError> {
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
            Some(i) => SeedOutcome::Exists(inner.payments[i].clone()),
            None => {
                let created = inner.insert(payment);
                inner.enqueue(&created, plan);
                SeedOutcome::Created(created)
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
        Ok(match inner.risk_reports.get(&key) {
            Some(first) if first.report == report.report => ReportOutcome::Repeated(first.clone()),
            Some(first) => ReportOutcome::Contradicts(first.clone()),
            None => {
                inner.risk_reports.insert(key, report.clone());
                ReportOutcome::Recorded(report)
            }
        })
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.lock().map(|_| ())
    }

    async fn reset(&self) -> Result<(), StoreError> {
        *self.lock()? = Inner::default();
        Ok(())
    }

    fn backend(&self) -> &'static str {
        "memory"
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
            .iter_mut()
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
            .iter()
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
            .iter()
            .filter(|q| q.notification.status == NotificationStatus::Pending)
            .count() as u64)
    }

    async fn notifications_for(
        &self,
        payment_request_id: &str,
    ) -> Result<Vec<(Notification, Vec<Attempt>)>, StoreError> {
        let inner = self.lock()?;
        Ok(inner
            .notifications
            .iter()
            .filter(|q| q.notification.payment_request_id == payment_request_id)
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
            .iter_mut()
            .filter(|q| q.notification.status == NotificationStatus::Pending)
        {
            q.notification.next_due_ms = q.notification.next_due_ms.saturating_sub(by_ms);
            moved += 1;
        }
        Ok(moved)
    }

    async fn release_leases(&self, owner: &str) -> Result<(), StoreError> {
        let mut inner = self.lock()?;
        for q in &mut inner.notifications {
            if q.lease.as_ref().is_some_and(|(o, _)| o == owner) {
                q.lease = None;
            }
        }
        Ok(())
    }

    async fn record_received(&self, received: ReceivedNotification) -> Result<(), StoreError> {
        let mut inner = self.lock()?;
        if inner.received.len() >= RECEIVED_KEPT {
            inner.received.remove(0);
        }
        inner.received.push(received);
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
