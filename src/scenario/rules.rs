//! Rules: a match (API; optionally a client, a body field's value, the first N matches) and an
//! outcome (a result, an inquiryPayment payment result, a latency, a fault). Written the same
//! way in the config file (`[[scenario.rules]]`) and in the admin API.

use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::latency::{Latency, LatencyError};
use super::{Fault, Outcome, result_of};
use crate::protocol::codes::{self, INQUIRY_PAYMENT_RESULT};
use crate::protocol::{Endpoint, ResultStatus};

/// A rule as written.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// A name for listings and the journal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The API: sendPaymentResult, notifyPushPayment, inquiryPayment or notifyPayment.
    #[schema(value_type = crate::protocol::Endpoint)]
    pub endpoint: String,
    /// Only requests from this Client-Id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// A body field, dotted for nested ones (`paymentResult.resultCode`); with one of
    /// `equals`, `starts_with`, `ends_with`, `contains`, `matches` (a regular expression).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The field equals this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<String>,
    /// The field starts with this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_with: Option<String>,
    /// The field ends with this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_with: Option<String>,
    /// The field contains this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contains: Option<String>,
    /// The field matches this regular expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matches: Option<String>,
    /// Apply to the first N matching requests only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u64>,
    /// Answer this result: `{ code = "RISK_REJECT" }`, status and message from the page's table
    /// unless given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<ResultSpec>,
    /// inquiryPayment: answer this payment result code (USER_BALANCE_NOT_ENOUGH, PAYMENT_IN_PROCESS, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_result: Option<String>,
    /// Wait before answering: `{ fixed_ms = 6000 }`, `{ uniform_ms = [100, 500] }`,
    /// `{ log_normal = { median_ms = 200, sigma = 0.5 } }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<Latency>,
    /// Break the answer: http_500, drop_connection, malformed_json, unsigned, bad_signature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
}

/// A result to answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResultSpec {
    /// The result code.
    pub code: String,
    /// S, F or U; default: the page's status for the code, else F.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The message; default: the page's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[derive(Debug, Clone)]
enum Test {
    Equals(String),
    StartsWith(String),
    EndsWith(String),
    Contains(String),
    Matches(Regex),
}

/// A rule ready to match.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Its id (`rule-N`), for removal.
    pub id: String,
    /// As written.
    pub spec: RuleSpec,
    pub(super) endpoint: Endpoint,
    field: Option<(Vec<String>, Test)>,
    pub(super) outcome: Outcome,
    /// How many requests it has matched.
    pub hits: u64,
}

/// Why a rule cannot be compiled; the text names the setting and the problem.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RuleError {
    /// An API the gateway does not serve.
    #[error(
        "endpoint: unknown API {0:?} (expected {apis})",
        apis = Endpoint::ALL.map(Endpoint::name).join(", ")
    )]
    Endpoint(String),
    /// A regular expression that does not compile.
    #[error("matches: {0}")]
    Matches(regex::Error),
    /// A field without a test.
    #[error("field: needs one of equals, starts_with, ends_with, contains, matches")]
    FieldWithoutTest,
    /// A test without a field.
    #[error("equals/starts_with/ends_with/contains/matches: needs a field")]
    TestWithoutField,
    /// More than one test.
    #[error("field: give only one of equals, starts_with, ends_with, contains, matches")]
    TwoTests,
    /// A result status other than S, F or U.
    #[error("result.status: {0:?} must be S, F or U")]
    Status(String),
    /// A result code that is empty or too long.
    #[error("result.code: 1 to 64 characters")]
    Code,
    /// A payment result for an API that answers none.
    #[error("payment_result: only inquiryPayment answers a paymentResult")]
    PaymentResultOutsideInquiry,
    /// A payment result outside inquiryPayment's table.
    #[error(
        "payment_result: {0:?} is not in inquiryPayment's payment result table ({codes})",
        codes = INQUIRY_PAYMENT_RESULT.iter().map(|c| c.code).collect::<Vec<_>>().join(", ")
    )]
    PaymentResult(String),
    /// A latency out of bounds.
    #[error("latency.{0}")]
    Latency(#[from] LatencyError),
    /// A fault the gateway does not know.
    #[error("fault: {0:?} is not one of {faults}", faults = Fault::ALL.map(Fault::name).join(", "))]
    Fault(String),
    /// No outcome at all.
    #[error("a rule needs an outcome: result, payment_result, latency or fault")]
    NoOutcome,
}

