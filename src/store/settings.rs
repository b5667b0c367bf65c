//! `[store]`: which backend, and how its pool and statements are bounded.

use std::fmt;

use serde::Deserialize;

use super::{StoreUrl, UnknownBackend};

/// `[store]`
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSettings {
    /// `sqlite://PATH`, `postgres://USER:PASSWORD@HOST/DB` or `memory://`.
    pub url: String,
    /// Connections in the SQL pool.
    pub max_connections: u32,
    /// How long a request waits for a database connection before it answers UNKNOWN_EXCEPTION.
    pub acquire_timeout_ms: u64,
    /// SQLite durability: `normal` (survives a crash of the process) or `full` (also power loss).
    pub sqlite_synchronous: String,
    /// The longest one statement may run or wait for a lock.
    pub statement_timeout_ms: u64,
    /// `memory://`: payments (and risk reports) kept; the oldest go first.
    pub memory_max_entries: usize,
}

impl StoreSettings {
    /// `url`, parsed.
    pub fn store_url(&self) -> Result<StoreUrl, UnknownBackend> {
        StoreUrl::parse(&self.url)
    }
}

impl fmt::Debug for StoreSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreSettings")
            .field("url", &redact_url(&self.url))
            .field("max_connections", &self.max_connections)
            .field("acquire_timeout_ms", &self.acquire_timeout_ms)
            .field("sqlite_synchronous", &self.sqlite_synchronous)
            .field("statement_timeout_ms", &self.statement_timeout_ms)
            .field("memory_max_entries", &self.memory_max_entries)
            .finish()
    }
}

/// Hides the password of a database URL, in the user part or a `password=` parameter, for logs,
/// errors and `Debug`.
pub fn redact_url(url: &str) -> String {
    let mut shown = url.to_owned();
    if let Some((scheme, rest)) = url.split_once("://")
        && let Some((credentials, host)) = rest.rsplit_once('@')
        && let Some((user, _)) = credentials.split_once(':')
    {
        shown = format!("{scheme}://{user}:***@{host}");
    }
    if let Some((base, query)) = shown.clone().split_once('?') {
        let query: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                _ => pair.to_owned(),
            })
            .collect();
        shown = format!("{base}?{}", query.join("&"));
    }
    shown
}
