//! `[scenario]`: the seed of random latencies, the `Gateway-Scenario` header switch and the
//! rules from the config file, compiled at start-up.

use serde::Deserialize;

use super::ConfigError;
use crate::scenario::{Rule, RuleSpec};

/// `[scenario]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioSettings {
    /// Seed of random latencies: the same seed, the same latencies.
    pub seed: u64,
    /// Honour the `Gateway-Scenario` request header; off, it is ignored (it is not signed).
    pub allow_header: bool,
    /// Rules, tried in order; the first that matches applies.
    pub rules: Vec<RuleSpec>,
}

impl ScenarioSettings {
    /// The rules, compiled; each is named `config-N` in the order the file lists them.
    pub(super) fn validate(&self) -> Result<Vec<Rule>, ConfigError> {
        self.rules
            .iter()
            .enumerate()
            .map(|(i, spec)| {
                Rule::compile(format!("config-{}", i + 1), spec.clone())
                    .map_err(|e| ConfigError::invalid(format!("scenario.rules[{i}]"), e))
            })
            .collect()
    }
}
