//! Scenarios: a `Gateway-Scenario` header, a rule as the admin API takes it (JSON), and the
//! `__<CODE>` convention, evaluated against a body for each API. The input is
//! `header \n rule-json \n body-json`.
#![no_main]

use alipay_gateway::protocol::Endpoint;
use alipay_gateway::scenario::{Rule, RuleSpec, Scenarios};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = text.splitn(3, '\n');
    let header = parts.next().unwrap_or_default();
    let rule = parts.next().unwrap_or_default();
    let body = parts.next().unwrap_or_default();
    let rules: Vec<Rule> = serde_json::from_str::<RuleSpec>(rule)
        .ok()
        .and_then(|spec| Rule::compile("fuzz".into(), spec).ok())
        .into_iter()
        .collect();
    let scenarios = Scenarios::new(rules, 1);
    let body: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    for endpoint in Endpoint::ALL {
        let header = (!header.is_empty()).then_some(header);
        if let Ok(Some(applied)) = scenarios.evaluate(endpoint, "C", &body, header)
            && let Some(latency) = &applied.outcome.latency
        {
            let _ = scenarios.sample(latency);
        }
    }
});