impl Rule {
    /// Checks and compiles a rule; the error names the setting and the problem.
    pub fn compile(id: String, spec: RuleSpec) -> Result<Self, RuleError> {
        let endpoint = Endpoint::from_name(&spec.endpoint)
            .ok_or_else(|| RuleError::Endpoint(spec.endpoint.clone()))?;
        let tests = [
            spec.equals.clone().map(Test::Equals),
            spec.starts_with.clone().map(Test::StartsWith),
            spec.ends_with.clone().map(Test::EndsWith),
            spec.contains.clone().map(Test::Contains),
            match &spec.matches {
                Some(re) => Some(Test::Matches(Regex::new(re).map_err(RuleError::Matches)?)),
                None => None,
            },
        ];
        let mut tests = tests.into_iter().flatten();
        let field = match (&spec.field, tests.next()) {
            (Some(path), Some(test)) => Some((path.split('.').map(str::to_owned).collect(), test)),
            (None, None) => None,
            (Some(_), None) => {
                return Err(RuleError::FieldWithoutTest);
            }
            (None, Some(_)) => {
                return Err(RuleError::TestWithoutField);
            }
        };
        if tests.next().is_some() {
            return Err(RuleError::TwoTests);
        }
        let result = spec
            .result
            .as_ref()
            .map(|r| {
                let status = match r.status.as_deref() {
                    None => None,
                    Some("S") => Some(ResultStatus::S),
                    Some("F") => Some(ResultStatus::F),
                    Some("U") => Some(ResultStatus::U),
                    Some(other) => {
                        return Err(RuleError::Status(other.to_owned()));
                    }
                };
                if r.code.is_empty() || r.code.len() > 64 {
                    return Err(RuleError::Code);
                }
                Ok(result_of(
                    &r.code,
                    status,
                    r.message.clone(),
                    endpoint.spec().result_codes,
                ))
            })
            .transpose()?;
        let payment_result = match &spec.payment_result {
            None => None,
            // Only an API that answers a paymentResult has a table of them.
            Some(_) if endpoint.spec().payment_result_codes.is_empty() => {
                return Err(RuleError::PaymentResultOutsideInquiry);
            }
            Some(code) => Some(
                codes::find(endpoint.spec().payment_result_codes, code)
                    .ok_or_else(|| RuleError::PaymentResult(code.clone()))?,
            ),
        };
        if let Some(l) = &spec.latency {
            l.check()?;
        }
        let fault = match &spec.fault {
            None => None,
            Some(name) => Some(Fault::parse(name).ok_or_else(|| RuleError::Fault(name.clone()))?),
        };
        let outcome = Outcome {
            result,
            payment_result,
            latency: spec.latency.clone(),
            fault,
        };
        if outcome == Outcome::default() {
            return Err(RuleError::NoOutcome);
        }
        Ok(Self {
            id,
            endpoint,
            field,
            outcome,
            hits: 0,
            spec,
        })
    }

    /// Whether the rule applies to a request (and has matches left).
    pub(super) fn matches(&self, endpoint: Endpoint, client_id: &str, body: &Value) -> bool {
        if self.endpoint != endpoint
            || self
                .spec
                .client_id
                .as_deref()
                .is_some_and(|c| c != client_id)
            || self.spec.times.is_some_and(|n| self.hits >= n)
        {
            return false;
        }
        let Some((path, test)) = &self.field else {
            return true;
        };
        let value = path.iter().try_fold(body, |v, key| v.get(key));
        let Some(text) = value.and_then(Value::as_str) else {
            return false;
        };
        match test {
            Test::Equals(s) => text == s,
            Test::StartsWith(s) => text.starts_with(s.as_str()),
            Test::EndsWith(s) => text.ends_with(s.as_str()),
            Test::Contains(s) => text.contains(s.as_str()),
            Test::Matches(re) => re.is_match(text),
        }
    }

    /// The name, or the id.
    pub fn label(&self) -> String {
        self.spec.name.clone().unwrap_or_else(|| self.id.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rule(spec: RuleSpec) -> Rule {
        Rule::compile("rule-1".into(), spec).unwrap()
    }

    #[test]
    fn a_rule_matches_its_api_client_and_field() {
        let r = rule(RuleSpec {
            endpoint: "inquiryPayment".into(),
            field: Some("paymentRequestId".into()),
            ends_with: Some("_BALANCE".into()),
            payment_result: Some("USER_BALANCE_NOT_ENOUGH".into()),
            ..RuleSpec::default()
        });
        let body = json!({"paymentRequestId": "R1_BALANCE"});
        assert!(r.matches(Endpoint::InquiryPayment, "C", &body));
        assert!(!r.matches(Endpoint::NotifyPushPayment, "C", &body));
        assert!(!r.matches(
            Endpoint::InquiryPayment,
            "C",
            &json!({"paymentRequestId": "R1"})
        ));
        assert!(!r.matches(Endpoint::InquiryPayment, "C", &json!({})));
    }

    #[test]
    fn nested_fields_and_patterns_match() {
        let r = rule(RuleSpec {
            endpoint: "notifyPushPayment".into(),
            field: Some("paymentResult.resultCode".into()),
            matches: Some("^RISK_".into()),
            result: Some(ResultSpec {
                code: "PROCESS_FAIL".into(),
                ..ResultSpec::default()
            }),
            ..RuleSpec::default()
        });
        assert!(r.matches(
            Endpoint::NotifyPushPayment,
            "C",
            &json!({"paymentResult": {"resultCode": "RISK_REJECT"}})
        ));
        assert_eq!(
            r.outcome.result.as_ref().unwrap().result_status,
            ResultStatus::F
        );
    }

    #[test]
    fn bad_rules_name_the_setting() {
        let err = |spec: RuleSpec| Rule::compile("r".into(), spec).unwrap_err().to_string();
        assert!(
            err(RuleSpec {
                endpoint: "refund".into(),
                ..RuleSpec::default()
            })
            .starts_with("endpoint:")
        );
        assert!(
            err(RuleSpec {
                endpoint: "inquiryPayment".into(),
                ..RuleSpec::default()
            })
            .contains("needs an outcome")
        );
        assert!(
            err(RuleSpec {
                endpoint: "sendPaymentResult".into(),
                payment_result: Some("RISK_REJECT".into()),
                ..RuleSpec::default()
            })
            .starts_with("payment_result:")
        );
        assert!(
            err(RuleSpec {
                endpoint: "inquiryPayment".into(),
                fault: Some("explode".into()),
                ..RuleSpec::default()
            })
            .starts_with("fault:")
        );
    }
}
