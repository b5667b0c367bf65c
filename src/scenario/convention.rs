//! The built-in convention and the per-request header.
//!
//! Convention: an API's key field ending in `__<CODE>`, where CODE is a result code of the
//! API's page (or, for inquiryPayment, a payment result code), answers that code. Like test
//! card numbers, it needs no set-up: `paymentRequestId = "order-1__USER_BALANCE_NOT_ENOUGH"`.
//!
//! Header: `Gateway-Scenario: <CODE>; latency=<ms>|<lo>..<hi>; fault=<fault>`, any of the three.

use std::time::Duration;

use serde_json::Value;

use super::latency::Latency;
use super::{Fault, Outcome, outcome_for_code};
use crate::protocol::Endpoint;

/// The outcome the key field's `__<CODE>` suffix selects, if it names a code of the page.
pub(super) fn from_key_field(endpoint: Endpoint, body: &Value) -> Option<Outcome> {
    let value = body.get(endpoint.spec().key_field)?.as_str()?;
    let (_, code) = value.rsplit_once("__")?;
    outcome_for_code(endpoint, code)
}

/// Parses a `Gateway-Scenario` header.
pub(super) fn parse_header(endpoint: Endpoint, header: &str) -> Result<Outcome, String> {
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
                latency
                    .check()
                    .map_err(|e| format!("Gateway-Scenario: latency: {e}"))?;
                outcome.latency = Some(latency);
            }
            Some(("fault", name)) => {
                outcome.fault = Some(Fault::parse(name.trim()).ok_or_else(|| {
                    format!(
                        "Gateway-Scenario: fault {name:?} is not one of {}",
                        Fault::ALL.map(Fault::name).join(", ")
                    )
                })?);
            }
            Some((key, _)) => {
                return Err(format!(
                    "Gateway-Scenario: unknown item {key:?} (expected a code, latency= or fault=)"
                ));
            }
            None => {
                let code = outcome_for_code(endpoint, item).ok_or_else(|| {
                    format!("Gateway-Scenario: {item:?} is not a result code of {endpoint}")
                })?;
                outcome.result = code.result;
                outcome.payment_result = code.payment_result;
            }
        }
    }
    Ok(outcome)
}

fn ms(text: &str) -> Result<u64, String> {
    let text = text.trim();
    text.strip_suffix("ms")
        .unwrap_or(text)
        .parse::<u64>()
        .or_else(|_| humantime::parse_duration(text).map(|d: Duration| d.as_millis() as u64))
        .map_err(|_| format!("Gateway-Scenario: latency {text:?} is not milliseconds"))
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
                .contains("not a result code")
        );
        assert!(
            parse_header(Endpoint::InquiryPayment, "fault=fire")
                .unwrap_err()
                .contains("fault")
        );
    }
}
