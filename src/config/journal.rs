//! `[journal]`: the bounded journal of requests and notification attempts.

use serde::Deserialize;

/// `[journal]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournalSettings {
    /// Record requests and notification attempts.
    pub enabled: bool,
    /// Entries kept; the oldest go first.
    pub capacity: usize,
    /// Bytes of each body kept.
    pub max_body_bytes: usize,
}
