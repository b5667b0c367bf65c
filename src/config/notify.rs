//! `[notify]`: the payment result notifications the gateway sends: the schedule of attempts,
//! the acknowledgement's wait, the lease, and where notifications may be sent.

use std::time::Duration;

use serde::Deserialize;

use super::ConfigError;
use crate::notify::outbound::OutboundPolicy;
use crate::notify::schedule::{Schedule, parse_interval};

/// `[notify]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifySettings {
    /// Run the sender in this process.
    pub enabled: bool,
    /// Interval before each attempt; as many attempts as intervals.
    pub schedule: Vec<String>,
    /// How long an attempt waits for the acknowledgement.
    pub timeout_ms: u64,
    /// How much faster than real time the schedule runs (3600: an hour per second).
    pub time_scale: f64,
    /// Count an acknowledgement as delivered only when the merchant signed it.
    pub require_signed_ack: bool,
    /// How long a replica holds a claimed notification before another may take it over.
    pub lease_ms: u64,
    /// Attempts in flight at once, per replica.
    pub concurrency: u32,
    /// Where notifications may be sent: host names, `*.domain`, addresses and networks; empty
    /// for anywhere.
    pub allowed_hosts: Vec<String>,
}

impl NotifySettings {
    /// The schedule, and the policy of where notifications may be sent.
    pub(super) fn validate(&self) -> Result<(Schedule, OutboundPolicy), ConfigError> {
        let n = self;
        if n.schedule.is_empty() || n.schedule.len() > 100 {
            return Err(ConfigError::invalid(
                "notify.schedule",
                "needs 1 to 100 intervals",
            ));
        }
        let intervals = n
            .schedule
            .iter()
            .enumerate()
            .map(|(i, t)| {
                parse_interval(t)
                    .map_err(|e| ConfigError::invalid(format!("notify.schedule[{i}]"), e))
            })
            .collect::<Result<Vec<_>, _>>()?;
        // Bounded so that no due time can overflow: the longest schedule at the slowest
        // scale is under 10,000 years of milliseconds.
        if let Some(i) = intervals.iter().position(|d| *d > MAX_INTERVAL) {
            return Err(ConfigError::invalid(
                format!("notify.schedule[{i}]"),
                "must be at most 30 days",
            ));
        }
        if !(n.time_scale.is_finite() && (MIN_TIME_SCALE..=MAX_TIME_SCALE).contains(&n.time_scale))
        {
            return Err(ConfigError::invalid(
                "notify.time_scale",
                format!("must be a number from {MIN_TIME_SCALE} to {MAX_TIME_SCALE}"),
            ));
        }
        if n.timeout_ms == 0 || n.lease_ms <= n.timeout_ms {
            return Err(ConfigError::invalid(
                "notify.lease_ms",
                "must be longer than notify.timeout_ms (and the timeout above 0)",
            ));
        }
        if n.concurrency == 0 {
            return Err(ConfigError::invalid(
                "notify.concurrency",
                "must be at least 1",
            ));
        }
        let outbound = OutboundPolicy::parse(&n.allowed_hosts)
            .map_err(|e| ConfigError::invalid("notify.allowed_hosts", e))?;
        Ok((Schedule::new(intervals, n.time_scale), outbound))
    }
}

/// The longest interval of a notification schedule.
const MAX_INTERVAL: Duration = Duration::from_secs(30 * 24 * 3600);
/// The slowest and fastest a schedule may run (0.01: a hundred times slower than real time).
const MIN_TIME_SCALE: f64 = 0.01;
const MAX_TIME_SCALE: f64 = 1_000_000.0;
