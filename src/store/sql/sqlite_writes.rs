//! The API writes SQLite's writer commits in groups ([`super::group_commit`]), and how a group
//! shares statements: the risk reports of a batch go in one multi-row insert, and so do the
//! push reports of payments the store has not seen (the common case) with their notifications.
//! Only reports of payments already on file are decided one by one.

use std::any::Any;
use std::collections::HashMap;
use std::sync::Arc;

use chrono::Utc;
use sqlx::AnyConnection;

use super::group_commit::{BoxFuture, Write};
use super::notifications::enqueue_all;
use super::payments::{insert_payments_unless_known, push_within};
use super::risk::insert_risk_reports;
use super::write::Statements;
use super::{SQLITE, classify};
use crate::domain::message::{self, NotifyPlan, Queuing};
use crate::domain::push::new_from_push;
use crate::store::{Payment, PushReport, ReportOutcome, RiskReport, StoreError, Written};

/// One write, queued for the writer.
pub(super) enum SqliteWrite {
    /// notifyPushPayment, with its notification plan.
    Push { report: PushReport, plan: OwnedPlan },
    /// sendPaymentResult.
    Risk(RiskReport),
    /// Any other write ([`SqlStore::write`](super::SqlStore)), run on its own in the group.
    Other(Statements),
}

/// What a write did.
pub(super) enum Done {
    /// The push report's outcome.
    Push(Box<Written<ReportOutcome<Payment>>>),
    /// Whether the risk report was stored (`false`: one with its ids was there).
    Risk(bool),
    /// Another write's outcome, of the type its caller expects.
    Other(Box<dyn Any + Send>),
}

/// A [`NotifyPlan`] that owns what it names, so a write can carry it to the writer.
#[derive(Clone)]
pub(super) struct OwnedPlan {
    caller: String,
    default_urls: Arc<HashMap<String, String>>,
    first_due_ms: i64,
}

impl OwnedPlan {
    /// Takes `plan`'s values.
    pub(super) fn of(plan: &NotifyPlan<'_>) -> Self {
        Self {
            caller: plan.caller.to_owned(),
            default_urls: Arc::clone(plan.default_urls),
            first_due_ms: plan.first_due_ms,
        }
    }

    /// The plan it holds.
    pub(super) fn plan(&self) -> NotifyPlan<'_> {
        NotifyPlan {
            caller: &self.caller,
            default_urls: &self.default_urls,
            first_due_ms: self.first_due_ms,
        }
    }
}

impl SqliteWrite {
    /// A push report and the plan for its notification.
    pub(super) fn push(report: PushReport, plan: &NotifyPlan<'_>) -> Self {
        SqliteWrite::Push {
            report,
            plan: OwnedPlan::of(plan),
        }
    }
}

impl Done {
    /// The outcome of a push report.
    pub(super) fn into_push(self) -> Result<Written<ReportOutcome<Payment>>, StoreError> {
        match self {
            Done::Push(outcome) => Ok(*outcome),
            _ => Err(mismatch()),
        }
    }

    /// Whether a risk report was stored.
    pub(super) fn into_risk(self) -> Result<bool, StoreError> {
        match self {
            Done::Risk(stored) => Ok(stored),
            _ => Err(mismatch()),
        }
    }
}

/// The writer's answer was for another kind of write than the one submitted.
pub(super) fn mismatch() -> StoreError {
    StoreError::Internal("the writer answered a different kind of write".into())
}

impl Write for SqliteWrite {
    type Output = Done;

