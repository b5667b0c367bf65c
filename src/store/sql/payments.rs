//! Payments on SQLite and PostgreSQL: each stored as its JSON document beside the columns its
//! lookups and unique constraints need; a push report decided and written in one transaction.

use std::collections::HashSet;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Executor, Row};

use super::notifications::enqueue;
use super::risk::{insert_risk_reports, risk_report_of};
use super::sqlite_writes::{OwnedPlan, SqliteWrite};
use super::{Dialect, SqlStore, classify, is_unique_violation, values};
use crate::domain::message::NotifyPlan;
use crate::domain::push::{PushDecision, Which, apply_push, decide_push, new_from_push};
use crate::store::{
    Payment, PaymentQuery, PaymentStore, PushReport, ReportOutcome, RiskReport, SeedOutcome,
    StoreError, Written,
};

/// A payment by paymentId.
const BY_PAYMENT_ID: &str = "SELECT id, doc FROM payments WHERE payment_id = $1";
/// A payment by paymentRequestId.
const BY_REQUEST_ID: &str = "SELECT id, doc FROM payments WHERE payment_request_id = $1";

pub(super) fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn doc(p: &Payment) -> Result<String, StoreError> {
    serde_json::to_string(p).map_err(|e| StoreError::Internal(format!("payment encoding: {e}")))
}

fn payment_of(row: &AnyRow) -> Result<(i64, Payment), StoreError> {
    let id: i64 = row.try_get("id").map_err(classify)?;
    let text: String = row.try_get("doc").map_err(classify)?;
    let payment = serde_json::from_str(&text)
        .map_err(|e| StoreError::Internal(format!("payment {id} is unreadable: {e}")))?;
    Ok((id, payment))
}

impl SqlStore {
    async fn find_payment<'c, E>(
        executor: E,
        sql: &'static str,
        value: &str,
    ) -> Result<Option<(i64, Payment)>, StoreError>
    where
        E: Executor<'c, Database = sqlx::Any>,
    {
        let row = sqlx::query(sql)
            .bind(value)
            .fetch_optional(executor)
            .await
            .map_err(classify)?;
        row.as_ref().map(payment_of).transpose()
    }
}

/// The columns a payment is stored in, in the order [`bind_payment`] binds them.
const PAYMENT_COLUMNS: &str =
    "payment_request_id, payment_id, status, doc, created_at_ms, updated_at_ms";

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

/// Binds a payment's [`PAYMENT_COLUMNS`].
fn bind_payment<'q>(query: AnyQuery<'q>, p: &Payment) -> Result<AnyQuery<'q>, sqlx::Error> {
    let doc = serde_json::to_string(p).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    Ok(query
        .bind(p.payment_request_id.clone())
        .bind(p.payment_id.clone())
        .bind(p.status.as_str())
        .bind(doc)
        .bind(millis(p.created_at))
        .bind(millis(p.updated_at)))
}

/// Stores a payment; one with its paymentRequestId or paymentId already there is a unique
/// violation.
async fn insert_payment<'c, E>(executor: E, p: &Payment) -> Result<(), sqlx::Error>
where
    E: Executor<'c, Database = sqlx::Any>,
{
    let sql = format!("INSERT INTO payments ({PAYMENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)");
    bind_payment(sqlx::query(sqlx::AssertSqlSafe(sql)), p)?
        .execute(executor)
        .await
        .map(|_| ())
}

/// Stores new payments in one statement, each unless a payment with its paymentRequestId or
/// paymentId is on file (or comes earlier in `payments`); answers the paymentIds stored.
pub(super) async fn insert_payments_unless_known<'c, E>(
    executor: E,
    payments: &[&Payment],
) -> Result<HashSet<String>, StoreError>
where
    E: Executor<'c, Database = sqlx::Any>,
{
    if payments.is_empty() {
        return Ok(HashSet::new());
    }
    let rows = values(payments.len(), 6, |p| format!("({})", p.join(", ")));
    let sql = format!(
        "INSERT INTO payments ({PAYMENT_COLUMNS}) VALUES {rows} ON CONFLICT DO NOTHING RETURNING payment_id"
    );
    // A statement text per batch size: kept prepared, they would fill the statement cache.
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).persistent(payments.len() == 1);
    for p in payments {
        query = bind_payment(query, p).map_err(classify)?;
    }
    let rows = query.fetch_all(executor).await.map_err(classify)?;
    rows.iter()
        .filter_map(|row| {
            row.try_get::<Option<String>, _>("payment_id")
                .map_err(classify)
                .transpose()
        })
        .collect()
}

