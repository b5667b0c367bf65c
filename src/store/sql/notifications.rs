//! The notification queue on SQLite and PostgreSQL: claims are one `UPDATE ... RETURNING` that
//! leases due rows (with `FOR UPDATE SKIP LOCKED` on PostgreSQL), and an attempt's record and
//! the notification's next state are written in one transaction.

use async_trait::async_trait;
use chrono::Utc;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::{SqlStore, classify, notification_columns, values};
use crate::domain::message::{self, NotifyPlan, Queuing};
use crate::store::{
    Attempt, CancelOutcome, NewNotification, NextStep, Notification, NotificationQueue,
    NotificationStatus, Payment, ReceivedNotification, StoreError,
};

/// Queues, inside the write that made `payment` final, the notification `plan` yields.
pub(super) async fn enqueue(
    conn: &mut AnyConnection,
    payment: &Payment,
    plan: &NotifyPlan<'_>,
) -> Result<Queuing, sqlx::Error> {
    match message::build(payment, plan) {
        Ok(n) => enqueue_all(conn, vec![n]).await.map(|()| Queuing::Queued),
        Err(queuing) => Ok(queuing),
    }
}

/// Queues notifications in one statement; one already queued for a paymentRequestId stays.
pub(super) async fn enqueue_all(
    conn: &mut AnyConnection,
    notifications: Vec<NewNotification>,
) -> Result<(), sqlx::Error> {
    if notifications.is_empty() {
        return Ok(());
    }
    let rows = values(notifications.len(), 7, |p| {
        format!(
            "({}, {}, {}, {}, {}, 'PENDING', 0, {}, {})",
            p[0], p[1], p[2], p[3], p[4], p[5], p[6]
        )
    });
    let sql = format!(
        concat!(
            "INSERT INTO notifications (",
            notification_columns!(),
            ") \
             VALUES {rows} ON CONFLICT (payment_request_id) DO NOTHING"
        ),
        rows = rows
    );
    let now = Utc::now().timestamp_millis();
    // A statement per batch size: kept prepared, they would fill the statement cache.
    let one = notifications.len() == 1;
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).persistent(one);
    for n in notifications {
        query = query
            .bind(n.id)
            .bind(n.payment_request_id)
            .bind(n.client_id)
            .bind(n.url)
            .bind(n.body)
            .bind(n.first_due_ms)
            .bind(now);
    }
    query.execute(conn).await.map(|_| ())
}

pub(super) fn notification_of(row: &AnyRow) -> Result<Notification, StoreError> {
    let status: String = row.try_get("status").map_err(classify)?;
    let attempts: i64 = row.try_get("attempts_made").map_err(classify)?;
    Ok(Notification {
        id: row.try_get("id").map_err(classify)?,
        payment_request_id: row.try_get("payment_request_id").map_err(classify)?,
        client_id: row.try_get("client_id").map_err(classify)?,
        url: row.try_get("url").map_err(classify)?,
        body: row.try_get("body").map_err(classify)?,
        status: NotificationStatus::parse(&status).ok_or_else(|| {
            StoreError::Internal(format!("unknown notification status {status:?}"))
        })?,
        attempts_made: u32::try_from(attempts).unwrap_or_default(),
        next_due_ms: row.try_get("next_due_ms").map_err(classify)?,
        created_at_ms: row.try_get("created_at_ms").map_err(classify)?,
    })
}

fn attempt_of(row: &AnyRow) -> Result<Attempt, StoreError> {
    let number: i64 = row.try_get("number").map_err(classify)?;
    let status: Option<i64> = row.try_get("http_status").map_err(classify)?;
    let delivered: i64 = row.try_get("delivered").map_err(classify)?;
    Ok(Attempt {
        notification_id: row.try_get("notification_id").map_err(classify)?,
        number: u32::try_from(number).unwrap_or_default(),
        due_ms: row.try_get("due_ms").map_err(classify)?,
        started_ms: row.try_get("started_ms").map_err(classify)?,
        url: row.try_get("url").map_err(classify)?,
        http_status: status.and_then(|s| u16::try_from(s).ok()),
        ack_status: row.try_get("ack_status").map_err(classify)?,
        ack_code: row.try_get("ack_code").map_err(classify)?,
        latency_ms: row.try_get("latency_ms").map_err(classify)?,
        error: row.try_get("error").map_err(classify)?,
        delivered: delivered != 0,
    })
}

