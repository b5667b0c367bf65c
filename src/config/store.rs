//! `[store]`: the checks on the payment-state store's settings. The settings themselves live
//! with the store ([`StoreSettings`]), which alone names a backend.

use super::ConfigError;
use crate::store::StoreSettings;

/// Checks the URL's scheme, the bounds and the SQLite durability.
pub(super) fn validate(store: &StoreSettings) -> Result<(), ConfigError> {
    store
        .store_url()
        .map_err(|e| ConfigError::invalid("store.url", e.to_string()))?;
    if !(1..=10_000_000).contains(&store.memory_max_entries) {
        return Err(ConfigError::invalid(
            "store.memory_max_entries",
            "must be 1 to 10000000",
        ));
    }
    if store.max_connections == 0 {
        return Err(ConfigError::invalid(
            "store.max_connections",
            "must be at least 1",
        ));
    }
    if !["normal", "full"].contains(&store.sqlite_synchronous.as_str()) {
        return Err(ConfigError::invalid(
            "store.sqlite_synchronous",
            "must be normal or full",
        ));
    }
    Ok(())
}
