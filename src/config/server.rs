//! `[server]`: where the gateway listens and how it handles a request (sizes, timeouts, limits,
//! the clock window and replays, the notifyPayment receiver's path).

use std::net::SocketAddr;

use serde::Deserialize;

use super::ConfigError;
use crate::protocol::Endpoint;

/// `[server]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// Address and port to listen on.
    pub listen: String,
    /// Largest request body accepted, in bytes.
    pub body_limit_bytes: usize,
    /// Allowed distance between Request-Time and the gateway clock; 0 is off.
    pub clock_skew_seconds: u64,
    /// Refuse a request whose signed content was already received within the window.
    pub reject_replayed_signatures: bool,
    /// Signed contents remembered for `reject_replayed_signatures`; the oldest go first.
    pub seen_signatures_capacity: usize,
    /// Path of the notifyPayment receiver.
    pub notify_payment_path: String,
    /// How long a client may take to send its headers, and then its body.
    pub read_timeout_ms: u64,
    /// How long shutdown waits for requests in flight.
    pub shutdown_grace_ms: u64,
    /// Largest request head (request line and headers) served; a larger one answers
    /// PARAM_ILLEGAL, and one past four times this cannot be read at all (HTTP 431).
    pub max_header_bytes: usize,
    /// Connections open at once; the next waits in the listen backlog until one closes.
    pub max_connections: usize,
    /// Requests being handled at once; past it, REQUEST_TRAFFIC_EXCEED_LIMIT (U) at once.
    pub max_in_flight: usize,
    /// How long writing an answer may stall (a client that stops reading) before the
    /// connection is closed.
    pub write_timeout_ms: u64,
}

impl ServerSettings {
    /// Checks every value; the address the listener binds.
    pub(super) fn validate(&self) -> Result<SocketAddr, ConfigError> {
        let listen: SocketAddr = self.listen.parse().map_err(|e| {
            ConfigError::invalid(
                "server.listen",
                format!("{e} (expected HOST:PORT, e.g. 127.0.0.1:8080)"),
            )
        })?;
        if self.body_limit_bytes < 1024 {
            return Err(ConfigError::invalid(
                "server.body_limit_bytes",
                "must be at least 1024",
            ));
        }
        let path = &self.notify_payment_path;
        if !path.starts_with('/') || path.len() < 2 || path.contains(['?', '#', ' ', '{', '}', '*'])
        {
            return Err(ConfigError::invalid(
                "server.notify_payment_path",
                "must be a plain path starting with / (no query, no {, } or *)",
            ));
        }
        if path == "/admin"
            || path.starts_with("/admin/")
            || ["/healthz", "/readyz"].contains(&path.as_str())
        {
            return Err(ConfigError::invalid(
                "server.notify_payment_path",
                "collides with the gateway's own routes (/admin, /healthz, /readyz)",
            ));
        }
        if self.read_timeout_ms < 100 {
            return Err(ConfigError::invalid(
                "server.read_timeout_ms",
                "must be at least 100",
            ));
        }
        if self.write_timeout_ms < 100 {
            return Err(ConfigError::invalid(
                "server.write_timeout_ms",
                "must be at least 100",
            ));
        }
        if !(2048..=1 << 20).contains(&self.max_header_bytes) {
            return Err(ConfigError::invalid(
                "server.max_header_bytes",
                "must be 2048 to 1048576",
            ));
        }
        if self.reject_replayed_signatures && self.clock_skew_seconds == 0 {
            return Err(ConfigError::invalid(
                "server.reject_replayed_signatures",
                "needs server.clock_skew_seconds above 0: the window bounds how long a signature is remembered",
            ));
        }
        for (key, value) in [
            ("server.max_connections", self.max_connections),
            ("server.max_in_flight", self.max_in_flight),
            (
                "server.seen_signatures_capacity",
                self.seen_signatures_capacity,
            ),
        ] {
            if value == 0 || value > 1_000_000 {
                return Err(ConfigError::invalid(key, "must be 1 to 1000000"));
            }
        }
        if Endpoint::all_fixed_paths().any(|p| p == path) {
            return Err(ConfigError::invalid(
                "server.notify_payment_path",
                "collides with another API's path",
            ));
        }
        Ok(listen)
    }
}
