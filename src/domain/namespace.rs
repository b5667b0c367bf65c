//! Namespaces and run-time clients as the store keeps them: a namespace's name, its admin
//! token's digest, when it expires and its limits; a client registered through the admin API,
//! with the namespace it belongs to. What a client's document means (keys, APIs, notify URL) is
//! read by the layers above; the store keeps it whole.

use serde::{Deserialize, Serialize};

/// The namespace every config-file client, and every request whose Client-Id names no
/// run-time client of another namespace, belongs to.
pub const DEFAULT_NAMESPACE: &str = "default";

/// A namespace as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NamespaceRecord {
    /// Its name: lowercase letters, digits and dashes.
    pub name: String,
    /// Which namespace of that name this is: random, given at creation, and part of the name
    /// of its store (file or schema), so a namespace created again under a deleted one's name
    /// never meets what the old one left.
    pub id: String,
    /// SHA-256 of its admin token, hex; the token itself is shown once, when it is created.
    pub token_sha256: String,
    /// When it was created (epoch milliseconds).
    pub created_at_ms: i64,
    /// When it is deleted with everything it owns (epoch milliseconds), if it has a time to live.
    pub expires_at_ms: Option<i64>,
    /// The most payments and risk reports it may hold.
    pub max_payments: Option<u64>,
    /// The most journal entries it may hold.
    pub max_journal_entries: Option<u64>,
}

impl NamespaceRecord {
    /// Whether it has run out of time at `now_ms`.
    pub fn expired(&self, now_ms: i64) -> bool {
        self.expires_at_ms.is_some_and(|at| at <= now_ms)
    }
}

/// A client registered at run time, in one namespace. Client ids are unique across all
/// namespaces, so a signed request's Client-Id names its namespace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientRecord {
    /// The Client-Id.
    pub client_id: String,
    /// The namespace it belongs to.
    pub namespace: String,
    /// The registration as the admin API took it (keys, APIs, notify URL, rate limit).
    pub doc: serde_json::Value,
    /// When it was last changed (epoch milliseconds); a replica rebuilds a client it holds only
    /// when this moves.
    pub updated_at_ms: i64,
}