fn received_of(row: &AnyRow) -> Result<ReceivedNotification, StoreError> {
    Ok(ReceivedNotification {
        received_at_ms: row.try_get("received_at_ms").map_err(classify)?,
        client_id: row.try_get("client_id").map_err(classify)?,
        payment_request_id: row.try_get("payment_request_id").map_err(classify)?,
        verdict: row.try_get("verdict").map_err(classify)?,
        answered: row.try_get("answered").map_err(classify)?,
        body: row.try_get("body").map_err(classify)?,
    })
}

impl SqlStore {
    async fn notification(&self, id: &str) -> Result<Option<Notification>, StoreError> {
        let row = sqlx::query(concat!(
            concat!("SELECT ", notification_columns!(), " "),
            "FROM notifications WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(classify)?;
        row.as_ref().map(notification_of).transpose()
    }
}

#[async_trait]
impl NotificationQueue for SqlStore {
    async fn claim_due(
        &self,
        now_ms: i64,
        owner: &str,
        lease_until_ms: i64,
        limit: u32,
    ) -> Result<Vec<Notification>, StoreError> {
        let rows = sqlx::query(self.dialect.claim)
            .bind(owner)
            .bind(lease_until_ms)
            .bind(now_ms)
            .bind(i64::from(limit))
            .fetch_all(&self.writer)
            .await
            .map_err(classify)?;
        let mut claimed = rows
            .iter()
            .map(notification_of)
            .collect::<Result<Vec<_>, _>>()?;
        claimed.sort_by_key(|n| n.next_due_ms);
        Ok(claimed)
    }

    async fn finish_attempt(
        &self,
        owner: &str,
        attempt: Attempt,
        next: NextStep,
    ) -> Result<(), StoreError> {
        let mut tx = self
            .writer
            .begin_with(self.dialect.begin)
            .await
            .map_err(classify)?;
        sqlx::query(
            "INSERT INTO notification_attempts (notification_id, number, due_ms, started_ms, url, http_status, ack_status, \
             ack_code, latency_ms, error, delivered) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (notification_id, number) DO NOTHING",
        )
        .bind(attempt.notification_id.as_str())
        .bind(i64::from(attempt.number))
        .bind(attempt.due_ms)
        .bind(attempt.started_ms)
        .bind(attempt.url.as_str())
        .bind(attempt.http_status.map(i64::from))
        .bind(attempt.ack_status.as_deref())
        .bind(attempt.ack_code.as_deref())
        .bind(attempt.latency_ms)
        .bind(attempt.error.as_deref())
        .bind(i64::from(attempt.delivered))
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        let (status, shift) = match next {
            NextStep::Delivered => (NotificationStatus::Delivered, 0),
            NextStep::Exhausted => (NotificationStatus::Exhausted, 0),
            NextStep::RetryAt(due) => (NotificationStatus::Pending, due - attempt.due_ms),
        };
        // A notification cancelled while its attempt ran stays cancelled.
        sqlx::query(
            "UPDATE notifications SET status = CASE WHEN status = 'PENDING' THEN $1 ELSE status END, attempts_made = $2, \
             next_due_ms = CASE WHEN status = 'PENDING' THEN next_due_ms + $3 ELSE next_due_ms END, lease_owner = NULL, \
             lease_until_ms = NULL WHERE id = $4 AND lease_owner = $5",
        )
        .bind(status.as_str())
        .bind(i64::from(attempt.number))
        .bind(shift)
        .bind(attempt.notification_id.as_str())
        .bind(owner)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        tx.commit().await.map_err(classify)
    }

    async fn next_due_ms(&self) -> Result<Option<i64>, StoreError> {
        let row = sqlx::query(
            "SELECT MIN(CASE WHEN lease_until_ms > next_due_ms THEN lease_until_ms ELSE next_due_ms END) AS due \
             FROM notifications WHERE status = 'PENDING'",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(classify)?;
        row.try_get::<Option<i64>, _>("due").map_err(classify)
    }

    async fn pending_count(&self) -> Result<u64, StoreError> {
        let row =
            sqlx::query("SELECT COUNT(*) AS pending FROM notifications WHERE status = 'PENDING'")
                .fetch_one(&self.pool)
                .await
                .map_err(classify)?;
        let n: i64 = row.try_get("pending").map_err(classify)?;
        Ok(u64::try_from(n).unwrap_or_default())
    }

    async fn notifications_for(
        &self,
        payment_request_id: &str,
    ) -> Result<Vec<(Notification, Vec<Attempt>)>, StoreError> {
        let rows = sqlx::query(concat!(
            concat!("SELECT ", notification_columns!(), " "),
            "FROM notifications WHERE payment_request_id = $1 ORDER BY created_at_ms"
        ))
        .bind(payment_request_id)
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let notification = notification_of(row)?;
            let attempts = sqlx::query(
                "SELECT notification_id, number, due_ms, started_ms, url, http_status, ack_status, ack_code, latency_ms, \
                 error, delivered FROM notification_attempts WHERE notification_id = $1 ORDER BY number",
            )
            .bind(notification.id.as_str())
            .fetch_all(&self.pool)
            .await
            .map_err(classify)?
            .iter()
            .map(attempt_of)
            .collect::<Result<Vec<_>, _>>()?;
            out.push((notification, attempts));
        }
        Ok(out)
    }

    async fn redeliver(&self, id: &str, now_ms: i64) -> Result<Option<Notification>, StoreError> {
        let row = sqlx::query(concat!(
            "UPDATE notifications SET status = 'PENDING', next_due_ms = $1 WHERE id = $2 ",
            concat!("RETURNING ", notification_columns!())
        ))
        .bind(now_ms)
        .bind(id)
        .fetch_optional(&self.writer)
        .await
        .map_err(classify)?;
        row.as_ref().map(notification_of).transpose()
    }

    async fn cancel(&self, id: &str) -> Result<CancelOutcome, StoreError> {
        let row = sqlx::query(concat!(
            "UPDATE notifications SET status = 'CANCELLED' WHERE id = $1 AND status = 'PENDING' ",
            concat!("RETURNING ", notification_columns!())
        ))
        .bind(id)
        .fetch_optional(&self.writer)
        .await
        .map_err(classify)?;
        if let Some(row) = row {
            return Ok(CancelOutcome::Cancelled(notification_of(&row)?));
        }
        Ok(match self.notification(id).await? {
            Some(n) => CancelOutcome::NotPending(n),
            None => CancelOutcome::Unknown,
        })
    }

    async fn advance_schedule(&self, by_ms: i64) -> Result<u64, StoreError> {
        sqlx::query(
            "UPDATE notifications SET next_due_ms = next_due_ms - $1 WHERE status = 'PENDING'",
        )
        .bind(by_ms)
        .execute(&self.writer)
        .await
        .map(|r| r.rows_affected())
        .map_err(classify)
    }

    async fn release_leases(&self, owner: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE notifications SET lease_owner = NULL, lease_until_ms = NULL WHERE lease_owner = $1")
            .bind(owner)
            .execute(&self.writer)
            .await
            .map(|_| ())
            .map_err(classify)
    }

    async fn record_received(&self, r: ReceivedNotification) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO received_notifications (received_at_ms, client_id, payment_request_id, verdict, answered, body) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(r.received_at_ms)
        .bind(r.client_id)
        .bind(r.payment_request_id)
        .bind(r.verdict)
        .bind(r.answered)
        .bind(r.body)
        .execute(&self.writer)
        .await
        .map(|_| ())
        .map_err(classify)
    }

    async fn received(
        &self,
        payment_request_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<ReceivedNotification>, StoreError> {
        let query = sqlx::query(
            "SELECT received_at_ms, client_id, payment_request_id, verdict, answered, body FROM received_notifications \
             WHERE ($1 = '' OR payment_request_id = $1) ORDER BY id DESC LIMIT $2",
        )
        .bind(payment_request_id.unwrap_or(""));
        query
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(classify)?
            .iter()
            .map(received_of)
            .collect()
    }
}