    fn run<'c>(
        &'c self,
        conn: &'c mut AnyConnection,
    ) -> BoxFuture<'c, Result<Option<Done>, StoreError>> {
        Box::pin(async move {
            match self {
                SqliteWrite::Push { report, plan } => {
                    Ok(push_within(conn, &SQLITE, report, &plan.plan())
                        .await?
                        .map(|outcome| Done::Push(Box::new(outcome))))
                }
                SqliteWrite::Risk(report) => {
                    let stored = insert_risk_reports(conn, &[report]).await?;
                    Ok(Some(Done::Risk(!stored.is_empty())))
                }
                SqliteWrite::Other(statements) => Ok(statements(conn).await?.map(Done::Other)),
            }
        })
    }

    fn run_batch<'c>(
        writes: &'c [&'c Self],
        conn: &'c mut AnyConnection,
    ) -> BoxFuture<'c, Result<Vec<Option<Done>>, StoreError>> {
        Box::pin(async move {
            let mut outcomes: Vec<Option<Done>> = writes.iter().map(|_| None).collect();
            let (mut risks, mut pushes, mut alone) = (Vec::new(), Vec::new(), Vec::new());
            for (i, write) in writes.iter().enumerate() {
                match write {
                    SqliteWrite::Risk(report) => risks.push((i, report)),
                    SqliteWrite::Push { .. } => pushes.push(i),
                    SqliteWrite::Other(_) => alone.push(i),
                }
            }
            // Risk reports: the first of each id in one insert; repeats of an id in the batch
            // then find it, one by one, as they would have in turn.
            let (first, repeats) = first_of_each(&risks, |&(_, r): &(usize, &'c RiskReport)| {
                vec![(r.client_id.as_str(), r.reference_transaction_id.as_str())]
            });
            let reports: Vec<&RiskReport> = first.iter().map(|&(_, r)| r).collect();
            let stored = insert_risk_reports(&mut *conn, &reports).await?;
            for (i, r) in first {
                let key = (r.client_id.clone(), r.reference_transaction_id.clone());
                outcomes[i] = Some(Done::Risk(stored.contains(&key)));
            }
            for (i, _) in repeats {
                outcomes[i] = writes[i].run(&mut *conn).await?;
            }
            // Push reports: payments not on file (their ids unique in the batch) in one insert,
            // their notifications in another; the rest decided one by one.
            let (fresh, others) = first_of_each(&pushes, |&i: &usize| match writes[i] {
                SqliteWrite::Push { report, .. } => {
                    let mut ids = vec![("pid", report.payment_id.as_str())];
                    if let Some(rid) = &report.payment_request_id {
                        ids.push(("rid", rid.as_str()));
                    }
                    ids
                }
                _ => Vec::new(),
            });
            let now = Utc::now();
            let created: Vec<(usize, Payment)> = fresh
                .iter()
                .filter_map(|i| match writes[*i] {
                    SqliteWrite::Push { report, plan } => {
                        Some((*i, new_from_push(report, &plan.caller, now)))
                    }
                    _ => None,
                })
                .collect();
            let payments: Vec<&Payment> = created.iter().map(|(_, p)| p).collect();
            let inserted = insert_payments_unless_known(&mut *conn, &payments).await?;
            let mut notifications = Vec::new();
            let mut known = others;
            for (i, payment) in created {
                let is_new = payment
                    .payment_id
                    .as_deref()
                    .is_some_and(|id| inserted.contains(id));
                if !is_new {
                    known.push(i);
                    continue;
                }
                let SqliteWrite::Push { plan, .. } = writes[i] else {
                    return Err(mismatch());
                };
                let queuing = match message::build(&payment, &plan.plan()) {
                    Ok(notification) => {
                        notifications.push(notification);
                        Queuing::Queued
                    }
                    Err(queuing) => queuing,
                };
                outcomes[i] = Some(Done::Push(Box::new(Written {
                    outcome: ReportOutcome::Recorded(payment),
                    queuing,
                })));
            }
            enqueue_all(conn, notifications).await.map_err(classify)?;
            known.sort_unstable();
            // Other writes share no statements: each runs on its own, after the batched ones.
            for i in known.into_iter().chain(alone) {
                outcomes[i] = writes[i].run(&mut *conn).await?;
            }
            Ok(outcomes)
        })
    }
}

