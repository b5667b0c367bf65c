//! The memory store's notification queue and the receiver's record.

use async_trait::async_trait;

use super::*;

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