/// The statements of a push report inside an open transaction: store it as a new payment, or
/// read what it names (locking it), decide, write. `Ok(None)` means an insert lost a race and
/// the decision must be made again.
pub(super) async fn push_within(
    conn: &mut AnyConnection,
    dialect: &Dialect,
    report: &PushReport,
    plan: &NotifyPlan<'_>,
) -> Result<Option<Written<ReportOutcome<Payment>>>, StoreError> {
    // Most reports are of payments the store has not seen: with neither id on file the decision
    // is always Create, so the insert goes first and the read only when it finds either id.
    let now = Utc::now();
    let created = new_from_push(report, plan.caller, now);
    let inserted = insert_payments_unless_known(&mut *conn, &[&created]).await?;
    if inserted.contains(&report.payment_id) {
        return match enqueue(conn, &created, plan).await {
            Ok(queuing) => Ok(Some(Written {
                outcome: ReportOutcome::Recorded(created),
                queuing,
            })),
            Err(e) if is_unique_violation(&e) => Ok(None),
            Err(e) => Err(classify(e)),
        };
    }
    let rows = sqlx::query(dialect.locked_read)
        .bind(report.payment_id.as_str())
        .bind(report.payment_request_id.as_deref())
        .fetch_all(&mut *conn)
        .await
        .map_err(classify)?;
    let (mut by_pid, mut by_rid) = (None, None);
    for row in &rows {
        let (id, payment) = payment_of(row)?;
        if payment.payment_id.as_deref() == Some(report.payment_id.as_str()) {
            by_pid = Some((id, payment.clone()));
        }
        if payment.payment_request_id.is_some()
            && payment.payment_request_id == report.payment_request_id
        {
            by_rid = Some((id, payment));
        }
    }
    let pick = |w: Which| match w {
        Which::ByPaymentId => by_pid.clone(),
        Which::ByRequestId => by_rid.clone(),
    };
    let (written, outcome) = match decide_push(
        by_pid.as_ref().map(|p| &p.1),
        by_rid.as_ref().map(|p| &p.1),
        report,
        plan.caller,
    ) {
        PushDecision::Foreign => return Ok(Some(Written::unchanged(ReportOutcome::Foreign))),
        PushDecision::Repeated => {
            return Ok(by_pid.map(|(_, p)| Written::unchanged(ReportOutcome::Repeated(p))));
        }
        PushDecision::Contradicts(w) => {
            return Ok(pick(w).map(|(_, p)| Written::unchanged(ReportOutcome::Contradicts(p))));
        }
        PushDecision::Complete(w) => {
            let Some((id, current)) = pick(w) else {
                return Ok(None);
            };
            let updated = apply_push(current, report, plan.caller, now);
            let written = sqlx::query(
                "UPDATE payments SET payment_request_id = $1, payment_id = $2, status = $3, doc = $4, updated_at_ms = $5 WHERE id = $6",
            )
            .bind(updated.payment_request_id.clone())
            .bind(updated.payment_id.clone())
            .bind(updated.status.as_str())
            .bind(doc(&updated)?)
            .bind(millis(now))
            .bind(id)
            .execute(&mut *conn)
            .await;
            (written.map(|_| ()), updated)
        }
        // Neither id was on file a moment ago: a concurrent writer's row went away again (a
        // PostgreSQL transaction rolled back). Decide again.
        PushDecision::Create => return Ok(None),
    };
    let written = match written {
        Ok(()) => enqueue(conn, &outcome, plan).await,
        Err(e) => Err(e),
    };
    match written {
        Ok(queuing) => Ok(Some(Written {
            outcome: ReportOutcome::Recorded(outcome),
            queuing,
        })),
        Err(e) if is_unique_violation(&e) => Ok(None),
        Err(e) => Err(classify(e)),
    }
}

#[async_trait]
impl PaymentStore for SqlStore {
    async fn record_push_result(
        &self,
        report: PushReport,
        plan: &NotifyPlan<'_>,
    ) -> Result<Written<ReportOutcome<Payment>>, StoreError> {
        if let Some(group) = &self.group {
            return group
                .submit(SqliteWrite::push(report, plan))
                .await?
                .into_push();
        }
        let (report, plan, dialect) = (Arc::new(report), OwnedPlan::of(plan), self.dialect);
        self.write(move |conn| {
            let (report, plan) = (Arc::clone(&report), plan.clone());
            Box::pin(async move { push_within(conn, dialect, &report, &plan.plan()).await })
        })
        .await
    }

    async fn payment(&self, payment_request_id: &str) -> Result<Option<Payment>, StoreError> {
        Ok(
            Self::find_payment(&self.pool, BY_REQUEST_ID, payment_request_id)
                .await?
                .map(|(_, p)| p),
        )
    }

