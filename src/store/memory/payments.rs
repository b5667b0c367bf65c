//! The memory store's payments and risk reports.

use async_trait::async_trait;

use super::*;

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
        let newest_first: Box<dyn Iterator<Item = Seq> + '_> = match &query.id {
            Some(id) => {
                let mut found: Vec<Seq> =
                    [inner.by_request_id.get(id), inner.by_payment_id.get(id)]
                        .into_iter()
                        .flatten()
                        .copied()
                        .collect();
                found.sort_unstable_by(|a, b| b.cmp(a));
                found.dedup();
                Box::new(found.into_iter())
            }
            None => Box::new(inner.order.iter().rev().copied()),
        };
        Ok(newest_first
            .filter_map(|seq| inner.payments.get(&seq).map(|p| &**p))
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
