//! Scenario control: which answer a request gets when the normal one is not what a test needs.
//! Three ways in, first that applies wins: the `Gateway-Scenario` request header (one request),
//! rules (from config and the admin API, first match wins, optionally for the first N matches),
//! and a built-in convention (a key field ending in `__<CODE>`) that needs no set-up, so an
//! unmodified SDK client reaches every result code of the four pages.

mod convention;
mod latency;
mod rules;

use std::sync::Mutex;
use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::Value;

pub use convention::HeaderError;
pub use latency::{Latency, LatencyError};
pub use rules::{Rule, RuleError, RuleSpec};

use crate::protocol::codes::{self, Code};
use crate::protocol::{Endpoint, ResultStatus, WireResult};

/// The request header that sets the scenario of one request.
pub const HEADER: &str = "gateway-scenario";

/// A way the answer is broken on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// HTTP 500 instead of 200.
    Http500,
    /// The connection closes before an answer is complete.
    DropConnection,
    /// The body is cut off mid-JSON (and signed as sent).
    MalformedJson,
    /// No signature headers at all.
    Unsigned,
    /// A signature that does not verify.
    BadSignature,
}

impl Fault {
    /// Every fault, by its config name.
    pub const ALL: [Fault; 5] = [
        Fault::Http500,
        Fault::DropConnection,
        Fault::MalformedJson,
        Fault::Unsigned,
        Fault::BadSignature,
    ];

    /// The config and header name.
    pub fn name(self) -> &'static str {
        match self {
            Fault::Http500 => "http_500",
            Fault::DropConnection => "drop_connection",
            Fault::MalformedJson => "malformed_json",
            Fault::Unsigned => "unsigned",
            Fault::BadSignature => "bad_signature",
        }
    }

    fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// What a scenario does to one answer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    /// Answer this `result` instead of handling the request (SUCCESS handles it normally).
    pub result: Option<WireResult>,
    /// inquiryPayment: answer this `paymentResult` code.
    pub payment_result: Option<&'static Code>,
    /// Wait this long before answering.
    pub latency: Option<Latency>,
    /// Break the answer this way.
    pub fault: Option<Fault>,
}

/// A scenario that applies to a request, and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    /// What to do.
    pub outcome: Outcome,
    /// `header`, `convention`, or the rule's name or id.
    pub source: String,
}

/// A code of `endpoint`'s tables as an outcome: a result code, or for an API that answers a
/// `paymentResult` (inquiryPayment) a payment result code (SUCCESS there means the payment
/// succeeded). Its two tables share SUCCESS and PROCESS_FAIL: `RESULT_<CODE>` names the API's
/// own result.
pub fn outcome_for_code(endpoint: Endpoint, code: &str) -> Option<Outcome> {
    let payment_results = endpoint.spec().payment_result_codes;
    let (code, result_only) = match code.strip_prefix("RESULT_") {
        Some(rest) if !payment_results.is_empty() => (rest, true),
        _ => (code, false),
    };
    if !result_only && let Some(c) = codes::find(payment_results, code) {
        return Some(Outcome {
            payment_result: Some(c),
            ..Outcome::default()
        });
    }
    codes::find(endpoint.spec().result_codes, code).map(|c| Outcome {
        result: Some(WireResult::new(c.code, c.status, c.message)),
        ..Outcome::default()
    })
}

/// The scenario engine: rules from config and from the admin API, a seeded random source for
/// latencies, and the built-in convention.
#[derive(Debug)]
pub struct Scenarios {
    configured: Vec<Rule>,
    rules: Mutex<Vec<Rule>>,
    rng: Mutex<StdRng>,
    seed: u64,
}

impl Scenarios {
    /// An engine with the rules from config; random latencies repeat for the same `seed`.
    pub fn new(configured: Vec<Rule>, seed: u64) -> Self {
        Self {
            rules: Mutex::new(configured.clone()),
            configured,
            rng: Mutex::new(StdRng::seed_from_u64(seed)),
            seed,
        }
    }

    /// The scenario for a request: its header, else the first matching rule, else the
    /// convention. `Err` names what is wrong with a header that cannot be used.
    pub fn evaluate(
        &self,
        endpoint: Endpoint,
        client_id: &str,
        body: &Value,
        header: Option<&str>,
    ) -> Result<Option<Applied>, HeaderError> {
        if let Some(header) = header {
            let outcome = convention::parse_header(endpoint, header)?;
            return Ok(Some(Applied {
                outcome,
                source: "header".into(),
            }));
        }
        if let Some(applied) = self.first_matching_rule(endpoint, client_id, body) {
            return Ok(Some(applied));
        }
        Ok(
            convention::from_key_field(endpoint, body).map(|outcome| Applied {
                outcome,
                source: "convention".into(),
            }),
        )
    }

    fn first_matching_rule(
        &self,
        endpoint: Endpoint,
        client_id: &str,
        body: &Value,
    ) -> Option<Applied> {
        let mut rules = self.rules.lock().ok()?;
        let rule = rules
            .iter_mut()
            .find(|r| r.matches(endpoint, client_id, body))?;
        rule.hits += 1;
        Some(Applied {
            outcome: rule.outcome.clone(),
            source: rule.label(),
        })
    }

    /// Draws a latency.
    pub fn sample(&self, latency: &Latency) -> Duration {
        match self.rng.lock() {
            Ok(mut rng) => latency.sample(&mut rng),
            Err(_) => latency.sample(&mut StdRng::seed_from_u64(self.seed)),
        }
    }

    /// The rules in force, in the order they are tried.
    pub fn list(&self) -> Vec<Rule> {
        self.rules.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// Adds a rule after the others (or first, with `first`).
    pub fn add(&self, rule: Rule, first: bool) {
        if let Ok(mut rules) = self.rules.lock() {
            if first {
                rules.insert(0, rule);
            } else {
                rules.push(rule);
            }
        }
    }

    /// Removes a rule by id; whether it was there.
    pub fn remove(&self, id: &str) -> bool {
        let Ok(mut rules) = self.rules.lock() else {
            return false;
        };
        let before = rules.len();
        rules.retain(|r| r.id != id);
        rules.len() != before
    }

    /// Back to the configured rules with no hits, and the random source to its seed.
    pub fn reset(&self) {
        if let Ok(mut rules) = self.rules.lock() {
            *rules = self.configured.clone();
        }
        if let Ok(mut rng) = self.rng.lock() {
            *rng = StdRng::seed_from_u64(self.seed);
        }
    }
}

/// A result for an outcome code, with the page's status when the table knows the code.
pub fn result_of(
    code: &str,
    status: Option<ResultStatus>,
    message: Option<String>,
    table: &[Code],
) -> WireResult {
    let known = table.iter().find(|c| c.code == code);
    WireResult::new(
        code,
        status
            .or(known.map(|c| c.status))
            .unwrap_or(ResultStatus::F),
        message
            .or(known.map(|c| c.message.to_owned()))
            .unwrap_or_else(|| code.to_owned()),
    )
}