    async fn seed_payment(
        &self,
        payment: Payment,
        plan: &NotifyPlan<'_>,
    ) -> Result<Written<SeedOutcome>, StoreError> {
        let mut tx = self
            .writer
            .begin_with(self.dialect.begin)
            .await
            .map_err(classify)?;
        let written = match insert_payment(&mut *tx, &payment).await {
            Ok(()) => enqueue(&mut tx, &payment, plan).await,
            Err(e) => Err(e),
        };
        let written = match written {
            Ok(queuing) => tx.commit().await.map(|()| queuing),
            Err(e) => Err(e),
        };
        match written {
            Ok(queuing) => Ok(Written {
                outcome: SeedOutcome::Created(payment),
                queuing,
            }),
            Err(e) if is_unique_violation(&e) => {
                let by_rid = match &payment.payment_request_id {
                    Some(rid) => Self::find_payment(&self.pool, BY_REQUEST_ID, rid).await?,
                    None => None,
                };
                let existing = match (by_rid, &payment.payment_id) {
                    (Some(found), _) => Some(found),
                    (None, Some(pid)) => Self::find_payment(&self.pool, BY_PAYMENT_ID, pid).await?,
                    (None, None) => None,
                };
                existing
                    .map(|(_, p)| Written::unchanged(SeedOutcome::Exists(p)))
                    .ok_or_else(|| {
                        StoreError::Internal("seed conflicted with a payment that vanished".into())
                    })
            }
            Err(e) => Err(classify(e)),
        }
    }

    async fn record_risk_report(
        &self,
        report: RiskReport,
    ) -> Result<ReportOutcome<RiskReport>, StoreError> {
        let inserted = match &self.group {
            Some(group) => group
                .submit(SqliteWrite::Risk(report.clone()))
                .await?
                .into_risk()?,
            None => !insert_risk_reports(&self.writer, &[&report])
                .await?
                .is_empty(),
        };
        if inserted {
            return Ok(ReportOutcome::Recorded(report));
        }
        let row = sqlx::query(
            "SELECT client_id, reference_transaction_id, payment_status, report, received_at_ms FROM risk_reports \
             WHERE client_id = $1 AND reference_transaction_id = $2",
        )
        .bind(report.client_id.as_str())
        .bind(report.reference_transaction_id.as_str())
        .fetch_one(&self.pool)
        .await
        .map_err(classify)?;
        let first = risk_report_of(&row)?;
        Ok(if first.report == report.report {
            ReportOutcome::Repeated(first)
        } else {
            ReportOutcome::Contradicts(first)
        })
    }

    async fn list_payments(&self, query: &PaymentQuery) -> Result<Vec<Payment>, StoreError> {
        // Only the filters given are in the statement, so each is served by its index: the
        // primary key walked backwards, the unique ids, or `payments_by_client`.
        let mut conditions = Vec::new();
        let mut n = 0;
        let mut next = || {
            n += 1;
            format!("${n}")
        };
        if query.status.is_some() {
            conditions.push(format!("status = {}", next()));
        }
        if query.client_id.is_some() {
            conditions.push(format!("{} = {}", self.dialect.client_of, next()));
        }
        if query.id.is_some() {
            let p = next();
            conditions.push(format!("(payment_request_id = {p} OR payment_id = {p})"));
        }
        let filter = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        let (limit, offset) = (next(), next());
        let sql = format!(
            "SELECT id, doc FROM payments {filter} ORDER BY id DESC LIMIT {limit} OFFSET {offset}"
        );
        let mut statement = sqlx::query(sqlx::AssertSqlSafe(sql));
        if let Some(status) = query.status {
            statement = statement.bind(status.as_str());
        }
        if let Some(client) = &query.client_id {
            statement = statement.bind(client.clone());
        }
        if let Some(id) = &query.id {
            statement = statement.bind(id.clone());
        }
        let rows = statement
            .bind(i64::from(query.limit))
            .bind(i64::from(query.offset))
            .fetch_all(&self.pool)
            .await
            .map_err(classify)?;
        rows.iter()
            .map(|row| payment_of(row).map(|(_, p)| p))
            .collect()
    }

    async fn ping(&self) -> Result<(), StoreError> {
        // A table read rather than `SELECT 1`: a store that holds a lock on it past the
        // statement timeout cannot serve requests either, and is not ready.
        sqlx::query("SELECT 1 FROM payments LIMIT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(classify)
    }

    async fn reset(&self) -> Result<(), StoreError> {
        let mut tx = self
            .writer
            .begin_with(self.dialect.begin)
            .await
            .map_err(classify)?;
        for table in [
            "DELETE FROM notification_attempts",
            "DELETE FROM notifications",
            "DELETE FROM received_notifications",
            "DELETE FROM risk_reports",
            "DELETE FROM payments",
        ] {
            sqlx::query(table)
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
        }
        tx.commit().await.map_err(classify)
    }

    async fn close(&self) {
        SqlStore::close(self).await;
    }

    async fn held(&self) -> Result<u64, StoreError> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM payments) + (SELECT COUNT(*) FROM risk_reports) AS held",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(classify)?;
        let held: i64 = row.try_get("held").map_err(classify)?;
        Ok(u64::try_from(held).unwrap_or(0))
    }

    fn backend(&self) -> &'static str {
        self.dialect.name
    }
}
