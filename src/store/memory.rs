//! `memory://`: the fastest store; nothing survives a restart. Each operation holds one lock
//! for its whole read-decide-write, which is what makes it atomic.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::rules::{PushDecision, Which, apply_push, decide_push, new_from_push};
use super::{
    Payment, PaymentStore, PushReport, ReportOutcome, RiskReport, SeedOutcome, StoreError,
};

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
}

impl Inner {
    fn insert(&mut self, payment: Payment) -> Payment {
        let at = self.payments.len();
        if let Some(id) = &payment.payment_request_id {
            self.by_request_id.insert(id.clone(), at);
        }
        if let Some(id) = &payment.payment_id {
            self.by_payment_id.insert(id.clone(), at);
        }
        self.payments.push(payment.clone());
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
}

impl MemoryStore {
    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Inner>, StoreError> {
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
        );
        let now = chrono::Utc::now();
        Ok(match decision {
            PushDecision::Repeated => {
                ReportOutcome::Repeated(inner.payments[by_pid.unwrap_or_default()].clone())
            }
            PushDecision::Contradicts(w) => {
                ReportOutcome::Contradicts(inner.payments[pick(w).unwrap_or_default()].clone())
            }
            PushDecision::Complete(w) => {
                let at = pick(w).unwrap_or_default();
                let updated = apply_push(inner.payments[at].clone(), &report, now);
                inner.payments[at] = updated.clone();
                inner.index(at);
                ReportOutcome::Recorded(updated)
            }
            PushDecision::Create => {
                ReportOutcome::Recorded(inner.insert(new_from_push(&report, now)))
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

    async fn seed_payment(&self, payment: Payment) -> Result<SeedOutcome, StoreError> {
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
            None => SeedOutcome::Created(inner.insert(payment)),
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

    fn backend(&self) -> &'static str {
        "memory"
    }
}
