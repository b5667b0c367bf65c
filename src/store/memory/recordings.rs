//! The memory store's recordings of real mode's exchanges.

use async_trait::async_trait;

use super::*;

#[async_trait]
impl Recordings for MemoryStore {
    async fn record_exchange(&self, mut recording: Recording) -> Result<i64, StoreError> {
        let mut log = self
            .recordings
            .lock()
            .map_err(|_| StoreError::Internal("memory store lock poisoned".into()))?;
        log.last_id += 1;
        recording.id = log.last_id;
        log.kept.push_back(recording);
        // Capped like the payments, so forwarding without end cannot exhaust memory.
        while log.kept.len() > self.max_entries {
            log.kept.pop_front();
        }
        Ok(log.last_id)
    }

    async fn recordings(&self, filter: &RecordingFilter) -> Result<Vec<Recording>, StoreError> {
        let log = self
            .recordings
            .lock()
            .map_err(|_| StoreError::Internal("memory store lock poisoned".into()))?;
        let narrows = |wanted: &str, value: &str| wanted.is_empty() || wanted == value;
        Ok(log
            .kept
            .iter()
            .rev()
            .filter(|r| {
                narrows(&filter.api, &r.api)
                    && narrows(&filter.client_id, &r.client_id)
                    && narrows(&filter.match_key, &r.match_key)
                    && narrows(&filter.verdict, &r.verdict)
            })
            .take(limit_of(filter) as usize)
            .cloned()
            .collect())
    }
}
