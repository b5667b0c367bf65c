//! `[namespaces]`: many test runs sharing one gateway apart, each in a store of its own.

use serde::Deserialize;

use super::ConfigError;

/// `[namespaces]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamespaceSettings {
    /// How often a replica brings its namespaces and run-time clients in step with the store,
    /// and deletes the namespaces whose time to live ran out.
    pub sync_interval_ms: u64,
    /// The most namespaces that may exist at once.
    pub max_namespaces: usize,
    /// Connections in each namespace's own SQL pool.
    pub max_connections: u32,
}

impl NamespaceSettings {
    /// Checks the sync interval and the pool size.
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if self.sync_interval_ms < 10 {
            return Err(ConfigError::invalid(
                "namespaces.sync_interval_ms",
                "must be at least 10",
            ));
        }
        if self.max_connections == 0 {
            return Err(ConfigError::invalid(
                "namespaces.max_connections",
                "must be at least 1",
            ));
        }
        Ok(())
    }
}
