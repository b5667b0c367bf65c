//! The built-in convention and the per-request header.
//!
//! Convention: an API's key field ending in `__<CODE>`, where CODE is a result code of the
//! API's page (or, for inquiryPayment, a payment result code), answers that code. Like test
//! card numbers, it needs no set-up: `paymentRequestId = "order-1__USER_BALANCE_NOT_ENOUGH"`.
//!
//! Header: `Gateway-Scenario: <CODE>; latency=<ms>|<lo>..<hi>; fault=<fault>`, any of the three.

use std::time::Duration;

use serde_json::Value;

use super::latency::{Latency, LatencyError};
use super::{Fault, Outcome, outcome_for_code};
use crate::protocol::Endpoint;

/// The outcome the key field's `__<CODE>` suffix selects, if it names a code of the page.
pub(super) fn from_key_field(endpoint: Endpoint, body: &Value) -> Option<Outcome> {
    let value = body.get(endpoint.spec().key_field)?.as_str()?;
    let (_, code) = value.rsplit_once("__")?;
    outcome_for_code(endpoint, code)
}

/// Why a `Gateway-Scenario` header cannot be used; the caller gets the text as PARAM_ILLEGAL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// A latency out of bounds.
    #[error("Gateway-Scenario: latency: {0}")]
    Latency(#[from] LatencyError),
    /// A latency that is no number of milliseconds.
    #[error("Gateway-Scenario: latency {0:?} is not milliseconds")]
    Milliseconds(String),
    /// A fault the gateway does not know.
    #[error(
        "Gateway-Scenario: fault {0:?} is not one of {faults}",
        faults = Fault::ALL.map(Fault::name).join(", ")
    )]
    Fault(String),
    /// An item of no known form.
    #[error("Gateway-Scenario: unknown item {0:?} (expected a code, latency= or fault=)")]
    Item(String),
    /// A code that is not in the API's table.
    #[error("Gateway-Scenario: {code:?} is not a result code of {endpoint}")]
    Code {
        /// The code as given.
        code: String,
        /// The API called.
        endpoint: Endpoint,
    },
}

/// Parses a `Gateway-Scenario` header.
pub(super) fn parse_header(endpoint: Endpoint, header: &str) -> Result<Outcome, HeaderError> {
    let mut outcome = Outcome::default();
    for item in header
        .split([';', ','])
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        match item.split_once('=') {
            Some(("latency", value)) => {
                let latency = match value.split_once("..") {
                    Some((lo, hi)) => Latency::UniformMs([ms(lo)?, ms(hi)?]),
                    None => Latency::FixedMs(ms(value)?),
                };
                latency.check()?;
                outcome.latency = Some(latency);
            }
            Some(("fault", name)) => {
                outcome.fault = Some(
                    Fault::parse(name.trim()).ok_or_else(|| HeaderError::Fault(name.to_owned()))?,
                );
            }
            Some((key, _)) => {
                return Err(HeaderError::Item(key.to_owned()));
            }
            None => {
                let code = outcome_for_code(endpoint, item).ok_or_else(|| HeaderError::Code {
                    code: item.to_owned(),
                    endpoint,
                })?;
                outcome.result = code.result;
                outcome.payment_result = code.payment_result;
            }
        }
    }
    Ok(outcome)
}

fn ms(text: &str) -> Result<u64, HeaderError> {
    let text = text.trim();
    text.strip_suffix("ms")
        .unwrap_or(text)
        .parse::<u64>()
        .or_else(|_| humantime::parse_duration(text).map(|d: Duration| d.as_millis() as u64))
        .map_err(|_| HeaderError::Milliseconds(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ResultStatus;
    use serde_json::json;

    #[test]
    fn a_key_field_suffix_selects_a_code_of_the_page() {
        let o = from_key_field(
            Endpoint::InquiryPayment,
            &json!({"paymentRequestId": "o1__USER_BALANCE_NOT_ENOUGH"}),
        )
        .unwrap();
        assert_eq!(o.payment_result.unwrap().code, "USER_BALANCE_NOT_ENOUGH");
        let o = from_key_field(
            Endpoint::InquiryPayment,
            &json!({"paymentRequestId": "o1__ORDER_NOT_EXIST"}),
        )
        .unwrap();
        assert_eq!(o.result.unwrap().result_code, "ORDER_NOT_EXIST");
        let o = from_key_field(
            Endpoint::SendPaymentResult,
            &json!({"referenceTransactionId": "t__REQUEST_TRAFFIC_EXCEED_LIMIT"}),
        )
        .unwrap();
        assert_eq!(o.result.unwrap().result_status, ResultStatus::U);
        assert!(
            from_key_field(
                Endpoint::NotifyPushPayment,
                &json!({"paymentId": "p__NOT_A_CODE"})
            )
            .is_none()
        );
        assert!(
            from_key_field(Endpoint::NotifyPushPayment, &json!({"paymentId": "plain"})).is_none()
        );
    }

    #[test]
    fn the_header_combines_a_code_a_latency_and_a_fault() {
        let o = parse_header(
            Endpoint::NotifyPushPayment,
            "PROCESS_FAIL; latency=6000; fault=unsigned",
        )
        .unwrap();
        assert_eq!(o.result.unwrap().result_code, "PROCESS_FAIL");
        assert_eq!(o.latency, Some(Latency::FixedMs(6000)));
        assert_eq!(o.fault, Some(Fault::Unsigned));
        assert_eq!(
            parse_header(Endpoint::InquiryPayment, "latency=100..200")
                .unwrap()
                .latency,
            Some(Latency::UniformMs([100, 200]))
        );
        assert!(
            parse_header(Endpoint::InquiryPayment, "RISK")
                .unwrap_err()
                .to_string()
                .contains("not a result code")
        );
        assert!(
            parse_header(Endpoint::InquiryPayment, "fault=fire")
                .unwrap_err()
                .to_string()
                .contains("fault")
        );
    }
}
