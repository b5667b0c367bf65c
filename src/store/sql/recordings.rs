//! Recordings of forwarded requests on SQLite and PostgreSQL: the whole recording as a JSON
//! document, beside the columns a listing or a replay narrows by.

use async_trait::async_trait;
use sqlx::Row;

use super::{SqlStore, classify};
use crate::store::{Recording, RecordingFilter, Recordings, StoreError, limit_of};

#[async_trait]
impl Recordings for SqlStore {
    async fn record_exchange(&self, recording: Recording) -> Result<i64, StoreError> {
        let doc = serde_json::to_string(&recording)
            .map_err(|e| StoreError::Internal(format!("recording: {e}")))?;
        let row = sqlx::query(
            "INSERT INTO recordings (recorded_at_ms, api, client_id, match_key, verdict, doc) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(recording.recorded_at_ms)
        .bind(recording.api.as_str())
        .bind(recording.client_id.as_str())
        .bind(recording.match_key.as_str())
        .bind(recording.verdict.as_str())
        .bind(doc)
        .fetch_one(&self.writer)
        .await
        .map_err(classify)?;
        row.try_get::<i64, _>("id").map_err(classify)
    }

    async fn recordings(&self, filter: &RecordingFilter) -> Result<Vec<Recording>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, doc FROM recordings \
             WHERE ($1 = '' OR api = $1) AND ($2 = '' OR client_id = $2) \
             AND ($3 = '' OR match_key = $3) AND ($4 = '' OR verdict = $4) \
             ORDER BY id DESC LIMIT $5",
        )
        .bind(filter.api.as_str())
        .bind(filter.client_id.as_str())
        .bind(filter.match_key.as_str())
        .bind(filter.verdict.as_str())
        .bind(i64::from(limit_of(filter)))
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        rows.iter()
            .map(|row| {
                let doc: String = row.try_get("doc").map_err(classify)?;
                let mut recording: Recording = serde_json::from_str(&doc)
                    .map_err(|e| StoreError::Internal(format!("stored recording: {e}")))?;
                recording.id = row.try_get("id").map_err(classify)?;
                Ok(recording)
            })
            .collect()
    }
}
