//! A registered client: who may call, with which keys, which APIs and at what rate.

use std::collections::HashSet;
use std::fmt;

use governor::DefaultDirectRateLimiter;

use crate::protocol::Endpoint;
use crate::signature::PublicKeys;

/// A client the gateway accepts, with its keys parsed.
pub struct Client {
    /// The Client-Id.
    pub id: String,
    /// Public keys by keyVersion.
    pub keys: PublicKeys,
    /// APIs it may call; `None` is all.
    pub allowed: Option<HashSet<Endpoint>>,
    /// Its request rate limit, if it has one.
    pub limiter: Option<DefaultDirectRateLimiter>,
    /// Real mode: it signs for the upstream itself, so it is admitted on its Client-Id and
    /// forwarded untouched.
    pub pass_through: bool,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("id", &self.id)
            .field("key_versions", &self.keys.versions())
            .field("allowed", &self.allowed)
            .field("rate_limited", &self.limiter.is_some())
            .field("pass_through", &self.pass_through)
            .finish()
    }
}

impl Client {
    /// Whether a request now stays within the client's rate limit.
    pub fn within_rate_limit(&self) -> bool {
        self.limiter.as_ref().is_none_or(|l| l.check().is_ok())
    }

    /// Whether the client may call `endpoint`.
    pub fn may_call(&self, endpoint: Endpoint) -> bool {
        self.allowed
            .as_ref()
            .is_none_or(|set| set.contains(&endpoint))
    }
}