/// Splits `items` into those none of whose keys another item shares, and the rest (in
/// order). Only the first can share a multi-row statement: the row a key's insert returns then
/// belongs to exactly one write.
fn first_of_each<'a, T: Copy>(
    items: &[T],
    keys: impl Fn(&T) -> Vec<(&'a str, &'a str)>,
) -> (Vec<T>, Vec<T>) {
    let mut seen: HashMap<(&str, &str), usize> = HashMap::new();
    for item in items {
        for key in keys(item) {
            *seen.entry(key).or_default() += 1;
        }
    }
    items
        .iter()
        .copied()
        .partition(|item| keys(item).iter().all(|key| seen[key] == 1))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::Utc;
    use tokio::task::JoinSet;

    use super::super::{SqlOptions, SqlStore};
    use super::*;
    use crate::domain::push::new_from_push;
    use crate::protocol::Amount;
    use crate::store::{NotificationQueue, PaymentStatus, PaymentStore, SeedOutcome};

    fn push(pid: &str, rid: Option<&str>, code: &str) -> PushReport {
        PushReport {
            payment_id: pid.into(),
            payment_request_id: rid.map(Into::into),
            status: if code == "SUCCESS" {
                PaymentStatus::Success
            } else {
                PaymentStatus::Fail
            },
            result_code: code.into(),
            result_message: None,
            payment_time: (code == "SUCCESS").then(|| "2026-11-22T10:00:00+08:00".into()),
        }
    }

    fn risk(reference: &str, status: &str) -> RiskReport {
        RiskReport {
            client_id: "MERCHANT".into(),
            reference_transaction_id: reference.into(),
            payment_status: status.into(),
            report: format!(r#"{{"paymentStatus":"{status}"}}"#),
            received_at: Utc::now(),
        }
    }

    /// What one write answered, reduced to its kind.
    fn kind<T>(outcome: &ReportOutcome<T>) -> &'static str {
        match outcome {
            ReportOutcome::Recorded(_) => "recorded",
            ReportOutcome::Repeated(_) => "repeated",
            ReportOutcome::Contradicts(_) => "contradicts",
            ReportOutcome::Foreign => "foreign",
        }
    }

    #[tokio::test]
    async fn writes_in_flight_together_are_decided_as_if_one_after_another() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/gateway.db", dir.path().display());
        let options = SqlOptions {
            max_connections: 4,
            acquire_timeout: std::time::Duration::from_secs(5),
            sqlite_synchronous: "normal".into(),
            statement_timeout: std::time::Duration::from_secs(5),
            namespace: None,
            idle_timeout: None,
        };
        let url = crate::store::StoreUrl::parse(&url).unwrap();
        let store = Arc::new(SqlStore::connect(&url, &options).await.unwrap());
        store.migrate().await.unwrap();
        let urls = Arc::new(HashMap::from([(
            "ACQP".to_owned(),
            "http://127.0.0.1:9/notify".to_owned(),
        )]));
        // A payment on file, processing, with what its notification needs.
        let mut seeded = new_from_push(
            &push("seeded", Some("rid-seeded"), "SUCCESS"),
            "",
            Utc::now(),
        );
        seeded.payment_id = None;
        seeded.status = PaymentStatus::Processing;
        seeded.payment_time = None;
        seeded.payment_amount = Some(Amount {
            currency: "USD".into(),
            value: "100".into(),
        });
        let plan = NotifyPlan {
            caller: "ACQP",
            default_urls: &urls,
            first_due_ms: 0,
        };
        assert!(matches!(
            store.seed_payment(seeded, &plan).await.unwrap().outcome,
            SeedOutcome::Created(_)
        ));

        let mut pushes: Vec<(String, PushReport)> = (0..40)
            .map(|i| {
                let (pid, rid) = (format!("pid-{i}"), format!("rid-{i}"));
                (format!("fresh-{i}"), push(&pid, Some(&rid), "SUCCESS"))
            })
            .collect();
        pushes.push((
            "seeded".into(),
            push("seeded", Some("rid-seeded"), "SUCCESS"),
        ));
        pushes.push(("same-a".into(), push("same", Some("rid-same"), "SUCCESS")));
        pushes.push(("same-b".into(), push("same", Some("rid-same"), "SUCCESS")));
        pushes.push(("clash-a".into(), push("clash", None, "RISK_REJECT")));
        pushes.push(("clash-b".into(), push("clash", None, "ORDER_IS_CLOSED")));
        let mut risks: Vec<(String, RiskReport)> = (0..20)
            .map(|i| (format!("risk-{i}"), risk(&format!("txn-{i}"), "SUCCESS")))
            .collect();
        risks.push(("risk-same-a".into(), risk("txn-same", "SUCCESS")));
        risks.push(("risk-same-b".into(), risk("txn-same", "SUCCESS")));
        risks.push(("risk-clash-a".into(), risk("txn-clash", "SUCCESS")));
        risks.push(("risk-clash-b".into(), risk("txn-clash", "FAIL")));
        let writes = pushes.len() + risks.len();

        let mut answers = JoinSet::new();
        for (name, report) in pushes {
            let (store, urls) = (Arc::clone(&store), Arc::clone(&urls));
            answers.spawn(async move {
                let plan = NotifyPlan {
                    caller: "ACQP",
                    default_urls: &urls,
                    first_due_ms: 0,
                };
                let outcome = store
                    .record_push_result(report, &plan)
                    .await
                    .unwrap()
                    .outcome;
                (name, kind(&outcome))
            });
        }
        for (name, report) in risks {
            let store = Arc::clone(&store);
            answers.spawn(async move {
                let outcome = store.record_risk_report(report).await.unwrap();
                (name, kind(&outcome))
            });
        }
        let answers: HashMap<String, &str> = answers.join_all().await.into_iter().collect();

        for i in 0..40 {
            assert_eq!(answers[&format!("fresh-{i}")], "recorded");
        }
        for i in 0..20 {
            assert_eq!(answers[&format!("risk-{i}")], "recorded");
        }
        assert_eq!(answers["seeded"], "recorded");
        let pair = |a: &str, b: &str| {
            let mut pair = [answers[a], answers[b]];
            pair.sort_unstable();
            pair
        };
        assert_eq!(pair("same-a", "same-b"), ["recorded", "repeated"]);
        assert_eq!(pair("clash-a", "clash-b"), ["contradicts", "recorded"]);
        assert_eq!(pair("risk-same-a", "risk-same-b"), ["recorded", "repeated"]);
        assert_eq!(
            pair("risk-clash-a", "risk-clash-b"),
            ["contradicts", "recorded"]
        );
        let completed = store.payment("rid-seeded").await.unwrap().unwrap();
        assert_eq!(completed.status, PaymentStatus::Success);
        assert_eq!(completed.payment_id.as_deref(), Some("seeded"));
        assert_eq!(
            store.pending_count().await.unwrap(),
            1,
            "only the seeded payment has what a notification needs"
        );
        let commits = store.group.as_ref().unwrap().commits();
        assert!(
            commits < writes as u64 / 2,
            "{writes} writes in flight together took {commits} commits"
        );
    }
}
