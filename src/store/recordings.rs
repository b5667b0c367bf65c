//! Recordings of forwarded requests (real mode), kept in the store so they survive restarts and
//! every replica sees the same set. A reset of the store leaves them: they are a team's
//! reference data, not test state.

use async_trait::async_trait;

use super::StoreError;
use crate::domain::recording::{Recording, RecordingFilter};

/// The most recordings one listing answers.
pub const MAX_LISTED: u32 = 100_000;

/// Recordings, beside payments and the notification queue in every backend.
#[async_trait]
pub trait Recordings: Send + Sync + 'static {
    /// Stores a recording (its `id` is ignored) and answers the id it got.
    async fn record_exchange(&self, recording: Recording) -> Result<i64, StoreError>;

    /// The recordings the filter accepts, newest first, at most `filter.limit` (100 unless
    /// given; never more than [`MAX_LISTED`]).
    async fn recordings(&self, filter: &RecordingFilter) -> Result<Vec<Recording>, StoreError>;
}

/// The limit a filter asks for, within bounds.
pub fn limit_of(filter: &RecordingFilter) -> u32 {
    filter.limit.unwrap_or(100).min(MAX_LISTED)
}
