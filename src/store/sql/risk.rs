//! Risk reports (sendPaymentResult) on SQLite and PostgreSQL: one per client and
//! referenceTransactionId, the first kept.

use std::collections::HashSet;

use chrono::DateTime;
use sqlx::any::AnyRow;
use sqlx::{Executor, Row};

use super::payments::millis;
use super::{classify, values};
use crate::store::{RiskReport, StoreError};

pub(super) fn risk_report_of(row: &AnyRow) -> Result<RiskReport, StoreError> {
    let at: i64 = row.try_get("received_at_ms").map_err(classify)?;
    Ok(RiskReport {
        client_id: row.try_get("client_id").map_err(classify)?,
        reference_transaction_id: row.try_get("reference_transaction_id").map_err(classify)?,
        payment_status: row.try_get("payment_status").map_err(classify)?,
        report: row.try_get("report").map_err(classify)?,
        received_at: DateTime::from_timestamp_millis(at).unwrap_or_default(),
    })
}

/// Stores risk reports in one statement, each unless one with its ids is on file (or comes
/// earlier in `reports`); answers the ids stored (client, referenceTransactionId).
pub(super) async fn insert_risk_reports<'c, E>(
    executor: E,
    reports: &[&RiskReport],
) -> Result<HashSet<(String, String)>, StoreError>
where
    E: Executor<'c, Database = sqlx::Any>,
{
    if reports.is_empty() {
        return Ok(HashSet::new());
    }
    let rows = values(reports.len(), 5, |p| format!("({})", p.join(", ")));
    let sql = format!(
        "INSERT INTO risk_reports (client_id, reference_transaction_id, payment_status, report, received_at_ms) \
         VALUES {rows} ON CONFLICT (client_id, reference_transaction_id) DO NOTHING \
         RETURNING client_id, reference_transaction_id"
    );
    // A statement text per batch size: kept prepared, they would fill the statement cache.
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).persistent(reports.len() == 1);
    for r in reports {
        query = query
            .bind(r.client_id.as_str())
            .bind(r.reference_transaction_id.as_str())
            .bind(r.payment_status.as_str())
            .bind(r.report.as_str())
            .bind(millis(r.received_at));
    }
    let rows = query.fetch_all(executor).await.map_err(classify)?;
    rows.iter()
        .map(|row| {
            Ok((
                row.try_get("client_id").map_err(classify)?,
                row.try_get("reference_transaction_id").map_err(classify)?,
            ))
        })
        .collect()
}
